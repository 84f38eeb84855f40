"""The walk down the fallback chain for one request: skip, try, retry, fall over, resume.

Layered like httpx's ``send``: ``ChainWalk.run`` walks the plan, ``_try_provider``
handles one provider's retries, ``_consume`` streams one attempt. What to do after an
error is looked up in ``policy.POLICY`` by exception type.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from typing import Protocol

from ollama_cli.config import RouterSettings
from ollama_cli.router.attempt import error_text, provider_chunks
from ollama_cli.router.backoff import backoff_delay
from ollama_cli.router.cooldown import CooldownStore
from ollama_cli.router.policy import rule_for
from ollama_cli.router.trace import Attempt
from ollama_cli.router.types import RouteRequest, RouteResult, RoutingError
from providers.base import BaseProvider
from providers.errors import ProviderError
from providers.types import ChatRequest, Chunk, Message, Usage

RESUME_INSTRUCTION = (
    "Your previous answer was cut off. Continue it from exactly where it stopped, "
    "without repeating any of it and without any preamble."
)


@dataclass(frozen=True)
class Step:
    """One provider of the plan, with the model it will be asked for."""

    name: str
    model: str
    skip: str | None = None  # "skipped_no_key" / "skipped_cooldown"
    skip_reason: str | None = None


class ChainWalk:
    """Mutable state of one routed request; ``run`` yields the answer's text."""

    def __init__(self, router: WalkHost, request: RouteRequest, steps: list[Step]) -> None:
        self.router = router
        self.request = request
        self.steps = steps
        self.result = RouteResult()
        self._stop: ProviderError | None = None
        self._last_failure: str | None = None

    async def run(self) -> AsyncGenerator[str, None]:
        async with aclosing(self._walk(self.steps)) as texts:
            async for text in texts:
                yield text
        cooling = [Step(s.name, s.model) for s in self.steps if s.skip == "skipped_cooldown"]
        if cooling and self._unanswered():
            # Cooldown never turns a possible answer into a failure: everything else
            # failed, so the providers that were cooling down get their turn after all.
            async with aclosing(self._walk(cooling)) as texts:
                async for text in texts:
                    yield text
        self._finish()

    def _unanswered(self) -> bool:
        return self.result.finish_reason is None and self._stop is None

    async def _walk(self, steps: list[Step]) -> AsyncGenerator[str, None]:
        hedge_ms = self.router.settings.hedge_after_ms
        index = 0
        while index < len(steps) and self._unanswered():
            step = steps[index]
            index += 1
            if step.skip:
                self.record(step, step.skip, step.skip_reason, 0, "first")
                if step is self.steps[0]:  # the provider the user wanted first: say why not
                    self._last_failure = f"{step.name} skipped ({step.skip_reason})"
                continue
            partner = (
                self._hedge_partner(steps, index) if hedge_ms and not self.result.text else None
            )
            self._announce(step)
            if partner is None:
                attempt = self._try_provider(step)
            else:
                from ollama_cli.router.hedge import RaceOutcome, race

                outcome = RaceOutcome()
                attempt = race(self, step, partner, hedge_ms / 1000, outcome)
            async with aclosing(attempt) as texts:
                async for text in texts:
                    yield text
            if partner is not None and outcome.hedged:
                index = steps.index(partner) + 1

    def _finish(self) -> None:
        if self.result.finish_reason is not None:
            return
        self.result.interrupted = bool(self.result.text)
        if self._stop is not None:
            raise RoutingError(str(self._stop), self.result)
        raise RoutingError("no provider could answer", self.result)

    async def _try_provider(self, step: Step) -> AsyncGenerator[str, None]:
        settings = self.router.settings
        kind = self.kind()
        for retry in range(settings.retries + 1):
            started = time.perf_counter()
            shown = len(self.result.text)
            try:
                async with aclosing(self.consume(step, self.open(step))) as texts:
                    async for text in texts:
                        yield text
                self.succeeded(step, started, kind)
                return
            except ProviderError as error:
                wait = self._retry_wait(error, retry, shown)
                self.failed(step, error, started, kind, shown, final=wait is None)
                if wait is None:
                    return
                self.router.notify(
                    f"{step.name}: {error_text(error, step.name)}; retrying in {wait:.1f} s"
                )
                await self.router.sleep(wait)
                kind = "retry"

    def _retry_wait(self, error: ProviderError, retry: int, shown: int) -> float | None:
        """Seconds to wait before retrying the same provider, or None to move on."""
        settings = self.router.settings
        if len(self.result.text) > shown or retry >= settings.retries or not rule_for(error).retry:
            return None
        if error.retry_after is not None and error.retry_after > settings.max_retry_wait:
            return None
        return backoff_delay(retry, error.retry_after)

    def open(self, step: Step) -> AsyncGenerator[Chunk, None]:
        """Start one attempt at ``step`` (resuming the partial answer if there is one)."""
        provider = self.router.provider(step.name)
        return provider_chunks(provider, self._chat_request(step), stream=self.request.stream)

    def _chat_request(self, step: Step) -> ChatRequest:
        messages = self.request.messages
        if self.result.text:
            messages = (
                *messages,
                Message("assistant", self.result.text),
                Message("user", RESUME_INSTRUCTION),
            )
        return ChatRequest(
            messages=messages,
            model=step.model,
            max_tokens=self.request.max_tokens,
            temperature=self.request.temperature,
        )

    async def consume(
        self, step: Step, chunks: AsyncGenerator[Chunk, None]
    ) -> AsyncGenerator[str, None]:
        result = self.result
        finish: str | None = None
        async with aclosing(chunks):
            async for chunk in chunks:
                if chunk.text:
                    result.provider, result.model = step.name, step.model
                    result.text += chunk.text
                    yield chunk.text
                if chunk.usage is not None:
                    result.usage = Usage(
                        result.usage.input_tokens + chunk.usage.input_tokens,
                        result.usage.output_tokens + chunk.usage.output_tokens,
                    )
                finish = chunk.finish_reason or finish
        # Only a stream that ended cleanly has finished: an error after the finish chunk
        # still counts as a failure.
        result.provider, result.model, result.finish_reason = step.name, step.model, finish

    def succeeded(self, step: Step, started: float, kind: str) -> None:
        self.record(step, "ok", None, _ms(started), kind)
        self.result.interrupted = False
        self.router.cooldowns.record_success(step.name)

    def failed(
        self,
        step: Step,
        error: ProviderError,
        started: float,
        kind: str,
        shown: int,
        *,
        final: bool,
    ) -> None:
        """Record a failed attempt; decide whether the walk stops here."""
        interrupted = len(self.result.text) > shown
        outcome = "interrupted" if interrupted else error.outcome
        self.record(step, outcome, error_text(error, step.name), _ms(started), kind)
        rule = rule_for(error)
        if rule.cooldown and final:
            retry_after = error.retry_after
            long_wait = (
                retry_after is not None and retry_after > self.router.settings.max_retry_wait
            )
            self.router.cooldowns.record_failure(
                step.name,
                threshold=self.router.settings.cooldown_failures,
                seconds=self.router.settings.cooldown_seconds,
                retry_after=retry_after if long_wait else None,
            )
        if not final:
            return
        if interrupted:
            self.result.interrupted = True
            self._last_failure = f"{step.name} interrupted"
            if not self.router.settings.resume_interrupted:
                self._stop = error
        elif not rule.fall_over:
            self._stop = error
        else:
            self._last_failure = f"{step.name} {_short_outcome(error.outcome)}"

    def record(self, step: Step, outcome: str, error: str | None, elapsed: int, kind: str) -> None:
        self.result.attempts.append(Attempt(step.name, step.model, outcome, error, elapsed, kind))

    def kind(self) -> str:
        if self.result.text:
            return "resume"
        tried = [a for a in self.result.attempts if not a.outcome.startswith("skipped")]
        return "fallback" if tried else "first"

    def _announce(self, step: Step) -> None:
        if self._last_failure is None:
            return
        action = "continues the answer" if self.result.text else f"({step.model})"
        self.router.notify(f"{self._last_failure} → {step.name} {action}")
        self._last_failure = None

    def _hedge_partner(self, steps: list[Step], index: int) -> Step | None:
        if not self.request.stream:
            return None
        return next((s for s in steps[index:] if not s.skip), None)


class WalkHost(Protocol):
    """What a walk needs from its router."""

    settings: RouterSettings
    cooldowns: CooldownStore

    def notify(self, message: str) -> None: ...

    async def sleep(self, seconds: float) -> None: ...

    def provider(self, name: str) -> BaseProvider: ...


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


def _short_outcome(outcome: str) -> str:
    return {
        "unavailable": "unreachable",
        "rate_limited": "rate-limited",
        "auth": "refused the key",
        "model_not_found": "has no such model",
        "context_too_long": "context too long",
        "content_filtered": "filtered the answer",
    }.get(outcome, outcome)
