"""Tolerant getters for vendor JSON, written once for every wire module.

Servers leave fields out, send ``null`` or the wrong type (a count as a string, a list
where an object was documented). An answer is still an answer: a field of the wrong type
reads as absent, never as a crash.
"""

from __future__ import annotations

import re
from typing import Any

_ISO_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ][0-9:.]+)?(?:Z|[+-]\d{2}:?\d{2})?$")


def obj(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def items(value: Any) -> list[Any]:
    """``value`` if it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []


def count(value: Any) -> int:
    """A token count or limit: an integer (never a bool), else 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def text(value: Any) -> str:
    """``value`` if it is a string, else ``""``."""
    return value if isinstance(value, str) else ""


def nonempty(value: Any) -> str | None:
    """``value`` if it is a non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def iso_date(value: Any) -> str | None:
    """The ``YYYY-MM-DD`` of an RFC 3339 timestamp or a plain date, else None."""
    found = _ISO_DATE.match(value.strip()) if isinstance(value, str) else None
    return found.group(1) if found else None
