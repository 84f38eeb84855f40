"""Reliability and security tests: every fault of every wire protocol, canary keys, bad
input, fuzzing and signals (the fault servers are in ``tests.faults.servers``).

What the test modules share lives here: running the real CLI and REPL as a user would,
with a canary key in every provider's variable, and finding a canary in whatever a run
left behind (output, history database, state files).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pexpect

from tests import HANG_S
from tests.conftest import subprocess_env
from tests.faults.servers import Wire

ROOT = Path(__file__).parents[2]
PROMPT = ">>>"

#: A distinct canary key per provider: a leak names the provider it came through.
CANARIES = {
    "OLLAMA_API_KEY": "cnry-OLL-5c1e9a7d3b2f48e6a0d4c8b1f7e3a9d2",
    "ANTHROPIC_API_KEY": "cnry-ANT-8e2b6f0a4c9d47e1b3a5f7c2d9e0b4a6",
    "GEMINI_API_KEY": "cnry-GEM-3d7a1c5e9b0f42d8a6c4e2b8f1a7d3c5",
    "OPENAI_API_KEY": "cnry-OAI-9f4c2e8a6d1b47f3c5a9e7d0b2f4c8a1",
    "HF_TOKEN": "cnry-HFT-1b5d9f3a7c2e48b6d0f4a8c6e2b9d5f7",
}


def leaks(data: str | bytes) -> list[str]:
    """The canaries of which any 12-character run appears in ``data`` (a cut key leaks too)."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    found = []
    for env, key in CANARIES.items():
        secret = key[9:]  # the random part: 32 hex digits
        if any(secret[i : i + 12] in text for i in range(len(secret) - 11)):
            found.append(env)
    return found


def toml_config(
    chain: Sequence[str], providers: Mapping[str, Mapping[str, Any]], **router: Any
) -> str:
    """A config file: ``[router]`` with ``chain`` and ``router``, one table per provider."""
    lines = ["[router]", f"chain = {json.dumps(list(chain))}"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in router.items()]
    for name, table in providers.items():
        lines.append(f"[providers.{json.dumps(name)}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def victim_table(wire: Wire, url: str, timeout: float) -> dict[str, Any]:
    """The faulty provider's config: pointed at ``url`` with short timeouts."""
    return {**wire.config(url), "timeout": timeout, "connect_timeout": 1.0}


def backup_table(url: str) -> dict[str, Any]:
    """A healthy second provider (an Ollama-type server) to fall over to."""
    return {"type": "ollama", "host": url, "default_model": "llama3.2"}


def canary_env(home: Path, **extra: str) -> dict[str, str]:
    """A subprocess environment with OLLAMA_CLI_HOME = ``home`` and every key a canary."""
    return subprocess_env(home, **CANARIES, **extra)


def start_cli(home: Path, *args: str, stdin: bytes = b"", **env: str) -> subprocess.Popen[bytes]:
    """``ollama-cli ARGS`` in a subprocess; ``finish`` feeds it ``stdin`` and waits."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "ollama_cli", *args],
        stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=canary_env(home, **env),
        cwd=ROOT,
    )
    proc.started, proc.feed = time.perf_counter(), stdin  # type: ignore[attr-defined]
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
        out, err = proc.communicate(proc.feed or None, timeout=remaining)  # type: ignore[attr-defined]
        code: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        code = None
    return Run(code, out, err, time.perf_counter() - started)


def run_cli(home: Path, *args: str, budget: float = HANG_S, stdin: bytes = b"", **env: str) -> Run:
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
        timeout=HANG_S,
        maxread=65536,
        searchwindowsize=8192,
    )


@dataclass
class ReplTurn:
    """One REPL turn: what the terminal showed, whether the prompt came back, the exit."""

    output: str
    ended: bool  # False: the prompt never came back
    exit_status: int | None


def repl_turn(home: Path, prompt: str, *args: str) -> ReplTurn:
    """Start ``chat -v``, ask ``prompt``, wait for the turn's last line and the prompt,
    then leave with Ctrl-D. ``-v`` ends every turn with its trace, so success is visible."""
    child = spawn_chat(home, "-v", *args)
    child.logfile_read = log = io.StringIO()
    ended = False
    try:
        child.expect(PROMPT)
        child.sendline(prompt)
        child.expect([r"no provider could answer", r": ok \[\d+ ms\]"])
        child.expect(PROMPT)
        ended = True
        child.sendeof()
        child.expect(pexpect.EOF)
    except (pexpect.TIMEOUT, pexpect.EOF):
        pass
    finally:
        child.close(force=True)
    return ReplTurn(log.getvalue(), ended, child.exitstatus)
