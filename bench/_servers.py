"""Loopback wire servers for benchmarks, in a process of their own.

The servers in tests/wire are Python threads; in the measuring process they would compete
with the client for the GIL (and for one of this machine's two cores in the same way every
run, but noisily). Here each runs in a child process that prints its URL and serves until
its stdin closes.

    with served("ollama") as url: ...        # a 200-token streamed answer to every chat

Run directly: ``python bench/_servers.py ollama`` prints the URL and serves until EOF.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PROTOCOLS = ("ollama", "anthropic", "gemini", "openai")
TOKEN_COUNT = 200
_WORDS = (
    "the",
    "router",
    "walks",
    "its",
    "chain",
    "until",
    "a",
    "provider",
    "answers",
    "streaming",
    "tokens",
    "back",
)

#: What every answer streams: 200 tokens of one word and a space (about 1.3 KB of text);
#: the last word appears nowhere else, so a terminal driver can wait for the end.
LAST_WORD = "fin"
TOKENS = [f"{_WORDS[i % len(_WORDS)]} " for i in range(TOKEN_COUNT - 1)] + [f"{LAST_WORD} "]
ANSWER = "".join(TOKENS)


def serve_without_nagle() -> None:
    """Set TCP_NODELAY on every accepted connection, as real servers do (Go's net/http,
    which Ollama uses, does by default).

    Without it the chunked terminator, a tiny write after the last event, waits for the
    client's delayed ACK: 40 ms at the end of every answer that a real server never adds,
    charged to any client that reads the body to its end.
    """
    from tests.wire.loopback import LoopbackServer

    serve = LoopbackServer._serve

    def serve_nodelay(self: LoopbackServer, conn: socket.socket) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        serve(self, conn)

    LoopbackServer._serve = serve_nodelay  # type: ignore[method-assign]


def start(protocol: str) -> object:
    """Build and start the wire server for ``protocol``; returns an object with ``.url``."""
    from tests.wire.loopback import LoopbackServer, Reply, Stall
    from tests.wire.ollama import OllamaWire

    if protocol == "ollama":
        return OllamaWire(default_tokens=TOKENS, accept_any_model=True).start()
    if protocol == "anthropic":
        from tests.wire.anthropic import AnthropicWire

        server = LoopbackServer()
        AnthropicWire(server).answer(TOKENS, always=True)
        return server.start()
    if protocol == "gemini":
        from tests.wire.gemini import GeminiWire

        return GeminiWire(default_tokens=TOKENS, accept_any_model=True).start()
    if protocol == "openai":
        from tests.wire.openai import openai_handler

        # openai_handler streams the text in word-sized tokens: the same 200 tokens.
        return LoopbackServer(openai_handler(ANSWER.rstrip(" "))).start()
    if protocol.startswith("markdown-"):  # bench/render_pty.py: a generated markdown answer
        from render_throughput import answer, tokenize

        tokens = tokenize(answer(int(protocol.removeprefix("markdown-"))))
        return OllamaWire(default_tokens=tokens, accept_any_model=True).start()
    if protocol == "hang":
        return LoopbackServer(lambda _request: Reply(before_headers=[Stall()])).start()
    raise SystemExit(f"unknown protocol {protocol!r} (known: {', '.join(PROTOCOLS)}, hang)")


@contextlib.contextmanager
def served(protocol: str) -> Iterator[str]:
    """A server for ``protocol`` in a child process; yields its base URL (no ``/v1``)."""
    child = subprocess.Popen(
        [sys.executable, __file__, protocol],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise SystemExit(f"bench: {protocol} server did not start")
        yield url
    finally:
        assert child.stdin is not None
        child.stdin.close()
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def main() -> None:
    serve_without_nagle()
    server = start(sys.argv[1])
    print(server.url, flush=True)  # type: ignore[attr-defined]
    sys.stdin.read()  # serve until the parent closes our stdin (or exits)


if __name__ == "__main__":
    main()
