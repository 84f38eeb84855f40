"""Closest names: the one "did you mean" rule, for commands, flags, slash commands, providers
and models alike (so every typo is answered the same way).

Standard library only: ``cli.py`` uses it on the ``--help`` path.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

#: How alike two names must be (difflib's ratio) to be offered as "did you mean".
CUTOFF = 0.6


def closest(
    word: str, names: Iterable[str], n: int = 3, cutoff: float = CUTOFF, *, prefix: bool = True
) -> list[str]:
    """Up to ``n`` of ``names`` nearest to ``word``, best first (case-insensitive).

    With ``prefix``, a name that starts with ``word`` (``hist`` → ``history``) counts as
    near, whatever difflib thinks of the length difference.
    """
    by_lower: dict[str, str] = {}
    for name in names:
        by_lower.setdefault(name.lower(), name)
    key = word.lower()
    prefixed = [by_lower[k] for k in by_lower if prefix and key and k.startswith(key) and k != key]
    near = difflib.get_close_matches(key, list(by_lower), n=n, cutoff=cutoff)
    found = [*prefixed, *(by_lower[k] for k in near)]
    return list(dict.fromkeys(found))[:n]


def did_you_mean(word: str, names: Iterable[str], n: int = 3) -> str:
    """``"; did you mean history?"`` (or ``a, b or c?``), or ``""`` when nothing is near."""
    found = closest(word, names, n)
    if not found:
        return ""
    if len(found) == 1:
        return f"; did you mean {found[0]}?"
    return f"; did you mean {', '.join(found[:-1])} or {found[-1]}?"
