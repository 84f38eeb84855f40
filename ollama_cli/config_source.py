"""Validation primitives for a config file: errors that point at the file, line and key,
type and range checks, and ``${env.NAME}`` / ``${env.NAME:=default}`` substitution.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ollama_cli.settings import ConfigError, unknown_provider

ENV_REF = re.compile(r"\$\{env\.([A-Za-z_][A-Za-z0-9_]*)(?::=([^}]*))?\}")


@dataclass(frozen=True)
class ConfigSource:
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


def table_of(data: Mapping[str, Any], name: str, src: ConfigSource) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise src.error(name, None, "must be a table")
    return value


def check_keys(
    table: Mapping[str, Any],
    schema: Mapping[str, type | tuple[type, ...]],
    where: str,
    src: ConfigSource,
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


def substitute(
    table: Mapping[str, Any], where: str, src: ConfigSource, env: Mapping[str, str]
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

            return ENV_REF.sub(one, value)
        if isinstance(value, list):
            return [sub(key, v) for v in value]
        return value

    return {k: sub(k, v) for k, v in table.items()}


def check_number(
    value: float, where: str, key: str, src: ConfigSource, *, minimum: float, inclusive: bool
) -> None:
    """Finite and not below ``minimum`` (nan and inf are valid TOML, never valid here)."""
    if not math.isfinite(value):
        raise src.error(where, key, "must be a finite number")
    if value < minimum or (value == minimum and not inclusive):
        raise src.error(where, key, "must not be negative" if inclusive else "must be positive")


def check_provider(
    fields: Mapping[str, Any], providers: Mapping[str, object], where: str, src: ConfigSource
) -> None:
    """A ``provider`` key must name a configured provider."""
    provider = fields.get("provider")
    if provider is not None and provider not in providers:
        raise src.error(where, "provider", unknown_provider(provider, providers))
