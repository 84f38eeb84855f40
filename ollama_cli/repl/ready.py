"""Who will answer: a quick concurrent readiness check of the chain as the REPL starts.

The banner should name the provider the first message will really come from, not a
server that is not there. Every provider of the plan is asked for its model list at once
(the cheapest call: the embedded model answers from its file name, a remote one with one
listing request); after ``READY_WITHIN_S`` the first in chain order that answered is the
one named, with why the ones before it will not answer. A provider still silent then is
named as it is — it may well answer, just slowly — with "(not checked yet)".
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ollama_cli.router.advice import short_outcome
from providers.errors import ProviderError, ProviderUnreachableError

if TYPE_CHECKING:
    from ollama_cli.repl.state import ReplState
    from ollama_cli.router.walk import Step

READY_WITHIN_S = 0.3


@dataclass(frozen=True)
class Readiness:
    """The provider that will answer first (None: none is ready) and why others will not."""

    provider: str | None
    model: str | None
    passed_over: list[str] = field(default_factory=list)
    checked: bool = True  # False: it did not answer within READY_WITHIN_S

    def banner(self) -> str:
        if self.provider is None:
            reasons = ", ".join(self.passed_over) or "nothing configured"
            return f"no provider is ready — {reasons}; /providers for details"
        head = f"{self.provider} · {self.model}" + ("" if self.checked else " (not checked yet)")
        if not self.passed_over:
            return head
        return f"{head} — {', '.join(self.passed_over)}; /providers"


async def check(state: ReplState) -> Readiness:
    """Probe the plan's providers concurrently, at most ``READY_WITHIN_S`` in all."""
    from ollama_cli.router import RouteRequest

    router = state.router
    steps = router.plan(RouteRequest(messages=(), provider=state.provider, model=state.model))
    live = [s for s in steps if not s.skip]
    for step in live:  # built (imported) first: the time limit is for the providers, not us
        with contextlib.suppress(ProviderError):
            router.provider(step.name)
    probes: dict[str, asyncio.Future[object]] = {
        s.name: asyncio.ensure_future(router.list_models(s.name)) for s in live
    }
    if probes:
        await asyncio.wait(probes.values(), timeout=READY_WITHIN_S)
    for task in probes.values():
        task.cancel()
    with contextlib.suppress(Exception):
        await asyncio.gather(*probes.values(), return_exceptions=True)
    for name, probe in probes.items():  # what completion would fetch next: already here
        if not probe.cancelled() and probe.exception() is None:
            listed = probe.result()
            state.models.put(name, [m.id for m in listed] if isinstance(listed, list) else [])
    return _first_ready(steps, probes)


def _first_ready(steps: list[Step], probes: dict[str, asyncio.Future[object]]) -> Readiness:
    passed: list[str] = []
    no_key: list[str] = []
    for step in steps:
        probe = probes.get(step.name)
        if probe is None:  # skipped without a request
            if step.skip == "skipped_no_key":
                no_key.append(step.name)
            else:
                passed.append(f"{step.name} {short_outcome(step.skip or '')}")
            continue
        if probe.cancelled():
            return Readiness(step.name, step.model, _reasons(passed, no_key, steps), checked=False)
        error = probe.exception()
        if error is None:
            return Readiness(step.name, step.model, _reasons(passed, no_key, steps))
        passed.append(_why(step.name, error))
    return Readiness(None, None, _reasons(passed, no_key, steps))


def _reasons(passed: list[str], no_key: list[str], steps: list[Step]) -> list[str]:
    """The providers passed over; "no keys set" when no provider of the plan has one."""
    if not no_key:
        return passed
    if len(no_key) > 1 and len(no_key) == sum(s.skip == "skipped_no_key" for s in steps):
        return [*passed, "no keys set"]
    verb = "has" if len(no_key) == 1 else "have"
    return [*passed, f"{', '.join(no_key)} {verb} no key"]


def _why(name: str, error: BaseException) -> str:
    if isinstance(error, ProviderUnreachableError):
        return f"{name} not running"
    if isinstance(error, ProviderError):
        return f"{name} {short_outcome(error.outcome)}"
    return f"{name} unavailable"
