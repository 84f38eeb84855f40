"""The Anthropic Messages API adapter (built-in type ``anthropic``, the ``claude`` provider).

It speaks ``/v1/messages`` (SSE or JSON) and ``/v1/models`` with httpx rather than the
``anthropic`` SDK, whose import alone costs ~1.6 s (DESIGN.md, "Transport"). Building the
request, reading events and mapping errors are pure functions in ``providers.anthropic_wire``,
tested on recorded payloads; the provider's I/O methods only move bytes.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import aclosing
from dataclasses import replace
from typing import Any, ClassVar

import httpx

from providers.anthropic_wire import (
    MAX_PAUSES,
    PAUSE_TURN,
    StreamParser,
    build_body,
    continued,
    http_error,
    parse_message,
    parse_models_page,
)
from providers.errors import ProviderUnavailableError
from providers.http import drain, json_object
from providers.remote import RemoteProvider
from providers.sse import ServerSentEvent, aiter_sse
from providers.types import ChatRequest, ChatResult, Chunk, ModelInfo

API_VERSION = "2023-06-01"
MESSAGES_PATH = "/v1/messages"
MODELS_PATH = "/v1/models"
#: Largest page ``/v1/models`` serves; the cap on pages stops a server that never says "done".
MODELS_PAGE_LIMIT = 1000
MAX_MODEL_PAGES = 50


class AnthropicProvider(RemoteProvider):
    """Claude through the Anthropic Messages API."""

    type_name: ClassVar[str] = "anthropic"
    key_envs: ClassVar[tuple[str, ...]] = ("ANTHROPIC_API_KEY",)
    key_required: ClassVar[bool] = True
    default_model: ClassVar[str] = "claude-sonnet-5-5"
    default_base_url: ClassVar[str | None] = "https://api.anthropic.com"
    config_fields: ClassVar[Mapping[str, type]] = {"max_tokens": int}
    pip_packages: ClassVar[tuple[str, ...]] = ("httpx", "httpx-sse")
    input_parts: ClassVar[frozenset[str]] = frozenset({"image_input", "pdf_input"})
    #: Every Claude model since Claude 3 reads images, and PDFs since 3.5 Sonnet.
    input_assumed: ClassVar[bool] = True

    def auth_headers(self, key: str | None) -> dict[str, str]:
        return {"x-api-key": key or "", "anthropic-version": API_VERSION}

    async def chat(self, request: ChatRequest) -> ChatResult:
        text = ""
        for _ in range(MAX_PAUSES + 1):
            body = build_body(continued(request, text), self.settings.options, stream=False)
            data = await self._request_json("POST", MESSAGES_PATH, json=body)
            result = parse_message(self.name, data, request.model)
            text += result.text
            if result.finish_reason != PAUSE_TURN:
                return replace(result, text=text)
        raise self._paused_too_often()

    async def stream(self, request: ChatRequest) -> AsyncIterator[Chunk]:
        text = ""
        for _ in range(MAX_PAUSES + 1):
            parser = StreamParser(self.name, self.settings.api_key)
            async with aclosing(self._stream_once(continued(request, text), parser)) as chunks:
                async for chunk in chunks:
                    text += chunk.text
                    yield chunk
            if not parser.paused:
                return
        raise self._paused_too_often()

    async def _stream_once(
        self, request: ChatRequest, parser: StreamParser
    ) -> AsyncGenerator[Chunk, None]:
        """One ``/v1/messages`` stream: its text chunks, then (unless the turn paused)
        the final chunk."""
        body = build_body(request, self.settings.options, stream=True)
        client = self.client()
        async with (
            self.boundary(MESSAGES_PATH),
            client.stream("POST", MESSAGES_PATH, json=body) as response,
        ):
            await self._raise_for_status(response)
            async with aclosing(sse_events(self.name, response)) as events:
                async for event in events:
                    text = parser.feed(event.event, event.data)
                    thinking = parser.take_thinking()
                    if text or thinking:
                        yield Chunk(text=text, reasoning=thinking)
                    if parser.finished:
                        if not parser.paused:
                            yield parser.final_chunk()
                        # Reached only when the consumer asks for more: read the body's
                        # end, so the connection goes back to the pool.
                        await drain(events, response)
                        return
        raise parser.unfinished()

    def _paused_too_often(self) -> ProviderUnavailableError:
        return ProviderUnavailableError(
            f"{self.name}: the answer paused {MAX_PAUSES + 1} times (stop_reason pause_turn)",
            provider=self.name,
        )

    async def list_models(self) -> list[ModelInfo]:
        models: list[ModelInfo] = []
        params: dict[str, Any] = {"limit": MODELS_PAGE_LIMIT}
        for _ in range(MAX_MODEL_PAGES):
            page, after = parse_models_page(
                await self._request_json("GET", MODELS_PATH, params=params)
            )
            models += page
            if after is None or after == params.get("after_id"):
                break
            params["after_id"] = after
        return models

    async def _request_json(self, method: str, path: str, **kwargs: Any) -> Any:
        client = self.client()
        async with self.boundary(path):
            response = await client.request(method, path, **kwargs)
            await self._raise_for_status(response)
            return json_object(self.name, response.content, f"the response to {path}")

    async def _raise_for_status(self, response: httpx.Response) -> None:
        if response.status_code < 400:
            return
        body = await response.aread()
        raise http_error(
            self.name, response.status_code, body, response.headers, self.settings.api_key
        )


def sse_events(name: str, response: httpx.Response) -> AsyncGenerator[ServerSentEvent, None]:
    """The response's server-sent events (strict UTF-8, the API's only charset)."""
    ctype = response.headers.get("content-type", "")
    if "text/event-stream" not in ctype:
        raise ProviderUnavailableError(
            f"{name}: expected an event stream, got {ctype or 'no content type'}", provider=name
        )
    return aiter_sse(name, response)
