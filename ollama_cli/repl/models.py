"""Model names for completion, fetched in the background and cached per provider.

The prompt never waits for a provider: the first request for a provider's models starts a
task and completes nothing; once the task is done its names are offered. A provider that is
down or has no key simply offers no names (completion is a convenience, not a check).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ollama_cli.router import ProviderRouter

#: Completion is not worth holding a connection open longer than this.
FETCH_TIMEOUT_S = 10.0


class ModelCache:
    """``get(name)`` returns what is known now and fetches the rest in the background."""

    def __init__(self, router: Callable[[], ProviderRouter]) -> None:
        self._router = router
        self._names: dict[str, list[str]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def get(self, provider: str) -> list[str]:
        names = self._names.get(provider)
        if names is None:
            self.want(provider)
        return names or []

    def want(self, provider: str, *, refresh: bool = False) -> None:
        """Start fetching ``provider``'s models unless known (or ``refresh``) or under way."""
        if provider in self._tasks or (provider in self._names and not refresh):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self._fetch(provider))
        self._tasks[provider] = task
        task.add_done_callback(lambda _: self._tasks.pop(provider, None))

    def put(self, provider: str, names: list[str]) -> None:
        """Names fetched elsewhere (``/models``): no need to ask again."""
        self._names[provider] = sorted(set(names))

    async def wait(self) -> None:
        """Wait for the fetches under way (tests, and nothing else, need this)."""
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def aclose(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _fetch(self, provider: str) -> None:
        router = self._router()
        names: list[str] = []
        try:
            cfg = router.provider_config(provider)
            if cfg.enabled and not (cfg.key_required and cfg.resolve_key(router.environ) is None):
                # Import the adapter (and httpx) on a thread, so typing never stutters.
                await asyncio.to_thread(router.registry.load_class, cfg.type)
                listed = await asyncio.wait_for(router.list_models(provider), FETCH_TIMEOUT_S)
                names = [m.id for m in listed]
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a provider that cannot list offers no names
            names = []
        self.put(provider, names)
