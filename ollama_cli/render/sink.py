"""Where an answer's text goes: the renderer (rendered markdown on a terminal, the exact
text to a pipe), or nowhere for ``--json``, which prints the answer once, in its object.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ollama_cli.options import TurnOptions


class Sink(Protocol):
    def status(self, text: str) -> None: ...
    def feed(self, text: str) -> None: ...
    def notice(self, text: str) -> None: ...
    def __enter__(self) -> Sink: ...
    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class QuietSink:
    """``--json``: nothing while streaming (notices keep going to stderr through the app)."""

    def status(self, text: str) -> None:
        pass

    def feed(self, text: str) -> None:
        pass

    def notice(self, text: str) -> None:
        pass

    def __enter__(self) -> QuietSink:
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        pass


def make_sink(turn: TurnOptions, environ: Mapping[str, str]) -> Sink:
    """Decide plain vs. markdown before importing rich: a pipe never pays for rich."""
    if turn.json:
        return QuietSink()
    out = sys.stdout
    from ollama_cli.render import make_console, make_renderer
    from ollama_cli.render.stream import PlainRenderer
    from ollama_cli.render.terminal import Terminal, is_dumb

    terminal = Terminal.of(out, environ)
    if turn.raw or not terminal.is_tty or is_dumb(environ):
        return PlainRenderer(out, is_terminal=terminal.is_tty)
    return make_renderer(make_console(out, environ), environ=environ)
