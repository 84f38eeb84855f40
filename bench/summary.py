"""The headline table: every measure that has a goal, from bench/results/*.json, as the
Markdown table of docs/performance.md. run_all.sh prints it last.

Run: .venv/bin/python bench/summary.py
"""

from __future__ import annotations

import json
from typing import Any

from _harness import RESULTS

ORDER = (
    "startup",
    "complete_e2e",
    "router_overhead",
    "failover",
    "providers_list",
    "repl_startup",
    "connection_reuse",
    "history_list",
    "render_throughput",
)


def load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def goal_rows(data: dict[str, Any]) -> list[str]:
    rows = []
    for m in data.get("measures", []):
        if m.get("ok") is None:
            continue
        cpu = "" if m.get("cpu_ms") is None else f"{m['cpu_ms']:.0f}"
        verdict = "ok" if m["ok"] else "**missed**"
        spread = f"{m['min_ms']:.1f}–{m['max_ms']:.1f}"
        rows.append(
            f"| {m['name']} | {m['goal']} | {m['median_ms']:.1f} | {spread} | {cpu} | {verdict} |"
        )
    return rows


def extra_rows(name: str, data: dict[str, Any]) -> list[str]:
    """Goals that are not a median time: memory, connections, the existing scripts."""
    if name == "repl_startup":
        rss = data["rss_after_turns_mb"]
        verdict = "ok" if rss <= 80 else "**missed**"
        return [f"| REPL RSS after {data['turns']} turns | ≤ 80 MB | {rss} MB | | | {verdict} |"]
    if name == "connection_reuse":
        return [
            f"| connections for {data['turns']} answers: {protocol} | 1 | {count} | | | "
            f"{'ok' if count == 1 else '**missed**'} |"
            for protocol, count in data["connections"].items()
        ]
    if name == "history_list":
        rows = []
        for key, label in (("list_fresh_store", "history list, 10,000 turns (in process)"),
                           ("cli_history_list", "history list, whole process")):  # fmt: skip
            m = data.get(key)
            if isinstance(m, dict) and "median_ms" in m:
                ok = "ok" if m["median_ms"] <= 100 else "**missed**"
                spread = f"{m.get('min_ms', 0):.1f}–{m.get('max_ms', 0):.1f}"
                rows.append(f"| {label} | ≤ 100 ms | {m['median_ms']:.1f} | {spread} | | {ok} |")
        return rows
    if name == "render_throughput":
        return [
            f"| render {r['case']}, {r['tokens']} tokens | — | {r['seconds'] * 1000:.0f} | "
            f"{r['tokens_per_second']} tokens/s | {r['cpu_seconds'] * 1000:.0f} | |"
            for r in data.get("rows", [])
        ]
    return []


def main() -> None:
    print("\n== summary: every goal (docs/performance.md)")
    print("| measure | goal | median ms | min–max ms | cpu ms | verdict |")
    print("|---|---|---|---|---|---|")
    for name in ORDER:
        data = load(name)
        if data is None:
            print(f"| {name} | | not run | | | |")
            continue
        for row in goal_rows(data) + extra_rows(name, data):
            print(row)


if __name__ == "__main__":
    main()
