"""Synthetic NPPES files in the exact monthly-file format, for demos, tests and benchmarks.

Deterministic for a seed, streamed row by row (a million rows never sit in memory). Every NPI is valid;
names, addresses and phone numbers are made up; practice ZIPs are real ZIPs around real metro areas.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Literal, TextIO

from fusioncare.directory import nppes
from fusioncare.directory.geo import haversine_miles, zip_table
from fusioncare.directory.npi import with_check_digit
from fusioncare.directory.specialties import (
    HOSPITAL,
    HOSPITAL_TAXONOMY,
    SEARCHABLE_CODES,
    SPECIALTY_TAXONOMIES,
)

# (name, centre ZIP, telephone area code); provider ZIPs are drawn from real ZIPs near the centre.
METROS: tuple[tuple[str, str, str], ...] = (
    ("New York", "10001", "212"), ("Los Angeles", "90012", "213"), ("Chicago", "60601", "312"),
    ("Houston", "77002", "713"), ("Phoenix", "85004", "602"), ("Philadelphia", "19103", "215"),
    ("Dallas", "75201", "214"), ("Atlanta", "30303", "404"), ("Miami", "33130", "305"),
    ("Seattle", "98101", "206"), ("Denver", "80202", "303"), ("Boston", "02108", "617"),
    ("Minneapolis", "55401", "612"), ("St. Louis", "63101", "314"), ("Nashville", "37203", "615"),
)
DEMO_METROS = ("New York", "Los Angeles", "Chicago", "Houston", "Atlanta", "Seattle", "Denver", "Boston")
METRO_RADIUS_MILES = 20.0

FIRST_NAMES = (
    "JAMES", "MARY", "ROBERT", "PATRICIA", "JOHN", "JENNIFER", "MICHAEL", "LINDA", "DAVID", "ELIZABETH",
    "WILLIAM", "BARBARA", "RICHARD", "SUSAN", "JOSEPH", "JESSICA", "THOMAS", "SARAH", "CHRISTOPHER", "KAREN",
    "DANIEL", "LISA", "MATTHEW", "NANCY", "ANTHONY", "SANDRA", "MARK", "ASHLEY", "STEVEN", "EMILY",
    "ANDREW", "MICHELLE", "KEVIN", "AMANDA", "BRIAN", "MELISSA", "PRIYA", "RAJ", "WEI", "MEI", "JOSÉ",
    "MARÍA", "AHMED", "FATIMA", "OLUWASEUN", "CHIDI", "HIROSHI", "YUKI", "SOFIA", "ALEJANDRO", "IVAN", "OLGA",
)
LAST_NAMES = (
    "SMITH", "JOHNSON", "WILLIAMS", "BROWN", "JONES", "GARCIA", "MILLER", "DAVIS", "RODRIGUEZ", "MARTINEZ",
    "HERNANDEZ", "LOPEZ", "GONZALEZ", "WILSON", "ANDERSON", "THOMAS", "TAYLOR", "MOORE", "JACKSON", "MARTIN",
    "LEE", "PEREZ", "THOMPSON", "WHITE", "HARRIS", "SANCHEZ", "CLARK", "RAMIREZ", "LEWIS", "ROBINSON",
    "PATEL", "SHAH", "NGUYEN", "KIM", "CHEN", "WANG", "COHEN", "O'BRIEN", "MUÑOZ", "OKAFOR", "TANAKA",
    "IVANOV", "MÜLLER", "ROSSI", "KOWALSKI", "NOVAK", "HASSAN", "ALI", "SINGH", "MURPHY", "GREENBERG",
)
MIDDLE_INITIALS = ("A", "B", "C", "D", "E", "J", "K", "L", "M", "R", "S", "T", "")
STREETS = (
    "MAIN ST", "BROADWAY", "PARK AVE", "OAK ST", "MAPLE AVE", "WASHINGTON BLVD", "LAKE SHORE DR", "MARKET ST",
    "CENTRAL AVE", "MEDICAL CENTER DR", "HOSPITAL RD", "ELM ST", "HIGHLAND AVE", "RIVERSIDE DR", "FIRST AVE",
)
SUITES = ("", "", "", "SUITE 100", "SUITE 210", "STE 3B", "FLOOR 4", "BUILDING C")

# Relevant taxonomies (the specialty map, and general acute care hospitals) with rough national weights,
# so searches find a realistic mix.
RELEVANT_WEIGHTS: dict[str, float] = {
    "207Q00000X": 8, "207R00000X": 8, "208D00000X": 1, "225100000X": 7, "2251X0800X": 1, "111N00000X": 3,
    "111NX0800X": 0.5, "103T00000X": 4, "103TH0100X": 0.5, "103TH0004X": 0.3, "103TC0700X": 0.5,
    "207P00000X": 3, "207X00000X": 2, "207XS0117X": 0.5, "207T00000X": 0.5, "2084N0400X": 1.5,
    "208100000X": 1, "2081S0010X": 0.2, "208VP0014X": 0.5, "208VP0000X": 0.5, "207LP2900X": 0.3,
    "2081P2900X": 0.2, "2084P2900X": 0.1, HOSPITAL_TAXONOMY: 0.4,
}
# Taxonomies outside the map (nurses, dentists, pharmacists, cardiologists, suppliers...), kept out by default.
IRRELEVANT_WEIGHTS: dict[str, float] = {
    "363L00000X": 8, "363LF0000X": 4, "163W00000X": 6, "122300000X": 6, "1223G0001X": 3, "183500000X": 5,
    "207RC0000X": 2, "207RG0100X": 1, "2085R0202X": 1.5, "207V00000X": 2, "208000000X": 2, "1041C0700X": 4,
    "101YM0800X": 4, "106H00000X": 2, "152W00000X": 3, "156FX1800X": 1, "367500000X": 1.5, "332B00000X": 2,
    "261QM1300X": 1, "333600000X": 1.5, "3336C0003X": 1, "225X00000X": 2, "235Z00000X": 1.5, "231H00000X": 1,
    "246QM0706X": 0.5, "174400000X": 1, "171M00000X": 1, "385H00000X": 1, "251E00000X": 1, "311500000X": 0.5,
}
CREDENTIALS: dict[str, tuple[str, ...]] = {
    "207": ("MD", "M.D.", "DO", "D.O."), "208": ("MD", "M.D.", "DO"), "2251": ("PT, DPT", "DPT", "PT"),
    "111N": ("DC", "D.C."), "103T": ("PHD", "PSYD", "PH.D."), "363L": ("NP", "FNP-C", "APRN"),
    "163W": ("RN",), "1223": ("DDS", "DMD"), "1835": ("PHARMD", "RPH"), "1041": ("LCSW",),
    "101Y": ("LPC", "LMHC"), "152W": ("OD",), "367": ("CNM",),
}
ORGANIZATION_WORDS: dict[str, str] = {
    "225100000X": "PHYSICAL THERAPY", "111N00000X": "CHIROPRACTIC CENTER", "207Q00000X": "FAMILY MEDICINE",
    "207X00000X": "ORTHOPAEDIC AND SPINE ASSOCIATES", "208VP0014X": "PAIN MANAGEMENT", "332B00000X": "MEDICAL SUPPLY",
    "333600000X": "PHARMACY", "261QM1300X": "MULTISPECIALTY CLINIC", "251E00000X": "HOME HEALTH",
}
ORGANIZATION_SUFFIXES = ("LLC", "PC", "PLLC", "INC", "GROUP PA", "PARTNERS LLP")
HOSPITAL_NAMES = ("GENERAL HOSPITAL", "MEDICAL CENTER", "MEMORIAL HOSPITAL", "REGIONAL MEDICAL CENTER",
                  "COMMUNITY HOSPITAL", "UNIVERSITY HOSPITAL")
SAINTS = ("ST MARY", "ST JOSEPH", "ST LUKE", "MERCY", "PRESBYTERIAN", "BAPTIST", "METHODIST", "GOOD SAMARITAN")
FOREIGN_ADDRESSES = (("TORONTO", "ON", "M5V2T6", "CA"), ("BERLIN", "", "10117", "DE"),
                     ("MEXICO CITY", "CDMX", "06600", "MX"), ("LONDON", "", "SW1A1AA", "GB"))

EPOCH = date(2005, 5, 23)  # NPPES began enumerating NPIs
LAST_DAY = date(2025, 10, 31)
BadRowKind = Literal["bad_npi", "short_row", "bad_date", "bad_zip", "bad_entity_type"]
BAD_ROW_KINDS: tuple[BadRowKind, ...] = ("bad_npi", "short_row", "bad_date", "bad_zip", "bad_entity_type")


@dataclass
class GenerationStats:
    rows: int = 0
    relevant: int = 0
    deactivated: int = 0
    reactivated: int = 0
    bad: int = 0
    foreign: int = 0


class _Zips:
    """Real ZIPs around each metro (and all of them, for rural providers), computed once per generator."""

    def __init__(self) -> None:
        table = zip_table()
        self.all = sorted(table)
        self.by_metro: dict[str, list[str]] = {}
        for name, centre, _area in METROS:
            c = table[centre]
            near = [z for z, p in table.items() if haversine_miles(c.lat, c.lon, p.lat, p.lon) <= METRO_RADIUS_MILES]
            self.by_metro[name] = sorted(near)
        self.area_codes = {name: area for name, _centre, area in METROS}


@cache
def _zips() -> _Zips:
    return _Zips()


def _fmt(d: date) -> str:
    return d.strftime("%m/%d/%Y")


class NppesGenerator:
    """Yields rows (lists of 330 strings) of a synthetic monthly file; ``write`` streams them as CSV."""

    def __init__(self, *, seed: int, profile: Literal["registry", "demo"] = "registry",
                 bad_row_rate: float = 0.0005, deactivation_rate: float = 0.01, reactivation_rate: float = 0.003,
                 foreign_rate: float = 0.001, relevant_rate: float = 0.3) -> None:
        self.rng = random.Random(seed)
        self.profile = profile
        self.bad_row_rate = bad_row_rate if profile == "registry" else 0.0
        self.deactivation_rate = deactivation_rate if profile == "registry" else 0.0
        self.reactivation_rate = reactivation_rate if profile == "registry" else 0.0
        self.foreign_rate = foreign_rate if profile == "registry" else 0.0
        self.relevant_rate = relevant_rate
        self.header = nppes.v2_header()
        self.col = {name: i for i, name in enumerate(self.header)}
        self.zips = _zips()
        self.places = zip_table()
        self.stats = GenerationStats()
        self._next_base = 100_000_000 + self.rng.randrange(0, 50_000_000)
        self._relevant = (list(RELEVANT_WEIGHTS), list(RELEVANT_WEIGHTS.values()))
        self._irrelevant = (list(IRRELEVANT_WEIGHTS), list(IRRELEVANT_WEIGHTS.values()))
        self._metro_names = [m[0] for m in METROS]

    # -- identifiers and values -------------------------------------------------------------------------
    def _npi(self, entity_type: int) -> str:
        self._next_base += self.rng.randrange(1, 40)
        base = str(self._next_base)  # 9 digits starting with 1; organizations get a leading 2 instead
        first_nine = ("1" if entity_type == 1 else "2") + base[1:]
        return with_check_digit(first_nine)

    def _dates(self) -> tuple[date, date]:
        span = (LAST_DAY - EPOCH).days
        enumerated = EPOCH + timedelta(days=self.rng.randrange(span - 30))
        updated = enumerated + timedelta(days=self.rng.randrange((LAST_DAY - enumerated).days + 1))
        return enumerated, updated

    def _place(self, metro: str | None) -> tuple[str, str, str, str]:
        """(ZIP as filed, city, state, area code): 5 digits or ZIP+4 as 9 digits, like the registry."""
        rng = self.rng
        if metro is None:
            zip5 = rng.choice(self.zips.all)
            area = str(rng.randrange(201, 990))
        else:
            zip5 = rng.choice(self.zips.by_metro[metro])
            area = self.zips.area_codes[metro]
        place = self.places[zip5]
        filed = zip5 + f"{rng.randrange(10000):04d}" if rng.random() < 0.4 else zip5
        return filed, place.city.upper(), place.state, area

    def _credential(self, taxonomy: str) -> str:
        for prefix in ("2251", "111N", "103T", "363L", "163W", "1223", "1835", "1041", "101Y", "152W", "207",
                       "208", "367"):
            if taxonomy.startswith(prefix):
                return self.rng.choice(CREDENTIALS[prefix])
        return ""

    # -- rows --------------------------------------------------------------------------------------------
    def _blank(self) -> list[str]:
        return [""] * len(self.header)

    def _set(self, row: list[str], column: str, value: str) -> None:
        row[self.col[column]] = value

    def _pick_taxonomies(self, forced: str | None) -> list[tuple[str, bool]]:
        """[(code, primary)]: one primary, sometimes more codes; sometimes the relevant code is not primary."""
        rng = self.rng
        if forced is not None:
            codes = [(forced, True)]
        elif rng.random() < self.relevant_rate:
            codes = [(rng.choices(*self._relevant)[0], True)]
        elif rng.random() < 0.05:
            # A relevant code that is not the primary one (e.g. a nurse practitioner also filed as primary care).
            codes = [(rng.choices(*self._irrelevant)[0], True), (rng.choices(*self._relevant)[0], False)]
        else:
            codes = [(rng.choices(*self._irrelevant)[0], True)]
        if rng.random() < 0.15:
            extra = rng.choices(*self._irrelevant)[0]
            if extra not in {c for c, _ in codes}:
                codes.append((extra, False))
        if rng.random() < 0.5 and len(codes) > 1:
            rng.shuffle(codes)  # the primary switch, not the slot, says which one is primary
        return codes

    def provider_row(self, *, metro: str | None, taxonomy: str | None = None,
                     entity_type: int | None = None) -> list[str]:
        rng = self.rng
        row = self._blank()
        taxonomies = self._pick_taxonomies(taxonomy)
        primary = next(code for code, is_primary in taxonomies if is_primary)
        if entity_type is None:
            organization = primary == HOSPITAL_TAXONOMY or (primary in ORGANIZATION_WORDS and rng.random() < 0.3)
            entity_type = 2 if organization else 1
        npi = self._npi(entity_type)
        filed_zip, city, state, area = self._place(metro)
        if primary == HOSPITAL_TAXONOMY:
            saint = f"{rng.choice(SAINTS)} " if rng.random() < 0.5 else ""
            org = f"{saint}{city} {rng.choice(HOSPITAL_NAMES)}"
        else:
            words = ORGANIZATION_WORDS.get(primary, "HEALTH SERVICES")
            org = f"{rng.choice(LAST_NAMES)} {words} {rng.choice(ORGANIZATION_SUFFIXES)}"
        self._set(row, nppes.NPI, npi)
        self._set(row, nppes.ENTITY_TYPE, str(entity_type))
        if entity_type == 2:
            self._set(row, nppes.ORGANIZATION_NAME, org)
        else:
            self._set(row, nppes.LAST_NAME, rng.choice(LAST_NAMES))
            self._set(row, nppes.FIRST_NAME, rng.choice(FIRST_NAMES))
            self._set(row, nppes.MIDDLE_NAME, rng.choice(MIDDLE_INITIALS))
            if rng.random() < 0.1:
                self._set(row, nppes.NAME_PREFIX, "DR.")
            self._set(row, nppes.CREDENTIAL, self._credential(primary))
            self._set(row, nppes.SEX, rng.choice("MF"))
        address = f"{rng.randrange(1, 9999)} {rng.choice(STREETS)}"
        for prefix in ("Business Mailing Address", "Business Practice Location Address"):
            line_kind = "Mailing" if prefix.startswith("Business Mailing") else "Practice Location"
            self._set(row, f"Provider First Line Business {line_kind} Address", address)
            self._set(row, f"Provider Second Line Business {line_kind} Address", rng.choice(SUITES))
            self._set(row, f"Provider {prefix} City Name", city)
            self._set(row, f"Provider {prefix} State Name", state)
            self._set(row, f"Provider {prefix} Postal Code", filed_zip)
            self._set(row, f"Provider {prefix} Country Code (If outside U.S.)", "US")
            phone = f"{area}{rng.randrange(200, 999)}{rng.randrange(10000):04d}"
            self._set(row, f"Provider {prefix} Telephone Number", phone)
        enumerated, updated = self._dates()
        self._set(row, nppes.ENUMERATION_DATE, _fmt(enumerated))
        self._set(row, nppes.LAST_UPDATE_DATE, _fmt(updated))
        for slot, (code, is_primary) in enumerate(taxonomies, start=1):
            self._set(row, nppes.taxonomy_column(slot), code)
            self._set(row, nppes.primary_switch_column(slot), "Y" if is_primary else "N")
            self._set(row, f"Provider License Number_{slot}", f"{rng.randrange(10**6, 10**7)}")
            self._set(row, f"Provider License Number State Code_{slot}", state)
        self._set(row, "Is Sole Proprietor", "N" if entity_type == 1 else "")
        if entity_type == 2:
            self._set(row, "Authorized Official Last Name", rng.choice(LAST_NAMES))
            self._set(row, "Authorized Official First Name", rng.choice(FIRST_NAMES))
            self._set(row, "Authorized Official Telephone Number", f"{area}5550100")
            self._set(row, "Is Organization Subpart", "N")
        self._set(row, "Certification Date", _fmt(updated))
        self.stats.relevant += any(code in RELEVANT_WEIGHTS or code == HOSPITAL_TAXONOMY for code, _ in taxonomies)
        return row

    def _deactivated_row(self) -> list[str]:
        # The registry blanks every field of a deactivated NPI except the NPI and its deactivation date.
        row = self._blank()
        self._set(row, nppes.NPI, self._npi(self.rng.choice((1, 1, 1, 2))))
        self._set(row, nppes.DEACTIVATION_DATE, _fmt(LAST_DAY - timedelta(days=self.rng.randrange(3000))))
        self.stats.deactivated += 1
        return row

    def _bad_row(self, kind: BadRowKind, metro: str | None) -> list[str]:
        row = self.provider_row(metro=metro, taxonomy=self.rng.choices(*self._relevant)[0])
        if kind == "bad_npi":
            npi = row[self.col[nppes.NPI]]
            self._set(row, nppes.NPI, npi[:9] + str((int(npi[9]) + 1) % 10))
        elif kind == "short_row":
            row = row[: self.rng.randrange(5, 40)]
        elif kind == "bad_date":
            self._set(row, nppes.ENUMERATION_DATE, "13/45/2011")
        elif kind == "bad_zip":
            self._set(row, nppes.POSTAL_CODE, "ABCDE")
        else:
            self._set(row, nppes.ENTITY_TYPE, "7")
        self.stats.bad += 1
        return row

    def rows(self, count: int) -> Iterator[list[str]]:
        if self.profile == "demo":
            yield from self._demo_rows(count)
            return
        rng = self.rng
        for _ in range(count):
            self.stats.rows += 1
            metro = rng.choice(self._metro_names) if rng.random() < 0.85 else None
            roll = rng.random()
            if roll < self.bad_row_rate:
                yield self._bad_row(rng.choice(BAD_ROW_KINDS), metro)
            elif roll < self.bad_row_rate + self.deactivation_rate:
                yield self._deactivated_row()
            elif roll < self.bad_row_rate + self.deactivation_rate + self.foreign_rate:
                row = self.provider_row(metro=metro)
                city, state, postal, country = rng.choice(FOREIGN_ADDRESSES)
                self._set(row, nppes.CITY, city)
                self._set(row, nppes.STATE, state)
                self._set(row, nppes.POSTAL_CODE, postal)
                self._set(row, nppes.COUNTRY_CODE, country)
                self.stats.foreign += 1
                yield row
            else:
                row = self.provider_row(metro=metro)
                if rng.random() < self.reactivation_rate:
                    enumerated = row[self.col[nppes.ENUMERATION_DATE]]
                    start = date(int(enumerated[6:]), int(enumerated[:2]), int(enumerated[3:5]))
                    off = start + timedelta(days=rng.randrange(30, 900))
                    self._set(row, nppes.DEACTIVATION_DATE, _fmt(off))
                    self._set(row, nppes.REACTIVATION_DATE, _fmt(off + timedelta(days=rng.randrange(10, 400))))
                    self.stats.reactivated += 1
                yield row

    def _demo_rows(self, per_specialty: int) -> Iterator[list[str]]:
        """For each demo metro and searchable code, ``per_specialty`` providers near the metro centre."""
        for metro in DEMO_METROS:
            for code in SEARCHABLE_CODES:
                taxonomies = (HOSPITAL_TAXONOMY,) if code == HOSPITAL else SPECIALTY_TAXONOMIES[code][1]
                for i in range(per_specialty):
                    self.stats.rows += 1
                    yield self.provider_row(metro=metro, taxonomy=taxonomies[i % len(taxonomies)],
                                            entity_type=2 if code == HOSPITAL else 1)

    def write(self, out: TextIO, count: int) -> GenerationStats:
        out.write(_csv_line(self.header))
        for row in self.rows(count):
            out.write(_csv_line(row))
        return self.stats


def _csv_line(values) -> str:
    # Every value quoted; a double quote inside a value becomes a single quote, as CMS does.
    return '"' + '","'.join(v.replace('"', "'") for v in values) + '"\n'


def generate_file(path: Path, *, rows: int, seed: int,
                  profile: Literal["registry", "demo"] = "registry") -> GenerationStats:
    """Write a synthetic file; with profile "demo", ``rows`` is the number of providers per metro and code."""
    path.parent.mkdir(parents=True, exist_ok=True)
    generator = NppesGenerator(seed=seed, profile=profile)
    with path.open("w", encoding="utf-8", newline="") as out:
        return generator.write(out, rows)
