"""The provider contract every adapter implements, built-in or external.

Small on purpose (like httpx's ``BaseTransport``): the contract methods, capabilities
as class attributes, and a clear error naming any method a subclass forgot.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from providers.types import ChatRequest, ChatResult, Chunk, Health, Message, ModelInfo

#: Methods a provider class must define itself (``complete`` and ``close`` have defaults).
REQUIRED_METHODS = ("chat", "stream", "health_check", "list_models")


@dataclass(frozen=True)
class ProviderSettings:
    """Everything a provider instance needs, already resolved from config and environment.

    ``api_key`` is excluded from ``repr`` so it can never leak through a log line.
    ``options`` holds the type-specific keys declared in the class's ``config_fields``.
    ``environ`` is the environment the app was given (e.g. for ``OLLAMA_HOST``): adapters
    read it, never ``os.environ``, so tests and embedders decide what they see.
    """

    name: str
    type: str
    default_model: str
    api_key: str | None = field(default=None, repr=False)
    api_key_env: str | None = None
    base_url: str | None = None
    timeout: float = 60.0
    connect_timeout: float = 5.0
    options: Mapping[str, Any] = field(default_factory=dict)
    environ: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)


class BaseProvider:
    """Base class of all providers.

    Subclasses set the capability attributes and implement ``chat``, ``stream``,
    ``health_check`` and ``list_models`` as coroutines (``stream`` as an async
    generator). They raise only ``providers.errors`` types and never retry: the
    router is the one retry loop.
    """

    #: The config ``type`` this class implements (e.g. ``"anthropic"``).
    type_name: ClassVar[str] = ""
    #: Environment variables that may hold the key, in order of preference.
    key_envs: ClassVar[tuple[str, ...]] = ()
    #: True when the provider cannot work without a key (Ollama's key is optional).
    key_required: ClassVar[bool] = False
    default_model: ClassVar[str] = ""
    default_base_url: ClassVar[str | None] = None
    supports_streaming: ClassVar[bool] = True
    #: Type-specific config keys and their Python types (e.g. ``{"host": str}``).
    config_fields: ClassVar[Mapping[str, type]] = {}
    #: pip packages the provider needs beyond the core install.
    pip_packages: ClassVar[tuple[str, ...]] = ()
    #: Message parts the wire format can carry (``"image_input"``, ``"pdf_input"``).
    input_parts: ClassVar[frozenset[str]] = frozenset()
    #: True when every current model of the API reads the parts it can carry, so a model
    #: whose catalog entry does not say is taken to; False is the conservative default:
    #: a model must be known to read a part before it is sent one.
    input_assumed: ClassVar[bool] = False
    #: True when ``list_models`` lists what is installed (Ollama), not what the vendor
    #: serves: a missing default is then replaced by the best installed model.
    catalog_lists_installed: ClassVar[bool] = False

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings

    @property
    def name(self) -> str:
        return self.settings.name

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Abstract intermediate bases (no type_name) may leave methods to subclasses.
        if cls.type_name:
            missing = missing_methods(cls)
            if missing:
                raise TypeError(
                    f"provider class {cls.__qualname__} does not implement: {', '.join(missing)}"
                )

    async def chat(self, request: ChatRequest) -> ChatResult:
        """Return the whole answer to ``request``."""
        raise NotImplementedError

    def stream(self, request: ChatRequest) -> AsyncIterator[Chunk]:
        """Yield the answer as chunks; the last one carries ``finish_reason``."""
        raise NotImplementedError

    async def complete(
        self,
        prompt: str,
        *,
        model: str | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> ChatResult:
        """Answer a single prompt (a one-message ``chat``)."""
        request = ChatRequest(
            messages=(Message("user", prompt),),
            model=model or self.settings.default_model,
            max_tokens=max_tokens,
            temperature=temperature,
        )
        return await self.chat(request)

    async def health_check(self) -> Health:
        """Check the provider cheaply (no tokens spent where the API allows)."""
        raise NotImplementedError

    async def list_models(self) -> list[ModelInfo]:
        """Return the provider's model catalog (ids as ``-m`` accepts them)."""
        raise NotImplementedError

    async def close(self) -> None:
        """Release connections. Safe to call more than once."""


def missing_methods(cls: type) -> list[str]:
    """Names of contract methods ``cls`` does not implement itself (or via a real base)."""
    missing = []
    for method in REQUIRED_METHODS:
        impl = getattr(cls, method, None)
        if impl is None or impl is getattr(BaseProvider, method) or not callable(impl):
            missing.append(method)
    return missing


def contract_gaps(obj: object) -> list[str]:
    """For an arbitrary loaded object: what keeps it from being a provider (empty = fine)."""
    if not inspect.isclass(obj):
        return ["(not a class)"]
    if not issubclass(obj, BaseProvider):
        return ["(not a subclass of providers.BaseProvider)"]
    return missing_methods(obj)
