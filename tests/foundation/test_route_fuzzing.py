"""Property-based fuzzing of every route's path parameters, query parameters, form fields and JSON body: extreme
dates, Unicode digits, NUL bytes, very long strings, huge numbers and deep JSON never get a 5xx, on SQLite and
PostgreSQL. Routes and their parameters are discovered from the app (tests/route_catalog.py); the values carry the
log sentinel, so anything an error logs about them fails the run too.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from fusioncare.accounts import service as accounts
from fusioncare.accounts.csrf import CSRF_COOKIE, _sign
from fusioncare.accounts.deps import SESSION_COOKIE
from fusioncare.accounts.models import Role, TokenKind
from tests.route_catalog import all_routes, fields_for, forms_on, values_on
from tests.support import SENTINEL

EXAMPLES_PER_ROUTE = int(os.environ.get("FUSIONCARE_FUZZ_EXAMPLES", "20"))  # more: search harder

# Each class of input that once reached code unprepared for it, plus a few classics.
HOSTILE_TEXT = [
    "0001-01-01", "9999-12-31", "1899-12-31", "2201-01-01", "2026-02-30",
    "0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59",
    "¹", "①", "٣", "²", "１２", "9" * 5000, "-1", "0", "2147483648", "1e309", "nan",
    f"{SENTINEL}nul\x00byte", "\x00", "x" * 20_000, "", " ", "%00", "../../etc/passwd", "<script>alert(1)</script>",
    "{}", "'; DROP TABLE users; --", f"{SENTINEL}text", "é" * 300, "\u202e\u200b\ufeff",
]


def _soon(days: int) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(days=days)).replace(microsecond=0).isoformat()


# Sensible values by parameter name, so an attack on one field meets sane values in the others.
GOOD_BY_NAME = {
    "from": [_soon(1)], "to": [_soon(8)], "start": [_soon(10)], "end": [_soon(11)], "date": [str(dt.date.today())],
    "day": [str(dt.date.today())], "since": ["2026-01-01"], "until": [str(dt.date.today())],
    "baseline_from": ["2026-01-01"], "near": ["10001"], "specialty": ["orthopedic_spine", "pain_medicine"],
    "leg_pain": ["5"], "back_pain": ["3"], "type": ["telehealth", "new_patient"], "instrument": ["peg", "odi"],
    "kind": ["time_off", "extra_hours"], "radius_miles": ["25"], "limit": ["5"], "sort": ["distance", "name"],
    "format": ["json", "csv"], "view": ["day", "week"], "email": ["someone@example.org"],
}


JSON_SCALARS = st.one_of(
    st.sampled_from(HOSTILE_TEXT), st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([10**400, -(10**400), 1e308, -1e308, 0.1, 2**31, 2**63, True, False, None]),
    st.text(max_size=40),
)
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                                 st.dictionaries(st.text(max_size=8), inner,
                                                                                 max_size=3)), max_leaves=8)


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


@dataclass
class World:
    """Records to aim at, and who asks: a patient with a diary, an appointment and a share; the verified
    provider they booked and share with; an admin."""

    clients: dict[str, TestClient]
    csrf: dict[str, str]
    known: dict[str, list[str]]
    forms: list
    form_values: dict[str, set[str]]


@pytest.fixture(scope="module")
def world(db_engine, tmp_path_factory):
    from argon2 import PasswordHasher

    from fusioncare.accounts import passwords
    from fusioncare.db import make_session_factory
    from fusioncare.directory.npi import with_check_digit
    from fusioncare.main import create_app
    from fusioncare.settings import Settings
    from tests.conftest import wipe
    from tests.scheduling.builders import bookable_provider, future_day

    previous_hasher = passwords.use_hasher(PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1))
    wipe(db_engine)
    tmp = tmp_path_factory.mktemp("fuzz")
    settings = Settings(env="test", database_url=db_engine.url.render_as_string(hide_password=False), data_dir=tmp,
                        secret_key="fuzz-secret-key-" + "f" * 32)
    app = create_app(settings, engine=db_engine)

    class Silent:  # the console notifier logs e-mails by design (development); the fuzzer's must not
        def send(self, *, to, subject, body):
            pass

    app.state.notifier = Silent()
    db = make_session_factory(db_engine)()
    npi = with_check_digit("170000058")
    bookable_provider(db, tmp, npi)
    doctor = accounts.get_user_by_email(db, email=f"dr{npi}@example.org")
    patient = accounts.ensure_account(db, email="fuzz-patient@example.org", password="sciatic nerve recovers slowly",
                                      role=Role.patient)
    admin = accounts.ensure_account(db, email="fuzz-admin@example.org", password="sciatic nerve recovers slowly",
                                    role=Role.admin)
    clients, csrf = {}, {}
    leaver = accounts.ensure_account(db, email="fuzz-leaver@example.org", password="sciatic nerve recovers slowly",
                                     role=Role.patient)
    for name, user in (("patient", patient), ("provider", doctor), ("admin", admin), ("leaver", leaver)):
        session = accounts.issue_token(db, user=user, kind=TokenKind.session, lifetime=timedelta(hours=2)).secret
        bearer = accounts.issue_token(db, user=user, kind=TokenKind.bearer, lifetime=timedelta(hours=2)).secret
        client = TestClient(app, raise_server_exceptions=False, follow_redirects=False)
        client.__enter__()
        client.cookies.set(SESSION_COOKIE, session)
        client.cookies.set(CSRF_COOKIE, "fuzz-csrf-cookie-" + name + "-0123456789")
        client.headers["Authorization"] = f"Bearer {bearer}"
        clients[name], csrf[name] = client, _sign(app.state.signing_key, client.cookies.get(CSRF_COOKIE))
    api = clients["patient"]
    day = dt.date.today() - dt.timedelta(days=1)
    entry = api.post("/api/v1/diary/entries", json={"date": day.isoformat(), "leg_pain": 5, "back_pain": 3}).json()
    odi = api.post("/api/v1/questionnaires", json={"instrument": "odi", "answers": [2] * 10}).json()
    start = dt.datetime.combine(future_day(), dt.time(15), tzinfo=dt.UTC).isoformat()
    booked = api.post("/api/v1/appointments", json={"npi": npi, "start": start, "type": "telehealth"}).json()
    shared = api.post("/api/v1/recovery/shares", json={"npi": npi}).json()
    saved = api.post("/api/v1/assessments?save=true", json={
        "months_since_surgery": 4, "leg_pain": 6, "back_pain": 3, "trend": "improving", "symptoms": []}).json()
    exception = clients["provider"].post("/api/v1/me/availability/exceptions", json={
        "kind": "time_off", "start": start, "end": start.replace("T15", "T16")}).json()
    known = {"npi": [npi], "entry_id": [entry["id"]], "response_id": [odi["id"]], "appointment_id": [str(booked["id"])],
             "share_id": [shared["id"]], "assessment_id": [saved["id"]], "exception_id": [str(exception["id"])],
             "user_id": [str(doctor.id)], "slug": ["sciatica-after-fusion"], "decision": ["confirm", "decline"]}
    forms, pages = [], []
    for client in clients.values():
        for page in ("/", "/assess", "/doctors", "/account", "/account/password", "/account/provider",
                     "/account/sign-up", "/account/sign-in", "/account/reset", "/recovery", "/recovery/today",
                     "/recovery/questionnaires", "/recovery/plan", "/recovery/sharing", "/appointments",
                     "/provider/schedule", "/provider/availability", "/admin/providers", "/admin/audit",
                     f"/doctors/{npi}/book"):
            response = client.get(page, headers={"Accept": "text/html"})
            if response.status_code == 200:
                forms += forms_on(response.text, page)
                pages.append(response.text)
    db.close()
    yield World(clients=clients, csrf=csrf, known=known, forms=[(m, a, set(f)) for m, a, f in forms],
                form_values=_values_on_pages(pages))
    for client in clients.values():
        client.__exit__(None, None, None)
    wipe(db_engine)
    passwords.use_hasher(previous_hasher)


def _values_on_pages(pages: list[str]) -> dict[str, set[str]]:
    """name -> the values our own pages offer for it (options, checkboxes, prefilled inputs)."""
    found: dict[str, set[str]] = {}
    for html in pages:
        for name, values in values_on(html).items():
            found.setdefault(name, set()).update(values)
    found.pop("csrf_token", None)
    return found


def _who(route) -> str:
    path = route.path
    if (route.method, path) in (("DELETE", "/api/v1/me"), ("POST", "/account/delete")):
        return "leaver"  # should the fuzzer ever delete an account, it is not the one the other routes use
    if "/admin" in path:
        return "admin"
    if path.startswith(("/provider", "/api/v1/provider", "/api/v1/me/availability", "/api/v1/me/schedule")) or \
            re.search(r"/appointments/\{appointment_id\}/\{decision\}", path):
        return "provider"
    return "patient"


def _good(data, name: str, world: World) -> str | None:
    """A sane value for this name most of the time (so the attacked field is what the code meets), else arbitrary
    text or nothing (None)."""
    good = world.known.get(name, []) + GOOD_BY_NAME.get(name, []) + sorted(world.form_values.get(name, ()))
    roll = data.draw(st.integers(0, 9), label=f"{name}: kind")
    if roll < 8 and good:
        return data.draw(st.sampled_from(good), label=name)
    if roll < 9:
        return data.draw(st.one_of(st.text(max_size=30), st.dates(min_value=dt.date(1, 1, 1)).map(str)), label=name)
    return None


def _json_good(value: str | None):
    return int(value) if value is not None and value.isascii() and value.isdigit() else value


# Signing the fuzzing browser out (they take no input) would only blind the routes after them.
ROUTES = [r for r in all_routes() if r.path not in ("/api/v1/tokens/current", "/account/sign-out")]


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.id)
def test_no_input_gets_a_5xx(route, world):
    who = _who(route)
    client = world.clients[who]
    form_names = set(route.form_params) | (fields_for(route, world.forms) if not route.is_api else set())
    query_names = set(route.query_params) | (fields_for(route, world.forms)
                                             if route.method == "GET" and not route.is_api else set())

    # No shrinking: a failure is reported with the example that found it, in seconds rather than minutes.
    @settings(max_examples=EXAMPLES_PER_ROUTE, deadline=None, database=None, report_multiple_bugs=False,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(data=st.data())
    def check(data):
        # One field per example gets the attack; the others get sane values, so the attack reaches the code.
        slots = ([("path", n) for n in route.path_params] + [("query", n) for n in sorted(query_names)]
                 + [("json", n) for n in (route.json_fields or ())] + [("body", "")] * (route.json_fields is not None)
                 + [("form", n) for n in sorted(form_names)])
        target = data.draw(st.sampled_from(slots), label="attacked") if slots else None
        everywhere = data.draw(st.sampled_from([None] * 4 + HOSTILE_TEXT[:9]), label="same attack everywhere")

        def value(kind: str, name: str) -> str | None:
            if everywhere is not None:  # e.g. both ends of a range at year 1
                return everywhere
            if (kind, name) == target:
                return data.draw(st.sampled_from(HOSTILE_TEXT), label=f"attack on {name}")
            return _good(data, name, world)

        path = route.path
        for name in route.path_params:
            chosen = value("path", name)
            path = path.replace("{" + name + "}", quote(chosen if chosen is not None else "1", safe=""))
        query = {n: v for n in sorted(query_names) if (v := value("query", n)) is not None}
        kwargs: dict = {"params": query, "headers": {"Accept": data.draw(st.sampled_from(
            ["text/html", "application/json"]), label="accept")}}
        if route.json_fields is not None:
            if target == ("body", ""):
                deep = data.draw(st.booleans(), label="deep")
                kwargs["content"] = (_deep(data.draw(st.sampled_from([100, 5000, 100_000]), label="depth")) if deep
                                     else json.dumps(data.draw(JSON_VALUES, label="body")))
            else:
                body = {}
                for name in route.json_fields:
                    if ("json", name) == target:
                        body[name] = data.draw(JSON_VALUES, label=f"attack on {name}")
                    elif (good := _json_good(_good(data, name, world))) is not None:
                        body[name] = good
                kwargs["content"] = json.dumps(body)
            kwargs["headers"]["Content-Type"] = "application/json"
        elif route.method in ("POST", "PUT", "PATCH", "DELETE") and not route.is_api:
            form = {n: v for n in sorted(form_names) if (v := value("form", n)) is not None}
            kwargs["data"] = {**form, "csrf_token": world.csrf[who]}
        response = client.request(route.method, path, **kwargs)
        assert response.status_code < 500, (route.id, path, response.status_code)

    check()


@pytest.mark.parametrize("route", [r for r in ROUTES if r.path_params], ids=lambda r: r.id)
def test_a_nul_in_any_path_parameter_is_not_a_5xx(route, world):
    """The fuzzer above draws a NUL only now and then; PostgreSQL refuses NUL in text (a DataError, so a 500 if it
    reaches a query or the audit log), so every path parameter of every route gets one, every run."""
    who = _who(route)
    for attacked in route.path_params:
        path = route.path
        for name in route.path_params:
            chosen = "\x00" if name == attacked else world.known.get(name, ["1"])[0]
            path = path.replace("{" + name + "}", quote(chosen, safe=""))
        kwargs: dict = {"headers": {"Accept": "text/html"}}
        if route.json_fields is not None:
            kwargs["content"], kwargs["headers"]["Content-Type"] = "{}", "application/json"
        elif route.method in ("POST", "PUT", "PATCH", "DELETE") and not route.is_api:
            kwargs["data"] = {"csrf_token": world.csrf[who]}
        response = world.clients[who].request(route.method, path, **kwargs)
        assert response.status_code < 500, (route.id, attacked, response.status_code)
