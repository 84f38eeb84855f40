"""The bottom rows of the screen that may still change; every row above them is final.

A repaint starts at the first cell that differs and goes no further up: while a paragraph
streams, the usual change is text added to the last row, and just those characters are
written. The last row's trailing blank padding (a code block's background) is drawn only
once a row comes below it, so growing code does not rewrite its padding per token. Rows that
no longer fit the region (the screen height less one, so the cursor can always reach them)
are final and never touched again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.segment import Segment

    from ollama_cli.render.terminal import TerminalWriter

#: One screen row as rich renders it: styled pieces of text, no newline.
Row = Sequence["Segment"]
HIDE_CURSOR = "\x1b[?25l"
SHOW_CURSOR = "\x1b[?25h"


class LiveRegion:
    """Rows at the bottom of a terminal, repainted by difference.

    The cursor rests at the end of the last row as drawn; `commit` finishes that row, moves
    to a fresh line and makes every row final.
    """

    def __init__(self, writer: TerminalWriter, encode: Callable[[Row], str], max_rows: int) -> None:
        self._writer = writer
        self._encode = encode
        self.max_rows = max(1, max_rows)
        self._rows: list[Row] = []
        self._drawn: Row = []  # the last row as it is on screen (padding maybe not yet)
        self._cursor_hidden = False

    def show(self, rows: Sequence[Row]) -> int:
        """Make the region show ``rows``; returns how many leading rows became final."""
        old = self._rows
        first = _first_difference(old, rows)
        if first == len(old) == len(rows):
            return 0
        if not self._cursor_hidden:
            self._writer.own(HIDE_CURSOR)
            self._cursor_hidden = True
        last = len(old) - 1
        if rows and first == len(rows):  # rows removed below the last one kept
            first -= 1
        if first < last or not rows:
            parts = ["\r" + (f"\x1b[{last - first}A" if last > first else "") + "\x1b[J"]
            start = first
        elif old:
            target = rows[last] if len(rows) > len(old) else _unpadded(rows[last])
            parts = [self._redraw_last(target)]
            start = last + 1
            if start < len(rows):
                parts.append("\n")
        else:
            parts, start = [], 0
        parts.append(self._draw(rows[start:]))
        self._writer.own("".join(parts))
        self._rows = list(rows)
        if not rows:
            self._drawn = []
        elif start < len(rows):
            self._drawn = _unpadded(rows[-1])
        dropped = max(0, len(rows) - self.max_rows)
        del self._rows[:dropped]
        return dropped

    def drop(self, count: int) -> None:
        """Make the first ``count`` rows final (they are on screen as they should stay)."""
        if count >= len(self._rows):
            self.commit()
        else:
            del self._rows[:count]

    def commit(self) -> None:
        """Every row shown is final; the cursor goes to the start of a fresh line."""
        if self._rows:
            self._writer.own(self._redraw_last(self._rows[-1]) + "\n")
            self._rows, self._drawn = [], []

    def close(self) -> None:
        """Commit, and show the cursor again."""
        self.commit()
        if self._cursor_hidden:
            self._writer.own(SHOW_CURSOR)
            self._cursor_hidden = False

    def _draw(self, rows: Sequence[Row]) -> str:
        """Rows from the start of the current line; the last one without its padding."""
        if not rows:
            return ""
        *full, last = rows
        return "".join(self._encode(row) + "\n" for row in full) + self._encode(_unpadded(last))

    def _redraw_last(self, target: Row) -> str:
        """Turn the last row as drawn into ``target``, writing from the first changed cell."""
        from rich.cells import cell_len

        drawn = self._drawn
        same, rest = _common_prefix(drawn, target)
        drawn_cells = sum(cell_len(s.text) for s in drawn)
        out = "" if same == drawn_cells else "\r" + (f"\x1b[{same}C" if same else "")
        out += self._encode(rest)
        if same + sum(cell_len(s.text) for s in rest) < drawn_cells:
            out += "\x1b[K"
        self._drawn = target
        return out


def _first_difference(old: Sequence[Row], new: Sequence[Row]) -> int:
    for index, (a, b) in enumerate(zip(old, new, strict=False)):
        if list(a) != list(b):
            return index
    return min(len(old), len(new))


def _unpadded(row: Row) -> Row:
    """``row`` without its trailing blank segments."""
    end = len(row)
    while end and not row[end - 1].text.strip():
        end -= 1
    return row[:end]


def _common_prefix(drawn: Row, target: Row) -> tuple[int, Row]:
    """Cells ``drawn`` and ``target`` share at their start, and what of ``target`` follows."""
    from rich.cells import cell_len
    from rich.segment import Segment

    cells = 0
    for index, (a, b) in enumerate(zip(drawn, target, strict=False)):
        if a == b:
            cells += cell_len(a.text)
            continue
        if a.style != b.style:
            return cells, target[index:]
        size = 0
        while size < min(len(a.text), len(b.text)) and a.text[size] == b.text[size]:
            size += 1
        head = Segment(b.text[size:], b.style)
        return cells + cell_len(a.text[:size]), [head, *target[index + 1 :]]
    return cells, target[len(drawn) :] if len(target) > len(drawn) else []
