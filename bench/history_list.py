"""Benchmark: is ``history list`` still instant over a large history?

Fills a temporary database with 10,000 turns (a user message and its answer each) across
~500 conversations through the real ``HistoryStore`` API, then times
``list_conversations(limit=20)`` the way a CLI invocation pays for it: a new store per
run (open, pragmas, schema check, query). The target is ≤ 100 ms. When the command
exists, ``python -m ollama_cli history list`` is timed end to end as well.

Run: ``.venv/bin/python bench/history_list.py [--turns N] [--conversations N] [--runs N]``.
Prints a table and writes ``bench/results/history_list.json``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ollama_cli.history import HistoryStore
from ollama_cli.paths import app_paths

RESULTS = Path(__file__).parent / "results" / "history_list.json"
TARGET_MS = 100.0


def fill(path: Path, turns: int, conversations: int) -> dict[str, float]:
    """Store ``turns`` turns, spread at random over ``conversations`` conversations."""
    rng = random.Random(42)
    started = time.perf_counter()
    with HistoryStore(path) as store:
        ids = [store.new_conversation(system_prompt="be brief") for _ in range(conversations)]
        for n in range(turns):
            cid = ids[n] if n < conversations else rng.choice(ids)  # none left empty
            store.add_message(cid, "user", f"question {n}: " + "words " * rng.randint(5, 60))
            store.add_message(
                cid,
                "assistant",
                "answer " * rng.randint(20, 400),
                provider=rng.choice(["ollama", "claude", "gemini"]),
                model="some-model",
                input_tokens=100,
                output_tokens=200,
                latency_ms=rng.uniform(100, 3000),
                finish_reason="stop",
                attempts=[{"provider": "ollama", "outcome": "ok"}],
            )
    seconds = time.perf_counter() - started
    return {"fill_s": round(seconds, 2), "ms_per_message": round(seconds * 1000 / turns / 2, 3)}


def timed(fn: Callable[[], object], runs: int) -> dict[str, float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return {
        "median_ms": round(statistics.median(samples), 3),
        "min_ms": round(min(samples), 3),
        "max_ms": round(max(samples), 3),
        "runs": runs,
    }


def list_with_fresh_store(path: Path) -> None:
    with HistoryStore(path) as store:
        assert len(store.list_conversations(limit=20)) == 20


def cli_timing(home: Path, runs: int) -> dict[str, Any]:
    """``python -m ollama_cli history list`` end to end, or why it was skipped."""
    if importlib.util.find_spec("ollama_cli.__main__") is None:
        return {"skipped": "no ollama_cli/__main__.py"}
    env = {**os.environ, "OLLAMA_CLI_HOME": str(home)}
    command = [sys.executable, "-m", "ollama_cli", "history", "list"]

    def run() -> None:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            lines = (done.stderr or done.stdout).strip().splitlines() or ["no output"]
            raise RuntimeError(f"exit {done.returncode}: {lines[-1]}")

    try:
        run()  # warms the file cache and proves the command exists
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        return {"skipped": f"`history list` failed: {exc}"}
    interpreter = timed(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), runs)
    return {**timed(run, runs), "python_startup_median_ms": interpreter["median_ms"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=10_000)
    parser.add_argument("--conversations", type=int, default=500)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--cli-runs", type=int, default=10)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        path = app_paths({"OLLAMA_CLI_HOME": str(home)}).history_db
        filled = fill(path, args.turns, args.conversations)
        with HistoryStore(path) as warm:
            warm_list = timed(lambda: warm.list_conversations(limit=20), args.runs)
        fresh = timed(lambda: list_with_fresh_store(path), args.runs)
        cli = cli_timing(home, args.cli_runs)
        size = path.stat().st_size
    report = {
        "turns": args.turns,
        "messages": args.turns * 2,
        "conversations": args.conversations,
        "db_mb": round(size / 1e6, 1),
        **filled,
        "list_fresh_store": fresh,
        "list_warm_store": warm_list,
        "cli_history_list": cli,
        "target_ms": TARGET_MS,
        "within_target": fresh["median_ms"] <= TARGET_MS and fresh["max_ms"] <= TARGET_MS,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }
    print_table(report)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {RESULTS}")


def print_table(report: dict[str, Any]) -> None:
    print(
        f"history: {report['turns']:,} turns ({report['messages']:,} messages) in "
        f"{report['conversations']} conversations, {report['db_mb']} MB; "
        f"filled in {report['fill_s']} s ({report['ms_per_message']} ms per add_message)\n"
    )
    print(f"{'what':<44}{'median':>10}{'min':>10}{'max':>10}{'runs':>6}")
    rows = [
        ("list_conversations(20), new store each run", report["list_fresh_store"]),
        ("list_conversations(20), open store", report["list_warm_store"]),
        ("python -m ollama_cli history list", report["cli_history_list"]),
    ]
    for name, row in rows:
        if "skipped" in row:
            print(f"{name:<44}skipped: {row['skipped']}")
            continue
        print(
            f"{name:<44}{row['median_ms']:>8.2f}ms{row['min_ms']:>8.2f}ms"
            f"{row['max_ms']:>8.2f}ms{row['runs']:>6}"
        )
    cli = report["cli_history_list"]
    if "python_startup_median_ms" in cli:
        print(f"{'  (python -c pass, for scale)':<44}{cli['python_startup_median_ms']:>8.2f}ms")
    verdict = "within" if report["within_target"] else "OVER"
    print(f"\nnew-store listing is {verdict} the {report['target_ms']:.0f} ms target")


if __name__ == "__main__":
    main()
