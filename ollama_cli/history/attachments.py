"""The attachments of stored messages: each distinct image or PDF kept once, by SHA-256.

A message refers to its parts by hash (``message_attachments``), so attaching the same
screenshot to ten turns, or resending it with ``--continue``, stores its bytes once.
Blobs no message refers to any more are deleted with the last conversation using them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from providers.types import Attachment


@dataclass(frozen=True)
class AttachmentRef:
    """What ``history show`` lists: a stored part's name, type and size (not its bytes)."""

    name: str
    media_type: str
    size: int
    sha256: str


def insert(conn: sqlite3.Connection, message_id: int, parts: Sequence[Attachment]) -> None:
    """Link ``parts`` to a message, storing each blob only if it is not stored yet."""
    for position, part in enumerate(parts):
        digest = part.digest
        conn.execute(
            "INSERT OR IGNORE INTO attachments (sha256, media_type, size, data)"
            " VALUES (?, ?, ?, ?)",
            (digest, part.media_type, len(part.data), part.data),
        )
        conn.execute(
            "INSERT INTO message_attachments (message_id, position, name, sha256)"
            " VALUES (?, ?, ?, ?)",
            (message_id, position, part.name, digest),
        )


def refs_of(conn: sqlite3.Connection, conversation_id: str) -> dict[int, list[AttachmentRef]]:
    """Every message's attachment refs in one query, by message id, in attached order."""
    rows = conn.execute(
        "SELECT ma.message_id, ma.name, a.media_type, a.size, a.sha256"
        " FROM message_attachments ma JOIN attachments a ON a.sha256 = ma.sha256"
        " JOIN messages m ON m.id = ma.message_id"
        " WHERE m.conversation_id = ? ORDER BY ma.message_id, ma.position",
        (conversation_id,),
    ).fetchall()
    refs: dict[int, list[AttachmentRef]] = {}
    for row in rows:
        ref = AttachmentRef(row["name"], row["media_type"], row["size"], row["sha256"])
        refs.setdefault(row["message_id"], []).append(ref)
    return refs


def load(conn: sqlite3.Connection, refs: Iterable[AttachmentRef]) -> tuple[Attachment, ...]:
    """The parts themselves (bytes included), e.g. to resend them with ``--continue``."""
    parts = []
    for ref in refs:
        row = conn.execute(
            "SELECT data FROM attachments WHERE sha256 = ?", (ref.sha256,)
        ).fetchone()
        if row is not None:
            parts.append(Attachment(ref.name, ref.media_type, bytes(row["data"])))
    return tuple(parts)


def delete_orphans(conn: sqlite3.Connection) -> None:
    """Drop blobs no message refers to (after deleting a conversation)."""
    conn.execute(
        "DELETE FROM attachments WHERE sha256 NOT IN (SELECT sha256 FROM message_attachments)"
    )
