"""Exporting a conversation: Markdown to read or share, JSON to process.

Pure functions of the stored rows, so ``history export`` and ``/save`` print the same
thing and tests need no database. Times are UTC, ISO 8601 in JSON.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ollama_cli.history.attachments import AttachmentRef
from ollama_cli.history.records import StoredConversation, StoredMessage

#: Bumped when the JSON shape changes incompatibly.
JSON_FORMAT = 1


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def _human(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def to_markdown(conversation: StoredConversation, messages: list[StoredMessage]) -> str:
    """The conversation as Markdown: a heading per message, answers credited to their model."""
    title = conversation.title or f"Conversation {conversation.id}"
    lines = [
        f"# {title}",
        "",
        f"*Conversation `{conversation.id}`, {_human(conversation.created)}*",
    ]
    if conversation.system_prompt:
        role = f" (role {conversation.role})" if conversation.role else ""
        lines += ["", f"## System{role}", "", conversation.system_prompt]
    for message in messages:
        lines += ["", f"## {_heading(message)}", "", message.text]
        lines += [f"- attached: {attachment_line(ref)}" for ref in message.attachments]
        if message.interrupted:
            lines += ["", "*(interrupted)*"]
    return "\n".join(lines) + "\n"


def _heading(message: StoredMessage) -> str:
    heading = message.role.capitalize()
    if message.provider:
        by = f"{message.provider} · {message.model}" if message.model else message.provider
        heading += f" ({by})"
    return heading


def attachment_line(ref: AttachmentRef) -> str:
    """``shots/red.png (image/png, 69 B)``: how history lists an attachment."""
    from ollama_cli.attach.load import human

    return f"{ref.name} ({ref.media_type}, {human(ref.size)})"


def to_json(
    conversation: StoredConversation,
    messages: list[StoredMessage],
    blobs: Mapping[str, bytes] | None = None,
) -> dict[str, Any]:
    """The conversation as a JSON-ready dict (``json.dumps`` works on it as is).

    ``blobs`` (attachment bytes by SHA-256) puts each attachment's ``data`` in base64, so
    the export carries the images and PDFs themselves.
    """
    return {
        "format": JSON_FORMAT,
        "id": conversation.id,
        "title": conversation.title,
        "created": _iso(conversation.created),
        "updated": _iso(conversation.updated),
        "system_prompt": conversation.system_prompt,
        "role": conversation.role,
        "messages": [_message_json(m, blobs or {}) for m in messages],
    }


def _message_json(message: StoredMessage, blobs: Mapping[str, bytes]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "role": message.role,
        "text": message.text,
        "created": _iso(message.created),
    }
    if message.attachments:
        data["attachments"] = [_attachment_json(ref, blobs) for ref in message.attachments]
    if message.role == "assistant":
        data |= {
            "provider": message.provider,
            "model": message.model,
            "finish_reason": message.finish_reason,
            "usage": {
                "input_tokens": message.input_tokens,
                "output_tokens": message.output_tokens,
            },
            "latency_ms": message.latency_ms,
            "interrupted": message.interrupted,
            "attempts": message.attempts or [],
        }
        if message.reasoning:
            data["reasoning"] = message.reasoning
    return data


def _attachment_json(ref: AttachmentRef, blobs: Mapping[str, bytes]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": ref.name,
        "media_type": ref.media_type,
        "size": ref.size,
        "sha256": ref.sha256,
    }
    if ref.sha256 in blobs:
        data["data"] = base64.b64encode(blobs[ref.sha256]).decode("ascii")
    return data
