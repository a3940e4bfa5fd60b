"""Password policy and argon2id hashing, including rehash when the parameters change."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from fusioncare.accounts import passwords
from fusioncare.accounts.models import User


def test_policy_wants_ten_characters_and_no_common_password():
    assert "at least 10" in passwords.password_problem("short one")
    assert "common" in passwords.password_problem("qwertyuiop")
    assert "common" in passwords.password_problem("Password123"), "the check ignores case"
    assert "e-mail" in passwords.password_problem("me@example.org", email="ME@example.org")
    assert "at most" in passwords.password_problem("x" * 257)
    assert passwords.password_problem("slow nerves heal slowly") is None


def test_common_password_list_is_the_shipped_zxcvbn_list():
    common = passwords._common_passwords()
    assert len(common) >= 25_000
    assert {"password", "123456", "iloveyou"} <= common


def test_production_hasher_is_argon2id_with_rfc9106_parameters():
    stored = passwords.DEFAULT_HASHER.hash("slow nerves heal slowly")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_hash_from_old_parameters_is_replaced_at_the_next_sign_in(client, make_person, db):
    ann = make_person("ann")  # hashed with the suite's cheap parameters
    old_hash = ann.user.password_hash
    stronger = PasswordHasher(time_cost=2, memory_cost=16 * 1024, parallelism=1)
    previous = passwords.use_hasher(stronger)
    try:
        assert client.post("/api/v1/tokens", json={"email": ann.email, "password": ann.password}).status_code == 200
    finally:
        passwords.use_hasher(previous)
    db.expire_all()
    new_hash = db.scalar(select(User.password_hash).where(User.id == ann.id))
    assert new_hash != old_hash and "m=16384,t=2,p=1" in new_hash
    assert passwords.verify_password(new_hash, ann.password)[0]


@pytest.mark.parametrize("password", ["aaaaaaaaaa", "1111111111", "abcdefghij", " " * 10, "\u200b" * 10,
                                      "\u200b" * 5 + " " * 5, "\ufeff\u00a0" * 6, "aaaaaaaaaa" * 20])
def test_trivial_passwords_are_refused_in_plain_words(password):
    problem = passwords.password_problem(password)
    assert problem is not None, repr(password)
    assert "zxcvbn" not in problem and "score" not in problem, "plain words, not the tool's vocabulary"


def test_strong_passphrases_still_pass():
    for password in ("sciatic nerve recovers slowly", "walking helps my leg pain", "slow nerves heal slowly"):
        assert passwords.password_problem(password) is None, password


def test_sign_up_refuses_a_trivial_password_naming_the_field(client):
    for password in ("abcdefghij", "\u200b" * 10):
        response = client.post("/api/v1/accounts", json={"email": "new@example.org", "password": password})
        assert response.status_code == 422, repr(password)
        assert response.json()["detail"][0]["field"] == "password"
