"""``ollama-cli keys set|list|rm``: API keys kept outside the config file.

``set`` reads the key without echo (or from a pipe), ``list`` names each provider's key and
where it comes from — never a value. Which key wins is ``ProviderConfig.find_key``'s rule:
environment variable, then stored key, then config.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ollama_cli.app import App
    from ollama_cli.commands import Subparsers


def add_parser(sub: Subparsers, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "keys",
        parents=[parent],
        help="store API keys (OS key store, else a private file)",
        description="Store API keys outside the config file: in the OS key store when there "
        "is one, else in keys.json (mode 0600) in the config dir. A provider uses its "
        "environment variable first, then the stored key, then api_key from the config.",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    put = actions.add_parser(
        "set", parents=[parent], help="store the key of provider NAME (read without echo)"
    )
    put.add_argument("name", metavar="NAME", help="provider name, e.g. claude")
    put.set_defaults(run=run_set)
    ls = actions.add_parser(
        "list", parents=[parent], help="each provider's key source (never the values)"
    )
    ls.set_defaults(run=run_list)
    rm = actions.add_parser("rm", parents=[parent], help="forget the stored key of NAME")
    rm.add_argument("name", metavar="NAME", help="provider name")
    rm.set_defaults(run=run_rm)


def run_set(app: App) -> int:
    from ollama_cli.app import UsageError
    from ollama_cli.keystore import KeyStore, KeyStoreError

    name = _known(app, app.args.name)
    value = _read_key(name)
    if not value:
        raise UsageError("no key given; nothing stored")
    store = KeyStore.of(app.environ)
    try:
        where = store.set(name, value)
    except KeyStoreError as exc:
        raise UsageError(str(exc)) from None
    place = "the OS key store" if where == "keyring" else f"{store.path} (mode 600)"
    print(f"stored the {name} key in {place}")
    cfg = app.config.providers[name]
    found = cfg.find_key(app.environ)
    if found is not None and found[1].startswith("env "):
        app.warn(f"note: {found[1][4:]} is set and takes precedence over the stored key")
    return 0


def run_list(app: App) -> int:
    from ollama_cli.app import UsageError
    from ollama_cli.commands.providers import print_table
    from ollama_cli.keystore import KeyStore, KeyStoreError

    try:
        stored = KeyStore.of(app.environ).names()
    except KeyStoreError as exc:
        raise UsageError(str(exc)) from None
    rows = []
    for name, cfg in app.config.providers.items():
        if not (cfg.key_envs or cfg.key_required or cfg.api_key or name in stored):
            continue  # a provider that takes no key (a local server)
        found = cfg.find_key(app.environ)
        source = found[1] if found else "not set"
        overridden = name in stored and found is not None and found[1] not in ("keyring", "file")
        if overridden:
            source += f" (stored key in {stored[name]} unused)"
        rows.append((name, source, ", ".join(cfg.key_envs) or "-"))
    print_table(app.stdout, ("provider", "key", "env var"), rows)
    return 0


def run_rm(app: App) -> int:
    from ollama_cli.app import UsageError
    from ollama_cli.keystore import KeyStore, KeyStoreError

    name = app.args.name
    try:
        removed = KeyStore.of(app.environ).remove(name)
    except KeyStoreError as exc:
        raise UsageError(str(exc)) from None
    if not removed:
        raise UsageError(f"no stored key for {name!r} (ollama-cli keys list shows them)")
    print(f"removed the stored {name} key")
    return 0


def _known(app: App, name: str) -> str:
    from ollama_cli.app import UsageError
    from ollama_cli.settings import unknown_provider

    providers = app.config.providers
    if name not in providers:
        raise UsageError(unknown_provider(name, providers))
    return name


def _read_key(name: str) -> str:
    """The key from the terminal without echo, or the first line of piped stdin."""
    if sys.stdin is None:
        return ""
    if not sys.stdin.isatty():
        return sys.stdin.readline().strip()
    import getpass

    try:
        return getpass.getpass(f"{name} API key (input hidden): ").strip()
    except (EOFError, KeyboardInterrupt):
        print(file=sys.stderr)
        return ""
