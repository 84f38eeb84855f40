"""The files of an attached directory: walked recursively, honouring ``.gitignore``.

``.gitignore`` files count from the repository root (the nearest ancestor holding
``.git``) down to each directory, as git reads them. Hidden files and directories
(``.git``, ``.venv``, ``.env``) are never included. Symlinks are not followed, so a link
loop cannot hang the walk.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec


@dataclass(frozen=True)
class Ignores:
    """The ``.gitignore`` rules in force in one directory: (base directory, rules) pairs."""

    rules: tuple[tuple[Path, GitIgnoreSpec], ...] = ()

    def ignored(self, path: Path, is_dir: bool) -> bool:
        """As git decides: the deepest ``.gitignore`` with a matching pattern (``!x`` too)."""
        for base, spec in reversed(self.rules):
            relative = path.relative_to(base).as_posix() + ("/" if is_dir else "")
            decision = spec.check_file(relative).include
            if decision is not None:
                return decision
        return False

    def entering(self, directory: Path) -> Ignores:
        """The rules for ``directory``: these, plus its own ``.gitignore`` if it has one."""
        spec = read_gitignore(directory / ".gitignore")
        return Ignores((*self.rules, (directory, spec))) if spec is not None else self


def read_gitignore(path: Path) -> GitIgnoreSpec | None:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    from pathspec import GitIgnoreSpec

    return GitIgnoreSpec.from_lines(lines)


def inherited(root: Path) -> Ignores:
    """The rules of ``root``'s ancestors up to the repository root (none outside a repo)."""
    chain = []
    for parent in root.parents:
        chain.append(parent)
        if (parent / ".git").exists():
            break
    else:
        return Ignores()
    ignores = Ignores()
    for directory in reversed(chain):
        ignores = ignores.entering(directory)
    return ignores


@dataclass
class Walk:
    """Files under a directory in a stable order, and how many were left out as ignored."""

    root: Path
    ignored: int = 0

    def files(self) -> Iterator[Path]:
        yield from self._walk(self.root, inherited(self.root).entering(self.root))

    def _walk(self, directory: Path, ignores: Ignores) -> Iterator[Path]:
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            path = Path(entry.path)
            is_dir = entry.is_dir(follow_symlinks=False)
            if entry.name.startswith("."):  # .git, .venv, .env: hidden files stay out
                continue
            if ignores.ignored(path, is_dir):
                self.ignored += 1
                continue
            if is_dir:
                yield from self._walk(path, ignores.entering(path))
            elif entry.is_file(follow_symlinks=False):
                yield path
