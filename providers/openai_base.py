"""What every OpenAI-style provider shares, whatever its API flavour (the OpenAIMixin idea).

codex (Responses API), hf and any ``openai-compatible`` server differ only in base URL,
key, defaults and flavour. The flavour supplies pure pieces (request body, reply parser,
stream state); this module does the I/O once: a client with ``Authorization: Bearer``,
error replies and in-band stream errors (mapped in ``providers.openai_errors``) and
``/models`` listing. Events come from the shared strict reader (``providers.sse``), which,
unlike httpx-sse's ``EventSource``, accepts any content type: some compatible servers
label their event stream wrongly.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any, ClassVar, Protocol

import httpx

from providers.errors import ProviderUnavailableError
from providers.http import drain, json_object

# Re-exported: the flavours (openai_compat, openai_responses) take it from here.
from providers.openai_errors import error_from_payload as error_from_payload
from providers.openai_errors import error_from_status
from providers.remote import RemoteProvider
from providers.sse import aiter_sse
from providers.tolerant import count, iso_date
from providers.types import ChatRequest, ChatResult, Chunk, Lifecycle, ModelInfo

NOT_UTF8 = "{name}: event stream is not valid UTF-8 (byte {byte:#04x})"


class StreamState(Protocol):
    """A flavour's pure stream parser, fed one decoded event at a time."""

    #: True once the flavour's terminal event arrived: stop reading.
    done: bool

    def feed(self, event: str, data: dict[str, Any]) -> list[Chunk]:
        """Text chunks for this event; raises a taxonomy error for an in-band error."""
        ...

    def finish(self) -> Chunk:
        """The last chunk; raises ProviderUnavailableError if the answer never finished."""
        ...


class OpenAIBase(RemoteProvider):
    """Shared I/O of the OpenAI-style adapters. Subclasses set the flavour hooks."""

    #: Path of the generation endpoint under base_url (``/responses``, ``/chat/completions``).
    endpoint: ClassVar[str] = ""

    def build_body(self, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        raise NotImplementedError

    def parse_reply(self, data: dict[str, Any], request: ChatRequest) -> ChatResult:
        raise NotImplementedError

    def new_stream_state(self) -> StreamState:
        raise NotImplementedError

    async def chat(self, request: ChatRequest) -> ChatResult:
        client = self.client()
        async with self.boundary(self.endpoint):
            response = await client.post(self.endpoint, json=self.build_body(request, stream=False))
            body = await _checked(self.name, response, self.settings.api_key)
            data = json_object(self.name, body, "the reply")
            return self.parse_reply(data, request)

    async def stream(self, request: ChatRequest) -> AsyncIterator[Chunk]:
        client, state = self.client(), self.new_stream_state()
        body = self.build_body(request, stream=True)
        headers = {"Accept": "text/event-stream"}
        async with (
            self.boundary(self.endpoint),
            client.stream("POST", self.endpoint, json=body, headers=headers) as response,
        ):
            await _check_stream_start(self.name, response, self.settings.api_key)
            async with aclosing(aiter_sse(self.name, response, not_utf8=NOT_UTF8)) as events:
                async for event in events:
                    if event.data.strip() == "[DONE]":
                        break
                    for chunk in state.feed(
                        event.event, json_object(self.name, event.data, "stream event")
                    ):
                        yield chunk
                    if state.done:
                        break
                yield state.finish()
                # Reached only when the consumer asks for more: read the body's end
                # (usually just the chunked terminator), so the connection is reused.
                await drain(events, response)

    async def list_models(self) -> list[ModelInfo]:
        client = self.client()
        async with self.boundary("/models"):
            response = await client.get("/models")
            body = await _checked(self.name, response, self.settings.api_key)
            return parse_model_list(self.name, body)


async def _checked(name: str, response: httpx.Response, secret: str | None) -> bytes:
    """The body of a successful reply; a taxonomy error for any error status."""
    body = await response.aread()
    if response.status_code >= 400:
        raise error_from_status(name, response.status_code, body, response.headers, secret=secret)
    return body


async def _check_stream_start(name: str, response: httpx.Response, secret: str | None) -> None:
    """Fail on an error status, or on a JSON error body where a stream was expected."""
    if response.status_code >= 400:
        body = await response.aread()
        raise error_from_status(name, response.status_code, body, response.headers, secret=secret)
    if response.headers.get("content-type", "").startswith("application/json"):
        data = json_object(name, await response.aread(), "the reply")
        if data.get("error"):
            raise error_from_payload(name, data["error"], secret=secret)
        raise ProviderUnavailableError(
            f"{name}: expected an event stream but got a JSON reply", provider=name
        )


def parse_model_list(name: str, body: bytes | str) -> list[ModelInfo]:
    """Models from ``{"data": [{"id": ...}]}`` (or a bare list, as a few servers send).

    OpenAI's entries (openai 3.57.0 ``types/model.py``) carry ``shutdown_date`` when a
    shutdown is announced; compatible servers add fields of their own, ignored here.
    """
    try:
        data: Any = json.loads(body)
    except ValueError as exc:
        raise ProviderUnavailableError(f"{name}: model list is not JSON", provider=name) from exc
    entries = data.get("data") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise ProviderUnavailableError(f"{name}: unexpected model list shape", provider=name)
    return [model_info(e) for e in entries if isinstance(e, dict) and isinstance(e.get("id"), str)]


def model_info(entry: dict[str, Any], today: str | None = None) -> ModelInfo:
    """One ``/models`` entry: a past ``shutdown_date`` is retired, a future one deprecated."""
    shutdown = iso_date(entry.get("shutdown_date"))
    lifecycle: Lifecycle = "unknown"
    if shutdown is not None:
        today = today or datetime.date.today().isoformat()
        lifecycle = "retired" if shutdown <= today else "deprecated"
    context = count(entry.get("context_window")) or count(entry.get("max_model_len"))
    return ModelInfo(
        id=entry["id"], lifecycle=lifecycle, retires_at=shutdown, context_window=context or None
    )
