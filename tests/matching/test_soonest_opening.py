"""The soonest opening to book as a ranking signal: earlier is better, none is no bonus, specialty fit stays first."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from fusioncare.accounts.audit import Actor
from fusioncare.directory.importer import import_nppes
from fusioncare.directory.service import update_managed_fields
from fusioncare.matching.service import opening_label
from fusioncare.scheduling import service as scheduling
from tests.accounts.conftest import cheap_password_hashing, make_person  # noqa: F401
from tests.directory.nppes_files import make_npi, provider_row, write_nppes
from tests.matching.conftest import PAIN, SOON_ANSWERS, _confirmed
from tests.scheduling.builders import TYPES, every_day

NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def pain_doctors(db, tmp_path, make_person):  # noqa: F811 (the make_person fixture imported above)
    """Pain physicians at the same address with the same profile: 'later' (lowest NPI) and 'sooner' take bookings,
    'unbookable' has no account, 'secondary' has pain medicine only as a secondary taxonomy but opens as soon as
    'sooner'."""
    npis = {"later": make_npi(21), "sooner": make_npi(22), "unbookable": make_npi(23), "secondary": make_npi(24)}
    rows = [provider_row(npi, last=name.upper(), taxonomies=[("207Q00000X", True), ("208VP0014X", False)]
                         if name == "secondary" else [PAIN]) for name, npi in npis.items()]
    import_nppes(db=db, path=write_nppes(tmp_path / "npidata_pfile_soonest.csv", rows))
    for npi in npis.values():
        update_managed_fields(db=db, npi=npi, fields=_confirmed())
    now = datetime.now(UTC)
    for name in ("later", "sooner", "secondary"):
        make_person(name, npi=npis[name], verified=True)
        scheduling.set_availability(db=db, npi=npis[name], hours=every_day(), appointment_types=TYPES)
    # 'later' is away for the next five days; its first opening comes after that.
    scheduling.add_exception(db=db, npi=npis["later"], kind="time_off", starts_at=now - timedelta(hours=1),
                             ends_at=now + timedelta(days=5))
    return npis


def _pain_group(client) -> list[dict]:
    response = client.post("/api/v1/matches", json={"assessment": SOON_ANSWERS, "near": "10001"})
    assert response.status_code == 200, response.text
    return next(g for g in response.json()["groups"] if g["specialty"]["code"] == "pain_medicine")["results"]


def test_two_otherwise_equal_providers_are_ordered_by_soonest_opening(client, pain_doctors):
    results = _pain_group(client)
    order = [r["npi"] for r in results]
    by_npi = {r["npi"]: r for r in results}
    sooner, later = by_npi[pain_doctors["sooner"]], by_npi[pain_doctors["later"]]

    assert order.index(pain_doctors["sooner"]) < order.index(pain_doctors["later"])  # despite the higher NPI
    assert sooner["score"] > later["score"]
    assert datetime.fromisoformat(sooner["soonest_opening"]["start"]) < datetime.fromisoformat(
        later["soonest_opening"]["start"])
    assert datetime.fromisoformat(later["soonest_opening"]["start"]) >= datetime.now(UTC) + timedelta(days=5)
    opening = sooner["soonest_opening"]
    start = datetime.fromisoformat(opening["start"])
    assert opening["time_zone"] == "America/New_York" and start.utcoffset() == start.astimezone(NEW_YORK).utcoffset()
    assert re.fullmatch(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} [A-Z][a-z]{2}, \d{1,2}:\d{2} (am|pm)", opening["label"])
    assert opening["label"].split(" ")[1] == str(start.day), "the label's day is the opening's, in its own zone"
    assert opening["book_path"] == (f"/doctors/{pain_doctors['sooner']}/book?type={opening['type']}"
                                    f"&start={quote(opening['start'], safe='')}"), "the slot comes chosen"
    assert f"Soonest opening: {opening['label']}" in sooner["reasons"]


def test_no_open_slot_is_no_bonus_and_specialty_fit_still_comes_first(client, pain_doctors):
    results = _pain_group(client)
    order = [r["npi"] for r in results]
    by_npi = {r["npi"]: r for r in results}
    unbookable, secondary = by_npi[pain_doctors["unbookable"]], by_npi[pain_doctors["secondary"]]

    assert unbookable["soonest_opening"] is None
    assert not any(reason.startswith("Soonest opening") for reason in unbookable["reasons"])
    assert order.index(pain_doctors["later"]) < order.index(pain_doctors["unbookable"])
    # An opening today does not lift a secondary specialty fit over a primary one without any opening.
    assert secondary["soonest_opening"] is not None
    assert order.index(pain_doctors["unbookable"]) < order.index(pain_doctors["secondary"])


def test_a_booked_slot_moves_the_soonest_opening(db, pain_doctors, make_person):  # noqa: F811 (the fixture)
    npi = pain_doctors["sooner"]
    first = scheduling.soonest_openings(db=db, npis=[npi])[npi]
    patient = make_person("ann")
    scheduling.book(db=db, actor=Actor.of(patient.user, "test"), npi=npi, start=first.slot.start,
                    type_code=first.slot.type_code)

    moved = scheduling.soonest_openings(db=db, npis=[npi])[npi]
    assert moved.slot.start >= first.slot.end


def test_soonest_openings_takes_the_same_few_queries_for_one_provider_or_many(db, pain_doctors):
    statements: list[str] = []

    def count(*args) -> None:
        statements.append(args[2])

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        one = scheduling.soonest_openings(db=db, npis=[pain_doctors["sooner"]])
        for_one = len(statements)
        statements.clear()
        many = scheduling.soonest_openings(db=db, npis=pain_doctors.values())
        for_many = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)

    assert len(one) == 1 and set(many) == {pain_doctors[n] for n in ("later", "sooner", "secondary")}
    assert for_many == for_one <= 5


def test_the_soonest_opening_is_for_a_new_patient_visit_when_the_provider_offers_one(db, pain_doctors):
    from fusioncare.scheduling.schemas import AppointmentTypeCreate

    sooner, secondary = pain_doctors["sooner"], pain_doctors["secondary"]
    scheduling.set_availability(db=db, npi=secondary, hours=every_day(), appointment_types=[
        AppointmentTypeCreate(code="follow_up", name="Follow-up", duration_minutes=20)])

    found = scheduling.soonest_openings(db=db, npis=[sooner, secondary])

    assert found[sooner].slot.type_code == "new_patient"  # not the shorter follow-up it also offers
    assert found[sooner].slot.end - found[sooner].slot.start == timedelta(minutes=45)
    assert found[secondary].slot.type_code == "follow_up"  # no new-patient visit: any type it offers


# Read off a calendar: 3 December 2026 is a Thursday, 1 January 2027 a Friday, 8 March 2026 the Sunday US clocks
# went forward (2:00 am became 3:00 am in New York), 1 November 2026 the Sunday they go back.
@pytest.mark.parametrize(("moment", "label"), [
    (datetime(2026, 12, 3, 9, 0, tzinfo=NEW_YORK), "Thu 3 Dec, 9:00 am"),
    (datetime(2027, 1, 1, 13, 5, tzinfo=NEW_YORK), "Fri 1 Jan, 1:05 pm"),
    (datetime(2026, 12, 3, 12, 0, tzinfo=NEW_YORK), "Thu 3 Dec, 12:00 pm"),
    (datetime(2026, 12, 4, 0, 30, tzinfo=NEW_YORK), "Fri 4 Dec, 12:30 am"),
    (datetime(2026, 3, 8, 7, 30, tzinfo=UTC).astimezone(NEW_YORK), "Sun 8 Mar, 3:30 am"),
    (datetime(2026, 11, 1, 14, 45, tzinfo=UTC).astimezone(NEW_YORK), "Sun 1 Nov, 9:45 am"),
    (datetime(2026, 12, 3, 14, 0, tzinfo=UTC).astimezone(ZoneInfo("America/Los_Angeles")), "Thu 3 Dec, 6:00 am"),
])
def test_an_opening_is_labelled_with_the_weekday_date_and_clock_time_of_its_own_zone(moment, label):
    assert opening_label(moment) == label
