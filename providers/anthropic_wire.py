"""The Anthropic Messages API's wire format as pure functions, tested on recorded payloads.

The request body, the reply, the model list, the stream's events and the error bodies
(HTTP and ``event: error``) become the project's types and taxonomy here, so the adapter
(``providers.anthropic``) only moves bytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from providers.errors import (
    BadRequestError,
    ContextLengthError,
    ModelNotFoundError,
    ProviderAuthError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitError,
)
from providers.http import error_detail, error_for_status
from providers.types import ChatRequest, ChatResult, Chunk, Usage

#: The API requires ``max_tokens``; used when neither the request nor the config sets it.
DEFAULT_MAX_TOKENS = 4096

STOP_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "refusal": "content_filter",
    "tool_use": "other",
    "pause_turn": "other",
}

#: ``error.type`` values (HTTP bodies and ``event: error``) and what the router should do.
ERROR_TYPES: dict[str, type[ProviderError]] = {
    "invalid_request_error": BadRequestError,
    "authentication_error": ProviderAuthError,
    "permission_error": ProviderAuthError,
    "not_found_error": ModelNotFoundError,
    "request_too_large": ContextLengthError,
    "rate_limit_error": RateLimitError,
    # Out of credit is quota exhausted: another provider can still answer.
    "billing_error": RateLimitError,
    "api_error": ProviderUnavailableError,
    "overloaded_error": ProviderUnavailableError,
    "timeout_error": ProviderUnavailableError,
}


def build_body(request: ChatRequest, options: Mapping[str, Any], *, stream: bool) -> dict[str, Any]:
    """The ``/v1/messages`` JSON body: system prompts go to the top-level ``system``."""
    max_tokens = request.max_tokens
    if max_tokens is None:
        max_tokens = options.get("max_tokens") or DEFAULT_MAX_TOKENS
    body: dict[str, Any] = {
        "model": request.model,
        "max_tokens": max_tokens,
        "messages": [{"role": m.role, "content": m.content} for m in request.turns],
    }
    if request.system is not None:
        body["system"] = request.system
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if stream:
        body["stream"] = True
    return body


def finish_reason(stop_reason: Any) -> str:
    """Normalise an Anthropic ``stop_reason``; unknown values (and none at all) are "other"."""
    return STOP_REASONS.get(stop_reason, "other") if isinstance(stop_reason, str) else "other"


def parse_message(name: str, data: Any, model: str) -> ChatResult:
    """A non-streaming ``/v1/messages`` response as a ChatResult (text blocks only)."""
    if not isinstance(data, dict) or not isinstance(data.get("content"), list):
        raise ProviderUnavailableError(f"{name}: unexpected response (no content)", provider=name)
    text = "".join(
        block["text"]
        for block in data["content"]
        if isinstance(block, dict)
        and block.get("type") == "text"
        and isinstance(block.get("text"), str)
    )
    usage = _dict(data.get("usage"))
    served = data.get("model")
    return ChatResult(
        text=text,
        model=served if isinstance(served, str) and served else model,
        finish_reason=finish_reason(data.get("stop_reason")),
        usage=Usage(_int(usage.get("input_tokens")), _int(usage.get("output_tokens"))),
    )


def parse_models_page(data: Any) -> tuple[list[str], str | None]:
    """Model ids of one ``/v1/models`` page, and the ``after_id`` of the next (None = last)."""
    page = _dict(data)
    ids = [m["id"] for m in page.get("data") or [] if isinstance(_dict(m).get("id"), str)]
    last_id = page.get("last_id")
    more = page.get("has_more") is True and isinstance(last_id, str) and bool(ids)
    return ids, last_id if more else None


def http_error(
    name: str, status: int, body: bytes, headers: Mapping[str, str], secret: str | None = None
) -> ProviderError:
    """The taxonomy error for an HTTP error response, worded with the server's own message.

    The status decides for auth, rate limits and server faults; for other 4xx the body's
    ``error.type`` (and message) refines it, e.g. a 400 "prompt is too long".
    """
    detail = error_detail(body, secrets=(secret,))
    cls = None
    if status not in (401, 403, 429) and status < 500:
        cls = error_class(_error_type(body), detail)
    if cls is None:
        return error_for_status(name, status, detail, headers)
    return cls(f"{name}: HTTP {status}" + (f": {detail}" if detail else ""), provider=name)


def stream_error(name: str, data: str, secret: str | None = None) -> ProviderError:
    """The taxonomy error for an ``event: error`` that arrived after the 200 response."""
    try:
        error = _dict(_dict(json.loads(data)).get("error"))
    except ValueError:
        error = {}
    etype = error.get("type") if isinstance(error.get("type"), str) else "error"
    message = error.get("message") if isinstance(error.get("message"), str) else data
    detail = error_detail(str(message), secrets=(secret,)) or "no details"
    cls = error_class(etype, detail) or ProviderUnavailableError
    return cls(f"{name}: {etype} during the answer: {detail}", provider=name)


def error_class(etype: Any, message: str) -> type[ProviderError] | None:
    """The taxonomy class of an Anthropic ``error.type``, refined by its message."""
    lowered = message.lower()
    if "prompt is too long" in lowered:
        return ContextLengthError
    if "credit balance is too low" in lowered:
        return RateLimitError
    return ERROR_TYPES.get(etype) if isinstance(etype, str) else None


class StreamParser:
    """Folds Messages API stream events into answer text and one final chunk.

    Only ``text_delta`` on text blocks is answer text; thinking, signatures, tool input and
    unknown event or block types are skipped, as the API's versioning policy asks.
    """

    def __init__(self, name: str, secret: str | None = None) -> None:
        self.name = name
        self.finished = False
        self._secret = secret
        self._blocks: dict[int | None, Any] = {}
        self._usage = {"input_tokens": 0, "output_tokens": 0}
        self._stop_reason: Any = None

    def feed(self, event: str, data: str) -> str:
        """Apply one SSE event; return the answer text it carries ("" for none)."""
        if event == "error":
            raise stream_error(self.name, data, self._secret)
        if not data.strip():
            return ""
        try:
            payload = json.loads(data)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise ProviderUnavailableError(
                f"{self.name}: malformed JSON in a {event!r} event of the stream",
                provider=self.name,
            )
        if payload.get("type") == "error":
            raise stream_error(self.name, data, self._secret)
        return self._apply(payload.get("type") or event, payload)

    def _apply(self, kind: Any, payload: dict[str, Any]) -> str:
        if kind == "message_start":
            self._take_usage(_dict(_dict(payload.get("message")).get("usage")))
        elif kind == "content_block_start":
            block = _dict(payload.get("content_block"))
            self._blocks[_index(payload)] = block.get("type")
            if block.get("type") == "text" and isinstance(block.get("text"), str):
                return str(block["text"])
        elif kind == "content_block_delta":
            delta = _dict(payload.get("delta"))
            on_text = self._blocks.get(_index(payload), "text") == "text"
            if delta.get("type") == "text_delta" and on_text and isinstance(delta.get("text"), str):
                return str(delta["text"])
        elif kind == "message_delta":
            self._stop_reason = _dict(payload.get("delta")).get("stop_reason") or self._stop_reason
            self._take_usage(_dict(payload.get("usage")))
        elif kind == "message_stop":
            self.finished = True
        return ""

    def _take_usage(self, usage: dict[str, Any]) -> None:
        # Counts are running totals: a later value replaces an earlier one.
        for key in self._usage:
            if isinstance(usage.get(key), int):
                self._usage[key] = usage[key]

    def final_chunk(self) -> Chunk:
        usage = Usage(self._usage["input_tokens"], self._usage["output_tokens"])
        return Chunk(finish_reason=finish_reason(self._stop_reason), usage=usage)

    def unfinished(self) -> ProviderUnavailableError:
        return ProviderUnavailableError(
            f"{self.name}: stream ended before the answer was finished", provider=self.name
        )


def _error_type(body: bytes) -> Any:
    try:
        return _dict(_dict(json.loads(body)).get("error")).get("type")
    except ValueError:
        return None


def _index(payload: dict[str, Any]) -> int | None:
    index = payload.get("index")
    return index if isinstance(index, int) else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
