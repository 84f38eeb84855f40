"""Configuration: find the TOML file, substitute ``${env.…}``, validate, and fill defaults.

The data model is ``ollama_cli.settings`` (re-exported here); the validation primitives
that point errors at a line are ``ollama_cli.config_source``.

Every problem becomes a ``ConfigError`` whose one-line message names the file, the line
and the offending key, so a bad config is exit 2 with something to fix, never a traceback.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from ollama_cli.config_source import (
    ConfigSource,
    check_keys,
    check_number,
    check_provider,
    substitute,
    table_of,
)
from ollama_cli.paths import AppPaths
from ollama_cli.redact import safe_url
from ollama_cli.roles import make_role
from ollama_cli.settings import (
    HISTORY_KEYS,
    PRICE_KEYS,
    PROVIDER_KEYS,
    READS,
    ROLE_KEYS,
    ROUTER_KEYS,
    Config,
    ConfigError,
    ProviderConfig,
    Role,
    RouterSettings,
    unknown_provider,
)
from ollama_cli.usage.prices import Price
from providers.builtins import BUILTIN_PROVIDERS, DEFAULT_CHAIN, BuiltinProvider
from providers.registry import ProviderRegistry
from providers.spec import ProviderSpec

SECTIONS = ("router", "providers", "history", "aliases", "roles", "prices")


def find_config(paths: AppPaths, explicit: str | None, environ: Mapping[str, str]) -> Path | None:
    """The config file by DESIGN.md's search order; None when there is none (defaults)."""
    if explicit:
        return Path(explicit).expanduser()
    if environ.get("OLLAMA_CLI_CONFIG"):
        return Path(environ["OLLAMA_CLI_CONFIG"]).expanduser()
    candidate = paths.default_config
    return candidate if candidate.exists() else None


def load_config(
    path: Path | None,
    environ: Mapping[str, str] | None = None,
    registry: ProviderRegistry | None = None,
) -> Config:
    """Read and validate ``path`` (None = all defaults)."""
    env = os.environ if environ is None else environ
    registry = registry or ProviderRegistry()
    if path is None:
        return _build({}, ConfigSource(None, ""), env, registry)
    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM (Notepad's) is not TOML
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a config file") from None
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config ({exc})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except RecursionError:  # tomllib recurses per level of [[[…]]] or {a={b=…}}
        raise ConfigError(f"{path}: invalid TOML: nested too deeply") from None
    source = ConfigSource(path, text)
    config = _build(data, source, env, registry)
    return _with_permission_warning(config, path, data)


def _build(
    data: Mapping[str, Any], src: ConfigSource, env: Mapping[str, str], registry: ProviderRegistry
) -> Config:
    for key in data:
        if key not in SECTIONS:
            raise src.error(key, None, f"unknown section (known: {', '.join(SECTIONS)})")
    router_table = table_of(data, "router", src)
    history_table = table_of(data, "history", src)
    providers_table = table_of(data, "providers", src)
    check_keys(router_table, ROUTER_KEYS, "router", src)
    check_keys(history_table, HISTORY_KEYS, "history", src)
    providers = _providers(providers_table, src, env, registry)
    router = _router(substitute(router_table, "router", src, env), src)
    for name in router.chain:
        if name not in providers:
            raise src.error("router", "chain", unknown_provider(name, providers))
    aliases = _aliases(substitute(table_of(data, "aliases", src), "aliases", src, env), src)
    return Config(
        path=src.path,
        router=router,
        providers=providers,
        history_enabled=bool(history_table.get("enabled", True)),
        aliases=aliases,
        roles=_roles(table_of(data, "roles", src), src, env, providers, aliases),
        prices=_prices(table_of(data, "prices", src), src),
    )


def _aliases(table: Mapping[str, Any], src: ConfigSource) -> dict[str, str]:
    """``fast = "gemini/gemini-flash-lite-latest"``: names usable wherever a model is."""
    for name, target in table.items():
        if not isinstance(target, str) or not target.strip():
            raise src.error("aliases", name, 'expected a model, e.g. "gemini/gemini-flash-latest"')
    return dict(table)


def _roles(
    table: Mapping[str, Any],
    src: ConfigSource,
    env: Mapping[str, str],
    providers: Mapping[str, ProviderConfig],
    aliases: Mapping[str, str],
) -> dict[str, Role]:
    """``[roles.NAME]`` tables; a role's ``model`` may be an alias or ``provider/model``."""
    roles: dict[str, Role] = {}
    for name, raw in table.items():
        where = f"roles.{name}"
        if not isinstance(raw, dict):
            raise src.error(where, None, "must be a table")
        raw = substitute(raw, where, src, env)
        check_keys(raw, ROLE_KEYS, where, src)
        if "system" not in raw:
            raise src.error(where, None, "missing key 'system' (the role's system prompt)")
        check_provider(raw, providers, where, src)
        roles[name] = make_role(name, raw, providers, aliases)
    return roles


def _router(table: Mapping[str, Any], src: ConfigSource) -> RouterSettings:
    chain = table.get("chain", list(DEFAULT_CHAIN))
    if not chain or not all(isinstance(n, str) and n for n in chain):
        raise src.error("router", "chain", "must be a non-empty list of provider names")
    for key in (
        "retries",
        "cooldown_failures",
        "hedge_after_ms",
        "max_retry_wait",
        "cooldown_seconds",
        "daily_budget",
        "monthly_budget",
    ):
        if key in table:
            check_number(table[key], "router", key, src, minimum=0.0, inclusive=True)
    fields = {k: v for k, v in table.items() if k != "chain"}
    for key in ("daily_budget", "monthly_budget"):
        if key in fields:
            fields[key] = float(fields[key])
    return RouterSettings(chain=tuple(dict.fromkeys(chain)), **fields)


def _prices(table: Mapping[str, Any], src: ConfigSource) -> dict[str, Price]:
    """``[prices."MODEL"]`` tables: a model id or an fnmatch pattern (``"gpt-5*"``)."""
    prices: dict[str, Price] = {}
    for model, raw in table.items():
        where = f"prices.{model}"
        if not isinstance(raw, dict):
            raise src.error(where, None, 'must be a table, e.g. [prices."MODEL"] input = 2.0')
        check_keys(raw, PRICE_KEYS, where, src)
        for key in ("input", "output"):
            if key not in raw:
                raise src.error(where, None, f"missing key {key!r} (USD per million tokens)")
        for key, value in raw.items():
            check_number(value, where, key, src, minimum=0.0, inclusive=True)
        cached = raw.get("cached_input")
        prices[model] = Price(
            float(raw["input"]),
            float(raw["output"]),
            None if cached is None else float(cached),
        )
    return prices


def _providers(
    table: Mapping[str, Any], src: ConfigSource, env: Mapping[str, str], registry: ProviderRegistry
) -> dict[str, ProviderConfig]:
    names = list(BUILTIN_PROVIDERS) + [n for n in table if n not in BUILTIN_PROVIDERS]
    result: dict[str, ProviderConfig] = {}
    for name in names:
        raw = table.get(name, {})
        where = f"providers.{name}"
        if not isinstance(raw, dict):
            raise src.error(where, None, "must be a table")
        result[name] = _provider(name, substitute(raw, where, src, env), where, src, registry)
    return result


def _provider(
    name: str, raw: Mapping[str, Any], where: str, src: ConfigSource, registry: ProviderRegistry
) -> ProviderConfig:
    builtin = BUILTIN_PROVIDERS.get(name)
    type_name = raw.get("type", builtin.type if builtin else None)
    if type_name is None:
        raise src.error(where, None, "missing key 'type' (e.g. type = \"openai-compatible\")")
    if not isinstance(type_name, str):
        raise src.error(where, "type", "expected a string")
    spec = registry.spec(type_name)
    if spec is None:
        known = ", ".join(registry.type_names())
        refusal = next(
            (
                r.message
                for r in registry.refused
                if r.origin.endswith(f"(entry point {type_name!r})")
            ),
            None,
        )
        if refusal:
            raise src.error(where, "type", f"provider type {type_name!r} was refused: {refusal}")
        raise src.error(where, "type", f"unknown provider type {type_name!r} (known: {known})")
    schema: dict[str, type | tuple[type, ...]] = dict(PROVIDER_KEYS)
    extra = {k: (int, float) if t is float else t for k, t in spec.field_types.items()}
    schema.update(extra)
    check_keys(raw, schema, where, src)
    for key in ("base_url", "host", "proxy"):
        check_url(raw.get(key), where, key, src)
    default_model = (
        raw.get("default_model")
        or (builtin.default_model if builtin else None)
        or spec.default_model
    )
    if not default_model:
        raise src.error(where, "default_model", f"is required for type {type_name!r}")
    return ProviderConfig(
        name=name,
        type=type_name,
        default_model=default_model,
        key_envs=_key_envs(raw, builtin_key_envs=builtin.key_envs if builtin else None, spec=spec),
        key_required=_key_required(raw, builtin, spec),
        api_key=raw.get("api_key"),
        base_url=raw.get("base_url")
        or (builtin.base_url if builtin else None)
        or spec.default_base_url,
        timeout=_positive(raw, "timeout", 60.0, where, src),
        connect_timeout=_positive(raw, "connect_timeout", 5.0, where, src),
        enabled=raw.get("enabled", True),
        options={k: raw[k] for k in extra if k in raw},
        reads=_reads(raw, where, src),
        proxy=raw.get("proxy") or None,
        trust_env=raw.get("trust_env", True),
    )


def _reads(raw: Mapping[str, Any], where: str, src: ConfigSource) -> frozenset[str]:
    """``reads = ["image", "pdf"]`` as model capabilities (``image_input``…)."""
    values = raw.get("reads", [])
    if not all(isinstance(v, str) and v in READS for v in values):
        known = ", ".join(f'"{k}"' for k in READS)
        raise src.error(where, "reads", f"must be a list of {known}")
    return frozenset(READS[v] for v in values)


def check_url(value: object, where: str, key: str, src: ConfigSource) -> None:
    """A URL-valued setting must parse, port included (``http://host:99999`` is exit 2)."""
    if not isinstance(value, str) or not value.strip():
        return
    from urllib.parse import urlsplit

    url = value.strip() if "://" in value else f"http://{value.strip()}"
    try:
        urlsplit(url).port  # noqa: B018 - parsing the port is the check
    except ValueError as exc:
        raise src.error(where, key, f"invalid URL {safe_url(value)!r} ({exc})") from None


def _positive(
    raw: Mapping[str, Any], key: str, default: float, where: str, src: ConfigSource
) -> float:
    value = float(raw.get(key, default))
    check_number(value, where, key, src, minimum=0.0, inclusive=False)
    return value


def _key_envs(
    raw: Mapping[str, Any], builtin_key_envs: tuple[str, ...] | None, spec: ProviderSpec
) -> tuple[str, ...]:
    if raw.get("api_key_env"):
        return (raw["api_key_env"],)
    return builtin_key_envs if builtin_key_envs is not None else spec.key_envs


def _key_required(
    raw: Mapping[str, Any], builtin: BuiltinProvider | None, spec: ProviderSpec
) -> bool:
    if builtin is not None:
        return spec.key_required if builtin.key_required is None else builtin.key_required
    # A user-declared key variable for an openai-compatible server means "this server needs it".
    return spec.key_required or bool(raw.get("api_key_env"))


def _with_permission_warning(config: Config, path: Path, data: Mapping[str, Any]) -> Config:
    providers = data.get("providers", {})
    literal = any(
        isinstance(t, dict) and isinstance(t.get("api_key"), str) and "${env." not in t["api_key"]
        for t in providers.values()
    )
    if not literal:
        return config
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        return config
    if mode & 0o077:
        warning = (
            f"{path} holds an API key and is readable by others (mode {mode:o}); "
            f"run: chmod 600 {path}"
        )
        return replace(config, warnings=(warning,))
    return config


__all__ = [
    "HISTORY_KEYS",
    "PRICE_KEYS",
    "PROVIDER_KEYS",
    "ROLE_KEYS",
    "ROUTER_KEYS",
    "Config",
    "ConfigError",
    "ProviderConfig",
    "Role",
    "RouterSettings",
    "find_config",
    "load_config",
]
