"""Bugs are not outages: an unexpected exception is exit 70 (EX_SOFTWARE) with one line
naming the error and a crash report, and a stdout that went away ends quietly.

Exit 1 keeps its one meaning, "no provider could answer". The crash report (0600, in the
state dir) holds the traceback the user did not see, redacted like everything else that
leaves the process; ``-v`` prints the traceback instead of hiding it.
"""

from __future__ import annotations

import errno
import os
import platform
import sys
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ollama_cli.app import App

EXIT_SOFTWARE = 70
#: Errors that mean "whoever reads stdout is gone", not "ollama-cli is broken".
STDOUT_GONE = (errno.EPIPE, errno.EBADF, errno.ENOSPC, errno.EIO, errno.EDQUOT)


def ensure_std_streams() -> None:
    """A process started with stdout or stderr closed (``>&-``) gets /dev/null there, so
    printing is a no-op instead of an ``AttributeError`` on ``None``."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115


def stdout_failed(exc: BaseException) -> bool:
    """Whether ``exc`` is stdout failing (broken pipe, full disk, closed descriptor).

    Every file ollama-cli writes itself turns these errors into notices (history, state,
    crash reports), so one that reaches the top came from writing the answer.
    """
    return isinstance(exc, OSError) and exc.filename is None and exc.errno in STDOUT_GONE


def end_quietly(app: App, exc: BaseException) -> int:
    """The reader left (``| head``) or stdout is full: no traceback, every stream closed.

    A closed pipe is not an error (exit 0, nothing said); a full disk is one line, exit 1.
    """
    _silence_stdout()
    if isinstance(exc, OSError) and exc.errno not in (errno.EPIPE, errno.EBADF):
        app.error(f"cannot write to stdout ({os.strerror(exc.errno or errno.EIO)})")
        return 1
    return 0


def _silence_stdout() -> None:
    """Point fd 1 at /dev/null so the interpreter's last flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    except OSError:
        pass
    sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115


def internal_error(app: App, exc: BaseException, *, verbose: bool) -> int:
    """One line naming the bug and its crash report (the traceback too with ``-v``)."""
    if stdout_failed(exc):
        return end_quietly(app, exc)
    report = write_report(app, exc)
    if verbose:
        traceback.print_exception(exc, file=sys.stderr)
    where = f"; crash report: {report}" if report else ""
    hint = "" if verbose else " (run with -v for the traceback)"
    app.error(f"internal error: {type(exc).__name__}: {exc}{where}{hint}")
    return EXIT_SOFTWARE


def write_report(app: App, exc: BaseException) -> Path | None:
    """Write the crash report (redacted, 0600) under the state dir; None if that failed."""
    from ollama_cli import __version__
    from ollama_cli.private import write_private

    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    path = app.paths.state_dir / "crashes" / f"crash-{stamp}-{os.getpid()}.txt"
    text = "\n".join(
        [
            f"ollama-cli {__version__}, Python {platform.python_version()}, {platform.platform()}",
            f"command: {' '.join(sys.argv[1:2])}",
            "",
            "".join(traceback.format_exception(exc)),
        ]
    )
    try:
        write_private(path, app.redact(text))
    except OSError:
        return None
    return path
