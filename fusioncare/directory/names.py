"""Name normalisation and forgiving name matching (case, accents, token order, small typos, prefixes)."""

from __future__ import annotations

import re
import unicodedata

from rapidfuzz.distance import OSA

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def normalise(text: str) -> str:
    """'José  O'Brien-Smith' -> 'jose o brien smith': accents folded, lower-case ASCII tokens."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return " ".join(_NON_ALNUM.sub(" ", folded).split())


# Lower-case inside a name: only words that are never a person's name or initial ("A" may be an initial).
_JOINING_WORDS = frozenset({"of", "and", "the", "for"})


def display_case(text: str) -> str:
    """The registry files names in capitals; show 'MARY O'BRIEN' as 'Mary O'Brien' but keep mixed case as filed."""
    if not text or not text.isupper():
        return text
    words = []
    for position, word in enumerate(text.split(" ")):
        if position and word.lower() in _JOINING_WORDS:  # "University of Michigan", "Pain and Spine Center"
            words.append(word.lower())
            continue
        parts = word.split("'")
        words.append("'".join(p[:1].upper() + p[1:].lower() for p in parts))
    return " ".join(w.replace("-", "- ").title().replace("- ", "-") if "-" in w else w for w in words)


def allowed_typos(token: str) -> int:
    if len(token) <= 2:
        return 0
    return 1 if len(token) <= 6 else 2


def compile_query(q: str) -> list[str]:
    return normalise(q).split()


def matches(query_tokens: list[str], name_search: str) -> bool:
    """Every query token matches some name token: equal, a prefix (3+ letters), or within a small edit distance
    (optimal string alignment, so a swapped pair of letters is one typo)."""
    if not query_tokens:
        return True
    name_tokens = name_search.split()
    for q in query_tokens:
        limit = allowed_typos(q)
        if not any(
            t == q
            or (len(q) >= 3 and t.startswith(q))
            or (limit and OSA.distance(q, t, score_cutoff=limit) <= limit)
            for t in name_tokens
        ):
            return False
    return True
