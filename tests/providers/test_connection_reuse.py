"""Keep-alive: one provider instance answers turn after turn over one connection.

Against a real API every new connection is a TCP and TLS handshake before the next answer's
first token. httpx pools a connection only once its body was read to the end, so adapters
that stop at their protocol's final event read the few bytes after it
(``providers.http.drain``): after handing over the finish chunk, within a bound, and never
for a consumer that left early. Replies come from the ``tests/wire`` builders, whose
docstrings cite the vendors' documented shapes.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import cast

import httpx
import pytest

from providers.anthropic import AnthropicProvider
from providers.base import BaseProvider, ProviderSettings
from providers.gemini import GeminiProvider
from providers.http import DRAIN_MAX_BYTES, DRAIN_TIMEOUT, drain
from providers.ollama import OllamaProvider
from providers.openai_compat import OpenAICompatibleProvider
from providers.openai_responses import OpenAIResponsesProvider
from providers.types import ChatRequest, Chunk, Message
from tests.wire import anthropic, gemini, ollama, openai
from tests.wire.loopback import BodyPart, LoopbackServer, Reply, Request, Reset, Stall, sse

TOKENS = ("Alpha", " beta", " gamma")
TEXT = "".join(TOKENS)


@dataclass(frozen=True)
class Protocol:
    """How to build a provider for a base URL and how its server answers."""

    make: Callable[[str], BaseProvider]
    model: str
    stream_parts: Callable[[Sequence[str]], list[BodyPart]]
    whole: Callable[[str], Reply]
    streams: Callable[[Request], bool]
    content_type: str = "text/event-stream"


def _asks_stream(request: Request) -> bool:
    return bool(json.loads(request.body or b"{}").get("stream"))


PROTOCOLS = {
    "ollama": Protocol(
        lambda url: OllamaProvider(
            ProviderSettings("ollama", "ollama", "llama3.2", timeout=5.0, options={"host": url})
        ),
        "llama3.2",
        ollama.chat_stream,
        lambda text: Reply.json(ollama.chat_response(text)),
        ollama.wants_stream,
        ollama.NDJSON,
    ),
    "anthropic": Protocol(
        lambda url: AnthropicProvider(anthropic.claude_settings(url)),
        "claude-sonnet-4-5",
        lambda tokens: sse(anthropic.stream_events(tokens)),
        lambda text: Reply.json(anthropic.message_json(text)),
        _asks_stream,
    ),
    "gemini": Protocol(
        lambda url: GeminiProvider(
            ProviderSettings(
                "gemini", "gemini", "gemini-2.5-flash", gemini.TEST_KEY, base_url=url, timeout=5.0
            )
        ),
        "gemini-2.5-flash",
        lambda tokens: gemini.sse_body(gemini.stream_events(tokens)),
        lambda text: Reply.json(gemini.generate_response(text)),
        gemini.is_stream,
    ),
    "openai": Protocol(
        lambda url: OpenAIResponsesProvider(openai.codex_settings(f"{url}/v1")),
        openai.RESPONSES_MODEL,
        lambda tokens: openai.responses_sse(openai.responses_events(tokens)),
        openai.responses_reply,
        _asks_stream,
    ),
    "openai-compatible": Protocol(
        lambda url: OpenAICompatibleProvider(openai.compat_settings(f"{url}/v1")),
        openai.CHAT_MODEL,
        openai.chat_sse,
        openai.chat_reply,
        _asks_stream,
    ),
}
#: The protocols whose adapters stop at a final event (gemini reads to the body's end).
DRAINED = [p for p in PROTOCOLS if p != "gemini"]


@dataclass
class Answers:
    """Every generate request gets ``TOKENS``; ``tail`` goes after the next stream only."""

    protocol: Protocol
    tail: list[BodyPart] = field(default_factory=list)
    cut_after_first_token: bool = False

    def __call__(self, request: Request) -> Reply:
        if not self.protocol.streams(request):
            return self.protocol.whole(TEXT)
        parts = self.protocol.stream_parts(TOKENS)
        if self.cut_after_first_token:
            first = next(i for i, part in enumerate(parts) if TOKENS[0] in str(part))
            parts = [*parts[: first + 1], Stall()]
        body, self.tail, self.cut_after_first_token = [*parts, *self.tail], [], False
        return Reply(body=body, content_type=self.protocol.content_type)


@pytest.fixture(params=list(PROTOCOLS))
def protocol(request: pytest.FixtureRequest) -> Protocol:
    return PROTOCOLS[request.param]


@pytest.fixture
def answers(protocol: Protocol, loopback: LoopbackServer) -> Answers:
    loopback.handler = answers = Answers(protocol)
    return answers


def chat(protocol: Protocol) -> ChatRequest:
    return ChatRequest(messages=(Message("user", "Say something"),), model=protocol.model)


async def streamed(provider: BaseProvider, request: ChatRequest) -> list[Chunk]:
    return [chunk async for chunk in provider.stream(request)]


async def leave_at(
    provider: BaseProvider, request: ChatRequest, stop: Callable[[Chunk], bool]
) -> Chunk:
    """Iterate until ``stop(chunk)``, then close the stream, as a consumer that leaves does."""
    stream = cast(AsyncGenerator[Chunk, None], provider.stream(request))
    async with aclosing(stream):
        async for chunk in stream:
            if stop(chunk):
                return chunk
    raise AssertionError("the stream ended first")


async def closed(server: LoopbackServer) -> bool:
    """True once the server saw every connection closed (the client's close needs the loop)."""
    return await asyncio.to_thread(server.wait_closed)


async def test_streamed_answers_share_one_connection(
    protocol: Protocol, answers: Answers, loopback: LoopbackServer
) -> None:
    provider = protocol.make(loopback.url)
    try:
        for _ in range(3):
            chunks = await streamed(provider, chat(protocol))
            assert "".join(c.text for c in chunks) == TEXT
            assert chunks[-1].finish_reason == "stop"
    finally:
        await provider.close()
    assert len(loopback.requests) == 3
    assert loopback.connections == 1, "each answer opened a new connection"


async def test_whole_answers_share_one_connection(
    protocol: Protocol, answers: Answers, loopback: LoopbackServer
) -> None:
    provider = protocol.make(loopback.url)
    try:
        for _ in range(3):
            assert (await provider.chat(chat(protocol))).text == TEXT
    finally:
        await provider.close()
    assert loopback.connections == 1


async def test_leaving_a_stream_early_closes_its_connection(
    protocol: Protocol, answers: Answers, loopback: LoopbackServer
) -> None:
    provider = protocol.make(loopback.url)
    answers.cut_after_first_token = True  # then the server waits for the client to leave
    try:
        await leave_at(provider, chat(protocol), lambda chunk: bool(chunk.text))
        assert await closed(loopback), "the abandoned stream kept its connection open"
        chunks_again = await streamed(provider, chat(protocol))
        assert "".join(c.text for c in chunks_again) == TEXT
    finally:
        await provider.close()
    assert loopback.connections == 2


@pytest.mark.parametrize("name", DRAINED)
async def test_stopping_at_the_finish_chunk_closes_the_connection(
    name: str, loopback: LoopbackServer
) -> None:
    protocol = PROTOCOLS[name]
    loopback.handler = Answers(protocol, tail=[Stall()])
    provider = protocol.make(loopback.url)
    try:
        last = await leave_at(provider, chat(protocol), lambda chunk: bool(chunk.finish_reason))
        assert last.finish_reason == "stop"
        assert await closed(loopback)
    finally:
        await provider.close()


@pytest.mark.parametrize("name", DRAINED)
async def test_a_tail_that_never_ends_costs_the_connection_not_the_answer(
    name: str, loopback: LoopbackServer
) -> None:
    protocol = PROTOCOLS[name]
    loopback.handler = Answers(protocol, tail=[Stall()])
    provider = protocol.make(loopback.url)
    try:
        times: list[float] = []
        chunks: list[Chunk] = []
        async for chunk in provider.stream(chat(protocol)):
            chunks.append(chunk)
            times.append(time.monotonic())
        ended = time.monotonic()
        assert chunks[-1].finish_reason == "stop"
        # Bounded by the drain, which gave up before the read timeout (5 s) would have ended
        # it (by order: 50 times the drain's bound), and the finish chunk was not held back.
        assert ended - times[-1] < 5.0
        assert ended - times[-1] >= 0.05, "the finish chunk waited for the body's end"
        assert await closed(loopback)
        assert "".join(c.text for c in await streamed(provider, chat(protocol))) == TEXT
    finally:
        await provider.close()
    assert loopback.connections == 2


@pytest.mark.parametrize("name", DRAINED)
async def test_a_long_tail_is_not_read(name: str, loopback: LoopbackServer) -> None:
    protocol = PROTOCOLS[name]
    pad = f"data: {json.dumps({'pad': 'x' * 4000})}\n\n"
    loopback.handler = Answers(protocol, tail=[pad] * 40)  # 160 KB, past the 64 KB bound
    provider = protocol.make(loopback.url)
    try:
        for _ in range(2):
            chunks = await streamed(provider, chat(protocol))
            assert (chunks[-1].finish_reason, "".join(c.text for c in chunks)) == ("stop", TEXT)
    finally:
        await provider.close()
    assert loopback.connections == 2


async def _drained(
    loopback: LoopbackServer, tail: list[BodyPart], max_bytes: int, timeout: float
) -> bool:
    """Read the first part of a chunked reply, drain the rest; True if the body ended."""
    loopback.enqueue(Reply(body=["first", *tail]), Reply(body=b"again"))
    async with httpx.AsyncClient(base_url=loopback.url) as client:
        async with client.stream("GET", "/") as response:
            rest = response.aiter_bytes()
            assert await anext(rest) == b"first"
            ended = await drain(rest, response, max_bytes=max_bytes, timeout=timeout)
        assert (await client.get("/")).content == b"again"
    return ended


async def test_drain_reads_a_short_tail_and_keeps_the_connection(
    loopback: LoopbackServer,
) -> None:
    assert await _drained(loopback, ["data: [DONE]\n\n"], DRAIN_MAX_BYTES, DRAIN_TIMEOUT)
    assert loopback.connections == 1


@pytest.mark.parametrize(
    ("tail", "max_bytes", "timeout"),
    [
        (["x" * 300], 100, DRAIN_TIMEOUT),
        ([Stall()], DRAIN_MAX_BYTES, 0.05),
        ([Reset()], DRAIN_MAX_BYTES, DRAIN_TIMEOUT),
    ],
    ids=["too-long", "stalled", "reset"],
)
async def test_drain_gives_up_quietly_and_the_connection_is_closed(
    loopback: LoopbackServer, tail: list[BodyPart], max_bytes: int, timeout: float
) -> None:
    started = time.monotonic()
    assert not await _drained(loopback, tail, max_bytes, timeout)
    # A stalled tail is left before httpx's own read timeout (5 s) would end it.
    assert time.monotonic() - started < 5.0
    assert loopback.connections == 2
