"""The registry of provider types: built-ins and entry-point packages, through one path.

Types are resolved lazily. The entry-point group ``ollama_cli.providers`` is scanned only
when a config names a type that is not built in, or when the whole catalog is asked for,
and a provider module is imported only when an instance of its type is built.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from providers.base import BaseProvider, ProviderSettings, contract_gaps
from providers.builtins import BUILTIN_TYPES
from providers.spec import ProviderSpec

ENTRY_POINT_GROUP = "ollama_cli.providers"


class ProviderLoadError(Exception):
    """A provider type could not be loaded; the message names the package and the problem."""


@dataclass(frozen=True)
class Refusal:
    """An installed provider package that was refused, and why (one line)."""

    origin: str
    message: str


class ProviderRegistry:
    """Maps type names to specs and loads provider classes on demand."""

    def __init__(
        self,
        builtins: Iterable[ProviderSpec] = BUILTIN_TYPES.values(),
        entry_points: Callable[[], Iterable[Any]] | None = None,
    ) -> None:
        self._specs: dict[str, ProviderSpec] = {s.type_name: s for s in builtins}
        self._classes: dict[str, type[BaseProvider]] = {}
        self._entry_points = entry_points or _installed_entry_points
        self._discovered = False
        self.refused: list[Refusal] = []

    def register(self, spec: ProviderSpec, cls: type[BaseProvider] | None = None) -> None:
        """Add a type. Refuses (records a Refusal) a name that is already taken."""
        if spec.type_name in self._specs:
            self.refused.append(
                Refusal(
                    spec.origin,
                    f"{spec.origin}: provider type {spec.type_name!r} collides with an "
                    f"existing type of that name; refused",
                )
            )
            return
        self._specs[spec.type_name] = spec
        if cls is not None:
            self._classes[spec.type_name] = cls

    def spec(self, type_name: str) -> ProviderSpec | None:
        """The spec of ``type_name``, discovering entry points if it is not built in."""
        if type_name not in self._specs:
            self.discover()
        return self._specs.get(type_name)

    def all_specs(self) -> list[ProviderSpec]:
        """Every known type, built-in first, after discovering installed packages."""
        self.discover()
        return list(self._specs.values())

    def type_names(self) -> list[str]:
        return list(self._specs)

    def load_class(self, type_name: str) -> type[BaseProvider]:
        """Import and check the class of ``type_name``. Raises ProviderLoadError."""
        if type_name in self._classes:
            return self._classes[type_name]
        spec = self.spec(type_name)
        if spec is None:
            raise ProviderLoadError(f"unknown provider type {type_name!r}")
        cls: type[BaseProvider] = _import_target(spec.target, spec.origin)
        gaps = contract_gaps(cls)
        if gaps:
            raise ProviderLoadError(
                f"{spec.origin}: {spec.target} does not implement the provider contract "
                f"(missing: {', '.join(gaps)})"
            )
        self._classes[type_name] = cls
        return cls

    def create(self, settings: ProviderSettings) -> BaseProvider:
        """Build a provider instance for ``settings``."""
        return self.load_class(settings.type)(settings)

    def discover(self) -> None:
        """Scan the entry-point group once; refuse broken or colliding packages."""
        if self._discovered:
            return
        self._discovered = True
        for ep in self._entry_points():
            origin = _origin(ep)
            try:
                spec, cls = _spec_from_entry_point(ep, origin)
            except ProviderLoadError as exc:
                self.refused.append(Refusal(origin, str(exc)))
                continue
            self.register(spec, cls)


def _installed_entry_points() -> Iterable[Any]:
    from importlib.metadata import entry_points

    return entry_points(group=ENTRY_POINT_GROUP)


def _origin(ep: Any) -> str:
    dist = getattr(ep, "dist", None)
    package = getattr(dist, "name", None) if dist is not None else None
    return f"{package or ep.value} (entry point {ep.name!r})"


def _import_target(target: str, origin: str) -> Any:
    module_name, _, attr = target.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split(".") if attr else ():
            obj = getattr(obj, part)
    except Exception as exc:  # any import-time failure of a plugin is refused, not fatal
        raise ProviderLoadError(
            f"{origin}: cannot import {target} ({type(exc).__name__}: {exc})"
        ) from exc
    return obj


def _spec_from_entry_point(ep: Any, origin: str) -> tuple[ProviderSpec, type[BaseProvider]]:
    obj = _import_target(ep.value, origin)
    if not isinstance(obj, type) and callable(obj):
        try:
            made = obj()
        except Exception as exc:
            raise ProviderLoadError(f"{origin}: get_provider_spec() failed ({exc})") from exc
        if not isinstance(made, ProviderSpec):
            raise ProviderLoadError(f"{origin}: get_provider_spec() did not return a ProviderSpec")
        cls = _import_target(made.target, origin)
        gaps = contract_gaps(cls)
        if gaps:
            raise ProviderLoadError(
                f"{origin}: {made.target} does not implement the provider contract "
                f"(missing: {', '.join(gaps)})"
            )
        return replace(made, origin=origin), cls
    gaps = contract_gaps(obj)
    if gaps:
        raise ProviderLoadError(
            f"{origin}: {ep.value} does not implement the provider contract "
            f"(missing: {', '.join(gaps)})"
        )
    spec = ProviderSpec.from_class(obj, target=ep.value, origin=origin)
    if spec.type_name != ep.name:
        spec = replace(spec, type_name=ep.name)
    return spec, obj
