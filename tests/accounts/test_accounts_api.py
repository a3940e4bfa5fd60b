"""The accounts JSON API: sign-up, tokens, brute force, revocation, password change and reset, export, delete."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from fusioncare.accounts.models import AccessToken, AuditEvent, PasswordResetToken, User, utcnow
from fusioncare.triage.models import SavedAssessment

GOOD_PASSWORD = "walking helps my leg pain"


def _reset_link_token(caplog) -> str:
    tokens = re.findall(r"/account/reset/confirm\?token=([A-Za-z0-9_-]+)", caplog.text)
    assert tokens, "the console notifier should have logged a reset link"
    return tokens[-1]


def test_sign_up_creates_a_patient_who_can_get_a_bearer_token(client):
    created = client.post("/api/v1/accounts", json={"email": " New@Example.org ", "password": GOOD_PASSWORD})
    assert created.status_code == 201, created.text
    assert created.json()["email"] == "new@example.org"

    token = client.post("/api/v1/tokens", json={"email": "new@example.org", "password": GOOD_PASSWORD})
    assert token.status_code == 200, token.text
    body = token.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 24 * 3600 and len(body["access_token"]) >= 40

    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["role"] == "patient" and me.json()["email"] == "new@example.org"


def test_sign_up_for_an_existing_email_answers_the_same_and_notifies_the_owner(client, make_person, caplog):
    make_person("ann")
    fresh = client.post("/api/v1/accounts", json={"email": "fresh@example.org", "password": GOOD_PASSWORD})
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="fusioncare.notifications"):
        again = client.post("/api/v1/accounts", json={"email": "ann@example.org", "password": GOOD_PASSWORD})
    assert again.status_code == fresh.status_code == 201
    assert again.json()["message"] == fresh.json()["message"]
    assert set(again.json()) == set(fresh.json())
    assert "Someone tried to sign up with your e-mail" in caplog.text
    # The existing account's password is untouched.
    attempt = client.post("/api/v1/tokens", json={"email": "ann@example.org", "password": GOOD_PASSWORD})
    assert attempt.status_code == 401


def test_sign_up_refuses_short_and_common_passwords_naming_the_field(client, db):
    short = client.post("/api/v1/accounts", json={"email": "a@example.org", "password": "tooshort"})
    common = client.post("/api/v1/accounts", json={"email": "b@example.org", "password": "1234567890"})
    bad_email = client.post("/api/v1/accounts", json={"email": "not-an-email", "password": GOOD_PASSWORD})
    assert short.status_code == common.status_code == bad_email.status_code == 422
    assert short.json()["detail"][0]["field"] == "password" and "at least 10" in short.json()["message"]
    assert "common" in common.json()["message"]
    assert bad_email.json()["detail"][0]["field"] == "email"
    assert db.scalars(select(User)).all() == [], "nothing half-written is stored"


def test_stored_passwords_are_argon2id_hashes(client, db):
    client.post("/api/v1/accounts", json={"email": "c@example.org", "password": GOOD_PASSWORD})
    stored = db.scalar(select(User.password_hash))
    assert stored.startswith("$argon2id$") and GOOD_PASSWORD not in stored


def test_wrong_password_and_unknown_account_get_the_same_401(client, make_person):
    ann = make_person("ann")
    wrong = client.post("/api/v1/tokens", json={"email": ann.email, "password": "not the password at all"})
    unknown = client.post("/api/v1/tokens", json={"email": "nobody@example.org", "password": "not the password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_sixth_wrong_password_within_a_minute_is_refused_even_when_the_sixth_is_right(client, make_person):
    ann = make_person("ann")
    for _ in range(5):
        wrong = client.post("/api/v1/tokens", json={"email": ann.email, "password": "guess guess guess"})
        assert wrong.status_code == 401
    refused = client.post("/api/v1/tokens", json={"email": ann.email, "password": ann.password})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) <= 61
    assert "ann" not in refused.text and "exist" not in refused.text.lower()


def test_brute_force_on_an_unknown_account_is_refused_with_the_same_message(client, make_person):
    ann = make_person("ann")
    answers = {}
    for email in (ann.email, "ghost@example.org"):
        for _ in range(5):
            client.post("/api/v1/tokens", json={"email": email, "password": "guess guess guess"})
        answers[email] = client.post("/api/v1/tokens", json={"email": email, "password": "guess guess guess"})
    assert [a.status_code for a in answers.values()] == [429, 429]
    assert answers[ann.email].json() == answers["ghost@example.org"].json()


def test_failed_sign_ins_older_than_a_minute_no_longer_count(client, make_person, db):
    from fusioncare.accounts.models import RateLimitEvent

    ann = make_person("ann")
    for _ in range(5):
        client.post("/api/v1/tokens", json={"email": ann.email, "password": "guess guess guess"})
    db.execute(update(RateLimitEvent).values(created_at=utcnow() - timedelta(seconds=61)))
    db.commit()
    assert client.post("/api/v1/tokens", json={"email": ann.email, "password": ann.password}).status_code == 200


def test_revoked_bearer_token_stops_working(client, make_person, bearer):
    headers = bearer(make_person("ann"))
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.delete("/api/v1/tokens/current", headers=headers).status_code == 204
    after = client.get("/api/v1/me", headers=headers)
    assert after.status_code == 401
    assert after.headers["WWW-Authenticate"] == "Bearer"


def test_revoking_one_token_leaves_the_others_working(client, make_person, bearer):
    ann = make_person("ann")
    phone, laptop = bearer(ann), bearer(ann)
    client.delete("/api/v1/tokens/current", headers=phone)
    assert client.get("/api/v1/me", headers=laptop).status_code == 200


def test_expired_bearer_token_is_refused(client, make_person, bearer, db):
    headers = bearer(make_person("ann"))
    db.execute(update(AccessToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_tokens_are_stored_hashed(client, make_person, bearer, db):
    headers = bearer(make_person("ann"))
    secret = headers["Authorization"].removeprefix("Bearer ")
    stored = db.scalar(select(AccessToken.token_hash))
    assert secret not in stored and len(stored) == 64


def test_a_bearer_token_is_256_random_bits_and_the_database_holds_only_its_sha256(client, make_person, bearer, db):
    """fusioncare/accounts/tokens.py promises 256 random bits, URL-safe, and only their SHA-256 stored."""
    import base64
    import hashlib

    ann = make_person("ann")
    secrets_issued = [bearer(ann)["Authorization"].removeprefix("Bearer ") for _ in range(3)]

    for secret in secrets_issued:
        assert re.fullmatch(r"[A-Za-z0-9_-]+", secret), secret
        assert len(base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))) == 32, "256 bits, no more, no less"
    assert len(set(secrets_issued)) == 3
    stored = set(db.scalars(select(AccessToken.token_hash)))
    assert stored == {hashlib.sha256(secret.encode()).hexdigest() for secret in secrets_issued}


def test_password_change_revokes_every_token_and_the_new_password_works(client, make_person, bearer):
    ann = make_person("ann")
    headers, other = bearer(ann), bearer(ann)
    changed = client.post("/api/v1/me/password", headers=headers,
                          json={"current_password": ann.password, "new_password": GOOD_PASSWORD})
    assert changed.status_code == 204, changed.text
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert client.get("/api/v1/me", headers=other).status_code == 401
    assert client.post("/api/v1/tokens", json={"email": ann.email, "password": GOOD_PASSWORD}).status_code == 200


def test_password_change_with_a_wrong_current_password_changes_nothing(client, make_person, bearer):
    ann = make_person("ann")
    headers = bearer(ann)
    refused = client.post("/api/v1/me/password", headers=headers,
                          json={"current_password": "wrong wrong wrong", "new_password": GOOD_PASSWORD})
    assert refused.status_code == 422 and refused.json()["detail"][0]["field"] == "current_password"
    assert client.get("/api/v1/me", headers=headers).status_code == 200


def test_reset_token_works_once(client, make_person, bearer, caplog):
    ann = make_person("ann")
    old_headers = bearer(ann)
    with caplog.at_level(logging.INFO, logger="fusioncare.notifications"):
        asked = client.post("/api/v1/password-resets", json={"email": ann.email})
    assert asked.status_code == 202
    token = _reset_link_token(caplog)
    first = client.post("/api/v1/password-resets/confirm", json={"token": token, "new_password": GOOD_PASSWORD})
    second = client.post("/api/v1/password-resets/confirm", json={"token": token, "new_password": "another good one"})
    assert first.status_code == 204, first.text
    assert second.status_code == 400 and second.json()["code"] == "invalid_reset_token"
    assert client.get("/api/v1/me", headers=old_headers).status_code == 401, "a reset signs every device out"
    assert client.post("/api/v1/tokens", json={"email": ann.email, "password": GOOD_PASSWORD}).status_code == 200


def test_expired_reset_token_is_refused(client, make_person, db, caplog):
    ann = make_person("ann")
    with caplog.at_level(logging.INFO, logger="fusioncare.notifications"):
        client.post("/api/v1/password-resets", json={"email": ann.email})
    token = _reset_link_token(caplog)
    db.execute(update(PasswordResetToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.commit()
    refused = client.post("/api/v1/password-resets/confirm", json={"token": token, "new_password": GOOD_PASSWORD})
    assert refused.status_code == 400
    assert client.post("/api/v1/tokens", json={"email": ann.email, "password": ann.password}).status_code == 200


def test_reset_for_an_unknown_email_answers_the_same_and_sends_nothing(client, make_person, caplog):
    ann = make_person("ann")
    with caplog.at_level(logging.INFO, logger="fusioncare.notifications"):
        known = client.post("/api/v1/password-resets", json={"email": ann.email})
        caplog.clear()
        unknown = client.post("/api/v1/password-resets", json={"email": "ghost@example.org"})
    assert known.status_code == unknown.status_code == 202 and known.json() == unknown.json()
    sent = [r.getMessage() for r in caplog.records if r.name == "fusioncare.notifications"]
    assert not any("reset" in message.lower() for message in sent)


def test_export_holds_the_account_and_saved_assessments(client, make_person, bearer, saved_assessment):
    ann = make_person("ann")
    assessment_id = saved_assessment(ann)
    saved_assessment(make_person("bob"))
    export = client.get("/api/v1/me/export", headers=bearer(ann))
    assert export.status_code == 200
    body = export.json()
    assert body["account"]["email"] == ann.email
    assert [a["id"] for a in body["data"]["saved_assessments"]] == [assessment_id]
    assert body["data"]["saved_assessments"][0]["request"]["leg_pain"] == 6
    assert {"sign_in.bearer", "saved_assessment.create"} <= {a["action"] for a in body["account_activity"]}


def test_delete_me_erases_health_data_and_leaves_a_tombstone_without_it(client, make_person, bearer,
                                                                          saved_assessment, db):
    ann, bob = make_person("ann"), make_person("bob")
    saved_assessment(ann)
    saved_assessment(ann)
    bobs = saved_assessment(bob)
    headers = bearer(ann)
    deleted = client.request("DELETE", "/api/v1/me", headers=headers, json={"password": ann.password})
    assert deleted.status_code == 200, deleted.text
    erased = deleted.json()["erased_records"]  # every registered domain reports a count; ann owned only these
    assert erased["saved_assessments"] == 2 and sum(erased.values()) == 2

    assert db.scalars(select(SavedAssessment.id)).all() == [bobs]
    assert db.scalar(select(User.id).where(User.id == ann.id)) is None
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert client.post("/api/v1/tokens", json={"email": ann.email, "password": ann.password}).status_code == 401
    tombstone = db.scalar(select(AuditEvent).where(AuditEvent.action == "account.delete"))
    assert tombstone.actor_user_id == ann.id and tombstone.record_id == str(ann.id)
    everything = " ".join(f"{e.action} {e.record_type} {e.detail}" for e in db.scalars(select(AuditEvent)))
    assert "leg_pain" not in everything and "numbness" not in everything and ann.email not in everything


def test_endpoints_needing_a_user_answer_401_without_one(client):
    for method, path in [("GET", "/api/v1/me"), ("GET", "/api/v1/me/export"), ("DELETE", "/api/v1/me"),
                         ("DELETE", "/api/v1/tokens/current"), ("GET", "/api/v1/assessments")]:
        response = client.request(method, path)
        assert response.status_code == 401, (method, path)
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer made-up"}).status_code == 401


def test_provider_claim_waits_for_admin_verification(client, make_person, bearer):
    doc = make_person("doc")
    doc_headers = bearer(doc)
    claimed = client.post("/api/v1/me/provider-claim", headers=doc_headers, json={"npi": "1234567893"})
    assert claimed.status_code == 200 and claimed.json()["role"] == "provider"
    assert claimed.json()["provider_verified"] is False
    bad = client.post("/api/v1/me/provider-claim", headers=doc_headers, json={"npi": "1234567890"})
    assert bad.status_code == 422 and "check digit" in bad.json()["message"]

    from fusioncare.accounts.models import Role

    admin_headers = bearer(make_person("boss", role=Role.admin))
    waiting = client.get("/api/v1/admin/providers", headers=admin_headers)
    assert [p["id"] for p in waiting.json()] == [doc.id]
    verified = client.post(f"/api/v1/admin/providers/{doc.id}/verify", headers=admin_headers)
    assert verified.status_code == 200 and verified.json()["provider_verified"] is True
    assert client.get("/api/v1/admin/providers", headers=admin_headers).json() == []


def test_admin_endpoints_are_not_found_for_patients(client, make_person, bearer):
    headers = bearer(make_person("ann"))
    assert client.get("/api/v1/admin/audit", headers=headers).status_code == 404
    assert client.get("/api/v1/admin/providers", headers=headers).status_code == 404


def test_failed_sign_ins_are_counted_across_app_processes(app, settings, clean_engine, make_person, db):
    """Two app instances share only the database, as separate processes would: the limit holds across them."""
    from fastapi.testclient import TestClient

    from fusioncare.main import create_app

    ann = make_person("ann")
    other_process = create_app(settings, engine=clean_engine)
    with TestClient(app) as first, TestClient(other_process) as second:
        for client in (first, second, first, second, first):
            client.post("/api/v1/tokens", json={"email": ann.email, "password": "guess guess guess"})
        assert second.post("/api/v1/tokens", json={"email": ann.email, "password": ann.password}).status_code == 429
    from sqlalchemy import func

    from fusioncare.accounts.models import RateLimitEvent

    counted = db.scalar(select(func.count()).select_from(RateLimitEvent)
                        .where(RateLimitEvent.bucket.like("sign_in_failures:account:%")))
    assert counted == 5, "the failures live in the database, where every process sees them"


def test_rate_limit_events_older_than_the_longest_window_are_purged(client, db):
    from fusioncare.accounts.models import RateLimitEvent

    client.post("/api/v1/tokens", json={"email": "ghost@example.org", "password": "guess guess guess"})
    db.execute(update(RateLimitEvent).values(created_at=utcnow() - timedelta(hours=2)))
    db.commit()
    client.post("/api/v1/tokens", json={"email": "other@example.org", "password": "guess guess guess"})
    remaining = db.scalars(select(RateLimitEvent.created_at)).all()
    assert len(remaining) == 2 and all(utcnow() - t < timedelta(minutes=1) for t in remaining)


def test_a_nul_byte_in_an_email_is_a_422_naming_the_field_on_every_way_in(client):
    for path, body in (("/api/v1/accounts", {"email": "a\x00b@example.org", "password": GOOD_PASSWORD}),
                       ("/api/v1/tokens", {"email": "a\x00b@example.org", "password": GOOD_PASSWORD}),
                       ("/api/v1/password-resets", {"email": "a\x00b@example.org"}),
                       ("/api/v1/tokens", {"email": "ann@example.org", "password": "a long\x00password"})):
        response = client.post(path, json=body)
        assert response.status_code == 422, (path, response.status_code, response.text)
        assert response.json()["detail"][0]["field"] in ("email", "password")


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00", "9999-12-31T23:59:59", "9999-12-31T23:59:59-23:59",
                                    "0001-01-01T00:00:00+23:59"])
def test_audit_filters_with_extreme_dates_are_a_422_naming_the_field(client, make_person, bearer, moment):
    from fusioncare.accounts.models import Role

    admin = bearer(make_person("boss", role=Role.admin))
    for field in ("since", "until"):
        response = client.get("/api/v1/admin/audit", headers=admin, params={field: moment})
        assert response.status_code == 422, (field, response.status_code)
        assert response.json()["detail"][0]["field"] == field


def test_the_audit_page_ignores_filter_dates_it_cannot_use(client, make_person, bearer):
    from fusioncare.accounts.models import Role

    admin = {**bearer(make_person("boss", role=Role.admin)), "Accept": "text/html"}
    for params in ({"until": "9999-12-31"}, {"since": "0001-01-01"}, {"actor_user_id": "¹"},
                   {"actor_user_id": "9" * 12}):
        assert client.get("/admin/audit", headers=admin, params=params).status_code == 200, params
