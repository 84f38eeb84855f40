"""The Gemini adapter over real loopback sockets, and its pure parsing on recorded payloads.

Wire shapes come from Google's recorded Gemini API responses
(github.com/FirebaseExtended/vertexai-sdk-test-data, ``mock-responses/googleai/``) and the
google-genai SDK's stream tests (``google/genai/tests/client/test_async_stream.py``); see
tests/wire/gemini.py for the builders.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace

import pytest

from providers import (
    BadRequestError,
    ChatRequest,
    Chunk,
    ContentFilteredError,
    ContextLengthError,
    Health,
    Message,
    ModelNotFoundError,
    ProviderAuthError,
    ProviderError,
    ProviderRegistry,
    ProviderSpec,
    ProviderUnavailableError,
    RateLimitError,
    Usage,
)
from providers.builtins import BUILTIN_TYPES
from providers.gemini import GeminiProvider
from providers.gemini_events import EventReader
from providers.gemini_wire import (
    Answer,
    build_body,
    endpoint,
    http_error,
    normalise_finish,
    parse_models_page,
)
from tests.wire.gemini import (
    SSE,
    GeminiWire,
    api_key_invalid,
    context_too_long,
    error_body,
    error_reply,
    model_entry,
    models_page,
    quota_exhausted,
    response_chunk,
    sse_body,
    stream_events,
    usage_metadata,
)
from tests.wire.loopback import LoopbackServer, Reply, Stall

CANARY = "AIzaSy-CANARY-gemini-5c1e0b"

#: The three events of Google's recorded ``streaming-success-basic-reply-short.txt``.
RECORDED_SHORT = [
    response_chunk(["The"], usage=usage_metadata(7)),
    response_chunk([" capital of Wyoming"], usage=usage_metadata(7)),
    response_chunk([" is **Cheyenne**.\n"], finish="STOP", usage=usage_metadata(7, 10)),
]


def ask(text: str = "hi", model: str = "gemini-2.5-flash", **kw: object) -> ChatRequest:
    return ChatRequest(messages=(Message("user", text),), model=model, **kw)  # type: ignore[arg-type]


async def collect(stream: AsyncIterator[Chunk]) -> tuple[str, list[Chunk]]:
    chunks = [c async for c in stream]
    return "".join(c.text for c in chunks), chunks


@pytest.fixture
def wire(loopback: LoopbackServer) -> GeminiWire:
    return GeminiWire(loopback)


@pytest.fixture
async def provider(wire: GeminiWire) -> AsyncIterator[GeminiProvider]:
    p = GeminiProvider(wire.settings(api_key=CANARY))
    yield p
    await p.close()


def test_class_attributes_match_the_builtin_spec() -> None:
    spec = ProviderSpec.from_class(
        GeminiProvider, target="providers.gemini:GeminiProvider", origin="built-in"
    )
    assert spec == BUILTIN_TYPES["gemini"]


async def test_the_registry_builds_it(wire: GeminiWire) -> None:
    provider = ProviderRegistry().create(wire.settings())
    assert isinstance(provider, GeminiProvider)
    await provider.close()
    await provider.close()  # closing twice is harmless


def test_request_body_maps_system_roles_and_options() -> None:
    request = ChatRequest(
        messages=(
            Message("system", "Be brief."),
            Message("user", "Hi"),
            Message("assistant", "Hello!"),
            Message("user", "Capital of Wyoming?"),
            Message("user", "One word."),
        ),
        model="gemini-2.5-flash",
        max_tokens=64,
        temperature=0.2,
    )
    assert build_body(request) == {
        "contents": [
            {"role": "user", "parts": [{"text": "Hi"}]},
            {"role": "model", "parts": [{"text": "Hello!"}]},
            {"role": "user", "parts": [{"text": "Capital of Wyoming?"}, {"text": "One word."}]},
        ],
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "generationConfig": {"maxOutputTokens": 64, "temperature": 0.2},
    }
    assert build_body(ask("x")) == {"contents": [{"role": "user", "parts": [{"text": "x"}]}]}


@pytest.mark.parametrize(
    ("model", "path"),
    [
        ("gemini-2.5-flash", "/v1beta/models/gemini-2.5-flash:generateContent"),
        ("models/gemini-2.5-flash", "/v1beta/models/gemini-2.5-flash:generateContent"),
        ("tunedModels/my-tune", "/v1beta/tunedModels/my-tune:generateContent"),
        ("odd?name", "/v1beta/models/odd%3Fname:generateContent"),
    ],
)
def test_endpoint_accepts_bare_and_prefixed_model_ids(model: str, path: str) -> None:
    assert endpoint(model, "generateContent") == path


@pytest.mark.parametrize(
    ("reason", "normalised"),
    [
        ("STOP", "stop"),
        ("MAX_TOKENS", "length"),
        ("SAFETY", "content_filter"),
        ("RECITATION", "content_filter"),
        ("SPII", "content_filter"),
        ("OTHER", "other"),
        ("MALFORMED_FUNCTION_CALL", "other"),
    ],
)
def test_finish_reasons_are_normalised(reason: str, normalised: str) -> None:
    assert normalise_finish(reason) == normalised


def test_answer_hides_thoughts_and_counts_thinking_as_output() -> None:
    answer = Answer("gemini")
    assert answer.add(response_chunk(["answer"], thoughts=["pondering"])) == "answer"
    answer.add(response_chunk(finish="STOP", usage=usage_metadata(10, 22, thoughts=540)))
    assert answer.final("x") == Chunk(finish_reason="stop", usage=Usage(10, 562))


def test_answer_without_finish_reason_is_finished_if_it_has_text() -> None:
    """Google's SDK corpus records streams that end cleanly after text with no
    finishReason: a finished answer, reason "other" (issue 13). No text: unfinished."""
    answer = Answer("gemini")
    answer.add(response_chunk(["partial"]))
    assert answer.final("x").finish_reason == "other"
    with pytest.raises(ProviderUnavailableError, match=r"^gemini: stream ended"):
        Answer("gemini").final("stream ended before the answer was finished")


def test_event_reader_gives_the_same_events_however_the_bytes_are_split() -> None:
    raw = b'data: {"a": 1}\r\n\r\n: keep-alive\r\ndata: {"t": "x\xe2\x80\xa8y"}\r\n\r\n'
    raw += b'event: message\nid: 7\ndata: {"b":\ndata: 2}\n\n{"error":\n  {"code": 500}\n}\n'
    raw += b'data: {"last": true}'
    expected = ['{"a": 1}', '{"t": "x\u2028y"}', '{"b":\n2}', '{"error":\n  {"code": 500}\n}']
    expected.append('{"last": true}')
    for size in (1, 2, 3, 7, len(raw)):
        reader = EventReader("gemini")
        out = [e for i in range(0, len(raw), size) for e in reader.feed(raw[i : i + size])]
        assert out + reader.close() == expected, size


def test_event_reader_handles_cr_only_line_ends() -> None:
    reader = EventReader("gemini")
    # The last CR could be half of a CRLF, so that event waits for more bytes or the end.
    assert reader.feed(b'data: {"a": 1}\r\rdata: {"b": 2}\r\r') == ['{"a": 1}']
    assert reader.close() == ['{"b": 2}']


def test_model_listing_drops_prefix_and_non_chat_models() -> None:
    page = models_page(
        [model_entry("gemini-2.5-flash"), model_entry("text-embedding-004", ["embedContent"])],
        next_token="abc",
    )
    models, token = parse_models_page(page)
    assert ([m.id for m in models], token) == (["gemini-2.5-flash"], "abc")
    assert parse_models_page({"models": []}) == ([], None)


async def test_stream_of_a_recorded_answer(wire: GeminiWire, provider: GeminiProvider) -> None:
    wire.events(RECORDED_SHORT, sep="\n")
    text, chunks = await collect(provider.stream(ask()))
    assert text == "The capital of Wyoming is **Cheyenne**.\n"
    assert chunks[-1] == Chunk(finish_reason="stop", usage=Usage(7, 10))
    assert [c.finish_reason for c in chunks[:-1]] == [None, None, None]


async def test_stream_request_shape(wire: GeminiWire, provider: GeminiProvider) -> None:
    wire.answer(["ok"])
    request = ChatRequest(
        messages=(Message("system", "Be brief."), Message("user", "hi")),
        model="models/gemini-2.5-pro",
        max_tokens=50,
    )
    await collect(provider.stream(request))
    sent = wire.requests[0]
    assert sent.method == "POST"
    assert sent.path == "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse"
    assert sent.headers["x-goog-api-key"] == CANARY
    assert CANARY not in sent.path and "key=" not in sent.path
    assert sent.json() == build_body(request)


async def test_chat_returns_the_whole_answer(wire: GeminiWire, provider: GeminiProvider) -> None:
    wire.answer(["Mountain", " View"], prompt_tokens=14, output_tokens=2, thoughts=["hmm"])
    result = await provider.chat(ask(model="gemini-2.5-flash"))
    assert (result.text, result.finish_reason, result.model) == (
        "Mountain View",
        "stop",
        "gemini-2.5-flash",
    )
    assert result.usage == Usage(14, 2 + 12)
    assert wire.requests[0].path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert "key=" not in wire.requests[0].path


async def test_complete_is_a_one_message_chat(wire: GeminiWire, provider: GeminiProvider) -> None:
    wire.answer(["4"])
    result = await provider.complete("2+2?", max_tokens=5, temperature=0)
    assert result.text == "4"
    assert wire.generate_bodies()[0]["generationConfig"] == {"maxOutputTokens": 5, "temperature": 0}


async def test_thought_parts_are_not_answer_text(
    wire: GeminiWire, provider: GeminiProvider
) -> None:
    wire.answer(["The sky is blue."], thoughts=["**Exploring Sky Color**", "**Refining**"])
    text, chunks = await collect(provider.stream(ask()))
    assert text == "The sky is blue."
    assert "".join(c.reasoning for c in chunks) == "**Exploring Sky Color****Refining**"
    assert len([c for c in chunks if c.text]) == 1
    assert chunks[-1].usage == Usage(7, 1 + 24)


@pytest.mark.parametrize("sep", ["\r\n", "\n", "\r"])
async def test_any_sse_line_ending(wire: GeminiWire, provider: GeminiProvider, sep: str) -> None:
    wire.answer(["a", "b", "c"], sep=sep)
    text, chunks = await collect(provider.stream(ask()))
    assert (text, chunks[-1].finish_reason) == ("abc", "stop")


async def test_last_event_without_blank_line_is_parsed(
    wire: GeminiWire, provider: GeminiProvider
) -> None:
    wire.events(stream_events(["Hel", "lo"]), final_blank=False)
    text, chunks = await collect(provider.stream(ask()))
    assert (text, chunks[-1].finish_reason) == ("Hello", "stop")


async def test_blocked_prompt_stream_and_chat(wire: GeminiWire, provider: GeminiProvider) -> None:
    wire.blocked("PROHIBITED_CONTENT").blocked("SAFETY")
    with pytest.raises(ContentFilteredError, match=r"^gemini: .*blocked \(PROHIBITED_CONTENT\)"):
        await collect(provider.stream(ask()))
    with pytest.raises(ContentFilteredError, match=r"\(SAFETY\)"):
        await provider.chat(ask())


@pytest.mark.parametrize("reason", ["SAFETY", "RECITATION", "PROHIBITED_CONTENT", "OTHER"])
async def test_answer_withheld_with_no_text_is_filtered(
    wire: GeminiWire, provider: GeminiProvider, reason: str
) -> None:
    wire.answer([], finish=reason).answer([], finish=reason)
    with pytest.raises(
        ContentFilteredError, match=rf"^gemini: the answer was blocked \({reason}\)"
    ):
        await collect(provider.stream(ask()))
    with pytest.raises(ContentFilteredError, match=reason):
        await provider.chat(ask())


async def test_safety_stop_after_text_keeps_the_text(
    wire: GeminiWire, provider: GeminiProvider
) -> None:
    wire.answer(["Safety error incoming in 5, 4, 3, 2..."], finish="SAFETY")
    text, chunks = await collect(provider.stream(ask()))
    assert text == "Safety error incoming in 5, 4, 3, 2..."
    assert chunks[-1].finish_reason == "content_filter"


async def test_max_tokens_is_length(wire: GeminiWire, provider: GeminiProvider) -> None:
    wire.answer(["cut"], finish="MAX_TOKENS", output_tokens=1)
    result = await provider.chat(ask(max_tokens=1))
    assert (result.text, result.finish_reason) == ("cut", "length")


async def test_models_are_listed_across_pages(loopback: LoopbackServer) -> None:
    names = [f"gemini-{i}" for i in range(5)]
    wire = GeminiWire(loopback, models=names, page_size=2)
    provider = GeminiProvider(wire.settings())
    assert [m.id for m in await provider.list_models()] == names
    assert await provider.health_check() == Health(models=5)
    await provider.close()
    paths = [r.path for r in loopback.requests[:3]]
    assert paths == [
        "/v1beta/models?pageSize=1000",
        "/v1beta/models?pageSize=1000&pageToken=2",
        "/v1beta/models?pageSize=1000&pageToken=4",
    ]
    assert all("key=" not in r.path for r in loopback.requests)


async def test_listing_404_means_a_wrong_base_url(
    loopback: LoopbackServer, provider: GeminiProvider
) -> None:
    loopback.enqueue(Reply(status=404, body=b"Not Found", content_type="text/plain"))
    with pytest.raises(ProviderUnavailableError, match="is base_url a Gemini API endpoint"):
        await provider.health_check()


async def test_base_url_with_a_path_prefix(loopback: LoopbackServer) -> None:
    wire = GeminiWire(loopback).answer(["via proxy"])
    provider = GeminiProvider(replace(wire.settings(), base_url=f"{loopback.url}/gemini/"))
    assert (await provider.chat(ask())).text == "via proxy"
    await provider.close()
    assert loopback.requests[0].path == "/gemini/v1beta/models/gemini-2.5-flash:generateContent"


ERRORS: list[tuple[Reply, type[ProviderError], str]] = [
    (api_key_invalid(), ProviderAuthError, "API key not valid"),
    (context_too_long(), ContextLengthError, "input token count"),
    (error_reply(400, "Invalid JSON payload received."), BadRequestError, "HTTP 400"),
    (
        error_reply(
            400, "User location is not supported for the API use.", status="FAILED_PRECONDITION"
        ),
        ProviderAuthError,
        "location",
    ),
    (error_reply(401), ProviderAuthError, "HTTP 401"),
    (error_reply(403), ProviderAuthError, "HTTP 403"),
    (error_reply(404, "models/nope is not found"), ModelNotFoundError, "not found"),
    (quota_exhausted(), RateLimitError, "exceeded your current quota"),
    (error_reply(500), ProviderUnavailableError, "HTTP 500"),
    (error_reply(503), ProviderUnavailableError, "overloaded"),
]


@pytest.mark.parametrize(
    ("call", "reply", "kind", "words"),
    [
        (call, *error)
        for call in ("stream", "chat", "list_models")
        for error in ERRORS
        # A 404 on the listing means a wrong base_url: see test_listing_404_means_...
        if not (call == "list_models" and error[1] is ModelNotFoundError)
    ],
)
async def test_error_statuses_map_to_the_taxonomy(
    loopback: LoopbackServer,
    provider: GeminiProvider,
    reply: Reply,
    kind: type[ProviderError],
    words: str,
    call: str,
) -> None:
    loopback.enqueue(reply)
    with pytest.raises(kind) as caught:
        if call == "stream":
            await collect(provider.stream(ask()))
        elif call == "chat":
            await provider.chat(ask())
        else:
            await provider.list_models()
    message = str(caught.value)
    assert message.startswith("gemini: ") and words in message
    assert "\n" not in message and CANARY not in message


async def test_rate_limit_wait_comes_from_retry_info_or_retry_after(
    loopback: LoopbackServer, provider: GeminiProvider
) -> None:
    loopback.enqueue(quota_exhausted("17s"), quota_exhausted("17s", retry_after="3"))
    loopback.enqueue(quota_exhausted(None))
    waits = []
    for _ in range(3):
        with pytest.raises(RateLimitError) as caught:
            await provider.chat(ask())
        waits.append(caught.value.retry_after)
    assert waits == [17.0, 3.0, None]


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (500, ProviderUnavailableError),
        (503, ProviderUnavailableError),
        (429, RateLimitError),
        (400, BadRequestError),
    ],
)
async def test_in_band_error_after_text(
    wire: GeminiWire, provider: GeminiProvider, code: int, kind: type[ProviderError]
) -> None:
    wire.error_in_stream(["Once", " upon"], code=code)
    seen: list[str] = []
    with pytest.raises(kind, match=r"^gemini: error in the stream: "):
        async for chunk in provider.stream(ask()):
            seen.append(chunk.text)
    assert seen == ["Once", " upon"]


async def test_bare_json_error_in_the_stream(
    loopback: LoopbackServer, provider: GeminiProvider
) -> None:
    # As google-genai's EVENT_STREAM_DATA_WITH_ERROR: a pretty-printed error after the events.
    error = json.dumps(error_body(503, status="UNAVAILABLE"), indent=2)
    loopback.enqueue(
        Reply(body=[*sse_body(stream_events(["a"], finish=None)), error], content_type=SSE)
    )
    with pytest.raises(ProviderUnavailableError, match="overloaded"):
        await collect(provider.stream(ask()))


async def test_error_array_status_without_sse(
    loopback: LoopbackServer, provider: GeminiProvider
) -> None:
    loopback.enqueue(Reply.json([error_body(429)], status=429))
    with pytest.raises(RateLimitError):
        await collect(provider.stream(ask()))


async def test_json_array_stream_is_understood(
    loopback: LoopbackServer, provider: GeminiProvider
) -> None:
    # streamGenerateContent without alt=sse answers one pretty-printed JSON array.
    body = json.dumps(stream_events(["x", "y"]), indent=2)
    loopback.enqueue(Reply(body=[body[:40], body[40:]], content_type="application/json"))
    text, chunks = await collect(provider.stream(ask()))
    assert (text, chunks[-1].finish_reason) == ("xy", "stop")


async def test_reset_mid_stream_is_unavailable_after_the_text(
    wire: GeminiWire, provider: GeminiProvider
) -> None:
    wire.cut(["Once", " upon"])
    seen: list[str] = []
    with pytest.raises(
        ProviderUnavailableError, match=r"^gemini: connection to http://127\.0\.0\.1"
    ):
        async for chunk in provider.stream(ask()):
            seen.append(chunk.text)
    assert seen == ["Once", " upon"]


@pytest.mark.parametrize(
    ("event", "words"),
    [
        ('{"candidates": [', "malformed JSON"),
        ("[1, 2]", "a stream event is not a JSON object"),
        (b'{"t": "\xff"}', "invalid UTF-8"),
    ],
)
async def test_malformed_event(
    loopback: LoopbackServer, provider: GeminiProvider, event: str | bytes, words: str
) -> None:
    raw = event if isinstance(event, bytes) else event.encode()
    loopback.enqueue(Reply(body=[b"data: " + raw + b"\r\n\r\n"], content_type=SSE))
    with pytest.raises(ProviderUnavailableError, match=rf"^gemini: {words}"):
        await collect(provider.stream(ask()))


async def test_malformed_chat_body(loopback: LoopbackServer, provider: GeminiProvider) -> None:
    loopback.enqueue(Reply(body=b"<html>upstream error</html>", content_type="text/html"))
    with pytest.raises(ProviderUnavailableError, match="malformed JSON"):
        await provider.chat(ask())


@pytest.mark.parametrize(
    "body",
    [b"", sse_body(stream_events([], finish=None)), b": keep-alive\r\n\r\n"],
    ids=["empty", "no-finish", "only-comments"],
)
async def test_stream_that_never_finishes(
    loopback: LoopbackServer, provider: GeminiProvider, body: bytes | list[object]
) -> None:
    loopback.enqueue(Reply(body=body, content_type=SSE))  # type: ignore[arg-type]
    with pytest.raises(
        ProviderUnavailableError, match=r"^gemini: stream ended before the answer was finished$"
    ):
        await collect(provider.stream(ask()))


@pytest.mark.parametrize("call", ["stream", "chat", "list_models", "health_check"])
@pytest.mark.parametrize(("env", "expected"), [(None, "GEMINI_API_KEY"), ("MY_KEY", "MY_KEY")])
async def test_missing_key_fails_before_any_connection(
    wire: GeminiWire, call: str, env: str | None, expected: str
) -> None:
    provider = GeminiProvider(wire.settings(api_key=None, api_key_env=env))
    with pytest.raises(ProviderAuthError, match=f"^gemini: {expected} is not set$"):
        if call == "stream":
            await collect(provider.stream(ask()))
        elif call == "chat":
            await provider.chat(ask())
        else:
            await getattr(provider, call)()
    await provider.close()
    assert wire.server.connections == 0


@pytest.mark.parametrize("key", ["sëcret-kéy", "two\nlines"])
async def test_unusable_key_fails_before_any_connection(wire: GeminiWire, key: str) -> None:
    provider = GeminiProvider(wire.settings(api_key=key))
    with pytest.raises(
        ProviderAuthError, match=r"^gemini: GEMINI_API_KEY holds characters"
    ) as caught:
        await provider.chat(ask())
    assert key not in str(caught.value)
    assert wire.server.connections == 0
    await provider.close()


async def test_canary_key_never_in_url_or_messages(
    loopback: LoopbackServer, refused_url: str
) -> None:
    # Google's DebugInfo echoes the key it got (see api_key_invalid); say a proxy echoes
    # it in the message too: the adapter must still never repeat it.
    wire = GeminiWire(loopback, key="the-right-key")
    loopback.enqueue(error_reply(400, f"API key not valid. Got {CANARY}"))
    provider = GeminiProvider(wire.settings(api_key=CANARY))
    calls: list[Callable[[], Awaitable[object]]] = [
        lambda: provider.chat(ask()),
        lambda: collect(provider.stream(ask())),
        provider.list_models,
    ]
    errors: list[ProviderError] = []
    for call in calls:
        with pytest.raises(ProviderAuthError) as auth:
            await call()
        errors.append(auth.value)
    await provider.close()
    offline = GeminiProvider(replace(wire.settings(api_key=CANARY), base_url=refused_url))
    with pytest.raises(ProviderUnavailableError) as unreachable:
        await offline.chat(ask())
    errors.append(unreachable.value)
    await offline.close()
    assert all(CANARY not in str(e) and CANARY not in repr(e.args) for e in errors)
    assert str(errors[0]) == "gemini: HTTP 400: API key not valid. Got [redacted]"
    assert all(CANARY not in r.path for r in loopback.requests)


async def test_connection_refused(refused_url: str, wire: GeminiWire) -> None:
    provider = GeminiProvider(replace(wire.settings(), base_url=refused_url))
    with pytest.raises(ProviderUnavailableError, match=r"connection refused"):
        await collect(provider.stream(ask()))
    await provider.close()


async def test_read_timeout(loopback: LoopbackServer, wire: GeminiWire) -> None:
    loopback.enqueue(
        Reply(body=[*sse_body(stream_events(["a"], finish=None)), Stall()], content_type=SSE)
    )
    provider = GeminiProvider(replace(wire.settings(), timeout=0.3))
    with pytest.raises(ProviderUnavailableError, match="read timed out"):
        await collect(provider.stream(ask()))
    await provider.close()


async def test_early_close_closes_the_socket(
    loopback: LoopbackServer, provider: GeminiProvider
) -> None:
    loopback.enqueue(
        Reply(body=[*sse_body(stream_events(["first"], finish=None)), Stall()], content_type=SSE)
    )
    stream = provider.stream(ask())
    assert (await anext(stream)).text == "first"
    await stream.aclose()  # type: ignore[attr-defined]
    assert loopback.wait_closed()


async def test_the_client_is_reused(wire: GeminiWire, provider: GeminiProvider) -> None:
    wire.answer(["a"]).answer(["b"])
    await provider.chat(ask())
    await collect(provider.stream(ask()))
    assert wire.server.connections == 1


def test_http_error_on_a_non_json_body() -> None:
    error = http_error("gemini", 502, b"<html>Bad Gateway</html>", {})
    assert isinstance(error, ProviderUnavailableError)
    assert str(error) == "gemini: HTTP 502"  # a page without a title: no detail
