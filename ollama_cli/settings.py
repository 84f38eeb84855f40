"""The configuration's data model: the typed settings every command reads, and the keys
each table accepts. Loading and validation live in ``ollama_cli.config``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ollama_cli.usage.prices import Price
from providers.base import ProviderSettings
from providers.builtins import DEFAULT_CHAIN


class ConfigError(Exception):
    """A configuration problem, as one line naming file, line and key."""


def unknown_provider(name: str, known: Iterable[str]) -> str:
    """The one wording for a provider name nobody configured, wherever it is named: the
    chain in the config, ``-p``, the router, the REPL's ``/provider`` and ``/retry``."""
    return f"unknown provider {name!r} (known: {', '.join(known)})"


@dataclass(frozen=True)
class RouterSettings:
    """The ``[router]`` table: the fallback policy's knobs."""

    chain: tuple[str, ...] = DEFAULT_CHAIN
    retries: int = 1
    max_retry_wait: float = 2.0
    cooldown_failures: int = 2
    cooldown_seconds: float = 30.0
    resume_interrupted: bool = True
    hedge_after_ms: int = 0
    fallback: bool = True
    daily_budget: float | None = None  # in the price table's currency; None = no limit
    monthly_budget: float | None = None


@dataclass(frozen=True)
class ProviderConfig:
    """One ``[providers.NAME]`` table merged over the type's and built-in's defaults."""

    name: str
    type: str
    default_model: str
    key_envs: tuple[str, ...] = ()
    key_required: bool = False
    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None
    timeout: float = 60.0
    connect_timeout: float = 5.0
    enabled: bool = True
    options: Mapping[str, Any] = field(default_factory=dict)
    #: ``reads``: capabilities its models have when their catalog entry does not say.
    reads: frozenset[str] = frozenset()
    #: ``proxy = "http://…"`` for this provider; ``trust_env = false`` ignores *_PROXY.
    proxy: str | None = field(default=None, repr=False)
    trust_env: bool = True

    @property
    def key_env(self) -> str | None:
        """The variable named in messages ("claude: ANTHROPIC_API_KEY is not set")."""
        return self.key_envs[0] if self.key_envs else None

    def resolve_key(self, environ: Mapping[str, str]) -> str | None:
        """The key this provider uses: the one place that decides, for requests, "has a
        key" checks (chain skipping, ``providers list``) and redaction alike."""
        found = self.find_key(environ)
        return found[0] if found else None

    def find_key(self, environ: Mapping[str, str]) -> tuple[str, str] | None:
        """The key and where it comes from, by the documented precedence: the environment
        variable, then the stored key (``ollama-cli keys set``), then the config file."""
        for var in self.key_envs:
            value = environ.get(var)
            if value:
                return value, f"env {var}"
        from ollama_cli.keystore import KeyStore, KeyStoreError

        try:
            stored = KeyStore.of(environ).get(self.name)
        except KeyStoreError:
            stored = None  # `keys list` reports the broken file; requests go on without it
        if stored is not None:
            return stored.value, stored.where
        if self.api_key:
            return self.api_key, "config"
        return None

    def key_origin(self, environ: Mapping[str, str]) -> str:
        """Where ``resolve_key`` found the key, for messages: a variable's name, never the key."""
        if self.api_key:
            return f"api_key of [providers.{self.name}]"
        found = next((var for var in self.key_envs if environ.get(var)), None)
        return found or self.key_env or "its API key variable"

    def fingerprint(self, environ: Mapping[str, str]) -> str:
        """A short digest of what reaching this provider depends on — type, address, model,
        plain options and the key — so a cooldown counted before a config change is over.
        Only this digest is stored (in the cooldowns file), never the key."""
        import hashlib
        import json

        plain = {k: v for k, v in self.options.items() if isinstance(v, str | int | float | bool)}
        parts = [self.type, self.base_url, self.default_model, plain, self.resolve_key(environ)]
        digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode())
        return digest.hexdigest()[:16]

    def settings(self, environ: Mapping[str, str]) -> ProviderSettings:
        options = dict(self.options)
        options.setdefault("key_required", self.key_required)
        options.update(proxy=self.proxy, trust_env=self.trust_env)
        return ProviderSettings(
            name=self.name,
            type=self.type,
            default_model=self.default_model,
            api_key=clean_key(self.resolve_key(environ)),
            api_key_env=self.key_env,
            base_url=self.base_url,
            timeout=self.timeout,
            connect_timeout=self.connect_timeout,
            options=options,
            environ=environ,
        )


def clean_key(key: str | None) -> str | None:
    """A key as pasted (``export KEY="sk-…\n"``) without its surrounding whitespace:
    sent malformed, it would fail as a bad key and push the provider into a cooldown."""
    return key.strip() or None if key is not None else None


@dataclass(frozen=True)
class Role:
    """A named system prompt with optional provider, model and parameters (``-r NAME``).

    ``source`` says where it was defined: ``config`` or the path of its role file.
    """

    name: str
    system: str
    provider: str | None = None
    model: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    source: str = "config"


@dataclass(frozen=True)
class Config:
    path: Path | None
    router: RouterSettings
    providers: dict[str, ProviderConfig]
    history_enabled: bool = True
    warnings: tuple[str, ...] = ()
    #: ``[aliases]``: short name → ``provider/model`` (or a bare model name).
    aliases: Mapping[str, str] = field(default_factory=dict)
    #: ``[roles.NAME]`` tables; role files in the config dir are read by ``ollama_cli.roles``.
    roles: Mapping[str, Role] = field(default_factory=dict)
    prices: Mapping[str, Price] = field(default_factory=dict)  # [prices."MODEL"]


ROUTER_KEYS: dict[str, type | tuple[type, ...]] = {
    "chain": list,
    "retries": int,
    "max_retry_wait": (int, float),
    "cooldown_failures": int,
    "cooldown_seconds": (int, float),
    "resume_interrupted": bool,
    "hedge_after_ms": int,
    "fallback": bool,
    "daily_budget": (int, float),
    "monthly_budget": (int, float),
}
HISTORY_KEYS: dict[str, type | tuple[type, ...]] = {"enabled": bool}
#: The keys of one ``[prices."MODEL"]`` table (USD per million tokens).
PRICE_KEYS: dict[str, type | tuple[type, ...]] = {
    "input": (int, float),
    "output": (int, float),
    "cached_input": (int, float),
}
PROVIDER_KEYS: dict[str, type | tuple[type, ...]] = {
    "type": str,
    "enabled": bool,
    "default_model": str,
    "api_key_env": str,
    "api_key": str,
    "base_url": str,
    "timeout": (int, float),
    "connect_timeout": (int, float),
    "reads": list,
    "proxy": str,
    "trust_env": bool,
}
#: Values of a provider's ``reads`` key and the model capability each declares.
READS = {"image": "image_input", "pdf": "pdf_input"}

ROLE_KEYS: dict[str, type | tuple[type, ...]] = {
    "system": str,
    "provider": str,
    "model": str,
    "temperature": (int, float),
    "max_tokens": int,
}
