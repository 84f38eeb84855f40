"""Loopback replies in OpenAI's two wire flavours, for adapter, router, CLI and fault tests.

Builders return ``Reply`` objects (or body parts, to splice in ``Pause``/``Reset``/
``Stall``) for ``tests.wire.loopback.LoopbackServer``::

    server.enqueue(chat_stream(["Hel", "lo"]))                 # chat completions SSE
    server.enqueue(responses_stream(["Hel", "lo"]))            # Responses API SSE
    server.enqueue(error_reply(429, "slow down", retry_after="7"))
    Reply(body=[*chat_sse(["Hel"], finish_reason=None), Reset()], content_type=SSE)
    LoopbackServer(openai_handler("Hello")).start()            # answers every route

Base URLs end in ``/v1`` as the SDK's do: ``compat_settings(f"{server.url}/v1")``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from providers.base import ProviderSettings
from providers.errors import (
    BadRequestError,
    ContextLengthError,
    ModelNotFoundError,
    ProviderAuthError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitError,
)
from tests.wire.loopback import BodyPart, Handler, Reply, Request, sse

SSE = "text/event-stream"
DEFAULT_TOKENS = ("Hello", ", ", "world", "!")
CHAT_MODEL = "Qwen/Qwen3-8B"
RESPONSES_MODEL = "gpt-5-codex"


def compat_settings(base_url: str | None, **overrides: Any) -> ProviderSettings:
    """Settings of an ``openai-compatible`` instance at ``base_url`` (no key by default)."""
    values: dict[str, Any] = {
        "name": "my-vllm",
        "type": "openai-compatible",
        "default_model": CHAT_MODEL,
        "base_url": base_url,
        "timeout": 5.0,
        "connect_timeout": 1.0,
    }
    return ProviderSettings(**{**values, **overrides})


def codex_settings(base_url: str | None, **overrides: Any) -> ProviderSettings:
    """Settings of the codex provider at ``base_url`` with a test key."""
    values: dict[str, Any] = {
        "name": "codex",
        "type": "openai",
        "default_model": RESPONSES_MODEL,
        "api_key": "sk-test-key",
        "api_key_env": "OPENAI_API_KEY",
        "base_url": base_url,
        "timeout": 5.0,
        "connect_timeout": 1.0,
    }
    return ProviderSettings(**{**values, **overrides})


def chat_chunk(
    content: str | None = None,
    *,
    finish_reason: str | None = None,
    role: str | None = None,
    refusal: str | None = None,
    usage: tuple[int, int] | None = None,
    model: str = CHAT_MODEL,
) -> dict[str, Any]:
    """One ``chat.completion.chunk`` with a single choice."""
    delta: dict[str, Any] = {}
    if role is not None:
        delta["role"] = role
    if content is not None:
        delta["content"] = content
    if refusal is not None:
        delta["refusal"] = refusal
    chunk: dict[str, Any] = {
        "id": "chatcmpl-loopback",
        "object": "chat.completion.chunk",
        "created": 1723024748,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
    }
    if usage is not None:
        chunk["usage"] = _chat_usage(usage)
    return chunk


def usage_chunk(usage: tuple[int, int], model: str = CHAT_MODEL) -> dict[str, Any]:
    """The usage-only last chunk OpenAI sends for ``stream_options.include_usage``."""
    return {
        "id": "chatcmpl-loopback",
        "object": "chat.completion.chunk",
        "created": 1723024748,
        "model": model,
        "choices": [],
        "usage": _chat_usage(usage),
    }


def chat_chunks(
    tokens: Sequence[str] = DEFAULT_TOKENS,
    *,
    finish_reason: str | None = "stop",
    usage: tuple[int, int] | None = (5, 4),
    usage_in_own_chunk: bool = True,
    role_every_chunk: bool = False,
) -> list[dict[str, Any]]:
    """The chunks of a streamed answer: a role chunk, one per token, finish, then usage.

    ``finish_reason=None`` leaves the finish chunk out (a stream that never finishes).
    """
    every = "assistant" if role_every_chunk else None
    chunks = [chat_chunk("", role="assistant")]
    chunks += [chat_chunk(token, role=every) for token in tokens]
    if finish_reason is not None:
        inline = usage if usage is not None and not usage_in_own_chunk else None
        chunks.append(chat_chunk(finish_reason=finish_reason, role=every, usage=inline))
        if usage is not None and usage_in_own_chunk:
            chunks.append(usage_chunk(usage))
    return chunks


def sse_data(
    events: Iterable[Any], *, space: bool = True, done: bool = True, crlf: bool = False
) -> list[BodyPart]:
    """``data:`` blocks for chat completions (``data:x`` when ``space`` is False)."""
    nl = "\r\n" if crlf else "\n"
    prefix = "data: " if space else "data:"
    parts: list[BodyPart] = []
    for event in events:
        payload = event if isinstance(event, str) else json.dumps(event)
        parts.append(f"{prefix}{payload}{nl}{nl}")
    if done:
        parts.append(f"{prefix}[DONE]{nl}{nl}")
    return parts


def chat_sse(
    tokens: Sequence[str] = DEFAULT_TOKENS,
    *,
    space: bool = True,
    done: bool = True,
    crlf: bool = False,
    **chunk_options: Any,
) -> list[BodyPart]:
    """Body parts of a chat completions stream (see ``chat_chunks`` for the options)."""
    return sse_data(chat_chunks(tokens, **chunk_options), space=space, done=done, crlf=crlf)


def chat_stream(tokens: Sequence[str] = DEFAULT_TOKENS, **options: Any) -> Reply:
    """A whole chat completions SSE reply (options of ``chat_sse``)."""
    return Reply(body=chat_sse(tokens, **options), content_type=SSE)


def chat_reply(
    text: str = "".join(DEFAULT_TOKENS),
    *,
    finish_reason: str | None = "stop",
    usage: tuple[int, int] | None = (5, 4),
    refusal: str | None = None,
    model: str = CHAT_MODEL,
) -> Reply:
    """A non-streamed ``chat.completion``."""
    data: dict[str, Any] = {
        "id": "chatcmpl-loopback",
        "object": "chat.completion",
        "created": 1723024748,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": refusal},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
    }
    if usage is not None:
        data["usage"] = _chat_usage(usage)
    return Reply.json(data)


def response_object(
    text: str = "",
    *,
    status: str = "completed",
    reason: str | None = None,
    usage: tuple[int, int] | None = (5, 4),
    error: dict[str, Any] | None = None,
    model: str = RESPONSES_MODEL,
) -> dict[str, Any]:
    """A Responses API ``response`` object (the non-streamed reply and terminal events)."""
    output = []
    if text:
        output.append(
            {
                "id": "msg_loopback",
                "type": "message",
                "status": "completed" if status == "completed" else "incomplete",
                "role": "assistant",
                "content": [{"type": "output_text", "annotations": [], "text": text}],
            }
        )
    return {
        "id": "resp_loopback",
        "object": "response",
        "created_at": 1749761604,
        "status": status,
        "error": error,
        "incomplete_details": {"reason": reason} if reason else None,
        "model": model,
        "output": output,
        "usage": _responses_usage(usage) if usage else None,
    }


def responses_events(
    tokens: Sequence[str] = DEFAULT_TOKENS,
    *,
    status: str | None = "completed",
    reason: str | None = None,
    usage: tuple[int, int] | None = (5, 4),
    error: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Events of a Responses stream: created, reasoning noise, text deltas, terminal event.

    ``status`` picks the terminal event (``completed``, ``incomplete``, ``failed``);
    ``None`` leaves it out (a stream that never finishes).
    """
    text = "".join(tokens)
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": response_object(status="in_progress", usage=None)},
        {"type": "response.reasoning_summary_text.delta", "delta": "thinking…", "item_id": "rs_1"},
        {"type": "response.output_item.added", "output_index": 0, "item": {"type": "message"}},
    ]
    events += [
        {
            "type": "response.output_text.delta",
            "item_id": "msg_loopback",
            "output_index": 0,
            "content_index": 0,
            "delta": token,
        }
        for token in tokens
    ]
    events.append({"type": "response.output_text.done", "text": text})
    if status is not None:
        final = response_object(text, status=status, reason=reason, usage=usage, error=error)
        events.append({"type": f"response.{status}", "response": final})
    for number, event in enumerate(events):
        event["sequence_number"] = number
    return events


def responses_sse(events: Iterable[dict[str, Any]]) -> list[BodyPart]:
    """``event:``/``data:`` blocks, as the Responses API sends them."""
    return sse((event["type"], event) for event in events)


def responses_stream(tokens: Sequence[str] = DEFAULT_TOKENS, **options: Any) -> Reply:
    """A whole Responses API SSE reply (options of ``responses_events``)."""
    return Reply(body=responses_sse(responses_events(tokens, **options)), content_type=SSE)


def responses_reply(text: str = "".join(DEFAULT_TOKENS), **options: Any) -> Reply:
    """A non-streamed Responses API reply (options of ``response_object``)."""
    return Reply.json(response_object(text, **options))


def error_reply(
    status: int,
    message: str,
    *,
    error_type: str = "invalid_request_error",
    code: str | int | None = None,
    retry_after: str | None = None,
) -> Reply:
    """An OpenAI-style error: ``{"error": {"message", "type", "code", "param"}}``."""
    body = {"error": {"message": message, "type": error_type, "param": None, "code": code}}
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return Reply.json(body, status, **headers)


def text_reply(status: int, text: str, content_type: str = "text/plain") -> Reply:
    """A non-JSON error body (text or HTML), as proxies and some servers send."""
    return Reply(status=status, body=text.encode(), content_type=content_type)


def models_reply(ids: Iterable[str] = (CHAT_MODEL, "meta-llama/Llama-3.1-8B-Instruct")) -> Reply:
    """``GET /v1/models``: ``{"object": "list", "data": [{"id": ...}]}``."""
    data = [{"id": i, "object": "model", "created": 0, "owned_by": "loopback"} for i in ids]
    return Reply.json({"object": "list", "data": data})


def openai_handler(
    text: str = "".join(DEFAULT_TOKENS), models: Iterable[str] = (CHAT_MODEL,)
) -> Handler:
    """A handler answering every OpenAI route: models, chat completions and responses.

    Streams when the request body says ``stream: true``; the answer is ``text`` in
    word-sized tokens. Unknown paths get an OpenAI-style 404.
    """
    model_ids = list(models)
    tokens = [word + " " for word in text.split(" ")]
    tokens[-1] = tokens[-1][:-1]

    def handle(request: Request) -> Reply:
        path = request.path.split("?")[0].rstrip("/")
        streaming = bool(request.body) and bool(request.json().get("stream"))
        if path.endswith("/models"):
            return models_reply(model_ids)
        if path.endswith("/chat/completions"):
            return chat_stream(tokens) if streaming else chat_reply(text)
        if path.endswith("/responses"):
            return responses_stream(tokens) if streaming else responses_reply(text)
        return error_reply(404, f"Invalid URL (POST {path})", code="unknown_url")

    return handle


#: Error replies and the taxonomy error each must become, for adapter and router tests.
STATUS_CASES: list[tuple[str, Reply, type[ProviderError]]] = [
    (
        "401",
        error_reply(401, "Incorrect API key provided", code="invalid_api_key"),
        ProviderAuthError,
    ),
    (
        "403",
        error_reply(403, "Project does not have access", error_type="permission_error"),
        ProviderAuthError,
    ),
    (
        "404-model",
        error_reply(404, "The model `nope` does not exist", code="model_not_found"),
        ModelNotFoundError,
    ),
    ("413", text_reply(413, "Request Entity Too Large"), ContextLengthError),
    (
        "422-text",
        text_reply(422, "Input validation error: `temperature` must be positive"),
        BadRequestError,
    ),
    (
        "429",
        error_reply(429, "Rate limit reached", code="rate_limit_exceeded", retry_after="7"),
        RateLimitError,
    ),
    (
        "500",
        error_reply(500, "The server had an error", error_type="server_error"),
        ProviderUnavailableError,
    ),
    (
        "502-html",
        text_reply(502, "<html><body>Bad gateway</body></html>", "text/html"),
        ProviderUnavailableError,
    ),
    (
        "503",
        error_reply(503, "The engine is currently overloaded", error_type="server_error"),
        ProviderUnavailableError,
    ),
    (
        "400-context",
        error_reply(
            400,
            "This model's maximum context length is 8192 tokens",
            code="context_length_exceeded",
        ),
        ContextLengthError,
    ),
    (
        "400-llamacpp-context",
        Reply.json(
            {
                "error": {
                    "code": 400,
                    "type": "exceed_context_size_error",
                    "message": "the request exceeds the available context size, try increasing it",
                }
            },
            400,
        ),
        ContextLengthError,
    ),
    (
        "400-hf-model",
        error_reply(
            400, "The requested model 'x/y' is not supported by any provider you have enabled."
        ),
        ModelNotFoundError,
    ),
    (
        "400-bad",
        error_reply(400, "Unsupported parameter: 'temperature' is not supported with this model."),
        BadRequestError,
    ),
]


def _chat_usage(usage: tuple[int, int]) -> dict[str, int]:
    prompt, completion = usage
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _responses_usage(usage: tuple[int, int]) -> dict[str, Any]:
    given, produced = usage
    return {
        "input_tokens": given,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": produced,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": given + produced,
    }
