"""The directory's specialty map is the contract's table (read from the knowledge pack), plus general acute care
hospitals."""

from __future__ import annotations

from fusioncare.directory import specialties

# The contract's table (spec/assessment-api.md 1.1, "Specialty codes and their NUCC Health Care Provider Taxonomy
# codes"), copied by hand, in its order: the directory must search exactly these codes for each specialty.
CONTRACT_TABLE = {
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


def test_directory_specialties_are_the_contracts_table():
    assert specialties.SPECIALTY_TAXONOMIES == CONTRACT_TABLE
    assert specialties.SPECIALTY_CODES == tuple(CONTRACT_TABLE)


def test_each_contract_taxonomy_code_finds_its_specialty():
    for code, (_, taxonomies) in CONTRACT_TABLE.items():
        for taxonomy in taxonomies:
            assert code in specialties.codes_for_taxonomies([taxonomy]), (taxonomy, code)


def test_hospitals_stay_searchable_for_emergency_guidance():
    assert specialties.codes_for_taxonomies(["282N00000X"]) == [specialties.HOSPITAL]
    assert "282N00000X" in specialties.KEPT_TAXONOMIES
    assert specialties.SEARCHABLE_CODES[-1] == specialties.HOSPITAL
