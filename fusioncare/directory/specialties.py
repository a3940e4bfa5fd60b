"""The specialty map: which NUCC taxonomy codes make a provider count as which specialty.

This is the one place the directory reads it from. The contract table is spec/assessment-api.md; once the
knowledge pack carries the same map, ``SPECIALTY_TAXONOMIES`` should be read from there instead.
"""

from __future__ import annotations

from collections.abc import Iterable

# Contract specialty code -> (plain name, taxonomy codes). Order is the contract's.
SPECIALTY_TAXONOMIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "emergency_department": ("Emergency medicine", ("207P00000X",)),
    "spine_surgeon": ("Spine surgeon", ("207XS0117X", "207T00000X", "207X00000X")),
    "pain_medicine": ("Pain medicine", ("208VP0014X", "208VP0000X", "207LP2900X", "2081P2900X", "2084P2900X")),
    "physiatrist": ("Physical medicine and rehabilitation", ("208100000X", "2081S0010X")),
    "physical_therapist": ("Physical therapist", ("225100000X", "2251X0800X")),
    "chiropractor": ("Chiropractor", ("111N00000X", "111NX0800X")),
    "pain_psychologist": ("Psychologist (pain and health)", ("103T00000X", "103TH0004X", "103TH0100X", "103TC0700X")),
    "neurologist": ("Neurologist", ("2084N0400X",)),
    "primary_care": ("Primary care", ("207Q00000X", "207R00000X", "208D00000X")),
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
