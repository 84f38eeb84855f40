"""``ModelCatalog``: the router's view of each provider's models, from the cache or live.

It answers three questions during a walk. Which model to ask for first (a selector
resolved, a remembered replacement, a retired model swapped before any request). What
replaces a model the provider says does not exist (once, announced, remembered). Which
sampling parameters a model takes. A model the user named (``-m``, ``/model``) is never
replaced: its error gets the closest ids instead.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Protocol

from ollama_cli.catalog.resolve import (
    best_installed,
    closest,
    find,
    is_selector,
    replacement,
    select,
    usable,
)
from ollama_cli.catalog.store import CatalogStore
from providers.base import BaseProvider
from providers.errors import ModelNotFoundError, ProviderError
from providers.types import ModelInfo, model_infos

Notify = Callable[[str], None]


class CatalogHost(Protocol):
    """What the catalog needs from its router."""

    def provider(self, name: str) -> BaseProvider: ...


class ModelCatalog:
    """Catalog look-ups and model resolution for one process."""

    def __init__(
        self,
        host: CatalogHost,
        store: CatalogStore,
        today: Callable[[], str] = lambda: datetime.date.today().isoformat(),
    ) -> None:
        self.host = host
        self.store = store
        self.today = today

    async def models(self, name: str, *, refresh: bool = False) -> list[ModelInfo]:
        """``name``'s listing: the cache while fresh, else fetched (and cached)."""
        if not refresh:
            fresh = self.store.fresh(name)
            if fresh is not None:
                return fresh
        from ollama_cli.router.deadline import bounded_list  # the router imports this module

        models = model_infos(await bounded_list(self.host.provider(name)))
        entry = self.store.entry(name)
        # A replacement is forgotten once its original is served again (e.g. pulled).
        for original in [k for k in entry.healed if (m := find(models, k)) and usable(m)]:
            del entry.healed[original]
        self.store.put(name, models)
        return models

    async def first_model(self, name: str, model: str, named: bool, notify: Notify) -> str:
        """The concrete model to ask ``name`` for. Raises ProviderError when a selector
        cannot be resolved (the listing failed, or nothing matches)."""
        if named:
            return model
        model = self.store.entry(name).healed.get(model, model)
        if is_selector(model):
            found = select(model, await self.models(name))
            if found is None:
                raise ModelNotFoundError(
                    f"{name}: no active model matches {model} (`models list {name}` shows "
                    "what there is)",
                    provider=name,
                )
            return found.id
        listed = find(self.store.cached(name) or [], model)
        if listed is not None and listed.lifecycle == "retired":
            swapped = self._swap(name, model, self.store.cached(name) or [], notify)
            if swapped is not None:
                return swapped
        if listed is not None and listed.lifecycle == "deprecated":
            self._warn_deprecated(name, listed, notify)
        return model

    async def heal(
        self, name: str, model: str, error: ProviderError, named: bool, notify: Notify
    ) -> str | None:
        """A replacement for a model ``name`` says does not exist, or None.

        For a model the user named, None — and the error gains "did you mean".
        """
        if not isinstance(error, ModelNotFoundError):
            return None
        try:
            models = await self.models(name, refresh=True)
        except ProviderError:
            return None
        if named:
            near = closest(model, models)
            if near:
                error.message = f"{error.message} (did you mean: {', '.join(near)}?)"
                error.args = (error.message,)
            return None
        return self._swap(name, model, models, notify)

    def default_entry(self, name: str, model: str) -> ModelInfo | None:
        """The cached entry ``name``'s default stands for (a selector resolved), if any."""
        cached = self.store.cached(name) or []
        model = self.store.entry(name).healed.get(model, model)
        return select(model, cached) if is_selector(model) else find(cached, model)

    def sampling(self, name: str, model: str) -> frozenset[str] | None:
        """The sampling parameters ``model`` takes, if the cached listing says."""
        listed = find(self.store.cached(name) or [], model)
        return None if listed is None else listed.sampling_params

    def _swap(self, name: str, model: str, models: list[ModelInfo], notify: Notify) -> str | None:
        installed = self.host.provider(name).catalog_lists_installed
        found = best_installed(model, models) if installed else replacement(model, models)
        if found is None:
            return None
        listed = find(models, model)
        if installed:
            why = f"is not pulled; using {found.id} (`ollama pull {model}` to get it)"
        elif listed is not None and listed.lifecycle == "retired":
            why = f"is retired; using {found.id}"
        else:
            why = f"is not served; using {found.id}"
        notify(f"{name}: {model} {why}")
        entry = self.store.entry(name)
        entry.healed[model] = found.id
        self.store.save(name)
        return found.id

    def _warn_deprecated(self, name: str, model: ModelInfo, notify: Notify) -> None:
        entry, today = self.store.entry(name), self.today()
        if entry.warned.get(model.id) == today:
            return
        when = f"retires {model.retires_at}" if model.retires_at else "to be retired"
        notify(f"{name}: {model.id} is deprecated ({when}); `models list {name}` shows the others")
        entry.warned[model.id] = today
        self.store.save(name)
