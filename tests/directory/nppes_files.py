"""Builders for hand-made NPPES files (rows by column name, every value quoted like CMS)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from fusioncare.directory import nppes
from fusioncare.directory.npi import with_check_digit

V2_HEADER = nppes.v2_header()


def make_npi(n: int, entity_type: int = 1) -> str:
    return with_check_digit(f"{entity_type}{n:08d}")


def provider_row(npi: str, *, entity_type: int = 1, last: str = "SMITH", first: str = "JANE", middle: str = "",
                 organization: str = "", credential: str = "MD",
                 taxonomies: Iterable[tuple[str, bool]] = (("207Q00000X", True),), postal: str = "10001",
                 country: str = "US", city: str = "NEW YORK", state: str = "NY", address: str = "1 MAIN ST",
                 phone: str = "2125550100", enumerated: str = "01/15/2010", updated: str = "06/01/2024",
                 deactivated: str = "", reactivated: str = "", sex: str = "F") -> dict[str, str]:
    row = {
        nppes.NPI: npi, nppes.ENTITY_TYPE: str(entity_type), nppes.CREDENTIAL: credential if entity_type == 1 else "",
        nppes.ADDRESS_LINE1: address, nppes.CITY: city, nppes.STATE: state, nppes.POSTAL_CODE: postal,
        nppes.COUNTRY_CODE: country, nppes.PHONE: phone, nppes.ENUMERATION_DATE: enumerated,
        nppes.LAST_UPDATE_DATE: updated, nppes.DEACTIVATION_DATE: deactivated, nppes.REACTIVATION_DATE: reactivated,
    }
    if entity_type == 1:
        row |= {nppes.LAST_NAME: last, nppes.FIRST_NAME: first, nppes.MIDDLE_NAME: middle, nppes.SEX: sex}
    else:
        row[nppes.ORGANIZATION_NAME] = organization or last
    for slot, (code, primary) in enumerate(taxonomies, start=1):
        row[nppes.taxonomy_column(slot)] = code
        row[nppes.primary_switch_column(slot)] = "Y" if primary else "N"
    return row


def deactivation_row(npi: str, deactivated: str = "03/01/2025") -> dict[str, str]:
    """What the registry files for a deactivated NPI: nothing but the NPI and the date."""
    return {nppes.NPI: npi, nppes.DEACTIVATION_DATE: deactivated}


def write_nppes(path: Path, rows: Iterable[dict[str, str] | str], header: Iterable[str] = V2_HEADER) -> Path:
    """Rows as {column: value} (every value quoted, like CMS) or a raw line written as is."""
    header = list(header)
    lines = ['"' + '","'.join(header) + '"']
    for row in rows:
        if isinstance(row, str):
            lines.append(row)
        else:
            unknown = set(row) - set(header) - {nppes.SEX}
            assert not unknown, unknown
            lines.append('"' + '","'.join(row.get(c, row.get(nppes.SEX, "") if c == nppes.SEX_OLD else "")
                                          for c in header) + '"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
