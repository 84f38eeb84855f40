"""Benchmark: what attaching costs before the first byte is sent, and in the history.

- Loading a directory at the caps (200 text files, ~1 MB, nested ``.gitignore`` rules
  and ignored noise beside them) through ``load_all``: the target is ≤ 300 ms, so
  ``-f src/`` never feels slower than the answer's first token.
- Building each vendor's request body for a 10 MB image (base64 in JSON): the cost paid
  once per attempt. The target is ≤ 1 s per body: well under the time the 14 MB of
  base64 take to upload on a 100 Mbit/s link (~1.1 s).
- Storing the same 10 MB image in ten turns: the database must grow by one copy.

Run: ``.venv/bin/python bench/attach.py [--runs N]``. Prints a table and writes
``bench/results/attach.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ollama_cli.attach import load_all
from ollama_cli.history import HistoryStore
from providers import anthropic_wire, gemini_wire, ollama_wire, openai_compat, openai_responses
from providers.types import Attachment, ChatRequest, Message

RESULTS = Path(__file__).parent / "results" / "attach.json"
DIR_TARGET_MS = 300.0
BODY_TARGET_MS = 1000.0


def timed(fn: Callable[[], object], runs: int) -> dict[str, float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return {"median_ms": round(statistics.median(samples), 1), "max_ms": round(max(samples), 1)}


def make_tree(root: Path) -> None:
    """200 text files of ~5 KB in 20 packages, plus ignored build output and logs."""
    (root / ".git").mkdir(parents=True)
    (root / ".gitignore").write_text("build/\n*.log\n")
    line = "def f(x):  # a line of ordinary source code, about sixty bytes\n"
    for package in range(20):
        pkg = root / f"pkg{package}"
        (pkg / "build").mkdir(parents=True)
        (pkg / ".gitignore").write_text("*.tmp\n")
        for n in range(10):
            (pkg / f"mod{n}.py").write_text(line * 80)
            (pkg / f"mod{n}.log").write_text("noise\n" * 100)
            (pkg / "build" / f"out{n}.txt").write_text("generated\n" * 100)


def bodies(part: Attachment) -> dict[str, Callable[[], object]]:
    request = ChatRequest(messages=(Message("user", "what is this?", (part,)),), model="m")
    return {
        "anthropic": lambda: json.dumps(anthropic_wire.build_body(request, {}, stream=True)),
        "gemini": lambda: json.dumps(gemini_wire.build_body(request)),
        "openai responses": lambda: json.dumps(
            openai_responses.build_responses_body(request, stream=True)
        ),
        "chat completions": lambda: json.dumps(openai_compat.build_chat_body(request, stream=True)),
        "ollama": lambda: json.dumps(ollama_wire.build_chat_body(request, stream=True)),
    }


def history_growth(path: Path, part: Attachment) -> dict[str, Any]:
    """Sizes with the store closed: the last connection checkpoints and removes the WAL."""
    with HistoryStore(path) as store:
        cid = store.new_conversation()
        store.add_message(cid, "user", "first")
    before = path.stat().st_size
    with HistoryStore(path) as store:
        for n in range(10):
            store.add_message(cid, "user", f"again {n}", attachments=(part,))
    after = path.stat().st_size
    return {"turns": 10, "image_mb": round(len(part.data) / 1e6, 1),
            "db_growth_mb": round((after - before) / 1e6, 1)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    part = Attachment("big.png", "image/png", b"\x89PNG\r\n\x1a\n" + os.urandom(10 * 1024 * 1024))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        make_tree(root)
        loaded = asyncio.run(load_all([str(root)]))
        directory = timed(lambda: asyncio.run(load_all([str(root)])), args.runs)
        growth = history_growth(Path(tmp) / "history.sqlite3", part)
    body_times = {name: timed(build, args.runs) for name, build in bodies(part).items()}
    report = {
        "directory": {"files": len(loaded.texts), **directory, "target_ms": DIR_TARGET_MS},
        "request_body_10mb_image": body_times,
        "body_target_ms": BODY_TARGET_MS,
        "history": growth,
        "within_target": directory["median_ms"] <= DIR_TARGET_MS
        and all(t["median_ms"] <= BODY_TARGET_MS for t in body_times.values()),
    }
    print(f"directory of {len(loaded.texts)} files: {directory['median_ms']} ms median "
          f"(max {directory['max_ms']}; target {DIR_TARGET_MS:.0f})")  # fmt: skip
    for name, t in body_times.items():
        print(f"{name:>17} body, 10 MB image: {t['median_ms']} ms median (max {t['max_ms']})")
    print(f"history: 10 turns with the same {growth['image_mb']} MB image grew the database "
          f"by {growth['db_growth_mb']} MB")  # fmt: skip
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {RESULTS}")


if __name__ == "__main__":
    main()
