"""A loopback server that speaks Ollama's HTTP API, for provider, router, CLI and fault tests.

Shapes follow Ollama's docs/api.md ("Generate a chat completion", "List Local Models")
and the server's api/types.go: ``/api/chat`` streams NDJSON lines
``{"model", "created_at", "message": {"role", "content"}, "done": false}`` and ends with a
``done: true`` line carrying ``done_reason``, ``prompt_eval_count`` and ``eval_count``;
with ``"stream": false`` it answers one such object. Errors are ``{"error": "..."}``.

Typical use::

    with OllamaWire() as wire:
        wire.answer(["Hel", "lo"]).fail(500, "boom")
        provider = OllamaProvider(wire.settings())

Scripted steps answer requests in order; when none is left, ``/api/tags`` lists
``models`` and ``/api/chat`` answers ``default_tokens`` for an installed model and a 404
"model not found" otherwise, as a real server does.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

from providers.base import ProviderSettings
from tests import HANG_S
from tests.wire.loopback import BodyPart, LoopbackServer, Pause, Reply, Request, Reset

NDJSON = "application/x-ndjson"
CREATED_AT = "2024-12-06T00:46:58.265747Z"
DEFAULT_MODELS = ("llama3.2:latest",)
DEFAULT_TOKENS = ("Hello", " from", " Ollama", ".")

Step = Callable[[Request], Reply]


def ndjson_lines(objects: Iterable[Any]) -> list[BodyPart]:
    """One body part per JSON line, UTF-8 unescaped as Ollama's Go encoder writes it."""
    return [json.dumps(o, ensure_ascii=False) + "\n" for o in objects]


def chat_line(content: str, *, model: str = "llama3.2") -> dict[str, Any]:
    """One not-yet-done line of a streamed chat answer."""
    return {
        "model": model,
        "created_at": CREATED_AT,
        "message": {"role": "assistant", "content": content},
        "done": False,
    }


def done_line(
    *,
    model: str = "llama3.2",
    done_reason: str | None = "stop",
    prompt_eval_count: int = 26,
    eval_count: int = 0,
    content: str = "",
) -> dict[str, Any]:
    """The final ``done: true`` line (or the whole non-streaming answer, with ``content``)."""
    line: dict[str, Any] = {
        "model": model,
        "created_at": CREATED_AT,
        "message": {"role": "assistant", "content": content},
        "done": True,
        "total_duration": 4883583458,
        "load_duration": 1334875,
        "prompt_eval_count": prompt_eval_count,
        "prompt_eval_duration": 342546000,
        "eval_count": eval_count,
        "eval_duration": 4535599000,
    }
    if done_reason is not None:
        line["done_reason"] = done_reason
    return line


def chat_events(
    tokens: Sequence[str],
    *,
    model: str = "llama3.2",
    done_reason: str | None = "stop",
    prompt_eval_count: int = 26,
    eval_count: int | None = None,
) -> list[dict[str, Any]]:
    """Every line of a streamed answer: one per token, then the done line."""
    done = done_line(
        model=model,
        done_reason=done_reason,
        prompt_eval_count=prompt_eval_count,
        eval_count=len(tokens) if eval_count is None else eval_count,
    )
    return [*(chat_line(t, model=model) for t in tokens), done]


def chat_stream(tokens: Sequence[str], **kwargs: Any) -> list[BodyPart]:
    """A complete NDJSON chat stream as body parts (one network write per line)."""
    return ndjson_lines(chat_events(tokens, **kwargs))


def chat_response(
    text: str,
    *,
    model: str = "llama3.2",
    done_reason: str | None = "stop",
    prompt_eval_count: int = 26,
    eval_count: int = 5,
) -> dict[str, Any]:
    """A non-streaming (``"stream": false``) chat answer."""
    return done_line(
        model=model,
        done_reason=done_reason,
        prompt_eval_count=prompt_eval_count,
        eval_count=eval_count,
        content=text,
    )


def tags_response(models: Iterable[str]) -> dict[str, Any]:
    """An ``/api/tags`` listing (newer servers send both ``name`` and ``model``)."""
    return {
        "models": [
            {
                "name": m,
                "model": m,
                "modified_at": "2024-11-04T14:56:49.277302595-07:00",
                "size": 2019393189,
                "digest": "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
                "details": {"format": "gguf", "family": "llama", "parameter_size": "3.2B"},
            }
            for m in models
        ]
    }


def error_reply(status: int, message: str, **headers: str) -> Reply:
    """Ollama's error shape: ``{"error": message}`` with ``status``."""
    return Reply.json({"error": message}, status=status, **headers)


def model_not_found(model: str) -> Reply:
    """What a server answers for a model that was never pulled."""
    return error_reply(404, f"model '{model}' not found")


def wants_stream(request: Request) -> bool:
    """Ollama streams unless the body says ``"stream": false``."""
    try:
        body = request.json()
    except ValueError:
        return True
    return not (isinstance(body, dict) and body.get("stream") is False)


def requested_model(request: Request, default: str = "llama3.2") -> str:
    try:
        body = request.json()
    except ValueError:
        return default
    model = body.get("model") if isinstance(body, dict) else None
    return model if isinstance(model, str) else default


class OllamaWire:
    """An Ollama server on a real loopback socket, scripted step by step.

    Every scripting method returns ``self`` so steps chain. ``path=None`` on a step means
    "the next request, whatever its path"; otherwise only a request to that path takes it.
    """

    def __init__(
        self,
        models: Sequence[str] = DEFAULT_MODELS,
        default_tokens: Sequence[str] = DEFAULT_TOKENS,
        *,
        accept_any_model: bool = False,
    ) -> None:
        self.models = list(models)
        self.default_tokens = list(default_tokens)
        self.accept_any_model = accept_any_model
        self._steps: deque[tuple[str | None, Step]] = deque()
        self._lock = threading.Lock()
        self.server = LoopbackServer(self._handle)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def requests(self) -> list[Request]:
        return self.server.requests

    def start(self) -> OllamaWire:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> OllamaWire:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_closed(self, timeout: float = HANG_S) -> bool:
        return self.server.wait_closed(timeout)

    def settings(self, name: str = "ollama", **overrides: Any) -> ProviderSettings:
        """Provider settings pointing at this server (``host`` option set)."""
        settings = ProviderSettings(
            name=name, type="ollama", default_model="llama3.2", options={"host": self.url}
        )
        return replace(settings, **overrides)

    def chat_bodies(self) -> list[dict[str, Any]]:
        """The JSON bodies of every ``/api/chat`` request received so far."""
        return [r.json() for r in self.requests if r.path == "/api/chat"]

    def answer(
        self,
        tokens: Sequence[str],
        *,
        model: str | None = None,
        done_reason: str | None = "stop",
        prompt_eval_count: int = 26,
        eval_count: int | None = None,
        pause: float = 0.0,
    ) -> OllamaWire:
        """Answer the next chat with ``tokens`` (streamed, or whole for ``stream: false``).

        ``pause`` waits before each line (for hedging and timeout tests).
        """
        step = answer_step(
            tokens,
            model=model,
            done_reason=done_reason,
            prompt_eval_count=prompt_eval_count,
            eval_count=eval_count,
            pause=pause,
        )
        return self._add("/api/chat", step)

    def cut(self, tokens: Sequence[str], fault: BodyPart | None = None) -> OllamaWire:
        """Stream ``tokens`` of the next chat, then ``fault`` (default: TCP reset); no done line."""
        parts = [*ndjson_lines(chat_line(t) for t in tokens), fault or Reset()]
        return self._add("/api/chat", lambda _: Reply(body=parts, content_type=NDJSON))

    def error_in_stream(self, tokens: Sequence[str], message: str) -> OllamaWire:
        """Stream ``tokens``, then an in-band ``{"error": message}`` line on the 200 stream."""
        parts = ndjson_lines([*(chat_line(t) for t in tokens), {"error": message}])
        return self._add("/api/chat", lambda _: Reply(body=parts, content_type=NDJSON))

    def fail(
        self,
        status: int,
        body: str | bytes | dict[str, Any] | None = None,
        *,
        path: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> OllamaWire:
        """Answer the next request with ``status``.

        ``body``: a string becomes ``{"error": body}``; a dict is sent as JSON; bytes raw;
        None gives a generic Ollama error.
        """
        if isinstance(body, bytes):
            reply = Reply(status=status, body=body, headers=dict(headers or {}))
        else:
            data = body if isinstance(body, dict) else {"error": body or f"HTTP {status}"}
            reply = Reply.json(data, status=status, **(headers or {}))
        return self.reply(reply, path=path)

    def reply(self, reply: Reply, *, path: str | None = None) -> OllamaWire:
        """Answer the next request (to ``path``, if given) with a raw scripted Reply."""
        return self._add(path, lambda _: reply)

    def respond(self, step: Step, *, path: str | None = None) -> OllamaWire:
        """Answer the next request (to ``path``, if given) with ``step(request)``."""
        return self._add(path, step)

    def _add(self, path: str | None, step: Step) -> OllamaWire:
        with self._lock:
            self._steps.append((path, step))
        return self

    def _handle(self, request: Request) -> Reply:
        # Runs on the server's connection threads while the test may still be scripting.
        with self._lock:
            step = self._take(request.path)
        return step(request)

    def _take(self, request_path: str) -> Step:
        for i, (path, step) in enumerate(self._steps):
            if path is None or path == request_path:
                del self._steps[i]
                return step
        return self._default

    def _default(self, request: Request) -> Reply:
        if request.path == "/api/tags":
            return Reply.json(tags_response(self.models))
        if request.path == "/api/version":
            return Reply.json({"version": "0.6.0"})
        if request.path == "/api/chat":
            model = requested_model(request)
            if self.accept_any_model or self._installed(model):
                return answer_step(self.default_tokens)(request)
            return model_not_found(model)
        return Reply(status=404, body=b"404 page not found", content_type="text/plain")

    def _installed(self, model: str) -> bool:
        return model in self.models or f"{model}:latest" in self.models


def answer_step(
    tokens: Sequence[str],
    *,
    model: str | None = None,
    done_reason: str | None = "stop",
    prompt_eval_count: int = 26,
    eval_count: int | None = None,
    pause: float = 0.0,
) -> Step:
    """A step answering a chat request with ``tokens``, streamed or whole as it asks."""

    def step(request: Request) -> Reply:
        name = model or requested_model(request)
        count = len(tokens) if eval_count is None else eval_count
        if not wants_stream(request):
            text = "".join(tokens)
            data = chat_response(
                text,
                model=name,
                done_reason=done_reason,
                prompt_eval_count=prompt_eval_count,
                eval_count=count,
            )
            return Reply.json(data)
        events = chat_events(
            tokens,
            model=name,
            done_reason=done_reason,
            prompt_eval_count=prompt_eval_count,
            eval_count=count,
        )
        return Reply(body=_paced(ndjson_lines(events), pause), content_type=NDJSON)

    return step


def _paced(parts: list[BodyPart], pause: float) -> list[BodyPart]:
    if pause <= 0:
        return parts
    return [p for part in parts for p in (Pause(pause), part)]


__all__ = [
    "NDJSON",
    "OllamaWire",
    "answer_step",
    "chat_events",
    "chat_line",
    "chat_response",
    "chat_stream",
    "done_line",
    "error_reply",
    "model_not_found",
    "ndjson_lines",
    "tags_response",
]
