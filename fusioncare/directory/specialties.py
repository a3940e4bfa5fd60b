"""The specialty map: which NUCC taxonomy codes make a provider count as which specialty.

Derived from the knowledge pack's specialty map (``specialties.yaml``), which the loader checks against the
contract table of spec/assessment-api.md, so the assessment and the directory can never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable

from fusioncare.knowledge.loader import get_pack

# Contract specialty code -> (plain name, taxonomy codes), in the pack's (the contract's) order.
SPECIALTY_TAXONOMIES: dict[str, tuple[str, tuple[str, ...]]] = {
    entry.code.value: (entry.name, tuple(entry.taxonomy_codes)) for entry in get_pack().specialties
}

# Not a contract specialty: general acute care hospitals, kept so emergency guidance can list the nearest
# emergency departments (NPPES organizations with this taxonomy).
HOSPITAL = "general_acute_care_hospital"
HOSPITAL_TAXONOMY = "282N00000X"

SPECIALTY_CODES: tuple[str, ...] = tuple(SPECIALTY_TAXONOMIES)
# Every code the directory can search by: the contract's specialties plus the hospital category.
SEARCHABLE_CODES: tuple[str, ...] = (*SPECIALTY_CODES, HOSPITAL)

TAXONOMY_TO_CODES: dict[str, tuple[str, ...]] = {}
for _code, (_name, _taxonomies) in SPECIALTY_TAXONOMIES.items():
    for _taxonomy in _taxonomies:
        TAXONOMY_TO_CODES[_taxonomy] = (*TAXONOMY_TO_CODES.get(_taxonomy, ()), _code)
TAXONOMY_TO_CODES[HOSPITAL_TAXONOMY] = (HOSPITAL,)

# The taxonomy codes an import keeps by default.
KEPT_TAXONOMIES: frozenset[str] = frozenset(TAXONOMY_TO_CODES)


def specialty_name(code: str) -> str:
    if code == HOSPITAL:
        return "Hospital (general acute care)"
    return SPECIALTY_TAXONOMIES[code][0]


def codes_for_taxonomies(taxonomy_codes: Iterable[str]) -> list[str]:
    """Searchable codes for a provider's taxonomy codes (any of them counts), in contract order, no repeats."""
    found = {code for taxonomy in taxonomy_codes for code in TAXONOMY_TO_CODES.get(taxonomy, ())}
    return [code for code in SEARCHABLE_CODES if code in found]
