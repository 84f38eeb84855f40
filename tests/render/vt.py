"""A tiny terminal for tests: replays what the renderer wrote and keeps the final screen.

It understands exactly the escapes the renderer may write (cursor up/forward, erase, SGR,
cursor visibility, OSC 8 links) and fails on any other, so a test also proves that nothing
else reached the terminal. ``max_up`` records the furthest the cursor ever went back up:
the size of the biggest repaint.
"""

from __future__ import annotations

import re

_CSI = re.compile(r"\x1b\[(\??)([\d;]*)([A-Za-z])")
_OSC8 = re.compile(r"\x1b\]8;[^\x1b\x07]*(?:\x1b\\|\x07)")


class Screen:
    def __init__(self) -> None:
        self.rows: list[list[str]] = [[]]
        self.row = self.col = 0
        self.max_up = 0

    def feed(self, raw: str) -> Screen:
        at = 0
        while at < len(raw):
            char = raw[at]
            if char == "\x1b":
                at = self._escape(raw, at)
                continue
            if char == "\n":
                self.row, self.col = self.row + 1, 0
                self.rows.extend([] for _ in range(self.row + 1 - len(self.rows)))
            elif char == "\r":
                self.col = 0
            else:
                line = self.rows[self.row]
                line.extend(" " * (self.col - len(line)))
                line[self.col : self.col + 1] = [char]
                self.col += 1
            at += 1
        return self

    def _escape(self, raw: str, at: int) -> int:
        link = _OSC8.match(raw, at)
        if link is not None:
            return link.end()
        code = _CSI.match(raw, at)
        assert code is not None, f"unexpected escape {raw[at : at + 12]!r}"
        private, number, op = code.groups()
        count = int(number or 1) if ";" not in number else 1
        if private:
            assert number == "25" and op in "hl", f"unexpected escape {code[0]!r}"
        elif op == "A":
            self.row -= count
            self.max_up = max(self.max_up, count)
            assert self.row >= 0, "cursor moved above the output"
        elif op == "C":
            self.col += count
        elif op == "J":
            assert number in ("", "0"), f"unexpected escape {code[0]!r}"
            del self.rows[self.row][self.col :]
            del self.rows[self.row + 1 :]
        elif op == "K":
            if number == "2":
                self.rows[self.row] = []
            else:
                del self.rows[self.row][self.col :]
        else:
            assert op == "m", f"unexpected escape {code[0]!r}"
        return code.end()

    def text(self) -> str:
        return "\n".join("".join(line).rstrip() for line in self.rows).strip("\n")


def screen(raw: str) -> str:
    """Replay terminal output and return the final screen (trailing spaces stripped)."""
    return Screen().feed(raw).text()
