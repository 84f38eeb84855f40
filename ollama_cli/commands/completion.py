"""``ollama-cli completion bash|zsh|fish``: a shell completion script.

The script is generated from the argparse parser itself, so every command, subcommand and
flag is completed and none can go stale. Each script is a few data tables (generated) and
one fixed walk over the words typed so far. Provider names (for ``-p`` and ``models list``)
are read at Tab time through the hidden ``completion --providers``, so a name added under
``[providers.*]`` completes without regenerating the script.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ollama_cli.app import App
    from ollama_cli.commands import Subparsers

SHELLS = ("bash", "zsh", "fish")


def add_parser(sub: Subparsers, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "completion",
        parents=[parent],
        help="print a shell completion script (bash, zsh or fish)",
        description='Print a completion script. bash: add eval "$(ollama-cli completion bash)" '
        'to ~/.bashrc; zsh: add eval "$(ollama-cli completion zsh)" to ~/.zshrc (after '
        "compinit); fish: ollama-cli completion fish > ~/.config/fish/completions/ollama-cli.fish",
    )
    p.add_argument("shell", nargs="?", choices=SHELLS, help="bash, zsh or fish")
    # Run by the scripts at Tab time, not by people.
    p.add_argument("--providers", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(run=run)


def run(app: App) -> int:
    if app.args.providers:
        print("\n".join(provider_names(app)))
        return 0
    if app.args.shell is None:
        from ollama_cli.app import UsageError

        raise UsageError("which shell? ollama-cli completion bash|zsh|fish")
    from ollama_cli.cli import build_parser
    from ollama_cli.commands.completion_script import script

    print(script(app.args.shell, build_parser()), end="")
    return 0


def provider_names(app: App) -> list[str]:
    """Configured provider names; the built-ins alone when the config cannot be read."""
    from ollama_cli.app import UsageError
    from providers.builtins import BUILTIN_PROVIDERS

    try:
        return list(app.config.providers)
    except UsageError:
        return list(BUILTIN_PROVIDERS)
