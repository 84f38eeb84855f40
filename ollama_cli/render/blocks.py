"""Split streamed markdown into finished blocks and an unfinished tail, incrementally.

Re-rendering the whole answer on every token costs O(n²) over an answer. Instead each
complete line is looked at once, and a block is cut only where CommonMark guarantees that
what came before can no longer change: at a blank line followed by an unindented line that
does not continue a list, around a top-level ATX heading, and around a top-level fenced code
block. Blank lines inside a fence (or an HTML comment / ``<pre>`` block) never cut. When in
doubt the splitter merges: a merged block renders exactly as the whole document would.

Known gap: a link reference definition in a later block does not resolve links in an
earlier one (rare in model answers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FENCE = re.compile(r"(`{3,}|~{3,})(.*)")
_HEADING = re.compile(r"#{1,6}(?:[ \t]|$)")
_LIST_ITEM = re.compile(r"(?:[-+*]|\d{1,9}[.)])(?:[ \t]|$)")
# HTML blocks of CommonMark types 1 and 2 run past blank lines until their end marker.
_RAW_HTML = (
    (
        re.compile(r"<(?:pre|script|style|textarea)(?:[\s>]|$)", re.I),
        re.compile(r"</(?:pre|script|style|textarea)>", re.I),
    ),
    (re.compile(r"<!--"), re.compile(r"-->")),
)


@dataclass(frozen=True)
class _Fence:
    char: str
    length: int
    indent: int
    top_level: bool  # else inside a list item: ends with its container
    opener: str


def _indent(line: str) -> int:
    body = line.lstrip(" \t")
    return len(line[: len(line) - len(body)].expandtabs(4))


class BlockSplitter:
    """Feed text in arbitrary chunks; get back the markdown blocks that are finished.

    The concatenation of every returned block and the final `flush()` equals the input.
    """

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._lines: list[str] = []  # complete lines of the open block
        self._partial: list[str] = []  # pieces of the incomplete last line
        self._has_content = False
        self._after_blank = False
        self._in_list = False
        self._fence: _Fence | None = None
        self._raw_end: re.Pattern[str] | None = None

    def feed(self, text: str) -> list[str]:
        """Add text; return the blocks it finished (usually none)."""
        done: list[str] = []
        start = 0
        while (newline := text.find("\n", start)) != -1:
            line = text[start : newline + 1]
            if self._partial:
                line = "".join(self._partial) + line
                self._partial.clear()
            self._take(line, done)
            start = newline + 1
        if start < len(text):
            self._partial.append(text[start:])
        return done

    def flush(self) -> str:
        """Return everything not yet returned and start over."""
        rest = "".join(self._lines) + "".join(self._partial)
        self._reset()
        return rest

    def cut(self) -> str:
        """End the tail here, at a seam; a code fence open at the cut stays open after it."""
        fence = self._fence if self._fence is not None and self._fence.top_level else None
        rest = self.flush()
        if fence is not None:
            self.feed(fence.opener)
        return rest

    def tail(self) -> str:
        """The unfinished block as it stands (not taken out)."""
        return "".join(self._lines) + "".join(self._partial)

    def fence_lines(self) -> int:
        """How many lines a top-level code fence left open has (0 outside one)."""
        fence = self._fence
        return len(self._lines) if fence is not None and fence.top_level else 0

    def cut_code(self) -> str | None:
        """Inside an open fence, end the tail after its last line that is not blank (a code
        block's trailing blank lines do not render); the fence goes on after the cut with the
        lines that follow it. None when there is no such line yet."""
        if not self.fence_lines():
            return None
        lines = self._lines
        last = next((i for i in range(len(lines) - 1, 0, -1) if lines[i].strip()), None)
        if last is None:
            return None
        carry = "".join(lines[last + 1 :]) + "".join(self._partial)
        del lines[last + 1 :]
        self._partial.clear()
        rest = self.cut()
        if carry:
            self.feed(carry)
        return rest

    def preview(self, max_lines: int, max_chars: int) -> str:
        """The end of the unfinished tail, cheap to render whatever the tail's length."""
        lines = self._lines[-max_lines:] if max_lines > 0 else []
        pieces: list[str] = []
        size = 0
        for piece in reversed(self._partial):
            pieces.append(piece)
            size += len(piece)
            if size >= max_chars:
                break
        text = "".join(lines) + "".join(reversed(pieces))
        cropped = len(lines) < len(self._lines) or len(text) > max_chars
        text = text[-max_chars:]
        if cropped and self._fence is not None and self._fence.top_level:
            # Keep the opening fence so the visible end still renders as code.
            _, newline, rest = text.partition("\n")
            text = self._fence.opener + (rest if newline else text)
        return text

    def _take(self, line: str, done: list[str]) -> None:
        if self._fence is not None and self._in_fence(line, done):
            return
        if self._raw_end is not None:
            self._append(line)
            if self._raw_end.search(line):
                self._raw_end = None
            return
        body = line.strip()
        if not body:
            self._lines.append(line)
            self._after_blank = True
            return
        indent = _indent(line)
        top = indent == 0 or (indent <= 3 and not self._in_list)
        is_item = indent <= 3 and _LIST_ITEM.match(body) is not None
        fence = _FENCE.match(body) if indent <= 3 or self._in_list else None
        if fence is not None and fence[1][0] == "`" and "`" in fence[2]:
            fence = None  # "```x```" is inline code, not a fence
        heading = top and _HEADING.match(body) is not None
        ends_block = self._after_blank and indent == 0 and not (self._in_list and is_item)
        if heading or (fence is not None and top) or ends_block:
            self._cut(done)
        self._append(line)
        self._in_list = self._in_list or is_item
        if heading:
            self._cut(done)
        elif fence is not None:
            marker = fence[1]
            self._fence = _Fence(marker[0], len(marker), indent, top, line)
        elif indent <= 3:
            self._raw_end = _raw_html_end(body)

    def _in_fence(self, line: str, done: list[str]) -> bool:
        """Handle a line while a fence is open; False if the line must be re-read outside it."""
        fence = self._fence
        assert fence is not None
        body = line.strip()
        indent = _indent(line)
        if not fence.top_level and body and indent == 0:
            self._fence = None  # the list item, and its fence with it, ended
            return False
        self._lines.append(line)
        self._after_blank = not body
        closes = body.startswith(fence.char * fence.length) and body.strip(fence.char) == ""
        if closes and (indent <= 3 or not fence.top_level):
            self._fence = None
            if fence.top_level:
                self._cut(done)
        return True

    def _append(self, line: str) -> None:
        self._lines.append(line)
        self._has_content = True
        self._after_blank = False

    def _cut(self, done: list[str]) -> None:
        if self._has_content:
            done.append("".join(self._lines))
            self._lines.clear()
        self._has_content = False
        self._after_blank = False
        self._in_list = False


def _raw_html_end(body: str) -> re.Pattern[str] | None:
    for start, end in _RAW_HTML:
        opened = start.match(body)
        if opened is not None and end.search(body, opened.end()) is None:
            return end
    return None
