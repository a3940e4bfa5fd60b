"""GET /api/v1/providers and /api/v1/providers/{npi} through the real app."""

from __future__ import annotations

import pytest

from fusioncare.directory.models import Provider
from fusioncare.directory.schemas import ManagedFieldsUpdate
from fusioncare.directory.service import update_managed_fields
from tests.directory.nppes_files import deactivation_row, make_npi, provider_row


@pytest.fixture
def directory(db, nppes_file, run_import):
    npis = [make_npi(n) for n in range(1, 6)]
    postals = ["10001", "10011", "10016", "10301", "90012"]
    run_import(nppes_file([provider_row(npi, postal=p, last=f"DOE{i}", taxonomies=[("208VP0014X", True)])
                           for i, (npi, p) in enumerate(zip(npis, postals, strict=True))]))
    update_managed_fields(db=db, npi=npis[0], fields=ManagedFieldsUpdate(
        insurance_plans=["aetna"], languages=["es"], telehealth=True, accepting_new=True, services=["injection"]))
    return npis


def test_search_returns_the_documented_shape_nearest_first(client, directory):
    response = client.get("/api/v1/providers", params={"specialty": "pain_medicine", "near": "10001"})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"total", "total_is_exact", "results", "next_cursor"}
    assert body["total"] == 4 and body["total_is_exact"] and body["next_cursor"] is None  # 90012 is in Los Angeles
    first = body["results"][0]
    assert {"npi", "name", "credential", "specialties", "taxonomy_codes", "distance_miles", "location", "phone",
            "insurance", "languages", "telehealth", "accepting_new", "services", "profile_confirmed",
            "is_demo"} <= set(first)
    assert set(first["location"]) >= {"address", "city", "state", "zip", "lat", "lon"}
    assert (first["npi"], first["specialties"], first["insurance"], first["services"]) == (
        directory[0], ["pain_medicine"], ["aetna"], ["injection"])
    distances = [r["distance_miles"] for r in body["results"]]
    assert distances == sorted(distances) and distances[0] == 0


def test_cursor_pagination_over_http(client, directory):
    first = client.get("/api/v1/providers", params={"specialty": "pain_medicine", "near": "10001", "limit": 3}).json()
    second = client.get("/api/v1/providers", params={"specialty": "pain_medicine", "near": "10001", "limit": 3,
                                                     "cursor": first["next_cursor"]}).json()
    assert [r["npi"] for r in first["results"] + second["results"]] == directory[:4]
    assert second["next_cursor"] is None


def test_filters_over_http(client, directory):
    params = {"specialty": "pain_medicine", "near": "10001", "insurance": "aetna", "language": "es",
              "telehealth": "true", "accepting_new": "true"}
    assert [r["npi"] for r in client.get("/api/v1/providers", params=params).json()["results"]] == [directory[0]]


@pytest.mark.parametrize(("params", "field", "words"), [
    ({"specialty": "dentist", "near": "10001"}, "specialty", "allowed values are"),
    ({"near": "10001"}, "specialty", "required"),
    ({"specialty": "pain_medicine", "near": "00000"}, "near", "not a US ZIP code we know"),
    ({"specialty": "pain_medicine", "near": "1000"}, "near", "5-digit US ZIP code"),
    ({"specialty": "pain_medicine", "near": "40.7,-500"}, "near", "longitude"),
    ({"specialty": "pain_medicine", "near": "10001", "radius_miles": "0"}, "radius_miles", "greater than or equal"),
    ({"specialty": "pain_medicine", "near": "10001", "radius_miles": "101"}, "radius_miles", "less than or equal"),
    ({"specialty": "pain_medicine", "near": "10001", "insurance": "acme"}, "insurance", "allowed values are"),
    ({"specialty": "pain_medicine", "near": "10001", "cursor": "zzz"}, "cursor", "not a cursor"),
    ({"specialty": "pain_medicine", "near": "10001", "color": "blue"}, "color", "unknown field"),
])
def test_bad_search_input_is_a_422_naming_the_field(client, directory, params, field, words):
    response = client.get("/api/v1/providers", params=params)
    assert response.status_code == 422
    problem = response.json()["detail"][0]
    assert problem["field"] == field and words in problem["msg"]


def test_profile_has_registry_detail_and_provenance(client, directory):
    body = client.get(f"/api/v1/providers/{directory[0]}").json()
    assert body["npi"] == directory[0]
    assert body["taxonomies"] == [{"code": "208VP0014X", "primary": True}]
    assert body["source"]["file"].startswith("npidata_pfile_")
    assert body["source"]["imported_at"].endswith(("Z", "+00:00"))
    assert body["location"]["time_zone"] == "America/New_York"


def test_profile_is_404_for_unknown_and_deactivated_npis(client, directory, nppes_file, run_import):
    run_import(nppes_file([deactivation_row(directory[1])]))
    for npi in (directory[1], make_npi(999), "12"):
        response = client.get(f"/api/v1/providers/{npi}")
        assert response.status_code == 404 and response.json()["code"] == "provider_not_found"
    search = client.get("/api/v1/providers", params={"specialty": "pain_medicine", "near": "10001"}).json()
    assert directory[1] not in [r["npi"] for r in search["results"]]


@pytest.mark.parametrize("crafted", [[10**400, "1234567893"], [1e308, "x\x00y"], [float("nan"), "1234567893"],
                                     [True, "1234567893"], ["a", "b", "c"], {"a": 1}, [0.1, "9" * 5000], "plain"])
@pytest.mark.parametrize("sort", ["distance", "name"])
def test_a_crafted_cursor_is_a_422_naming_the_cursor(client, directory, crafted, sort):
    import base64
    import json

    cursor = base64.urlsafe_b64encode(json.dumps(crafted).encode()).decode().rstrip("=")
    for extra in ({}, {"q": "doe"}):
        response = client.get("/api/v1/providers", params={"specialty": "pain_medicine", "near": "10001",
                                                           "sort": sort, "cursor": cursor, **extra})
        assert response.status_code == 422, (crafted, extra, response.status_code)
        assert response.json()["detail"][0]["field"] == "cursor"


def test_the_profile_page_names_the_treatments_offered_in_the_patients_words(client, db, directory):
    update_managed_fields(db=db, npi=directory[0], fields=ManagedFieldsUpdate(
        services=["physical_therapy", "tens", "activity_modification"]))
    db.get(Provider, directory[0]).profile_confirmed = True  # the practice facts show on a confirmed profile
    db.commit()
    page = client.get(f"/doctors/{directory[0]}", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert ("Physical therapy and exercise; TENS (a small electrical nerve stimulation device); Adjusting daily "
            "activities") in page.text
    assert "physical therapy, tens" not in page.text
