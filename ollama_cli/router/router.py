"""``ProviderRouter``: builds providers by name and routes every call down the chain.

The router owns provider instances (built lazily, once), the cooldown store and the
plan (which providers, in which order, with which model). The walk itself lives in
``walk.py``; health checks in ``health.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from ollama_cli.catalog import CatalogStore, ModelCatalog
from ollama_cli.config import Config, ProviderConfig, RouterSettings
from ollama_cli.router.capability import needs_of, too_long, unreadable
from ollama_cli.router.cooldown import CooldownStore
from ollama_cli.router.deadline import CLOSE_DEADLINE, within
from ollama_cli.router.types import RouteRequest, RouteResult, UnknownProviderError
from ollama_cli.router.walk import ChainWalk, Notify, Step
from ollama_cli.settings import unknown_provider
from ollama_cli.usage.prices import PriceTable
from providers.base import BaseProvider
from providers.errors import ProviderError, ProviderUnavailableError, UnsupportedParameterError
from providers.registry import ProviderLoadError, ProviderRegistry
from providers.types import Message, ModelInfo

if TYPE_CHECKING:
    from ollama_cli.router.health import HealthReport
    from ollama_cli.usage.budget import Budget


class ProviderRouter:
    """Routes chat, stream, complete, health_check and list_models over the fallback chain.

    Args:
        config: the validated configuration (router settings and provider configs).
        registry: where provider types come from (built-in and entry points).
        cooldowns: persisted cooldown state; an in-memory store when omitted.
        notify: the default receiver of one-line notices (fallbacks, retries, resume
            seams) for calls that do not pass their own ``notify``; stderr when omitted.
        environ: where API keys are read from.
        catalog: known model entries by (provider, model), for the rules that skip a
            model that cannot read the request's parts or fit its prompt.
        catalogs: the per-provider model catalog cache; in memory when omitted.
        budget: the daily/monthly spending limits (``usage.budget.Budget``), if any.
    """

    def __init__(
        self,
        config: Config,
        *,
        registry: ProviderRegistry | None = None,
        cooldowns: CooldownStore | None = None,
        notify: Callable[[str], None] | None = None,
        environ: Mapping[str, str] | None = None,
        catalog: Callable[[str, str], ModelInfo | None] | None = None,
        catalogs: CatalogStore | None = None,
        budget: Budget | None = None,
    ) -> None:
        self.config = config
        self.settings: RouterSettings = config.router
        self.registry = registry or ProviderRegistry()
        self.cooldowns = cooldowns or CooldownStore(None)
        self.notify: Notify = notify or (lambda message: print(message, file=sys.stderr))
        self.environ = os.environ if environ is None else environ
        self._providers: dict[str, BaseProvider] = {}
        self._catalog = catalog
        self.catalog = ModelCatalog(self, catalogs or CatalogStore(None))
        self.prices = PriceTable(config.prices)
        self.budget = budget

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def provider_config(self, name: str) -> ProviderConfig:
        try:
            return self.config.providers[name]
        except KeyError:
            raise UnknownProviderError(unknown_provider(name, self.config.providers)) from None

    def provider(self, name: str) -> BaseProvider:
        """The provider instance for ``name``, built on first use."""
        if name not in self._providers:
            cfg = self.provider_config(name)
            try:
                self._providers[name] = self.registry.create(cfg.settings(self.environ))
            except ProviderLoadError as exc:
                raise ProviderUnavailableError(f"{name}: {exc}", provider=name) from exc
        return self._providers[name]

    def fingerprint(self, name: str) -> str:
        """What ``name``'s cooldown was counted under (see ``ProviderConfig.fingerprint``)."""
        return self.provider_config(name).fingerprint(self.environ)

    def plan(self, request: RouteRequest) -> list[Step]:
        """The providers this request will walk, each with its model and skip reason."""
        names = list(self.settings.chain)
        if request.provider:
            self.provider_config(request.provider)
            names = [request.provider, *(n for n in names if n != request.provider)]
        fallback = self.settings.fallback if request.fallback is None else request.fallback
        names = [
            n
            for i, n in enumerate(names)
            if self.config.providers[n].enabled or (i == 0 and request.provider)
        ]
        if not fallback:
            names = names[:1]
        steps = [
            self._step(n, request.model if i == 0 else None, request) for i, n in enumerate(names)
        ]
        if request.model and steps:
            steps[0] = replace(steps[0], named=True)
        if request.provider and steps and steps[0].skip == "skipped_cooldown":
            # -p NAME always tries NAME: the user is asking for it, perhaps having fixed it.
            steps[0] = replace(steps[0], skip=None, skip_reason=None)
        live = [s for s in steps if s.skip in (None, "skipped_cooldown")]
        if live and all(s.skip == "skipped_cooldown" for s in live):
            # Every provider is cooling down: try them anyway rather than fail for sure.
            steps = [
                replace(s, skip=None, skip_reason=None) if s.skip == "skipped_cooldown" else s
                for s in steps
            ]
        return steps

    def _step(self, name: str, model: str | None, request: RouteRequest) -> Step:
        cfg = self.config.providers[name]
        model = model or cfg.default_model
        if cfg.key_required and cfg.resolve_key(self.environ) is None:
            return Step(name, model, "skipped_no_key", f"{cfg.key_env or 'an API key'} is not set")
        needs = needs_of(request.messages)
        info = self.model_info(name, model)
        spec = self.registry.spec(cfg.type) if needs else None
        if needs and (why := unreadable(needs, spec, info, model, cfg.reads)):
            return Step(name, model, "unsupported_input", why)
        if why := too_long(request.messages, info, model):
            return Step(name, model, "context_too_long", why)
        over = self._over_budget(cfg, model, request)
        if over is not None:
            return Step(name, model, "skipped_budget", over)
        remaining = self.cooldowns.remaining(name, self.fingerprint(name))
        if remaining > 0:
            failures = self.cooldowns.failures(name, self.fingerprint(name))
            plural = "s" if failures != 1 else ""
            why = (
                f"cooling down for {remaining:.0f} s after {failures} failure{plural};"
                f" -p {name} tries it now"
            )
            return Step(name, model, "skipped_cooldown", why)
        return Step(name, model)

    def model_info(self, name: str, model: str) -> ModelInfo | None:
        """What the catalog knows about ``model`` of provider ``name`` without a request
        (None: nothing), for the input and context-window rules: the cached catalog
        unless one was given."""
        if self._catalog is not None:
            return self._catalog(name, model)
        return self.catalog.default_entry(name, model)

    def _over_budget(self, cfg: ProviderConfig, model: str, request: RouteRequest) -> str | None:
        """Why the budget holds ``cfg`` back from this request, or None."""
        if self.budget is None or not self.budget.active:
            return None
        chars = sum(len(m.content) for m in request.messages)
        return self.budget.refusal(cfg, model, chars, request.max_tokens)

    def settle(self, result: RouteResult) -> None:
        """Price the answer (``result.cost``, None when unknown) and count it in the budget."""
        if result.provider is None:
            return
        cfg = self.config.providers.get(result.provider)
        result.cost = self.prices.cost(cfg, result.model, result.tokens)
        if self.budget is not None:
            self.budget.charge(result.cost)

    def stream(self, request: RouteRequest, *, notify: Notify | None = None) -> RoutedStream:
        """Route ``request``; iterate the returned object for text, then read ``.result``.

        ``notify`` receives this request's notices (the caller knows where they belong:
        above a live answer, inline in the REPL, on stderr).
        """
        walk = ChainWalk(self, request, self.plan(request), notify or self.notify)
        return RoutedStream(walk)

    async def chat(self, request: RouteRequest, *, notify: Notify | None = None) -> RouteResult:
        """Route ``request`` without showing text as it arrives."""
        routed = self.stream(replace(request, stream=False), notify=notify)
        async for _ in routed:
            pass
        return routed.result

    async def complete(self, prompt: str, **options: object) -> RouteResult:
        """Answer one prompt (``options`` are RouteRequest fields)."""
        request = RouteRequest(messages=(Message("user", prompt),), **options)  # type: ignore[arg-type]
        return await self.chat(request)

    async def list_models(self, name: str, *, refresh: bool = False) -> list[ModelInfo]:
        """``name``'s catalog: cached for a day (``refresh`` asks the provider again).

        Bare ids from an older plugin become unknown-lifecycle entries.
        """
        return await self.catalog.models(name, refresh=refresh)

    async def fit(self, step: Step, request: RouteRequest, notify: Notify) -> Step:
        """``step`` with the concrete model to ask for first, and without the sampling
        parameters the cached catalog says that model does not take."""
        model = await self.catalog.first_model(step.name, step.model, step.named, notify)
        step = replace(step, model=model)
        takes = self.catalog.sampling(step.name, model)
        if request.temperature is not None and takes is not None and "temperature" not in takes:
            notify(f"{step.name}: {model} takes no temperature; sent without it")
            step = replace(step, dropped=step.dropped | {"temperature"})
        return step

    async def repair(self, step: Step, error: ProviderError, notify: Notify) -> Step | None:
        """What to ask the same provider instead after ``error``, or None to go on."""
        if isinstance(error, UnsupportedParameterError):
            param = error.param
            if param != "temperature" or param in step.dropped:
                return None  # only temperature is ever sent
            notify(f"{step.name}: {step.model} does not take {param}; asked again without it")
            return replace(step, dropped=step.dropped | {param})
        model = await self.catalog.heal(step.name, step.model, error, step.named, notify)
        return None if model is None else replace(step, model=model)

    async def health_check(
        self, names: list[str] | None = None, timeout: float = 5.0
    ) -> list[HealthReport]:
        from ollama_cli.router.health import check_all

        return await check_all(self, names or list(self.config.providers), timeout)

    async def aclose(self) -> None:
        providers, self._providers = list(self._providers.values()), {}
        for provider in providers:
            # Closing must never mask the real outcome, nor hang (a plugin's close).
            with contextlib.suppress(Exception):
                await within(provider.close(), CLOSE_DEADLINE, provider.name, "closing")


class RoutedStream:
    """Async iterator over a routed answer's text; ``result`` is complete once it ends.

    On failure iteration raises ``RoutingError`` (whose ``result`` carries the trace).
    """

    def __init__(self, walk: ChainWalk) -> None:
        self._walk = walk
        self._texts: AsyncIterator[str] = walk.run()

    @property
    def result(self) -> RouteResult:
        return self._walk.result

    @property
    def on_reasoning(self) -> Callable[[str], None] | None:
        """Called with each piece of reasoning as it streams (None: only kept in result)."""
        return self._walk.on_reasoning

    @on_reasoning.setter
    def on_reasoning(self, callback: Callable[[str], None] | None) -> None:
        self._walk.on_reasoning = callback

    def __aiter__(self) -> AsyncIterator[str]:
        return self._texts

    async def aclose(self) -> None:
        aclose = getattr(self._texts, "aclose", None)
        if aclose is not None:
            await aclose()
