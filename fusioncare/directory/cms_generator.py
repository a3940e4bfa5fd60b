"""Synthetic CMS files in the exact current layouts (by Provider and Service, 28 columns; Doctors and Clinicians,
31 columns), for the demo providers and for benchmarks. Deterministic for a seed, written row by row. The figures
are made up: import them with --demo."""

from __future__ import annotations

import csv
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from fusioncare.directory import cms
from fusioncare.directory.npi import with_check_digit
from fusioncare.knowledge.loader import get_pack


@dataclass(frozen=True)
class ClinicianSeed:
    """What the generators need to know of a directory provider to write rows that match it."""

    npi: str
    last_name: str
    first_name: str
    specialties: tuple[str, ...]
    address_line1: str
    city: str
    state: str
    zip_code: str
    phone: str


# Which kept codes a clinician of each specialty plausibly bills (demo only).
SPECIALTY_CODES: dict[str, tuple[str, ...]] = {
    "pain_medicine": ("64483", "64484", "62323", "64493", "64494", "64635", "64636", "63650", "63685", "27096"),
    "spine_surgeon": ("22612", "22614", "22630", "22633", "63047", "63048", "63030", "63042", "22852", "64483"),
    "physiatrist": ("64483", "62323", "64493", "27096", "97110"),
    "physical_therapist": ("97161", "97162", "97110", "97112", "97140", "97530"),
    "chiropractor": ("98940", "98941", "98942"),
    "pain_psychologist": ("96156", "96158", "96159", "90834", "90837"),
}
MEDICARE_TYPES: dict[str, str] = {
    "pain_medicine": "Interventional Pain Management", "spine_surgeon": "Orthopedic Surgery",
    "physiatrist": "Physical Medicine and Rehabilitation", "physical_therapist": "Physical Therapist in Private "
    "Practice", "chiropractor": "Chiropractic", "pain_psychologist": "Clinical Psychologist",
    "neurologist": "Neurology", "primary_care": "Internal Medicine",
}
# Common codes outside the pack (office visits, labs, vaccines...), as most rows of the real file are.
OTHER_CODES = ("99213", "99214", "99215", "99203", "99204", "36415", "80053", "85025", "93000", "G0439", "90686",
               "J1100", "71046", "20610", "0241U")
RUCA = (("1", "Metropolitan area core: primary flow within an urbanized area of 50,000 and greater"),
        ("2", "Metropolitan area high commuting: primary flow 30% or more to a urbanized area of 50,000 and greater"),
        ("4", "Micropolitan area core: primary flow within an urban cluster of 10,000 to 49,999 (large UC)"))
SCHOOLS = ("OTHER", "NEW YORK UNIVERSITY SCHOOL OF MEDICINE", "UNIVERSITY OF MICHIGAN MEDICAL SCHOOL",
           "BAYLOR COLLEGE OF MEDICINE", "LIFE CHIROPRACTIC COLLEGE", "UNIVERSITY OF WASHINGTON SCHOOL OF MEDICINE")
DAC_SPECIALTIES: dict[str, str] = {
    "pain_medicine": "INTERVENTIONAL PAIN MANAGEMENT", "spine_surgeon": "ORTHOPEDIC SURGERY",
    "physiatrist": "PHYSICAL MEDICINE AND REHABILITATION", "physical_therapist": "PHYSICAL THERAPY",
    "chiropractor": "CHIROPRACTIC", "pain_psychologist": "PSYCHOLOGIST, CLINICAL", "neurologist": "NEUROLOGY",
    "primary_care": "INTERNAL MEDICINE",
}


def _random_npi(rng: random.Random) -> str:
    return with_check_digit(str(rng.randint(100_000_000, 199_999_999)))


def _seeds(rng: random.Random, count: int) -> Iterator[ClinicianSeed]:
    # About one clinician in three of the specialties whose codes the pack names, as in the national file.
    specialties = [*SPECIALTY_CODES, *(["primary_care"] * 8), *(["neurologist"] * 4)]
    for i in range(count):
        zip_code = f"{rng.randint(1001, 99950):05d}"
        yield ClinicianSeed(npi=_random_npi(rng), last_name=f"PROVIDER{i}", first_name="DEMO",
                            specialties=(rng.choice(specialties),), address_line1=f"{rng.randint(1, 999)} MAIN ST",
                            city="SPRINGFIELD", state="IL", zip_code=zip_code,
                            phone=f"{rng.randint(201, 989)}{rng.randint(2000000, 9999999)}")


def utilization_rows(seed_rows: Iterable[ClinicianSeed], rng: random.Random, *,
                     other_codes_per_clinician: tuple[int, int] = (2, 6)) -> Iterator[list[str]]:
    """Rows of the by Provider and Service file for these clinicians: a few kept codes of their specialty (some
    with both a facility and an office row) and some common codes outside the pack."""
    pack = get_pack()
    for s in seed_rows:
        specialty = s.specialties[0] if s.specialties else "primary_care"
        kept = SPECIALTY_CODES.get(specialty, ())
        chosen = [c for c in kept if rng.random() < 0.6]
        codes = [(c, pack.procedure_codes[c][1].meaning) for c in chosen]
        codes += [(c, "Office or other outpatient visit or service") for c in
                  rng.sample(OTHER_CODES, rng.randint(*other_codes_per_clinician))]
        ruca, ruca_desc = rng.choice(RUCA)
        for code, description in codes:
            for place in ("O", "F") if rng.random() < 0.2 else (rng.choice("OF"),):
                patients = rng.randint(11, 320)
                services = patients * rng.uniform(1.0, 3.0)
                service_text = f"{services:.1f}" if rng.random() < 0.3 else str(int(services))
                yield [s.npi, s.last_name, s.first_name, "", "M.D.", "I", s.address_line1, "", s.city, s.state,
                       "17", s.zip_code[:5], ruca, ruca_desc, "US", MEDICARE_TYPES.get(specialty, "Internal Medicine"),
                       "Y", code, description, "N", place, str(patients), service_text,
                       str(patients + rng.randint(0, patients)), f"{rng.uniform(50, 4000):.8f}",
                       f"{rng.uniform(20, 1500):.8f}", f"{rng.uniform(15, 1200):.8f}", f"{rng.uniform(15, 1200):.8f}"]


def clinician_rows(seed_rows: Iterable[ClinicianSeed], rng: random.Random) -> Iterator[list[str]]:
    """Rows of the Doctors and Clinicians file: one to three practices per clinician."""
    for s in seed_rows:
        specialty = s.specialties[0] if s.specialties else "primary_care"
        telehealth = "Y" if rng.random() < 0.4 else ""
        assignment = "Y" if rng.random() < 0.85 else "M"
        school = rng.choice(SCHOOLS)
        year = str(rng.randint(1975, 2018))
        pac = f"{rng.randint(0, 9_999_999_999):010d}"
        for n in range(rng.choice((1, 1, 1, 2, 2, 3))):
            group = "" if n == 0 and rng.random() < 0.3 else rng.choice(
                ("SPINE & PAIN ASSOCIATES, LLC", "METRO \"BACK\" CARE PC", "ORTHOPEDIC PARTNERS OF "
                 f"{s.city}", "COMMUNITY HEALTH GROUP, INC."))
            org_pac = f"{rng.randint(0, 9_999_999_999):010d}" if group else ""
            zip9 = s.zip_code[:5] + f"{rng.randint(0, 9999):04d}"
            line1 = s.address_line1 if n == 0 else f"{rng.randint(1, 999)} HOSPITAL RD"
            adrs_id = f"{s.state}{zip9}{s.city[:2]}{line1.split()[0]}XX{rng.randint(100, 999)}"
            yield [s.npi, pac, f"I2010{rng.randint(1000000000, 9999999999)}", s.last_name, s.first_name, "", "",
                   rng.choice("MF"), "MD" if specialty not in ("physical_therapist", "chiropractor") else "",
                   school, year, DAC_SPECIALTIES.get(specialty, "INTERNAL MEDICINE"), "", "", "", "", "", telehealth,
                   group, org_pac, str(rng.randint(1, 300)) if group else "", line1, "", "", s.city, s.state, zip9,
                   s.phone if n == 0 else f"{s.phone[:3]}{rng.randint(2000000, 9999999)}", assignment,
                   "Y" if group else "", adrs_id]


def _write(path: Path, header: tuple[str, ...], rows: Iterable[list[str]], limit: int | None) -> int:
    written = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            if limit is not None and written >= limit:
                break
            writer.writerow(row)
            written += 1
    return written


def generate_utilization(path: Path, *, rows: int | None = None, seed: int = 1,
                         clinicians: list[ClinicianSeed] | None = None) -> int:
    """For the given clinicians (every row for each), or ``rows`` rows of made-up ones (about one row in ten of
    a code the pack names). Returns the rows written."""
    rng = random.Random(seed)
    if clinicians is not None:
        return _write(path, cms.UTILIZATION_HEADER, utilization_rows(clinicians, rng), rows)
    assert rows is not None
    source = utilization_rows(_seeds(rng, rows), rng, other_codes_per_clinician=(8, 14))
    return _write(path, cms.UTILIZATION_HEADER, source, rows)


def generate_clinicians(path: Path, *, rows: int | None = None, seed: int = 1,
                        clinicians: list[ClinicianSeed] | None = None) -> int:
    rng = random.Random(seed)
    if clinicians is not None:
        return _write(path, _PADDED_CLINICIANS_HEADER, clinician_rows(clinicians, rng), rows)
    assert rows is not None
    return _write(path, _PADDED_CLINICIANS_HEADER, clinician_rows(_seeds(rng, rows), rng), rows)


# As in the 2025-2026 files: two header names padded with tabs (the importer strips them).
_PADDED_CLINICIANS_HEADER = tuple(f"{n}\t\t\t\t" if n in ("Cred", "Telehlth") else n for n in cms.CLINICIANS_HEADER)


def seeds_from_directory(providers: Iterable) -> list[ClinicianSeed]:
    """ClinicianSeeds for directory providers (models.Provider rows), individuals only."""
    return [ClinicianSeed(npi=p.npi, last_name=p.last_name or "", first_name=p.first_name or "",
                          specialties=tuple(p.specialties), address_line1=p.address_line1 or "1 MAIN ST",
                          city=p.city or "", state=(p.state or "")[:2], zip_code=(p.zip_code or "00000"),
                          phone=p.phone or "") for p in providers if p.entity_type == 1]
