"""Hedged requests: if the current provider shows no token within ``hedge_after_ms``, start
the next one too; the first to produce a token wins and the other is cancelled (its
stream closed, so its connection is released).

Hedging is about the first token only. An attempt that answers or fails before the hedge
timer fires is an ordinary attempt — retried by the policy like any other (``RaceOutcome.
hedged`` stays False); once hedged, both providers have been tried and the walk moves past
both. Every side is a ``Try`` ending in the walk's ``succeeded``/``failed``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from providers.errors import ProviderError
from providers.types import Chunk

if TYPE_CHECKING:
    from ollama_cli.router.walk import ChainWalk, Step, Try


@dataclass
class RaceOutcome:
    hedged: bool = False


@dataclass
class _Runner:
    attempt: Try
    chunks: AsyncGenerator[Chunk, None]
    task: asyncio.Task[list[Chunk]] | None = None
    ended: bool = False  # its end is in the trace already

    @classmethod
    def start(cls, walk: ChainWalk, attempt: Try) -> _Runner:
        runner = cls(attempt, walk.open(attempt.step))
        runner.task = asyncio.ensure_future(_until_first_text(runner.chunks))
        return runner

    async def stop(self) -> None:
        assert self.task is not None
        if not self.task.done():
            self.task.cancel()
        # Wait for it to end without taking on its error or swallowing our own cancellation
        # (suppressing BaseException here would also eat a Ctrl-C aimed at this task).
        await asyncio.wait({self.task})
        if not self.task.cancelled():
            self.task.exception()  # retrieved: recorded by the walk already, or it lost
        aclose = getattr(self.chunks, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()


async def _until_first_text(chunks: AsyncIterator[Chunk]) -> list[Chunk]:
    buffered: list[Chunk] = []
    async for chunk in chunks:
        buffered.append(chunk)
        if chunk.text or chunk.finish_reason:
            break
    return buffered


async def race(
    walk: ChainWalk, attempt: Try, partner: Step, delay: float, outcome: RaceOutcome
) -> AsyncGenerator[str, None]:
    """Yield the text of whichever of ``attempt``'s step and ``partner`` shows a token first.

    Until the hedge timer fires this is an ordinary attempt: its failure is raised to the
    walk's retry loop like any other (so a 500 is retried as configured). Once hedged, both
    sides end here, through the walk's ``succeeded``/``failed``, and nothing is raised.
    """
    runners = [_Runner.start(walk, attempt)]
    try:
        first = runners[0].task
        assert first is not None
        done, _ = await asyncio.wait({first}, timeout=delay)
        if done:
            async for text in _stream(walk, runners[0]):
                yield text
            return
        outcome.hedged = True
        walk.notify(
            f"{attempt.step.name} silent for {round(delay * 1000)} ms → also asking {partner.name}"
        )
        runners.append(_Runner.start(walk, walk.begin(partner, "hedge")))
        async for text in _hedged(walk, runners):
            yield text
    finally:
        for runner in runners:
            await runner.stop()


async def _hedged(walk: ChainWalk, runners: list[_Runner]) -> AsyncGenerator[str, None]:
    winner = await _first_winner(walk, runners)
    if winner is None:
        return
    for loser in runners:
        if loser is not winner and not loser.ended:
            await loser.stop()
            walk.record(
                loser.attempt,
                "interrupted",
                f"cancelled: {winner.attempt.step.name} answered first",
            )
    try:
        async for text in _stream(walk, winner):
            yield text
    except ProviderError as error:
        walk.failed(winner.attempt, error, final=True)
        return
    walk.succeeded(winner.attempt)


async def _first_winner(walk: ChainWalk, runners: list[_Runner]) -> _Runner | None:
    pending = {r.task for r in runners if r.task is not None}
    while pending:
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for runner in runners:
            if runner.task in done:
                error = runner.task.exception()
                if error is None:
                    return runner
                assert isinstance(error, ProviderError)
                walk.failed(runner.attempt, error, final=True)
                runner.ended = True
    return None


async def _stream(walk: ChainWalk, runner: _Runner) -> AsyncIterator[str]:
    """The runner's buffered chunks then the rest; raises the attempt's ProviderError."""
    assert runner.task is not None
    buffered = runner.task.result()

    async def replay() -> AsyncGenerator[Chunk, None]:
        for chunk in buffered:
            yield chunk
        async for chunk in runner.chunks:
            yield chunk

    async for text in walk.consume(runner.attempt.step, replay()):
        yield text
