"""The router's deadlines in process: the cheap per-stream watchdog for built-ins and the
abandoning per-chunk bound for plugins, on streams that go silent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from ollama_cli.router.deadline import bounded_chunks, watched_chunks
from ollama_cli.shutdown import settle_leftovers
from providers.errors import ProviderUnavailableError


async def silent_after(n: int, *, stubborn: bool = False) -> AsyncIterator[int]:
    for i in range(n):
        yield i
    while True:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            if not stubborn:
                raise


@pytest.mark.parametrize("bound", [watched_chunks, bounded_chunks])
def test_a_silent_stream_fails_at_its_deadline_after_what_it_gave(bound: Any) -> None:
    async def main() -> list[int]:
        got: list[int] = []
        with pytest.raises(ProviderUnavailableError, match=r"no answer within 0\.2 s"):
            async for i in bound(silent_after(3), 0.2, "p"):
                got.append(i)
                await asyncio.sleep(0.3)  # the consumer's own time never counts
        return got

    assert asyncio.run(main()) == [0, 1, 2]


def test_a_stream_that_ignores_cancellation_is_abandoned_and_never_holds_the_exit() -> None:
    async def main() -> None:
        try:
            with pytest.raises(ProviderUnavailableError):
                async for _ in bounded_chunks(silent_after(1, stubborn=True), 0.2, "p"):
                    pass
        finally:
            await settle_leftovers()  # what run_async does at the end of every command

    asyncio.run(main())


def test_an_outside_cancellation_stays_a_cancellation() -> None:
    async def main() -> None:
        task = asyncio.create_task(consume())
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    async def consume() -> None:
        async for _ in watched_chunks(silent_after(1), 5.0, "p"):
            pass

    asyncio.run(main())
