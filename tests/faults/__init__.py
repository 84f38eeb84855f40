"""Reliability and security tests: every fault of every wire protocol, canary keys, bad
input, fuzzing and signals (the fault servers are in ``tests.faults.servers``).

What the test modules share lives here: running the real CLI and REPL as a user would,
with a canary key in every provider's variable, and finding a canary in whatever a run
left behind (output, history database, state files).
"""

from __future__ import annotations

import io
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pexpect  # type: ignore[import-untyped]

from tests.conftest import subprocess_env
from tests.faults.servers import CANARIES, leaks

ROOT = Path(__file__).parents[2]
PROMPT = ">>>"


def canary_env(home: Path, **extra: str) -> dict[str, str]:
    """A subprocess environment with OLLAMA_CLI_HOME = ``home`` and every key a canary."""
    return subprocess_env(home, **CANARIES, **extra)


def start_cli(home: Path, *args: str, stdin: bytes = b"", **env: str) -> subprocess.Popen[bytes]:
    """``ollama-cli ARGS`` in a subprocess, stdin written and closed at once."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "ollama_cli", *args],
        stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=canary_env(home, **env),
        cwd=ROOT,
    )
    proc.started = time.perf_counter()  # type: ignore[attr-defined]
    if stdin:
        proc.stdin.write(stdin)  # type: ignore[union-attr]
        proc.stdin.close()  # type: ignore[union-attr]
    return proc


@dataclass
class Run:
    """How a CLI run ended. ``code`` is None when it had to be killed (it hung)."""

    code: int | None
    stdout: bytes
    stderr: bytes
    elapsed: float

    @property
    def err_lines(self) -> list[str]:
        text = self.stderr.decode("utf-8", "replace")
        return [line for line in text.splitlines() if line.strip()]


def finish(proc: subprocess.Popen[bytes], budget: float) -> Run:
    """Wait up to ``budget`` seconds from the start; kill a process that takes longer."""
    started: float = proc.started  # type: ignore[attr-defined]
    remaining = max(0.1, budget - (time.perf_counter() - started))
    try:
        out, err = proc.communicate(timeout=remaining)
        code: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        code = None
    return Run(code, out, err, time.perf_counter() - started)


def run_cli(home: Path, *args: str, budget: float = 30, stdin: bytes = b"", **env: str) -> Run:
    return finish(start_cli(home, *args, stdin=stdin, **env), budget)


def home_leaks(home: Path) -> dict[str, list[str]]:
    """Canaries found in any file under ``home``: history database (and its WAL), state."""
    found = {}
    for path in sorted(p for p in home.rglob("*") if p.is_file()):
        if path.name == "config.toml":
            continue  # the user's own file may hold a key; nothing we wrote
        hits = leaks(path.read_bytes())
        if hits:
            found[str(path.relative_to(home))] = hits
    return found


def spawn_chat(home: Path, *args: str, **env: str) -> pexpect.spawn:
    """``ollama-cli ARGS chat`` on a 100×30 pseudo-terminal that never asks for the cursor.

    The search window keeps ``expect`` linear when an answer is megabytes long.
    """
    return pexpect.spawn(
        sys.executable,
        ["-m", "ollama_cli", *args, "chat"],
        env=canary_env(home, TERM="xterm-256color", PROMPT_TOOLKIT_NO_CPR="1", **env),
        cwd=str(ROOT),
        dimensions=(30, 100),
        encoding="utf-8",
        codec_errors="replace",
        timeout=15,
        maxread=65536,
        searchwindowsize=8192,
    )


@dataclass
class ReplTurn:
    """One REPL turn: what the terminal showed, whether the prompt came back, the exit."""

    output: str
    turn_seconds: float | None  # None: the prompt never came back
    exit_status: int | None


def repl_turn(home: Path, prompt: str, budget: float, *args: str) -> ReplTurn:
    """Start ``chat -v``, ask ``prompt``, wait for the turn's last line and the prompt,
    then leave with Ctrl-D. ``-v`` ends every turn with its trace, so success is visible."""
    child = spawn_chat(home, "-v", *args)
    child.logfile_read = log = io.StringIO()
    seconds = None
    try:
        child.expect(PROMPT)
        child.sendline(prompt)
        sent = time.perf_counter()
        child.expect([r"no provider could answer", r": ok \[\d+ ms\]"], timeout=budget)
        child.expect(PROMPT, timeout=5)
        seconds = time.perf_counter() - sent
        child.sendeof()
        child.expect(pexpect.EOF, timeout=5)
    except (pexpect.TIMEOUT, pexpect.EOF):
        pass
    finally:
        child.close(force=True)
    return ReplTurn(log.getvalue(), seconds, child.exitstatus)
