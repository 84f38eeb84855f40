"""One module per subcommand. Each exposes ``add_parser(subparsers, parent)`` (cheap: no
heavy imports at module level) and sets ``run(app) -> int`` as the parser default.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, TypeAlias

COMMANDS = ("chat", "complete", "providers", "models", "history", "config", "completion")

if TYPE_CHECKING:
    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]


def add_conversation_options(p: argparse.ArgumentParser) -> None:
    """The flags ``chat`` and ``complete`` share: system prompt, rendering, history, files."""
    p.add_argument("-s", "--system", metavar="TEXT", help="system prompt")
    p.add_argument("--raw", action="store_true", help="never render markdown")
    p.add_argument(
        "-c", "--continue", dest="cont", action="store_true",
        help="continue the most recent conversation",
    )  # fmt: skip
    p.add_argument(
        "--conversation", metavar="ID", help="continue conversation ID (a unique prefix is enough)"
    )
    p.add_argument("--no-history", action="store_true", help="do not store this conversation")
    p.add_argument(
        "-f", "--file", dest="files", action="append", default=[], metavar="PATH|URL|-",
        help="attach a file, a directory (text files, .gitignore honoured), a URL, or - for "
        "stdin; images and PDFs go to providers that can read them (repeatable)",
    )  # fmt: skip
