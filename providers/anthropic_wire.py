"""The Anthropic Messages API's wire format as pure functions, tested on recorded payloads.

The request body, the reply, the model list, the stream's events and the error bodies
(HTTP and ``event: error``) become the project's types and taxonomy here, so the adapter
(``providers.anthropic``) only moves bytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from providers.errors import (
    ContentFilteredError,
    ContextLengthError,
    ProviderError,
    ProviderUnavailableError,
    stream_ended,
)
from providers.http import codes_in, error_detail, error_for_status
from providers.tolerant import count, iso_date, nonempty, obj
from providers.types import CAPABILITIES, ChatRequest, ChatResult, Chunk, Message, ModelInfo, Usage
from providers.wording import codes_of, error_class, make_error

#: The API requires ``max_tokens``; used when neither the request nor the config sets it.
DEFAULT_MAX_TOKENS = 4096

STOP_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "other",
}
#: The server paused a long turn: ask again with the answer so far, and it goes on.
PAUSE_TURN = "pause_turn"
#: How many pauses one answer may take before it counts as unfinished.
MAX_PAUSES = 3


def build_body(request: ChatRequest, options: Mapping[str, Any], *, stream: bool) -> dict[str, Any]:
    """The ``/v1/messages`` JSON body: system prompts go to the top-level ``system``."""
    max_tokens = request.max_tokens
    if max_tokens is None:
        max_tokens = options.get("max_tokens") or DEFAULT_MAX_TOKENS
    body: dict[str, Any] = {
        "model": request.model,
        "max_tokens": max_tokens,
        "messages": [{"role": m.role, "content": content(m)} for m in request.turns],
    }
    if request.system is not None:
        body["system"] = request.system
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if stream:
        body["stream"] = True
    return body


def content(message: Message) -> str | list[dict[str, Any]]:
    """A message's ``content``: its text, or image/document blocks then a text block.

    Blocks as the SDK's ``ImageBlockParam`` / ``DocumentBlockParam`` with a base64 source
    (anthropic 2.16.0); the docs advise images before the text that refers to them.
    """
    if not message.attachments:
        return message.content
    blocks: list[dict[str, Any]] = [
        {
            "type": "document" if part.kind == "pdf" else "image",
            "source": {"type": "base64", "media_type": part.media_type, "data": part.base64},
        }
        for part in message.attachments
    ]
    if message.content:
        blocks.append({"type": "text", "text": message.content})
    return blocks


def finish_reason(stop_reason: Any) -> str:
    """Normalise an Anthropic ``stop_reason``; unknown values (and none at all) are "other"."""
    return STOP_REASONS.get(stop_reason, "other") if isinstance(stop_reason, str) else "other"


def check_stop(name: str, stop_reason: Any) -> None:
    """Raise for the stop reasons (anthropic 2.16.0 ``types/stop_reason.py``) that are not
    an answer: ``refusal`` arrives with HTTP 200, before or after some text, and is a
    content filter; ``model_context_window_exceeded`` is a context that is too long."""
    if stop_reason == "refusal":
        raise ContentFilteredError(
            f"{name}: the model declined to answer (stop_reason refusal)", provider=name
        )
    if stop_reason == "model_context_window_exceeded":
        raise ContextLengthError(
            f"{name}: the conversation fills the model's context window "
            "(stop_reason model_context_window_exceeded)",
            provider=name,
        )


def continued(request: ChatRequest, text: str) -> ChatRequest:
    """The request that resumes a paused turn: the answer so far as the assistant's start."""
    if not text.strip():
        return request
    # The API refuses a final assistant turn that ends in whitespace.
    return replace(request, messages=(*request.messages, Message("assistant", text.rstrip())))


def parse_message(name: str, data: Any, model: str) -> ChatResult:
    """A non-streaming ``/v1/messages`` response as a ChatResult (text and thinking blocks).

    A paused turn keeps ``finish_reason`` "pause_turn" for the adapter to continue.
    """
    if not isinstance(data, dict) or not isinstance(data.get("content"), list):
        raise ProviderUnavailableError(f"{name}: unexpected response (no content)", provider=name)
    check_stop(name, data.get("stop_reason"))
    blocks = [b for b in data["content"] if isinstance(b, dict)]
    usage = obj(data.get("usage"))
    served = data.get("model")
    return ChatResult(
        text=_join(blocks, "text", "text"),
        model=served if isinstance(served, str) and served else model,
        finish_reason=PAUSE_TURN
        if data.get("stop_reason") == PAUSE_TURN
        else finish_reason(data.get("stop_reason")),
        usage=Usage(count(usage.get("input_tokens")), count(usage.get("output_tokens"))),
        reasoning=_join(blocks, "thinking", "thinking"),
    )


def _join(blocks: list[dict[str, Any]], kind: str, key: str) -> str:
    """The ``key`` strings of the blocks of type ``kind`` (anthropic 2.16.0 ``ThinkingBlock``
    carries ``thinking``; ``redacted_thinking`` blocks carry nothing readable)."""
    return "".join(b[key] for b in blocks if b.get("type") == kind and isinstance(b.get(key), str))


def parse_models_page(data: Any) -> tuple[list[ModelInfo], str | None]:
    """The models of one ``/v1/models`` page, and the ``after_id`` of the next (None = last)."""
    page = obj(data)
    models = [model_info(m) for m in page.get("data") or [] if isinstance(obj(m).get("id"), str)]
    last_id = page.get("last_id")
    more = page.get("has_more") is True and isinstance(last_id, str) and bool(models)
    return models, last_id if more else None


def model_info(data: dict[str, Any]) -> ModelInfo:
    """One ``/v1/models`` entry (anthropic 2.16.0 ``types/model_info.py``) as a ModelInfo.

    ``lifecycle`` is the retirement signal; ``retires_at`` is a schedule that may be past
    on a deprecated model. Capabilities are ``{"name": {"supported": bool}}``.
    """
    lifecycle = data.get("lifecycle")
    caps = obj(data.get("capabilities"))
    return ModelInfo(
        id=data["id"],
        display_name=nonempty(data.get("display_name")),
        lifecycle=lifecycle if lifecycle in ("active", "deprecated", "retired") else "unknown",
        retires_at=iso_date(data.get("retires_at")),
        family=nonempty(data.get("line")),
        context_window=count(data.get("max_input_tokens")) or None,
        max_output_tokens=count(data.get("max_tokens")) or None,
        capabilities=frozenset(
            cap for cap in CAPABILITIES if obj(caps.get(cap)).get("supported") is True
        ),
        # 2.16.0's MessageCreateParams has no temperature, top_p or top_k any more.
        sampling_params=frozenset(),
    )


def http_error(
    name: str, status: int, body: bytes, headers: Mapping[str, str], secret: str | None = None
) -> ProviderError:
    """The taxonomy error for an HTTP error response, worded with the server's own message.

    The status decides for auth, rate limits and server faults; for other 4xx the body's
    ``error.type`` and wording refine it (``providers.wording``), e.g. "prompt is too long".
    """
    detail = error_detail(body, secrets=(secret,))
    return error_for_status(name, status, detail, headers, codes_in(body))


def stream_error(name: str, data: str, secret: str | None = None) -> ProviderError:
    """The taxonomy error for an ``event: error`` that arrived after the 200 response."""
    try:
        error = obj(obj(json.loads(data)).get("error"))
    except ValueError:
        error = {}
    etype = error.get("type") if isinstance(error.get("type"), str) else "error"
    message = error.get("message") if isinstance(error.get("message"), str) else data
    detail = error_detail(str(message), secrets=(secret,)) or "no details"
    cls = error_class(codes_of(error), detail) or ProviderUnavailableError
    message = f"{name}: {etype} during the answer: {detail}"
    return make_error(cls, message, provider=name, detail=detail)


class StreamParser:
    """Folds Messages API stream events into answer text and one final chunk.

    Only ``text_delta`` on text blocks is answer text; ``thinking_delta`` on thinking blocks
    is reasoning (``take_thinking``); signatures, tool input and unknown event or block types
    are skipped, as the API's versioning policy asks.
    """

    def __init__(self, name: str, secret: str | None = None) -> None:
        self.name = name
        self.finished = False
        self._secret = secret
        self._blocks: dict[int | None, Any] = {}
        self._usage = {"input_tokens": 0, "output_tokens": 0}
        self._stop_reason: Any = None
        self._thinking: list[str] = []

    def take_thinking(self) -> str:
        """The reasoning that arrived since the last call."""
        text, self._thinking = "".join(self._thinking), []
        return text

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
            self._take_usage(obj(obj(payload.get("message")).get("usage")))
        elif kind == "content_block_start":
            block = obj(payload.get("content_block"))
            self._blocks[_index(payload)] = block.get("type")
            if block.get("type") == "text" and isinstance(block.get("text"), str):
                return str(block["text"])
        elif kind == "content_block_delta":
            delta = obj(payload.get("delta"))
            on_text = self._blocks.get(_index(payload), "text") == "text"
            if delta.get("type") == "text_delta" and on_text and isinstance(delta.get("text"), str):
                return str(delta["text"])
            thinking = delta.get("thinking")
            if delta.get("type") == "thinking_delta" and isinstance(thinking, str):
                self._thinking.append(thinking)
        elif kind == "message_delta":
            self._stop_reason = obj(payload.get("delta")).get("stop_reason") or self._stop_reason
            self._take_usage(obj(payload.get("usage")))
        elif kind == "message_stop":
            self.finished = True
        return ""

    def _take_usage(self, usage: dict[str, Any]) -> None:
        # Counts are running totals: a later value replaces an earlier one.
        for key in self._usage:
            if isinstance(usage.get(key), int):
                self._usage[key] = usage[key]

    @property
    def paused(self) -> bool:
        return self.finished and self._stop_reason == PAUSE_TURN

    def final_chunk(self) -> Chunk:
        """The last chunk; raises for a refusal or a full context window (``check_stop``)."""
        check_stop(self.name, self._stop_reason)
        usage = Usage(self._usage["input_tokens"], self._usage["output_tokens"])
        return Chunk(finish_reason=finish_reason(self._stop_reason), usage=usage)

    def unfinished(self) -> ProviderUnavailableError:
        return stream_ended(self.name)


def _index(payload: dict[str, Any]) -> int | None:
    index = payload.get("index")
    return index if isinstance(index, int) else None
