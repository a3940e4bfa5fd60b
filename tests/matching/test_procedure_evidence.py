"""CMS public data in the API and in matching: procedure volumes and Medicare facts on a provider's profile, the
two Medicare filters on search and matches, and the capped, diminishing evidence bonus with its plain reason."""

from __future__ import annotations

from fusioncare.directory.cms_import import import_utilization
from fusioncare.matching.service import EVIDENCE
from tests.directory.cms_files import volume, write_utilization
from tests.matching.conftest import D24, SOON_ANSWERS


def test_profile_api_gives_procedure_volumes_and_medicare_facts_with_sources(client, cms_data):
    body = client.get(f"/api/v1/providers/{cms_data.pain_far}").json()

    volumes = [(v["code"], v["year"], v["patients"], v["services"], v["treatment"]) for v in body["procedure_volumes"]]
    assert volumes == [("64483", 2024, 160, 212.0, "injection"), ("64484", 2024, 60, 100.0, "injection"),
                       ("64483", 2023, 70, 90.0, "injection")]
    first = body["procedure_volumes"][0]
    assert first["description"].startswith("Transforaminal epidural injection")
    assert first["source"] == {"dataset": "Medicare Physician & Other Practitioners - by Provider and Service (CMS)",
                               "year": 2024, "is_demo": False}
    assert "not a measure of how well" in body["procedure_volumes_caveat"]
    medicare = body["medicare"]
    assert (medicare["accepts_assignment"], medicare["telehealth"], medicare["graduation_year"]) == (
        "always", True, 2001)
    assert medicare["medical_school"] == "New York University School of Medicine"
    assert medicare["practices"] == [
        {"name": "Spine & Pain Associates, LLC", "address": "1 Main St, New York, NY 10001-1234",
         "phone": "2125550100"},
        {"name": None, "address": "9 Park Ave, New York, NY 10001-1234", "phone": "2125550199"}]
    assert medicare["source"]["year"] == 2026 and "Doctors and Clinicians" in medicare["source"]["dataset"]


def test_a_provider_cms_has_nothing_on_has_empty_volumes_and_no_medicare_facts(client, cms_data):
    body = client.get(f"/api/v1/providers/{cms_data.surgeon}").json()
    assert body["procedure_volumes"] == [] and body["medicare"] is None and body["procedure_volumes_caveat"] is None


def _pain(client, **body) -> dict:
    response = client.post("/api/v1/matches", json={"assessment": SOON_ANSWERS, "near": "10001", **body})
    assert response.status_code == 200, response.text
    return next(g for g in response.json()["groups"] if g["specialty"]["code"] == "pain_medicine")


def test_a_provider_who_did_the_suggested_treatment_ranks_higher_and_the_reason_says_so(client, directory, db,
                                                                                         tmp_path):
    before = {r["npi"]: r for r in _pain(client)["results"]}
    import_utilization(db=db, path=write_utilization(tmp_path / D24, [
        volume(directory.pain_far, "64483", "O", "120", "150"), volume(directory.pain_far, "64483", "F", "40", "62"),
        volume(directory.pain_far, "64484", "O", "60", "100")]))

    pain = _pain(client)
    order = [r["npi"] for r in pain["results"]]
    far = next(r for r in pain["results"] if r["npi"] == directory.pain_far)

    # Farther than pain_near and otherwise equal, it was behind; with the evidence it is ahead.
    assert list(before).index(directory.pain_far) > list(before).index(directory.pain_near)
    assert order.index(directory.pain_far) < order.index(directory.pain_near)
    assert "Did 212 spinal injections for Medicare patients in 2024" in far["reasons"]
    assert far["procedure_evidence"]["year"] == 2024 and far["procedure_evidence"]["number"] == 212
    assert far["procedure_evidence"]["caveat"] == "Medicare patients only. How many is not how well."
    assert 0 < far["score"] - before[directory.pain_far]["score"] < EVIDENCE


def test_the_bonus_is_capped_so_a_huge_volume_never_beats_a_better_specialty_fit(client, cms_data):
    pain = _pain(client)
    order = [r["npi"] for r in pain["results"]]
    secondary = next(r for r in pain["results"] if r["npi"] == cms_data.pain_secondary)
    # 100,000 injections, secondary taxonomy, same place as pain_near (primary, no figures): still behind it.
    assert order.index(cms_data.pain_near) < order.index(cms_data.pain_secondary)
    assert "Did 100,000 spinal injections for Medicare patients in 2024" in secondary["reasons"]
    far = next(r for r in pain["results"] if r["npi"] == cms_data.pain_far)
    # Diminishing: 470 times the procedures of pain_far give less than twice its bonus.
    bonus_far = far["score"] - 40 - 20 * (1 - far["distance_miles"] / 25) - 10  # fit, closeness, accepting new
    bonus_secondary = secondary["score"] - 20 - 20 - 10
    assert 0 < bonus_far < bonus_secondary < 2 * bonus_far and bonus_secondary <= EVIDENCE  # scores are rounded


def test_medicare_filters_on_search_use_medicare_facts_for_providers_who_said_nothing(client, cms_data):
    def npis(**query) -> list[str]:
        response = client.get("/api/v1/providers", params={"specialty": "pain_medicine", "near": "10001", **query})
        assert response.status_code == 200, response.text
        return [r["npi"] for r in response.json()["results"]]

    # Nobody in the fixture said anything about video visits: Medicare's file stands in.
    assert npis(telehealth="true") == [cms_data.pain_far]
    # Always accepts assignment: pain_far; pain_near only "may accept" (M), the rest have no Medicare facts.
    assert npis(accepts_medicare_assignment="true") == [cms_data.pain_far]
    assert cms_data.pain_near in npis(accepts_medicare_assignment="false")


def test_medicare_filters_on_matches(client, cms_data):
    pain = _pain(client, accepts_medicare_assignment=True, telehealth=True)
    assert [r["npi"] for r in pain["results"]] == [cms_data.pain_far]
    reasons = pain["results"][0]["reasons"]
    assert "Offers video visits, according to Medicare's records" in reasons
    assert "Accepts the Medicare-approved amount as full payment, according to Medicare's records" in reasons
    assert pain["results"][0]["medicare_assignment"] == "always"


def test_a_bad_medicare_filter_value_is_a_422_naming_the_field(client, cms_data):
    response = client.get("/api/v1/providers", params={"specialty": "pain_medicine", "near": "10001",
                                                       "accepts_medicare_assignment": "often"})
    assert response.status_code == 422
    assert "accepts_medicare_assignment" in response.text
