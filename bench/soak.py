"""Soak: 2,000 sequential routed ``complete`` calls in ONE process through ProviderRouter,
against a loopback Ollama server that misbehaves at random (seeded), looking for what only
shows over time: leaked sockets or files, memory that grows, a router that slows down.

The chain is ``first`` then ``second``, two Ollama-type providers on the same faulty
server, with ``retries = 0`` (a backoff sleep would only measure the sleep), a short read
timeout for the stalls, and cooldowns persisted to a state file (so its lock file is opened
and closed on every failure). The server runs in a child process: its sockets and memory
are not counted against the client.

Reported: success rate, the router's own time per call (wall time minus the time inside
provider attempts) at p50/p99, RSS growth after warm-up (goal ≤ 5 MB), and open file
descriptors (and sockets) after warm-up, after the run and after ``aclose``.

Run: .venv/bin/python bench/soak.py [--calls N] [--seed S]   (not part of the test run;
writes bench/results/soak.json). Stops at N calls or 150 s, whichever comes first.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from _harness import assert_loopback_only, clean_env, report, sandbox, stat

GOAL_RSS_MB = 5.0
TIME_LIMIT_S = 150.0
WARM_UP = 100
READ_TIMEOUT = 0.3
#: Fault → weight (per request); the rest of 100 is a clean answer.
FAULTS = {
    "http_500": 5,
    "http_503": 5,
    "http_429": 3,
    "reset_mid_stream": 4,
    "malformed_json": 3,
    "invalid_utf8": 2,
    "empty_stream": 2,
    "no_finish": 3,
    "headers_then_stall": 1,
}


def serve(seed: int) -> None:
    """The child: an Ollama server choosing each request's fault from a seeded RNG."""
    from _servers import serve_without_nagle

    from tests.wire.loopback import BodyPart, LoopbackServer, Reply, Request, Reset, Stall
    from tests.wire.ollama import NDJSON, answer_step, chat_line, error_reply, ndjson_lines

    rng = random.Random(seed)
    names = [*FAULTS, "ok"]
    weights = [*FAULTS.values(), 100 - sum(FAULTS.values())]
    tokens = [f"tok{i} " for i in range(30)]
    partial = ndjson_lines(chat_line(t) for t in tokens[:5])

    def handle(request: Request) -> Reply:
        fault = rng.choices(names, weights)[0]
        stream: dict[str, list[BodyPart]] = {
            "reset_mid_stream": [*partial, Reset()],
            "malformed_json": ['{"message": {"content": \n'],
            "invalid_utf8": [
                b'{"message": {"role": "assistant", "content": "\xff"}, "done": false}\n'
            ],
            "empty_stream": [],
            "no_finish": partial,
            "headers_then_stall": [Stall()],
        }
        if fault.startswith("http_"):
            return error_reply(int(fault[5:]), "soak fault")
        if fault in stream:
            return Reply(body=list(stream[fault]) or b"", content_type=NDJSON)
        return answer_step(tokens)(request)

    serve_without_nagle()
    server = LoopbackServer(handle).start()
    print(server.url, flush=True)
    sys.stdin.read()


def config(home: Path, url: str) -> Path:
    tables = "".join(
        f'[providers.{name}]\ntype = "ollama"\nhost = "{url}"\ndefault_model = "m"\n'
        f"timeout = {READ_TIMEOUT}\nconnect_timeout = 1.0\n"
        for name in ("first", "second")
    )
    # Built-ins are off: nothing but the loopback server may be reachable.
    tables += "".join(
        f"[providers.{name}]\nenabled = false\n"
        for name in ("ollama", "claude", "gemini", "codex", "hf", "local")
    )
    path = home / "config.toml"
    path.write_text(
        '[router]\nchain = ["first", "second"]\nretries = 0\ncooldown_seconds = 0.5\n' + tables
    )
    assert_loopback_only(path, home)
    return path


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def descriptors() -> tuple[int, int]:
    """Open file descriptors of this process, and how many of them are sockets."""
    fds = os.listdir("/proc/self/fd")
    sockets = 0
    for fd in fds:
        with contextlib.suppress(OSError):  # the listing's own fd is gone by now
            sockets += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
    return len(fds), sockets


async def soak(url: str, home: Path, calls: int) -> dict[str, object]:
    from ollama_cli.config import load_config
    from ollama_cli.router import ProviderRouter, RouteRequest, RoutingError
    from ollama_cli.router.cooldown import CooldownStore
    from providers.types import Message

    env = clean_env(home)
    router = ProviderRouter(
        load_config(config(home, url), env),
        cooldowns=CooldownStore(home / "state" / "cooldowns.json"),
        notify=lambda message: None,
        environ=env,
    )
    request = RouteRequest((Message("user", "soak"),))
    outcomes: Counter[str] = Counter()
    overhead: list[float] = []
    marks: dict[str, object] = {}
    started = time.perf_counter()
    done = 0
    for done in range(1, calls + 1):
        if done == WARM_UP + 1:
            gc.collect()
            marks["warm"] = (rss_mb(), *descriptors())
        t0 = time.perf_counter()
        routed = router.stream(request)
        try:
            text = "".join([t async for t in routed])
            outcomes["ok" if text.endswith("tok29 ") else "wrong_text"] += 1
        except RoutingError:
            outcomes["failed"] += 1
        wall = (time.perf_counter() - t0) * 1000
        inside = sum(a.elapsed_ms for a in routed.result.attempts)
        if done > WARM_UP:
            overhead.append(max(0.0, wall - inside))
        if time.perf_counter() - started > TIME_LIMIT_S:
            break
    gc.collect()
    marks["end"] = (rss_mb(), *descriptors())
    await router.aclose()
    gc.collect()
    marks["closed"] = (rss_mb(), *descriptors())
    return {
        "calls": done,
        "seconds": round(time.perf_counter() - started, 1),
        "outcomes": dict(outcomes),
        "overhead_ms": overhead,
        "marks": marks,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20251121)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.seed)
        return
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--seed", str(args.seed)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        result = asyncio.run(soak(url, sandbox("soak"), args.calls))
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=5)
    present(result, args.seed)


def present(result: dict[str, object], seed: int) -> None:
    marks: dict[str, tuple[float, int, int]] = result["marks"]  # type: ignore[assignment]
    outcomes: dict[str, int] = result["outcomes"]  # type: ignore[assignment]
    calls: int = result["calls"]  # type: ignore[assignment]
    overhead: list[float] = result["overhead_ms"]  # type: ignore[assignment]
    growth = marks["end"][0] - marks["warm"][0]
    ordered = sorted(overhead)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    notes = [
        f"{calls} calls in {result['seconds']} s (seed {seed}); outcomes {json.dumps(outcomes)}",
        f"success rate {outcomes.get('ok', 0) / calls:.1%}",
        f"router's own time per call: p50 {ordered[len(ordered) // 2]:.2f} ms, p99 {p99:.2f} ms",
        f"RSS after warm-up {marks['warm'][0]:.1f} MB → end {marks['end'][0]:.1f} MB: "
        f"{growth:+.2f} MB (goal ≤ {GOAL_RSS_MB} MB) {'ok' if growth <= GOAL_RSS_MB else 'MISSED'}",
        "open fds (sockets): after warm-up {1} ({2}), end {4} ({5}), after aclose {7} ({8})".format(
            *marks["warm"], *marks["end"], *marks["closed"]
        ),
    ]
    stats = [stat("router's own time per call (wall − attempts)", overhead)]
    report("soak", "soak: sequential routed calls with random faults", stats, notes, **{
        "calls": calls, "outcomes": outcomes, "rss_growth_mb": round(growth, 2),
        "fds": {k: list(v) for k, v in marks.items()},
    })  # fmt: skip


if __name__ == "__main__":
    main()
