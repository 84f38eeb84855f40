"""Provider type specs: what the catalog, config validation and key checks need to know
about a provider type without importing its (httpx-heavy) module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from providers.base import BaseProvider


@dataclass(frozen=True)
class ProviderSpec:
    """A provider type: its class (as ``"module:Class"``) and capabilities.

    Built-ins declare their specs as data (``providers.builtins``); a test checks each
    against the class it names. External packages get theirs from the class or from a
    ``get_provider_spec()`` function behind their entry point.
    """

    type_name: str
    target: str
    key_envs: tuple[str, ...] = ()
    key_required: bool = False
    default_model: str = ""
    default_base_url: str | None = None
    supports_streaming: bool = True
    config_fields: tuple[tuple[str, str], ...] = ()
    pip_packages: tuple[str, ...] = ()
    input_parts: tuple[str, ...] = ()
    input_assumed: bool = False
    origin: str = "built-in"

    @classmethod
    def from_class(
        cls, provider_cls: type[BaseProvider], *, target: str, origin: str
    ) -> ProviderSpec:
        return cls(
            type_name=provider_cls.type_name,
            target=target,
            key_envs=tuple(provider_cls.key_envs),
            key_required=provider_cls.key_required,
            default_model=provider_cls.default_model,
            default_base_url=provider_cls.default_base_url,
            supports_streaming=provider_cls.supports_streaming,
            config_fields=tuple((k, t.__name__) for k, t in provider_cls.config_fields.items()),
            pip_packages=tuple(provider_cls.pip_packages),
            input_parts=tuple(sorted(provider_cls.input_parts)),
            input_assumed=provider_cls.input_assumed,
            origin=origin,
        )

    @property
    def field_types(self) -> dict[str, type]:
        """Type-specific config keys with their Python types, for validation."""
        names: dict[str, Any] = {"str": str, "int": int, "float": float, "bool": bool}
        return {key: names.get(tname, object) for key, tname in self.config_fields}
