"""Startup: ``ollama-cli --version`` and ``--help`` against starting Python itself.

Goal (issue "Performance"): each ≤ 80 ms median and ≤ ``python -c pass`` + 70 ms, through
the venv's console script and through ``python -m ollama_cli``. Context rows: the bare
interpreter without site (``-S``), and ``--version`` without a bytecode cache, as in this
development environment (PYTHONDONTWRITEBYTECODE=1), to show what compiling costs.

Run: .venv/bin/python bench/startup.py   (writes bench/results/startup.json)
"""

from __future__ import annotations

import statistics

from _harness import (
    CLI,
    PYTHON,
    Command,
    Stat,
    clean_env,
    report,
    runs,
    sandbox,
    stat,
    time_commands,
)

CEILING_MS = 80.0
OVER_PYTHON_MS = 70.0


def main() -> None:
    home = sandbox("startup")
    env = clean_env(home)
    version = lambda out: out.startswith(b"ollama-cli ")  # noqa: E731
    usage = lambda out: b"usage: ollama-cli" in out  # noqa: E731
    commands = {
        "python -S -c pass (interpreter only)": Command([PYTHON, "-S", "-c", "pass"], env),
        "python -c pass (venv: the baseline)": Command([PYTHON, "-c", "pass"], env),
        "ollama-cli --version": Command([CLI, "--version"], env, check=version),
        "ollama-cli --help": Command([CLI, "--help"], env, check=usage),
        "python -m ollama_cli --version": Command(
            [PYTHON, "-m", "ollama_cli", "--version"], env, check=version
        ),
        "python -m ollama_cli --help": Command([PYTHON, "-m", "ollama_cli", "--help"], env),
        "ollama-cli --version, no bytecode cache": Command(
            [CLI, "--version"], {**env, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": ""}
        ),
    }
    samples = time_commands(commands, runs=runs(20), warmup=3)
    baseline = statistics.median(samples["python -c pass (venv: the baseline)"].wall)
    ceiling = min(CEILING_MS, baseline + OVER_PYTHON_MS)
    goal = f"≤ {ceiling:.0f} (80; pass+70)"
    stats: list[Stat] = []
    for name, sample in samples.items():
        held = name.startswith(("ollama-cli --", "python -m")) and "no bytecode" not in name
        stats.append(stat(name, sample, ceiling if held else None, goal if held else ""))
    report(
        "startup",
        "startup (whole process, fork to exit)",
        stats,
        notes=[f"goal: median ≤ min(80 ms, python -c pass {baseline:.1f} ms + 70 ms)"],
        baseline_ms=baseline,
    )


if __name__ == "__main__":
    main()
