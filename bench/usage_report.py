"""``ollama-cli usage`` over a history of 100,000 turns (200,000 messages).

Goal (issue "usage, cost and budgets"): fast on 100k turns, through one query on the
``messages_usage`` covering index. Rows: the query alone (``HistoryStore.usage`` on an
open store, grouped by provider/model and by day), and the whole command — process start
to exit — for ``usage``, ``usage --by day`` and ``usage --since 1h``, against
``history list`` (which reads 20 rows) for scale. On a busy machine read the cpu column:
it is this process's (query rows) or the child's (command rows) CPU time. The history is seeded with
``executemany`` (tests/seed.py): one answer a second, ending now.

Run: .venv/bin/python bench/usage_report.py [--turns N]   (writes bench/results/usage_report.json)
"""

from __future__ import annotations

import argparse
import time

from _harness import (
    CLI,
    Command,
    Samples,
    clean_env,
    report,
    runs,
    sandbox,
    stat,
    time_commands,
)

from ollama_cli.history import HistoryStore
from ollama_cli.paths import app_paths
from tests.seed import seed_history

QUERY_GOAL_MS = 150.0
COMMAND_GOAL_MS = 400.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=100_000)
    args = parser.parse_args()
    home = sandbox("usage")
    path = app_paths({"OLLAMA_CLI_HOME": str(home)}).history_db
    started = time.perf_counter()
    seed_history(path, args.turns, start=time.time() - args.turns, step=1.0)
    seeded_s = time.perf_counter() - started
    stats = []
    with HistoryStore(path) as store:
        for label, by_day in (("provider/model", False), ("day", True)):
            store.usage(by_day=by_day)  # warm the page cache
            samples = Samples([], [])
            for _ in range(runs(20)):
                wall, cpu = time.perf_counter(), time.process_time()
                store.usage(by_day=by_day)
                samples.wall.append((time.perf_counter() - wall) * 1000)
                samples.cpu.append((time.process_time() - cpu) * 1000)  # type: ignore[union-attr]
            stats.append(stat(f"query: usage by {label}", samples, QUERY_GOAL_MS))
    env = clean_env(home)
    ok = lambda out: out.startswith(b"provider") or out.startswith(b"day")  # noqa: E731
    commands = {
        "ollama-cli usage": Command([CLI, "usage"], env, check=ok),
        "ollama-cli usage --by day": Command([CLI, "usage", "--by", "day"], env, check=ok),
        "ollama-cli usage --since 1h": Command([CLI, "usage", "--since", "1h"], env, check=ok),
        "ollama-cli history list (for scale)": Command([CLI, "history", "list"], env),
    }
    timed = time_commands(commands, runs=runs(10))
    for name, command_samples in timed.items():
        goal = None if "scale" in name else COMMAND_GOAL_MS
        stats.append(stat(name, command_samples, goal))
    size_mb = path.stat().st_size / 1e6
    notes = [
        f"{args.turns:,} turns ({2 * args.turns:,} messages), {size_mb:.1f} MB, "
        f"seeded in {seeded_s:.1f} s",
    ]
    report("usage_report", "usage over a large history", stats, notes, turns=args.turns)


if __name__ == "__main__":
    main()
