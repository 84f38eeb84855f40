"""The recovery journal: turns the database could not take, kept beside it until it can.

When a write fails (another process held the lock past the busy timeout, the disk is
full, the file is read-only or damaged), the rest of the turn is appended here as one
JSON line (``history.sqlite3.recovery.jsonl``, 0600). The next run that opens the store
replays the journal, each turn in one transaction, so a replayed turn is all there or not
at all, and a conversation that so far exists only here keeps its id.

Appends and replays hold an advisory lock on the journal; a replay rewrites the file in
place with whatever it could not apply (the file is never unlinked, so an append waiting
for the lock cannot land in a deleted file).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from ollama_cli.history.database import insert_message, touch_conversation
from ollama_cli.history.records import HistoryError, encode_attempts
from ollama_cli.private import open_private

VERSION = 1
#: Columns an assistant message may carry in the journal, as the store names them.
ANSWER_FIELDS = (
    "provider",
    "model",
    "input_tokens",
    "output_tokens",
    "latency_ms",
    "finish_reason",
    "interrupted",
)


def journal_path(database: Path) -> Path:
    return database.with_name(database.name + ".recovery.jsonl")


class RecoveryJournal:
    """The journal file; ``redact`` is applied to every line written (it is a state file)."""

    def __init__(self, path: Path, redact: Callable[[str], str] = str) -> None:
        self.path = path
        self.redact = redact

    def pending(self) -> bool:
        try:
            return self.path.stat().st_size > 0
        except OSError:
            return False

    def append(self, entry: Mapping[str, Any]) -> None:
        """Add one turn, durably (fsync). Raises OSError (e.g. the disk is full); a
        half-written line is cut off again so the journal stays readable."""
        text = json.dumps({"v": VERSION, **entry}, ensure_ascii=False, default=str)
        line = (self.redact(text) + "\n").encode()
        fd = open_private(self.path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            try:
                os.write(fd, line)
                os.fsync(fd)
            except OSError:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, size)
                raise
        finally:
            os.close(fd)

    def replay(self, conn_for: Any) -> tuple[int, int]:
        """Apply every turn it can through ``conn_for()`` (a transaction context).

        Returns (turns added, unreadable lines dropped). Stops at the first turn the
        database refuses (still locked, still full): it and the rest stay for next time.
        """
        added = dropped = 0
        with self._locked() as fh:
            lines = fh.read().decode("utf-8", "replace").splitlines()
            rest: list[str] = []
            for i, line in enumerate(lines):
                try:
                    entry = json.loads(line)
                    if not isinstance(entry, dict) or entry.get("v") != VERSION:
                        raise ValueError(line)
                except ValueError:
                    dropped += 1
                    continue
                try:
                    with conn_for() as conn:
                        apply_entry(conn, entry)
                except HistoryError:
                    rest = lines[i:]
                    break
                except (sqlite3.Error, KeyError, TypeError, ValueError):
                    dropped += 1  # a turn that can never apply (its line was damaged)
                    continue
                added += 1
            fh.seek(0)
            fh.truncate()
            fh.write("".join(f"{line}\n" for line in rest).encode())
            fh.flush()
            os.fsync(fh.fileno())
        return added, dropped

    @contextlib.contextmanager
    def _locked(self) -> Iterator[IO[bytes]]:
        fd = open_private(self.path, os.O_RDWR | os.O_CREAT)
        with os.fdopen(fd, "r+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            yield fh


def apply_entry(conn: Any, entry: Mapping[str, Any]) -> None:
    """Store one journaled turn (inside the caller's transaction)."""
    cid = str(entry["conversation_id"])
    exists = conn.execute("SELECT 1 FROM conversations WHERE id = ?", (cid,)).fetchone()
    if exists is None:
        now = float(entry.get("created") or time.time())
        conn.execute(
            "INSERT INTO conversations (id, created, updated, system_prompt) VALUES (?, ?, ?, ?)",
            (cid, now, now, entry.get("system")),
        )
    for message in entry.get("messages", []):
        _apply_message(conn, cid, message)


def _apply_message(conn: Any, cid: str, message: Mapping[str, Any]) -> None:
    meta = {k: message.get(k) for k in ANSWER_FIELDS if k in message}
    meta["interrupted"] = int(bool(meta.get("interrupted")))
    meta["attempts_json"] = encode_attempts(message.get("attempts"))
    text = str(message.get("text", ""))
    answer_id = message.get("answer_id")
    if message.get("role") == "assistant" and answer_id is not None:
        row = conn.execute(
            "SELECT 1 FROM messages WHERE id = ? AND conversation_id = ? AND role = 'assistant'",
            (answer_id, cid),
        ).fetchone()
        if row is not None:  # the streamed row began in the database: finish it there
            sets = ", ".join(f"{k} = ?" for k in meta)
            conn.execute(
                f"UPDATE messages SET text = ?, {sets} WHERE id = ?",
                (text, *meta.values(), answer_id),
            )
            provider, model = meta.get("provider"), meta.get("model")
            touch_conversation(conn, cid, time.time(), 0, None, provider, model)
            return
    role = message.get("role")
    if role not in ("user", "assistant"):
        return
    insert_message(conn, cid, str(role), text, meta)
