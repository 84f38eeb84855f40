"""Exporting a conversation: Markdown to read or share, JSON to process.

Pure functions of the stored rows, so ``history export`` and ``/save`` print the same
thing and tests need no database. Times are UTC, ISO 8601 in JSON.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

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
        lines += ["", "## System", "", conversation.system_prompt]
    for message in messages:
        lines += ["", f"## {_heading(message)}", "", message.text]
        if message.interrupted:
            lines += ["", "*(interrupted)*"]
    return "\n".join(lines) + "\n"


def _heading(message: StoredMessage) -> str:
    heading = message.role.capitalize()
    if message.provider:
        by = f"{message.provider} · {message.model}" if message.model else message.provider
        heading += f" ({by})"
    return heading


def to_json(conversation: StoredConversation, messages: list[StoredMessage]) -> dict[str, Any]:
    """The conversation as a JSON-ready dict (``json.dumps`` works on it as is)."""
    return {
        "format": JSON_FORMAT,
        "id": conversation.id,
        "title": conversation.title,
        "created": _iso(conversation.created),
        "updated": _iso(conversation.updated),
        "system_prompt": conversation.system_prompt,
        "messages": [_message_json(m) for m in messages],
    }


def _message_json(message: StoredMessage) -> dict[str, Any]:
    data: dict[str, Any] = {
        "role": message.role,
        "text": message.text,
        "created": _iso(message.created),
    }
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
    return data
