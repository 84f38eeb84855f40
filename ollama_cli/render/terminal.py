"""The one way text reaches a terminal, and the one reading of ``NO_COLOR`` and ``TERM``.

Every line the tool shows — answers, notices, errors, history, model names — goes through a
`TerminalWriter`. On a terminal it shows outside text with its control characters visible
(`visible`); the project's own styling is the only escape output, and none at all when
``TERM=dumb``. To a pipe or a file it writes the exact text, byte for byte.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO

from ollama_cli.render.safe import VisibleStream, visible

__all__ = ["Terminal", "TerminalWriter", "is_dumb", "isatty", "no_color"]

DIM = "\x1b[2m"
RESET = "\x1b[0m"


def no_color(environ: Mapping[str, str]) -> bool:
    """``NO_COLOR`` set and not empty (https://no-color.org): no colour, same layout."""
    return bool(environ.get("NO_COLOR"))


def is_dumb(environ: Mapping[str, str]) -> bool:
    """A terminal that understands no escape sequence at all (as rich reads ``TERM``)."""
    return environ.get("TERM", "").lower() in ("dumb", "unknown")


def isatty(stream: IO[str]) -> bool:
    """Whether ``stream`` is a terminal (a closed stream is not)."""
    try:
        return stream.isatty()
    except (ValueError, OSError):
        return False


@dataclass(frozen=True)
class Terminal:
    """What a stream can show, decided once from the stream and the injected environ."""

    is_tty: bool = False
    escapes: bool = False  # cursor movement and styles at all (a terminal, not dumb)
    colour: bool = False  # colours too (escapes, and no NO_COLOR); bold and dim stay

    @classmethod
    def of(cls, stream: IO[str], environ: Mapping[str, str]) -> Terminal:
        tty = isatty(stream)
        escapes = tty and not is_dumb(environ)
        return cls(tty, escapes, escapes and not no_color(environ))


class TerminalWriter:
    """Writes to one stream: outside text made visible on a terminal, exact elsewhere."""

    def __init__(self, stream: IO[str], terminal: Terminal) -> None:
        self.stream = stream
        self.terminal = terminal
        self._text = VisibleStream()

    @classmethod
    def of(cls, stream: IO[str], environ: Mapping[str, str]) -> TerminalWriter:
        return cls(stream, Terminal.of(stream, environ))

    def write(self, text: str) -> None:
        """Outside text as it streams (an answer): made visible on a terminal, else exact."""
        if not self.terminal.is_tty:
            self.stream.write(text)
            return
        self.stream.write(self._text.feed(text))

    def line(self, text: str, *, dim: bool = False) -> None:
        """One whole line of output (a notice, an error, a history row), then flush."""
        self.end_text()
        if self.terminal.is_tty:
            text = visible(text)
        if dim and self.terminal.escapes:
            text = f"{DIM}{text}{RESET}"
        self.stream.write(text + "\n")
        self.stream.flush()

    def own(self, text: str) -> None:
        """The project's own output (rendered markdown, cursor control): written as it is.

        Callers build it from text that already went through `visible`.
        """
        self.stream.write(text)

    def end_text(self) -> None:
        """Write a held-back CR: the streamed text has ended without its LF."""
        if self.terminal.is_tty:
            self.stream.write(self._text.end())

    def flush(self) -> None:
        self.stream.flush()
