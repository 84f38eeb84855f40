"""``ollama-cli models list [PROVIDER]``: the models a provider offers."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ollama_cli.app import App
    from ollama_cli.commands import Subparsers
    from providers.types import ModelInfo


def add_parser(sub: Subparsers, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser("models", parents=[parent], help="list the models of a provider")
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    ls = actions.add_parser(
        "list", parents=[parent], help="list models (default: the first provider of the chain)"
    )
    ls.add_argument(
        "name",
        nargs="?",
        metavar="PROVIDER",
        help="provider name (default: -p or the chain's first)",
    )
    ls.add_argument("--json", action="store_true", help="print a JSON object")
    ls.add_argument(
        "--refresh", action="store_true", help="ask the provider again (the list is cached a day)"
    )
    ls.set_defaults(run=run_list)
    p.set_defaults(run=run_list, name=None, json=False, refresh=False)


def run_list(app: App) -> int:
    from ollama_cli.app import EXIT_NO_ANSWER, UsageError, run_async
    from ollama_cli.settings import unknown_provider
    from ollama_cli.targets import alias_choices
    from providers.errors import ProviderError

    name = app.args.name or app.options.provider or app.config.router.chain[0]
    if name not in app.config.providers:
        raise UsageError(unknown_provider(name, app.config.providers))
    cfg = app.config.providers[name]
    if cfg.key_required and cfg.resolve_key(app.environ) is None:
        app.error(f"{name}: {cfg.key_env} is not set")
        return EXIT_NO_ANSWER
    models: list[ModelInfo] = []

    async def fetch() -> int:
        try:
            models.extend(await app.router.list_models(name, refresh=app.args.refresh))
        except ProviderError as exc:
            app.error(str(exc))
            return EXIT_NO_ANSWER
        finally:
            await app.router.aclose()
        return 0

    status = run_async(fetch())
    if status:
        return status
    if app.args.json:
        listing = {"provider": name, "default_model": cfg.default_model}
        listing["models"] = [m.to_dict() for m in models]
        listing["aliases"] = dict(app.config.aliases)
        json.dump(listing, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for model in models:
            marks = [lifecycle_note(model)] if lifecycle_note(model) else []
            if model.id == cfg.default_model and sys.stdout.isatty():
                marks.append("default")
            app.stdout.line(model.id + (f"  ({', '.join(marks)})" if marks else ""))
        # Aliases on a terminal only: a pipe gets model ids and nothing else.
        for alias, target in alias_choices(app.config) if sys.stdout.isatty() else ():
            app.stdout.line(f"{alias} = {target}  (alias)")
    return 0


def lifecycle_note(model: ModelInfo) -> str:
    """ "deprecated, retires 2027-01-22", "retired", or "" for an active or unknown model."""
    if model.lifecycle == "deprecated":
        return f"deprecated, retires {model.retires_at}" if model.retires_at else "deprecated"
    return "retired" if model.lifecycle == "retired" else ""
