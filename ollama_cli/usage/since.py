"""``--since``: ``7d``, ``12h``, ``2w``, ``today``, ``month`` or a date (``2026-11-01``,
local midnight), as epoch seconds."""

from __future__ import annotations

import re
from datetime import datetime

UNITS = {"h": 3600, "d": 86400, "w": 7 * 86400}
HINT = "use e.g. 7d, 12h, 2w, today, month or a date like 2026-11-01"


def period_start(kind: str, now: float) -> float:
    """Local midnight today (``daily``) or on the 1st of this month (``monthly``)."""
    moment = datetime.fromtimestamp(now)
    start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if kind == "monthly":
        start = start.replace(day=1)
    return start.timestamp()


def parse_since(text: str, now: float) -> float:
    """Raises ValueError (one line, with the accepted forms) for anything else."""
    value = text.strip().lower()
    if value == "today":
        return period_start("daily", now)
    if value == "month":
        return period_start("monthly", now)
    match = re.fullmatch(r"(\d+)\s*([hdw])", value)
    if match:
        return now - int(match.group(1)) * UNITS[match.group(2)]
    try:
        return datetime.strptime(value, "%Y-%m-%d").timestamp()
    except ValueError:
        pass
    raise ValueError(f"--since {text!r} is not a time span or date; {HINT}")
