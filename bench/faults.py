"""What each fault of the fault matrix costs in time, against its budget.

The matrix (tests/faults/test_matrix.py) asserts what a user notices about each fault:
outcomes, exit status, stderr lines, no hang, no leaked key. How long a fault takes is a
goal, not a test: on a busy machine it is slow, not wrong. This script runs every fault
through ``ProviderRouter`` in process (the faulty provider, then a healthy backup, both on
loopback), the five providers of one fault at once as the matrix runs them, and holds each
to the budget the matrix once asserted:

    budget = timeouts × read timeout + Retry-After waits + size work + 0.5 s per backoff + slack

Run: .venv/bin/python bench/faults.py   (writes bench/results/faults.json)
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from _harness import Stat, report, stat

from ollama_cli.config import load_config
from ollama_cli.router import ProviderRouter, RouteRequest, RoutingError
from providers.types import Message
from tests.faults import CANARIES, backup_table, toml_config, victim_table
from tests.faults.servers import FAULT_LIST, WIRES, Fault, FaultServer
from tests.faults.test_matrix import TIMEOUT
from tests.wire.ollama import OllamaWire

SLACK = 3.0  # start-up and scheduling


def budget(fault: Fault) -> float:
    """Seconds the fault may cost: timeouts, Retry-After waits, size, backoffs, slack."""
    backoffs = 0.5 * (len(fault.outcomes) - 1)
    return fault.timeouts * TIMEOUT + fault.waits + fault.work + backoffs + SLACK


async def route_once(fault: Fault, provider: str, root: Path, backup: str) -> float:
    """Seconds for one routed request: ``provider`` faulty, then ``backup``."""
    wire = WIRES[provider]
    with FaultServer(wire, fault) as server:
        path = root / f"{fault.name}-{provider}.toml"
        tables = {provider: victim_table(wire, server.url, TIMEOUT), "backup": backup_table(backup)}
        path.write_text(toml_config([provider, "backup"], tables, retries=1))
        config = load_config(path, CANARIES)
        router = ProviderRouter(config, notify=lambda m: None, environ=CANARIES)
        routed = router.stream(RouteRequest((Message("user", "hi"),)))
        started = time.perf_counter()
        try:
            async for _ in routed:
                pass
        except RoutingError:
            pass
        finally:
            await routed.aclose()
            await router.aclose()
        return time.perf_counter() - started


async def measure() -> list[Stat]:
    stats = []
    with tempfile.TemporaryDirectory() as tmp, OllamaWire(accept_any_model=True) as backup:
        for fault in FAULT_LIST:
            routes = (route_once(fault, p, Path(tmp), backup.url) for p in WIRES)
            seconds = await asyncio.gather(*routes)
            stats.append(stat(fault.name, [s * 1000 for s in seconds], budget(fault) * 1000))
    return stats


def main() -> None:
    stats = asyncio.run(measure())
    notes = [
        f"each fault once per provider ({len(WIRES)} at once), router in process, read timeout "
        f"{TIMEOUT:g} s; budget = timeouts, waits, work, backoffs and {SLACK:g} s slack"
    ]
    report("faults", "Fault matrix: time per routed request, against its budget", stats, notes)


if __name__ == "__main__":
    main()
