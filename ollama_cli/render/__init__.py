"""Everything that writes to a terminal: answers as they stream, and the one safe writer.

Rendered markdown on a terminal, the model's exact text elsewhere; text from outside never
drives the terminal (`visible`). Importing this package is cheap: rich loads on first use.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import IO, TYPE_CHECKING

from ollama_cli.render.blocks import BlockSplitter
from ollama_cli.render.markdown import MarkdownRenderer
from ollama_cli.render.safe import visible
from ollama_cli.render.stream import DEFAULT_STATUS, PlainRenderer, StreamRenderer
from ollama_cli.render.terminal import Terminal, TerminalWriter, is_dumb, no_color

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "DEFAULT_STATUS",
    "BlockSplitter",
    "MarkdownRenderer",
    "PlainRenderer",
    "StreamRenderer",
    "Terminal",
    "TerminalWriter",
    "is_dumb",
    "make_console",
    "make_renderer",
    "no_color",
    "visible",
]


def make_console(file: IO[str], environ: Mapping[str, str]) -> Console:
    """The rich console for answers on ``file``, with ``NO_COLOR`` read from ``environ``."""
    from rich.console import Console

    return Console(file=file, highlight=False, no_color=no_color(environ))


def make_renderer(
    console: Console,
    *,
    raw: bool = False,
    environ: Mapping[str, str] | None = None,
    notices: TerminalWriter | None = None,
    refresh_per_second: float = 30.0,
) -> StreamRenderer:
    """Pick how to show an answer on ``console``.

    Args:
        console: Where the answer goes (usually stdout); its ``no_color`` removes colours.
        raw: ``--raw``: never render markdown.
        environ: The environment to read ``TERM`` from (default: the process's).
        notices: Where plain mode prints notices (default: stderr). Markdown mode prints
            them on ``console``, above the live region, so they cannot tear it.
        refresh_per_second: Upper bound on repaints of the unfinished tail.

    Returns:
        A plain renderer when ``raw``, when ``console`` is not a terminal (a pipe, a file)
        or is a dumb one (``TERM=dumb``: no escape at all); otherwise a markdown renderer.
        ``NO_COLOR`` keeps the markdown layout and drops its colours.
    """
    environ = os.environ if environ is None else environ
    if raw or not console.is_terminal or is_dumb(environ):
        return PlainRenderer(console.file, is_terminal=console.is_terminal, notices=notices)
    return MarkdownRenderer(console, refresh_per_second=refresh_per_second)
