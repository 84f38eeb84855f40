"""Does a conversation reuse its connection? Ten streamed answers through one router (as
the REPL sends them), per protocol, counting the TCP connections each loopback server saw.

Timing is not the point here (the servers are threads of this process): one connection for
all ten is the goal: against a remote API every new connection is a
TCP and TLS handshake (several round trips) before the first token of the next answer.
An adapter that stops reading at its final event, before the body's end, leaves httpx no
choice but to close the connection.

Run: .venv/bin/python bench/connection_reuse.py   (writes bench/results/connection_reuse.json)
"""

from __future__ import annotations

import asyncio
from typing import cast

from _harness import ROOT, clean_env, report, sandbox, write_config
from _servers import TOKEN_COUNT, serve_without_nagle, start

from ollama_cli.config import load_config
from ollama_cli.router import ProviderRouter, RouteRequest
from providers.types import Message
from tests.wire.loopback import LoopbackServer

TURNS = 10
#: protocol → (provider name, key variable, base URL suffix)
PROVIDERS = {
    "ollama": ("ollama", None, ""),
    "anthropic": ("claude", "ANTHROPIC_API_KEY", ""),
    "gemini": ("gemini", "GEMINI_API_KEY", ""),
    "openai": ("codex", "OPENAI_API_KEY", "/v1"),
    "openai-compatible": ("hf", "HF_TOKEN", "/v1"),
}


async def connections_for(protocol: str) -> int:
    name, key_env, suffix = PROVIDERS[protocol]
    wire = start("openai" if protocol == "openai-compatible" else protocol)
    server = cast(LoopbackServer, getattr(wire, "server", wire))
    home = sandbox(f"reuse-{protocol}")
    env = clean_env(home, **({key_env: "bench-dummy-key"} if key_env else {}))
    path = write_config(home, {name: server.url + suffix}, [name])
    router = ProviderRouter(load_config(path, env), notify=lambda _: None, environ=env)

    async def turn() -> None:
        stream = router.stream(RouteRequest((Message("user", "say something"),)))
        text = "".join([t async for t in stream])
        assert len(text.split()) == TOKEN_COUNT and stream.result.ok, stream.result

    try:
        for _ in range(TURNS):
            await turn()
    finally:
        await router.aclose()
    # The servers are daemon threads of this process: they end with it.
    return server.connections


async def main() -> None:
    serve_without_nagle()
    notes: list[str] = []
    counts: dict[str, int] = {}
    for protocol in PROVIDERS:
        wire_module = "openai" if protocol == "openai-compatible" else protocol
        if not (ROOT / "tests" / "wire" / f"{wire_module}.py").exists():
            continue
        count = counts[protocol] = await connections_for(protocol)
        verdict = "ok" if count == 1 else "MISSED: a new connection per answer"
        notes.append(f"{protocol:<18}{count:>3} connection(s) for {TURNS} answers  {verdict}")
    report(
        "connection_reuse",
        f"connections per {TURNS} streamed answers through one router",
        [],
        notes,
        connections=counts,
        turns=TURNS,
    )


if __name__ == "__main__":
    asyncio.run(main())
