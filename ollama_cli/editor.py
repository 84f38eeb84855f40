"""Composing text in the user's editor: ``complete --edit`` and ``roles edit``.

The editor is ``$VISUAL``, else ``$EDITOR`` (both may carry arguments: ``code -w``), else the
first of ``editor``, ``nano``, ``vi`` on the PATH — the order prompt-toolkit uses for the
REPL's ``/edit`` and Ctrl-X Ctrl-E, so all three open the same editor. An editor that exits
with an error, or a file left as it was (closed without saving), yields None: nothing is
sent, nothing is stored.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

FALLBACKS = ("editor", "nano", "vi")


class EditorError(Exception):
    """No editor could be started (one line naming what was tried)."""


def editor_command(environ: Mapping[str, str]) -> list[str]:
    for var in ("VISUAL", "EDITOR"):
        value = environ.get(var, "").strip()
        if value:
            return shlex.split(value)
    for name in FALLBACKS:
        found = shutil.which(name, path=environ.get("PATH"))
        if found:
            return [found]
    raise EditorError("no editor found: set VISUAL or EDITOR (e.g. export EDITOR=nano)")


def edit_file(path: Path, environ: Mapping[str, str]) -> bool:
    """Open ``path`` in the editor; True when the editor saved a change to it."""
    before = _snapshot(path)
    command = editor_command(environ)
    with _terminal() as tty:
        try:
            status = subprocess.call(
                [*command, str(path)], env=dict(environ), stdin=tty, stdout=tty
            )
        except OSError as exc:
            reason = exc.strerror or exc
            raise EditorError(f"cannot start editor {command[0]!r} ({reason})") from None
    return status == 0 and _snapshot(path) != before


@contextlib.contextmanager
def _terminal() -> Iterator[IO[Any] | None]:
    """The terminal for the editor when stdin or stdout is a pipe (``git diff | complete
    --edit``); None (inherit) when both are the terminal or there is none to open."""
    if sys.stdin is not None and sys.stdin.isatty() and sys.stdout.isatty():
        yield None
        return
    try:
        tty = open("/dev/tty", "r+b", buffering=0)  # noqa: SIM115 - closed below
    except OSError:
        yield None
        return
    with tty:
        yield tty


def edit_text(initial: str, environ: Mapping[str, str], suffix: str = ".md") -> str | None:
    """``initial`` edited in a temporary file; None when the editor saved nothing."""
    fd, name = tempfile.mkstemp(prefix="ollama-cli-", suffix=suffix)
    path = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(initial)
        if not edit_file(path, environ):
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    finally:
        path.unlink(missing_ok=True)


def _snapshot(path: Path) -> tuple[int, int, bytes] | None:
    try:
        stat = path.stat()
        return stat.st_mtime_ns, stat.st_size, path.read_bytes()
    except OSError:
        return None
