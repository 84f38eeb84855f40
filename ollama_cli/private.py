"""Files that hold the user's conversations, keys or habits: 0600 in 0700 folders.

Whatever the umask, everything ollama-cli writes under its data and state dirs (the
history database and its WAL/SHM files, cooldowns, the catalog cache, the recovery
journal, crash reports, exports) is created through here. SQLite gives the ``-wal`` and
``-shm`` files the mode of the database file, so creating that file 0600 first is enough.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path, *, tighten: bool = False) -> Path:
    """Create ``path`` (and missing parents) 0700.

    An existing folder is left as it is unless ``tighten`` (ollama-cli's own data and
    state dirs, which an older version may have created 0755).
    """
    if tighten and path.is_dir() and path.stat().st_mode & 0o077:
        with contextlib.suppress(OSError):
            os.chmod(path, DIR_MODE)
    missing = []
    probe = path
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=DIR_MODE)
        os.chmod(folder, DIR_MODE)  # mkdir's mode is masked by the umask
    return path


def touch_private(path: Path) -> None:
    """Create ``path`` empty and 0600 if it does not exist (an existing file is left alone)."""
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    os.fchmod(fd, FILE_MODE)
    os.close(fd)


def open_private(path: Path, flags: int = os.O_WRONLY | os.O_CREAT | os.O_APPEND) -> int:
    """``os.open`` a file 0600 (created so if absent); returns the descriptor."""
    private_dir(path.parent)
    fd = os.open(path, flags, FILE_MODE)
    with contextlib.suppress(OSError):
        os.fchmod(fd, FILE_MODE)
    return fd


def write_private(path: Path, data: str | bytes) -> None:
    """Replace ``path`` atomically (temp file + ``os.replace``) with a 0600 file.

    Raises:
        OSError: the folder cannot be created or the disk is full; ``path`` is unchanged.
    """
    private_dir(path.parent)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), FILE_MODE)
            fh.write(raw)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_export(path: Path, text: str) -> None:
    """Write an export to the user's chosen ``path``: created 0600 (an existing file keeps
    its mode: it is the user's), never through a temp file beside it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
