"""Make text from outside harmless on a terminal: control characters shown, never executed.

A model answer, a server's error body, a model name or a stored message can carry escape
sequences: OSC 52 writes the clipboard, OSC 0/2 set the window title, ``CSI 6n`` makes the
terminal type a reply into the input, cursor movement and screen clears rewrite what the user
sees. On a terminal every such character is replaced by a visible stand-in (ESC by ``␛``,
the 8-bit CSI by ``␛[``), so ``\\x1b]52;c;…\\x07`` reads ``␛]52;c;…␇`` and does nothing.

The mapping is per character, so it is the same however a stream is chunked: an escape
sequence split across two chunks is neutralised in both halves. Newlines and tabs are text.
A carriage return is kept only before a newline; alone it moves the cursor back over what
was shown (``rm -rf ~\\rls``), so it is shown as ``␍``. Pipes, files and ``--json`` never
come through here: they get the exact bytes.
"""

from __future__ import annotations

import re

__all__ = ["VisibleStream", "visible"]


def _table() -> dict[int, str]:
    table = {code: chr(0x2400 + code) for code in range(0x20) if chr(code) not in "\n\t\r"}
    table[0x7F] = "\u2421"  # ␡
    # C1 controls (8-bit CSI, OSC, DCS…): shown as their 7-bit spelling, ESC + a letter.
    table.update({code: "\u241b" + chr(code - 0x40) for code in range(0x80, 0xA0)})
    return table


_VISIBLE = _table()
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|\r(?!\n)")
_LONE_CR = re.compile(r"\r(?!\n)")


def visible(text: str) -> str:
    """``text`` with every control character (but newline, tab, CR-LF) shown, not executed."""
    if _CONTROL.search(text) is None:
        return text
    return _LONE_CR.sub("\u240d", text).translate(_VISIBLE)


class VisibleStream:
    """`visible` for text that arrives in chunks: a CR ending a chunk waits for the next one,
    since it may be the first half of a CR-LF."""

    def __init__(self) -> None:
        self._held = False

    def feed(self, text: str) -> str:
        if self._held:
            text = "\r" + text
        self._held = text.endswith("\r")
        return visible(text[:-1] if self._held else text)

    def end(self) -> str:
        """What is still held back, once the text has ended."""
        held, self._held = self._held, False
        return visible("\r") if held else ""
