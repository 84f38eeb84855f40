"""Rendered markdown on a terminal: each finished row written once, the rest bounded.

Text is made visible (`visible`) before it is parsed, so the only escapes written are rich's
styling and the live region's cursor moves. A frame (at most ``refresh_per_second``, and one
more when the stream pauses) renders the blocks finished since the last frame and the
unfinished tail, and hands the rows to the `LiveRegion`, which writes only what changed. A
code fence left open grows as blocks of bounded size, so every frame costs about the same
whatever the answer's length. A resize ends the rows drawn at the old width where they are
(the terminal may already have re-wrapped them) and goes on at the new width below.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from ollama_cli.render.blocks import BlockSplitter
from ollama_cli.render.live import LiveRegion, Row
from ollama_cli.render.safe import VisibleStream, visible
from ollama_cli.render.stream import DEFAULT_STATUS, StreamRenderer
from ollama_cli.render.terminal import Terminal, TerminalWriter

if TYPE_CHECKING:
    import asyncio

    from rich.console import Console, ConsoleOptions, RenderResult
    from rich.markdown import Markdown
    from rich.segment import Segment
    from rich.style import Style

#: Blocks whose standalone rendering by rich already starts with a blank line.
_CONTAINERS = frozenset({"bullet_list_open", "ordered_list_open", "blockquote_open", "table_open"})
_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
#: An open fence is cut into pieces of about this many lines (a frame's cost stays bounded).
FENCE_PIECE = 40


@dataclass(frozen=True)
class _Block:
    text: str
    continued: bool = False  # goes on a code block cut just before it: no top padding
    open_end: bool = False  # a code block cut here goes on after it: no bottom padding


class MarkdownRenderer(StreamRenderer):
    """Rendered markdown: finished rows written once, the tail repainted by difference."""

    def __init__(
        self, console: Console, *, refresh_per_second: float = 30.0, code_theme: str = "monokai"
    ) -> None:
        super().__init__()
        self.console = console
        self._interval = 1.0 / refresh_per_second
        self._code_theme = code_theme
        self._writer = TerminalWriter(console.file, Terminal(True, True, not console.no_color))
        self._region = LiveRegion(self._writer, self._encode, console.height - 1)
        self._width = console.width
        self._splitter = BlockSplitter()
        self._text = VisibleStream()
        self._done: list[_Block] = []  # finished since the last frame
        self._continued = False  # the tail goes on a code block cut at a frame
        self._committed = 0  # rows of the tail already final
        self._painted_tail = 0  # characters of the tail the last frame showed
        self._gap = False  # whether the next block needs a blank line before it (rich's rule)
        self._status: str | None = None
        self._spin = 0
        self._timer: asyncio.TimerHandle | None = None
        self._last_frame = 0.0

    def start(self, status: str = DEFAULT_STATUS) -> None:
        if self._status is None and not self._finished and not self._has_text():
            self._status = visible(status)
            self._show_spinner()

    def status(self, text: str) -> None:
        if self._status is not None:
            self._status = visible(text)
            self._show_spinner()

    def feed(self, text: str) -> None:
        self._check_open()
        text = self._text.feed(text)
        if not text:
            return
        if self._status is not None:  # the first text: the spinner goes
            self._status = None
            self._cancel_timer()
        self._take(self._splitter.feed(text))
        wait = self._last_frame + self._interval - time.monotonic()
        if wait <= 0:
            self._frame()
        else:
            self._later(wait, self._frame)

    def notice(self, text: str) -> None:
        # Text already shown stays above the notice: a seam (say, a resumed answer) shows
        # where it happened instead of the notice jumping above the unfinished paragraph.
        self._take([self._splitter.cut()])
        self._frame(spinner=False)
        self._region.commit()
        self._committed = self._painted_tail = 0
        self._writer.line(text, dim=True)
        if self._status is not None:
            self._show_spinner()

    def _finish(self) -> None:
        self._cancel_timer()
        self._status = None
        self._take([self._splitter.flush() + self._text.end()])
        try:
            self._frame()
        finally:
            self._region.close()
            self._writer.flush()

    def _has_text(self) -> bool:
        return bool(self._done) or bool(self._splitter.tail())

    def _take(self, blocks: list[str]) -> None:
        for block in blocks:
            self._done.append(_Block(block, continued=self._continued))
            self._continued = False

    def _frame(self, *, spinner: bool = True) -> None:
        """Show what is finished and the tail as they are now."""
        self._cancel_timer()
        if self._status is None:  # the spinner's turns do not hold the answer's frames back
            self._last_frame = time.monotonic()
        if self.console.width != self._width:
            self._resize()
        if self._splitter.fence_lines() > FENCE_PIECE and (piece := self._splitter.cut_code()):
            self._done.append(_Block(piece, continued=self._continued, open_end=True))
            self._continued = True
        done, self._done = self._done, []
        final = self._rows(done, keep_gap=True)
        tail_text = self._splitter.tail()
        open_code = self._splitter.fence_lines() > 0  # its closing padding is not there yet
        tail = self._rows([_Block(tail_text, continued=self._continued, open_end=open_code)])
        if spinner and not final and not tail and self._status is not None:
            tail = [self._spinner_row()]
        dropped = self._region.show((final + tail)[self._committed :])
        gone = self._committed + dropped
        self._region.drop(max(0, len(final) - gone))
        self._committed = max(0, gone - len(final))
        self._painted_tail = len(tail_text)
        self._writer.flush()

    def _resize(self) -> None:
        """End what was drawn at the old width there; go on with the rest at the new one."""
        shown_end = self._painted_tail
        pending = "".join(block.text for block in self._done) + self._splitter.flush()
        self._done = []
        self._region.commit()
        self._committed = self._painted_tail = 0
        self._width = self.console.width
        self._region.max_rows = max(1, self.console.height - 1)
        self._continued = self._gap = False
        shown = BlockSplitter()
        shown.feed(pending[:shown_end])
        if shown.fence_lines():  # the rest of the open code block is a code block too
            self._splitter.feed(shown.tail().partition("\n")[0] + "\n")
        self._take(self._splitter.feed(pending[shown_end:]))

    def _rows(self, blocks: list[_Block], *, keep_gap: bool = False) -> list[Row]:
        """Render blocks as rich renders a whole document, spaced by its rule."""
        Markdown = _markdown_class()
        rows: list[Row] = []
        gap = self._gap
        options = self.console.options.update_width(self._width)
        for block in _merged(blocks):
            markdown = Markdown(block.text, code_theme=self._code_theme)
            if not markdown.parsed:
                continue
            lines = [
                _trimmed(row) for row in self.console.render_lines(markdown, options, pad=False)
            ]
            if block.continued:
                lines = lines[1:]
            elif _gap_before(gap, markdown):
                rows.append([])
            rows.extend(lines[:-1] if block.open_end else lines)
            gap = markdown.parsed[-1].type != "hr"
        if keep_gap:
            self._gap = gap
        return rows

    def _encode(self, row: Row) -> str:
        from rich.console import COLOR_SYSTEMS
        from rich.segment import Segment

        system = COLOR_SYSTEMS.get(self.console.color_system or "")
        if self.console.no_color:
            row = list(Segment.remove_color(row))
        return "".join(
            style.render(text, color_system=system) if style else text for text, style, _ in row
        )

    def _spinner_row(self) -> Row:
        from rich.segment import Segment
        from rich.style import Style

        frame = _SPINNER[self._spin % len(_SPINNER)]
        return [Segment(f"{frame} {self._status}", Style(dim=True))]

    def _show_spinner(self) -> None:
        self._frame()
        self._later(0.1, self._spin_once)

    def _spin_once(self) -> None:
        self._timer = None
        if self._status is not None and not self._finished:
            self._spin += 1
            self._show_spinner()

    def _later(self, delay: float, callback: Callable[[], None]) -> None:
        """Run ``callback`` after ``delay`` on the running event loop (if there is one)."""
        import asyncio

        if self._timer is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a test driving the renderer): the next feed or finish paints
        self._timer = loop.call_later(delay, callback)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


def _merged(blocks: list[_Block]) -> list[_Block]:
    """Runs of plain finished blocks as one: they render together exactly as apart (the
    splitter cut them where nothing can change), and one parse is cheaper than many."""
    merged: list[_Block] = []
    for block in blocks:
        plain = not (block.continued or block.open_end)
        if plain and merged and not (merged[-1].continued or merged[-1].open_end):
            merged[-1] = _Block(merged[-1].text + block.text)
        else:
            merged.append(block)
    return merged


def _gap_before(gap: bool, markdown: Markdown) -> bool:
    # Rich puts a blank line between top-level elements, except after a rule; a list,
    # quote or table rendered alone already starts with that blank line.
    return gap and markdown.parsed[0].type not in _CONTAINERS


def _trimmed(row: list[Segment]) -> Row:
    """``row`` with same-style pieces merged and trailing blanks that show nothing dropped."""
    from rich.segment import Segment

    pieces = list(Segment.simplify(row))
    while pieces and _invisible(pieces[-1].style):
        last = pieces.pop()
        if text := last.text.rstrip():
            pieces.append(Segment(text, last.style))
            break
    return pieces


def _invisible(style: Style | None) -> bool:
    """Whether blanks in ``style`` look like no text at all (no background, no line)."""
    if style is None:
        return True
    background = style.bgcolor is not None and not style.bgcolor.is_default
    return not (background or style.reverse or style.underline or style.strike or style.overline)


@functools.cache
def _markdown_class() -> type[Markdown]:
    """rich's Markdown with code blocks on the terminal's own background.

    A themed background is painted to the full width of every code row: several times the
    bytes of the code itself, over a slow link, for a look the terminal already has.
    """
    from rich.markdown import CodeBlock, Markdown, MarkdownElement
    from rich.syntax import Syntax

    class PlainBackgroundCode(CodeBlock):
        def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
            code = str(self.text).rstrip()
            yield Syntax(
                code,
                self.lexer_name,
                theme=self.theme,
                word_wrap=True,
                padding=1,
                background_color="default",
            )

    class TerminalMarkdown(Markdown):
        elements: ClassVar[dict[str, type[MarkdownElement]]] = {
            **Markdown.elements,
            "fence": PlainBackgroundCode,
            "code_block": PlainBackgroundCode,
        }

    return TerminalMarkdown
