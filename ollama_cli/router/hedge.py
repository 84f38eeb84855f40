"""Hedged requests: if the current provider shows no token within ``hedge_after_ms``, start
the next one too; the first to produce a token wins and the other is cancelled (its
stream closed, so its connection is released).

Hedging is about the first token only. An attempt that fails before the hedge timer
fires is an ordinary failure, and the walk goes on as usual (``RaceOutcome.hedged`` stays
False); once hedged, both providers have been tried and the walk moves past both.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from providers.errors import ProviderError
from providers.types import Chunk

if TYPE_CHECKING:
    from ollama_cli.router.walk import ChainWalk, Step


@dataclass
class RaceOutcome:
    hedged: bool = False


@dataclass
class _Runner:
    step: Step
    kind: str
    chunks: AsyncGenerator[Chunk, None]
    started: float = field(default_factory=time.perf_counter)
    task: asyncio.Task[list[Chunk]] | None = None

    @classmethod
    def start(cls, walk: ChainWalk, step: Step, kind: str) -> _Runner:
        runner = cls(step, kind, walk.open(step))
        runner.task = asyncio.ensure_future(_until_first_text(runner.chunks))
        return runner

    async def stop(self) -> None:
        assert self.task is not None
        if not self.task.done():
            self.task.cancel()
        with contextlib.suppress(BaseException):
            await self.task
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
    walk: ChainWalk, primary: Step, secondary: Step, delay: float, outcome: RaceOutcome
) -> AsyncGenerator[str, None]:
    """Yield the text of whichever of ``primary``/``secondary`` produces a token first."""
    runners = [_Runner.start(walk, primary, walk.kind())]
    try:
        first = runners[0].task
        assert first is not None
        done, _ = await asyncio.wait({first}, timeout=delay)
        if done and first.exception() is not None:
            _record_failure(walk, runners[0])
            return
        if not done:
            outcome.hedged = True
            walk.router.notify(
                f"{primary.name} silent for {round(delay * 1000)} ms → also asking {secondary.name}"
            )
            runners.append(_Runner.start(walk, secondary, "hedge"))
        winner = await _first_winner(walk, runners)
        if winner is None:
            return
        for loser in runners:
            if loser is not winner:
                await loser.stop()
                walk.record(
                    loser.step,
                    "interrupted",
                    f"cancelled: {winner.step.name} answered first",
                    _ms(loser.started),
                    loser.kind,
                )
        async for text in _stream_winner(walk, winner):
            yield text
    finally:
        for runner in runners:
            await runner.stop()


async def _first_winner(walk: ChainWalk, runners: list[_Runner]) -> _Runner | None:
    pending = {r.task for r in runners if r.task is not None}
    while pending:
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for runner in runners:
            if runner.task in done:
                if runner.task.exception() is None:
                    return runner
                _record_failure(walk, runner)
    return None


async def _stream_winner(walk: ChainWalk, winner: _Runner) -> AsyncIterator[str]:
    assert winner.task is not None
    buffered = winner.task.result()

    async def replay() -> AsyncGenerator[Chunk, None]:
        for chunk in buffered:
            yield chunk
        async for chunk in winner.chunks:
            yield chunk

    try:
        async for text in walk.consume(winner.step, replay()):
            yield text
    except ProviderError as error:
        walk.failed(winner.step, error, winner.started, winner.kind, 0, final=True)
        return
    walk.succeeded(winner.step, winner.started, winner.kind)


def _record_failure(walk: ChainWalk, runner: _Runner) -> None:
    assert runner.task is not None
    error = runner.task.exception()
    assert isinstance(error, ProviderError)
    walk.failed(runner.step, error, runner.started, runner.kind, 0, final=True)


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
