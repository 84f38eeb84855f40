"""Streaming answer output: rendered markdown on a terminal, the model's exact text elsewhere.

Importing this package is cheap: rich's markdown and live machinery load on first use.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ollama_cli.render.blocks import BlockSplitter
from ollama_cli.render.safe import visible
from ollama_cli.render.stream import (
    DEFAULT_STATUS,
    MarkdownRenderer,
    PlainRenderer,
    StreamRenderer,
)

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "DEFAULT_STATUS",
    "BlockSplitter",
    "MarkdownRenderer",
    "PlainRenderer",
    "StreamRenderer",
    "make_renderer",
    "visible",
]


def make_renderer(
    console: Console,
    *,
    raw: bool = False,
    notices: Console | None = None,
    refresh_per_second: float = 20.0,
) -> StreamRenderer:
    """Pick how to show an answer on ``console``.

    Args:
        console: Where the answer goes (usually stdout).
        raw: ``--raw``: never render markdown.
        notices: Where plain mode prints notices (default: stderr). Markdown mode prints
            them on ``console``, above the live region, so they cannot tear it.
        refresh_per_second: Upper bound on repaints of the unfinished tail.

    Returns:
        A plain renderer when ``raw``, when NO_COLOR is set, or when ``console`` is not a
        terminal (a pipe, a file, a dumb terminal); otherwise a markdown renderer.
    """
    plain = (
        raw
        or console.no_color
        or bool(os.environ.get("NO_COLOR"))
        or not console.is_terminal
        or console.is_dumb_terminal
    )
    if plain:
        return PlainRenderer(console.file, is_terminal=console.is_terminal, notices=notices)
    return MarkdownRenderer(console, refresh_per_second=refresh_per_second)
