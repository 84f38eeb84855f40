"""The Gemini adapter: ``:streamGenerateContent?alt=sse``, ``:generateContent``, ``/v1beta/models``.

The key travels only in the ``x-goog-api-key`` header: a ``?key=`` in the URL would end up in
proxy logs and in httpx's own exception messages.

This module only moves bytes: the request body, the meaning of answers and errors
(``providers.gemini_wire``) and the framing of the stream (``providers.gemini_events``)
are pure, tested on recorded payloads without a network.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import ClassVar

import httpx

from providers.base import BaseProvider, ProviderSettings
from providers.errors import ProviderAuthError, ProviderUnavailableError
from providers.gemini_events import EventReader
from providers.gemini_wire import (
    API_VERSION,
    Answer,
    build_body,
    endpoint,
    http_error,
    load_json,
    model_names,
)
from providers.http import host_of, make_client, translating
from providers.sse import aiter_decoded
from providers.types import ChatRequest, ChatResult, Chunk, Health, ModelInfo, Usage, model_infos

#: A guard against a server that keeps sending the same page token.
MAX_MODEL_PAGES = 50


class GeminiProvider(BaseProvider):
    """Google's Gemini API (Google AI Studio keys)."""

    type_name: ClassVar[str] = "gemini"
    key_envs: ClassVar[tuple[str, ...]] = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
    key_required: ClassVar[bool] = True
    default_model: ClassVar[str] = "gemini-2.5-flash"
    default_base_url: ClassVar[str | None] = "https://generativelanguage.googleapis.com"
    pip_packages: ClassVar[tuple[str, ...]] = ("httpx", "httpx-sse")

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        self.base_url = (settings.base_url or self.default_base_url or "").rstrip("/")
        self._client: httpx.AsyncClient | None = None

    async def chat(self, request: ChatRequest) -> ChatResult:
        client = self._http()
        url = endpoint(request.model, "generateContent")
        async with translating(self.name, self.base_url):
            response = await client.post(url, json=build_body(request))
        self._check(response)
        answer = Answer(self.name, self.settings.api_key)
        text = "".join([answer.add(obj) for obj in load_json(self.name, response.content)])
        last = answer.final("the answer came without a finishReason")
        return ChatResult(
            text=text,
            model=request.model,
            finish_reason=last.finish_reason or "stop",
            usage=last.usage or Usage(),
        )

    async def stream(self, request: ChatRequest) -> AsyncIterator[Chunk]:
        client = self._http()
        answer = Answer(self.name, self.settings.api_key)
        url = endpoint(request.model, "streamGenerateContent")
        async with (
            translating(self.name, self.base_url),
            client.stream("POST", url, params={"alt": "sse"}, json=build_body(request)) as response,
        ):
            if response.status_code != 200:
                await response.aread()
                self._check(response)
            # Paced like every stream: each event within the read timeout (providers.sse).
            payloads = aiter_decoded(self.name, response, EventReader(self.name))
            async with aclosing(payloads):
                async for payload in payloads:
                    for chunk in _text_chunks(answer, [payload]):
                        yield chunk
        yield answer.final("stream ended before the answer was finished")

    async def list_models(self) -> list[ModelInfo]:
        client = self._http()
        names: list[str] = []
        params: dict[str, str | int] = {"pageSize": 1000}
        for _ in range(MAX_MODEL_PAGES):
            async with translating(self.name, self.base_url):
                response = await client.get(f"/{API_VERSION}/models", params=params)
            if response.status_code == 404:
                # Every Gemini API has this listing: base_url must point somewhere else.
                raise ProviderUnavailableError(
                    f"{self.name}: HTTP 404 for {response.url.path} on {host_of(self.base_url)}"
                    " (is base_url a Gemini API endpoint?)",
                    provider=self.name,
                )
            self._check(response)
            page, token = model_names(next(iter(load_json(self.name, response.content)), {}))
            names += page
            if token is None:
                break
            params["pageToken"] = token
        return model_infos(names)

    async def health_check(self) -> Health:
        return Health(models=len(await self.list_models()))

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    def _http(self) -> httpx.AsyncClient:
        """The client, made on first use; a missing key fails here, before any connection."""
        key = (self.settings.api_key or "").strip()
        env = self.settings.api_key_env or self.key_envs[0]
        if not key:
            raise ProviderAuthError(f"{self.name}: {env} is not set", provider=self.name)
        if not (key.isascii() and key.isprintable()):
            # httpx would fail on the header with an error outside the taxonomy.
            raise ProviderAuthError(
                f"{self.name}: {env} holds characters no API key has", provider=self.name
            )
        if self._client is None:
            self._client = make_client(self.settings, self.base_url, {"x-goog-api-key": key})
        return self._client

    def _check(self, response: httpx.Response) -> None:
        if response.status_code != 200:
            raise http_error(
                self.name,
                response.status_code,
                response.content,
                response.headers,
                self.settings.api_key,
            )


def _text_chunks(answer: Answer, payloads: list[str]) -> list[Chunk]:
    chunks = []
    for payload in payloads:
        for obj in load_json(answer.name, payload):
            text = answer.add(obj)
            if text:
                chunks.append(Chunk(text=text))
    return chunks
