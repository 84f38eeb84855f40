"""The store's connection (opened on first use) and the multi-statement writes it is built on.

Every write is one ``BEGIN IMMEDIATE`` transaction committed before returning: taking
the write lock up front makes a second process wait for it (busy timeout) instead of
failing halfway through a read-then-write, and a committed row survives ``kill -9``.
Every ``sqlite3`` error leaves here as a one-line ``HistoryError`` naming the file.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from ollama_cli.history.records import (
    HistoryError,
    SupportsToDict,
    default_title,
)
from ollama_cli.history.schema import BUSY_TIMEOUT_S, open_database

Attempts = Iterable[Mapping[str, Any] | SupportsToDict]
T = TypeVar("T")


class Database:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._inode: tuple[int, int] | None = None

    def connection(self) -> sqlite3.Connection:
        """The open connection; reopened (creating the file again) if the database was
        deleted or replaced since, so a REPL's later turns do not vanish with the old file."""
        if self._conn is not None and self._file_changed():
            self.close()
        if self._conn is None:
            self._conn = open_database(self.path)
            self._inode = _inode(self.path)
        return self._conn

    def _file_changed(self) -> bool:
        return _inode(self.path) != self._inode

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @contextmanager
    def busy_timeout(self, seconds: float | None) -> Iterator[None]:
        """Wait ``seconds`` (None: the usual ``BUSY_TIMEOUT_S``) for the write lock inside."""
        if seconds is None:
            yield
            return
        conn = self.connection()
        conn.execute(f"PRAGMA busy_timeout = {int(seconds * 1000):d}")
        try:
            yield
        finally:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000):d}")

    def failure(self, exc: sqlite3.Error) -> HistoryError:
        return HistoryError(f"history database {self.path}: {exc}")

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        conn = self.connection()
        try:
            return conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise self.failure(exc) from None

    def read(self, reader: Callable[[sqlite3.Connection], T]) -> T:
        """Run a multi-query read; its sqlite3 errors become one ``HistoryError`` line."""
        conn = self.connection()
        try:
            return reader(conn)
        except sqlite3.Error as exc:
            raise self.failure(exc) from None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One committed write. ``IntegrityError`` passes through for callers that retry."""
        conn = self.connection()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self.failure(exc) from None
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error) and not isinstance(exc, sqlite3.IntegrityError):
                raise self.failure(exc) from None
            raise


def _inode(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


def insert_message(
    conn: sqlite3.Connection, cid: str, role: str, text: str, meta: Mapping[str, Any]
) -> int:
    """Append a message (``meta``: further columns) and update the conversation's counters."""
    row = conn.execute("SELECT message_count FROM conversations WHERE id = ?", (cid,)).fetchone()
    if row is None:
        raise HistoryError(f"no conversation {cid!r}")
    columns = {
        "conversation_id": cid,
        "seq": row["message_count"],  # only ever incremented, so never reused
        "created": time.time(),
        "role": role,
        "text": text,
        **meta,
    }
    cur = conn.execute(
        f"INSERT INTO messages ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
        tuple(columns.values()),
    )
    title = default_title(text) if role == "user" else None
    touch_conversation(
        conn, cid, columns["created"], 1, title, meta.get("provider"), meta.get("model")
    )
    assert cur.lastrowid is not None
    return cur.lastrowid


def touch_conversation(
    conn: sqlite3.Connection,
    cid: str,
    now: float,
    added: int,
    title: str | None,
    provider: str | None,
    model: str | None,
) -> None:
    """Keep the denormalised listing columns in step with the messages (same transaction)."""
    conn.execute(
        """UPDATE conversations SET
            message_count = message_count + :added,
            updated = :now,
            title = coalesce(title, :title),
            last_provider = CASE WHEN :provider IS NULL THEN last_provider ELSE :provider END,
            last_model = CASE WHEN :provider IS NULL THEN last_model ELSE :model END
        WHERE id = :id""",
        {
            "id": cid,
            "now": now,
            "added": added,
            "title": title,
            "provider": provider,
            "model": model,
        },
    )


def answer_conversation(conn: sqlite3.Connection, message_id: int) -> str:
    """The conversation of a stored answer; a wrong id is a ``HistoryError``."""
    row = conn.execute(
        "SELECT conversation_id FROM messages WHERE id = ? AND role = 'assistant'",
        (message_id,),
    ).fetchone()
    if row is None:
        raise HistoryError(f"no stored answer {message_id}")
    return str(row["conversation_id"])
