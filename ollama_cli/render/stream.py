"""Show an answer while it streams: rendered markdown on a terminal, the exact text elsewhere.

Both `complete` and the REPL drive a renderer the same way: ``start()`` (a spinner until the
first text), ``feed()`` per chunk, ``notice()`` for router announcements, ``finish()``. The
markdown renderer prints each finished block once and keeps only the unfinished tail in a
live region, repainted at a bounded rate, so the cost of an answer stays linear in its length.
"""

from __future__ import annotations

import sys
import time
from abc import ABC, abstractmethod
from types import TracebackType
from typing import IO, TYPE_CHECKING, Self

from ollama_cli.render.blocks import BlockSplitter

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
    from rich.live import Live
    from rich.markdown import Markdown
    from rich.spinner import Spinner

DEFAULT_STATUS = "waiting for an answer…"
#: Blocks whose standalone rendering by rich already starts with a blank line.
_CONTAINERS = frozenset({"bullet_list_open", "ordered_list_open", "blockquote_open", "table_open"})


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
    """The model's exact text, written as it arrives: for pipes, files, ``--raw``, NO_COLOR.

    Notices go to ``notices`` (plain stderr by default) so that piped output stays the answer
    alone. Nothing here imports rich: ``complete … | cat`` never pays for it.
    """

    def __init__(
        self, out: IO[str], *, is_terminal: bool = False, notices: Console | None = None
    ) -> None:
        super().__init__()
        self.out = out
        self.is_terminal = is_terminal
        self._notices = notices
        self._ends_line = True

    def start(self, status: str = DEFAULT_STATUS) -> None:
        """No spinner: a pipe or a ``--raw`` terminal gets nothing but the answer."""

    def status(self, text: str) -> None:
        """No spinner, no status."""

    def feed(self, text: str) -> None:
        self._check_open()
        if text:
            self.out.write(text)
            self.out.flush()
            self._ends_line = text.endswith("\n")

    def notice(self, text: str) -> None:
        if self._notices is None:
            print(text, file=sys.stderr, flush=True)
        else:
            self._notices.print(text, style="dim", markup=False, highlight=False, soft_wrap=True)

    def _finish(self) -> None:
        # On a terminal, do not leave the shell prompt glued to the last line of the answer.
        if not self._ends_line and self.is_terminal:
            self.out.write("\n")
            self.out.flush()


class MarkdownRenderer(StreamRenderer):
    """Rendered markdown: finished blocks printed once, the tail live at ``refresh_per_second``."""

    def __init__(
        self,
        console: Console,
        *,
        refresh_per_second: float = 20.0,
        code_theme: str = "monokai",
    ) -> None:
        super().__init__()
        self.console = console
        self._interval = 1.0 / refresh_per_second
        self._code_theme = code_theme
        self._splitter = BlockSplitter()
        self._spinner: Spinner | None = None
        self._waiting: Live | None = None
        self._live: Live | None = None
        self._last_refresh = 0.0
        self._gap = False  # whether the next block needs a blank line before it (rich's rule)

    def start(self, status: str = DEFAULT_STATUS) -> None:
        if self._waiting is not None or self._live is not None or self._finished:
            return
        from rich.live import Live
        from rich.spinner import Spinner
        from rich.text import Text

        self._spinner = Spinner("dots", Text(status, style="dim"))
        self._waiting = Live(
            self._spinner,
            console=self.console,
            refresh_per_second=12.5,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._waiting.start(refresh=True)

    def status(self, text: str) -> None:
        if self._spinner is not None:
            from rich.text import Text

            self._spinner.update(text=Text(text, style="dim"))

    def feed(self, text: str) -> None:
        self._check_open()
        if not text:
            return
        live = self._live or self._open_live()
        blocks = self._splitter.feed(text)
        if blocks:
            # Printing repaints the live region below the blocks, from the current tail.
            self.console.print(self._blocks(blocks))
            self._last_refresh = time.monotonic()
        elif time.monotonic() - self._last_refresh >= self._interval:
            live.refresh()
            self._last_refresh = time.monotonic()

    def notice(self, text: str) -> None:
        # Text already shown stays above the notice: a seam (say, a resumed answer) shows
        # where it happened instead of the notice jumping above the unfinished paragraph.
        if self._live is not None:
            seam = self._splitter.cut()
            if seam.strip():
                self.console.print(self._blocks([seam]))
        self.console.print(text, style="dim", markup=False, highlight=False)

    def _open_live(self) -> Live:
        from rich.live import Live

        self._stop_waiting()
        self._live = Live(
            _TailView(self),
            console=self.console,
            auto_refresh=False,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._live.start()
        return self._live

    def _stop_waiting(self) -> None:
        waiting, self._waiting, self._spinner = self._waiting, None, None
        if waiting is not None:
            waiting.stop()

    def _finish(self) -> None:
        try:
            self._stop_waiting()
        finally:
            live, self._live = self._live, None
            if live is not None:
                live.stop()  # transient: erases the preview, which _TailView now leaves empty
        tail = self._splitter.flush()
        if tail.strip():
            self.console.print(self._blocks([tail]))

    def _blocks(self, blocks: list[str]) -> Group:
        """Render finished blocks once, spaced as rich spaces a whole document."""
        from rich.console import Group
        from rich.markdown import Markdown
        from rich.text import Text

        parts: list[RenderableType] = []
        for block in blocks:
            markdown = Markdown(block, code_theme=self._code_theme)
            if not markdown.parsed:
                continue
            if self._gap_before(markdown):
                parts.append(Text())
            parts.append(markdown)
            self._gap = markdown.parsed[-1].type != "hr"
        return Group(*parts)

    def _gap_before(self, markdown: Markdown) -> bool:
        # Rich puts a blank line between top-level elements, except after a rule; a list,
        # quote or table rendered alone already starts with that blank line.
        return self._gap and markdown.parsed[0].type not in _CONTAINERS

    def _preview(self, height: int, width: int) -> str:
        """The visible end of the tail (nothing once the answer is finished)."""
        if self._live is None:
            return ""
        return self._splitter.preview(max_lines=height, max_chars=height * width)


class _TailView:
    """The live region: the tail rendered now, cut to its last lines so it fits the screen.

    Rich repaints the live region after every print, so it reads the renderer's current state
    instead of holding a stale copy.
    """

    def __init__(self, renderer: MarkdownRenderer) -> None:
        self._renderer = renderer

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.markdown import Markdown
        from rich.segment import Segment

        height = max(1, options.size.height - 1)
        text = self._renderer._preview(height, options.max_width)
        markdown = Markdown(text, code_theme=self._renderer._code_theme)
        if not markdown.parsed:
            return
        lines = console.render_lines(markdown, options, pad=False)
        if self._renderer._gap_before(markdown):
            lines.insert(0, [])
        for line in lines[-height:]:
            yield from line
            yield Segment.line()
