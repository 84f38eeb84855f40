"""One module per subcommand. Each exposes ``add_parser(subparsers, parent)`` (cheap: no
heavy imports at module level) and sets ``run(app) -> int`` as the parser default.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any, TypeAlias

COMMANDS = (
    "chat",
    "complete",
    "providers",
    "models",
    "roles",
    "keys",
    "history",
    "usage",
    "config",
    "completion",
)

#: The global flags (``cli.GLOBAL_FLAGS``) each command takes after its name; the rest take
#: only ``NARROW_GLOBAL_FLAGS``, so ``--help`` never lists a flag that does nothing there.
GLOBAL_FLAGS_OF: dict[str, tuple[str, ...]] = {
    "chat": ("config", "provider", "model", "no_fallback", "verbose"),
    "complete": ("config", "provider", "model", "no_fallback", "verbose"),
    "models": ("config", "provider", "verbose"),
}
NARROW_GLOBAL_FLAGS = ("config", "verbose")

if TYPE_CHECKING:
    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]


def examples(*lines: str) -> dict[str, Any]:
    """``add_parser`` keywords that end a command's ``--help`` with these example lines."""
    epilog = "examples:\n" + "\n".join(f"  {line}" for line in lines)
    return {"epilog": epilog, "formatter_class": argparse.RawDescriptionHelpFormatter}


def add_conversation_options(p: argparse.ArgumentParser) -> None:
    """The flags ``chat`` and ``complete`` share: system prompt, role, rendering, history, files."""
    p.add_argument("-s", "--system", metavar="TEXT", help="system prompt")
    p.add_argument(
        "-r", "--role", metavar="NAME",
        help="use role NAME: its system prompt, provider, model (ollama-cli roles list)",
    )  # fmt: skip
    p.add_argument("--raw", action="store_true", help="never render markdown")
    p.add_argument(
        "--show-reasoning", action="store_true",
        help="show the model's reasoning (dimmed); by default only 'thought for N s'",
    )  # fmt: skip
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
