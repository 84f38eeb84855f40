"""The Ollama adapter: ``/api/chat`` (NDJSON stream or one JSON object) and ``/api/tags``.

Ollama is the first link of the default chain and usually runs on the user's own machine,
so its failures must read as actions: "cannot connect to http://localhost:11434", "model
'x' not found (try `ollama pull x`)". Wire shapes follow Ollama's docs/api.md and the
server's api/types.go; request building and response parsing are pure functions below,
so they are tested on recorded payloads without a network.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from providers.base import BaseProvider, ProviderSettings
from providers.errors import ModelNotFoundError, ProviderError, ProviderUnavailableError
from providers.http import error_detail, error_for_status, make_client, redact, translating
from providers.types import ChatRequest, ChatResult, Chunk, Health, Usage

DEFAULT_HOST = "http://localhost:11434"
DEFAULT_PORT = 11434

#: Ollama's ``done_reason`` values onto ours; "load"/"unload" (empty requests) become "other".
_FINISH = {"stop": "stop", "length": "length", "": "stop"}


def parse_host(value: str) -> str:
    """Normalise an Ollama host the way the ollama CLI reads ``OLLAMA_HOST``.

    ``localhost`` → ``http://localhost:11434``; ``0.0.0.0:11434`` (a listen address)
    → ``http://127.0.0.1:11434``; a scheme without a port takes that scheme's port.
    Raises ValueError for a host that cannot be a URL.
    """
    text = value.strip().rstrip("/")
    if not text:
        return DEFAULT_HOST
    scheme, sep, rest = text.partition("://")
    port = DEFAULT_PORT
    if not sep:
        scheme, rest = "http", text
    elif scheme in ("http", "https"):
        port = 80 if scheme == "http" else 443
    else:
        raise ValueError(f"unsupported scheme {scheme!r}")
    parts = urlsplit(f"{scheme}://{rest}")
    port = parts.port or port  # .port raises ValueError for a non-numeric port
    host = parts.hostname or "127.0.0.1"
    # A server told to listen everywhere is reached on this machine's loopback.
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}{parts.path.rstrip('/')}"


def resolve_host(settings: ProviderSettings, environ: Mapping[str, str]) -> str:
    """Config ``host``, else ``base_url``, else ``OLLAMA_HOST``, else localhost:11434.

    A ``base_url`` equal to the built-in default counts as unset, so a config layer
    that fills in defaults does not hide the user's ``OLLAMA_HOST``.
    """
    base = settings.base_url
    if base and base.rstrip("/") == DEFAULT_HOST:
        base = None
    value = settings.options.get("host") or base or environ.get("OLLAMA_HOST") or DEFAULT_HOST
    return parse_host(str(value))


def build_chat_body(request: ChatRequest, *, stream: bool) -> dict[str, Any]:
    """The ``/api/chat`` request body; system messages stay in place with role system."""
    body: dict[str, Any] = {
        "model": request.model,
        "messages": [{"role": m.role, "content": m.content} for m in request.messages],
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


def finish_reason(done_reason: object) -> str:
    """Ollama's ``done_reason`` normalised; old servers omit it on a normal stop."""
    return _FINISH.get(done_reason if isinstance(done_reason, str) else "", "other")


def usage_of(event: Mapping[str, Any]) -> Usage:
    return Usage(
        input_tokens=_count(event.get("prompt_eval_count")),
        output_tokens=_count(event.get("eval_count")),
    )


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def model_not_found(name: str, model: str) -> ModelNotFoundError:
    return ModelNotFoundError(
        f"{name}: model {model!r} not found (try `ollama pull {model}`)", provider=name
    )


def error_from_text(
    name: str, detail: str, model: str | None, secret: str | None = None
) -> ProviderError:
    """An ``{"error": ...}`` Ollama sent in-band, on a 200 stream or answer."""
    # Redact before shortening: a cut through the key would slip past redaction.
    detail = error_detail(redact(detail, secret))
    lowered = detail.lower()
    if model and "not found" in lowered and "model" in lowered:
        return model_not_found(name, model)
    return ProviderUnavailableError(f"{name}: {detail or 'unknown error'}", provider=name)


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
    detail = error_detail(redact(body.decode("utf-8", "replace"), secret))
    if status == 404:
        if model and "model" in detail.lower():
            return model_not_found(name, model)
        # Go's mux answers unknown routes with "404 page not found": not an Ollama API.
        return ProviderUnavailableError(
            f"{name}: HTTP 404 from {host}: {detail} (is this an Ollama server?)", provider=name
        )
    return error_for_status(name, status, detail, headers)


def decode_json(name: str, raw: bytes, where: str = "response stream") -> dict[str, Any]:
    """One JSON object from ``raw``, or a one-line ProviderUnavailableError naming the fault."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProviderUnavailableError(
            f"{name}: invalid UTF-8 in the {where}", provider=name
        ) from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ProviderUnavailableError(
            f"{name}: malformed JSON in the {where} ({exc})", provider=name
        ) from exc
    if not isinstance(data, dict):
        raise ProviderUnavailableError(
            f"{name}: unexpected {type(data).__name__} in the {where} (want a JSON object)",
            provider=name,
        )
    return data


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
    )


def parse_model_list(name: str, data: Mapping[str, Any]) -> list[str]:
    """Model names from ``/api/tags`` (``name``, or ``model`` on newer servers)."""
    models = data.get("models")
    if not isinstance(models, list):
        raise ProviderUnavailableError(f"{name}: model list has no 'models' array", provider=name)
    names = (m.get("name") or m.get("model") for m in models if isinstance(m, dict))
    return [n for n in names if isinstance(n, str) and n]


class StreamParser:
    """Turns the bytes of an ``/api/chat`` NDJSON stream into chunks.

    Network reads split lines anywhere (even inside a UTF-8 sequence), so bytes are
    buffered until a newline. ``feed`` returns the text chunks; the ``done`` line is kept
    as ``final`` and everything after it is ignored.
    """

    def __init__(self, name: str, model: str, secret: str | None = None) -> None:
        self.name = name
        self.model = model
        self.secret = secret
        self.final: Chunk | None = None
        self._pending = b""

    def feed(self, data: bytes) -> list[Chunk]:
        self._pending += data
        *lines, self._pending = self._pending.split(b"\n")
        return self._parse(lines)

    def end(self) -> Chunk:
        """The final chunk once the body is over; raises if the stream never finished."""
        leftover, self._pending = self._pending, b""
        if self.final is None and leftover.strip():
            self._parse([leftover])  # a last line without its newline still counts
        if self.final is None:
            raise ProviderUnavailableError(
                f"{self.name}: stream ended before the answer was finished", provider=self.name
            )
        return self.final

    def _parse(self, lines: list[bytes]) -> list[Chunk]:
        chunks: list[Chunk] = []
        for line in lines:
            if self.final is not None:
                break
            if not line.strip():
                continue
            event = decode_json(self.name, line)
            if "error" in event:
                raise error_from_text(self.name, str(event["error"]), self.model, self.secret)
            message = event.get("message")
            text = message.get("content") if isinstance(message, dict) else None
            if isinstance(text, str) and text:
                chunks.append(Chunk(text=text))
            if event.get("done") is True:
                self.final = Chunk(
                    finish_reason=finish_reason(event.get("done_reason")), usage=usage_of(event)
                )
        return chunks


class OllamaProvider(BaseProvider):
    """A local or remote Ollama server (or Ollama cloud, with ``OLLAMA_API_KEY``)."""

    type_name: ClassVar[str] = "ollama"
    key_envs: ClassVar[tuple[str, ...]] = ("OLLAMA_API_KEY",)
    key_required: ClassVar[bool] = False
    default_model: ClassVar[str] = "llama3.2"
    default_base_url: ClassVar[str | None] = DEFAULT_HOST
    config_fields: ClassVar[Mapping[str, type]] = {"host": str}
    pip_packages: ClassVar[tuple[str, ...]] = ("httpx",)

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        self._client: httpx.AsyncClient | None = None
        self._host_problem: str | None = None
        try:
            self.host = resolve_host(settings, os.environ)
        except ValueError as exc:
            # Reported on first use, so one bad host fails this provider, not the chain.
            self.host = DEFAULT_HOST
            self._host_problem = f"{self.name}: invalid host ({exc})"

    async def chat(self, request: ChatRequest) -> ChatResult:
        body = build_chat_body(request, stream=False)
        async with self._boundary():
            response = await self._http().post("/api/chat", json=body)
            self._raise_for_status(response, request.model)
            data = decode_json(self.name, response.content, "response")
            return parse_chat_response(self.name, request.model, data, self.settings.api_key)

    async def stream(self, request: ChatRequest) -> AsyncGenerator[Chunk, None]:
        body = build_chat_body(request, stream=True)
        parser = StreamParser(self.name, request.model, self.settings.api_key)
        async with (
            self._boundary(),
            self._http().stream("POST", "/api/chat", json=body) as response,
        ):
            if not response.is_success:
                await response.aread()
                self._raise_for_status(response, request.model)
            async for data in response.aiter_bytes():
                for chunk in parser.feed(data):
                    yield chunk
                if parser.final is not None:
                    break
            final = parser.end()
        # Yielded after the response is closed, so a consumer that stops here leaks nothing.
        yield final

    async def list_models(self) -> list[str]:
        async with self._boundary():
            response = await self._http().get("/api/tags")
            self._raise_for_status(response, None)
            return parse_model_list(
                self.name, decode_json(self.name, response.content, "model list")
            )

    async def health_check(self) -> Health:
        return Health(models=len(await self.list_models()), detail=self.host)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    def _http(self) -> httpx.AsyncClient:
        if self._host_problem:
            raise ProviderUnavailableError(self._host_problem, provider=self.name)
        if self._client is None:
            headers = {"Accept": "application/json", "User-Agent": "ollama-cli"}
            if self.settings.api_key:
                headers["Authorization"] = f"Bearer {self.settings.api_key}"
            self._client = make_client(self.settings, self.host, headers)
        return self._client

    def _raise_for_status(self, response: httpx.Response, model: str | None) -> None:
        if not response.is_success:
            raise error_from_response(
                self.name,
                response.status_code,
                response.content,
                model=model,
                host=self.host,
                headers=response.headers,
                secret=self.settings.api_key,
            )

    @asynccontextmanager
    async def _boundary(self) -> AsyncIterator[None]:
        """Translate httpx errors and scrub the key from every message, once, here."""
        try:
            async with translating(self.name, self.host):
                yield
        except ProviderError as exc:
            # A server may echo request headers in its error text; never pass the key on.
            exc.message = redact(exc.message, self.settings.api_key)
            exc.args = (exc.message,)
            raise
