"""The password policy rule by rule with its exact words, and hashing's answers, written from the policy's
documentation (README's security model, fusioncare/accounts/passwords.py docstrings); zxcvbn's scores of the
sample passwords were read off zxcvbn 4.5.0 by hand."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from fusioncare.accounts import passwords
from fusioncare.accounts.passwords import burn_verification_time, hash_password, password_problem, verify_password

WEAK = ("is too easy to guess (repeated or sequential characters, a keyboard pattern, or common words); "
        "a few unrelated words make a strong password")
LONG_AND_STRONG = ("plinth marmalade quiver obelisk saffron tundra " * 6)[:256]


@pytest.mark.parametrize(("password", "email", "problem"), [
    (LONG_AND_STRONG, None, None),  # 256 characters: the most allowed
    (LONG_AND_STRONG + "x", None, "must be at most 256 characters long"),
    ("\u200b" * 12, None, "must contain letters, digits or symbols, not only spaces or invisible characters"),
    ("         \t ", None, "must contain letters, digits or symbols, not only spaces or invisible characters"),
    ("maple\u200bbark", None, "must be at least 10 characters long"),  # the zero-width space (Cf) does not count
    ("maple\x07bark", None, "must be at least 10 characters long"),  # nor does a control character (Cc)
    ("qwertyuiop", None, "is one of the most common passwords; please choose something less guessable"),
    ("QWERTYUIOP", None, "is one of the most common passwords; please choose something less guessable"),
    ("trombone.violet@x.org", "Trombone.Violet@x.org", "must not be your e-mail address"),
    ("aaaaaaaaaaaa", None, WEAK),  # zxcvbn 0
    ("walnut cable", None, None),  # zxcvbn 3: exactly enough
    ("walnutcable7", None, None),  # zxcvbn 3 ...
    ("walnutcable7", "walnutcable@x.org", WEAK),  # ... but 1 once it knows the e-mail address
    ("ｍａｐｌｅ ｒｉｖｅｒ ｓｔｏｎｅ", None, None),  # full-width letters read as "maple river stone" (zxcvbn 4)
])
def test_each_rule_of_the_policy_in_its_own_words(password, email, problem):
    assert password_problem(password, email=email) == problem


def test_a_hash_verifies_its_password_only_and_old_parameters_are_rehashed():
    stored = hash_password("maple river stone")
    assert verify_password(stored, "maple river stone") == (True, None)
    assert verify_password(stored, "maple river stones") == (False, None)
    assert verify_password("not an argon2 hash", "maple river stone") == (False, None)

    old = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=2).hash("maple river stone")
    matches, new_hash = verify_password(old, "maple river stone")
    assert matches is True and new_hash is not None and new_hash != old
    assert verify_password(new_hash, "maple river stone") == (True, None), "the new hash has today's parameters"


def test_burning_verification_time_never_fails_whatever_the_password():
    for password in ("", "maple river stone", "x" * 256, "\u200b"):
        assert burn_verification_time(password) is None
    assert passwords._dummy_hash(passwords._hasher).startswith("$argon2id$")


@pytest.mark.parametrize("password", ["SRoBANxXXx", "H3aVeDXxxX"])
def test_without_an_e_mail_a_password_is_judged_with_no_stand_in_for_one(password):
    """Without an e-mail, zxcvbn gets only the site's own words as hints. These passwords (10 characters, found by
    a search for ones at the edge of zxcvbn score 3) are accepted; any stand-in e-mail hint such as "XXXX" would
    make their xXXx part a known word and refuse them."""
    assert password_problem(password) is None
    assert password_problem(password, email="ann@example.org") is None
