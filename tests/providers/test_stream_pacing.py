"""The wait for each event of a stream (providers.sse.aiter_decoded), over real sockets.

httpx's read timeout applies to each socket read, so a server that drips one byte at a
time never trips it. Every adapter reads its stream through ``aiter_decoded``, which
bounds the wait for each *complete* event (a line, for Ollama's NDJSON) by the
provider's ``timeout``. The servers replay each protocol's own stream (tests/wire, via
the fault catalogue of tests/faults/servers.py), only slowed down.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Iterable
from pathlib import Path

import pytest

from ollama_cli.config import load_config
from providers.base import BaseProvider
from providers.errors import ProviderUnavailableError
from providers.registry import ProviderRegistry
from providers.types import ChatRequest, Chunk, Message
from tests.faults import CANARIES, toml_config, victim_table
from tests.faults.servers import WIRES, Wire
from tests.wire import anthropic
from tests.wire.loopback import BodyPart, LoopbackServer, Pause, Reply, sse

#: Each event's bound. Large against every pause the servers make (a quarter of it at most)
#: so that a busy machine, slow to schedule the server thread, does not turn a steady stream
#: into a stall.
TIMEOUT = 1.0


def make_provider(wire: Wire, url: str, tmp_path: Path, timeout: float = TIMEOUT) -> BaseProvider:
    """The built-in provider of ``wire``'s protocol, as the config loader makes it."""
    path = tmp_path / "config.toml"
    path.write_text(toml_config([wire.provider], {wire.provider: victim_table(wire, url, timeout)}))
    config = load_config(path, CANARIES)
    return ProviderRegistry().create(config.providers[wire.provider].settings(CANARIES))


def body_bytes(reply: Reply) -> bytes:
    parts = reply.body if isinstance(reply.body, list) else [reply.body]
    return b"".join(
        p.encode() if isinstance(p, str) else p for p in parts if isinstance(p, (str, bytes))
    )


def paced(parts: Iterable[BodyPart], pause: float) -> list[BodyPart]:
    """``parts`` with a pause after each one."""
    return [x for part in parts for x in (part, Pause(pause))]


async def ask(provider: BaseProvider, model: str, *, linger: float = 0.0) -> str:
    """The streamed text; ``linger`` seconds of consumer work after the first chunk."""
    text = ""
    try:
        async for chunk in provider.stream(ChatRequest((Message("user", "hi"),), model)):
            await asyncio.sleep(linger if not text else 0)
            text += chunk.text
    finally:
        await provider.close()
    return text


@pytest.mark.parametrize("name", list(WIRES))
async def test_a_server_dripping_bytes_fails_within_the_timeout(
    loopback: LoopbackServer, tmp_path: Path, name: str
) -> None:
    wire = WIRES[name]
    data = body_bytes(wire.answer(["The ", "quick ", "brown "]))
    # 20 bytes a second: each event would take seconds, each socket read well under one.
    drip = paced((data[i : i + 1] for i in range(len(data))), 0.05)
    loopback.enqueue(Reply(body=drip, content_type=wire.stream_type))
    provider = make_provider(wire, loopback.url, tmp_path)
    # Unbounded, the drip would end in a whole answer after seconds: the error is the proof.
    with pytest.raises(ProviderUnavailableError) as caught:
        await ask(provider, wire.model)
    unit = "line" if name == "ollama" else "event"
    assert str(caught.value) == (
        f"{name}: {loopback.url} stopped sending (no complete {unit} in {TIMEOUT:g} s)"
    )
    assert caught.value.provider == name


@pytest.mark.parametrize("name", list(WIRES))
async def test_events_that_keep_coming_may_take_longer_than_the_timeout_in_all(
    loopback: LoopbackServer, tmp_path: Path, name: str
) -> None:
    wire = WIRES[name]
    reply = wire.answer(list("abcdef"))
    assert isinstance(reply.body, list)
    slow = [*paced(reply.body[:6], TIMEOUT / 4), *reply.body[6:]]
    loopback.enqueue(Reply(body=slow, content_type=wire.stream_type))
    started = time.perf_counter()
    assert await ask(make_provider(wire, loopback.url, tmp_path), wire.model) == "abcdef"
    assert time.perf_counter() - started > TIMEOUT  # longer than one timeout in all


async def test_the_consumers_own_time_does_not_count(
    loopback: LoopbackServer, tmp_path: Path
) -> None:
    wire = WIRES["claude"]
    loopback.enqueue(wire.answer(["a", "b", "c"]))  # all at once: the client is the slow one
    provider = make_provider(wire, loopback.url, tmp_path)
    assert await ask(provider, wire.model, linger=TIMEOUT * 1.5) == "abc"


def claude_stream(keep_alive: str) -> list[BodyPart]:
    """message_start, then ``keep_alive`` every 0.1 s for 2 timeouts, then the answer."""
    events = anthropic.stream_events(["late"])
    waiting = paced([keep_alive] * int(2 * TIMEOUT / 0.1), 0.1)
    return [*sse(events[:1]), *waiting, *sse(events[1:])]


async def test_ping_events_keep_a_stream_alive(loopback: LoopbackServer, tmp_path: Path) -> None:
    """Anthropic sends ``ping`` events while the model thinks: each one is an event."""
    ping = 'event: ping\ndata: {"type": "ping"}\n\n'
    loopback.enqueue(Reply(body=claude_stream(ping), content_type="text/event-stream"))
    assert await ask(make_provider(WIRES["claude"], loopback.url, tmp_path), "m") == "late"


async def test_comments_alone_do_not_keep_a_stream_alive(
    loopback: LoopbackServer, tmp_path: Path
) -> None:
    """A server that sends nothing but comments gives the user nothing: it has stalled."""
    loopback.enqueue(
        Reply(body=claude_stream(": keep-alive\n\n"), content_type="text/event-stream")
    )
    with pytest.raises(ProviderUnavailableError, match=rf"no complete event in {TIMEOUT:g} s\)$"):
        await ask(make_provider(WIRES["claude"], loopback.url, tmp_path), "m")


async def test_silence_still_reads_as_a_read_timeout(
    loopback: LoopbackServer, tmp_path: Path
) -> None:
    wire = WIRES["hf"]
    reply = wire.answer(["a"])
    assert isinstance(reply.body, list)
    loopback.enqueue(Reply(body=[reply.body[0], Pause(3 * TIMEOUT)], content_type=wire.stream_type))
    with pytest.raises(
        ProviderUnavailableError, match=r"^hf: .* stopped sending \(read timed out\)$"
    ):
        await ask(make_provider(wire, loopback.url, tmp_path), wire.model)


async def test_a_stream_stopped_early_leaves_no_deadline_behind(
    loopback: LoopbackServer, tmp_path: Path
) -> None:
    """Closing the stream at its first chunk must not leave a timer to fire later."""
    wire = WIRES["ollama"]
    loopback.enqueue(wire.answer(["a", "b"]))
    provider = make_provider(wire, loopback.url, tmp_path)
    stream = provider.stream(ChatRequest((Message("user", "hi"),), wire.model))
    assert isinstance(stream, AsyncGenerator)
    try:
        assert await anext(stream) == Chunk(text="a")
        await stream.aclose()
        await asyncio.sleep(TIMEOUT * 1.5)  # a leaked deadline would cancel this task now
    finally:
        await provider.close()
