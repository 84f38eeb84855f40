"""Router overhead, in process: one streamed 200-token answer through ProviderRouter, the
same OllamaProvider called directly, and a bare httpx client doing the same request.

All three keep their connection alive between requests and run in turns against one
loopback Ollama server in a child process. Goal (issue "Performance"): the router adds
≤ 1 ms per request over calling the provider directly.

Run: .venv/bin/python bench/router_overhead.py   (writes bench/results/router_overhead.json)
"""

from __future__ import annotations

import asyncio
import json
import statistics

import httpx
from _harness import Samples, clean_env, report, runs, sandbox, stat, time_calls, write_config
from _servers import TOKEN_COUNT, served

from ollama_cli.config import load_config
from ollama_cli.router import ProviderRouter, RouteRequest
from ollama_cli.router.cooldown import CooldownStore
from providers.base import ProviderSettings
from providers.ollama import OllamaProvider
from providers.types import ChatRequest, Message

GOAL_MS = 1.0
MESSAGES = (Message("user", "say something"),)


async def main() -> None:
    home = sandbox("router")
    with served("ollama") as url:
        env = clean_env(home)
        config = load_config(write_config(home, {"ollama": url}, ["ollama"]), env)
        router = ProviderRouter(
            config, cooldowns=CooldownStore(home / "state" / "cooldowns.json"), environ=env
        )
        provider = OllamaProvider(
            ProviderSettings("ollama", "ollama", "llama3.2", options={"host": url})
        )
        client = httpx.AsyncClient(base_url=url, timeout=60, trust_env=False)
        body = {"model": "llama3.2", "messages": [{"role": "user", "content": "say something"}]}

        async def bare() -> None:
            text = ""
            async with client.stream("POST", "/api/chat", json={**body, "stream": True}) as r:
                async for line in r.aiter_lines():
                    if line:
                        text += json.loads(line)["message"]["content"]
            assert len(text.split()) == TOKEN_COUNT

        async def direct() -> None:
            text = ""
            async for chunk in provider.stream(ChatRequest(MESSAGES, "llama3.2")):
                text += chunk.text
            assert len(text.split()) == TOKEN_COUNT

        async def routed() -> None:
            stream = router.stream(RouteRequest(MESSAGES))
            text = "".join([t async for t in stream])
            assert len(text.split()) == TOKEN_COUNT and stream.result.ok

        try:
            samples = await time_calls(
                {"bare httpx": bare, "provider directly": direct, "through the router": routed},
                runs=runs(300),
            )
        finally:
            await asyncio.gather(client.aclose(), provider.close(), router.aclose())
    present(samples)


def present(samples: dict[str, Samples]) -> None:
    med = {name: statistics.median(s.wall) for name, s in samples.items()}
    cpu = {name: statistics.median(s.cpu or [0]) for name, s in samples.items()}
    # Turn by turn differences: both requests of a turn saw the same load on the machine.
    paired = [
        r - d
        for r, d in zip(
            samples["through the router"].wall, samples["provider directly"].wall, strict=True
        )
    ]
    overhead = stat("router − provider (paired per turn)", paired, GOAL_MS)
    stats = [stat(f"{name}: {TOKEN_COUNT}-token stream", s) for name, s in samples.items()] + [
        overhead
    ]
    notes = [
        f"router over provider: {med['through the router'] - med['provider directly']:+.2f} ms "
        f"wall, {cpu['through the router'] - cpu['provider directly']:+.2f} ms cpu (medians)",
        f"provider over bare httpx: {med['provider directly'] - med['bare httpx']:+.2f} ms wall, "
        f"{cpu['provider directly'] - cpu['bare httpx']:+.2f} ms cpu (medians)",
    ]
    report("router_overhead", "router overhead per streamed request (in process)", stats, notes)


if __name__ == "__main__":
    asyncio.run(main())
