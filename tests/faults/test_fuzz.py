"""Property tests (hypothesis): the config loader, and every provider's stream reading.

- ``load_config`` on any text, and on generated TOML documents that look like configs,
  raises nothing but ``ConfigError``.
- Each provider's real adapter, fed a valid stream cut into arbitrary network chunks,
  gives the same text and finish reason however it was cut. Non-ASCII text is sent raw,
  as the vendors send it, so a line splitter that breaks on U+2028 or NEL would show.
- Arbitrary bytes, arbitrary statuses, and valid streams whose JSON values were replaced
  by values of any type, raise nothing but the taxonomy's errors.

The bytes reach the adapters through httpx's transport layer (pytest-httpx), which keeps
the chunk boundaries exactly as drawn; a socket would merge them.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_httpx import HTTPXMock, IteratorStream

from ollama_cli.config import ConfigError, load_config
from providers.base import BaseProvider
from providers.errors import ProviderError
from providers.registry import ProviderRegistry
from providers.types import ChatRequest, Message
from tests.faults import CANARIES, toml_config, victim_table
from tests.faults.servers import WIRES
from tests.wire import anthropic, gemini, ollama, openai
from tests.wire.loopback import sse

FIXTURE_OK = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
URL = "http://127.0.0.1:9"  # never contacted: pytest-httpx answers at the transport

Events = Callable[[Sequence[str]], list[dict[str, Any]]]
Frame = Callable[[list[dict[str, Any]]], bytes]


def _raw(text: str) -> bytes:
    return text.encode()


def _sse_raw(pairs: list[tuple[str | None, dict[str, Any]]], sep: str = "\n") -> bytes:
    """SSE blocks with JSON written as UTF-8, not \\u-escaped (what the APIs send)."""
    out = ""
    for event, data in pairs:
        head = f"event: {event}{sep}" if event else ""
        out += f"{head}data: {json.dumps(data, ensure_ascii=False)}{sep}{sep}"
    return out.encode()


#: Each provider's valid stream as events (the tests/wire builders) and its framing.
STREAMS: dict[str, tuple[Events, Frame]] = {
    "ollama": (
        lambda t: ollama.chat_events(t),
        lambda events: b"".join(map(_raw, ollama.ndjson_lines(events))),  # type: ignore[arg-type]
    ),
    "claude": (
        lambda t: [data for _, data in anthropic.stream_events(t)],
        lambda events: _sse_raw([(str(e.get("type")), e) for e in events]),
    ),
    "gemini": (
        lambda t: gemini.stream_events(t),
        lambda events: _sse_raw([(None, e) for e in events], sep="\r\n"),
    ),
    "codex": (
        lambda t: openai.responses_events(t),
        lambda events: _sse_raw([(str(e.get("type")), e) for e in events]),
    ),
    "hf": (
        lambda t: openai.chat_chunks(t),
        lambda events: _sse_raw([(None, e) for e in events]) + b"data: [DONE]\n\n",
    ),
}
CONTENT_TYPES = {"ollama": ollama.NDJSON}


def make_provider(name: str, tmp: Path) -> BaseProvider:
    wire = WIRES[name]
    path = tmp / f"{name}.toml"
    path.write_text(toml_config([name], {name: victim_table(wire, URL, 5.0)}))
    config = load_config(path, CANARIES)
    return ProviderRegistry().create(config.providers[name].settings(CANARIES))


class Feed:
    """What pytest-httpx answers every request with (set before each example), and one
    event loop and provider per test, reused by every example (an httpx client costs ms)."""

    def __init__(self, httpx_mock: HTTPXMock, tmp: Path) -> None:
        self.status = 200
        self.chunks: list[bytes] = []
        self.content_type = "text/event-stream"
        self.tmp = tmp
        self.loop = asyncio.new_event_loop()
        self.providers: dict[str, BaseProvider] = {}
        httpx_mock.add_callback(self._respond, is_reusable=True, is_optional=True)

    def _respond(self, request: httpx.Request) -> httpx.Response:
        headers = {"content-type": self.content_type}
        return httpx.Response(self.status, headers=headers, stream=IteratorStream(self.chunks))

    def read(self, name: str) -> tuple[str, str | None]:
        """Stream one answer through the real adapter: its text and finish reason."""
        if name not in self.providers:
            self.providers[name] = make_provider(name, self.tmp)
        return self.loop.run_until_complete(_read(self.providers[name], WIRES[name].model))

    def close(self) -> None:
        for provider in self.providers.values():
            self.loop.run_until_complete(provider.close())
        self.loop.close()


async def _read(provider: BaseProvider, model: str) -> tuple[str, str | None]:
    text, finish = "", None
    async for chunk in provider.stream(ChatRequest((Message("user", "hi"),), model)):
        text += chunk.text
        finish = chunk.finish_reason or finish
    return text, finish


def cut(body: bytes, points: set[int]) -> list[bytes]:
    edges = [0, *sorted(p for p in points if 0 < p < len(body)), len(body)]
    return [body[a:b] for a, b in itertools.pairwise(edges)]


@pytest.fixture
def feed(httpx_mock: HTTPXMock, tmp_path: Path) -> Iterator[Feed]:
    feed = Feed(httpx_mock, tmp_path)
    yield feed
    feed.close()


#: Text that line splitters get wrong: every Unicode line break, CR/LF, SSE-looking text.
AWKWARD = ["\u2028", "\u2029", "\x85", "\x0b", "\x1c", "\r", "\r\n", "\n\n", "data: x\n\n", "é€😀"]
TOKENS = st.lists(
    st.text(min_size=1, max_size=12) | st.sampled_from(AWKWARD), min_size=1, max_size=6
)
#: ``OLLAMA_CLI_FUZZ_SCALE=20`` for a long local run; CI runs the counts below.
SCALE = int(os.environ.get("OLLAMA_CLI_FUZZ_SCALE", "1"))


@pytest.mark.parametrize("name", list(STREAMS))
@settings(max_examples=150 * SCALE, deadline=None, suppress_health_check=FIXTURE_OK)
@given(data=st.data())
def test_any_chunking_of_a_valid_stream_gives_the_same_answer(
    feed: Feed, name: str, data: st.DataObject
) -> None:
    events, frame = STREAMS[name]
    tokens = data.draw(TOKENS, label="tokens")
    body = frame(events(tokens))
    feed.chunks = cut(body, data.draw(st.sets(st.integers(1, len(body)), max_size=40)))
    feed.content_type = CONTENT_TYPES.get(name, "text/event-stream")
    assert feed.read(name) == ("".join(tokens), "stop")


def taxonomy_only(feed: Feed, name: str) -> None:
    try:
        feed.read(name)
    except ProviderError as exc:
        assert "\n" not in str(exc) and str(exc).startswith(f"{name}: ")


@pytest.mark.parametrize("name", list(STREAMS))
@settings(max_examples=150 * SCALE, deadline=None, suppress_health_check=FIXTURE_OK)
@given(
    status=st.sampled_from([200, 200, 200, 400, 401, 404, 429, 500, 503, 529]),
    content_type=st.sampled_from(
        ["text/event-stream", "application/x-ndjson", "application/json", "text/html", ""]
    ),
    chunks=st.lists(st.binary(max_size=300), max_size=8),
)
def test_arbitrary_bytes_raise_only_taxonomy_errors(
    feed: Feed, name: str, status: int, content_type: str, chunks: list[bytes]
) -> None:
    feed.status, feed.content_type, feed.chunks = status, content_type, chunks
    taxonomy_only(feed, name)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def mutate(data: st.DataObject, value: Any, depth: int = 0) -> Any:
    """``value`` with some of its nested values replaced by JSON values of any type."""
    if depth and data.draw(st.integers(0, 7)) == 0:
        return data.draw(JSON_VALUES)
    if isinstance(value, dict):
        return {
            k: mutate(data, v, depth + 1) for k, v in value.items() if data.draw(st.integers(0, 15))
        }
    if isinstance(value, list):
        return [mutate(data, v, depth + 1) for v in value]
    return value


@pytest.mark.parametrize("name", list(STREAMS))
@settings(max_examples=300 * SCALE, deadline=None, suppress_health_check=FIXTURE_OK)
@given(data=st.data())
def test_valid_framing_with_values_of_any_type_raises_only_taxonomy_errors(
    feed: Feed, name: str, data: st.DataObject
) -> None:
    events, frame = STREAMS[name]
    mutated = [mutate(data, e) for e in events(data.draw(TOKENS))]
    body = frame([e if isinstance(e, dict) else {"type": e} for e in mutated])
    feed.chunks = cut(body, data.draw(st.sets(st.integers(1, max(1, len(body))), max_size=10)))
    feed.content_type = CONTENT_TYPES.get(name, "text/event-stream")
    taxonomy_only(feed, name)


@pytest.mark.parametrize("choices", [True, 3, 1.5], ids=["bool", "int", "float"])
def test_a_choices_field_that_is_not_a_list(feed: Feed, choices: object) -> None:
    feed.chunks = [_sse_raw([(None, {"choices": choices})]) + b"data: [DONE]\n\n"]
    taxonomy_only(feed, "hf")


KEYS = ["chain", "retries", "max_retry_wait", "cooldown_failures", "cooldown_seconds",
        "resume_interrupted", "hedge_after_ms", "fallback", "enabled", "type", "default_model",
        "api_key_env", "api_key", "base_url", "timeout", "connect_timeout", "host",
        "max_tokens", "n_ctx", "model_path", "surprise"]  # fmt: skip
TABLES = ["router", "history", "providers.claude", "providers.ollama", "providers.local",
          "providers.mine", "providers.hf", "elsewhere"]  # fmt: skip
SCALARS = (
    st.integers(-(2**70), 2**70)
    | st.floats()
    | st.booleans()
    | st.text(max_size=20)
    | st.sampled_from(
        ["${env.HOME}", "${env.NOPE}", "${env.NOPE:=x}", "openai-compatible", "ollama"]
    )
)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3), max_leaves=5)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return {"inf": "inf", "-inf": "-inf", "nan": "nan"}.get(repr(value), repr(value))
    if isinstance(value, list):
        return "[" + ", ".join(map(toml_value, value)) + "]"
    if isinstance(value, str):
        return json.dumps(value)
    return str(value)


CONFIGS = st.dictionaries(
    st.sampled_from(TABLES), st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=5), max_size=5
)


def load(tmp: Path, text: str) -> None:
    path = tmp / "config.toml"
    path.write_text(text, encoding="utf-8")
    try:
        load_config(path, {"HOME": "/home/user"})
    except ConfigError as exc:
        assert "\n" not in str(exc)


@settings(max_examples=500 * SCALE, deadline=None, suppress_health_check=FIXTURE_OK)
@given(tables=CONFIGS)
def test_config_documents_raise_only_config_errors(tmp_path: Path, tables: dict[str, Any]) -> None:
    text = "".join(
        f"[{name}]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in table.items())
        for name, table in tables.items()
    )
    load(tmp_path, text)


@settings(max_examples=300 * SCALE, deadline=None, suppress_health_check=FIXTURE_OK)
@given(text=st.text())
def test_any_text_raises_only_config_errors(tmp_path: Path, text: str) -> None:
    load(tmp_path, text)


def test_the_stream_builders_here_match_tests_wire() -> None:
    """The raw-UTF-8 framing above is the wire modules' framing, but for the escaping."""
    tokens = ["caf\u00e9", " ok"]
    assert STREAMS["claude"][1](
        [d for _, d in anthropic.stream_events(tokens)]
    ).decode() == "".join(str(p) for p in sse(anthropic.stream_events(tokens), sep="\n")).replace(
        "\\u00e9", "\u00e9"
    )
