"""Search is exact: exactly the providers of a specialty within the radius, nearest first, true distances."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fusioncare.directory import service
from fusioncare.directory.errors import InvalidSearch, ProviderNotFound
from fusioncare.directory.geo import bounding_box, zip_table
from fusioncare.directory.schemas import ManagedFieldsUpdate, ProviderSearch
from fusioncare.directory.specialties import SPECIALTY_TAXONOMIES
from tests.directory.nppes_files import deactivation_row, make_npi, provider_row


def oracle_miles(lat1, lon1, lat2, lon2):
    """Great-circle distance by the spherical law of cosines: an independent formula for the same sphere."""
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    c = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    return 3958.7613 * math.acos(max(-1.0, min(1.0, c)))


@pytest.fixture
def random_directory(db, nppes_file, run_import):
    """~600 providers on random real ZIPs in the north-east, with random specialty codes, some deactivated."""
    rng = random.Random(7)
    zips = [z for z, p in zip_table().items() if 39.0 < p.lat < 42.5 and -76.5 < p.lon < -71.5]
    taxonomies = [t for _, codes in SPECIALTY_TAXONOMIES.values() for t in codes] + ["363L00000X"]
    rows, gone = [], []
    for n in range(600):
        npi = make_npi(5000 + n)
        picked = rng.sample(taxonomies, rng.choice((1, 1, 2)))
        rows.append(provider_row(npi, taxonomies=[(t, i == 0) for i, t in enumerate(picked)],
                                 postal=rng.choice(zips), last=f"DOE{n}"))
        if rng.random() < 0.05:
            gone.append(npi)
    run_import(nppes_file(rows))
    run_import(nppes_file([deactivation_row(npi) for npi in gone]))
    places = {r["NPI"]: zip_table()[r["Provider Business Practice Location Address Postal Code"]] for r in rows}
    codes = {r["NPI"]: {t for k, t in r.items() if k.startswith("Healthcare Provider Taxonomy Code_")} for r in rows}
    return places, codes, set(gone), zips


def test_results_equal_a_brute_force_haversine_scan_for_random_queries(db, random_directory):
    places, codes, gone, zips = random_directory
    rng = random.Random(11)
    paged = 0
    for _ in range(40):
        specialty = rng.choice(list(SPECIALTY_TAXONOMIES))
        near = rng.choice(zips)
        radius = rng.uniform(1, 100)
        centre = zip_table()[near]
        expected = sorted(
            (oracle_miles(centre.lat, centre.lon, p.lat, p.lon), npi) for npi, p in places.items()
            if npi not in gone and codes[npi] & set(SPECIALTY_TAXONOMIES[specialty][1])
            and oracle_miles(centre.lat, centre.lon, p.lat, p.lon) <= radius)

        result = service.search_providers(db=db, params=ProviderSearch(specialty=specialty, near=near,
                                                                       radius_miles=radius, limit=100))

        got = [(h.distance_miles, h.provider.npi) for h in result.hits]
        assert result.total == len(expected)
        assert [npi for _, npi in got] == [npi for _, npi in expected][:100]
        assert all(d == pytest.approx(e, abs=1e-6) for (d, _), (e, _) in zip(got, expected, strict=False))

        # The same query through the filtering path (used with names and profile filters) finds the same set,
        # however many pages of 10 it takes.
        by_name, cursor = [], None
        while True:
            page = service.search_providers(db=db, params=ProviderSearch(
                specialty=specialty, near=near, radius_miles=radius, limit=10, sort="name", cursor=cursor))
            assert page.total == len(expected)
            by_name += [h.provider.npi for h in page.hits]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert sorted(by_name) == sorted(npi for _, npi in expected)
        paged += len(expected) > 10
    assert paged >= 5, "several queries should need more than one page of names"


def test_cursor_pages_walk_every_result_once_in_order(db, random_directory):
    params = dict(specialty="primary_care", near="10001", radius_miles=100, limit=7)
    everything = service.search_providers(db=db, params=ProviderSearch(**{**params, "limit": 100}))
    seen, cursor = [], None
    while True:
        page = service.search_providers(db=db, params=ProviderSearch(**{**params, "cursor": cursor}))
        seen += [h.provider.npi for h in page.hits]
        assert page.total == everything.total
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [h.provider.npi for h in everything.hits]
    assert len(seen) == everything.total > 7


def test_small_pages_from_widening_circles_walk_exactly_the_oracle_order(db, random_directory):
    """Past the count cap, small pages are taken from the smallest circle (2, 8, 32 miles ...) that holds them;
    walked page by page they must still be exactly the brute-force order, across the circles' edges."""
    places, codes, gone, zips = random_directory
    rng = random.Random(23)
    assert service._rings(100) == [2, 8, 32, 100] and service._rings(2) == [2] and service._rings(1.5) == [1.5]
    for _ in range(12):
        specialty = rng.choice(["primary_care", "pain_medicine", "physical_therapist", "spine_surgeon"])
        near, radius, limit = rng.choice(zips), rng.uniform(5, 100), rng.choice((1, 2, 3, 5))
        centre = zip_table()[near]
        expected = [npi for _, npi in sorted(
            (oracle_miles(centre.lat, centre.lon, p.lat, p.lon), npi) for npi, p in places.items()
            if npi not in gone and codes[npi] & set(SPECIALTY_TAXONOMIES[specialty][1])
            and oracle_miles(centre.lat, centre.lon, p.lat, p.lon) <= radius)]
        for cap in (service.COUNT_CAP, 0):  # a count over the cap (every one is over 0) pages by circles
            seen, cursor = [], None
            while True:
                page = service.search_providers(db=db, params=ProviderSearch(
                    specialty=specialty, near=near, radius_miles=radius, limit=limit, cursor=cursor), count_cap=cap)
                assert len(page.hits) <= limit
                assert (page.total, page.total_is_exact) == ((len(expected), True) if cap else (0, not expected))
                seen += [h.provider.npi for h in page.hits]
                cursor = page.next_cursor
                if cursor is None:
                    break
            assert seen == expected


def test_the_count_stops_at_its_cap_and_says_it_is_a_lower_bound(db, random_directory):
    params = ProviderSearch(specialty="primary_care", near="10001", radius_miles=100, limit=5)
    exact = service.search_providers(db=db, params=params)
    assert exact.total_is_exact and exact.total > 10
    capped = service.search_providers(db=db, params=params, count_cap=10)
    assert (capped.total, capped.total_is_exact) == (10, False)
    assert [h.provider.npi for h in capped.hits] == [h.provider.npi for h in exact.hits]  # the page is not capped
    at_cap = service.search_providers(db=db, params=params, count_cap=exact.total)
    assert (at_cap.total, at_cap.total_is_exact) == (exact.total, True)


@settings(max_examples=300, deadline=None)
@given(lat=st.floats(-80, 80), lon=st.floats(-179.9, 179.9), radius=st.floats(1, 100),
       bearing=st.floats(0, 2 * math.pi), fraction=st.floats(0, 1))
def test_bounding_box_contains_every_point_within_the_radius(lat, lon, radius, bearing, fraction):
    # A point at distance fraction*radius along a bearing (direct geodesic problem on the sphere).
    d = fraction * radius / 3958.7613
    p1, l1 = math.radians(lat), math.radians(lon)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(bearing))
    l2 = l1 + math.atan2(math.sin(bearing) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2))
    plat, plon = math.degrees(p2), (math.degrees(l2) + 540) % 360 - 180
    box = bounding_box(lat, lon, radius)
    assert box.min_lat <= plat <= box.max_lat
    assert box.wraps or box.min_lon <= plon <= box.max_lon


def test_name_query_forgives_case_accents_order_and_small_typos(db, nppes_file, run_import):
    run_import(nppes_file([
        provider_row(make_npi(1), first="JOSÉ", last="MUÑOZ"),
        provider_row(make_npi(2), first="JOHN", last="SMITH"),
        provider_row(make_npi(3), first="MARY", last="JOHNSON"),
    ]))

    def names(q):
        hits = service.search_providers(db=db, params=ProviderSearch(specialty="primary_care", near="10001", q=q)).hits
        return sorted(h.provider.display_name for h in hits)

    assert names("jose munoz") == ["JOSÉ MUÑOZ"]
    assert names("Muñoz José") == ["JOSÉ MUÑOZ"]
    assert names("smtih") == ["JOHN SMITH"]
    assert names("jhon smith") == ["JOHN SMITH"]
    assert names("john") == ["JOHN SMITH", "MARY JOHNSON"]  # a whole token or the start of one
    assert names("xavier") == []


def test_filters_on_provider_managed_fields(db, nppes_file, run_import):
    npis = [make_npi(n) for n in (1, 2, 3)]
    run_import(nppes_file([provider_row(n) for n in npis]))
    service.update_managed_fields(db=db, npi=npis[0], fields=ManagedFieldsUpdate(
        insurance_plans=["aetna", "medicare"], languages=["en", "es"], telehealth=True, accepting_new=True))
    service.update_managed_fields(db=db, npi=npis[1], fields=ManagedFieldsUpdate(
        insurance_plans=["cigna"], languages=["en"], telehealth=False, accepting_new=False))

    def found(**filters):
        params = ProviderSearch(specialty="primary_care", near="10001", **filters)
        return {h.provider.npi for h in service.search_providers(db=db, params=params).hits}

    assert found() == set(npis)
    assert found(insurance="medicare") == {npis[0]}
    assert found(language="es") == {npis[0]}
    assert found(telehealth=True) == {npis[0]}
    assert found(telehealth=False) == {npis[1]}  # "not stated" is not "no"
    assert found(accepting_new=False, insurance="cigna") == {npis[1]}


def test_bad_places_and_cursors_name_the_field(db):
    with pytest.raises(InvalidSearch) as unknown_zip:
        service.search_providers(db=db, params=ProviderSearch(specialty="pain_medicine", near="00000"))
    assert unknown_zip.value.field == "near"
    with pytest.raises(InvalidSearch) as bad_cursor:
        service.search_providers(db=db, params=ProviderSearch(specialty="pain_medicine", near="10001",
                                                              cursor="not-a-cursor"))
    assert bad_cursor.value.field == "cursor"


def test_lat_lon_near_searches_around_the_point(db, nppes_file, run_import):
    run_import(nppes_file([provider_row(make_npi(1), postal="10001")]))
    hits = service.search_providers(db=db, params=ProviderSearch(specialty="primary_care", near="40.7484,-73.9967",
                                                                 radius_miles=1)).hits
    assert [h.distance_miles for h in hits] == [pytest.approx(0, abs=1e-9)]


def test_unknown_and_deactivated_npis_are_not_found(db, nppes_file, run_import):
    npi = make_npi(1)
    run_import(nppes_file([provider_row(npi)]))
    assert service.get_provider(db=db, npi=npi).npi == npi
    run_import(nppes_file([deactivation_row(npi)]))
    for missing in (npi, make_npi(2), "abc"):
        with pytest.raises(ProviderNotFound):
            service.get_provider(db=db, npi=missing)


def test_emergency_hospitals_nearest_first(db, nppes_file, run_import):
    run_import(nppes_file([
        provider_row(make_npi(1, 2), entity_type=2, organization="FAR HOSPITAL", postal="10301",
                     taxonomies=[("282N00000X", True)]),
        provider_row(make_npi(2, 2), entity_type=2, organization="NEAR HOSPITAL", postal="10001",
                     taxonomies=[("282N00000X", True)]),
        provider_row(make_npi(3), taxonomies=[("207P00000X", True)]),
    ]))
    hits = service.nearest_emergency_hospitals(db=db, near="10001").hits
    assert [h.provider.display_name for h in hits] == ["NEAR HOSPITAL", "FAR HOSPITAL"]
