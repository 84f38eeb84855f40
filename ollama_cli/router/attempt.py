"""One attempt at one provider, as a stream of chunks that either finishes or raises.

Both ``chat`` and ``stream`` calls go through ``provider_chunks`` so the router has one
walk for both: a non-streaming answer is a one-chunk stream. Anything a provider raises
that is not in the taxonomy (a plugin bug) becomes ``ProviderUnavailableError`` here, so
a broken provider falls over instead of ending in a traceback.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator

from providers.base import BaseProvider
from providers.errors import ProviderError, ProviderUnavailableError, stream_ended
from providers.types import ChatRequest, Chunk


async def provider_chunks(
    provider: BaseProvider, request: ChatRequest, *, stream: bool
) -> AsyncGenerator[Chunk, None]:
    """Yield the provider's chunks; raise a taxonomy error if it fails or never finishes."""
    name = provider.name
    finished = False
    try:
        if stream and provider.supports_streaming:
            agen = provider.stream(request)
            try:
                async for chunk in agen:
                    finished = finished or chunk.finish_reason is not None
                    yield chunk
            finally:
                await _aclose(agen)
        else:
            result = await provider.chat(request)
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


async def _aclose(agen: AsyncIterator[Chunk]) -> None:
    aclose = getattr(agen, "aclose", None)
    if aclose is not None:
        await aclose()


def error_text(error: ProviderError, name: str) -> str:
    """The error's one line without the ``name: `` prefix (the trace names the provider)."""
    message = str(error)
    prefix = f"{name}: "
    return message[len(prefix) :] if message.startswith(prefix) else message
