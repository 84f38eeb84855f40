"""Show an answer while it streams: the interface, and the model's exact text.

Both `complete` and the REPL drive a renderer the same way: ``start()`` (a spinner until the
first text), ``feed()`` per chunk, ``notice()`` for router announcements, ``finish()``. The
markdown renderer (`ollama_cli.render.markdown`) writes each finished row once and repaints
only a bounded live region; `PlainRenderer` writes the text as it comes.
"""

from __future__ import annotations

import sys
from abc import ABC, abstractmethod
from types import TracebackType
from typing import IO, Self

from ollama_cli.render.terminal import Terminal, TerminalWriter, isatty

DEFAULT_STATUS = "waiting for an answer…"


class StreamRenderer(ABC):
    """What every renderer offers; use as a context manager so the terminal is always restored."""

    def __init__(self) -> None:
        self._finished = False

    @abstractmethod
    def start(self, status: str = DEFAULT_STATUS) -> None:
        """Show that an answer is awaited (a spinner on a terminal)."""

    @abstractmethod
    def status(self, text: str) -> None:
        """Change the waiting message, e.g. to "waiting for claude…" after a fallback."""

    @abstractmethod
    def feed(self, text: str) -> None:
        """Show the next chunk of the answer."""

    @abstractmethod
    def notice(self, text: str) -> None:
        """Show a one-line announcement (fallback, resumed stream) without breaking the answer."""

    def finish(self) -> None:
        """Show whatever is left and release the terminal; safe to call more than once."""
        if not self._finished:
            self._finished = True
            self._finish()

    @abstractmethod
    def _finish(self) -> None: ...

    def _check_open(self) -> None:
        if self._finished:
            raise RuntimeError("the answer has already been finished")

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Also on Ctrl-C: the partial answer stays on screen, the live region does not.
        self.finish()


class PlainRenderer(StreamRenderer):
    """The model's text, written as it arrives: for pipes, files, ``--raw``, ``TERM=dumb``.

    To a pipe or a file the bytes are exact; on a terminal control characters are shown, not
    run. Notices go to ``notices`` (stderr by default) so that piped output stays the answer
    alone. Nothing here imports rich: ``complete … | cat`` never pays for it.
    """

    def __init__(
        self, out: IO[str], *, is_terminal: bool = False, notices: TerminalWriter | None = None
    ) -> None:
        super().__init__()
        self.out = out
        self.is_terminal = is_terminal
        self._writer = TerminalWriter(out, Terminal(is_tty=is_terminal))
        self._notices = notices
        self._ends_line = True

    def start(self, status: str = DEFAULT_STATUS) -> None:
        """No spinner: a pipe or a ``--raw`` terminal gets nothing but the answer."""

    def status(self, text: str) -> None:
        """No spinner, no status."""

    def feed(self, text: str) -> None:
        self._check_open()
        if text:
            self._writer.write(text)
            self._writer.flush()
            self._ends_line = text.endswith("\n")

    def notice(self, text: str) -> None:
        if self._notices is None:
            self._notices = TerminalWriter(sys.stderr, Terminal(is_tty=isatty(sys.stderr)))
        self._notices.line(text, dim=True)

    def _finish(self) -> None:
        if self.is_terminal:
            self._writer.end_text()
            # Do not leave the shell prompt glued to the last line of the answer.
            if not self._ends_line:
                self.out.write("\n")
            self.out.flush()
