"""One attempt at one provider, as a stream of chunks that either finishes or raises.

Both ``chat`` and ``stream`` calls go through ``provider_chunks`` so the router has one
walk for both: a non-streaming answer is a one-chunk stream. Anything a provider raises
that is not in the taxonomy (a plugin bug) becomes ``ProviderUnavailableError`` here, so
a broken provider falls over instead of ending in a traceback.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing

from ollama_cli.router.deadline import (
    CLOSE_DEADLINE,
    Abandoned,
    bounded_chunks,
    step_deadline,
    watched_chunks,
    within,
)
from providers.base import BaseProvider
from providers.errors import ProviderError, ProviderUnavailableError, stream_ended
from providers.types import ChatRequest, Chunk


async def provider_chunks(
    provider: BaseProvider, request: ChatRequest, *, stream: bool
) -> AsyncGenerator[Chunk, None]:
    """Yield the provider's chunks; raise a taxonomy error if it fails or never finishes."""
    name = provider.name
    finished = False
    deadline = step_deadline(provider.settings.timeout)
    try:
        if stream and provider.supports_streaming:
            agen = provider.stream(request)
            stuck = False
            try:
                # Plugins get a task per chunk, so one that ignores cancellation can be
                # abandoned; built-in adapters honour it and get one cheap timer.
                bound = bounded_chunks if is_plugin(provider) else watched_chunks
                async with aclosing(bound(agen, deadline, name)) as chunks:
                    async for chunk in chunks:
                        finished = finished or chunk.finish_reason is not None
                        yield chunk
            except Abandoned as exc:
                stuck = exc.running  # still inside the provider: closing it would raise
                raise
            finally:
                if not stuck:
                    await _close_quietly(agen, name)
        else:
            result = await within(provider.chat(request), deadline, name, "waiting for the answer")
            yield Chunk(text=result.text, reasoning=result.reasoning)
            yield Chunk(finish_reason=result.finish_reason or "stop", usage=result.usage)
            finished = True
    except ProviderError:
        raise
    except Exception as exc:  # a provider outside the taxonomy must not crash the router
        raise ProviderUnavailableError(
            f"{name}: unexpected {type(exc).__name__}: {exc}", provider=name
        ) from exc
    if not finished:
        raise stream_ended(name)


def is_plugin(provider: BaseProvider) -> bool:
    """Whether ``provider`` comes from an installed package rather than ``providers``."""
    return not type(provider).__module__.startswith("providers.")


async def _close_quietly(agen: AsyncIterator[Chunk], name: str) -> None:
    """Close the provider's stream within ``CLOSE_DEADLINE``; a failure to close (a step
    still running inside it after a cancellation) must never mask the real outcome."""
    with contextlib.suppress(Exception):
        await within(_aclose(agen), CLOSE_DEADLINE, name, "closing the stream")


async def _aclose(agen: AsyncIterator[Chunk]) -> None:
    aclose = getattr(agen, "aclose", None)
    if aclose is not None:
        await aclose()


def error_text(error: ProviderError, name: str) -> str:
    """The error's one line without the ``name: `` prefix (the trace names the provider)."""
    message = str(error)
    prefix = f"{name}: "
    return message[len(prefix) :] if message.startswith(prefix) else message
