"""Roles: named system prompts with optional provider, model and parameters (``-r NAME``).

A role is declared either as a ``[roles.NAME]`` table in the config or as a file
``roles/NAME.md`` in the config dir (one file per role, as aichat keeps them). A file's text
is the system prompt; optional TOML front matter between ``+++`` lines sets the other keys::

    +++
    provider = "claude"
    temperature = 0.2
    +++
    You review code. Point out bugs first; be brief.

Files are read only when a role is asked for or listed, never on an ordinary start. A name
declared in both places is the config table's (``roles list`` shows each one's source).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from ollama_cli.config_source import ConfigSource, check_keys, check_provider
from ollama_cli.settings import ROLE_KEYS, Config, ConfigError, Role
from ollama_cli.targets import split_model

ROLES_DIR = "roles"
SUFFIX = ".md"
FRONT_MATTER = re.compile(r"\A\+\+\+[ \t]*\n(.*?)^\+\+\+[ \t]*\n?", re.S | re.M)
#: A role name is also a file name: no separators, no leading dot.
NAME = re.compile(r"^[\w][\w.-]*$")


def roles_dir(config_dir: Path) -> Path:
    return config_dir / ROLES_DIR


def role_path(config_dir: Path, name: str) -> Path:
    return roles_dir(config_dir) / f"{name}{SUFFIX}"


def all_roles(config: Config, config_dir: Path) -> dict[str, Role]:
    """Every role: the files', then the config's over them; sorted by name."""
    found: dict[str, Role] = {}
    folder = roles_dir(config_dir)
    paths = sorted(folder.glob(f"*{SUFFIX}")) if folder.is_dir() else []
    for path in paths:
        found[path.stem] = read_role_file(path, config)
    found.update(config.roles)
    return dict(sorted(found.items()))


def find_role(config: Config, config_dir: Path, name: str) -> Role | None:
    """The role ``name`` (config table first, then its file), or None."""
    if name in config.roles:
        return config.roles[name]
    if not NAME.match(name):
        return None
    path = role_path(config_dir, name)
    return read_role_file(path, config) if path.is_file() else None


def read_role_file(path: Path, config: Config) -> Role:
    """Parse ``roles/NAME.md``; a bad file is a ``ConfigError`` naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read role file ({exc})") from None
    fields: dict[str, Any] = {}
    match = FRONT_MATTER.match(text)
    if match:
        try:
            fields = tomllib.loads(match.group(1))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML front matter: {exc}") from None
        text = text[match.end() :]
    src = ConfigSource(path, match.group(1) if match else "")
    schema = {k: t for k, t in ROLE_KEYS.items() if k != "system"}
    check_keys(fields, schema, "role", src)
    check_provider(fields, config.providers, "role", src)
    system = text.strip()
    if not system:
        raise ConfigError(f"{path}: the role file has no system prompt")
    fields |= {"system": system, "source": str(path)}
    return make_role(path.stem, fields, config.providers, config.aliases)


def make_role(
    name: str, fields: Mapping[str, Any], providers: Collection[str], aliases: Mapping[str, str]
) -> Role:
    """A validated role's fields as a ``Role``, its model's alias or ``provider/`` expanded
    (so ``model = "fast"`` routes like ``-m fast``)."""
    values = dict(fields)
    values["provider"], values["model"] = split_model(
        providers, aliases, values.get("provider"), values.get("model")
    )
    return Role(name=name, **values)


def unknown_role(config: Config, config_dir: Path, name: str) -> str:
    """The one-line message for a role that does not exist, listing the known ones."""
    names = ", ".join(all_roles(config, config_dir)) or "none yet"
    return f"unknown role {name!r} (known: {names}; ollama-cli roles edit {name} creates it)"
