"""The catalog cache: one JSON file per provider in the state dir.

Each file holds the provider's listing (``ModelInfo`` entries), when it was fetched, the
replacements self-healing found (``claude-sonnet-4-5`` → ``claude-sonnet-5-5``, so the
next process asks for the right model first) and the day each deprecation warning was
last shown. Writes land atomically (temp file + ``os.replace``); a corrupt or unreadable
file reads as empty: the cache is an optimisation, never a reason to fail. Nothing is
read until a model must be resolved, so ``--help`` and ``--version`` never touch it.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ollama_cli.private import write_private
from providers.types import ModelInfo

#: How long a fetched listing is trusted (``models list --refresh`` ignores it).
CATALOG_TTL_S = 24 * 3600.0


@dataclass
class CatalogEntry:
    """What is cached for one provider."""

    fetched_at: float = 0.0
    models: list[ModelInfo] | None = None
    healed: dict[str, str] = field(default_factory=dict)
    warned: dict[str, str] = field(default_factory=dict)


class CatalogStore:
    """Per-provider catalog files under ``directory`` (None: in memory only)."""

    def __init__(
        self,
        directory: Path | None,
        *,
        ttl: float = CATALOG_TTL_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.directory = directory
        self.ttl = ttl
        self.clock = clock
        self._entries: dict[str, CatalogEntry] = {}

    def entry(self, provider: str) -> CatalogEntry:
        if provider not in self._entries:
            self._entries[provider] = self._read(provider)
        return self._entries[provider]

    def fresh(self, provider: str) -> list[ModelInfo] | None:
        """The cached listing if it is younger than the TTL, else None."""
        entry = self.entry(provider)
        if entry.models is None or self.clock() - entry.fetched_at > self.ttl:
            return None
        return entry.models

    def cached(self, provider: str) -> list[ModelInfo] | None:
        """The cached listing, however old (None if never fetched)."""
        return self.entry(provider).models

    def put(self, provider: str, models: list[ModelInfo]) -> None:
        entry = self.entry(provider)
        entry.models, entry.fetched_at = list(models), self.clock()
        self.save(provider)

    def save(self, provider: str) -> None:
        if self.directory is None:
            return
        entry = self.entry(provider)
        data = {
            "fetched_at": entry.fetched_at,
            "models": None if entry.models is None else [m.to_dict() for m in entry.models],
            "healed": entry.healed,
            "warned": entry.warned,
        }
        _write_atomic(self.directory / f"{_safe(provider)}.json", data)

    def _read(self, provider: str) -> CatalogEntry:
        if self.directory is None:
            return CatalogEntry()
        try:
            raw: Any = json.loads(
                (self.directory / f"{_safe(provider)}.json").read_text(encoding="utf-8")
            )
            models = raw.get("models")
            return CatalogEntry(
                fetched_at=float(raw.get("fetched_at") or 0.0),
                models=None if models is None else [ModelInfo.from_dict(m) for m in models],
                healed={str(k): str(v) for k, v in dict(raw.get("healed") or {}).items()},
                warned={str(k): str(v) for k, v in dict(raw.get("warned") or {}).items()},
            )
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return CatalogEntry()


def _safe(provider: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in provider)


def _write_atomic(path: Path, data: dict[str, Any]) -> None:
    """Replace ``path`` atomically, 0600 in a 0700 folder (``ollama_cli.private``); a
    failure (full disk) leaves the old cache: it is an optimisation, never a failure."""
    with contextlib.suppress(OSError):
        write_private(path, json.dumps(data))
