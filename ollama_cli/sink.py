"""Where an answer's text goes: rendered markdown on a terminal, exact text to a pipe,
nothing at all for ``--json``. Notices from the router go to stderr in every case, and
through the renderer when one owns the terminal (so they never tear its live region).
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ollama_cli.app import App


class Sink(Protocol):
    def waiting(self, provider: str) -> None: ...
    def feed(self, text: str) -> None: ...
    def __enter__(self) -> Sink: ...
    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class QuietSink:
    """``--json``: the answer is printed once, inside the JSON object."""

    def waiting(self, provider: str) -> None:
        pass

    def feed(self, text: str) -> None:
        pass

    def __enter__(self) -> QuietSink:
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        pass


class PlainSink:
    """The model's exact text, flushed as it arrives; no ANSI codes, nothing added."""

    def __init__(self, newline_at_end: bool) -> None:
        self.newline_at_end = newline_at_end
        self._last = ""

    def waiting(self, provider: str) -> None:
        pass

    def feed(self, text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()
        self._last = text

    def __enter__(self) -> PlainSink:
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.newline_at_end and self._last and not self._last.endswith("\n"):
            sys.stdout.write("\n")
        sys.stdout.flush()


def make_sink(app: App, *, quiet: bool) -> Sink:
    if quiet:
        return QuietSink()
    raw = bool(getattr(app.args, "raw", False))
    if sys.stdout.isatty() and not raw and "NO_COLOR" not in app.environ:
        from ollama_cli.rendersink import RenderSink

        return RenderSink(app)
    return PlainSink(newline_at_end=sys.stdout.isatty())
