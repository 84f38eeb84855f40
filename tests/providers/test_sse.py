"""The shared SSE reader (providers/sse.py): bytes however split → the same events.

The field rules follow WHATWG HTML, "Interpreting an event stream"
(html.spec.whatwg.org/multipage/server-sent-events.html); the recorded shapes (``data:``
without a space, ``: ping`` keep-alives, CRLF, a last event without its blank line) are
the ones tests/wire/* replay for the anthropic, gemini and openai adapters.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from providers.errors import ProviderError, ProviderUnavailableError
from providers.sse import EventParser, LineDecoder, ServerSentEvent, SSEDecoder, aiter_sse
from tests.wire.loopback import LoopbackServer, Reply

Event = tuple[str, str, str, int | None]


def as_tuples(events: Iterable[ServerSentEvent]) -> list[Event]:
    # ServerSentEvent has no __eq__: compare its fields.
    return [(e.event, e.data, e.id, e.retry) for e in events]


def decode(chunks: Iterable[bytes], name: str = "claude") -> list[Event]:
    decoder = SSEDecoder(name)
    events = [e for chunk in chunks for e in decoder.feed(chunk)]
    return as_tuples(events + decoder.close())


class Chunks(httpx.AsyncByteStream):
    """A response body that arrives in exactly these pieces."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk


async def read_all(chunks: list[bytes], name: str = "claude") -> list[Event]:
    response = httpx.Response(200, stream=Chunks(chunks))
    return as_tuples([e async for e in aiter_sse(name, response)])


def split_at(raw: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(raw)) for c in cuts})
    return [raw[a:b] for a, b in zip([0, *points], [*points, len(raw)], strict=True)]


# Field values: any text without line ends, multibyte and U+2028 (not a line end) included.
VALUE = st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"]))
EVENT = st.tuples(
    VALUE,  # the event name ("" = none)
    st.lists(VALUE, min_size=1, max_size=4),  # data lines
    VALUE.filter(lambda s: "\0" not in s),  # the id ("" = none)
)


@st.composite
def streams(draw: st.DrawFn) -> tuple[bytes, list[Event]]:
    """A valid event stream, one line end style throughout, and the events it holds."""
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    lines: list[str] = []
    expected: list[Event] = []
    last_id = ""
    for name, data, event_id in draw(st.lists(EVENT, max_size=6)):
        if draw(st.booleans()):
            lines.append(": keep-alive")
        if name:
            lines.append(f"event: {name}")
        if event_id:
            lines.append(f"id: {event_id}")
            last_id = event_id
        # "data:" with or without its optional space (only one space is ever removed).
        bare = draw(st.booleans())
        lines += [f"data:{d}" if bare and d[:1] != " " else f"data: {d}" for d in data]
        lines.append("")
        expected.append((name or "message", "\n".join(data), last_id, None))
    text = eol.join(lines) + eol
    if draw(st.booleans()) and lines:
        text = text[: -2 * len(eol)]  # the last event without its blank line (and line end)
    return text.encode(), expected


@settings(max_examples=300, deadline=None)
@given(streams(), st.lists(st.integers(min_value=0, max_value=400), max_size=12))
def test_any_split_of_a_stream_gives_the_same_events(
    stream: tuple[bytes, list[Event]], cuts: list[int]
) -> None:
    raw, expected = stream
    assert decode([raw]) == expected
    assert decode(split_at(raw, cuts)) == expected
    assert asyncio.run(read_all(split_at(raw, cuts))) == expected


# Random bytes seldom spell a field name: mix in SSE syntax and odd-but-valid characters.
SSE_BITS = [b"data:", b"event: ", b"id: ", b"retry: ", b":", b" ", b"\r", b"\n", b"\0"]
SSE_BITS += ["²".encode(), "١".encode(), "\u2028".encode(), b"\xe2\x98", b"\xff", b"7"]
CHUNKS = st.lists(st.one_of(st.binary(max_size=40), st.sampled_from(SSE_BITS)), max_size=30)


@settings(max_examples=400, deadline=None)
@given(CHUNKS)
def test_arbitrary_bytes_raise_only_taxonomy_errors(chunks: list[bytes]) -> None:
    try:
        decode(chunks)
    except ProviderError as exc:
        assert isinstance(exc, ProviderUnavailableError)
        assert str(exc) == "claude: the event stream is not valid UTF-8"


@settings(max_examples=200, deadline=None)
@given(CHUNKS)
def test_arbitrary_bytes_through_a_response_raise_only_taxonomy_errors(
    chunks: list[bytes],
) -> None:
    try:
        asyncio.run(read_all(chunks))
    except ProviderError as exc:
        assert isinstance(exc, ProviderUnavailableError)


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_every_line_end_style(eol: str) -> None:
    raw = f"event: a{eol}data: 1{eol}{eol}data: 2{eol}{eol}".encode()
    assert decode([raw]) == [("a", "1", "", None), ("message", "2", "", None)]


def test_mixed_line_ends_in_one_stream() -> None:
    raw = b"data: 1\r\n\r\ndata: 2\n\ndata: 3\r\rdata: 4\r\n\n"
    assert [e[1] for e in decode([raw])] == ["1", "2", "3", "4"]


def test_crlf_split_across_chunks_is_one_line_end() -> None:
    assert decode([b"data: a\r", b"\n\r", b"\n", b"data: b\r\n\r\n"]) == [
        ("message", "a", "", None),
        ("message", "b", "", None),
    ]


def test_a_cr_at_the_end_of_a_chunk_waits_to_see_if_lf_follows() -> None:
    lines = LineDecoder("gemini")
    assert lines.feed(b"data: a\r\rdata: b\r") == ["data: a", ""]
    assert lines.feed(b"\n") == ["data: b"]
    assert lines.feed(b"tail\r") == []
    assert lines.close() == ["tail"]


def test_last_event_without_blank_line_is_delivered() -> None:
    both = [("message", "1", "", None), ("message", "2", "", None)]
    assert decode([b"data: 1\n\ndata: 2\n"]) == both
    assert decode([b"data: 1\n\ndata: 2"]) == both
    assert decode([b"data: 1\r\n\r\ndata: 2\r"]) == both


def test_multi_line_data_is_joined_with_lf() -> None:
    raw = b'data: {"a":\ndata:  1,\ndata\ndata:}\n\n'
    assert decode([raw]) == [("message", '{"a":\n 1,\n\n}', "", None)]


def test_comments_unknown_fields_and_dataless_blocks_make_no_events() -> None:
    raw = b": ping - 2024-01-01 00:00:00\r\n\r\nid: 7\nfoo: bar\n\n\n: ping\n\n"
    raw += b"event: x\n\nretry: 5\n\n"
    assert decode([raw]) == []


def test_keep_alives_after_an_id_make_no_events() -> None:
    # httpx-sse's decoder dispatches an empty event for each of these blank lines.
    raw = b"id: 7\ndata: {}\n\n\n: ping\n\n\n"
    assert decode([raw]) == [("message", "{}", "7", None)]


def test_field_rules() -> None:
    parser = EventParser()
    lines = ["event: delta", "id: 1", "retry: 250", "data: x", "", "retry: ²", "id: a\0b", "data"]
    events = [e for line in lines if (e := parser.line(line)) is not None]
    last = parser.flush()
    assert last is not None
    # The name and retry belong to one event; the id carries over; bad values are ignored.
    assert as_tuples([*events, last]) == [("delta", "x", "1", 250), ("message", "", "1", None)]
    assert not parser.has_data and parser.flush() is None


def test_multibyte_characters_split_across_chunks() -> None:
    raw = "data: naïve café ☕ x\u2028y\n\n".encode()
    assert decode([raw[i : i + 1] for i in range(len(raw))]) == [
        ("message", "naïve café ☕ x\u2028y", "", None)
    ]


def test_a_long_line_in_many_chunks_arrives_whole() -> None:
    text = "é" * 100_000
    raw = f"data: {text}\n\n".encode()
    chunks = [raw[i : i + 97] for i in range(0, len(raw), 97)]
    assert decode(chunks) == [("message", text, "", None)]


@pytest.mark.parametrize(
    "chunks",
    [
        [b"data: caf\xe9\n\n"],  # Latin-1, not UTF-8
        [b"data: \xed\xa0\x80\n\n"],  # an encoded surrogate (CESU-8)
        [b"data: \xe2\x98"],  # the stream ends inside a character
        [b"data: ok\n\n", b"\xff"],
    ],
    ids=["latin1", "surrogate", "truncated", "later-chunk"],
)
def test_invalid_utf8_is_a_taxonomy_error(chunks: list[bytes]) -> None:
    with pytest.raises(ProviderUnavailableError) as info:
        decode(chunks, name="hf")
    assert str(info.value) == "hf: the event stream is not valid UTF-8"
    assert info.value.provider == "hf"


def test_adapters_can_keep_their_own_wording_with_the_bad_byte() -> None:
    lines = LineDecoder("hf", "{name}: event stream is not valid UTF-8 (byte {byte:#04x})")
    assert lines.feed(b"data: a\n") == ["data: a"]
    with pytest.raises(ProviderUnavailableError, match=r"^hf: .* \(byte 0xfe\)$"):
        lines.feed(b"data: \xfe\n")


async def test_events_before_bad_bytes_are_delivered_first() -> None:
    response = httpx.Response(200, stream=Chunks([b"data: 1\n\n", b"data: \xff\n\n"]))
    seen: list[str] = []
    with pytest.raises(ProviderUnavailableError, match=r"^claude: the event stream"):
        async for event in aiter_sse("claude", response):
            seen.append(event.data)
    assert seen == ["1"]


async def test_reads_a_real_chunked_response_whatever_its_content_type(
    loopback: LoopbackServer,
) -> None:
    raw = "data: ☕ one\r\n\r\n: ping\r\nevent: two\r\ndata: 2".encode()
    cut = raw.index("☕".encode()) + 1
    loopback.enqueue(Reply(body=[raw[:cut], raw[cut:]], content_type="text/plain"))
    async with (
        httpx.AsyncClient(base_url=loopback.url) as client,
        client.stream("GET", "/events") as response,
    ):
        events = as_tuples([e async for e in aiter_sse("hf", response)])
    assert events == [("message", "☕ one", "", None), ("two", "2", "", None)]
