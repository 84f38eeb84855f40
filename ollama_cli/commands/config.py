"""``ollama-cli config path|show|init``: where the config is, what is in force, a starter file.

``config`` alone is ``config show``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ollama_cli.commands import examples

if TYPE_CHECKING:
    from ollama_cli.app import App
    from ollama_cli.commands import Subparsers


def add_parser(sub: Subparsers, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "config",
        parents=[parent],
        help="show or create the configuration",
        **examples(
            "ollama-cli config              the configuration in force (= config show)",
            "ollama-cli config path         which file is read",
            "ollama-cli config init         write a commented starter file",
        ),
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    p.set_defaults(run=run_show, json=False)
    actions.add_parser(
        "path", parents=[parent], help="print the config file path in use"
    ).set_defaults(run=run_path)
    show = actions.add_parser(
        "show", parents=[parent], help="print the configuration in force (keys redacted)"
    )
    show.add_argument("--json", action="store_true", help="as JSON")
    show.set_defaults(run=run_show)
    init = actions.add_parser("init", parents=[parent], help="write a commented starter config")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    init.set_defaults(run=run_init)


def run_path(app: App) -> int:
    from ollama_cli.config import find_config

    path = find_config(app.paths, app.options.config, app.environ)
    print(path or f"{app.paths.default_config} (not created yet; defaults in force)")
    return 0


def run_show(app: App) -> int:
    """The settings in force, redacted once (``shown``): as TOML, or with ``--json`` as JSON."""
    data = shown(app)
    text = json.dumps(data, indent=2) + "\n" if app.args.json else as_toml(data)
    sys.stdout.write(app.redact(text))  # the one redaction boundary, for what shown missed
    return 0


def shown(app: App) -> dict[str, Any]:
    """What ``config show`` prints, in either form: keys only as "set"/"not set", every
    URL-valued setting without its credentials (``safe_url``)."""
    from ollama_cli.redact import safe_url

    config = app.config
    return {
        "path": str(config.path) if config.path else None,
        "router": {
            k: list(v) if isinstance(v, tuple) else v for k, v in config.router.__dict__.items()
        },
        "history": {"enabled": config.history_enabled},
        "providers": {
            name: {
                "type": p.type,
                "enabled": p.enabled,
                "default_model": p.default_model,
                "base_url": safe_url(p.base_url),
                "api_key_env": p.key_env,
                "api_key": "set" if p.resolve_key(app.environ) else "not set",
                "timeout": p.timeout,
                "connect_timeout": p.connect_timeout,
                "proxy": safe_url(p.proxy),
                "trust_env": p.trust_env,
                **{k: safe_url(v) if isinstance(v, str) else v for k, v in p.options.items()},
            }
            for name, p in config.providers.items()
        },
    }


def as_toml(data: dict[str, Any]) -> str:
    """``shown`` as the TOML a user would write (a value that is not set is left out). Whether
    a key is set stays a comment: pasted back, ``api_key = "set"`` would be a key."""
    lines = [f"# {data['path']}" if data["path"] else "# no config file: the defaults are in force"]
    tables = {"router": data["router"], "history": data["history"]}
    tables |= {f"providers.{_toml_key(n)}": t for n, t in data["providers"].items()}
    for name, table in tables.items():
        lines += ["", f"[{name}]"]
        for key, value in table.items():
            if key == "api_key":
                lines.append(f"# api_key: {value}")
            elif value is not None:
                lines.append(f"{_toml_key(key)} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def _toml_key(key: str) -> str:
    """A bare key when TOML allows one, else a quoted one (JSON strings are TOML strings)."""
    bare = key and all(c.isascii() and (c.isalnum() or c in "_-") for c in key)
    return key if bare else json.dumps(key)


def run_init(app: App) -> int:
    from importlib import resources

    from ollama_cli.app import UsageError

    target = Path(app.options.config) if app.options.config else app.paths.default_config
    if target.exists() and not app.args.force:
        raise UsageError(f"{target} already exists (use --force to overwrite)")
    text = resources.files("ollama_cli").joinpath("config.example.toml").read_text(encoding="utf-8")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    target.chmod(0o600)
    print(f"wrote {target}")
    return 0
