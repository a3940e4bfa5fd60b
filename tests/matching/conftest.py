"""A fixed, hand-made directory around New York (ZIP 10001) for matching tests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from fusioncare.directory.cms_import import import_clinicians, import_utilization
from fusioncare.directory.importer import import_nppes
from fusioncare.directory.schemas import ManagedFieldsUpdate
from fusioncare.directory.service import update_managed_fields
from tests.directory.cms_files import clinician, volume, write_clinicians, write_utilization
from tests.directory.nppes_files import make_npi, provider_row, write_nppes

PAIN = ("208VP0014X", True)
SURGEON = ("207XS0117X", True)
PT = ("225100000X", True)
HOSPITAL = ("282N00000X", True)

# Routine/soon answers whose result recommends spine_surgeon, pain_medicine, physical_therapist, physiatrist
# (in that order) and lists injections among its treatment options.
SOON_ANSWERS = {"months_since_surgery": 8, "leg_pain": 6, "back_pain": 3, "trend": "stable",
                "treatments_tried": ["medication", "physical_therapy"]}
EMERGENCY_ANSWERS = {**SOON_ANSWERS, "symptoms": ["saddle_numbness", "bladder_dysfunction"]}


@dataclass(frozen=True)
class Directory:
    surgeon: str
    pain_near: str  # 10001, plain
    pain_far: str  # 10011, otherwise equal to pain_near
    pain_injection: str  # 10016, offers injections
    pain_plain_16: str  # 10016, lower NPI than pain_injection, no services
    pain_secondary: str  # 10001, pain medicine only as a secondary taxonomy
    pain_unconfirmed: str  # 10001, offers injections, but never confirmed its profile
    pain_los_angeles: str
    therapist: str
    hospital_near: str
    hospital_far: str


def _confirmed(**fields) -> ManagedFieldsUpdate:
    base = {"insurance_plans": ["aetna"], "languages": ["en"], "accepting_new": True, "profile_confirmed": True}
    return ManagedFieldsUpdate(**(base | fields))


@pytest.fixture
def directory(db, tmp_path) -> Directory:
    d = Directory(surgeon=make_npi(1), pain_near=make_npi(2), pain_far=make_npi(3), pain_injection=make_npi(5),
                  pain_plain_16=make_npi(4), pain_secondary=make_npi(6), pain_unconfirmed=make_npi(7),
                  pain_los_angeles=make_npi(8), therapist=make_npi(9), hospital_near=make_npi(10, 2),
                  hospital_far=make_npi(11, 2))
    rows = [
        provider_row(d.surgeon, last="CUTTER", taxonomies=[SURGEON]),
        provider_row(d.pain_near, last="NEAR", taxonomies=[PAIN]),
        provider_row(d.pain_far, last="FAR", postal="10011", taxonomies=[PAIN]),
        provider_row(d.pain_plain_16, last="PLAIN", postal="10016", taxonomies=[PAIN]),
        provider_row(d.pain_injection, last="NEEDLE", postal="10016", taxonomies=[PAIN]),
        provider_row(d.pain_secondary, last="SECOND", taxonomies=[("207Q00000X", True), ("208VP0014X", False)]),
        provider_row(d.pain_unconfirmed, last="UNSURE", taxonomies=[PAIN]),
        provider_row(d.pain_los_angeles, last="WEST", postal="90012", city="LOS ANGELES", state="CA",
                     taxonomies=[PAIN]),
        provider_row(d.therapist, last="MOVER", postal="10011", taxonomies=[PT]),
        provider_row(d.hospital_near, entity_type=2, organization="MIDTOWN GENERAL HOSPITAL", postal="10016",
                     taxonomies=[HOSPITAL]),
        provider_row(d.hospital_far, entity_type=2, organization="WESTSIDE HOSPITAL", postal="90012",
                     city="LOS ANGELES", state="CA", taxonomies=[HOSPITAL]),
    ]
    import_nppes(db=db, path=write_nppes(tmp_path / "npidata_pfile_matching.csv", rows))
    for npi in (d.surgeon, d.pain_near, d.pain_far, d.pain_plain_16, d.pain_secondary, d.pain_los_angeles,
                d.therapist):
        update_managed_fields(db=db, npi=npi, fields=_confirmed())
    update_managed_fields(db=db, npi=d.pain_injection, fields=_confirmed(services=["injection"]))
    update_managed_fields(db=db, npi=d.pain_unconfirmed, fields=_confirmed(services=["injection"],
                                                                           insurance_plans=["cigna"],
                                                                           profile_confirmed=False))
    return d


D24 = "MUP_PHY_R26_P05_V10_D24_Prov_Svc.csv"


@pytest.fixture
def cms_data(db, tmp_path, directory):
    """pain_far did 150 + 62 single-level lumbar epidurals (and 100 extra levels) in 2024, 90 in 2023; it offers
    video visits and always takes assignment per Medicare. pain_secondary did 100,000 in 2024."""
    import_utilization(db=db, path=write_utilization(tmp_path / D24, [
        volume(directory.pain_far, "64483", "O", "120", "150"),
        volume(directory.pain_far, "64483", "F", "40", "62"),
        volume(directory.pain_far, "64484", "O", "60", "100"),  # an add-on: shown, never counted in the reason
        volume(directory.pain_far, "99213", "O", "500", "900"),  # not a treatment: not kept
        volume(directory.pain_secondary, "64483", "O", "9000", "100000"),
    ]))
    import_utilization(db=db, path=write_utilization(tmp_path / "MUP_PHY_R25_P05_V20_D23_Prov_Svc.csv", [
        volume(directory.pain_far, "64483", "O", "70", "90")]))
    import_clinicians(db=db, path=write_clinicians(tmp_path / "DAC_NationalDownloadableFile.csv", [
        clinician(directory.pain_far, telehealth="Y", school="NEW YORK UNIVERSITY SCHOOL OF MEDICINE"),
        clinician(directory.pain_far, telehealth="Y"),  # the same practice on a second enrollment: shown once
        clinician(directory.pain_far, group="", line1="9 PARK AVE", phone="2125550199", telehealth="Y"),
        clinician(directory.pain_near, assignment="M"),
    ]), year=2026)
    return directory
