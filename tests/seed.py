"""A large history file, fast: N turns written with ``executemany`` into a database the
real store created (so it has the real schema and migrations).

Shared by the ``usage`` tests and ``bench/usage_report.py``. The turns cycle through
``MIX`` so the expected sums are known in closed form (``expected``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ollama_cli.history import HistoryStore


@dataclass(frozen=True)
class Kind:
    provider: str
    model: str
    input_tokens: int | None
    output_tokens: int | None


#: One of each per cycle: a priced model, a free local one without token counts, an
#: unpriced gateway model, and a free self-hosted one.
MIX = (
    Kind("claude", "claude-sonnet-4-5-20250929", 1000, 500),
    Kind("local", "SmolLM2-135M-Instruct", None, None),
    Kind("gateway", "mystery-model", 200, 100),
    Kind("ollama", "llama3.2", 300, 150),
)


def seed_history(
    path: Path,
    turns: int,
    *,
    start: float,
    step: float = 1.0,
    conversations: int = 1000,
) -> None:
    """Write ``turns`` user/assistant pairs, the n-th answered at ``start + n * step``."""
    with HistoryStore(path) as store:
        store.open()  # creates and migrates
    conn = sqlite3.connect(path)
    try:
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO conversations (id, created, updated, message_count) VALUES (?, ?, ?, ?)",
            [(f"c{c:07d}", start, start, 0) for c in range(conversations)],
        )
        conn.executemany(
            "INSERT INTO messages (conversation_id, seq, created, role, text, provider, model,"
            " input_tokens, output_tokens, finish_reason)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            _rows(turns, start, step, conversations),
        )
        conn.execute("COMMIT")
    finally:
        conn.close()


def _rows(turns: int, start: float, step: float, conversations: int) -> Iterator[tuple[Any, ...]]:
    for n in range(turns):
        kind = MIX[n % len(MIX)]
        cid = f"c{n % conversations:07d}"
        seq = 2 * (n // conversations)
        when = start + n * step
        yield (cid, seq, when, "user", f"question {n}", None, None, None, None, None)
        yield (
            cid,
            seq + 1,
            when,
            "assistant",
            f"answer {n}",
            kind.provider,
            kind.model,
            kind.input_tokens,
            kind.output_tokens,
            "stop",
        )


def expected(turns: int) -> dict[str, int]:
    """Answers per provider among the first ``turns`` turns."""
    counts = {k.provider: 0 for k in MIX}
    for n in range(turns):
        counts[MIX[n % len(MIX)].provider] += 1
    return counts
