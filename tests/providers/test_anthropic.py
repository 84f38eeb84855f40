"""The Anthropic adapter over real loopback sockets, plus its pure request/response functions.

What a user would notice: the answer streams token by token with thinking hidden, every HTTP
failure becomes a one-line taxonomy error naming the server's own message, a stream that dies
or lies is never taken for a finished answer, and the key never leaks.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from typing import Any, cast

import pytest

from providers import (
    BadRequestError,
    ChatRequest,
    Chunk,
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
from providers.anthropic import AnthropicProvider
from providers.anthropic_wire import (
    DEFAULT_MAX_TOKENS,
    build_body,
    finish_reason,
    http_error,
    parse_models_page,
    stream_error,
)
from providers.builtins import BUILTIN_TYPES
from tests.wire.anthropic import (
    TEST_KEY,
    AnthropicWire,
    Event,
    block_events,
    claude_settings,
    error_body,
    error_reply,
    quick_server,
    sse_reply,
    stream_events,
)
from tests.wire.loopback import LoopbackServer, Reply, Reset, Stall

CANARY = "sk-ant-api03-CANARY-do-not-leak-7f3a9c"


def ask(*messages: Message, **kw: Any) -> ChatRequest:
    return ChatRequest(
        messages=messages or (Message("user", "Hello"),), model="claude-sonnet-4-5", **kw
    )


@pytest.fixture
def loopback() -> Iterator[LoopbackServer]:
    with quick_server() as server:
        yield server


@pytest.fixture
def wire(loopback: LoopbackServer) -> AnthropicWire:
    return AnthropicWire(loopback)


@pytest.fixture
async def claude(loopback: LoopbackServer) -> AsyncIterator[AnthropicProvider]:
    provider = AnthropicProvider(claude_settings(loopback.url))
    yield provider
    await provider.close()


async def collect(provider: AnthropicProvider, request: ChatRequest | None = None) -> list[Chunk]:
    return [chunk async for chunk in provider.stream(request or ask())]


async def partial_then_error(provider: AnthropicProvider) -> tuple[str, ProviderError]:
    """The text shown before the stream failed, and the error it failed with."""
    shown = ""
    with pytest.raises(ProviderError) as info:
        async for chunk in provider.stream(ask()):
            shown += chunk.text
    return shown, info.value


def test_class_matches_its_builtin_spec() -> None:
    spec = ProviderSpec.from_class(
        AnthropicProvider, target="providers.anthropic:AnthropicProvider", origin="built-in"
    )
    assert spec == BUILTIN_TYPES["anthropic"]


def test_registry_builds_the_adapter() -> None:
    provider = ProviderRegistry().create(claude_settings("http://127.0.0.1:9"))
    assert isinstance(provider, AnthropicProvider)


def test_body_puts_system_prompts_at_top_level() -> None:
    request = ask(
        Message("system", "Be brief."),
        Message("user", "Hi"),
        Message("assistant", "Hello!"),
        Message("system", "Use French."),
        Message("user", "And now?"),
    )
    body = build_body(request, {}, stream=True)
    assert body["system"] == "Be brief.\n\nUse French."
    assert body["messages"] == [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "And now?"},
    ]
    assert body["stream"] is True
    assert "temperature" not in body


@pytest.mark.parametrize(
    ("asked", "configured", "sent"),
    [(100, 2000, 100), (None, 2000, 2000), (None, None, DEFAULT_MAX_TOKENS)],
)
def test_max_tokens_is_always_sent(asked: int | None, configured: int | None, sent: int) -> None:
    options = {"max_tokens": configured} if configured else {}
    body = build_body(ask(max_tokens=asked, temperature=0.0), options, stream=False)
    assert body["max_tokens"] == sent
    assert body["temperature"] == 0.0
    assert "stream" not in body and "system" not in body


@pytest.mark.parametrize(
    ("stop", "normalised"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "other"),
        ("something_new", "other"),
        (None, "other"),
    ],
)
def test_stop_reasons_are_normalised(stop: str | None, normalised: str) -> None:
    assert finish_reason(stop) == normalised


def test_models_page_parsing() -> None:
    page = {"data": [{"id": "a"}, {"id": "b"}, {"type": "model"}], "has_more": True, "last_id": "b"}
    models, after = parse_models_page(page)
    assert ([m.id for m in models], after) == (["a", "b"], "b")
    assert parse_models_page({**page, "has_more": False})[1] is None
    assert parse_models_page("not a page") == ([], None)


async def test_streams_text_and_finishes_with_usage(
    wire: AnthropicWire, claude: AnthropicProvider
) -> None:
    wire.answer(["Hel", "lo", " there!"], input_tokens=21, output_tokens=7)
    chunks = await collect(claude, ask(temperature=0.5))
    assert [c.text for c in chunks[:-1]] == ["Hel", "lo", " there!"]
    assert chunks[-1] == Chunk(finish_reason="stop", usage=Usage(21, 7))
    (request,) = wire.message_requests
    assert request.method == "POST" and request.path == "/v1/messages"
    assert request.headers["x-api-key"] == TEST_KEY
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert request.headers["content-type"] == "application/json"
    body = request.json()
    assert body["stream"] is True and body["model"] == "claude-sonnet-4-5"
    assert body["max_tokens"] == DEFAULT_MAX_TOKENS and body["temperature"] == 0.5


async def test_chat_without_streaming(wire: AnthropicWire, claude: AnthropicProvider) -> None:
    wire.answer(["Hi! ", "I am Claude."], stop_reason="max_tokens", input_tokens=9)
    result = await claude.chat(ask(max_tokens=50))
    assert result.text == "Hi! I am Claude."
    assert result.finish_reason == "length"
    assert result.usage == Usage(9, 2)
    assert result.model == "claude-sonnet-4-5-20250929"  # the model that served it
    body = wire.message_requests[0].json()
    assert "stream" not in body and body["max_tokens"] == 50


async def test_complete_sends_one_user_message(
    wire: AnthropicWire, claude: AnthropicProvider
) -> None:
    wire.answer(["42"])
    assert (await claude.complete("What is 6 x 7?")).text == "42"
    assert wire.message_requests[0].json()["messages"] == [
        {"role": "user", "content": "What is 6 x 7?"}
    ]


async def test_system_prompt_goes_to_top_level_system(
    wire: AnthropicWire, claude: AnthropicProvider
) -> None:
    wire.answer(["ok"])
    await collect(claude, ask(Message("system", "You are terse."), Message("user", "Hi")))
    body = wire.message_requests[0].json()
    assert body["system"] == "You are terse."
    assert all(m["role"] != "system" for m in body["messages"])


async def test_configured_max_tokens_is_used(loopback: LoopbackServer) -> None:
    wire = AnthropicWire(loopback).answer(["ok"])
    provider = AnthropicProvider(claude_settings(loopback.url, options={"max_tokens": 321}))
    try:
        await provider.chat(ask())
    finally:
        await provider.close()
    assert wire.message_requests[0].json()["max_tokens"] == 321


async def test_thinking_is_not_shown(wire: AnthropicWire, claude: AnthropicProvider) -> None:
    wire.answer(["The answer is 21."], thinking=["Let me use Euclid.", " 1071 = 2 x 462 + 147"])
    chunks = await collect(claude)
    assert "".join(c.text for c in chunks) == "The answer is 21."


async def test_pings_unknown_events_and_other_blocks_are_ignored(
    loopback: LoopbackServer, claude: AnthropicProvider
) -> None:
    events = stream_events(["visible"])
    tool = block_events(
        5,
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}},
        [{"type": "input_json_delta", "partial_json": '{"city": "Par'}],
    )
    future = block_events(6, {"type": "hologram"}, [{"type": "text_delta", "text": "hidden"}])
    odd: list[Event] = [
        ("ping", {"type": "ping"}),
        ("future_event", {"type": "future_event", "text": "hidden"}),
        (
            "content_block_delta",
            {"type": "content_block_delta", "index": 0, "delta": {"type": "citations_delta"}},
        ),
    ]
    loopback.enqueue(
        sse_reply([*events[:4], *odd, *tool, *future, *events[4:]], "event: ping\ndata:\n\n")
    )
    chunks = await collect(claude)
    assert "".join(c.text for c in chunks) == "visible"
    assert chunks[-1].finish_reason == "stop"


async def test_usage_reported_on_message_delta_wins(
    loopback: LoopbackServer, claude: AnthropicProvider
) -> None:
    events = stream_events(["hi"], input_tokens=0)
    events[-2][1]["usage"] = {"input_tokens": 40, "output_tokens": 3}
    loopback.enqueue(sse_reply(events))
    assert (await collect(claude))[-1].usage == Usage(40, 3)


async def test_models_are_listed_across_pages(loopback: LoopbackServer) -> None:
    names = [f"claude-model-{i}" for i in range(5)]
    AnthropicWire(loopback, models=names, page_size=2)
    provider = AnthropicProvider(claude_settings(loopback.url))
    try:
        assert [m.id for m in await provider.list_models()] == names
        assert await provider.health_check() == Health(models=5)
    finally:
        await provider.close()
    paths = [r.path for r in loopback.requests]
    assert paths[:3] == [
        "/v1/models?limit=1000",
        "/v1/models?limit=1000&after_id=claude-model-1",
        "/v1/models?limit=1000&after_id=claude-model-3",
    ]
    assert all(r.headers["x-api-key"] == TEST_KEY for r in loopback.requests)


async def test_model_listing_stops_on_a_server_that_repeats_itself(
    loopback: LoopbackServer, claude: AnthropicProvider
) -> None:
    page = {"data": [{"id": "a"}], "has_more": True, "last_id": "a"}
    loopback.enqueue(Reply.json(page), Reply.json(page))
    assert [m.id for m in await claude.list_models()] == ["a", "a"]
    assert len(loopback.requests) == 2


HTTP_ERRORS = [
    (400, "invalid_request_error", "messages: roles must alternate", BadRequestError),
    (
        400,
        "invalid_request_error",
        "prompt is too long: 210000 tokens > 200000 maximum",
        ContextLengthError,
    ),
    (
        400,
        "invalid_request_error",
        "Your credit balance is too low to access the Anthropic API.",
        RateLimitError,
    ),
    (401, "authentication_error", "invalid x-api-key", ProviderAuthError),
    (403, "permission_error", "Your API key does not have permission", ProviderAuthError),
    (404, "not_found_error", "model: claude-nope", ModelNotFoundError),
    (
        413,
        "request_too_large",
        "Request exceeds the maximum allowed number of bytes.",
        ContextLengthError,
    ),
    (429, "rate_limit_error", "Number of requests has exceeded your rate limit", RateLimitError),
    (500, "api_error", "Internal server error", ProviderUnavailableError),
    (529, "overloaded_error", "Overloaded", ProviderUnavailableError),
]


@pytest.mark.parametrize("streaming", [True, False], ids=["stream", "chat"])
@pytest.mark.parametrize(("status", "etype", "message", "expected"), HTTP_ERRORS)
async def test_http_errors_become_taxonomy_errors(
    wire: AnthropicWire,
    claude: AnthropicProvider,
    streaming: bool,
    status: int,
    etype: str,
    message: str,
    expected: type[ProviderError],
) -> None:
    wire.error(status, etype, message, {"retry-after": "7"})
    with pytest.raises(ProviderError) as info:
        await (collect(claude) if streaming else claude.chat(ask()))
    error = info.value
    assert type(error) is expected
    assert str(error) == f"claude: HTTP {status}: {message}"
    assert error.provider == "claude"
    if isinstance(error, RateLimitError) and status == 429:
        assert error.retry_after == 7.0


def test_error_bodies_that_are_not_json_map_by_status() -> None:
    html = b"<html><body>413 Request Entity Too Large</body></html>"
    assert isinstance(http_error("claude", 413, html, {}), ContextLengthError)
    assert isinstance(http_error("claude", 502, b"Bad gateway", {}), ProviderUnavailableError)
    error = http_error("claude", 418, b"", {})
    assert isinstance(error, BadRequestError) and str(error) == "claude: HTTP 418"


@pytest.mark.parametrize(
    ("etype", "expected"),
    [
        ("overloaded_error", ProviderUnavailableError),
        ("api_error", ProviderUnavailableError),
        ("rate_limit_error", RateLimitError),
        ("authentication_error", ProviderAuthError),
        ("brand_new_error", ProviderUnavailableError),
    ],
)
async def test_error_event_mid_stream(
    wire: AnthropicWire, claude: AnthropicProvider, etype: str, expected: type[ProviderError]
) -> None:
    wire.stream_error(["Once upon", " a time"], etype, "Overloaded")
    shown, error = await partial_then_error(claude)
    assert shown == "Once upon a time"
    assert type(error) is expected
    assert str(error) == f"claude: {etype} during the answer: Overloaded"


def test_error_event_that_is_not_json_still_fails_cleanly() -> None:
    error = stream_error("claude", "upstream\nexploded")
    assert isinstance(error, ProviderUnavailableError)
    assert str(error) == "claude: error during the answer: upstream exploded"


async def test_reset_mid_stream(wire: AnthropicWire, claude: AnthropicProvider) -> None:
    wire.answer(["Partial", " answer"], interrupt=Reset())
    shown, error = await partial_then_error(claude)
    assert shown == "Partial answer"
    assert isinstance(error, ProviderUnavailableError)
    assert str(error).startswith("claude: connection to http://127.0.0.1:")


async def test_malformed_event_json(loopback: LoopbackServer, claude: AnthropicProvider) -> None:
    loopback.enqueue(
        sse_reply(
            stream_events(["ok"])[:4], 'event: content_block_delta\ndata: {"type": "content_bl\n\n'
        )
    )
    _, error = await partial_then_error(claude)
    assert isinstance(error, ProviderUnavailableError)
    assert str(error) == "claude: malformed JSON in a 'content_block_delta' event of the stream"


async def test_invalid_utf8_in_the_stream(
    loopback: LoopbackServer, claude: AnthropicProvider
) -> None:
    bad = (
        b'event: content_block_delta\ndata: {"type": "content_block_delta", "index": 0, '
        b'"delta": {"type": "text_delta", "text": "caf\xe9"}}\n\n'
    )
    loopback.enqueue(sse_reply(stream_events(["ok"])[:4], bad))
    _, error = await partial_then_error(claude)
    assert isinstance(error, ProviderUnavailableError)
    assert str(error) == "claude: the event stream is not valid UTF-8"


async def test_multibyte_text_split_across_network_chunks(
    loopback: LoopbackServer, claude: AnthropicProvider
) -> None:
    raw = "".join(
        f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
        for name, data in stream_events(["naïve café ☕"])
    ).encode()
    cut = raw.index("☕".encode()) + 1  # in the middle of the 3-byte sequence
    loopback.enqueue(Reply(body=[raw[:cut], raw[cut:]], content_type="text/event-stream"))
    chunks = await collect(claude)
    assert "".join(c.text for c in chunks) == "naïve café ☕"


@pytest.mark.parametrize(
    "body",
    [[], stream_events(["Hello"])[:-1], stream_events(["Hello"])[:-2]],
    ids=["empty", "no-message_stop", "no-finish-at-all"],
)
async def test_stream_that_ends_unfinished(
    loopback: LoopbackServer, claude: AnthropicProvider, body: list[Any]
) -> None:
    loopback.enqueue(sse_reply(body))
    _, error = await partial_then_error(claude)
    assert isinstance(error, ProviderUnavailableError)
    assert str(error) == "claude: stream ended before the answer was finished"


async def test_a_200_that_is_not_an_event_stream(
    loopback: LoopbackServer, claude: AnthropicProvider
) -> None:
    loopback.enqueue(Reply(body=b"<html>captive portal</html>", content_type="text/html"))
    _, error = await partial_then_error(claude)
    assert str(error) == "claude: expected an event stream, got text/html"


async def test_malformed_json_response(loopback: LoopbackServer, claude: AnthropicProvider) -> None:
    loopback.enqueue(Reply(body=b'{"content": [', content_type="application/json"))
    with pytest.raises(ProviderUnavailableError, match="malformed JSON in the response"):
        await claude.chat(ask())
    loopback.enqueue(Reply.json({"type": "message"}))
    with pytest.raises(ProviderUnavailableError, match="unexpected response"):
        await claude.chat(ask())


@pytest.mark.parametrize("action", ["stream", "chat", "list_models", "health_check"])
async def test_missing_key_fails_before_any_request(loopback: LoopbackServer, action: str) -> None:
    provider = AnthropicProvider(claude_settings(loopback.url, api_key=None))
    with pytest.raises(ProviderAuthError) as info:
        if action == "stream":
            await collect(provider)
        elif action == "chat":
            await provider.chat(ask())
        else:
            await getattr(provider, action)()
    await provider.close()
    assert str(info.value) == "claude: ANTHROPIC_API_KEY is not set"
    assert loopback.connections == 0


async def test_missing_key_names_the_configured_variable(loopback: LoopbackServer) -> None:
    provider = AnthropicProvider(
        claude_settings(loopback.url, api_key="", api_key_env="WORK_CLAUDE_KEY")
    )
    with pytest.raises(ProviderAuthError, match=r"^claude: WORK_CLAUDE_KEY is not set$"):
        await provider.chat(ask())
    assert loopback.connections == 0


async def test_canary_key_never_appears_in_errors(
    loopback: LoopbackServer, refused_url: str
) -> None:
    # A hostile or buggy server echoes the key back, in an HTTP error and in a stream error.
    loopback.enqueue(error_reply(401, "authentication_error", f"invalid x-api-key: {CANARY}"))
    loopback.enqueue(error_reply(429, "rate_limit_error", f"key {CANARY} is over its limit"))
    loopback.enqueue(sse_reply([("error", error_body("api_error", f"bad {CANARY}"))]))
    errors: list[ProviderError] = []
    for url in (loopback.url, loopback.url, loopback.url, refused_url):
        provider = AnthropicProvider(claude_settings(url, api_key=CANARY))
        try:
            await collect(provider)
        except ProviderError as exc:
            errors.append(exc)
        finally:
            await provider.close()
    expected = [
        ProviderAuthError,
        RateLimitError,
        ProviderUnavailableError,
        ProviderUnavailableError,
    ]
    assert [isinstance(e, cls) for e, cls in zip(errors, expected, strict=True)] == [True] * 4
    for error in errors:
        assert CANARY not in str(error) and CANARY not in repr(error)
        assert "\n" not in str(error)
    assert loopback.requests[0].headers["x-api-key"] == CANARY  # it was really sent


async def test_early_close_closes_the_socket(
    wire: AnthropicWire, loopback: LoopbackServer, claude: AnthropicProvider
) -> None:
    wire.answer(["first", " second"], interrupt=Stall())
    stream = cast(AsyncGenerator[Chunk, None], claude.stream(ask()))
    assert (await anext(stream)).text == "first"
    await stream.aclose()  # the user pressed Ctrl-C: stop reading
    assert loopback.wait_closed()


async def test_connection_refused(refused_url: str) -> None:
    provider = AnthropicProvider(claude_settings(refused_url))
    with pytest.raises(ProviderUnavailableError, match="connection refused"):
        await provider.chat(ask())
    await provider.close()


async def test_read_timeout_while_waiting_for_the_answer(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply(before_headers=[Stall()]))
    provider = AnthropicProvider(claude_settings(loopback.url, timeout=0.2))
    try:
        with pytest.raises(ProviderUnavailableError, match="read timed out"):
            await collect(provider)
    finally:
        await provider.close()


async def test_base_url_path_prefix_and_trailing_slash(loopback: LoopbackServer) -> None:
    loopback.handler = lambda _req: Reply.json({"data": [], "has_more": False})
    provider = AnthropicProvider(claude_settings(loopback.url + "/proxy/anthropic/"))
    try:
        assert [m.id for m in await provider.list_models()] == []
    finally:
        await provider.close()
    assert loopback.requests[0].path == "/proxy/anthropic/v1/models?limit=1000"


async def test_close_is_idempotent(wire: AnthropicWire, claude: AnthropicProvider) -> None:
    wire.answer(["ok"])
    await claude.chat(ask())
    await claude.close()
    await claude.close()


async def test_wire_checks_the_key_and_can_answer_always(loopback: LoopbackServer) -> None:
    # The loopback Messages API that router and CLI tests reuse behaves like the real one.
    AnthropicWire(loopback, key="sk-ant-right").answer(["again"], always=True)
    wrong = AnthropicProvider(claude_settings(loopback.url, api_key="sk-ant-wrong"))
    right = AnthropicProvider(claude_settings(loopback.url, api_key="sk-ant-right"))
    try:
        with pytest.raises(ProviderAuthError, match="invalid x-api-key"):
            await wrong.chat(ask())
        assert [(await right.chat(ask())).text for _ in range(2)] == ["again", "again"]
        assert "".join(c.text for c in await collect(right)) == "again"
    finally:
        await wrong.close()
        await right.close()
