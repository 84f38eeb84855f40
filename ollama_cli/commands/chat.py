"""``ollama-cli chat``: the interactive REPL (the loop itself lives in ``ollama_cli.repl``).

Only argparse is touched here; prompt-toolkit, rich and the router load when the REPL
starts, and provider code only when the first message is sent.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ollama_cli.commands import add_conversation_options, examples

if TYPE_CHECKING:
    from ollama_cli.app import App
    from ollama_cli.commands import Subparsers


def add_parser(sub: Subparsers, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "chat",
        parents=[parent],
        help="talk in an interactive REPL (/help inside)",
        description='Talk in an interactive REPL. Esc+Enter or a """ block for several '
        "lines; /help lists the commands; Ctrl-C stops an answer; Ctrl-D leaves.",
        **examples(
            "ollama-cli chat                      talk; the banner says who will answer",
            "ollama-cli chat -c                   continue the latest conversation",
            'ollama-cli chat -p claude -s "be brief"',
        ),
    )
    add_conversation_options(p)
    p.set_defaults(run=run)


def run(app: App) -> int:
    import sys

    from ollama_cli.app import UsageError, run_async

    if not sys.stdin.isatty():
        raise UsageError(
            'chat needs a terminal; for piped input use: ollama-cli complete "…" < file'
        )
    app.check_provider_flag()
    from ollama_cli.repl import run_repl

    return run_async(run_repl(app, app.turn()))
