"""Opening the history database: file checks, connection pragmas and schema migrations.

The database file belongs to the user. One that is not a SQLite file, is damaged, is
unreadable or was written by a newer ollama-cli is reported — never recreated, never
written to: every check that can fail runs before the first write (switching to WAL
and migrating are the first writes).

The "quick check" before writing is the 16-byte header plus a read of the schema, not
``PRAGMA quick_check``: that one reads every page, so its cost grows with the history
and would be paid on every start. Damage deeper in the file surfaces as a
``HistoryError`` from the query that meets it.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from ollama_cli.history.records import HistoryError
from ollama_cli.private import private_dir, touch_private

SQLITE_MAGIC = b"SQLite format 3\x00"

#: How long a writer waits for another process's write lock before giving up.
BUSY_TIMEOUT_S = 5.0

NO_HISTORY = "run with --no-history"
MOVE_ASIDE = f"move it aside or {NO_HISTORY}"

#: Migration N (1-based) brings a database from ``user_version`` N-1 to N. Append only:
#: a released migration is never edited. Statements run one by one inside one
#: transaction (``executescript`` would commit half-way).
MIGRATIONS: list[tuple[str, ...]] = [
    (
        """CREATE TABLE conversations (
            id            TEXT PRIMARY KEY,
            created       REAL NOT NULL,
            updated       REAL NOT NULL,
            title         TEXT,
            system_prompt TEXT,
            -- denormalised so that listing never counts or scans messages
            message_count INTEGER NOT NULL DEFAULT 0,
            last_provider TEXT,
            last_model    TEXT
        )""",
        "CREATE INDEX conversations_by_updated ON conversations (updated DESC)",
        """CREATE TABLE messages (
            id              INTEGER PRIMARY KEY,
            conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
            seq             INTEGER NOT NULL,
            created         REAL NOT NULL,
            role            TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
            text            TEXT NOT NULL,
            provider        TEXT,
            model           TEXT,
            input_tokens    INTEGER,
            output_tokens   INTEGER,
            latency_ms      INTEGER,
            finish_reason   TEXT,
            interrupted     INTEGER NOT NULL DEFAULT 0,
            attempts_json   TEXT,
            UNIQUE (conversation_id, seq)
        )""",
    ),
    (
        # Images and PDFs, once per distinct content however many messages attach them.
        """CREATE TABLE attachments (
            sha256     TEXT PRIMARY KEY,
            media_type TEXT NOT NULL,
            size       INTEGER NOT NULL,
            data       BLOB NOT NULL
        )""",
        """CREATE TABLE message_attachments (
            message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
            position   INTEGER NOT NULL,
            name       TEXT NOT NULL,
            sha256     TEXT NOT NULL REFERENCES attachments (sha256),
            PRIMARY KEY (message_id, position)
        )""",
        "CREATE INDEX message_attachments_by_sha256 ON message_attachments (sha256)",
    ),
    # 3: usage and cost (``ollama-cli usage``). Token counts a provider did not report
    # are NULL (unknown), never 0: earlier versions stored 0 for them, so a stored answer
    # with text and 0 tokens is turned into NULL here. The partial covering index makes
    # the usage query (assistant rows since a date, grouped by provider and model) read
    # the index alone, never the messages' text (``role`` is in it so that SQLite sees it
    # covers the query). Provider and model lead, so grouping needs no sort: the whole
    # history is one index scan (~25 ms for 100k answers), a short ``--since`` no slower.
    (
        "ALTER TABLE messages ADD COLUMN cached_input_tokens INTEGER",
        """UPDATE messages SET input_tokens = NULL
            WHERE role = 'assistant' AND input_tokens = 0 AND text != ''""",
        """UPDATE messages SET output_tokens = NULL
            WHERE role = 'assistant' AND output_tokens = 0 AND text != ''""",
        """CREATE INDEX messages_usage ON messages
            (provider, model, created, input_tokens, output_tokens, cached_input_tokens, role)
            WHERE role = 'assistant'""",
    ),
    # 4: the role (``-r NAME``) a conversation was held in.
    ("ALTER TABLE conversations ADD COLUMN role TEXT",),
    # 5: an answer's reasoning (thinking), kept apart from its text.
    ("ALTER TABLE messages ADD COLUMN reasoning TEXT",),
]


def open_database(
    path: Path, migrations: list[tuple[str, ...]] | None = None
) -> sqlite3.Connection:
    """Open (creating if absent) and migrate the database at ``path``.

    Raises:
        HistoryError: one line naming the file, when it cannot be used.
    """
    migrations = MIGRATIONS if migrations is None else migrations
    existed = _check_file(path)
    if not existed:
        _make_parent(path)
    try:
        # SQLite gives the -wal and -shm files the database's mode: 0600 for all three.
        touch_private(path)
    except OSError as exc:
        raise HistoryError(
            f"cannot create history database {path} ({exc.strerror or exc}); {NO_HISTORY}"
        ) from None
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    except sqlite3.Error as exc:
        raise HistoryError(f"cannot open history database {path} ({exc}); {NO_HISTORY}") from exc
    try:
        _prepare(conn, path, migrations)
    except BaseException:
        conn.close()
        raise
    conn.row_factory = sqlite3.Row
    return conn


def _unreadable(path: Path, reason: str) -> HistoryError:
    return HistoryError(f"history database {path} is unreadable ({reason}); {MOVE_ASIDE}")


def _check_file(path: Path) -> bool:
    """Refuse a path that is not a SQLite file we may write. Returns whether it exists."""
    try:
        with path.open("rb") as f:
            header = f.read(len(SQLITE_MAGIC))
    except (FileNotFoundError, NotADirectoryError):
        return False  # a parent that is not a directory is reported when creating it
    except IsADirectoryError:
        raise _unreadable(path, "it is a directory") from None
    except PermissionError:
        raise _unreadable(path, "permission denied") from None
    except OSError as exc:
        raise _unreadable(path, exc.strerror or str(exc)) from None
    # SQLite treats an empty file as an empty database; anything else must be one.
    if header and header != SQLITE_MAGIC:
        raise _unreadable(path, "file is not a database")
    if not os.access(path, os.W_OK):
        raise HistoryError(f"history database {path} is read-only; {NO_HISTORY}")
    # WAL mode keeps -wal and -shm files beside the database, so the directory must be
    # writable even to read it.
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise HistoryError(f"history database {path} is in a read-only directory; {NO_HISTORY}")
    return True


def _make_parent(path: Path) -> None:
    try:
        private_dir(path.parent, tighten=True)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise HistoryError(
            f"cannot create history database {path} ({reason}); {NO_HISTORY}"
        ) from None
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise HistoryError(
            f"cannot create history database {path} (permission denied); {NO_HISTORY}"
        )


def _prepare(conn: sqlite3.Connection, path: Path, migrations: list[tuple[str, ...]]) -> None:
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        # Parsing the schema is what notices a damaged file with an intact header.
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError as exc:  # locked, I/O error: the file may be fine
        raise HistoryError(f"cannot open history database {path} ({exc}); {NO_HISTORY}") from None
    except sqlite3.DatabaseError as exc:  # not a database, malformed
        raise _unreadable(path, str(exc)) from None
    if version > len(migrations):
        raise HistoryError(
            f"history database {path} has schema version {version}, newer than this "
            f"ollama-cli knows ({len(migrations)}); upgrade ollama-cli or {NO_HISTORY}"
        )
    try:
        _enable_wal(conn)
        # In WAL mode NORMAL survives a killed process (only power loss can drop the
        # last commits) and saves an fsync per message.
        conn.execute("PRAGMA synchronous = NORMAL")
        _migrate(conn, version, migrations)
    except sqlite3.Error as exc:
        raise HistoryError(
            f"history database {path} cannot be written ({exc}); {NO_HISTORY}"
        ) from None


def _enable_wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL, so readers (``history list``) never wait for a writer.

    The switch needs an exclusive lock and SQLite answers "database is locked" at once,
    without using the busy timeout, when another process holds one (two processes
    creating the file together), so this waits here. A file system without WAL support
    keeps its journal mode, which is slower for readers but still correct.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode = WAL").fetchone()
            return
        except sqlite3.OperationalError as exc:
            busy = getattr(exc, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_BUSY
            if not busy or time.monotonic() > deadline:
                raise
            time.sleep(0.005)


def _migrate(conn: sqlite3.Connection, current: int, migrations: list[tuple[str, ...]]) -> None:
    for version in range(current + 1, len(migrations) + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated while we waited for the write lock.
            if conn.execute("PRAGMA user_version").fetchone()[0] < version:
                for statement in migrations[version - 1]:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {version:d}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
