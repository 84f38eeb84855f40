"""A loopback server that speaks the Gemini API, for provider, router, CLI and fault tests.

Shapes follow Google's own recorded Gemini Developer API responses
(github.com/FirebaseExtended/vertexai-sdk-test-data, ``mock-responses/googleai/``) and the
REST reference (ai.google.dev/api):

- ``POST /v1beta/models/{model}:streamGenerateContent?alt=sse`` answers ``text/event-stream``,
  one ``data: <GenerateContentResponse>`` event per chunk, CRLF-separated as Google sends
  them; every chunk repeats ``usageMetadata`` and the last carries ``finishReason``.
- ``POST /v1beta/models/{model}:generateContent`` answers one GenerateContentResponse.
- ``GET /v1beta/models?pageSize=&pageToken=`` pages ``{"models": [...], "nextPageToken"}``.
- Errors are google.rpc statuses: ``{"error": {"code", "message", "status", "details"}}``.

Typical use::

    with GeminiWire() as wire:                      # or GeminiWire(loopback) on a fixture
        wire.answer(["Hel", "lo"]).fail(503)
        provider = GeminiProvider(wire.settings())

Scripted steps answer generate requests in order (a model listing never takes a step meant
for a chat); when none is left, a known model answers ``default_tokens`` and an unknown one
gets Google's 404. With ``key=...`` a request without that key gets API_KEY_INVALID.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

from providers.base import ProviderSettings
from tests import HANG_S
from tests.wire.loopback import BodyPart, LoopbackServer, Pause, Reply, Request, Reset

SSE = "text/event-stream"
MODEL_VERSION = "gemini-2.5-flash"
DEFAULT_MODELS = ("gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.0-flash")
DEFAULT_TOKENS = ("Hello", " from", " Gemini", ".")
TEST_KEY = "test-gemini-key"

Step = Callable[[Request], Reply]
#: Which requests a step may answer: "generate", "models", an exact path, or None (any).
Kind = str | None

STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
MESSAGES = {
    400: "Invalid JSON payload received.",
    403: "Method doesn't allow unregistered callers (callers without established identity).",
    429: "You exceeded your current quota, please check your plan and billing details.",
    500: "An internal error has occurred. Please retry or report in "
    "https://developers.generativeai.google/guide/troubleshooting",
    503: "The model is overloaded. Please try again later.",
    504: "Deadline expired before operation could complete.",
}


def usage_metadata(prompt: int, candidates: int | None = None, thoughts: int = 0) -> dict[str, Any]:
    """``usageMetadata`` as Google sends it (no candidates count until text was generated)."""
    meta: dict[str, Any] = {"promptTokenCount": prompt}
    if candidates is not None:
        meta["candidatesTokenCount"] = candidates
    if thoughts:
        meta["thoughtsTokenCount"] = thoughts
    meta["totalTokenCount"] = prompt + (candidates or 0) + thoughts
    meta["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": prompt}]
    return meta


def response_chunk(
    texts: Sequence[str] = (),
    *,
    thoughts: Sequence[str] = (),
    finish: str | None = None,
    usage: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One GenerateContentResponse: thought parts first, then answer parts."""
    parts = [{"text": t, "thought": True} for t in thoughts] + [{"text": t} for t in texts]
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
    if finish is not None:
        candidate["finishReason"] = finish
    chunk: dict[str, Any] = {"candidates": [candidate]}
    if usage is not None:
        chunk["usageMetadata"] = usage
    chunk["modelVersion"] = MODEL_VERSION
    return chunk


def stream_events(
    tokens: Sequence[str],
    *,
    finish: str | None = "STOP",
    prompt_tokens: int = 7,
    output_tokens: int | None = None,
    thoughts: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """The chunks of a streamed answer: thoughts, one chunk per token, finishReason last.

    ``finish=None`` leaves the finishReason out (a stream that never finished).
    """
    think = 12 * len(thoughts)
    early = usage_metadata(prompt_tokens, thoughts=think)
    events = [response_chunk(thoughts=[t], usage=early) for t in thoughts]
    events += [response_chunk([t], usage=early) for t in tokens]
    out = len(tokens) if output_tokens is None else output_tokens
    last = usage_metadata(prompt_tokens, out, think)
    if events and finish is not None:
        events[-1] = {**events[-1], "usageMetadata": last}
        events[-1]["candidates"] = [{**events[-1]["candidates"][0], "finishReason": finish}]
    elif finish is not None:
        events.append(response_chunk(finish=finish, usage=last))
    return events


def sse_body(
    events: Sequence[dict[str, Any] | str], *, sep: str = "\r\n", final_blank: bool = True
) -> list[BodyPart]:
    """``data:`` events, one network write each; ``final_blank=False`` drops the last
    event's blank line (the stream simply ends after its ``data:`` line)."""
    parts: list[BodyPart] = [
        f"data: {e if isinstance(e, str) else json.dumps(e)}{sep}{sep}" for e in events
    ]
    if parts and not final_blank:
        parts[-1] = str(parts[-1])[: -len(sep)]
    return parts


def stream_reply(
    tokens: Sequence[str],
    *,
    sep: str = "\r\n",
    final_blank: bool = True,
    pause: float = 0.0,
    **kwargs: Any,
) -> Reply:
    """A whole SSE answer; ``kwargs`` go to ``stream_events``; ``pause`` before each event."""
    parts = sse_body(stream_events(tokens, **kwargs), sep=sep, final_blank=final_blank)
    return Reply(body=_paced(parts, pause), content_type=SSE)


def generate_response(
    text: str,
    *,
    finish: str = "STOP",
    prompt_tokens: int = 7,
    output_tokens: int = 5,
    thoughts: Sequence[str] = (),
) -> dict[str, Any]:
    """A ``:generateContent`` answer."""
    usage = usage_metadata(prompt_tokens, output_tokens, 12 * len(thoughts))
    return response_chunk([text] if text else [], thoughts=thoughts, finish=finish, usage=usage)


def prompt_blocked(reason: str = "SAFETY") -> dict[str, Any]:
    """A response whose prompt was refused: ``promptFeedback.blockReason``, no candidates."""
    ratings = [{"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "HIGH"}]
    return {
        "promptFeedback": {"blockReason": reason, "safetyRatings": ratings},
        "usageMetadata": usage_metadata(7),
        "modelVersion": MODEL_VERSION,
    }


def error_body(
    code: int,
    message: str | None = None,
    *,
    status: str | None = None,
    details: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """A google.rpc error body."""
    error: dict[str, Any] = {
        "code": code,
        "message": message or MESSAGES.get(code, f"HTTP {code}"),
        "status": status or STATUS_NAMES.get(code, "UNKNOWN"),
    }
    if details:
        error["details"] = list(details)
    return {"error": error}


def error_reply(
    code: int,
    message: str | None = None,
    *,
    status: str | None = None,
    details: Sequence[dict[str, Any]] = (),
    headers: dict[str, str] | None = None,
) -> Reply:
    body = error_body(code, message, status=status, details=details)
    return Reply.json(body, status=code, **(headers or {}))


def api_key_invalid(echo: str = "") -> Reply:
    """Google's answer to a bad key: 400 INVALID_ARGUMENT, reason API_KEY_INVALID.

    The real DebugInfo detail echoes the key it got (``echo``), as in the recorded
    ``unary-failure-api-key.txt``.
    """
    details: list[dict[str, Any]] = [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "API_KEY_INVALID",
            "domain": "googleapis.com",
            "metadata": {"service": "generativelanguage.googleapis.com"},
        },
        {"@type": "type.googleapis.com/google.rpc.DebugInfo", "detail": f"Invalid API key: {echo}"},
    ]
    return error_reply(400, "API key not valid. Please pass a valid API key.", details=details)


def quota_exhausted(retry_delay: str | None = "17s", retry_after: str | None = None) -> Reply:
    """429 RESOURCE_EXHAUSTED with a RetryInfo detail and/or a Retry-After header."""
    details: list[dict[str, Any]] = [
        {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []}
    ]
    if retry_delay is not None:
        details.append(
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay}
        )
    headers = {"Retry-After": retry_after} if retry_after is not None else None
    return error_reply(429, details=details, headers=headers)


def context_too_long(tokens: int = 1_200_000) -> Reply:
    message = (
        f"The input token count ({tokens}) exceeds the maximum number of tokens allowed (1048576)."
    )
    return error_reply(400, message)


def model_not_found(model: str) -> Reply:
    message = (
        f"models/{model} is not found for API version v1beta, or is not supported for "
        "generateContent. Call ListModels to see the list of available models and their "
        "supported methods."
    )
    return error_reply(404, message)


def model_entry(
    name: str, methods: Sequence[str] = ("generateContent", "countTokens")
) -> dict[str, Any]:
    return {
        "name": f"models/{name}",
        "version": "001",
        "displayName": name,
        "inputTokenLimit": 1048576,
        "outputTokenLimit": 65536,
        "supportedGenerationMethods": list(methods),
    }


def models_page(entries: Sequence[dict[str, Any]], next_token: str | None = None) -> dict[str, Any]:
    page: dict[str, Any] = {"models": list(entries)}
    if next_token:
        page["nextPageToken"] = next_token
    return page


def is_generate(request: Request) -> bool:
    method = _path(request).rpartition(":")[2]
    return request.method == "POST" and method in ("generateContent", "streamGenerateContent")


def is_stream(request: Request) -> bool:
    return _path(request).endswith(":streamGenerateContent")


def requested_model(request: Request) -> str:
    """The model id of a generate request (without ``models/``), under /v1beta or /v1."""
    resource = _path(request).rpartition(":")[0].split("/", 2)[-1]
    return resource.removeprefix("models/")


class GeminiWire:
    """A Gemini API on a real loopback socket, scripted step by step.

    Pass a started ``LoopbackServer`` (e.g. the ``loopback`` fixture) to take it over, or
    none to own one (then use ``with``). Scripting methods return ``self`` so steps chain.
    """

    def __init__(
        self,
        server: LoopbackServer | None = None,
        *,
        models: Sequence[str] = DEFAULT_MODELS,
        default_tokens: Sequence[str] = DEFAULT_TOKENS,
        page_size: int = 50,
        key: str | None = None,
        accept_any_model: bool = False,
    ) -> None:
        self.models = [model_entry(m) for m in models]
        self.default_tokens = list(default_tokens)
        self.page_size = page_size
        self.key = key
        self.accept_any_model = accept_any_model
        self._steps: deque[tuple[Kind, Step]] = deque()
        self._lock = threading.Lock()
        self._owns_server = server is None
        self.server = server or LoopbackServer()
        self.server.handler = self._handle

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def requests(self) -> list[Request]:
        return self.server.requests

    def start(self) -> GeminiWire:
        if self._owns_server:
            self.server.start()
        return self

    def stop(self) -> None:
        if self._owns_server:
            self.server.stop()

    def __enter__(self) -> GeminiWire:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_closed(self, timeout: float = HANG_S) -> bool:
        return self.server.wait_closed(timeout)

    def settings(self, name: str = "gemini", **overrides: Any) -> ProviderSettings:
        """Provider settings pointing at this server, with ``TEST_KEY`` (or ``key``)."""
        settings = ProviderSettings(
            name=name,
            type="gemini",
            default_model="gemini-2.5-flash",
            api_key=self.key or TEST_KEY,
            api_key_env="GEMINI_API_KEY",
            base_url=self.url,
        )
        return replace(settings, **overrides)

    def generate_bodies(self) -> list[Any]:
        """The JSON bodies of every generate request received so far."""
        return [r.json() for r in self.requests if is_generate(r)]

    def answer(
        self,
        tokens: Sequence[str],
        *,
        finish: str = "STOP",
        prompt_tokens: int = 7,
        output_tokens: int | None = None,
        thoughts: Sequence[str] = (),
        sep: str = "\r\n",
        pause: float = 0.0,
    ) -> GeminiWire:
        """Answer the next generate request with ``tokens``: streamed, or whole for
        ``:generateContent``. ``pause`` waits before each event (hedging, timeouts)."""
        out = len(tokens) if output_tokens is None else output_tokens

        def step(request: Request) -> Reply:
            if not is_stream(request):
                text = "".join(tokens)
                body = generate_response(
                    text,
                    finish=finish,
                    prompt_tokens=prompt_tokens,
                    output_tokens=out,
                    thoughts=thoughts,
                )
                return Reply.json(body)
            return stream_reply(
                tokens,
                sep=sep,
                pause=pause,
                finish=finish,
                prompt_tokens=prompt_tokens,
                output_tokens=out,
                thoughts=thoughts,
            )

        return self._add("generate", step)

    def blocked(self, reason: str = "SAFETY") -> GeminiWire:
        """The next prompt is refused (``promptFeedback.blockReason``), streamed or not."""

        def step(request: Request) -> Reply:
            data = prompt_blocked(reason)
            return (
                Reply(body=sse_body([data]), content_type=SSE)
                if is_stream(request)
                else Reply.json(data)
            )

        return self._add("generate", step)

    def events(self, events: Sequence[dict[str, Any] | str], **kwargs: Any) -> GeminiWire:
        """Stream exactly these events (dicts as JSON, strings raw) to the next generate."""
        return self.reply(Reply(body=sse_body(events, **kwargs), content_type=SSE), kind="generate")

    def cut(self, tokens: Sequence[str], fault: BodyPart | None = None) -> GeminiWire:
        """Stream ``tokens`` with no finishReason, then ``fault`` (default: TCP reset)."""
        parts = [*sse_body(stream_events(tokens, finish=None)), fault or Reset()]
        return self.reply(Reply(body=parts, content_type=SSE), kind="generate")

    def error_in_stream(
        self, tokens: Sequence[str], code: int = 500, message: str | None = None
    ) -> GeminiWire:
        """Stream ``tokens``, then an in-band google.rpc error event on the 200 stream."""
        events = [*stream_events(tokens, finish=None), error_body(code, message)]
        return self.events(events)

    def fail(
        self,
        code: int,
        message: str | None = None,
        *,
        status: str | None = None,
        details: Sequence[dict[str, Any]] = (),
        headers: dict[str, str] | None = None,
        kind: Kind = None,
    ) -> GeminiWire:
        """Answer the next request (of ``kind``) with a google.rpc error."""
        reply = error_reply(code, message, status=status, details=details, headers=headers)
        return self.reply(reply, kind=kind)

    def reply(self, reply: Reply, *, kind: Kind = None) -> GeminiWire:
        """Answer the next request (of ``kind``) with a raw scripted Reply."""
        return self._add(kind, lambda _: reply)

    def respond(self, step: Step, *, kind: Kind = None) -> GeminiWire:
        return self._add(kind, step)

    def _add(self, kind: Kind, step: Step) -> GeminiWire:
        with self._lock:
            self._steps.append((kind, step))
        return self

    def _handle(self, request: Request) -> Reply:
        # Runs on the server's connection threads while the test may still be scripting.
        if self.key is not None and request.headers.get("x-goog-api-key") != self.key:
            return api_key_invalid(request.headers.get("x-goog-api-key", ""))
        with self._lock:
            step = self._take(request)
        return step(request)

    def _take(self, request: Request) -> Step:
        for i, (kind, step) in enumerate(self._steps):
            if kind is None or kind == _kind(request) or kind == _path(request):
                del self._steps[i]
                return step
        return self._default

    def _default(self, request: Request) -> Reply:
        if request.method == "GET" and _path(request) in ("/v1beta/models", "/v1/models"):
            return self._models_page(request)
        if is_generate(request):
            model = requested_model(request)
            known = any(m["name"] == f"models/{model}" for m in self.models)
            if not (known or self.accept_any_model):
                return model_not_found(model)
            return (
                stream_reply(self.default_tokens)
                if is_stream(request)
                else Reply.json(generate_response("".join(self.default_tokens)))
            )
        return error_reply(404, f"Method not found: {_path(request)}")

    def _models_page(self, request: Request) -> Reply:
        query = parse_qs(urlsplit(request.path).query)
        start = int(query.get("pageToken", ["0"])[0] or 0)
        size = min(int(query.get("pageSize", [str(self.page_size)])[0]), self.page_size)
        end = start + size
        token = str(end) if end < len(self.models) else None
        return Reply.json(models_page(self.models[start:end], token))


def _kind(request: Request) -> str:
    return (
        "generate"
        if is_generate(request)
        else "models"
        if _path(request).endswith("/models")
        else ""
    )


def _path(request: Request) -> str:
    return urlsplit(request.path).path


def _paced(parts: list[BodyPart], pause: float) -> list[BodyPart]:
    if pause <= 0:
        return parts
    return [p for part in parts for p in (Pause(pause), part)]


__all__ = [
    "SSE",
    "TEST_KEY",
    "GeminiWire",
    "api_key_invalid",
    "context_too_long",
    "error_body",
    "error_reply",
    "generate_response",
    "model_entry",
    "model_not_found",
    "models_page",
    "prompt_blocked",
    "quota_exhausted",
    "response_chunk",
    "sse_body",
    "stream_events",
    "stream_reply",
    "usage_metadata",
]
