"""The rows the history store hands out, its one error type, and ids a person can type.

Rows are frozen dataclasses so callers (the CLI, the REPL, exports) never see sqlite3
tuples, and the column order of a query can change without breaking anyone.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ollama_cli.history.attachments import AttachmentRef

#: Lowercase Crockford base32: no i, l, o or u, so an id read aloud or off a screen
#: cannot be mistyped as a look-alike. 8 characters give 32**8 ≈ 10**12 ids.
ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
ID_LENGTH = 8

#: Longest default title; longer first lines are cut at a word and end with "…".
TITLE_MAX = 60

ROLES = ("system", "user", "assistant")

#: Keys dropped from attempt records as a last guard: callers pass the router's trace,
#: which is already redacted, but a secret must never reach the file even by mistake.
SECRET_KEYS = frozenset({"headers", "api_key", "authorization", "key", "token"})


class HistoryError(Exception):
    """Anything the history store cannot do, as one line a person can act on."""


def new_id() -> str:
    """A fresh random conversation id, e.g. ``"k3v9q2xa"``."""
    # 256 is a multiple of 32, so ``byte % 32`` is unbiased; os.urandom spares the
    # CLI the import of ``secrets`` (hashlib, hmac, random) on every start.
    return "".join(ID_ALPHABET[byte % 32] for byte in os.urandom(ID_LENGTH))


def default_title(text: str) -> str | None:
    """The first non-blank line of ``text``, whitespace collapsed, cut to ``TITLE_MAX``."""
    line = next((ln for ln in text.splitlines() if ln.strip()), "")
    line = " ".join(line.split())
    if len(line) <= TITLE_MAX:
        return line or None
    cut = line[: TITLE_MAX - 1]
    # Prefer ending at a word boundary unless that throws most of the line away.
    space = cut.rfind(" ")
    if space > TITLE_MAX // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


class SupportsToDict(Protocol):
    """The router's ``Attempt`` shape: anything with ``to_dict()``."""

    def to_dict(self) -> Mapping[str, Any]: ...


def encode_attempts(attempts: Iterable[Mapping[str, Any] | SupportsToDict] | None) -> str | None:
    """The attempts trace as JSON text, without any secret-looking keys."""
    if attempts is None:
        return None
    rows = []
    for attempt in attempts:
        data = attempt if isinstance(attempt, Mapping) else attempt.to_dict()
        rows.append({k: v for k, v in data.items() if k.lower() not in SECRET_KEYS})
    return json.dumps(rows, ensure_ascii=False, default=str)


@dataclass(frozen=True)
class StoredConversation:
    """A conversation's row (``ollama_cli.conversation.Conversation`` is the live one)."""

    id: str
    created: float
    updated: float
    title: str | None
    system_prompt: str | None
    role: str | None = None  # the role's name (``-r NAME``), if one was used

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> StoredConversation:
        return cls(
            row["id"],
            row["created"],
            row["updated"],
            row["title"],
            row["system_prompt"],
            row["role"],
        )


@dataclass(frozen=True)
class ConversationSummary:
    """One line of ``history list``: read from denormalised columns, never by counting."""

    id: str
    created: float
    updated: float
    title: str | None
    message_count: int
    last_provider: str | None
    last_model: str | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> ConversationSummary:
        return cls(
            row["id"],
            row["created"],
            row["updated"],
            row["title"],
            row["message_count"],
            row["last_provider"],
            row["last_model"],
        )


@dataclass(frozen=True)
class StoredMessage:
    """One stored turn. ``interrupted`` is True for an answer cut short (Ctrl-C, a
    failure after the first token) and for one still streaming or killed mid-stream."""

    id: int
    conversation_id: str
    seq: int
    created: float
    role: str
    text: str
    provider: str | None = None
    model: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    latency_ms: int | None = None
    finish_reason: str | None = None
    interrupted: bool = False
    attempts: list[dict[str, Any]] | None = None
    attachments: tuple[AttachmentRef, ...] = ()
    reasoning: str | None = None  # the answer's thinking, never part of ``text``

    @classmethod
    def from_row(
        cls, row: sqlite3.Row, attachments: tuple[AttachmentRef, ...] = ()
    ) -> StoredMessage:
        attempts = row["attempts_json"]
        return cls(
            id=row["id"],
            conversation_id=row["conversation_id"],
            seq=row["seq"],
            created=row["created"],
            role=row["role"],
            text=row["text"],
            provider=row["provider"],
            model=row["model"],
            input_tokens=row["input_tokens"],
            output_tokens=row["output_tokens"],
            latency_ms=row["latency_ms"],
            finish_reason=row["finish_reason"],
            interrupted=bool(row["interrupted"]),
            attempts=json.loads(attempts) if attempts is not None else None,
            attachments=attachments,
            reasoning=row["reasoning"],
        )


@dataclass(frozen=True)
class AnswerMeta:
    """How an answer was obtained, as one value from the router's result to the columns.

    ``Conversation`` builds it from the route result, ``AnswerRecorder`` fills in the
    provider it streamed from, ``HistoryStore`` writes ``columns()``: a new column is one
    field here, not a keyword threaded through three signatures.
    """

    provider: str | None = None
    model: str | None = None
    finish_reason: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    latency_ms: float | None = None
    #: the router's trace, already redacted (``Attempt.to_dict()``)
    attempts: Iterable[Mapping[str, Any] | SupportsToDict] | None = None
    #: cut short (Ctrl-C, or a failure after text was shown): the row keeps its flag
    interrupted: bool = False
    #: the answer's thinking, stored beside its text, never in it
    reasoning: str | None = None
    #: the part of ``input_tokens`` read from the vendor's prompt cache, when reported
    cached_input_tokens: int | None = None

    def columns(self) -> dict[str, Any]:
        """The ``messages`` columns this sets (provider/model are coalesced by the store)."""
        latency = self.latency_ms
        return {
            "input_tokens": self.input_tokens,  # None = not reported (unknown), never 0
            "output_tokens": self.output_tokens,
            "cached_input_tokens": self.cached_input_tokens,
            "latency_ms": round(latency) if latency is not None else None,
            "finish_reason": self.finish_reason,
            "attempts_json": encode_attempts(self.attempts),
            "interrupted": int(self.interrupted),
            "reasoning": self.reasoning or None,
        }
