"""The conversation history store: every turn of ``chat`` and ``complete``, in SQLite.

Each write is its own ``BEGIN IMMEDIATE`` transaction, committed before the call
returns, so a crash or ``kill -9`` loses nothing already stored, and two processes
writing the same file queue on the write lock (for up to ``BUSY_TIMEOUT_S``) instead
of failing with "database is locked". The file is opened on first use.

Nothing here sees a key or a header: the API takes none, and ``attempts`` is the
router's trace, which callers pass already redacted (``Attempt.to_dict()``).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from ollama_cli.history import attachments as stored_parts
from ollama_cli.history import export
from ollama_cli.history.answer import AnswerRecorder
from ollama_cli.history.attachments import AttachmentRef
from ollama_cli.history.database import (
    Attempts,
    Database,
    answer_conversation,
    insert_message,
    touch_conversation,
)
from ollama_cli.history.records import (
    ROLES,
    AnswerMeta,
    ConversationSummary,
    HistoryError,
    StoredConversation,
    StoredMessage,
    new_id,
)
from ollama_cli.history.recovery import RecoveryJournal, journal_path
from ollama_cli.history.usage import UsageRow, usage_rows
from providers.types import Attachment


class HistoryStore:
    """Conversations and their messages in one SQLite file (``AppPaths.history_db``).

    One store per thread (sqlite3 connections are not shared across threads); any
    number of processes may use the same file at once.
    """

    def __init__(
        self,
        path: Path,
        *,
        ids: Callable[[], str] = new_id,
        redact: Callable[[str], str] = str,
    ) -> None:
        self.path = path
        self._new_id = ids
        self._db = Database(path)
        #: Applied to every text and trace written (the app's one redaction boundary).
        self.redact = redact

    def open(self) -> None:
        """Open now rather than on first use, e.g. to turn a ``HistoryError`` into a warning."""
        self._db.connection()

    @property
    def journal(self) -> RecoveryJournal:
        """Where turns the database refused wait for the next run (``recovery.py``)."""
        return RecoveryJournal(journal_path(self.path), self.redact)

    def replay_pending(self, *, wait: bool = True) -> tuple[int, int]:
        """Add the journal's turns; returns (turns added, unreadable lines dropped).

        ``wait=False`` gives up at once if another process holds the write lock (the
        turns stay in the journal). Never raises: the journal is kept for next time.
        """
        journal = self.journal
        if not journal.pending():
            return 0, 0
        try:
            with self._db.busy_timeout(None if wait else 0.0):
                return journal.replay(self._db.transaction)
        except (HistoryError, OSError):
            return 0, 0

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def new_conversation(
        self, system_prompt: str | None = None, title: str | None = None, role: str | None = None
    ) -> str:
        """Start a conversation and return its id."""
        for _ in range(5):  # a clash among 32**8 ids is rare; five in a row is a bug
            cid, now = self._new_id(), time.time()
            try:
                with self._db.transaction() as conn:
                    conn.execute(
                        "INSERT INTO conversations"
                        " (id, created, updated, title, system_prompt, role)"
                        " VALUES (?, ?, ?, ?, ?, ?)",
                        (cid, now, now, title, system_prompt, role),
                    )
            except sqlite3.IntegrityError:
                continue
            return cid
        raise HistoryError("could not find a free conversation id")

    def add_message(
        self,
        conversation_id: str,
        role: str,
        text: str,
        *,
        provider: str | None = None,
        model: str | None = None,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        latency_ms: float | None = None,
        finish_reason: str | None = None,
        interrupted: bool = False,
        attempts: Attempts | None = None,
        attachments: Sequence[Attachment] = (),
    ) -> int:
        """Store one whole message (and its images/PDFs, each blob once), committed before
        returning; returns its id."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        meta = AnswerMeta(
            provider, model, finish_reason, input_tokens, output_tokens, latency_ms, attempts,
            interrupted,
        )  # fmt: skip
        columns = {"provider": provider, "model": model, **self._columns(meta)}
        with self._db.transaction() as conn:
            message_id = insert_message(conn, conversation_id, role, self.redact(text), columns)
            stored_parts.insert(conn, message_id, attachments)
            return message_id

    def add_question(
        self, conversation_id: str, text: str, attachments: Sequence[Attachment] = ()
    ) -> int:
        """Store a question (and its attachments) and reserve its answer's row right after
        it, in one transaction; returns the answer row's id (flagged interrupted, empty,
        until ``finish_answer``). Two processes continuing one conversation at once thus
        never interleave: each answer sits at its question's ``seq + 1``."""
        reserved = {"provider": None, "model": None, "interrupted": 1}
        with self._db.transaction() as conn:
            question = insert_message(conn, conversation_id, "user", self.redact(text), {})
            stored_parts.insert(conn, question, attachments)
            return insert_message(conn, conversation_id, "assistant", "", reserved)

    def begin_answer(
        self, conversation_id: str, text: str = "", *, provider: str | None, model: str | None
    ) -> int:
        """Store the start of a streamed answer, marked interrupted until ``finish_answer``.

        A process killed mid-answer thus leaves a row that says so. Most callers want
        ``record_answer``, which also bounds how often the growing text is written.
        """
        meta = {"provider": provider, "model": model, "interrupted": 1}
        with self._db.transaction() as conn:
            return insert_message(conn, conversation_id, "assistant", self.redact(text), meta)

    def update_answer(
        self, message_id: int, text: str, *, provider: str | None = None, model: str | None = None
    ) -> None:
        """Replace a streaming answer's text (and provider/model after a fallback seam)."""
        with self._db.transaction() as conn:
            answer_conversation(conn, message_id)
            conn.execute(
                "UPDATE messages SET text = ?, provider = coalesce(?, provider),"
                " model = coalesce(?, model) WHERE id = ?",
                (self.redact(text), provider, model, message_id),
            )

    def finish_answer(self, message_id: int, text: str, meta: AnswerMeta) -> None:
        """Store a streamed answer's final text and metadata; clear the flag unless
        ``meta.interrupted`` (Ctrl-C, or a failure after the first token)."""
        provider, model = meta.provider, meta.model
        columns = {"text": self.redact(text), **self._columns(meta)}
        sets = ", ".join(f"{column} = ?" for column in columns)
        with self._db.transaction() as conn:
            cid = answer_conversation(conn, message_id)
            conn.execute(
                f"UPDATE messages SET {sets}, provider = coalesce(?, provider),"
                " model = coalesce(?, model) WHERE id = ?",
                (*columns.values(), provider, model, message_id),
            )
            row = conn.execute(
                "SELECT provider, model FROM messages WHERE id = ?", (message_id,)
            ).fetchone()
            touch_conversation(conn, cid, time.time(), 0, None, row["provider"], row["model"])

    def _columns(self, meta: AnswerMeta) -> dict[str, Any]:
        """``meta``'s columns with the trace redacted (the one redaction boundary)."""
        columns = meta.columns()
        if columns["attempts_json"] is not None:
            columns["attempts_json"] = self.redact(columns["attempts_json"])
        return columns

    def record_answer(
        self,
        conversation_id: str,
        *,
        provider: str | None,
        model: str | None,
        flush_interval: float = 0.5,
        message_id: int | None = None,
    ) -> AnswerRecorder:
        """A writer for a streamed answer (into ``message_id``, the row ``add_question``
        reserved, if given): see ``AnswerRecorder``."""
        return AnswerRecorder(
            self,
            conversation_id,
            provider=provider,
            model=model,
            flush_interval=flush_interval,
            message_id=message_id,
        )

    def usage(self, since: float | None = None, *, by_day: bool = False) -> list[UsageRow]:
        """Answers since ``since`` (epoch seconds), summed per provider and model (and local
        day): one query that reads only the ``messages_usage`` index."""
        return usage_rows(self._db, since, by_day=by_day)

    def resolve(self, prefix: str) -> str:
        """The one conversation id starting with ``prefix`` (case-insensitive)."""
        wanted = prefix.strip().lower()
        if not wanted:
            raise HistoryError("no conversation id given")
        # A range over the primary key, not LIKE: LIKE would need escaping and scan.
        rows = self._db.query(
            "SELECT id FROM conversations WHERE id >= ? AND id < ? ORDER BY id",
            (wanted, wanted + "\U0010ffff"),
        )
        ids = [row["id"] for row in rows]
        if wanted in ids:
            return wanted
        if len(ids) == 1:
            return str(ids[0])
        if not ids:
            raise HistoryError(f"no conversation matches {prefix!r}")
        raise HistoryError(f"{prefix!r} matches {len(ids)} conversations: be more specific")

    def conversation(self, conversation_id: str) -> StoredConversation:
        rows = self._db.query("SELECT * FROM conversations WHERE id = ?", (conversation_id,))
        if not rows:
            raise HistoryError(f"no conversation {conversation_id!r}")
        return StoredConversation.from_row(rows[0])

    def messages(self, conversation_id: str) -> list[StoredMessage]:
        """The conversation's messages in order (an unknown id is a ``HistoryError``)."""
        self.conversation(conversation_id)
        rows = self._db.query(
            "SELECT * FROM messages WHERE conversation_id = ? ORDER BY seq", (conversation_id,)
        )
        refs = self._db.read(lambda conn: stored_parts.refs_of(conn, conversation_id))
        return [StoredMessage.from_row(row, tuple(refs.get(row["id"], ()))) for row in rows]

    def attachments(self, refs: Iterable[AttachmentRef]) -> tuple[Attachment, ...]:
        """The stored parts behind ``refs`` (a message's ``attachments``), bytes included."""
        return self._db.read(lambda conn: stored_parts.load(conn, refs))

    def last_conversation(self) -> StoredConversation | None:
        """The most recently updated conversation (for ``--continue``), if any."""
        rows = self._db.query("SELECT * FROM conversations ORDER BY updated DESC LIMIT 1")
        return StoredConversation.from_row(rows[0]) if rows else None

    def list_conversations(self, limit: int = 20) -> list[ConversationSummary]:
        """The most recently updated conversations first: one index walk, no counting."""
        rows = self._db.query("SELECT * FROM conversations ORDER BY updated DESC LIMIT ?", (limit,))
        return [ConversationSummary.from_row(row) for row in rows]

    def search(self, text: str, limit: int = 20) -> list[StoredMessage]:
        """Messages containing ``text`` literally (ASCII case-insensitive), newest first."""
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = self._db.query(
            "SELECT * FROM messages WHERE text LIKE ? ESCAPE '\\' ORDER BY created DESC, id DESC"
            " LIMIT ?",
            (f"%{escaped}%", limit),
        )
        return [StoredMessage.from_row(row) for row in rows]

    def delete(self, conversation_id: str) -> None:
        """Delete a conversation; its messages go with it (ON DELETE CASCADE)."""
        with self._db.transaction() as conn:
            cur = conn.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
            if cur.rowcount == 0:
                raise HistoryError(f"no conversation {conversation_id!r}")
            stored_parts.delete_orphans(conn)

    def set_system_prompt(self, conversation_id: str, system_prompt: str | None) -> None:
        """``/system`` mid-conversation: what ``/load`` and ``--continue`` restore."""
        with self._db.transaction() as conn:
            cur = conn.execute(
                "UPDATE conversations SET system_prompt = ? WHERE id = ?",
                (system_prompt, conversation_id),
            )
            if cur.rowcount == 0:
                raise HistoryError(f"no conversation {conversation_id!r}")

    def set_role(self, conversation_id: str, role: str | None, system_prompt: str | None) -> None:
        """``/role NAME`` mid-conversation: the role and its system prompt from now on."""
        with self._db.transaction() as conn:
            conn.execute(
                "UPDATE conversations SET role = ?, system_prompt = ? WHERE id = ?",
                (role, system_prompt, conversation_id),
            )

    def last_provider_model(self, conversation_id: str) -> tuple[str, str | None] | None:
        """Who answered last, so a continued conversation can start there."""
        summary = self.conversation_summary(conversation_id)
        if summary.last_provider is None:
            return None
        return summary.last_provider, summary.last_model

    def conversation_summary(self, conversation_id: str) -> ConversationSummary:
        rows = self._db.query("SELECT * FROM conversations WHERE id = ?", (conversation_id,))
        if not rows:
            raise HistoryError(f"no conversation {conversation_id!r}")
        return ConversationSummary.from_row(rows[0])

    def to_markdown(self, conversation_id: str) -> str:
        return export.to_markdown(
            self.conversation(conversation_id), self.messages(conversation_id)
        )

    def to_json(self, conversation_id: str) -> dict[str, Any]:
        """The export, with each attachment's bytes (base64) so it can be read back whole."""
        messages = self.messages(conversation_id)
        parts = self.attachments(ref for m in messages for ref in m.attachments)
        return export.to_json(
            self.conversation(conversation_id), messages, {p.digest: p.data for p in parts}
        )
