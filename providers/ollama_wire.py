"""Ollama's wire format as pure functions: ``/api/chat`` bodies, answers, NDJSON streams, errors.

Shapes follow Ollama's docs/api.md and the server's api/types.go. Errors read as actions
("model 'x' not found (try `ollama pull x`)"), and the key is redacted from any text a
server echoes back. Tested on recorded payloads without a network.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from providers.errors import (
    ModelNotFoundError,
    ProviderError,
    ProviderUnavailableError,
    stream_ended,
)
from providers.http import codes_in, error_detail, error_for_status, json_object
from providers.tolerant import count, nonempty, obj
from providers.types import ChatRequest, ChatResult, Chunk, Message, ModelInfo, Usage
from providers.wording import error_class, make_error

#: Ollama's ``done_reason`` values onto ours; "load"/"unload" (empty requests) become "other".
_FINISH = {"stop": "stop", "length": "length", "": "stop"}


def build_chat_body(request: ChatRequest, *, stream: bool) -> dict[str, Any]:
    """The ``/api/chat`` request body; system messages stay in place with role system."""
    body: dict[str, Any] = {
        "model": request.model,
        "messages": [chat_message(m) for m in request.messages],
        "stream": stream,
    }
    options: dict[str, Any] = {}
    if request.max_tokens is not None:
        options["num_predict"] = request.max_tokens
    if request.temperature is not None:
        options["temperature"] = request.temperature
    if options:
        body["options"] = options
    return body


def chat_message(message: Message) -> dict[str, Any]:
    """One ``/api/chat`` message; images go base64 in ``images`` (ollama 0.6.3's
    ``Message.images``). Ollama takes no PDFs: the router never sends it one."""
    data: dict[str, Any] = {"role": message.role, "content": message.content}
    images = [part.base64 for part in message.attachments if part.kind == "image"]
    if images:
        data["images"] = images
    return data


def finish_reason(done_reason: object) -> str:
    """Ollama's ``done_reason`` normalised; old servers omit it on a normal stop."""
    return _FINISH.get(done_reason if isinstance(done_reason, str) else "", "other")


def usage_of(event: Mapping[str, Any]) -> Usage:
    return Usage(
        input_tokens=count(event.get("prompt_eval_count")),
        output_tokens=count(event.get("eval_count")),
    )


def model_not_found(name: str, model: str) -> ModelNotFoundError:
    return ModelNotFoundError(
        f"{name}: model {model!r} not found (try `ollama pull {model}`)", provider=name
    )


def error_from_text(
    name: str, detail: str, model: str | None, secret: str | None = None
) -> ProviderError:
    """An ``{"error": ...}`` Ollama sent in-band, on a 200 stream or answer."""
    detail = error_detail(detail, secrets=(secret,))
    cls = error_class(set(), detail) or ProviderUnavailableError
    if model and cls is ModelNotFoundError:
        return model_not_found(name, model)
    return make_error(cls, f"{name}: {detail or 'unknown error'}", provider=name, detail=detail)


def error_from_response(
    name: str,
    status: int,
    body: bytes,
    *,
    model: str | None,
    host: str,
    headers: Mapping[str, str] | None = None,
    secret: str | None = None,
) -> ProviderError:
    """A non-2xx answer as a taxonomy error (``model`` is None for non-chat requests)."""
    detail = error_detail(body, secrets=(secret,))
    if status == 404:
        if model and "model" in detail.lower():
            return model_not_found(name, model)
        # Go's mux answers unknown routes with "404 page not found": not an Ollama API.
        return ProviderUnavailableError(
            f"{name}: HTTP 404 from {host}: {detail} (is this an Ollama server?)", provider=name
        )
    found = error_for_status(name, status, detail, headers, codes_in(body))
    if model and type(found) is ModelNotFoundError:
        return model_not_found(name, model)
    return found


def parse_chat_response(
    name: str, model: str, data: Mapping[str, Any], secret: str | None = None
) -> ChatResult:
    """A non-streaming ``/api/chat`` answer as a ChatResult."""
    if "error" in data:
        raise error_from_text(name, str(data["error"]), model, secret)
    message = data.get("message")
    if not isinstance(message, dict):
        raise ProviderUnavailableError(f"{name}: answer has no message", provider=name)
    return ChatResult(
        text=str(message.get("content") or ""),
        model=str(data.get("model") or model),
        finish_reason=finish_reason(data.get("done_reason")),
        usage=usage_of(data),
        reasoning=str(message.get("thinking") or ""),
    )


def parse_model_list(name: str, data: Mapping[str, Any]) -> list[ModelInfo]:
    """Installed models from ``/api/tags`` (``name``, or ``model`` on newer servers).

    ``details.family`` is the model's family; ``details.parameter_size`` ("8.0B") and
    ``size`` rank installed models when the default is not pulled (ollama 0.6.3
    ``_types.ListResponse``). A server's ``/api/tags`` says nothing of lifecycle.
    """
    models = data.get("models")
    if not isinstance(models, list):
        raise ProviderUnavailableError(f"{name}: model list has no 'models' array", provider=name)
    found = []
    for entry in (obj(m) for m in models):
        model_id = nonempty(entry.get("name")) or nonempty(entry.get("model"))
        if model_id is not None:
            details = obj(entry.get("details"))
            found.append(ModelInfo(id=model_id, family=nonempty(details.get("family"))))
    return found


class StreamParser:
    """Turns the lines of an ``/api/chat`` NDJSON stream into chunks.

    Lines come already split (and a last line without its newline already counted) from
    the adapter's paced reader (``providers.sse``). ``feed_lines`` returns the text
    chunks; the ``done`` line is kept as ``final`` and everything after it is ignored.
    """

    def __init__(self, name: str, model: str, secret: str | None = None) -> None:
        self.name = name
        self.model = model
        self.secret = secret
        self.final: Chunk | None = None

    def feed_lines(self, lines: Iterable[str]) -> list[Chunk]:
        return self._parse(lines)

    def end(self) -> Chunk:
        """The final chunk once the body is over; raises if the stream never finished."""
        if self.final is None:
            raise stream_ended(self.name)
        return self.final

    def _parse(self, lines: Iterable[bytes | str]) -> list[Chunk]:
        chunks: list[Chunk] = []
        for line in lines:
            if self.final is not None:
                break
            if not line.strip():
                continue
            event = json_object(self.name, line, "the response stream")
            if "error" in event:
                raise error_from_text(self.name, str(event["error"]), self.model, self.secret)
            message = event.get("message")
            message = message if isinstance(message, dict) else {}
            text, thinking = message.get("content"), message.get("thinking")
            text = text if isinstance(text, str) else ""
            # ``thinking`` (ollama 0.6.3 ``Message.thinking``): the model's reasoning.
            thinking = thinking if isinstance(thinking, str) else ""
            if text or thinking:
                chunks.append(Chunk(text=text, reasoning=thinking))
            if event.get("done") is True:
                self.final = Chunk(
                    finish_reason=finish_reason(event.get("done_reason")), usage=usage_of(event)
                )
        return chunks
