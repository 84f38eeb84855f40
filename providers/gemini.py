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

from providers.errors import STREAM_ENDED, ProviderUnavailableError
from providers.gemini_events import EventReader
from providers.gemini_wire import (
    API_VERSION,
    Answer,
    build_body,
    endpoint,
    http_error,
    load_json,
    parse_models_page,
)
from providers.http import host_of
from providers.remote import RemoteProvider
from providers.sse import aiter_decoded
from providers.types import ChatRequest, ChatResult, Chunk, ModelInfo, Usage

#: A guard against a server that keeps sending the same page token.
MAX_MODEL_PAGES = 50


class GeminiProvider(RemoteProvider):
    """Google's Gemini API (Google AI Studio keys)."""

    type_name: ClassVar[str] = "gemini"
    key_envs: ClassVar[tuple[str, ...]] = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
    key_required: ClassVar[bool] = True
    default_model: ClassVar[str] = "gemini-flash-latest"
    default_base_url: ClassVar[str | None] = "https://generativelanguage.googleapis.com"
    pip_packages: ClassVar[tuple[str, ...]] = ("httpx", "httpx-sse")
    input_parts: ClassVar[frozenset[str]] = frozenset({"image_input", "pdf_input"})
    #: Every Gemini model reads images and PDFs as inline data.
    input_assumed: ClassVar[bool] = True

    def auth_headers(self, key: str | None) -> dict[str, str]:
        return {"x-goog-api-key": (key or "").strip()}

    async def chat(self, request: ChatRequest) -> ChatResult:
        client = self.client()
        url = endpoint(request.model, "generateContent")
        async with self.boundary():
            response = await client.post(url, json=build_body(request))
            self._check(response)
        answer = Answer(self.name, self.settings.api_key)
        texts, thoughts = [], []
        for obj in load_json(self.name, response.content):
            texts.append(answer.add(obj))
            thoughts.append(answer.thought)
        last = answer.final("the answer came without a finishReason")
        return ChatResult(
            text="".join(texts),
            model=request.model,
            finish_reason=last.finish_reason or "stop",
            usage=last.usage or Usage(),
            reasoning="".join(thoughts),
        )

    async def stream(self, request: ChatRequest) -> AsyncIterator[Chunk]:
        client = self.client()
        answer = Answer(self.name, self.settings.api_key)
        url = endpoint(request.model, "streamGenerateContent")
        async with (
            self.boundary(),
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
        yield answer.final(STREAM_ENDED)

    async def list_models(self) -> list[ModelInfo]:
        client = self.client()
        models: list[ModelInfo] = []
        params: dict[str, str | int] = {"pageSize": 1000}
        for _ in range(MAX_MODEL_PAGES):
            async with self.boundary():
                response = await client.get(f"/{API_VERSION}/models", params=params)
                if response.status_code == 404:
                    # Every Gemini API has this listing: base_url must point somewhere else.
                    raise ProviderUnavailableError(
                        f"{self.name}: HTTP 404 for {response.url.path} on "
                        f"{host_of(self.base_url())} (is base_url a Gemini API endpoint?)",
                        provider=self.name,
                    )
                self._check(response)
            page, token = parse_models_page(next(iter(load_json(self.name, response.content)), {}))
            models += page
            if token is None:
                break
            params["pageToken"] = token
        return models

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
            if text or answer.thought:
                chunks.append(Chunk(text=text, reasoning=answer.thought))
    return chunks
