"""Configuration: find the TOML file, substitute ``${env.…}``, validate, and fill defaults.

Every problem becomes a ``ConfigError`` whose one-line message names the file, the line
and the offending key, so a bad config is exit 2 with something to fix, never a traceback.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ollama_cli.paths import AppPaths
from providers.base import ProviderSettings
from providers.builtins import BUILTIN_PROVIDERS, DEFAULT_CHAIN, BuiltinProvider
from providers.registry import ProviderRegistry
from providers.spec import ProviderSpec


class ConfigError(Exception):
    """A configuration problem, as one line naming file, line and key."""


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

    @property
    def key_env(self) -> str | None:
        """The variable named in messages ("claude: ANTHROPIC_API_KEY is not set")."""
        return self.key_envs[0] if self.key_envs else None

    def resolve_key(self, environ: Mapping[str, str]) -> str | None:
        if self.api_key:
            return self.api_key
        for var in self.key_envs:
            value = environ.get(var)
            if value:
                return value
        return None

    def settings(self, environ: Mapping[str, str]) -> ProviderSettings:
        options = dict(self.options)
        options.setdefault("key_required", self.key_required)
        return ProviderSettings(
            name=self.name,
            type=self.type,
            default_model=self.default_model,
            api_key=self.resolve_key(environ),
            api_key_env=self.key_env,
            base_url=self.base_url,
            timeout=self.timeout,
            connect_timeout=self.connect_timeout,
            options=options,
        )


@dataclass(frozen=True)
class Config:
    path: Path | None
    router: RouterSettings
    providers: dict[str, ProviderConfig]
    history_enabled: bool = True
    warnings: tuple[str, ...] = ()


ROUTER_KEYS: dict[str, type | tuple[type, ...]] = {
    "chain": list,
    "retries": int,
    "max_retry_wait": (int, float),
    "cooldown_failures": int,
    "cooldown_seconds": (int, float),
    "resume_interrupted": bool,
    "hedge_after_ms": int,
    "fallback": bool,
}
HISTORY_KEYS: dict[str, type | tuple[type, ...]] = {"enabled": bool}
PROVIDER_KEYS: dict[str, type | tuple[type, ...]] = {
    "type": str,
    "enabled": bool,
    "default_model": str,
    "api_key_env": str,
    "api_key": str,
    "base_url": str,
    "timeout": (int, float),
    "connect_timeout": (int, float),
}
_ENV_REF = re.compile(r"\$\{env\.([A-Za-z_][A-Za-z0-9_]*)(?::=([^}]*))?\}")


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
        return _build({}, _Source(None, ""), env, registry)
    try:
        text = path.read_text(encoding="utf-8")
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
    source = _Source(path, text)
    config = _build(data, source, env, registry)
    return _with_permission_warning(config, path, data)


@dataclass(frozen=True)
class _Source:
    """The file being validated, to point errors at a line."""

    path: Path | None
    text: str

    def error(self, table: str, key: str | None, problem: str) -> ConfigError:
        where = str(self.path) if self.path else "config"
        line = self.line_of(table, key)
        at = f":{line}" if line else ""
        dotted = f"{table}.{key}" if key else table
        return ConfigError(f"{where}{at}: {dotted}: {problem}")

    def line_of(self, table: str, key: str | None) -> int | None:
        """Best-effort line number of ``key`` inside ``[table]`` (tomllib gives none)."""
        lines = self.text.splitlines()
        header = re.compile(
            r"^\s*\[\s*" + r"\s*\.\s*".join(map(_quoted_or_bare, table.split("."))) + r"\s*\]"
        )
        start = next((i for i, s in enumerate(lines) if header.match(s)), None)
        if start is None:
            return None
        if key is None:
            return start + 1
        pattern = re.compile(r"^\s*" + _quoted_or_bare(key) + r"\s*=")
        for i in range(start + 1, len(lines)):
            if lines[i].lstrip().startswith("["):
                break
            if pattern.match(lines[i]):
                return i + 1
        return start + 1


def _quoted_or_bare(part: str) -> str:
    return "(?:" + re.escape(part) + '|"' + re.escape(part) + "\"|'" + re.escape(part) + "')"


def _build(
    data: Mapping[str, Any], src: _Source, env: Mapping[str, str], registry: ProviderRegistry
) -> Config:
    for key in data:
        if key not in ("router", "providers", "history"):
            raise src.error(key, None, "unknown section (known: router, providers, history)")
    router_table = _table(data, "router", src)
    history_table = _table(data, "history", src)
    providers_table = _table(data, "providers", src)
    _check_keys(router_table, ROUTER_KEYS, "router", src)
    _check_keys(history_table, HISTORY_KEYS, "history", src)
    providers = _providers(providers_table, src, env, registry)
    router = _router(_substitute(router_table, "router", src, env), src)
    for name in router.chain:
        if name not in providers:
            raise src.error(
                "router", "chain", f"unknown provider {name!r} (known: {', '.join(providers)})"
            )
    return Config(
        path=src.path,
        router=router,
        providers=providers,
        history_enabled=bool(history_table.get("enabled", True)),
    )


def _table(data: Mapping[str, Any], name: str, src: _Source) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise src.error(name, None, "must be a table")
    return value


def _check_keys(
    table: Mapping[str, Any],
    schema: Mapping[str, type | tuple[type, ...]],
    where: str,
    src: _Source,
) -> None:
    for key, value in table.items():
        if key not in schema:
            raise src.error(where, key, f"unknown key (known: {', '.join(schema)})")
        expected = schema[key]
        if isinstance(value, bool) and bool not in _as_tuple(expected):
            raise src.error(where, key, f"expected {_type_names(expected)}, got a boolean")
        if not isinstance(value, expected):
            raise src.error(
                where, key, f"expected {_type_names(expected)}, got {type(value).__name__}"
            )


def _as_tuple(t: type | tuple[type, ...]) -> tuple[type, ...]:
    return t if isinstance(t, tuple) else (t,)


def _type_names(t: type | tuple[type, ...]) -> str:
    names = {
        "str": "a string",
        "int": "an integer",
        "float": "a number",
        "bool": "true or false",
        "list": "a list",
        "object": "a value",
    }
    return " or ".join(dict.fromkeys(names.get(x.__name__, x.__name__) for x in _as_tuple(t)))


def _substitute(
    table: Mapping[str, Any], where: str, src: _Source, env: Mapping[str, str]
) -> dict[str, Any]:
    """Replace ``${env.NAME}`` / ``${env.NAME:=default}`` in every string value."""

    def sub(key: str, value: Any) -> Any:
        if isinstance(value, str):

            def one(match: re.Match[str]) -> str:
                var, default = match.group(1), match.group(2)
                if var in env:
                    return env[var]
                if default is not None:
                    return default
                raise src.error(
                    where,
                    key,
                    f"environment variable {var} is not set (use ${{env.{var}:=default}})",
                )

            return _ENV_REF.sub(one, value)
        if isinstance(value, list):
            return [sub(key, v) for v in value]
        return value

    return {k: sub(k, v) for k, v in table.items()}


def _router(table: Mapping[str, Any], src: _Source) -> RouterSettings:
    chain = table.get("chain", list(DEFAULT_CHAIN))
    if not chain or not all(isinstance(n, str) and n for n in chain):
        raise src.error("router", "chain", "must be a non-empty list of provider names")
    for key in (
        "retries",
        "cooldown_failures",
        "hedge_after_ms",
        "max_retry_wait",
        "cooldown_seconds",
    ):
        if key in table:
            _check_number(table[key], "router", key, src, minimum=0.0, inclusive=True)
    fields = {k: v for k, v in table.items() if k != "chain"}
    return RouterSettings(chain=tuple(dict.fromkeys(chain)), **fields)


def _providers(
    table: Mapping[str, Any], src: _Source, env: Mapping[str, str], registry: ProviderRegistry
) -> dict[str, ProviderConfig]:
    names = list(BUILTIN_PROVIDERS) + [n for n in table if n not in BUILTIN_PROVIDERS]
    result: dict[str, ProviderConfig] = {}
    for name in names:
        raw = table.get(name, {})
        where = f"providers.{name}"
        if not isinstance(raw, dict):
            raise src.error(where, None, "must be a table")
        result[name] = _provider(name, _substitute(raw, where, src, env), where, src, registry)
    return result


def _provider(
    name: str, raw: Mapping[str, Any], where: str, src: _Source, registry: ProviderRegistry
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
    _check_keys(raw, schema, where, src)
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
    )


def _positive(raw: Mapping[str, Any], key: str, default: float, where: str, src: _Source) -> float:
    value = float(raw.get(key, default))
    _check_number(value, where, key, src, minimum=0.0, inclusive=False)
    return value


def _check_number(
    value: float, where: str, key: str, src: _Source, *, minimum: float, inclusive: bool
) -> None:
    """Finite and not below ``minimum`` (nan and inf are valid TOML, never valid here)."""
    if not math.isfinite(value):
        raise src.error(where, key, "must be a finite number")
    if value < minimum or (value == minimum and not inclusive):
        raise src.error(where, key, "must not be negative" if inclusive else "must be positive")


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
        return Config(
            config.path, config.router, config.providers, config.history_enabled, (warning,)
        )
    return config
