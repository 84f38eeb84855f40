"""Failover and cooldown costs.

1. In process: the first provider refuses the connection (nothing listens on its port) and
   the router falls over to a second Ollama provider, against asking that second provider
   directly through the same router. Goal: ≤ +20 ms.
2. In process: a provider in cooldown is skipped with zero connection attempts (its
   loopback server answers 503 and counts connections).
3. Whole process: cooldowns persist, so after two failing ``complete`` runs the next ones
   do not touch the failing server at all.

Run: .venv/bin/python bench/failover.py   (writes bench/results/failover.json)
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from _harness import (
    CLI,
    Command,
    Stat,
    clean_env,
    report,
    run_command,
    runs,
    sandbox,
    stat,
    time_calls,
    time_commands,
    write_config,
)
from _servers import TOKEN_COUNT, served

from ollama_cli.config import load_config
from ollama_cli.router import ProviderRouter, RouteRequest
from ollama_cli.router.cooldown import CooldownStore
from providers.types import Message
from tests.wire.loopback import LoopbackServer, Reply, free_port

GOAL_MS = 20.0
MESSAGES = (Message("user", "say something"),)


def backup_table(url: str) -> str:
    return f'[providers.backup]\ntype = "ollama"\nhost = "{url}"\n'


def make_router(home: Path, first: str, backup: str, **router: object) -> ProviderRouter:
    env = clean_env(home)
    path = write_config(
        home, {"ollama": first}, ["ollama", "backup"], router=router, extra=backup_table(backup)
    )
    cooldowns = CooldownStore(home / "state" / "cooldowns.json")
    return ProviderRouter(load_config(path, env), cooldowns=cooldowns, notify=lambda _: None)


async def answer(router: ProviderRouter, request: RouteRequest, want: list[str]) -> None:
    stream = router.stream(request)
    text = "".join([t async for t in stream])
    assert len(text.split()) == TOKEN_COUNT and stream.result.ok
    assert [a.outcome for a in stream.result.attempts] == want, stream.result.attempts


async def refused_failover(live: str, count: int) -> list[Stat]:
    # cooldown_failures = 0: the refused provider is tried every time, never skipped.
    router = make_router(
        sandbox("failover"), f"http://127.0.0.1:{free_port()}", live, cooldown_failures=0
    )
    direct = RouteRequest(MESSAGES, provider="backup", fallback=False)
    try:
        samples = await time_calls(
            {
                "backup asked directly": lambda: answer(router, direct, ["ok"]),
                "ollama refused → backup answers": lambda: answer(
                    router, RouteRequest(MESSAGES), ["unavailable", "ok"]
                ),
            },
            runs=count,
        )
    finally:
        await router.aclose()
    paired = [
        f - d
        for f, d in zip(
            samples["ollama refused → backup answers"].wall,
            samples["backup asked directly"].wall,
            strict=True,
        )
    ]
    return [stat(name, s) for name, s in samples.items()] + [
        stat("failover cost (paired per turn)", paired, GOAL_MS)
    ]


async def cooldown_skips(live: str, count: int) -> tuple[list[Stat], int]:
    with LoopbackServer(lambda _r: Reply.json({"error": "overloaded"}, status=503)) as failing:
        router = make_router(sandbox("cooldown"), failing.url, live, retries=0)
        try:
            for _ in range(2):  # cooldown_failures = 2 (the default) puts it in cooldown
                await answer(router, RouteRequest(MESSAGES), ["unavailable", "ok"])
            before = failing.connections
            direct = RouteRequest(MESSAGES, provider="backup", fallback=False)
            samples = await time_calls(
                {
                    "backup asked directly (cooldown run)": lambda: answer(router, direct, ["ok"]),
                    "ollama cooling down → backup answers": lambda: answer(
                        router, RouteRequest(MESSAGES), ["skipped_cooldown", "ok"]
                    ),
                },
                runs=count,
            )
            attempts = failing.connections - before
        finally:
            await router.aclose()
    return [stat(name, s) for name, s in samples.items()], attempts


def cooldown_across_processes(live: str, count: int) -> tuple[list[Stat], int]:
    home = sandbox("cooldown-cli")
    with LoopbackServer(lambda _r: Reply.json({"error": "overloaded"}, status=503)) as failing:
        write_config(
            home, {"ollama": failing.url}, ["ollama", "backup"], router={"retries": 0},
            extra=backup_table(live),
        )  # fmt: skip
        env = clean_env(home)
        argv = [CLI, "complete", "say something"]
        for _ in range(2):
            run_command(argv, env)
        before = failing.connections
        samples = time_commands(
            {"complete, ollama cooling down (other process)": Command(argv, env)},
            runs=count,
        )
        attempts = failing.connections - before
    return [stat(name, s) for name, s in samples.items()], attempts


async def main() -> None:
    count = runs(200)
    with served("ollama") as live:
        stats = await refused_failover(live, count)
        cooling, attempts = await cooldown_skips(live, count)
        process, process_attempts = cooldown_across_processes(live, runs(6))
    stats += cooling + process
    skipped = cooling[1].median_ms - cooling[0].median_ms
    report(
        "failover",
        "failover and cooldown (in process unless noted)",
        stats,
        notes=[
            f"cooldown: {attempts} connection attempts to the cooling provider in {count} "
            f"requests (goal 0); skipping it costs {skipped:+.2f} ms (medians)",
            f"across processes: {process_attempts} connection attempts in "
            f"{runs(6) + 3} runs of complete after two failures (goal 0)",
        ],
        cooldown_connection_attempts=attempts,
        cross_process_connection_attempts=process_attempts,
    )
    if attempts or process_attempts:
        raise SystemExit("bench: a provider in cooldown was contacted")


if __name__ == "__main__":
    asyncio.run(main())
