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
)
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Stat:
    """One measured row: milliseconds over ``runs`` runs, and the goal it is held to."""

    name: str
    median_ms: float
    min_ms: float
    max_ms: float
    runs: int
    goal: str = ""
    ok: bool | None = None

    def row(self) -> str:
        verdict = {True: "ok", False: "MISSED", None: ""}[self.ok]
        spread = f"{self.min_ms:.1f}–{self.max_ms:.1f}"
        return (
            f"{self.name:<46}{self.median_ms:>9.1f}{spread:>16}{self.runs:>6}  "
            f"{self.goal:<22}{verdict}"
        ).rstrip()


def stat(name: str, samples: Sequence[float], goal_ms: float | None = None, goal: str = "") -> Stat:
    """Summarise ``samples`` (ms); ``goal_ms`` is a ceiling on the median."""
    median = statistics.median(samples)
    ok = None if goal_ms is None else median <= goal_ms
    if goal_ms is not None and not goal:
        goal = f"≤ {goal_ms:.0f} ms"
    return Stat(name, round(median, 2), round(min(samples), 2), round(max(samples), 2),
                len(samples), goal, ok)  # fmt: skip


def timed(fn: Callable[[], object], *, runs: int, warmup: int = 2) -> list[float]:
    """Milliseconds per call of ``fn`` after ``warmup`` unrecorded calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def timed_async(
    fn: Callable[[], Awaitable[object]], *, runs: int, warmup: int = 5
) -> list[float]:
    for _ in range(warmup):
        await fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - started) * 1000)
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


def time_command(
    argv: Sequence[str],
    env: Mapping[str, str],
    *,
    runs: int,
    warmup: int = 2,
    expect: int | None = 0,
    check: Callable[[bytes], bool] | None = None,
) -> list[float]:
    """Whole-process wall time (fork to exit) of ``argv``, in ms.

    stdout goes to a pipe (as in ``complete … | less``); stdin is /dev/null, so commands
    that read a non-TTY stdin read nothing. The first run is checked, not timed.
    """
    first = run_command(argv, env, expect=expect)
    if check is not None and not check(first.stdout):
        raise SystemExit(f"bench: unexpected output from {' '.join(argv)}: {first.stdout[:300]!r}")

    def once() -> None:
        subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, env=dict(env), check=False)  # fmt: skip

    return timed(once, runs=runs, warmup=warmup)


def sandbox(prefix: str) -> Path:
    """A fresh ``OLLAMA_CLI_HOME`` (config, history, cooldowns) for one benchmark."""
    return Path(tempfile.mkdtemp(prefix=f"ollama-cli-bench-{prefix}-"))


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """This process's environment minus keys, proxies and hosts, with ``home`` as the app's."""
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    env.update(OLLAMA_CLI_HOME=str(home), NO_COLOR="1", NO_PROXY="127.0.0.1,localhost")
    env.update(extra)
    return env


def write_config(home: Path, urls: Mapping[str, str], chain: Iterable[str], extra: str = "") -> Path:
    """A config where only ``urls``' providers are enabled, each on a loopback URL.

    ``urls`` maps a built-in provider name (ollama, claude, gemini, codex, hf) to its
    base URL; every other built-in is disabled, ``local`` included (it would load a model).
    ``extra`` is appended verbatim (e.g. another ``[providers.X]`` table).
    """
    lines = ["[router]", f"chain = {json.dumps(list(chain))}", "retries = 0", ""]
    for name in ("ollama", "claude", "gemini", "codex", "hf", "local"):
        lines.append(f"[providers.{name}]")
        if name not in urls:
            lines += ["enabled = false", ""]
            continue
        key = "host" if name == "ollama" else "base_url"
        lines += [f'{key} = "{urls[name]}"', ""]
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
    header = f"{'measure':<46}{'median ms':>9}{'min–max ms':>16}{'runs':>6}  {'goal':<22}"
    print(header.rstrip())
    for s in stats:
        print(s.row())
    for note in notes:
        print(f"   {note}")


def write_json(name: str, stats: Sequence[Stat], **extra: object) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    data = {
        "benchmark": name,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},  # fmt: skip
        "measures": [asdict(s) for s in stats],
        **extra,
    }
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return path


def report(name: str, title: str, stats: Sequence[Stat], notes: Sequence[str] = (), **extra: object) -> None:
    print_table(title, stats, notes)
    path = write_json(name, stats, notes=list(notes), **extra)
    print(f"   wrote {path.relative_to(ROOT)}")


def runs_from_env(default: int) -> int:
    """``BENCH_RUNS`` scales every run count (e.g. 0.2 for a smoke run)."""
    scale = float(os.environ.get("BENCH_SCALE", "1"))
    return max(3, round(default * scale))
