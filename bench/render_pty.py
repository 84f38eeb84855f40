"""Rendered markdown against ``--raw``, whole process, to a 120×50 pseudo-terminal.

What a user on a slow link pays: the bytes the terminal receives and the time until the
answer is all there. A loopback Ollama server (a child process) streams a generated markdown
answer (headings, paragraphs, lists, fenced code with blank lines; bench/render_throughput.py's
``answer``) of 2k, 8k and 20k tokens as fast as the socket takes it; ``ollama-cli complete``
writes it to a pty, once rendered and once with ``--raw``, in turns.

Goals (issue "The renderer"): bytes ≤ 4× the ``--raw`` bytes; throughput ≥ 0.5× ``--raw``.

Run: .venv/bin/python bench/render_pty.py   (writes bench/results/render_pty.json)
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import statistics
import struct
import subprocess
import termios
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

from _harness import CLI, RESULTS, clean_env, runs, sandbox, write_config
from _servers import served
from render_throughput import answer, tokenize

SIZES = (2_000, 8_000, 20_000)
ROWS, COLS = 50, 120
BYTES_GOAL = 4.0
SPEED_GOAL = 0.5


@dataclass(frozen=True)
class Row:
    tokens: int
    raw_bytes: int
    rendered_bytes: int
    bytes_ratio: float
    raw_tokens_per_s: int
    rendered_tokens_per_s: int
    speed_ratio: float
    ok: bool


def on_pty(argv: Sequence[str], env: Mapping[str, str]) -> tuple[float, int]:
    """Seconds from spawn to exit, and bytes the terminal received."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
    started = time.perf_counter()
    child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    received = 0
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        received += len(data)
    code = child.wait()
    seconds = time.perf_counter() - started
    os.close(master)
    if code != 0:
        raise SystemExit(f"bench: {' '.join(argv)} exited {code}")
    return seconds, received


def measure(size: int, count: int) -> Row:
    tokens = len(tokenize(answer(size)))
    with served(f"markdown-{size}") as url:
        home = sandbox(f"render-pty-{size}")
        write_config(home, {"ollama": url}, ["ollama"])
        env = {k: v for k, v in clean_env(home).items() if k != "NO_COLOR"}
        env["TERM"] = "xterm-256color"
        argv = [CLI, "complete", "--no-history"]
        samples: dict[str, list[tuple[float, int]]] = {"raw": [], "rendered": []}
        for number in range(count + 1):
            for mode, extra in (("raw", ["--raw"]), ("rendered", [])):
                result = on_pty([*argv, *extra, "question"], env)
                if number:  # the first round warms caches
                    samples[mode].append(result)
    raw_s = statistics.median(s for s, _ in samples["raw"])
    rendered_s = statistics.median(s for s, _ in samples["rendered"])
    raw_bytes = int(statistics.median(b for _, b in samples["raw"]))
    rendered_bytes = int(statistics.median(b for _, b in samples["rendered"]))
    bytes_ratio = rendered_bytes / raw_bytes
    speed_ratio = raw_s / rendered_s
    ok = bytes_ratio <= BYTES_GOAL and speed_ratio >= SPEED_GOAL
    return Row(
        tokens,
        raw_bytes,
        rendered_bytes,
        round(bytes_ratio, 2),
        round(tokens / raw_s),
        round(tokens / rendered_s),
        round(speed_ratio, 2),
        ok,
    )


def main() -> None:
    count = runs(3)
    rows = [measure(size, count) for size in SIZES]
    print(f"\n== rendered vs --raw, whole process to a {COLS}×{ROWS} pty (median of {count})")
    print(
        f"{'tokens':>7}{'raw B':>10}{'rendered B':>12}{'× bytes':>9}{'raw tok/s':>11}"
        f"{'rend tok/s':>12}{'× speed':>9}  goal"
    )
    for r in rows:
        verdict = "ok" if r.ok else "MISSED"
        print(
            f"{r.tokens:>7}{r.raw_bytes:>10}{r.rendered_bytes:>12}{r.bytes_ratio:>9.2f}"
            f"{r.raw_tokens_per_s:>11}{r.rendered_tokens_per_s:>12}{r.speed_ratio:>9.2f}"
            f"  bytes ≤ {BYTES_GOAL:g}×, speed ≥ {SPEED_GOAL:g}×: {verdict}"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "render_pty.json"
    data = {
        "benchmark": "render_pty",
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "rows": [asdict(r) for r in rows],
    }
    path.write_text(json.dumps(data, indent=2) + "\n")
    print(f"   wrote {path}")
    if not all(r.ok for r in rows):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
