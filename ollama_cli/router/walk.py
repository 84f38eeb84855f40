"""The walk down the fallback chain for one request: skip, try, retry, fall over, resume.

Layered like httpx's ``send``: ``ChainWalk.run`` walks the plan, ``_try_provider``
handles one provider's retries (each a ``Try``, or a hedged race of two), ``consume``
streams one attempt, and ``succeeded``/``failed`` are the only places an attempt ends.
What to do after an error is looked up in ``policy.POLICY`` by exception type.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from typing import Protocol

from ollama_cli.config import RouterSettings
from ollama_cli.router.advice import short_outcome
from ollama_cli.router.attempt import error_text, provider_chunks
from ollama_cli.router.backoff import backoff_delay
from ollama_cli.router.cooldown import CooldownStore
from ollama_cli.router.hedge import RaceOutcome
from ollama_cli.router.policy import rule_for
from ollama_cli.router.trace import Attempt
from ollama_cli.router.types import RouteRequest, RouteResult, RoutingError
from providers.base import BaseProvider
from providers.errors import ContentFilteredError, ProviderError
from providers.types import ChatRequest, Chunk, Message, Usage

#: Where a walk sends its one-line notices (given per call; see ``ProviderRouter.stream``).
Notify = Callable[[str], None]

RESUME_INSTRUCTION = (
    "Your previous answer was cut off. Continue it from exactly where it stopped, "
    "without repeating any of it and without any preamble."
)


@dataclass(frozen=True)
class Step:
    """One provider of the plan, with the model it will be asked for."""

    name: str
    model: str
    skip: str | None = None  # "skipped_no_key" / "skipped_budget" / "unsupported_input"…
    skip_reason: str | None = None
    #: The user named this model (``-m``, ``/model``): it is never replaced.
    named: bool = False
    #: Request parameters the model does not take, left out of the request.
    dropped: frozenset[str] = frozenset()


@dataclass
class Try:
    """One attempt at one step: what the trace records and what the policy decides on.

    ``shown`` is how much of the answer was already out when the attempt began, so a
    failure after new text is an interruption (resumed elsewhere), not a clean failure.
    """

    step: Step
    kind: str  # one of trace.KINDS
    shown: int = 0
    started: float = field(default_factory=time.perf_counter)

    def elapsed_ms(self) -> int:
        return round((time.perf_counter() - self.started) * 1000)


class ChainWalk:
    """Mutable state of one routed request; ``run`` yields the answer's text."""

    def __init__(
        self, router: WalkHost, request: RouteRequest, steps: list[Step], notify: Notify
    ) -> None:
        self.router = router
        self.request = request
        self.steps = steps
        self.notify = notify
        self.result = RouteResult()
        self._stop: ProviderError | None = None
        self._failures: list[str] = []  # since the last answer began: for the next notice
        self._skipped = 0  # attempts recorded for plan skips: nothing was asked of them
        #: Receives reasoning as it streams (``RoutedStream.on_reasoning``); the answer's
        #: text is what ``run`` yields, so reasoning can never be mistaken for it.
        self.on_reasoning: Callable[[str], None] | None = None

    async def run(self) -> AsyncGenerator[str, None]:
        async with aclosing(self._walk(self.steps)) as texts:
            async for text in texts:
                yield text
        cooling = [
            replace(s, skip=None, skip_reason=None)
            for s in self.steps
            if s.skip == "skipped_cooldown"
        ]
        if cooling and self._unanswered():
            # Cooldown never turns a possible answer into a failure: everything else
            # failed, so the providers that were cooling down get their turn after all.
            async with aclosing(self._walk(cooling)) as texts:
                async for text in texts:
                    yield text
        self.router.settle(self.result)
        self._finish()

    def _unanswered(self) -> bool:
        return self.result.finish_reason is None and self._stop is None

    async def _walk(self, steps: list[Step]) -> AsyncGenerator[str, None]:
        index = 0
        while index < len(steps) and self._unanswered():
            step = steps[index]
            index += 1
            if step.skip:
                self._record(step, "first", step.skip, step.skip_reason, 0)
                self._skipped += 1
                # Say why the provider the user wanted first was passed over, and why any
                # was held back by a budget (a reason that lasts until the day is over).
                if step is self.steps[0] or step.skip == "skipped_budget":
                    self._failures.append(f"{step.name} skipped ({step.skip_reason})")
                continue
            partner = self._hedge_partner(steps, index)
            outcome = RaceOutcome()
            async with aclosing(self._try_provider(step, partner, outcome)) as texts:
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

    async def _try_provider(
        self, step: Step, partner: Step | None, outcome: RaceOutcome
    ) -> AsyncGenerator[str, None]:
        """One provider, retried by the policy; with a hedge partner each try is a race.

        First the step gets the model to ask for (``router.fit``); after a failure the
        router may offer a repaired step (a retired model replaced, a parameter the model
        does not take left out): the same provider is asked again, at most twice.
        """
        kind = self.kind()
        try:
            step = await self.router.fit(step, self.request, self.notify)
        except ProviderError as error:
            self.failed(self.begin(step, kind), error, final=True)
            return
        retry = repairs = 0
        while True:
            attempt = self.begin(step, kind)
            try:
                async with aclosing(self._attempt(attempt, partner, outcome)) as texts:
                    async for text in texts:
                        yield text
                if not outcome.hedged:  # a hedged race records both of its sides itself
                    self.succeeded(attempt)
                return
            except ProviderError as error:
                fixed = None
                if repairs < 2 and len(self.result.text) == attempt.shown and not outcome.hedged:
                    fixed = await self.router.repair(step, error, self.notify)
                if fixed is not None:
                    self.failed(attempt, error, final=False)
                    step, kind, repairs = fixed, "retry", repairs + 1
                    continue
                wait = self._retry_wait(error, retry, attempt.shown)
                self.failed(attempt, error, final=wait is None)
                if wait is None:
                    return
                self.notify(
                    f"{step.name}: {error_text(error, step.name)}; retrying in {wait:.1f} s"
                )
                await self.router.sleep(wait)
                kind, retry = "retry", retry + 1

    def _attempt(
        self, attempt: Try, partner: Step | None, outcome: RaceOutcome
    ) -> AsyncGenerator[str, None]:
        if partner is None:
            return self.consume(attempt.step, self.open(attempt.step))
        from ollama_cli.router.hedge import race

        return race(self, attempt, partner, self.router.settings.hedge_after_ms / 1000, outcome)

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
        for param in sorted(step.dropped):
            if param not in self.result.dropped_params:
                self.result.dropped_params.append(param)
        temperature = None if "temperature" in step.dropped else self.request.temperature
        return ChatRequest(
            messages=messages,
            model=step.model,
            max_tokens=self.request.max_tokens,
            temperature=temperature,
        )

    async def consume(
        self, step: Step, chunks: AsyncGenerator[Chunk, None]
    ) -> AsyncGenerator[str, None]:
        result = self.result
        finish: str | None = None
        if not result.text:
            result.reasoning = ""  # a new attempt from scratch thinks anew
        async with aclosing(chunks):
            async for chunk in chunks:
                if chunk.reasoning:
                    self._reason(chunk.reasoning)
                if chunk.text or chunk.finish_reason:
                    self._announce(step)
                if chunk.text:
                    result.provider, result.model = step.name, step.model
                    result.text += chunk.text
                    yield chunk.text
                if chunk.usage is not None:
                    result.usage_reported = True
                    result.usage = Usage(
                        result.usage.input_tokens + chunk.usage.input_tokens,
                        result.usage.output_tokens + chunk.usage.output_tokens,
                        result.usage.cached_input_tokens + chunk.usage.cached_input_tokens,
                    )
                finish = chunk.finish_reason or finish
        # Only a stream that ended cleanly has finished: an error after the finish chunk
        # still counts as a failure.
        result.provider, result.model, result.finish_reason = step.name, step.model, finish

    def _reason(self, text: str) -> None:
        self.result.reasoning += text
        if self.on_reasoning is not None:
            self.on_reasoning(text)

    def begin(self, step: Step, kind: str) -> Try:
        """A new attempt at ``step``, starting now."""
        return Try(step, kind, shown=len(self.result.text))

    def succeeded(self, attempt: Try) -> None:
        self.record(attempt, "ok")
        self.result.interrupted = False
        self.router.cooldowns.record_success(attempt.step.name)

    def failed(self, attempt: Try, error: ProviderError, *, final: bool) -> None:
        """Record a failed attempt; when it is ``final`` (no retry follows), decide whether
        the walk falls over, resumes elsewhere or stops, and count it toward a cooldown."""
        step = attempt.step
        interrupted = len(self.result.text) > attempt.shown
        outcome = "interrupted" if interrupted else error.outcome
        self.record(attempt, outcome, error_text(error, step.name))
        if not final:
            return
        rule = rule_for(error)
        if rule.cooldown:
            self._cool(step, error)
        if interrupted:
            self.result.interrupted = True
            # A refusal after some text (Anthropic's stop_reason "refusal") is announced so.
            refused = isinstance(error, ContentFilteredError)
            self._failures.append(f"{step.name} {'refused to go on' if refused else 'interrupted'}")
            if not self.router.settings.resume_interrupted:
                self._stop = error
        elif not rule.fall_over:
            self._stop = error
        else:
            self._failures.append(f"{step.name} {short_outcome(error.outcome)}")

    def _cool(self, step: Step, error: ProviderError) -> None:
        settings = self.router.settings
        retry_after = error.retry_after
        long_wait = retry_after is not None and retry_after > settings.max_retry_wait
        self.router.cooldowns.record_failure(
            step.name,
            threshold=settings.cooldown_failures,
            seconds=settings.cooldown_seconds,
            retry_after=retry_after if long_wait else None,
            fingerprint=self.router.fingerprint(step.name),
        )

    def record(self, attempt: Try, outcome: str, error: str | None = None) -> None:
        """One trace line for ``attempt``, timed from its start to now."""
        self._record(attempt.step, attempt.kind, outcome, error, attempt.elapsed_ms())

    def _record(self, step: Step, kind: str, outcome: str, error: str | None, elapsed: int) -> None:
        self.result.attempts.append(Attempt(step.name, step.model, outcome, error, elapsed, kind))

    def kind(self) -> str:
        if self.result.text:
            return "resume"
        # Skipped providers (no key, cooling down, unreadable input) were never asked.
        return "fallback" if len(self.result.attempts) > self._skipped else "first"

    def _announce(self, step: Step) -> None:
        """The fallback notice, once ``step`` starts answering (never for one that then
        fails too): every provider passed over since, and who answers instead."""
        if not self._failures:
            return
        action = "continues the answer" if self.result.text else f"({step.model})"
        self.notify(f"{', '.join(self._failures)} → {step.name} {action}")
        self._failures = []

    def _hedge_partner(self, steps: list[Step], index: int) -> Step | None:
        """The next live step, raced against this one if hedging is on and nothing is shown."""
        if not (self.router.settings.hedge_after_ms and self.request.stream) or self.result.text:
            return None
        return next((s for s in steps[index:] if not s.skip), None)


class WalkHost(Protocol):
    """What a walk needs from its router."""

    settings: RouterSettings
    cooldowns: CooldownStore

    async def sleep(self, seconds: float) -> None: ...

    def provider(self, name: str) -> BaseProvider: ...

    def fingerprint(self, name: str) -> str: ...

    async def fit(self, step: Step, request: RouteRequest, notify: Notify) -> Step: ...

    def settle(self, result: RouteResult) -> None: ...

    async def repair(self, step: Step, error: ProviderError, notify: Notify) -> Step | None: ...
