"""What every benchmark shares: timing with warm-up, median/min/max, tables, JSON, and a
sandbox (clean environment, loopback-only config) so no run ever leaves this machine.

Benchmarks are scripts, not timed tests: a 2-core machine running pytest in parallel would
measure the scheduler. Each script prints one table and writes ``bench/results/<name>.json``.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
VENV = ROOT / ".venv" / "bin"
PYTHON = str(VENV / "python")
CLI = str(VENV / "ollama-cli")

# The loopback wire servers live in tests/wire; scripts import them from the repo root.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: Variables that could send a request elsewhere or change what is measured.
SCRUBBED = (
    "OLLAMA_HOST",
    "OLLAMA_API_KEY",
    "OLLAMA_CLI_CONFIG",
    "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "OPENAI_API_KEY",
    "HF_TOKEN",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "PYTHONPROFILEIMPORTTIME",
    # Set in this development environment, not on a user's machine: without bytecode
    # caching every run recompiles the app's own modules (see docs/performance.md).
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONUNBUFFERED",
)
#: Bytecode cache for benchmarked processes, outside the working tree.
PYCACHE = Path(tempfile.gettempdir()) / "ollama-cli-bench-pycache"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Stat:
    """One measured row: milliseconds over ``runs`` runs, and the goal it is held to.

    ``cpu_ms`` (whole-process rows) is the median user+system CPU time of the child: it
    barely moves when other work shares the machine, where wall time does.
    """

    name: str
    median_ms: float
    min_ms: float
    max_ms: float
    runs: int
    goal: str = ""
    ok: bool | None = None
    cpu_ms: float | None = None

    def row(self) -> str:
        verdict = {True: "ok", False: "MISSED", None: ""}[self.ok]
        spread = f"{self.min_ms:.1f}–{self.max_ms:.1f}"
        cpu = "" if self.cpu_ms is None else f"{self.cpu_ms:.0f}"
        return (
            f"{self.name:<48}{self.median_ms:>9.1f}{spread:>15}{cpu:>6}{self.runs:>5}  "
            f"{self.goal:<20}{verdict}"
        ).rstrip()


@dataclass
class Samples:
    """Wall-clock milliseconds, and CPU milliseconds when a child process was timed."""

    wall: list[float]
    cpu: list[float] | None = None


def stat(
    name: str,
    samples: Samples | Sequence[float],
    goal_ms: float | None = None,
    goal: str = "",
) -> Stat:
    """Summarise ``samples`` (ms); ``goal_ms`` is a ceiling on the median."""
    if not isinstance(samples, Samples):
        samples = Samples(list(samples))
    wall = samples.wall
    median = statistics.median(wall)
    ok = None if goal_ms is None else median <= goal_ms
    if goal_ms is not None and not goal:
        goal = f"≤ {goal_ms:.0f} ms"
    cpu = round(statistics.median(samples.cpu), 1) if samples.cpu else None
    return Stat(
        name, round(median, 2), round(min(wall), 2), round(max(wall), 2), len(wall), goal, ok, cpu
    )


async def time_calls(
    calls: Mapping[str, Callable[[], Awaitable[object]]], *, runs: int, warmup: int = 10
) -> dict[str, Samples]:
    """Wall and CPU milliseconds per awaited call, in turns (A B C A B C …) after a warm-up.

    CPU is this process's: the loopback servers run in child processes (bench/_servers.py),
    so it is the client's work alone.
    """
    samples = {name: Samples([], []) for name in calls}
    for number in range(warmup + runs):
        for name, call in calls.items():
            wall, cpu = time.perf_counter(), time.process_time()
            await call()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            if number >= warmup:
                samples[name].wall.append(wall * 1000)
                samples[name].cpu.append(cpu * 1000)  # type: ignore[union-attr]
    return samples


def run_command(
    argv: Sequence[str], env: Mapping[str, str], *, stdin: bytes = b"", expect: int | None = 0
) -> subprocess.CompletedProcess[bytes]:
    """Run once; refuse to time a command that does not do what it should."""
    done = subprocess.run(argv, input=stdin, capture_output=True, env=dict(env), check=False)
    if expect is not None and done.returncode != expect:
        raise SystemExit(
            f"bench: {' '.join(argv)} exited {done.returncode} (want {expect}):\n"
            f"{done.stderr.decode(errors='replace')[-2000:]}"
        )
    return done


@dataclass(frozen=True)
class Command:
    """A command line to time, with its environment and a check of its first output."""

    argv: Sequence[str]
    env: Mapping[str, str]
    expect: int | None = 0
    check: Callable[[bytes], bool] | None = None


def time_commands(
    commands: Mapping[str, Command], *, runs: int, warmup: int = 2
) -> dict[str, Samples]:
    """Whole-process wall time (fork to exit) and CPU time of each command, in ms.

    Commands take turns (A B C A B C …) so a burst of load from elsewhere hits all of them
    alike. stdout goes to a pipe that is drained (as in ``complete … | less``); stdin is
    /dev/null. Each command's first run is checked, not timed.
    """
    for command in commands.values():
        first = run_command(command.argv, command.env, expect=command.expect)
        if command.check is not None and not command.check(first.stdout):
            raise SystemExit(
                f"bench: unexpected output from {' '.join(command.argv)}: {first.stdout[:300]!r}"
            )
    samples = {name: Samples([], []) for name in commands}
    for number in range(warmup + runs):
        for name, command in commands.items():
            wall, cpu = _run_once(command)
            if number >= warmup:
                samples[name].wall.append(wall)
                samples[name].cpu.append(cpu)  # type: ignore[union-attr]
    return samples


def _run_once(command: Command) -> tuple[float, float]:
    started = time.perf_counter()
    child = subprocess.Popen(
        command.argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=dict(command.env),
    )
    assert child.stdout is not None
    while child.stdout.read(65536):
        pass
    _, status, usage = os.wait4(child.pid, 0)
    wall = (time.perf_counter() - started) * 1000
    child.returncode = os.waitstatus_to_exitcode(status)  # reaped here, for its rusage
    child.stdout.close()
    return wall, (usage.ru_utime + usage.ru_stime) * 1000


def sandbox(prefix: str) -> Path:
    """A fresh ``OLLAMA_CLI_HOME`` (config, history, cooldowns) for one benchmark."""
    return Path(tempfile.mkdtemp(prefix=f"ollama-cli-bench-{prefix}-"))


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """This process's environment minus keys, proxies and hosts, with ``home`` as the app's."""
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    env.update(
        OLLAMA_CLI_HOME=str(home),
        NO_COLOR="1",
        NO_PROXY="127.0.0.1,localhost",
        PYTHONPYCACHEPREFIX=str(PYCACHE),
    )
    env.update(extra)
    return env


def write_config(
    home: Path,
    urls: Mapping[str, str],
    chain: Iterable[str],
    *,
    router: Mapping[str, object] | None = None,
    extra: str = "",
) -> Path:
    """A config where only ``urls``' providers are enabled, each on a loopback URL.

    ``urls`` maps a built-in provider name (ollama, claude, gemini, codex, hf) to its base
    URL; every other built-in is disabled, ``local`` included (it would load a model).
    ``router`` adds ``[router]`` keys; ``extra`` is appended (e.g. a ``[providers.X]`` table).
    The result is checked: no enabled provider may point anywhere but loopback.
    """
    lines = ["[router]", f"chain = {json.dumps(list(chain))}"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in (router or {}).items()]
    lines.append("")
    for name in ("ollama", "claude", "gemini", "codex", "hf", "local"):
        lines.append(f"[providers.{name}]")
        if name not in urls:
            lines += ["enabled = false", ""]
            continue
        key = "host" if name == "ollama" else "base_url"
        lines += [f"{key} = {json.dumps(urls[name])}", ""]
    path = home / "config.toml"
    path.write_text("\n".join(lines) + extra)
    assert_loopback_only(path, home)
    return path


def assert_loopback_only(path: Path, home: Path) -> None:
    """Refuse to run if any enabled provider of ``path`` could reach another machine."""
    from ollama_cli.config import load_config

    config = load_config(path, clean_env(home))
    for cfg in config.providers.values():
        if not cfg.enabled or cfg.type == "local":
            continue
        url = str(cfg.options.get("host") or cfg.base_url or "")
        host = urlsplit(url if "://" in url else f"http://{url}").hostname
        if host not in LOOPBACK_HOSTS:
            raise SystemExit(f"bench: refusing to run: {cfg.name} points at {url!r}, not loopback")


def print_table(title: str, stats: Sequence[Stat], notes: Sequence[str] = ()) -> None:
    print(f"\n== {title}")
    if stats:
        print(f"{'measure':<48}{'median ms':>9}{'min–max ms':>15}{'cpu':>6}{'runs':>5}  goal")
    for s in stats:
        print(s.row())
    for note in notes:
        print(f"   {note}")


def write_json(name: str, stats: Sequence[Stat], **extra: object) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    data = {
        "benchmark": name,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
        },
        "measures": [asdict(s) for s in stats],
        **extra,
    }
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return path


def report(
    name: str, title: str, stats: Sequence[Stat], notes: Sequence[str] = (), **extra: object
) -> None:
    print_table(title, stats, notes)
    path = write_json(name, stats, notes=list(notes), **extra)
    print(f"   wrote {path.relative_to(ROOT)}")


def runs(default: int) -> int:
    """``default`` scaled by ``BENCH_SCALE`` (e.g. 0.2 for a quick smoke run), at least 3."""
    scale = float(os.environ.get("BENCH_SCALE", "1"))
    return max(3, round(default * scale))
