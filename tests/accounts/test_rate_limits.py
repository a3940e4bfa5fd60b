"""Every password check and every limited request under real concurrency: N parallel attempts through the real
server evaluate exactly the limit, never more, on SQLite and PostgreSQL, in one process and across two."""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from fusioncare.accounts import ratelimit, service
from fusioncare.accounts.models import AuditEvent, RateLimitBucket, RateLimitEvent, User
from fusioncare.errors import RateLimited
from tests.support import LiveServer, ServerProcess, fire_together, sentinel

HTML = {"Accept": "text/html"}


@pytest.fixture
def evaluated(monkeypatch):
    """Counts the password verifications that actually ran; each takes 100 ms, as argon2id's real cost would."""
    calls = {"count": 0}
    lock = threading.Lock()
    real = service.verify_password

    def counting(stored_hash: str, password: str):
        with lock:
            calls["count"] += 1
        time.sleep(0.1)
        return real(stored_hash, password)

    monkeypatch.setattr(service, "verify_password", counting)
    return calls


def _post_all(url: str, path: str, bodies: list[dict], headers: dict | None = None) -> list[int]:
    def attempt(index: int) -> int:
        with httpx.Client(base_url=url, timeout=60) as http:
            return http.post(path, json=bodies[index], headers=headers or {}).status_code

    return fire_together(len(bodies), attempt)


def test_forty_parallel_wrong_passwords_on_one_account_evaluate_exactly_five(live_server, make_person, evaluated):
    ann = make_person("ann")
    guess = sentinel("password")
    statuses = _post_all(live_server.url, "/api/v1/tokens", [{"email": ann.email, "password": guess}] * 40)

    assert evaluated["count"] == 5, "the limit is 5 failures per account per minute, however parallel the guesses"
    assert sorted(statuses) == [401] * 5 + [429] * 35
    right = httpx.post(f"{live_server.url}/api/v1/tokens", json={"email": ann.email, "password": ann.password})
    assert right.status_code == 429, "the right password is refused too once the limit is reached"


def test_thirty_parallel_guesses_spread_over_ten_accounts_evaluate_exactly_the_address_limit(
        live_server, make_person, evaluated):
    people = [make_person(f"p{i}") for i in range(10)]
    bodies = [{"email": people[i % 10].email, "password": sentinel("password")} for i in range(30)]
    statuses = _post_all(live_server.url, "/api/v1/tokens", bodies)

    assert evaluated["count"] == 20, "20 failures per client address per minute, whichever accounts they try"
    assert sorted(statuses) == [401] * 20 + [429] * 10


def test_twenty_failures_on_other_accounts_refuse_a_fresh_account_from_the_same_address(client, make_person):
    """Without the per-address limit this would pass the 6th account's right password: 4 guesses each stay under
    the per-account limit."""
    people = [make_person(f"p{i}") for i in range(6)]
    for person in people[:5]:
        for _ in range(4):
            wrong = client.post("/api/v1/tokens", json={"email": person.email, "password": "guess guess guess"})
            assert wrong.status_code == 401
    fresh = client.post("/api/v1/tokens", json={"email": people[5].email, "password": people[5].password})
    assert fresh.status_code == 429
    assert client.post("/api/v1/tokens", json={"email": people[5].email, "password": people[5].password},
                       headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 429, "a spoofed header is no escape"


def test_parallel_wrong_current_passwords_on_the_api_evaluate_exactly_five(live_server, make_person, bearer,
                                                                           evaluated):
    ann = make_person("ann")
    headers = bearer(ann)
    evaluated["count"] = 0
    body = {"current_password": sentinel("password"), "new_password": "a brand new long password"}
    statuses = _post_all(live_server.url, "/api/v1/me/password", [body] * 12, headers=headers)

    assert evaluated["count"] == 5
    assert sorted(statuses) == [422] * 5 + [429] * 7


def _browser_session(url: str, person) -> tuple[dict[str, str], str]:
    """Cookies of a signed-in browser and a CSRF token valid with them."""
    import re

    with httpx.Client(base_url=url, timeout=30) as http:
        page = http.get("/account/sign-in", headers=HTML)
        token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text).group(1)
        signed = http.post("/account/sign-in", headers=HTML, data={"csrf_token": token, "email": person.email,
                                                                   "password": person.password})
        assert signed.status_code == 303, signed.text
        return dict(http.cookies), token


@pytest.mark.parametrize("path, field", [("/account/password", "current_password"), ("/account/delete", "password")])
def test_parallel_wrong_current_passwords_on_the_pages_evaluate_exactly_five(live_server, make_person, evaluated,
                                                                             path, field, db):
    ann = make_person("ann")
    cookies, token = _browser_session(live_server.url, ann)
    evaluated["count"] = 0

    def attempt(index: int) -> int:
        with httpx.Client(base_url=live_server.url, cookies=cookies, timeout=60) as http:
            data = {"csrf_token": token, field: sentinel("password"), "new_password": "a brand new long password"}
            return http.post(path, headers=HTML, data=data).status_code

    statuses = fire_together(12, attempt)
    assert evaluated["count"] == 5
    assert sorted(statuses) == [400] * 5 + [429] * 7
    db.expire_all()
    assert db.scalar(select(User.id).where(User.id == ann.id)) == ann.id, "nothing was deleted"


def test_every_password_check_shares_one_limit_per_account(client, make_person, bearer):
    ann = make_person("ann")
    headers = bearer(ann)
    for _ in range(3):
        assert client.post("/api/v1/me/password", headers=headers,
                           json={"current_password": "wrong wrong wrong", "new_password": "a new long password"}
                           ).status_code == 422
    for _ in range(2):
        assert client.post("/api/v1/tokens", json={"email": ann.email, "password": "guess guess"}).status_code == 401
    assert client.request("DELETE", "/api/v1/me", headers=headers, json={"password": ann.password}).status_code == 429
    assert client.post("/api/v1/tokens", json={"email": ann.email, "password": ann.password}).status_code == 429


def test_deleting_my_account_through_the_api_needs_my_current_password(client, make_person, bearer):
    ann = make_person("ann")
    headers = bearer(ann)
    missing = client.delete("/api/v1/me", headers=headers)
    wrong = client.request("DELETE", "/api/v1/me", headers=headers, json={"password": "not my password at all"})
    assert missing.status_code == wrong.status_code == 422
    assert wrong.json()["detail"][0]["field"] == "password"
    assert client.get("/api/v1/me", headers=headers).status_code == 200, "still there"
    done = client.request("DELETE", "/api/v1/me", headers=headers, json={"password": ann.password})
    assert done.status_code == 200, done.text


def _audit_count(db, action: str, outcome: str | None = None) -> int:
    query = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    if outcome:
        query = query.where(AuditEvent.outcome == outcome)
    db.expire_all()
    return db.scalar(query)


def test_parallel_sign_ups_for_one_email_evaluate_exactly_three(live_server, db):
    bodies = [{"email": "same@example.org", "password": "a long enough password"}] * 10
    statuses = _post_all(live_server.url, "/api/v1/accounts", bodies)
    assert sorted(statuses) == [201] * 3 + [429] * 7
    assert _audit_count(db, "sign_up") == 3, "one account made, two owner notices, nothing else evaluated"


def test_parallel_reset_requests_evaluate_exactly_the_limits(live_server, make_person, db):
    ann = make_person("ann")
    statuses = _post_all(live_server.url, "/api/v1/password-resets", [{"email": ann.email}] * 10)
    assert sorted(statuses) == [202] * 3 + [429] * 7, "3 per e-mail per hour"
    others = [{"email": f"someone{i}@example.org"} for i in range(12)]
    statuses = _post_all(live_server.url, "/api/v1/password-resets", others)
    assert sorted(statuses) == [202] * 7 + [429] * 5, "10 per client address per hour, 3 used above"
    assert _audit_count(db, "password_reset.request") == 10


def test_forty_parallel_guesses_across_two_server_processes_evaluate_exactly_five(clean_engine, make_person, db):
    """The real `fusioncare serve` with two worker processes and production argon2id: the limit lives in the
    database, so it holds across processes; each evaluated guess leaves one failed sign-in in the audit log."""
    ann = make_person("ann")
    with ServerProcess(clean_engine.url.render_as_string(hide_password=False), workers=2) as server:
        statuses = _post_all(server.url, "/api/v1/tokens",
                             [{"email": ann.email, "password": sentinel("password")}] * 40)
    assert sorted(statuses) == [401] * 5 + [429] * 35
    assert _audit_count(db, "sign_in", "failed") == 5


def _sign_in_on_the_page(http: httpx.Client, email: str, password: str, forwarded_for: str) -> httpx.Response:
    page = http.get("/account/sign-in", headers={**HTML, "X-Forwarded-For": forwarded_for})
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
    assert token, "the sign-in form carries a CSRF token"
    return http.post("/account/sign-in", headers={**HTML, "X-Forwarded-For": forwarded_for}, follow_redirects=False,
                     data={"csrf_token": token.group(1), "email": email, "password": password})


def test_the_sign_in_page_limits_failures_per_client_address_and_only_that_address(settings, clean_engine,
                                                                                     make_person):
    """Behind a trusted proxy: 20 failures from 203.0.113.7 spread over 5 accounts (4 each, under the per-account
    limit of 5) refuse a 6th account's right password from that address, and not from 203.0.113.8."""
    from fusioncare.main import create_app

    app = create_app(settings.model_copy(update={"trusted_proxies": ["127.0.0.1"]}), engine=clean_engine)
    people = [make_person(f"addr{i}") for i in range(6)]
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        for person in people[:5]:
            for _ in range(4):
                wrong = _sign_in_on_the_page(http, person.email, "guess guess guess", "203.0.113.7")
                assert wrong.status_code == 400
        refused = _sign_in_on_the_page(http, people[5].email, people[5].password, "203.0.113.7")
        assert refused.status_code == 429
        assert "Too many wrong passwords. Please wait a minute and try again." in refused.text
        assert "fc_session" not in refused.headers.get("set-cookie", "")
        elsewhere = _sign_in_on_the_page(http, people[5].email, people[5].password, "203.0.113.8")
        assert elsewhere.status_code == 303, "another client address has its own count"


# ---- the counting rule itself, on a clock the test sets (fusioncare/accounts/ratelimit.py) --------------------------

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TWO_PER_MINUTE = ratelimit.Limit("test:two_per_minute", 2, 60, "Two a minute, please.")
THREE_PER_HOUR = ratelimit.Limit("test:three_per_hour", 3, 3600, "Three an hour, please.")


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _refused(db, attempts, seconds: float) -> RateLimited:
    with pytest.raises(RateLimited) as refused:
        ratelimit.reserve(db, attempts=attempts, now=_at(seconds))
    return refused.value


def test_a_limit_refuses_the_attempt_past_it_until_the_oldest_leaves_the_window(db):
    one = [(TWO_PER_MINUTE, "ann@example.org")]
    ratelimit.reserve(db, attempts=one, now=_at(0))
    ratelimit.reserve(db, attempts=one, now=_at(10))

    refused = _refused(db, one, 20)
    assert str(refused) == "Two a minute, please."
    assert 40 <= refused.retry_after_seconds <= 41, "the first attempt leaves the minute 40 s later"
    _refused(db, one, 59.9)

    ratelimit.reserve(db, attempts=one, now=_at(60))  # a minute after the first, it no longer counts
    _refused(db, one, 65)
    later = _refused(db, one, 69)
    assert 1 <= later.retry_after_seconds <= 2, "the second leaves the window at 70 s"
    assert _refused(db, one, 69.5).retry_after_seconds == 1, "half a second to wait: Retry-After counts whole seconds"


def test_a_refused_attempt_counts_under_no_limit(db):
    """Both limits or neither: a reservation refused by one limit leaves the other's count as it was."""
    ratelimit.reserve(db, attempts=[(TWO_PER_MINUTE, "ann@example.org")] * 2, now=_at(0))
    ratelimit.reserve(db, attempts=[(TWO_PER_MINUTE, "ann@example.org")], now=_at(1))
    both = [(THREE_PER_HOUR, "10.0.0.1"), (TWO_PER_MINUTE, "ann@example.org")]

    for second in (2, 3, 4, 5):
        _refused(db, both, second)

    for second in (6, 7, 8):
        ratelimit.reserve(db, attempts=[(THREE_PER_HOUR, "10.0.0.1")], now=_at(second))
    _refused(db, [(THREE_PER_HOUR, "10.0.0.1")], 9)


def test_the_same_attempt_twice_in_one_reservation_counts_once(db):
    ratelimit.reserve(db, attempts=[(TWO_PER_MINUTE, "ann@example.org")] * 2, now=_at(0))
    ratelimit.reserve(db, attempts=[(TWO_PER_MINUTE, "ann@example.org")], now=_at(1))
    _refused(db, [(TWO_PER_MINUTE, "ann@example.org")], 2)


def test_keys_count_together_whatever_their_case_and_spaces_and_apart_from_other_keys_and_limits(db):
    for second, key in enumerate(["Ann@Example.org", " ann@example.org "]):
        ratelimit.reserve(db, attempts=[(TWO_PER_MINUTE, key)], now=_at(second))
    _refused(db, [(TWO_PER_MINUTE, "ANN@EXAMPLE.ORG")], 2)

    ratelimit.reserve(db, attempts=[(TWO_PER_MINUTE, "bob@example.org")], now=_at(3))
    ratelimit.reserve(db, attempts=[(THREE_PER_HOUR, "ann@example.org")], now=_at(4))


def test_addresses_that_differ_in_more_than_case_are_counted_apart(db):
    """straße@ and strasse@ are two mailboxes: only an upper-casing key ("STRASSE" for both) would merge them."""
    for second in (0, 1):
        ratelimit.reserve(db, attempts=[(TWO_PER_MINUTE, "straße@example.org")], now=_at(second))
    ratelimit.reserve(db, attempts=[(TWO_PER_MINUTE, "strasse@example.org")], now=_at(2))
    _refused(db, [(TWO_PER_MINUTE, "STRAßE@example.org")], 3)


def test_buckets_hold_a_digest_of_the_key_never_the_e_mail_or_address(db):
    ratelimit.reserve(db, attempts=[(TWO_PER_MINUTE, "ann@example.org"), (THREE_PER_HOUR, "203.0.113.7")],
                      now=_at(0))

    stored = list(db.scalars(select(RateLimitEvent.bucket))) + list(db.scalars(select(RateLimitBucket.bucket)))
    assert len(stored) == 4
    assert not any("ann" in b or "example" in b or "203.0.113" in b for b in stored), stored
    assert {b.rsplit(":", 1)[0] for b in stored} == {"test:two_per_minute", "test:three_per_hour"}


def test_a_released_attempt_no_longer_counts(db):
    one = [(TWO_PER_MINUTE, "ann@example.org")]
    ratelimit.reserve(db, attempts=one, now=_at(0))
    given_back = ratelimit.reserve(db, attempts=one, now=_at(1))
    assert len(given_back) == 1

    ratelimit.release(db, event_ids=given_back)

    ratelimit.reserve(db, attempts=one, now=_at(2))
    _refused(db, one, 3)


def test_events_and_buckets_older_than_the_longest_window_are_purged_and_newer_ones_kept(db):
    """The longest window of the app's own limits is an hour (sign-up and reset): anything older counts for no
    limit and is dropped by the next reservation."""
    ratelimit.reserve(db, attempts=[(TWO_PER_MINUTE, "old@example.org")], now=_at(0))
    ratelimit.reserve(db, attempts=[(TWO_PER_MINUTE, "recent@example.org")], now=_at(1800))

    ratelimit.reserve(db, attempts=[(TWO_PER_MINUTE, "now@example.org")], now=_at(3600))

    db.expire_all()
    assert sorted(db.scalars(select(RateLimitEvent.created_at))) == [_at(1800), _at(3600)]
    assert len(db.scalars(select(RateLimitBucket.bucket)).all()) == 2

    ratelimit.reserve(db, attempts=[(TWO_PER_MINUTE, "now@example.org")], now=_at(3601 + 1800))
    db.expire_all()
    assert sorted(db.scalars(select(RateLimitEvent.created_at))) == [_at(3600), _at(5401)]
