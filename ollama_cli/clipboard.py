"""Putting text on the clipboard for ``/copy``: OSC 52 through the terminal, or the
platform's clipboard command.

OSC 52 (``ESC ] 52 ; c ; <base64> BEL``) asks the terminal itself to set the clipboard, so it
works over SSH and inside tmux (wrapped for its passthrough); it is sent when the output is
a terminal that is not ``dumb``. Terminals cannot say whether they honoured it (GNOME
Terminal ignores it silently), so on a local machine the platform command (``pbcopy``,
``wl-copy``, ``xclip``, ``xsel``, ``clip.exe``) runs too when one is installed. When neither
is possible the caller gets a ``ClipboardError`` saying why.

``osc52`` here is the one place ollama-cli writes an escape sequence of its own to the
terminal on purpose; everything from outside is neutralised by ``render.safe.visible``.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from typing import TextIO

#: Terminals drop longer OSC 52 payloads (xterm's default limit is about 100 kB of base64).
OSC52_MAX_BYTES = 74_994
#: (command, its arguments, when it applies) in the order they are tried.
COMMANDS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("pbcopy", (), "darwin"),
    ("wl-copy", (), "WAYLAND_DISPLAY"),
    ("xclip", ("-selection", "clipboard"), "DISPLAY"),
    ("xsel", ("--clipboard", "--input"), "DISPLAY"),
    ("clip.exe", (), "any"),
)


class ClipboardError(Exception):
    """Neither OSC 52 nor a clipboard command could take the text (one line, why)."""


def copy(text: str, out: TextIO, environ: Mapping[str, str]) -> list[str]:
    """Put ``text`` on the clipboard; returns how (``["OSC 52", "wl-copy"]``)."""
    used: list[str] = []
    if osc52_allowed(out, environ, text):
        out.write(osc52(text, environ))
        out.flush()
        used.append("OSC 52")
    remote = bool(environ.get("SSH_CONNECTION") or environ.get("SSH_TTY"))
    command = None if remote and used else clipboard_command(environ)
    if command is not None:
        try:
            subprocess.run(command, input=text.encode(), check=True, timeout=5, env=dict(environ))
            used.append(os.path.basename(command[0]))
        except (OSError, subprocess.SubprocessError) as exc:
            if not used:
                raise ClipboardError(f"{command[0]} failed ({exc})") from None
    if not used:
        raise ClipboardError(
            "cannot copy: the output is not a terminal that takes OSC 52, and no clipboard "
            "command (pbcopy, wl-copy, xclip, xsel) was found"
        )
    return used


def osc52_allowed(out: TextIO, environ: Mapping[str, str], text: str) -> bool:
    term = environ.get("TERM", "")
    if not term or term == "dumb" or not _isatty(out):
        return False
    return len(base64.b64encode(text.encode())) <= OSC52_MAX_BYTES


def osc52(text: str, environ: Mapping[str, str]) -> str:
    """The OSC 52 sequence setting the clipboard to ``text`` (wrapped for tmux/screen)."""
    payload = base64.b64encode(text.encode()).decode("ascii")
    sequence = f"\x1b]52;c;{payload}\x07"
    if environ.get("TMUX"):
        return f"\x1bPtmux;{sequence.replace(chr(27), chr(27) * 2)}\x1b\\"
    if environ.get("TERM", "").startswith("screen"):
        return f"\x1bP{sequence}\x1b\\"
    return sequence


def clipboard_command(environ: Mapping[str, str]) -> list[str] | None:
    path = environ.get("PATH")
    for name, args, when in COMMANDS:
        applies = (
            when == "any"
            or (when == "darwin" and sys.platform == "darwin")
            or bool(environ.get(when))
        )
        found = shutil.which(name, path=path) if applies else None
        if found:
            return [found, *args]
    return None


def _isatty(out: TextIO) -> bool:
    try:
        return out.isatty()
    except (AttributeError, ValueError):
        return False


_OPENER = re.compile(r"^( {0,3})(`{3,}|~{3,})(.*)$")


def code_blocks(markdown: str) -> list[str]:
    """The fenced code blocks of ``markdown``, in order, without their fences (an unclosed
    fence runs to the end, as CommonMark has it)."""
    blocks: list[str] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        opener = _OPENER.match(lines[i])
        i += 1
        if opener is None or (opener[2][0] == "`" and "`" in opener[3]):
            continue
        indent, fence = len(opener[1]), opener[2]
        body: list[str] = []
        while i < len(lines):
            line = lines[i]
            i += 1
            stripped = line.strip()
            if stripped.startswith(fence[0] * len(fence)) and not stripped.strip(fence[0]):
                break
            body.append(line[min(indent, len(line) - len(line.lstrip(" "))) :])
        blocks.append("\n".join(body) + "\n" if body else "")
    return blocks
