"""The codex adapter (OpenAI Responses API) against a real loopback socket."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import pytest

from providers.errors import (
    ContentFilteredError,
    ContextLengthError,
    ProviderAuthError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitError,
)
from providers.openai_responses import (
    OpenAIResponsesProvider,
    ResponsesStreamState,
    parse_responses_reply,
)
from providers.types import ChatRequest, Chunk, Message, Usage
from tests.wire.loopback import LoopbackServer, Pause, Reply, Reset, Stall, sse
from tests.wire.openai import (
    SSE,
    STATUS_CASES,
    codex_settings,
    models_reply,
    openai_handler,
    response_object,
    responses_events,
    responses_reply,
    responses_sse,
    responses_stream,
)

REQUEST = ChatRequest(
    messages=(
        Message("system", "You are terse."),
        Message("user", "Hi"),
        Message("assistant", "Hello."),
        Message("user", "Write a haiku"),
    ),
    model="gpt-5-codex",
    max_tokens=128,
    temperature=0.5,
)
CANARY = "sk-proj-canary-9a8b7c6d5e4f"


@pytest.fixture
async def provider(loopback: LoopbackServer) -> AsyncIterator[OpenAIResponsesProvider]:
    p = OpenAIResponsesProvider(codex_settings(f"{loopback.url}/v1"))
    yield p
    await p.close()


async def collect(p: OpenAIResponsesProvider) -> tuple[str, Chunk]:
    chunks = [c async for c in p.stream(REQUEST)]
    assert all(c.finish_reason is None for c in chunks[:-1])
    return "".join(c.text for c in chunks), chunks[-1]


async def partial_then_error(p: OpenAIResponsesProvider) -> tuple[str, ProviderError]:
    text = ""
    with pytest.raises(ProviderError) as info:
        async for chunk in p.stream(REQUEST):
            text += chunk.text
    return text, info.value


def stream_of(events: list[dict[str, Any]], *tail: Any) -> Reply:
    return Reply(body=[*responses_sse(events), *tail], content_type=SSE)


async def test_streams_text_and_ignores_reasoning(provider: Any, loopback: LoopbackServer) -> None:
    loopback.enqueue(responses_stream(["Old ", "pond"], usage=(21, 2)))
    assert await collect(provider) == ("Old pond", Chunk(finish_reason="stop", usage=Usage(21, 2)))
    sent = loopback.requests[0]
    assert (sent.method, sent.path) == ("POST", "/v1/responses")
    assert sent.headers["authorization"] == "Bearer sk-test-key"
    assert sent.headers["accept"] == "text/event-stream"
    assert sent.json() == {
        "model": "gpt-5-codex",
        "instructions": "You are terse.",
        "input": [
            {"type": "message", "role": "user", "content": "Hi"},
            {"type": "message", "role": "assistant", "content": "Hello."},
            {"type": "message", "role": "user", "content": "Write a haiku"},
        ],
        "max_output_tokens": 128,
        "temperature": 0.5,
        "stream": True,
        "store": False,
    }


async def test_events_without_event_lines_still_parse(
    provider: Any, loopback: LoopbackServer
) -> None:
    events = responses_events(["a", "b"])
    loopback.enqueue(Reply(body=sse((None, e) for e in events), content_type=SSE))
    assert (await collect(provider))[0] == "ab"


async def test_stream_stops_reading_at_the_terminal_event(
    provider: Any, loopback: LoopbackServer
) -> None:
    # Anything after response.completed (here: a stall) must not keep the answer waiting.
    loopback.enqueue(stream_of(responses_events(["done"]), Stall()))
    assert (await collect(provider))[0] == "done"
    assert loopback.wait_closed()


@pytest.mark.parametrize(
    ("reason", "finish"),
    [
        ("max_output_tokens", "length"),
        ("content_filter", "content_filter"),
        ("max_messages", "other"),
    ],
)
async def test_incomplete_responses_finish_with_the_reason(
    provider: Any, loopback: LoopbackServer, reason: str, finish: str
) -> None:
    loopback.enqueue(responses_stream(["Old "], status="incomplete", reason=reason, usage=(9, 1)))
    assert await collect(provider) == ("Old ", Chunk(finish_reason=finish, usage=Usage(9, 1)))


async def test_refusal_only_finishes_as_content_filter(
    provider: Any, loopback: LoopbackServer
) -> None:
    events: list[dict[str, Any]] = [
        {"type": "response.refusal.delta", "delta": "I can't help with that."},
        {"type": "response.completed", "response": response_object(usage=(4, 6))},
    ]
    loopback.enqueue(stream_of(events))
    assert await collect(provider) == (
        "I can't help with that.",
        Chunk(finish_reason="content_filter", usage=Usage(4, 6)),
    )


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("rate_limit_exceeded", RateLimitError),
        ("server_error", ProviderUnavailableError),
        ("context_length_exceeded", ContextLengthError),
        ("invalid_prompt", ContentFilteredError),
        ("something_new", ProviderUnavailableError),
    ],
)
async def test_failed_response_maps_its_error_code(
    provider: Any, loopback: LoopbackServer, code: str, expected: type
) -> None:
    error = {"code": code, "message": f"failure {code}"}
    loopback.enqueue(responses_stream(["part"], status="failed", error=error))
    text, exc = await partial_then_error(provider)
    assert text == "part"
    assert type(exc) is expected
    assert str(exc) == f"codex: response failed: failure {code}"


@pytest.mark.parametrize(
    "event",
    [
        {"type": "error", "code": "rate_limit_exceeded", "message": "Slow down", "param": None},
        {"type": "error", "error": {"code": "rate_limit_exceeded", "message": "Slow down"}},
    ],
    ids=["flat", "nested"],
)
async def test_error_event_mid_stream(
    provider: Any, loopback: LoopbackServer, event: dict[str, Any]
) -> None:
    events = responses_events(["Old "], status=None)
    loopback.enqueue(stream_of([*events, event]))
    text, exc = await partial_then_error(provider)
    assert (text, type(exc), str(exc)) == ("Old ", RateLimitError, "codex: stream error: Slow down")


async def test_non_streaming_reply(provider: Any, loopback: LoopbackServer) -> None:
    loopback.enqueue(responses_reply("Whole answer.", usage=(14, 50)))
    result = await provider.chat(REQUEST)
    assert (result.text, result.finish_reason, result.usage) == (
        "Whole answer.",
        "stop",
        Usage(14, 50),
    )
    assert "stream" not in loopback.requests[0].json()


async def test_non_streaming_incomplete_and_failed(provider: Any, loopback: LoopbackServer) -> None:
    loopback.enqueue(
        responses_reply("Half", status="incomplete", reason="max_output_tokens"),
        responses_reply("", status="failed", error={"code": "server_error", "message": "boom"}),
    )
    assert (await provider.chat(REQUEST)).finish_reason == "length"
    with pytest.raises(ProviderUnavailableError, match=r"^codex: response failed: boom$"):
        await provider.chat(REQUEST)


async def test_lists_models_and_health_counts_them(provider: Any, loopback: LoopbackServer) -> None:
    ids = ["gpt-5-codex", "gpt-5", "gpt-4.1-mini"]
    loopback.enqueue(models_reply(ids), models_reply(ids))
    assert [m.id for m in await provider.list_models()] == ids
    assert (await provider.health_check()).models == 3
    assert loopback.requests[0].headers["authorization"] == "Bearer sk-test-key"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (None, "codex: OPENAI_API_KEY is not set"),
        ("WORK_OPENAI_KEY", "codex: WORK_OPENAI_KEY is not set"),
    ],
)
@pytest.mark.parametrize("call", ["stream", "chat", "health_check"])
async def test_missing_key_fails_before_any_connection(
    loopback: LoopbackServer, env: str | None, message: str, call: str
) -> None:
    p = OpenAIResponsesProvider(codex_settings(f"{loopback.url}/v1", api_key=None, api_key_env=env))
    try:
        with pytest.raises(ProviderAuthError) as info:
            if call == "stream":
                [c async for c in p.stream(REQUEST)]
            else:
                await getattr(p, call)(*([REQUEST] if call == "chat" else []))
    finally:
        await p.close()
    assert str(info.value) == message
    assert loopback.connections == 0


async def test_default_base_url_is_openai() -> None:
    p = OpenAIResponsesProvider(codex_settings(None))
    assert p.base_url() == "https://api.openai.com/v1"
    await p.close()


@pytest.mark.parametrize(
    ("reply", "error"), [c[1:] for c in STATUS_CASES], ids=[c[0] for c in STATUS_CASES]
)
@pytest.mark.parametrize("streaming", [True, False], ids=["stream", "chat"])
async def test_error_statuses_map_to_the_taxonomy(
    provider: Any, loopback: LoopbackServer, reply: Reply, error: type, streaming: bool
) -> None:
    loopback.enqueue(reply)
    with pytest.raises(error) as info:
        if streaming:
            [c async for c in provider.stream(REQUEST)]
        else:
            await provider.chat(REQUEST)
    assert str(info.value).startswith("codex: HTTP ")
    if isinstance(info.value, RateLimitError):
        assert info.value.retry_after == 7


async def test_reset_mid_stream_keeps_partial_text(provider: Any, loopback: LoopbackServer) -> None:
    loopback.enqueue(stream_of(responses_events(["An ", "old"], status=None), Pause(0.05), Reset()))
    text, exc = await partial_then_error(provider)
    assert text == "An old"
    assert isinstance(exc, ProviderUnavailableError)
    assert "connection to" in str(exc)


async def test_malformed_event_is_an_unavailable_error(
    provider: Any, loopback: LoopbackServer
) -> None:
    bad = 'event: response.output_text.delta\ndata: {"type": "response.output_text.delta", "de\n\n'
    loopback.enqueue(stream_of(responses_events(["ok"], status=None), bad))
    text, exc = await partial_then_error(provider)
    assert text == "ok"
    assert isinstance(exc, ProviderUnavailableError)
    assert "malformed JSON in stream event" in str(exc)


async def test_terminal_event_without_response_is_malformed(
    provider: Any, loopback: LoopbackServer
) -> None:
    loopback.enqueue(stream_of([{"type": "response.completed"}]))
    with pytest.raises(
        ProviderUnavailableError, match=r"response\.completed event without a response"
    ):
        await collect(provider)


@pytest.mark.parametrize(
    "body",
    [[], responses_sse(responses_events(["cut ", "short"], status=None))],
    ids=["empty", "no-terminal-event"],
)
async def test_streams_that_never_finish_are_failures(
    provider: Any, loopback: LoopbackServer, body: list[Any]
) -> None:
    loopback.enqueue(Reply(body=body, content_type=SSE))
    with pytest.raises(
        ProviderUnavailableError, match=r"^codex: stream ended before the answer was finished$"
    ):
        await collect(provider)


async def test_stopping_early_closes_the_socket(provider: Any, loopback: LoopbackServer) -> None:
    loopback.enqueue(stream_of(responses_events(["first ", "second"], status=None), Stall()))
    async with aclosing(provider.stream(REQUEST)) as chunks:
        async for chunk in chunks:
            if chunk.reasoning and not chunk.text:
                continue  # the wire's reasoning summary comes first
            assert chunk.text == "first "
            break
    assert loopback.wait_closed(), "the abandoned stream kept its connection open"


async def test_connection_refused(refused_url: str) -> None:
    p = OpenAIResponsesProvider(codex_settings(f"{refused_url}/v1"))
    try:
        with pytest.raises(
            ProviderUnavailableError, match=r"cannot connect to .*connection refused"
        ):
            await collect(p)
    finally:
        await p.close()


async def test_canary_key_never_reaches_an_error_message(loopback: LoopbackServer) -> None:
    failed = {"code": "server_error", "message": f"upstream rejected key {CANARY}"}
    loopback.enqueue(
        Reply.json({"error": {"message": f"Incorrect API key provided: {CANARY}."}}, 401),
        responses_stream(["x"], status="failed", error=failed),
        stream_of([{"type": "error", "code": "server_error", "message": CANARY}]),
    )
    p = OpenAIResponsesProvider(codex_settings(f"{loopback.url}/v1", api_key=CANARY))
    errors: list[ProviderError] = []
    try:
        for _ in range(3):
            with pytest.raises(ProviderError) as info:
                await collect(p)
            errors.append(info.value)
    finally:
        await p.close()
    assert loopback.requests[0].headers["authorization"] == f"Bearer {CANARY}"
    for exc in errors:
        assert CANARY not in str(exc) and CANARY not in repr(exc.args)


def test_reply_parser_skips_reasoning_and_reads_refusals() -> None:
    data = {
        "status": "completed",
        "output": [
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": "hidden"}]},
            {"type": "message", "content": [{"type": "refusal", "refusal": "I can't."}]},
        ],
    }
    result = parse_responses_reply("codex", data, REQUEST)
    assert (result.text, result.finish_reason, result.usage) == (
        "I can't.",
        "content_filter",
        Usage(),
    )


def test_stream_state_without_a_network() -> None:
    state = ResponsesStreamState("codex")
    fed = [state.feed(e["type"], e) for e in responses_events(["a", "b"], usage=(3, 2))]
    assert [c.text for chunks in fed for c in chunks if c.text] == ["a", "b"]
    assert [c.reasoning for chunks in fed for c in chunks if c.reasoning] == ["thinking…"]
    assert state.done and state.finish() == Chunk(finish_reason="stop", usage=Usage(3, 2))


async def test_openai_handler_answers_the_responses_route() -> None:
    with LoopbackServer(openai_handler("Hi from the handler")) as server:
        p = OpenAIResponsesProvider(codex_settings(f"{server.url}/v1"))
        try:
            assert (await collect(p))[0] == "Hi from the handler"
            assert (await p.chat(REQUEST)).text == "Hi from the handler"
        finally:
            await p.close()
