"""Scheduling pages over TestClient on both databases: CSRF on every form, booking errors shown beside the form."""

from __future__ import annotations

import re
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from fusioncare.scheduling.models import Appointment
from tests.scheduling.builders import future_day


def _sign_in(client, person) -> None:
    page = client.get("/account/sign-in")
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text).group(1)
    response = client.post("/account/sign-in", data={"email": person.email, "password": person.password,
                                                     "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303, response.text


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([0-9a-f]+)"', html).group(1)


def _stored(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Appointment))


def test_profile_page_links_to_booking_and_booking_page_lists_times(client, provider):
    profile = client.get(f"/doctors/{provider}")
    assert f'href="/doctors/{provider}/book"' in profile.text
    page = client.get(f"/doctors/{provider}/book?type=follow_up")
    assert page.status_code == 200
    assert 'type="radio" name="start"' in page.text and "Sign in to book" in page.text


def test_booking_form_needs_the_csrf_token(client, provider, make_person, db):
    _sign_in(client, make_person("ann"))
    start = datetime.combine(future_day(), time(9), tzinfo=ZoneInfo("America/New_York")).isoformat()

    refused = client.post(f"/doctors/{provider}/book", data={"start": start, "type": "new_patient"},
                          headers={"Accept": "text/html"}, follow_redirects=False)
    assert refused.status_code == 403 and _stored(db) == 0

    token = _token(client.get(f"/doctors/{provider}/book").text)
    booked = client.post(f"/doctors/{provider}/book", data={"start": start, "type": "new_patient", "csrf_token": token},
                         follow_redirects=False)
    assert booked.status_code == 303 and booked.headers["location"].startswith("/appointments?booked=")
    mine = client.get("/appointments")
    assert "requested" in mine.text and "Cancel this appointment" in mine.text
    appointment_id = db.scalar(select(Appointment.id))
    no_token = client.post(f"/appointments/{appointment_id}/cancel", headers={"Accept": "text/html"},
                           follow_redirects=False)
    assert no_token.status_code == 403
    cancelled = client.post(f"/appointments/{appointment_id}/cancel", data={"csrf_token": _token(mine.text)},
                            follow_redirects=False)
    assert cancelled.status_code == 303
    assert "cancelled" in client.get("/appointments").text


def test_taken_or_invalid_time_is_explained_on_the_booking_page(client, provider, make_person, db):
    _sign_in(client, make_person("ann"))
    token = _token(client.get(f"/doctors/{provider}/book").text)
    outside = datetime.combine(future_day(), time(3), tzinfo=ZoneInfo("America/New_York")).isoformat()

    response = client.post(f"/doctors/{provider}/book", data={"start": outside, "type": "new_patient",
                                                              "csrf_token": token})

    assert response.status_code == 422
    assert "Please choose one of the times shown." in response.text
    assert _stored(db) == 0


def test_schedule_page_is_only_for_verified_providers(client, provider, make_person):
    _sign_in(client, make_person("ann"))
    assert client.get("/provider/schedule", headers={"Accept": "text/html"}).status_code == 404
