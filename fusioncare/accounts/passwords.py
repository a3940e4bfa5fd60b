"""Password policy (length, common-password list) and argon2id hashing with rehash on parameter change."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 10
# Long enough for any passphrase, short enough that hashing it cannot be used to burn CPU.
MAX_PASSWORD_LENGTH = 256

# argon2-cffi's defaults are RFC 9106's low-memory recommendation for argon2id (t=3, m=64 MiB, p=4).
# Changing them makes every stored hash rehash on its owner's next successful sign-in.
DEFAULT_HASHER = PasswordHasher()
_hasher = DEFAULT_HASHER


def use_hasher(hasher: PasswordHasher) -> PasswordHasher:
    """Switch the parameters new hashes use (returns the previous hasher); the test suite uses cheaper ones."""
    global _hasher
    previous, _hasher = _hasher, hasher
    return previous


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords from zxcvbn's frequency lists (shipped in the pinned package)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


def password_problem(password: str, *, email: str | None = None) -> str | None:
    """Why this password is not acceptable, in plain words; None when it is fine."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"must be at least {MIN_PASSWORD_LENGTH} characters long"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"must be at most {MAX_PASSWORD_LENGTH} characters long"
    lowered = password.lower()
    if lowered in _common_passwords():
        return "is one of the most common passwords; please choose something less guessable"
    if email and lowered == email.lower():
        return "must not be your e-mail address"
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> tuple[bool, str | None]:
    """(matches, new_hash): new_hash is set when the stored hash used old parameters and should be replaced."""
    try:
        _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False, None
    if _hasher.check_needs_rehash(stored_hash):
        return True, _hasher.hash(password)
    return True, None


def burn_verification_time(password: str) -> None:
    """Spend what a real verification costs, so response time does not reveal whether an account exists."""
    try:
        _hasher.verify(_dummy_hash(_hasher), password)
    except (VerificationError, InvalidHashError):
        pass


@lru_cache(maxsize=4)
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash("not-a-real-password-only-for-timing")
