"""Per-provider cooldowns, persisted in the state dir so the next process skips a dead
provider without paying for it.

Writes are read-modify-write under an advisory lock and land atomically (temp file +
``os.replace``), so two processes at once never corrupt the file; a corrupt or unreadable
file is treated as empty (cooldowns are an optimisation, never a reason to fail).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any


@dataclass(frozen=True)
class CooldownState:
    failures: int = 0
    until: float = 0.0  # wall-clock epoch seconds
    #: ``ProviderConfig.fingerprint`` when the failures were counted: a digest, never a key
    fingerprint: str = ""


class CooldownStore:
    """Consecutive failures and cooldown deadlines per provider name."""

    def __init__(self, path: Path | None, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.clock = clock
        self._states: dict[str, CooldownState] = self._read()

    def remaining(self, name: str, fingerprint: str = "") -> float:
        """Seconds of cooldown left for ``name`` (0 when it may be tried).

        A cooldown counted under another ``fingerprint`` (the provider's address, key or
        model changed since) is over: a cooldown never outlives the fix.
        """
        state = self._current(self._states, name, fingerprint)
        return max(0.0, state.until - self.clock()) if state else 0.0

    def failures(self, name: str, fingerprint: str = "") -> int:
        state = self._current(self._states, name, fingerprint)
        return state.failures if state else 0

    @staticmethod
    def _current(
        states: dict[str, CooldownState], name: str, fingerprint: str
    ) -> CooldownState | None:
        state = states.get(name)
        if state is None or (fingerprint and state.fingerprint not in ("", fingerprint)):
            return None
        return state

    def record_failure(
        self,
        name: str,
        *,
        threshold: int,
        seconds: float,
        retry_after: float | None,
        fingerprint: str = "",
    ) -> None:
        """Count a failure; start a cooldown at ``threshold`` failures or on a long Retry-After."""

        def change(states: dict[str, CooldownState]) -> None:
            old = self._current(states, name, fingerprint) or CooldownState()
            failures = old.failures + 1
            until = old.until
            if retry_after is not None:
                until = max(until, self.clock() + retry_after)
            elif threshold and failures >= threshold:
                until = max(until, self.clock() + seconds)
            states[name] = CooldownState(failures, until, fingerprint)

        self._update(change)

    def reset(self, name: str | None = None) -> list[str]:
        """Forget ``name``'s failures (every provider's when None); returns who had any."""
        cleared = [n for n in self._states if name in (None, n)]
        if cleared:
            self._update(lambda states: [states.pop(n, None) for n in cleared])
        return cleared

    def record_success(self, name: str) -> None:
        if name not in self._states:
            return
        self._update(lambda states: states.pop(name, None))

    def _update(self, change: Callable[[dict[str, CooldownState]], object]) -> None:
        if self.path is None:
            change(self._states)
            return
        with self._locked():
            states = self._read()
            change(states)
            self._states = states
            self._write(states)

    def _read(self) -> dict[str, CooldownState]:
        if self.path is None:
            return {}
        try:
            raw: Any = json.loads(self.path.read_text(encoding="utf-8"))
            return {
                str(k): CooldownState(
                    int(v["failures"]), float(v["until"]), str(v.get("fingerprint", ""))
                )
                for k, v in raw.items()
            }
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return {}

    def _write(self, states: dict[str, CooldownState]) -> None:
        assert self.path is not None
        now = self.clock()
        data = {
            k: {"failures": s.failures, "until": s.until, "fingerprint": s.fingerprint}
            for k, s in states.items()
            if s.failures or s.until > now
        }
        tmp = None
        try:
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".cooldowns.", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh)
            os.replace(tmp, self.path)
        except OSError:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        assert self.path is not None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock = open(self.path.with_suffix(".lock"), "a+")  # noqa: SIM115
        except OSError:
            yield
            return
        try:
            _hold(lock)
            yield
        finally:
            lock.close()  # releases the lock


def _hold(lock: IO[str]) -> None:
    """Wait for the exclusive lock on ``lock``'s file: ``flock`` on POSIX, ``msvcrt``'s byte
    lock on Windows. A file system that cannot lock (or a lock still held after msvcrt's
    ten one-second tries) means no lock: cooldowns are an optimisation, never a failure."""
    try:
        if sys.platform == "win32":
            import msvcrt

            lock.seek(0)
            msvcrt.locking(lock.fileno(), msvcrt.LK_LOCK, 1)
        else:
            import fcntl

            fcntl.flock(lock, fcntl.LOCK_EX)
    except OSError:
        pass
