"""The Ollama adapter: ``/api/chat`` (NDJSON stream or one JSON object) and ``/api/tags``.

Ollama is the first link of the default chain and usually runs on the user's own machine,
so its failures must read as actions: "cannot connect to http://localhost:11434", "model
'x' not found (try `ollama pull x`)". Where the server is (``host``, ``OLLAMA_HOST``) is
worked out here; request building and response parsing are pure functions in
``providers.ollama_wire``, so they are tested on recorded payloads without a network.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing
from typing import ClassVar
from urllib.parse import urlsplit

import httpx

from providers.base import ProviderSettings
from providers.errors import ProviderUnavailableError
from providers.http import drain, json_object
from providers.ollama_wire import (
    StreamParser,
    build_chat_body,
    error_from_response,
    parse_chat_response,
    parse_model_list,
)
from providers.remote import RemoteProvider
from providers.sse import LineDecoder, aiter_decoded
from providers.types import ChatRequest, ChatResult, Chunk, ModelInfo

DEFAULT_HOST = "http://localhost:11434"
DEFAULT_PORT = 11434
NOT_UTF8 = "{name}: invalid UTF-8 in the response stream"


def parse_host(value: str) -> str:
    """Normalise an Ollama host the way the ollama CLI reads ``OLLAMA_HOST``.

    ``localhost`` → ``http://localhost:11434``; ``0.0.0.0:11434`` (a listen address)
    → ``http://127.0.0.1:11434``; a scheme without a port takes that scheme's port.
    Raises ValueError for a host that cannot be a URL.
    """
    # systemd and compose files write OLLAMA_HOST="host:port"; the ollama CLI strips quotes.
    text = value.strip().strip("\"'").strip().rstrip("/")
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


class OllamaProvider(RemoteProvider):
    """A local or remote Ollama server (or Ollama cloud, with ``OLLAMA_API_KEY``)."""

    type_name: ClassVar[str] = "ollama"
    key_envs: ClassVar[tuple[str, ...]] = ("OLLAMA_API_KEY",)
    key_required: ClassVar[bool] = False
    default_model: ClassVar[str] = "llama3.2"
    default_base_url: ClassVar[str | None] = DEFAULT_HOST
    config_fields: ClassVar[Mapping[str, type]] = {"host": str}
    pip_packages: ClassVar[tuple[str, ...]] = ("httpx",)
    #: ``images`` on a message; only vision models read them (their catalog says so).
    input_parts: ClassVar[frozenset[str]] = frozenset({"image_input"})
    catalog_lists_installed: ClassVar[bool] = True

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        self._host_problem: str | None = None
        try:
            self.host = resolve_host(settings, self.environ)
        except ValueError as exc:
            # Reported on first use, so one bad host fails this provider, not the chain.
            self.host = DEFAULT_HOST
            self._host_problem = f"{self.name}: invalid host ({exc})"

    def base_url(self) -> str:
        return self.host

    def auth_headers(self, key: str | None) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": "ollama-cli"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def client(self) -> httpx.AsyncClient:
        if self._host_problem:
            raise ProviderUnavailableError(self._host_problem, provider=self.name)
        return super().client()

    def health_detail(self) -> str:
        return self.host

    async def chat(self, request: ChatRequest) -> ChatResult:
        body = build_chat_body(request, stream=False)
        async with self.boundary():
            response = await self.client().post("/api/chat", json=body)
            self._raise_for_status(response, request.model)
            data = json_object(self.name, response.content, "the response")
            return parse_chat_response(self.name, request.model, data, self.settings.api_key)

    async def stream(self, request: ChatRequest) -> AsyncGenerator[Chunk, None]:
        body = build_chat_body(request, stream=True)
        parser = StreamParser(self.name, request.model, self.settings.api_key)
        async with (
            self.boundary(),
            self.client().stream("POST", "/api/chat", json=body) as response,
        ):
            if not response.is_success:
                await response.aread()
                self._raise_for_status(response, request.model)
            # Each line within the read timeout, however slowly its bytes come (providers.sse).
            decoder = LineDecoder(self.name, NOT_UTF8)
            lines = aiter_decoded(self.name, response, decoder, unit="line")
            async with aclosing(lines):
                async for line in lines:
                    for chunk in parser.feed_lines([line]):
                        yield chunk
                    if parser.final is not None:
                        break
                yield parser.end()
                # Reached only when the consumer asks for more (not when it closes the stream
                # at the final chunk): read the body's end, so the connection is pooled again.
                await drain(lines, response)

    async def list_models(self) -> list[ModelInfo]:
        async with self.boundary():
            response = await self.client().get("/api/tags")
            self._raise_for_status(response, None)
            return parse_model_list(
                self.name, json_object(self.name, response.content, "the model list")
            )

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
