"""The one query behind ``ollama-cli usage`` and the budgets: stored answers summed per
provider and model (and local day), read from the ``messages_usage`` covering index.

An answer whose token counts are unknown (NULL: the provider did not report them) is
counted as a turn and in ``unknown`` but adds nothing to the sums, so a sum is never a
guess. ``known_*`` sums cover only answers whose input and output are both known: those
are the ones a cost can be computed for.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ollama_cli.history.database import Database


@dataclass(frozen=True)
class UsageRow:
    provider: str | None
    model: str | None
    day: str | None  # local date "YYYY-MM-DD" when grouped by day
    turns: int
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int
    unknown: int  # answers without (complete) token counts
    known_input: int
    known_output: int
    known_cached: int


_KNOWN = "input_tokens IS NOT NULL AND output_tokens IS NOT NULL"

USAGE_SQL = f"""
SELECT provider, model, {{bucket}} AS bucket,
    count(*) AS turns,
    coalesce(sum(input_tokens), 0) AS input_tokens,
    coalesce(sum(output_tokens), 0) AS output_tokens,
    coalesce(sum(cached_input_tokens), 0) AS cached_input_tokens,
    sum(NOT ({_KNOWN})) AS unknown,
    coalesce(sum(CASE WHEN {_KNOWN} THEN input_tokens END), 0) AS known_input,
    coalesce(sum(CASE WHEN {_KNOWN} THEN output_tokens END), 0) AS known_output,
    coalesce(sum(CASE WHEN {_KNOWN} THEN cached_input_tokens END), 0) AS known_cached
FROM messages INDEXED BY messages_usage
WHERE role = 'assistant' AND created >= ?
GROUP BY provider, model{{group_bucket}}
"""

#: Grouping by day groups by quarter-hour in SQL (integer arithmetic, no per-row
#: ``localtime`` call) and names each quarter's local day here: every time zone's offset
#: is a multiple of 15 minutes, so a quarter-hour never straddles a local midnight.
QUARTER_HOUR = 900


def usage_sql(by_day: bool) -> str:
    bucket = f"CAST(created / {QUARTER_HOUR} AS INTEGER)" if by_day else "NULL"
    return USAGE_SQL.format(bucket=bucket, group_bucket=", bucket" if by_day else "")


def usage_rows(db: Database, since: float | None, *, by_day: bool) -> list[UsageRow]:
    rows = db.query(usage_sql(by_day), (since if since is not None else float("-inf"),))
    merged: dict[tuple[str | None, str | None, str | None], list[int]] = {}
    for row in rows:
        day = _local_day(row["bucket"]) if by_day else None
        sums = [row[k] for k in _SUMS]
        key = (row["provider"], row["model"], day)
        if key in merged:
            merged[key] = [a + b for a, b in zip(merged[key], sums, strict=True)]
        else:
            merged[key] = sums
    return [
        UsageRow(provider, model, day, *sums)
        for (provider, model, day), sums in sorted(merged.items(), key=_order)
    ]


_SUMS = (
    "turns",
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "unknown",
    "known_input",
    "known_output",
    "known_cached",
)


def _local_day(bucket: int) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(bucket * QUARTER_HOUR))


def _order(item: tuple[tuple[str | None, str | None, str | None], list[int]]) -> tuple[str, ...]:
    provider, model, day = item[0]
    return (day or "", provider or "", model or "")
