"""The provider's availability page over TestClient on both databases: what is stored shows, rows save, errors sit
beside their fields and store nothing, time off is read in the practice's time zone, CSRF on both forms."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from fusioncare.directory.npi import with_check_digit
from fusioncare.scheduling import service
from tests.scheduling.builders import PASSWORD, bookable_provider, future_day
from tests.scheduling.test_pages import _sign_in, _token

NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def signed_in_provider(client, provider) -> str:
    _sign_in(client, SimpleNamespace(email=f"dr{provider}@example.org", password=PASSWORD))
    return provider


def _form_values(html: str, form_action: str) -> dict[str, str]:
    """The named inputs of one form as the browser would post them unchanged (radios: the checked one)."""
    form = re.search(rf'<form method="post" action="{form_action}".*?</form>', html, re.S).group(0)
    values = {}
    for tag in re.findall(r"<input[^>]*>", form, re.S):
        name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        if name and ('type="radio"' not in tag or "checked" in tag):
            values[name.group(1)] = value.group(1) if value else ""
    return values


def _hours(db, npi: str) -> list[tuple[int, int, int]]:
    db.expire_all()
    return [(h.weekday, h.start_minute, h.end_minute) for h in service.weekly_hours(db=db, npi=npi)]


def test_only_a_verified_provider_gets_the_page_and_the_schedule_links_to_it(client, signed_in_provider):
    schedule = client.get("/provider/schedule")
    assert 'href="/provider/availability"' in schedule.text
    page = client.get("/provider/availability")
    assert page.status_code == 200
    values = _form_values(page.text, "/provider/availability")
    assert values["hours-0-0-start"] == "09:00" and values["hours-0-0-end"] == "17:00"
    assert values["hours-0-1-start"] == "" and values["type-3-code"] == "", "a blank row to add one"
    assert {values[f"type-{i}-code"] for i in range(3)} == {"new_patient", "follow_up", "telehealth"}
    client.post("/account/sign-out", data={"csrf_token": _token(page.text)})
    assert client.get("/provider/availability", headers={"Accept": "text/html"},
                      follow_redirects=False).status_code in (303, 404)


def test_saving_rows_replaces_hours_and_kinds_of_visit(client, signed_in_provider, db):
    values = _form_values(client.get("/provider/availability").text, "/provider/availability")
    for weekday in range(7):
        values[f"hours-{weekday}-0-start"] = values[f"hours-{weekday}-0-end"] = ""
    values |= {"hours-0-0-start": "08:00", "hours-0-0-end": "12:00", "hours-0-1-start": "13:00",
               "hours-0-1-end": "16:30", "hours-2-0-start": "10:00", "hours-2-0-end": "14:00",
               "type-1-code": "", "type-1-name": "", "type-1-minutes": "",
               "type-3-code": "injection", "type-3-name": "Injection visit", "type-3-minutes": "60"}

    saved = client.post("/provider/availability", data=values, follow_redirects=False)

    assert saved.status_code == 303 and saved.headers["location"] == "/provider/availability?saved=hours"
    assert _hours(db, signed_in_provider) == [(0, 480, 720), (0, 780, 990), (2, 600, 840)]
    assert {t.code for t in service.appointment_types(db=db, npi=signed_in_provider)} == {
        values["type-0-code"], values["type-2-code"], "injection"}
    assert "are saved" in client.get(saved.headers["location"]).text


def test_bad_rows_are_named_beside_their_fields_and_nothing_is_stored(client, signed_in_provider, db):
    page = client.get("/provider/availability").text
    values = _form_values(page, "/provider/availability") | {
        "hours-1-0-start": "17:00", "hours-1-0-end": "09:00",  # closes before it opens
        "hours-3-1-start": "12:00",  # a second window without a closing time
        "hours-4-0-start": "09:03",  # off the 5-minute grid
        "type-3-code": "Injection!", "type-3-name": "Injection", "type-3-minutes": "60",
        "type-2-minutes": "7"}
    before = _hours(db, signed_in_provider)

    refused = client.post("/provider/availability", data=values)

    assert refused.status_code == 422
    for field_id, words in (("hours-1-0-end", "later than the opening time"), ("hours-3-1-end", "closing time"),
                            ("hours-4-0-start", "5-minute boundary"), ("type-3-code", "small letters"),
                            ("type-2-minutes", "steps of 5")):
        assert re.search(rf'id="{field_id}-error">[^<]*{words}', refused.text), field_id
        assert re.search(rf'id="{field_id}"[^>]*aria-invalid="true"', refused.text, re.S), field_id
        assert f'href="#{field_id}"' in refused.text
    assert 'value="Injection!"' in refused.text, "what was typed stays in the form"
    assert _hours(db, signed_in_provider) == before
    assert client.post("/provider/availability", data={k: v for k, v in values.items() if k != "csrf_token"},
                       headers={"Accept": "text/html"}).status_code == 403


def test_time_off_is_read_in_the_practice_time_zone_and_takes_slots_away(client, signed_in_provider, db):
    day = future_day()
    page = client.get("/provider/availability").text
    values = {"csrf_token": _token(page), "exception-kind": "time_off",
              "exception-start": f"{day.isoformat()}T00:00", "exception-end": f"{day.isoformat()}T23:55"}

    added = client.post("/provider/availability/exceptions", data=values, follow_redirects=False)

    assert added.status_code == 303
    db.expire_all()
    stored = service.upcoming_exceptions(db=db, npi=signed_in_provider)
    assert [(e.kind, e.starts_at.astimezone(UTC)) for e in stored] == [
        ("time_off", datetime.combine(day, datetime.min.time(), tzinfo=NEW_YORK).astimezone(UTC))]
    start = datetime.combine(day, datetime.min.time(), tzinfo=NEW_YORK)
    assert service.free_slots(db=db, npi=signed_in_provider, start=start, end=start.replace(hour=23)) == []
    shown = client.get("/provider/availability").text
    assert "Time off (no bookings)</strong>: " + start.strftime("%a %-d %b %Y, 12:00 am") in shown


def test_a_bad_exception_is_named_beside_its_field(client, signed_in_provider, db):
    page = client.get("/provider/availability").text
    day = future_day().isoformat()
    refused = client.post("/provider/availability/exceptions", data={
        "csrf_token": _token(page), "exception-kind": "extra_hours", "exception-start": f"{day}T15:00",
        "exception-end": f"{day}T09:00"})
    assert refused.status_code == 422
    assert re.search(r'id="exception-end-error">[^<]*later than start', refused.text)
    assert re.search(r'value="extra_hours"\s+checked', refused.text), "the choice made stays chosen"
    assert f'value="{day}T15:00"' in refused.text
    missing = client.post("/provider/availability/exceptions", data={"csrf_token": _token(page),
                                                                      "exception-kind": "time_off"})
    assert missing.status_code == 422 and 'id="exception-start-error"' in missing.text
    db.expire_all()
    assert service.upcoming_exceptions(db=db, npi=signed_in_provider) == []


def test_time_off_can_be_removed_and_the_slots_come_back_but_not_another_providers(client, signed_in_provider, db,
                                                                                    tmp_path):
    other_provider = with_check_digit("170000009")
    bookable_provider(db, tmp_path, other_provider, postal="10002")
    day = future_day()
    start = datetime.combine(day, datetime.min.time(), tzinfo=NEW_YORK)
    mine = service.add_exception(db=db, npi=signed_in_provider, kind="time_off", starts_at=start,
                                 ends_at=start.replace(hour=23))
    theirs = service.add_exception(db=db, npi=other_provider, kind="time_off", starts_at=start,
                                   ends_at=start.replace(hour=23))
    page = client.get("/provider/availability").text
    assert f'action="/provider/availability/exceptions/{mine.id}/remove"' in page
    assert f"/exceptions/{theirs.id}/remove" not in page

    no_token = client.post(f"/provider/availability/exceptions/{mine.id}/remove", headers={"Accept": "text/html"})
    not_mine = client.post(f"/provider/availability/exceptions/{theirs.id}/remove",
                           data={"csrf_token": _token(page)}, headers={"Accept": "text/html"})
    removed = client.post(f"/provider/availability/exceptions/{mine.id}/remove", data={"csrf_token": _token(page)},
                          follow_redirects=False)

    assert no_token.status_code == 403 and not_mine.status_code == 404
    assert removed.status_code == 303 and removed.headers["location"] == "/provider/availability?saved=removed"
    db.expire_all()
    assert service.upcoming_exceptions(db=db, npi=signed_in_provider) == []
    assert [e.id for e in service.upcoming_exceptions(db=db, npi=other_provider)] == [theirs.id]
    assert service.free_slots(db=db, npi=signed_in_provider, start=start, end=start.replace(hour=23)) != []
    assert "Removed." in client.get("/provider/availability?saved=removed").text
