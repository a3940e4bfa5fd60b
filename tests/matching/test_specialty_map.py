"""The directory's specialty map is the knowledge pack's, plus general acute care hospitals."""

from __future__ import annotations

from fusioncare.directory import specialties
from fusioncare.knowledge.loader import get_pack


def test_directory_specialties_are_read_from_the_knowledge_pack():
    pack = get_pack()
    assert specialties.SPECIALTY_TAXONOMIES == {
        s.code.value: (s.name, tuple(s.taxonomy_codes)) for s in pack.specialties}
    assert specialties.SPECIALTY_CODES == tuple(s.code.value for s in pack.specialties)


def test_hospitals_stay_searchable_for_emergency_guidance():
    assert specialties.codes_for_taxonomies(["282N00000X"]) == [specialties.HOSPITAL]
    assert "282N00000X" in specialties.KEPT_TAXONOMIES
    assert specialties.SEARCHABLE_CODES[-1] == specialties.HOSPITAL
