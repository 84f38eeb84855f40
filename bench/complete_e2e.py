"""One-shot ``ollama-cli complete`` of a 200-token streamed answer, whole process.

For each wire protocol with a loopback server in tests/wire (Ollama, Anthropic, Gemini,
OpenAI Responses), the provider's base URL points at that server (in a child process) and
its key is a dummy variable; nothing leaves the machine. Next to each: the floor, a bare
httpx script doing the same streamed request (bench/_floor.py), and a stdlib-only one.

Goal (issue "Performance"): ``complete`` ≤ 250 ms median, output to a pipe.
Context rows for Ollama: history off, no bytecode cache, httpx kept from importing its CLI,
and output to a terminal (a pty: the markdown renderer's path).

Run: .venv/bin/python bench/complete_e2e.py   (writes bench/results/complete_e2e.json)
"""

from __future__ import annotations

import os
import pty
import subprocess
import time
from collections.abc import Mapping, Sequence

from _harness import (
    BENCH,
    CLI,
    PYTHON,
    ROOT,
    Command,
    Samples,
    Stat,
    clean_env,
    report,
    runs,
    sandbox,
    stat,
    time_commands,
    write_config,
)
from _servers import TOKEN_COUNT, served

GOAL_MS = 250.0
FLOOR = str(BENCH / "_floor.py")
#: protocol → (provider name, key variable, path suffix of the base URL)
PROVIDERS = {
    "ollama": ("ollama", None, ""),
    "anthropic": ("claude", "ANTHROPIC_API_KEY", ""),
    "gemini": ("gemini", "GEMINI_API_KEY", ""),
    "openai": ("codex", "OPENAI_API_KEY", "/v1"),
}


def answered(out: bytes) -> bool:
    return len(out.split()) == TOKEN_COUNT


def protocol_rows(protocol: str, url: str, count: int) -> list[Stat]:
    name, key_env, suffix = PROVIDERS[protocol]
    home = sandbox(f"complete-{protocol}")
    write_config(home, {name: url + suffix}, [name])
    env = clean_env(home, **({key_env: "bench-dummy-key"} if key_env else {}))
    cli = [CLI, "complete", "say something"]
    commands = {
        f"{protocol}: ollama-cli complete": Command(cli, env, check=answered),
        f"{protocol}: floor, bare httpx": Command(
            [PYTHON, FLOOR, "httpx", protocol, url], env, check=answered
        ),
        f"{protocol}: floor, stdlib only": Command(
            [PYTHON, FLOOR, "stdlib", protocol, url], env, check=answered
        ),
    }
    if protocol == "ollama":
        commands |= {
            "ollama: complete --no-history": Command([*cli, "--no-history"], env, check=answered),
            "ollama: complete, no bytecode cache": Command(
                cli, {**env, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": ""}
            ),
            "ollama: floor, httpx without httpx._main": Command(
                [PYTHON, FLOOR, "httpx-nocli", protocol, url], env, check=answered
            ),
            "ollama: floor, async httpx without httpx._main": Command(
                [PYTHON, FLOOR, "httpx-async-nocli", protocol, url], env, check=answered
            ),
        }
    samples = time_commands(commands, runs=count, warmup=1)
    if protocol == "ollama":
        samples["ollama: complete to a terminal (pty)"] = time_on_tty(cli, env, count)
    return [
        stat(label, sample, GOAL_MS if label.endswith("ollama-cli complete") else None)
        for label, sample in samples.items()
    ]


def time_on_tty(argv: Sequence[str], env: Mapping[str, str], count: int) -> Samples:
    """Like time_commands, with stdout and stderr on a pseudo-terminal (rendered output)."""
    tty_env = {k: v for k, v in env.items() if k != "NO_COLOR"} | {"TERM": "xterm-256color"}
    samples = Samples([], [])
    for number in range(count + 2):
        master, slave = pty.openpty()
        started = time.perf_counter()
        child = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=tty_env
        )
        os.close(slave)
        output = b""
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            output += data
        _, status, usage = os.wait4(child.pid, 0)
        wall = (time.perf_counter() - started) * 1000
        child.returncode = os.waitstatus_to_exitcode(status)
        os.close(master)
        if child.returncode != 0 or b"router" not in output:
            raise SystemExit(f"bench: complete on a terminal failed: {output[-500:]!r}")
        if number >= 2:
            samples.wall.append(wall)
            samples.cpu.append((usage.ru_utime + usage.ru_stime) * 1000)  # type: ignore[union-attr]
    return samples


def main() -> None:
    count = runs(8)
    stats: list[Stat] = []
    skipped: list[str] = []
    for protocol in PROVIDERS:
        if not (ROOT / "tests" / "wire" / f"{protocol}.py").exists():
            skipped.append(f"{protocol}: no tests/wire/{protocol}.py yet, skipped")
            continue
        with served(protocol) as url:
            stats += protocol_rows(protocol, url, count)
    report(
        "complete_e2e",
        f"one-shot complete, {TOKEN_COUNT}-token streamed answer from loopback (whole process)",
        stats,
        notes=[
            "output to a pipe unless noted; cpu = user+system ms of the process",
            *skipped,
        ],
        goal_ms=GOAL_MS,
    )


if __name__ == "__main__":
    main()
