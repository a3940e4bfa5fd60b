"""Facts about the NPPES file format that the importer and the generator share."""

from __future__ import annotations

from functools import cache
from pathlib import Path

TAXONOMY_SLOTS = 15

NPI = "NPI"
ENTITY_TYPE = "Entity Type Code"
ORGANIZATION_NAME = "Provider Organization Name (Legal Business Name)"
LAST_NAME = "Provider Last Name (Legal Name)"
FIRST_NAME = "Provider First Name"
MIDDLE_NAME = "Provider Middle Name"
NAME_PREFIX = "Provider Name Prefix Text"
NAME_SUFFIX = "Provider Name Suffix Text"
CREDENTIAL = "Provider Credential Text"
ADDRESS_LINE1 = "Provider First Line Business Practice Location Address"
ADDRESS_LINE2 = "Provider Second Line Business Practice Location Address"
CITY = "Provider Business Practice Location Address City Name"
STATE = "Provider Business Practice Location Address State Name"
POSTAL_CODE = "Provider Business Practice Location Address Postal Code"
COUNTRY_CODE = "Provider Business Practice Location Address Country Code (If outside U.S.)"
PHONE = "Provider Business Practice Location Address Telephone Number"
ENUMERATION_DATE = "Provider Enumeration Date"
LAST_UPDATE_DATE = "Last Update Date"
DEACTIVATION_DATE = "NPI Deactivation Date"
REACTIVATION_DATE = "NPI Reactivation Date"
SEX = "Provider Sex Code"
SEX_OLD = "Provider Gender Code"  # the name older files use for the same column


def taxonomy_column(slot: int) -> str:
    return f"Healthcare Provider Taxonomy Code_{slot}"


def primary_switch_column(slot: int) -> str:
    return f"Healthcare Provider Primary Taxonomy Switch_{slot}"


TAXONOMY_COLUMNS = tuple(taxonomy_column(i) for i in range(1, TAXONOMY_SLOTS + 1))
PRIMARY_SWITCH_COLUMNS = tuple(primary_switch_column(i) for i in range(1, TAXONOMY_SLOTS + 1))

# Columns the importer needs; everything else in the file is parsed but never converted.
REQUIRED_COLUMNS = (NPI, ENTITY_TYPE)
USED_COLUMNS = (
    NPI, ENTITY_TYPE, ORGANIZATION_NAME, LAST_NAME, FIRST_NAME, MIDDLE_NAME, NAME_PREFIX, NAME_SUFFIX, CREDENTIAL,
    ADDRESS_LINE1, ADDRESS_LINE2, CITY, STATE, POSTAL_CODE, COUNTRY_CODE, PHONE, ENUMERATION_DATE,
    LAST_UPDATE_DATE, DEACTIVATION_DATE, REACTIVATION_DATE, SEX, *TAXONOMY_COLUMNS, *PRIMARY_SWITCH_COLUMNS,
)


@cache
def v2_header() -> tuple[str, ...]:
    """The 330 column names of the current (V2) monthly file, in file order."""
    path = Path(__file__).with_name("nppes_columns.txt")
    return tuple(line for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
