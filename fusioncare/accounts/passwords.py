"""Password policy (length, common-password list, zxcvbn strength) and argon2id hashing with rehash on parameter
change."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 10
# zxcvbn's score: 0 too guessable ... 4 very unguessable; 3 is "safely unguessable: moderate protection from an
# offline slow-hash scenario" (argon2id is such a hash).
MIN_ZXCVBN_SCORE = 3
ZXCVBN_MAX_LENGTH = 72  # zxcvbn refuses longer input; the first 72 characters are what it judges
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


def _meaningful(password: str) -> str:
    """The password as it reads: NFKC-normalised (a no-break space is a space, 'Ａ' is 'A'), with invisible format
    and control characters (zero-width spaces, byte-order marks) left out."""
    return "".join(c for c in unicodedata.normalize("NFKC", password) if unicodedata.category(c) not in ("Cf", "Cc"))


def password_problem(password: str, *, email: str | None = None) -> str | None:
    """Why this password is not acceptable, in plain words; None when it is fine."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"must be at most {MAX_PASSWORD_LENGTH} characters long"
    meaningful = _meaningful(password)
    if not meaningful.strip():
        return "must contain letters, digits or symbols, not only spaces or invisible characters"
    if len(meaningful) < MIN_PASSWORD_LENGTH:
        return f"must be at least {MIN_PASSWORD_LENGTH} characters long"
    lowered = meaningful.lower()
    if lowered in _common_passwords():
        return "is one of the most common passwords; please choose something less guessable"
    if email and lowered == email.lower():
        return "must not be your e-mail address"
    if _strength(meaningful[:ZXCVBN_MAX_LENGTH], email or "") < MIN_ZXCVBN_SCORE:
        return ("is too easy to guess (repeated or sequential characters, a keyboard pattern, or common words); "
                "a few unrelated words make a strong password")
    return None


@lru_cache(maxsize=256)
def _strength(password: str, email: str) -> int:
    from zxcvbn import zxcvbn

    hints = [email, email.split("@")[0], "fusioncare", "sciatica"] if email else ["fusioncare", "sciatica"]
    return int(zxcvbn(password, user_inputs=hints)["score"])


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
