"""Every wait on a provider is bounded, whatever the provider does.

httpx's read timeout restarts with every byte, so a body trickled a byte at a time, or
Ollama's keep-alive blank lines, never trip it; a plugin may not use httpx at all. The
router therefore bounds each step itself: the wait for a stream's next chunk (the first
one includes the headers), a whole non-streamed answer, ``list_models`` and ``close``.

A step that misses its deadline is cancelled and, if it does not finish within
``ABANDON_GRACE`` (a plugin that swallows the cancellation), abandoned: the router stops
waiting for it. ``run_async`` does not wait for abandoned tasks at exit either
(``ollama_cli.shutdown``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable
from typing import Any, TypeVar

from ollama_cli.shutdown import ABANDON_GRACE
from providers.base import BaseProvider
from providers.errors import ProviderError, ProviderUnavailableError

T = TypeVar("T")

#: Slack over the provider's own timeout, so its adapter's message (e.g. "read timed out")
#: wins when it can tell more than "no answer within N s".
GRACE = 0.5
#: ``close`` gets this long, whatever the provider's timeout.
CLOSE_DEADLINE = 2.0


class Abandoned(ProviderUnavailableError):
    """A step did not finish by its deadline; its task may still be running."""

    def __init__(self, message: str, *, provider: str, running: bool) -> None:
        super().__init__(message, provider=provider)
        self.running = running


async def within(awaitable: Awaitable[T], seconds: float, name: str, what: str) -> T:
    """``await awaitable``, but for at most ``seconds``; else ``Abandoned``."""
    task = asyncio.ensure_future(awaitable)
    try:
        done, _ = await asyncio.wait({task}, timeout=seconds)
    except asyncio.CancelledError:  # Ctrl-C, a signal, a hedge's loser: cancel it too
        task.cancel()
        await asyncio.wait({task}, timeout=ABANDON_GRACE)  # let it unwind before closing
        raise
    if task in done:
        return task.result()
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=ABANDON_GRACE)
    if task in done and not task.cancelled() and task.exception() is None:
        return task.result()  # it finished in the nick of time
    raise Abandoned(
        f"{name}: no answer within {seconds:g} s ({what})", provider=name, running=not done
    )


async def bounded_chunks(
    chunks: AsyncIterator[T], seconds: float, name: str
) -> AsyncGenerator[T, None]:
    """``chunks``, each awaited for at most ``seconds`` (``timeout`` + ``GRACE``)."""
    what = "waiting for the first chunk"
    while True:
        try:
            chunk = await within(chunks.__anext__(), seconds, name, what)
        except StopAsyncIteration:
            return
        what = "between two chunks"
        yield chunk


class Watchdog:
    """One timer per stream instead of one per chunk: the cheap deadline for built-in
    adapters (trusted to honour cancellation). ``begin``/``end`` bracket each wait; the
    timer re-arms itself for the current wait and cancels the task once one overruns."""

    def __init__(self, seconds: float) -> None:
        self.loop = asyncio.get_running_loop()
        self.task = asyncio.current_task()
        self.seconds = seconds
        self.fired = False
        self._since: float | None = None
        self._handle: asyncio.TimerHandle | None = None

    def begin(self) -> None:
        self._since = self.loop.time()
        if self._handle is None:
            self._handle = self.loop.call_at(self._since + self.seconds, self._check)

    def end(self) -> None:
        self._since = None

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _check(self) -> None:
        self._handle = None
        if self._since is None or self.task is None:
            return  # not waiting now: the next begin() re-arms
        due = self._since + self.seconds
        if self.loop.time() < due:
            self._handle = self.loop.call_at(due, self._check)
            return
        self.fired = True
        self.task.cancel()


async def watched_chunks(
    chunks: AsyncIterator[T], seconds: float, name: str
) -> AsyncGenerator[T, None]:
    """``chunks``, each waited for at most ``seconds``, at the cost of one timer per
    stream (``Watchdog``); a wait that overruns is a ``ProviderUnavailableError``."""
    dog = Watchdog(seconds)
    what = "waiting for the first chunk"
    try:
        while True:
            dog.begin()
            try:
                chunk = await chunks.__anext__()
            except StopAsyncIteration:
                return
            except BaseException as exc:
                ours = dog.fired and dog.task is not None and dog.task.uncancel() == 0
                if ours and isinstance(exc, asyncio.CancelledError):
                    raise ProviderUnavailableError(
                        f"{name}: no answer within {seconds:g} s ({what})", provider=name
                    ) from None
                raise
            finally:
                dog.end()
            what = "between two chunks"
            yield chunk
    finally:
        dog.close()


def step_deadline(timeout: float) -> float:
    return timeout + GRACE


async def bounded_list(provider: BaseProvider) -> list[Any]:
    """``provider.list_models()`` within its deadline; a plugin's bug (any exception
    outside the taxonomy) is its failure, never an internal error."""
    name = provider.name
    deadline = step_deadline(provider.settings.timeout)
    try:
        listed: list[Any] = await within(provider.list_models(), deadline, name, "listing models")
    except ProviderError:
        raise
    except Exception as exc:
        raise ProviderUnavailableError(
            f"{name}: unexpected {type(exc).__name__}: {exc}", provider=name
        ) from exc
    return listed
