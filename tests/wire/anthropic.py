"""A loopback server that answers like the Anthropic Messages API, for any test that needs Claude.

Event shapes follow the API docs ("Streaming Messages", "Errors", "List Models"). Typical use::

    wire = AnthropicWire(loopback)           # installs itself as the server's handler
    wire.answer(["Hel", "lo"])               # next /v1/messages: SSE or JSON, as requested
    wire.error(529, "overloaded_error", "Overloaded")
    wire.answer(["partial"], interrupt=Reset())   # tokens, then the connection is reset
    wire.stream_error(["partial"], "overloaded_error", "Overloaded")   # `event: error`
    provider = AnthropicProvider(claude_settings(loopback.url))

``/v1/models`` is served from ``models`` in pages of ``page_size``. Replies queued with
``server.enqueue`` still take precedence, so raw bytes stay scriptable. ``quick_server()``
is a LoopbackServer that stops without the 2 s accept() wait.
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

from providers.base import ProviderSettings
from tests.wire.loopback import BodyPart, LoopbackServer, Pause, Reply, Request, sse

TEST_KEY = "sk-ant-test-0000"
DEFAULT_MODELS = ("claude-sonnet-4-5-20250929", "claude-opus-4-1-20250805", "claude-haiku-4-5")
Event = tuple[str, dict[str, Any]]


def claude_settings(
    base_url: str, *, api_key: str | None = TEST_KEY, **kw: Any
) -> ProviderSettings:
    """ProviderSettings for the built-in ``claude`` provider pointed at ``base_url``."""
    fields: dict[str, Any] = {
        "name": "claude",
        "type": "anthropic",
        "default_model": "claude-sonnet-4-5",
        "api_key": api_key,
        "api_key_env": "ANTHROPIC_API_KEY",
        "base_url": base_url,
        "timeout": 5.0,
    }
    return ProviderSettings(**{**fields, **kw})


@contextlib.contextmanager
def quick_server() -> Iterator[LoopbackServer]:
    """A started LoopbackServer that stops at once.

    Closing a listening socket does not wake a thread blocked in accept() on Linux, so
    ``LoopbackServer.stop()`` waits out its 2 s join after any test that connected;
    shutdown() does wake it.
    """
    with LoopbackServer() as server:
        try:
            yield server
        finally:
            with contextlib.suppress(OSError):
                server._sock.shutdown(socket.SHUT_RDWR)


def stream_events(
    tokens: Sequence[str],
    *,
    model: str = DEFAULT_MODELS[0],
    stop_reason: str = "end_turn",
    input_tokens: int = 12,
    output_tokens: int | None = None,
    thinking: Sequence[str] = (),
) -> list[Event]:
    """A complete event sequence: message_start, [thinking block], text block, delta, stop."""
    start: dict[str, Any] = {
        "id": "msg_01Loopback",
        "type": "message",
        "role": "assistant",
        "content": [],
        "model": model,
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": 1},
    }
    events: list[Event] = [("message_start", {"type": "message_start", "message": start})]
    index = 0
    if thinking:
        deltas = [{"type": "thinking_delta", "thinking": t} for t in thinking]
        deltas.append({"type": "signature_delta", "signature": "EqQBCgIYAhIM"})
        events += block_events(index, {"type": "thinking", "thinking": "", "signature": ""}, deltas)
        index += 1
    events.append(("ping", {"type": "ping"}))
    text_deltas = [{"type": "text_delta", "text": t} for t in tokens]
    events += block_events(index, {"type": "text", "text": ""}, text_deltas)
    return events + finish_events(stop_reason, output_tokens or len(tokens))


def block_events(
    index: int, block: dict[str, Any], deltas: Iterable[dict[str, Any]]
) -> list[Event]:
    """content_block_start, one content_block_delta per delta, content_block_stop."""
    events: list[Event] = [
        (
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": block},
        )
    ]
    for delta in deltas:
        events.append(
            ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
        )
    events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    return events


def finish_events(stop_reason: str = "end_turn", output_tokens: int = 1) -> list[Event]:
    delta = {"stop_reason": stop_reason, "stop_sequence": None}
    usage = {"output_tokens": output_tokens}
    return [
        ("message_delta", {"type": "message_delta", "delta": delta, "usage": usage}),
        ("message_stop", {"type": "message_stop"}),
    ]


def error_body(etype: str, message: str) -> dict[str, Any]:
    """The API's error shape (docs, "Errors": error shapes)."""
    return {
        "type": "error",
        "error": {"type": etype, "message": message},
        "request_id": "req_01Loop",
    }


def error_event(etype: str, message: str) -> Event:
    return ("error", error_body(etype, message))


def sse_reply(events: Iterable[Event], *tail: BodyPart) -> Reply:
    """A 200 event-stream reply of ``events``, then any extra raw parts (faults, bytes)."""
    return Reply(body=[*sse(events), *tail], content_type="text/event-stream")


def message_json(
    text: str,
    *,
    model: str = DEFAULT_MODELS[0],
    stop_reason: str = "end_turn",
    input_tokens: int = 12,
    output_tokens: int = 5,
) -> dict[str, Any]:
    """A non-streaming /v1/messages response body."""
    return {
        "id": "msg_01Loopback",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
    }


def error_reply(
    status: int, etype: str, message: str, headers: dict[str, str] | None = None
) -> Reply:
    """An HTTP error in the API's shape, e.g. ``error_reply(429, ..., {"retry-after": "3"})``."""
    return Reply.json(error_body(etype, message), status=status, **(headers or {}))


def models_page(ids: Sequence[str], *, has_more: bool) -> dict[str, Any]:
    data = [
        {"type": "model", "id": i, "display_name": i, "created_at": "2025-09-29T00:00:00Z"}
        for i in ids
    ]
    first, last = (ids[0], ids[-1]) if ids else (None, None)
    return {"data": data, "has_more": has_more, "first_id": first, "last_id": last}


Responder = Callable[[Request], Reply]


class AnthropicWire:
    """Scripted Messages API behind a LoopbackServer: answers, errors, model pages."""

    def __init__(
        self,
        server: LoopbackServer,
        *,
        models: Sequence[str] = DEFAULT_MODELS,
        page_size: int = 1000,
        key: str | None = None,
    ) -> None:
        self.server = server
        self.models = list(models)
        #: The most models one /v1/models page holds, whatever ``limit`` asks (for paging).
        self.page_size = page_size
        #: When set, requests without this ``x-api-key`` get the API's 401.
        self.key = key
        self.fallback: Responder | None = None
        self._queue: deque[Responder] = deque()
        server.handler = self._handle

    def answer(
        self,
        tokens: Sequence[str],
        *,
        always: bool = False,
        interrupt: BodyPart | None = None,
        delay: float = 0.0,
        token_delay: float = 0.0,
        **shape: Any,
    ) -> AnthropicWire:
        """Answer the next /v1/messages with ``tokens`` (SSE when the request streams).

        ``interrupt`` (e.g. ``Reset()`` or ``Stall()``) is sent after the text deltas in
        place of the finish; ``delay`` pauses before the first event, ``token_delay``
        between tokens; ``shape`` goes to ``stream_events`` (stop_reason, thinking...).
        ``always`` makes this the answer to every request once the queue is empty.
        """

        def respond(request: Request) -> Reply:
            if not _wants_stream(request):
                text = "".join(tokens)
                out = shape.get("output_tokens") or len(tokens)
                keep = {
                    k: v for k, v in shape.items() if k in ("model", "stop_reason", "input_tokens")
                }
                return Reply.json(message_json(text, output_tokens=out, **keep))
            return Reply(
                body=_stream_parts(tokens, interrupt, delay, token_delay, shape),
                content_type="text/event-stream",
            )

        return self._add(respond, always)

    def error(
        self,
        status: int,
        etype: str,
        message: str,
        headers: dict[str, str] | None = None,
        *,
        always: bool = False,
    ) -> AnthropicWire:
        """Answer the next /v1/messages with an HTTP error in the API's shape."""
        return self._add(lambda _r: error_reply(status, etype, message, headers), always)

    def stream_error(self, tokens: Sequence[str], etype: str, message: str) -> AnthropicWire:
        """A 200 stream that sends ``tokens`` and then ``event: error``."""
        events = stream_events(tokens)[:-2]  # drop message_delta and message_stop
        return self.reply(sse_reply([*events, error_event(etype, message)]))

    def reply(self, reply: Reply, *, always: bool = False) -> AnthropicWire:
        """Answer the next /v1/messages with an arbitrary scripted reply."""
        return self._add(lambda _r: reply, always)

    @property
    def message_requests(self) -> list[Request]:
        return [r for r in self.server.requests if urlsplit(r.path).path.endswith("/v1/messages")]

    def _add(self, responder: Responder, always: bool) -> AnthropicWire:
        if always:
            self.fallback = responder
        else:
            self._queue.append(responder)
        return self

    def _handle(self, request: Request) -> Reply:
        if self.key is not None and request.headers.get("x-api-key") != self.key:
            return error_reply(401, "authentication_error", "invalid x-api-key")
        path = urlsplit(request.path).path
        if path.endswith("/v1/models"):
            return self._models(request)
        if path.endswith("/v1/messages"):
            if self._queue:
                return self._queue.popleft()(request)
            if self.fallback is not None:
                return self.fallback(request)
            return error_reply(500, "api_error", "no answer scripted for this request")
        return error_reply(404, "not_found_error", f"no route for {path}")

    def _models(self, request: Request) -> Reply:
        query = parse_qs(urlsplit(request.path).query)
        limit = min(int(query.get("limit", ["20"])[0]), self.page_size)
        after = query.get("after_id", [None])[0]
        start = self.models.index(after) + 1 if after in self.models else 0
        page = self.models[start : start + limit]
        return Reply.json(models_page(page, has_more=start + limit < len(self.models)))


def _wants_stream(request: Request) -> bool:
    try:
        return bool(json.loads(request.body or b"{}").get("stream"))
    except ValueError:
        return False


def _stream_parts(
    tokens: Sequence[str],
    interrupt: BodyPart | None,
    delay: float,
    token_delay: float,
    shape: dict[str, Any],
) -> list[BodyPart]:
    events = stream_events(tokens, **shape)
    if interrupt is not None:
        events = events[:-2]
    parts: list[BodyPart] = [Pause(delay)] if delay else []
    for part in sse(events):
        if token_delay and isinstance(part, str) and '"text_delta"' in part:
            parts.append(Pause(token_delay))
        parts.append(part)
    if interrupt is not None:
        parts.append(interrupt)
    return parts
