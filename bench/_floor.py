"""The floor for a one-shot streamed answer: the least a Python process can do for it.

Sends the same streamed request ollama-cli sends, parses each event as JSON and writes the
text to stdout, with nothing else: no config, router, history or renderer. Two clients:

    python bench/_floor.py httpx PROTOCOL URL     # httpx, as the adapters use it
    python bench/_floor.py stdlib PROTOCOL URL    # http.client only: Python's own floor

``httpx-async`` does it as the application does (asyncio and ``httpx.AsyncClient``); a
``-nocli`` suffix keeps httpx's command-line module out (httpx imports ``httpx._main``, and
with it click, rich and pygments, whenever click is installed).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

PROMPT = "hi"
KEY = "bench-dummy-key"


def request_for(protocol: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    """(path, headers, body) of a streamed request in ``protocol``."""
    messages = [{"role": "user", "content": PROMPT}]
    if protocol == "ollama":
        return "/api/chat", {}, {"model": "llama3.2", "messages": messages, "stream": True}
    if protocol == "anthropic":
        headers = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
        body = {
            "model": "claude-sonnet-4-5",
            "max_tokens": 1024,
            "messages": messages,
            "stream": True,
        }
        return "/v1/messages", headers, body
    if protocol == "gemini":
        path = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
        body = {"contents": [{"role": "user", "parts": [{"text": PROMPT}]}]}
        return path, {"x-goog-api-key": KEY}, body
    if protocol == "openai":
        body = {"model": "gpt-5-codex", "input": messages, "stream": True}
        return "/v1/responses", {"authorization": f"Bearer {KEY}"}, body
    raise SystemExit(f"unknown protocol {protocol!r}")


def text_of(protocol: str, event: dict[str, Any]) -> str:
    if protocol == "ollama":
        return str(event.get("message", {}).get("content", ""))
    if protocol == "anthropic":
        return str(event.get("delta", {}).get("text", "")) if "delta" in event else ""
    if protocol == "gemini":
        parts = event["candidates"][0]["content"]["parts"]
        return "".join(p.get("text", "") for p in parts)
    return str(event["delta"]) if event.get("type") == "response.output_text.delta" else ""


def events(protocol: str, lines: Iterator[bytes]) -> Iterator[dict[str, Any]]:
    """JSON objects from NDJSON lines (Ollama) or SSE ``data:`` lines (everyone else)."""
    for line in lines:
        line = line.strip()
        if protocol == "ollama":
            if line:
                yield json.loads(line)
        elif line.startswith(b"data:"):
            yield json.loads(line[5:])


def with_httpx(protocol: str, url: str) -> None:
    import httpx

    path, headers, body = request_for(protocol)
    with (
        httpx.Client(base_url=url, timeout=60) as client,
        client.stream("POST", path, json=body, headers=headers) as response,
    ):
        response.raise_for_status()
        out = sys.stdout
        for event in events(protocol, (s.encode() for s in response.iter_lines())):
            out.write(text_of(protocol, event))
            out.flush()


def with_httpx_async(protocol: str, url: str) -> None:
    """As the application does it: asyncio, httpx.AsyncClient (and so anyio)."""
    import asyncio

    import httpx

    async def run() -> None:
        path, headers, body = request_for(protocol)
        async with (
            httpx.AsyncClient(base_url=url, timeout=60) as client,
            client.stream("POST", path, json=body, headers=headers) as response,
        ):
            response.raise_for_status()
            out = sys.stdout
            lines = [line.encode() async for line in response.aiter_lines()]
            for event in events(protocol, iter(lines)):
                out.write(text_of(protocol, event))
                out.flush()

    asyncio.run(run())


def with_stdlib(protocol: str, url: str) -> None:
    import http.client
    from urllib.parse import urlsplit

    path, headers, body = request_for(protocol)
    where = urlsplit(url)
    conn = http.client.HTTPConnection(where.hostname or "127.0.0.1", where.port, timeout=60)
    conn.request("POST", path, json.dumps(body), {"content-type": "application/json", **headers})
    response = conn.getresponse()
    if response.status != 200:
        raise SystemExit(f"HTTP {response.status}")
    out = sys.stdout
    for event in events(protocol, iter(response.readline, b"")):
        out.write(text_of(protocol, event))
        out.flush()
    conn.close()


def main() -> None:
    client, protocol, url = sys.argv[1:4]
    if client.endswith("-nocli"):
        sys.modules["httpx._main"] = None  # type: ignore[assignment]  # ImportError → no CLI
        client = client.removesuffix("-nocli")
    run = {"httpx": with_httpx, "httpx-async": with_httpx_async, "stdlib": with_stdlib}[client]
    run(protocol, url)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
