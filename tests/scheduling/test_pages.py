"""Scheduling pages over TestClient on both databases: the booking funnel (the chosen time survives sign-up and
sign-in), display case, 12-hour times and zones in words, later weeks up to the horizon, the overlap rule, my
appointments (confirmation, move, cancel), the provider's dashboard, and CSRF on every form."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from urllib.parse import parse_qs, quote, urlparse
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from fusioncare.accounts.audit import Actor
from fusioncare.directory.npi import with_check_digit
from fusioncare.scheduling import service
from fusioncare.scheduling.models import Appointment
from tests.scheduling.builders import PASSWORD, bookable_provider, future_day

HTML = {"Accept": "text/html"}
NEW_YORK = ZoneInfo("America/New_York")
OTHER_NPI = with_check_digit("170000027")


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([0-9a-f]+)"', html).group(1)


def _sign_in(client, who, next_path: str | None = None):
    """Sign in as ``who``: an e-mail address with the test password, or anything with ``email`` and ``password``."""
    email, password = (who, PASSWORD) if isinstance(who, str) else (who.email, who.password)
    page = client.get("/account/sign-in", headers=HTML)
    data = {"email": email, "password": password, "csrf_token": _token(page.text)}
    if next_path:
        data["next"] = next_path
    response = client.post("/account/sign-in", data=data, headers=HTML, follow_redirects=False)
    assert response.status_code == 303, response.text
    return response


def _stored(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Appointment))


def _local(day, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=NEW_YORK)


def _book_form(client, npi: str, start: datetime, type_code: str = "new_patient", **extra):
    token = _token(client.get(f"/doctors/{npi}/book", headers=HTML).text)
    data = {"start": start.isoformat(), "type": type_code, "patient_name": "Ann Lee", "csrf_token": token, **extra}
    return client.post(f"/doctors/{npi}/book", data=data, headers=HTML, follow_redirects=False)


def test_profile_offers_the_soonest_opening_and_the_booking_page_shows_it_chosen(client, provider):
    profile = client.get(f"/doctors/{provider}")
    assert f'href="/doctors/{provider}/book"' in profile.text, "see all open times"
    book_link = re.search(r'<a class="button button-primary" href="([^"]+)">Book ', profile.text).group(1)
    query = parse_qs(urlparse(book_link.replace("&amp;", "&")).query)
    assert query["type"] == ["new_patient"], "a first visit is a new-patient visit"

    page = client.get(book_link.replace("&amp;", "&"))
    assert page.status_code == 200
    assert re.search(rf'value="{re.escape(query["start"][0])}" required checked', page.text), "the slot is chosen"
    assert "Create an account and book" in page.text and "Sign in and book" in page.text


def test_opened_on_a_chosen_time_the_other_days_fold_so_the_request_button_is_near(client, provider):
    day = future_day()
    chosen = _local(day, 9, 45)
    page = client.get(f"/doctors/{provider}/book?type=new_patient&start={quote(chosen.isoformat())}").text
    before, _, folded = page.partition('<details class="slot-more">')
    assert folded, "the other days sit in one closed disclosure"
    assert re.search(rf'value="{re.escape(chosen.isoformat())}" required checked', before), "the chosen time is shown"
    shown_days = set(re.findall(r'id="slot-(\d{4}-\d\d-\d\d)-', before))
    assert shown_days == {day.isoformat()}, "only the chosen time's day is open"
    folded_days = set(re.findall(r'id="slot-(\d{4}-\d\d-\d\d)-', folded))
    assert folded_days and day.isoformat() not in folded_days
    summary = re.search(r"<summary>(.*?)</summary>", folded, re.S).group(1)
    assert f"({len(folded_days)} more days)" in summary

    every_day = client.get(f"/doctors/{provider}/book?type=new_patient&week={day.isoformat()}").text
    assert "slot-more" not in every_day, "browsing a week without a chosen time shows every day"
    assert set(re.findall(r'id="slot-(\d{4}-\d\d-\d\d)-', every_day)) == shown_days | folded_days


def test_booking_page_speaks_display_case_12_hour_times_and_the_zone_in_words(client, provider):
    page = client.get(f"/doctors/{provider}/book?week={future_day().isoformat()}").text
    assert "Jane Smith" in page and "JANE SMITH" not in page
    assert "Eastern Time" in page and "America/New_York" not in page
    labels = re.findall(r'<label for="slot-[^"]+">([^<]+)</label>', page)
    assert labels[:2] == ["9:00 am", "9:45 am"] and "1:30 pm" in labels
    assert not any(re.fullmatch(r"\d\d:\d\d", label) for label in labels)


def test_later_weeks_are_browsable_up_to_the_horizon_and_no_further(client, provider, db):
    service.set_booking_horizon(db=db, npi=provider, days=20)
    weeks, url = [], f"/doctors/{provider}/book?type=new_patient"
    while url and len(weeks) < 10:
        page = client.get(url.replace("&amp;", "&")).text
        days = re.findall(r'name="start" id="slot-(\d{4}-\d\d-\d\d)-', page)
        weeks.append(sorted(set(days)))
        later = re.search(r'href="([^"]+)">Later times</a>', page)
        url = later.group(1) if later else None
    assert len(weeks) == 3, weeks  # this week, next, and the one the horizon ends in
    last_day = max(weeks[-1])
    assert last_day <= (datetime.now(UTC) + timedelta(days=20)).astimezone(NEW_YORK).date().isoformat()
    assert "until" in page and "20 days ahead" in page


def test_a_tampered_form_beyond_the_horizon_is_refused_naming_the_field(client, provider, make_person, db):
    _sign_in(client, make_person("ann").email)
    far = _local(datetime.now(NEW_YORK).date() + timedelta(days=400), 9)
    response = _book_form(client, provider, far)
    assert response.status_code == 422
    assert "90 days ahead" in response.text and 'id="start-error"' in response.text
    assert _stored(db) == 0


def test_someone_new_keeps_the_chosen_time_through_sign_up_and_is_signed_in(client, provider, db):
    start = _local(future_day(), 10, 30)
    # Not signed in: the booking page's form goes on to sign up with the chosen time in `next`.
    go = client.get(f"/doctors/{provider}/book/account", params={"type": "new_patient", "start": start.isoformat(),
                                                                 "account": "new"}, follow_redirects=False)
    assert go.status_code == 303 and go.headers["location"].startswith("/account/sign-up?next=")
    sign_up_page = client.get(go.headers["location"], headers=HTML)
    assert "Create an account to book" in sign_up_page.text
    next_value = re.search(r'name="next" value="([^"]+)"', sign_up_page.text).group(1).replace("&amp;", "&")
    assert quote(start.isoformat(), safe="") in next_value
    sign_in_link = re.search(r'href="(/account/sign-in\?next=[^"]+)"', sign_up_page.text).group(1)
    assert "book" in sign_in_link, "the link to sign in instead carries next too"

    created = client.post("/account/sign-up", headers=HTML, follow_redirects=False, data={
        "email": "newcomer@example.org", "password": "slow walks every morning", "next": next_value,
        "csrf_token": _token(sign_up_page.text)})
    assert created.status_code == 303 and created.headers["location"] == next_value, "signed in, back at the booking"
    assert "fc_session" in created.headers["set-cookie"]
    back = client.get(next_value, headers=HTML)
    assert re.search(rf'value="{re.escape(start.isoformat())}" required checked', back.text)
    assert "My appointments" in back.text, "signed in: the navigation says so"
    booked = client.post(f"/doctors/{provider}/book", headers=HTML, follow_redirects=False, data={
        "start": start.isoformat(), "type": "new_patient", "patient_name": "Nora Newcomer",
        "csrf_token": _token(back.text)})
    assert booked.status_code == 303
    db.expire_all()
    assert db.scalar(select(Appointment.starts_at)) == start.astimezone(UTC), "the slot chosen first is the one booked"


def test_a_time_taken_meanwhile_is_re_offered_after_signing_in(client, provider, make_person, db):
    start = _local(future_day(), 11, 15)
    back = f"/doctors/{provider}/book?type=new_patient&start={quote(start.isoformat(), safe='')}"
    sign_in_page = client.get(f"/account/sign-in?next={quote(back, safe='/')}", headers=HTML)
    assert "Sign in to book" in sign_in_page.text
    assert f'/account/sign-up?next={quote(back, safe="/")}' in sign_in_page.text.replace("&amp;", "&")
    other = make_person("bob")
    service.book(db=db, actor=Actor.of(other.user, "test"), npi=provider, start=start, type_code="new_patient")
    ann = make_person("ann")
    signed_in = _sign_in(client, ann.email, back)
    assert signed_in.headers["location"] == back
    page = client.get(back, headers=HTML).text
    assert "is no longer free" in page and " checked" not in page
    assert 'name="start"' in page, "the nearest open times are offered instead"


def test_a_first_visit_defaults_to_new_patient_and_a_returning_patient_to_follow_up(client, provider, make_person,
                                                                                     db):
    ann = make_person("ann")
    _sign_in(client, ann.email)
    assert re.search(r'<option value="new_patient" selected>', client.get(f"/doctors/{provider}/book").text)
    service.book(db=db, actor=Actor.of(ann.user, "test"), npi=provider, start=_local(future_day(), 9),
                 type_code="new_patient", patient_name="Ann Lee")
    page = client.get(f"/doctors/{provider}/book").text
    assert re.search(r'<option value="follow_up" selected>', page)
    assert 'value="Ann Lee"' in page, "the name given last time is offered again"


def test_booking_form_needs_the_csrf_token_and_confirms_what_happens_next(client, provider, make_person, db):
    _sign_in(client, make_person("ann").email)
    start = _local(future_day(), 9)

    refused = client.post(f"/doctors/{provider}/book", data={"start": start.isoformat(), "type": "new_patient",
                                                             "patient_name": "Ann"}, headers=HTML,
                          follow_redirects=False)
    assert refused.status_code == 403 and _stored(db) == 0

    booked = _book_form(client, provider, start, reason="Leg pain since March")
    assert booked.status_code == 303 and re.fullmatch(r"/appointments/\d+\?booked=1", booked.headers["location"])
    confirmation = client.get(booked.headers["location"], headers=HTML).text
    assert "Request sent" in confirmation and "What happens next" in confirmation
    assert "ann@example.org" in confirmation and "If you have not heard by" in confirmation
    assert "24 hours and 2 hours before" in confirmation
    assert "Waiting for the practice to confirm" in confirmation and "Eastern Time" in confirmation

    mine = client.get("/appointments", headers=HTML).text
    assert '<a href="/appointments" aria-current="page">My appointments</a>' in mine
    appointment_id = db.scalar(select(Appointment.id))
    # Cancelling asks first: the list's button is a link to the question, which changes nothing by itself.
    assert f'href="/appointments/{appointment_id}/cancel"' in mine
    asked = client.get(f"/appointments/{appointment_id}/cancel", headers=HTML)
    assert asked.status_code == 200 and "Cancel this appointment?" in asked.text
    assert f'href="/appointments/{appointment_id}">No, keep it</a>' in asked.text
    db.expire_all()
    assert db.scalar(select(Appointment.status)) == "requested", "asking is not cancelling"
    no_token = client.post(f"/appointments/{appointment_id}/cancel", headers=HTML, follow_redirects=False)
    assert no_token.status_code == 403
    cancelled = client.post(f"/appointments/{appointment_id}/cancel", data={"csrf_token": _token(asked.text)},
                            headers=HTML, follow_redirects=False)
    assert cancelled.status_code == 303
    assert "Cancelled by you" in client.get("/appointments", headers=HTML).text
    again = client.get(f"/appointments/{appointment_id}/cancel", headers=HTML)
    assert "can't be cancelled here" in again.text and "Yes, cancel it" not in again.text


def test_taken_or_invalid_time_is_explained_on_the_booking_page(client, provider, make_person, db):
    _sign_in(client, make_person("ann").email)
    response = _book_form(client, provider, _local(future_day(), 3))
    assert response.status_code == 422
    assert "Please choose one of the times shown." in response.text
    missing_name = _book_form(client, provider, _local(future_day(), 9), patient_name=" ")
    assert missing_name.status_code == 422 and 'id="patient_name-error"' in missing_name.text
    assert _stored(db) == 0


def test_an_overlapping_booking_with_another_provider_names_the_first_one(client, provider, make_person, db,
                                                                          tmp_path):
    bookable_provider(db, tmp_path, OTHER_NPI, postal="10002")
    ann = make_person("ann")
    _sign_in(client, ann.email)
    day = future_day()
    first = _book_form(client, provider, _local(day, 9))
    assert first.status_code == 303
    clash = _book_form(client, OTHER_NPI, _local(day, 9, 20), "follow_up")
    assert clash.status_code == 409
    first_id = db.scalar(select(Appointment.id))
    assert "You already have an appointment at that time." in clash.text
    assert f'href="/appointments/{first_id}"' in clash.text and "Jane Smith" in clash.text
    assert _stored(db) == 1


def test_moving_keeps_the_old_time_until_the_new_one_is_secured(client, provider, make_person, db):
    ann = make_person("ann")
    _sign_in(client, ann.email)
    day = future_day()
    _book_form(client, provider, _local(day, 9))
    appointment_id = db.scalar(select(Appointment.id))
    page = client.get(f"/appointments/{appointment_id}/reschedule", headers=HTML)
    assert page.status_code == 200 and "It stays booked until the new time is yours" in page.text
    bob = make_person("bob")
    service.book(db=db, actor=Actor.of(bob.user, "test"), npi=provider, start=_local(day, 10, 30),
                 type_code="new_patient")

    taken = client.post(f"/appointments/{appointment_id}/reschedule", headers=HTML, follow_redirects=False,
                        data={"start": _local(day, 10, 30).isoformat(), "csrf_token": _token(page.text)})
    assert taken.status_code == 409 and "keeps its time" in taken.text
    db.expire_all()
    assert db.get(Appointment, appointment_id).starts_at == _local(day, 9).astimezone(UTC)

    moved = client.post(f"/appointments/{appointment_id}/reschedule", headers=HTML, follow_redirects=False,
                        data={"start": _local(day, 13, 30).isoformat(), "csrf_token": _token(page.text)})
    assert moved.status_code == 303 and moved.headers["location"] == f"/appointments/{appointment_id}?moved=1"
    db.expire_all()
    assert db.get(Appointment, appointment_id).starts_at == _local(day, 13, 30).astimezone(UTC)
    assert client.get(f"/appointments/{appointment_id}", headers=HTML).status_code == 200
    bobs = db.scalar(select(Appointment.id).where(Appointment.patient_id == bob.id))
    assert client.get(f"/appointments/{bobs}", headers=HTML).status_code == 404, "someone else's is not there"


@pytest.fixture
def booked_requests(db, provider, make_person, saved_assessment):
    """Two requests: Ann shares her symptom check and gives a reason; Bob does neither."""
    ann, bob = make_person("ann"), make_person("bob")
    saved_assessment(ann)
    saved_assessment(bob)
    day = future_day()
    service.book(db=db, actor=Actor.of(ann.user, "test"), npi=provider, start=_local(day, 9), type_code="new_patient",
                 share_latest_assessment=True, patient_name="Ann Lee", reason="Numb left foot since Tuesday")
    service.book(db=db, actor=Actor.of(bob.user, "test"), npi=provider, start=_local(day, 10),
                 type_code="follow_up", patient_name="Bob Ray")
    return day


def test_a_verified_provider_lands_on_a_dashboard_with_requests_first(client, provider, booked_requests, db):
    signed_in = _sign_in(client, f"dr{provider}@example.org")
    assert signed_in.headers["location"] == "/provider"
    page = client.get("/provider", headers=HTML).text
    waiting = page[page.index("Waiting for your decision"):page.index("Today, ")]
    assert waiting.index("Ann Lee") < waiting.index("Bob Ray")
    assert "New-patient consult" in waiting and "Follow-up" in waiting
    assert "Numb left foot since Tuesday" in waiting
    assert waiting.count("Shared symptom check") == 1 and "See your surgeon&#39;s team soon." in waiting
    for link in ("/provider/availability", "/provider/shared", "/provider/schedule"):
        assert f'href="{link}' in page
    account = client.get("/account", headers=HTML).text
    assert "I am a healthcare provider" not in account and 'href="/provider"' in account
    assert '<a href="/provider" aria-current="page">My dashboard</a>' in page

    ann_id = db.scalar(select(Appointment.id).where(Appointment.patient_name == "Ann Lee"))
    refused = client.post(f"/provider/appointments/{ann_id}/confirm", data={"back": "dashboard"}, headers=HTML)
    assert refused.status_code == 403
    confirmed = client.post(f"/provider/appointments/{ann_id}/confirm", headers=HTML, follow_redirects=False,
                            data={"back": "dashboard", "csrf_token": _token(page)})
    assert confirmed.status_code == 303 and confirmed.headers["location"] == "/provider?notice=confirm"
    after = client.get("/provider?notice=confirm", headers=HTML).text
    waiting = after[after.index("Waiting for your decision"):after.index("Today, ")]
    assert "Ann Lee" not in waiting and "Bob Ray" in waiting
    assert "Ann Lee" in after[after.index("Confirmed, the next"):]

    # Cancelling a confirmed visit asks first; asking changes nothing, "No, keep it" goes back to the dashboard.
    assert f'href="/provider/appointments/{ann_id}/cancel?back=dashboard"' in after
    asked = client.get(f"/provider/appointments/{ann_id}/cancel?back=dashboard", headers=HTML)
    assert asked.status_code == 200 and "Cancel this visit?" in asked.text and "Ann Lee is e-mailed" in asked.text
    assert '<a class="button button-secondary" href="/provider">No, keep it</a>' in asked.text
    db.expire_all()
    assert db.scalar(select(Appointment.status).where(Appointment.id == ann_id)) == "confirmed"
    cancelled = client.post(f"/provider/appointments/{ann_id}/cancel", headers=HTML, follow_redirects=False,
                            data={"back": "dashboard", "csrf_token": _token(asked.text)})
    assert cancelled.status_code == 303 and cancelled.headers["location"] == "/provider?notice=cancel"
    db.expire_all()
    assert db.scalar(select(Appointment.status).where(Appointment.id == ann_id)) == "cancelled"
    assert "can't be cancelled here" in client.get(f"/provider/appointments/{ann_id}/cancel", headers=HTML).text


def test_schedule_page_is_only_for_verified_providers_and_names_the_patient(client, provider, make_person,
                                                                           booked_requests):
    _sign_in(client, make_person("cat").email)
    assert client.get("/provider/schedule", headers=HTML).status_code == 404
    assert client.get("/provider", headers=HTML).status_code == 404
    client.cookies.clear()
    _sign_in(client, f"dr{provider}@example.org")
    week = client.get(f"/provider/schedule?view=week&day={booked_requests.isoformat()}", headers=HTML).text
    assert "9:00 – 9:45 am: Ann Lee" in week and "Waiting for your decision" in week


def test_the_cancel_questions_show_only_your_own_appointments(client, provider, booked_requests, make_person, db,
                                                              tmp_path):
    """The two pages that ask before cancelling name the patient and the visit: nobody else may open them."""
    other_npi = with_check_digit("170000077")
    bookable_provider(db, tmp_path, other_npi, postal="10011")
    ann_id = db.scalar(select(Appointment.id).where(Appointment.patient_name == "Ann Lee"))
    bob_id = db.scalar(select(Appointment.id).where(Appointment.patient_name == "Bob Ray"))

    _sign_in(client, make_person("ann"))  # Ann: her own question, never Bob's, never the provider's page
    assert client.get(f"/appointments/{ann_id}/cancel", headers=HTML).status_code == 200
    assert client.get(f"/appointments/{bob_id}/cancel", headers=HTML).status_code == 404
    assert client.get(f"/provider/appointments/{ann_id}/cancel", headers=HTML).status_code == 404
    client.cookies.clear()

    _sign_in(client, f"dr{other_npi}@example.org")  # another verified provider
    for path in (f"/provider/appointments/{ann_id}/cancel", f"/appointments/{ann_id}/cancel"):
        page = client.get(path, headers=HTML)
        assert page.status_code == 404 and "Ann Lee" not in page.text, path
    client.cookies.clear()

    _sign_in(client, f"dr{provider}@example.org")  # the booked provider: Bob's visit is still a request
    asked = client.get(f"/provider/appointments/{bob_id}/cancel", headers=HTML)
    assert asked.status_code == 200 and "can't be cancelled here" in asked.text and "Yes, cancel" not in asked.text
    assert "declined on" in asked.text, "it says what to do instead"
