"""The openai-compatible adapter against chat completions served on a real loopback socket."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import pytest

from providers.errors import (
    BadRequestError,
    ContentFilteredError,
    ContextLengthError,
    ModelNotFoundError,
    ProviderAuthError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitError,
)
from providers.openai_compat import (
    ChatStreamState,
    OpenAICompatibleProvider,
    build_chat_body,
    parse_chat_reply,
)
from providers.openai_errors import error_from_payload
from providers.types import ChatRequest, Chunk, Message, Usage
from tests.wire.loopback import LoopbackServer, Pause, Reply, Reset, Stall
from tests.wire.openai import (
    SSE,
    STATUS_CASES,
    chat_chunk,
    chat_reply,
    chat_sse,
    chat_stream,
    compat_settings,
    models_reply,
    openai_handler,
    sse_data,
    text_reply,
    usage_chunk,
)

REQUEST = ChatRequest(
    messages=(Message("system", "Be brief."), Message("user", "Say hello")),
    model="Qwen/Qwen3-8B",
    max_tokens=64,
    temperature=0.2,
)
CANARY = "sk-canary-5f1e2d3c4b5a"


@pytest.fixture
async def provider(loopback: LoopbackServer) -> AsyncIterator[OpenAICompatibleProvider]:
    p = OpenAICompatibleProvider(compat_settings(f"{loopback.url}/v1"))
    yield p
    await p.close()


async def collect(p: OpenAICompatibleProvider) -> tuple[str, Chunk]:
    chunks = [c async for c in p.stream(REQUEST)]
    assert all(c.finish_reason is None for c in chunks[:-1])
    return "".join(c.text for c in chunks), chunks[-1]


async def partial_then_error(p: OpenAICompatibleProvider) -> tuple[str, ProviderError]:
    """Text received before the stream failed, and the failure."""
    text = ""
    with pytest.raises(ProviderError) as info:
        async for chunk in p.stream(REQUEST):
            text += chunk.text
    return text, info.value


async def test_streams_text_with_finish_and_usage(provider: Any, loopback: LoopbackServer) -> None:
    loopback.enqueue(chat_stream(["Hel", "lo", "!"], usage=(12, 3)))
    text, last = await collect(provider)
    assert text == "Hello!"
    assert last == Chunk(finish_reason="stop", usage=Usage(12, 3))
    sent = loopback.requests[0]
    assert (sent.method, sent.path) == ("POST", "/v1/chat/completions")
    assert "authorization" not in sent.headers  # a local server needs no key
    assert sent.json() == {
        "model": "Qwen/Qwen3-8B",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Say hello"},
        ],
        "max_tokens": 64,
        "temperature": 0.2,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


@pytest.mark.parametrize(
    "options",
    [
        {"space": False},
        {"done": False},
        {"crlf": True},
        {"role_every_chunk": True},
        {"usage_in_own_chunk": False},
        {"space": False, "done": False, "crlf": True},
    ],
    ids=["no-space", "no-done", "crlf", "role-every-chunk", "usage-in-finish-chunk", "all"],
)
async def test_dialects_of_the_stream_give_the_same_answer(
    provider: Any, loopback: LoopbackServer, options: dict[str, Any]
) -> None:
    loopback.enqueue(chat_stream(["a", "b", "c"], usage=(7, 3), **options))
    assert await collect(provider) == ("abc", Chunk(finish_reason="stop", usage=Usage(7, 3)))


async def test_bytes_split_anywhere_still_decode(provider: Any, loopback: LoopbackServer) -> None:
    raw = "".join(str(p) for p in chat_sse(["héllo ", "wörld ✓"], crlf=True)).encode()
    loopback.enqueue(Reply(body=[raw[i : i + 3] for i in range(0, len(raw), 3)], content_type=SSE))
    text, last = await collect(provider)
    assert (text, last.finish_reason) == ("héllo wörld ✓", "stop")


async def test_stream_without_usage_finishes_without_usage(
    provider: Any, loopback: LoopbackServer
) -> None:
    loopback.enqueue(chat_stream(["x"], usage=None))
    assert await collect(provider) == ("x", Chunk(finish_reason="stop", usage=None))


@pytest.mark.parametrize(
    ("vendor", "ours"),
    [
        ("stop", "stop"),
        ("eos", "stop"),
        ("eos_token", "stop"),
        ("length", "length"),
        ("content_filter", "content_filter"),
        ("tool_calls", "other"),
        ("something_new", "other"),
    ],
)
async def test_finish_reasons_are_normalised(
    provider: Any, loopback: LoopbackServer, vendor: str, ours: str
) -> None:
    loopback.enqueue(chat_stream(["x"], finish_reason=vendor))
    _, last = await collect(provider)
    assert last.finish_reason == ours


async def test_a_refusal_is_shown_and_finishes_as_content_filter(
    provider: Any, loopback: LoopbackServer
) -> None:
    chunks = [
        chat_chunk(role="assistant", refusal=""),
        chat_chunk(refusal="I'm sorry, "),
        chat_chunk(refusal="I can't help with that."),
        chat_chunk(finish_reason="stop"),
    ]
    loopback.enqueue(Reply(body=sse_data(chunks), content_type=SSE))
    text, last = await collect(provider)
    assert (text, last.finish_reason) == ("I'm sorry, I can't help with that.", "content_filter")


async def test_a_refusal_beside_real_text_keeps_the_finish_reason(
    provider: Any, loopback: LoopbackServer
) -> None:
    chunks = [
        chat_chunk("Part of it: 42. "),
        chat_chunk(refusal="Not the rest."),
        chat_chunk(finish_reason="stop"),
    ]
    loopback.enqueue(Reply(body=sse_data(chunks), content_type=SSE))
    assert await collect(provider) == ("Part of it: 42. Not the rest.", Chunk(finish_reason="stop"))


async def test_non_streaming_chat(provider: Any, loopback: LoopbackServer) -> None:
    loopback.enqueue(chat_reply("Hello there.", finish_reason="length", usage=(9, 2)))
    result = await provider.chat(REQUEST)
    assert (result.text, result.finish_reason, result.usage) == (
        "Hello there.",
        "length",
        Usage(9, 2),
    )
    assert result.model == "Qwen/Qwen3-8B"
    body = loopback.requests[0].json()
    assert "stream" not in body and "stream_options" not in body


async def test_complete_is_a_one_message_chat(provider: Any, loopback: LoopbackServer) -> None:
    loopback.enqueue(chat_reply("4"))
    assert (await provider.complete("2+2?")).text == "4"
    assert loopback.requests[0].json()["messages"] == [{"role": "user", "content": "2+2?"}]


async def test_lists_models_and_health_counts_them(provider: Any, loopback: LoopbackServer) -> None:
    loopback.enqueue(models_reply(["a/b", "c/d:groq"]), models_reply(["a/b", "c/d:groq"]))
    assert [m.id for m in await provider.list_models()] == ["a/b", "c/d:groq"]
    assert (await provider.health_check()).models == 2
    assert [r.path for r in loopback.requests] == ["/v1/models", "/v1/models"]


async def test_sends_the_key_as_bearer_when_configured(loopback: LoopbackServer) -> None:
    settings = compat_settings(f"{loopback.url}/v1/", api_key="hf_abc123", api_key_env="HF_TOKEN")
    loopback.enqueue(chat_stream(["ok"]))
    p = OpenAICompatibleProvider(settings)
    try:
        assert (await collect(p))[0] == "ok"
    finally:
        await p.close()
    assert loopback.requests[0].headers["authorization"] == "Bearer hf_abc123"
    assert loopback.requests[0].path == "/v1/chat/completions"  # trailing slash tolerated


@pytest.mark.parametrize("call", ["stream", "chat", "list_models", "health_check"])
async def test_missing_required_key_fails_before_any_connection(
    loopback: LoopbackServer, call: str
) -> None:
    settings = compat_settings(
        f"{loopback.url}/v1", name="hf", api_key_env="HF_TOKEN", options={"key_required": True}
    )
    p = OpenAICompatibleProvider(settings)
    try:
        with pytest.raises(ProviderAuthError, match=r"^hf: HF_TOKEN is not set$"):
            if call == "stream":
                [c async for c in p.stream(REQUEST)]
            elif call == "chat":
                await p.chat(REQUEST)
            else:
                await getattr(p, call)()
    finally:
        await p.close()
    assert loopback.connections == 0


async def test_optional_key_env_unset_talks_without_a_key(loopback: LoopbackServer) -> None:
    loopback.enqueue(chat_stream(["fine"]))
    p = OpenAICompatibleProvider(compat_settings(f"{loopback.url}/v1", api_key_env="VLLM_API_KEY"))
    try:
        assert (await collect(p))[0] == "fine"
    finally:
        await p.close()
    assert "authorization" not in loopback.requests[0].headers


async def test_missing_base_url_is_a_clear_error() -> None:
    p = OpenAICompatibleProvider(compat_settings(None))
    with pytest.raises(ProviderUnavailableError, match=r"^my-vllm: no base_url configured$"):
        await p.chat(REQUEST)
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
    message = str(info.value)
    assert message.startswith("my-vllm: HTTP ") and "\n" not in message
    if isinstance(info.value, RateLimitError):
        assert info.value.retry_after == 7


async def test_plain_text_error_body_is_quoted(provider: Any, loopback: LoopbackServer) -> None:
    loopback.enqueue(text_reply(422, "Input validation error: `inputs` must be non-empty"))
    with pytest.raises(ProviderError, match="Input validation error: `inputs` must be non-empty"):
        await provider.chat(REQUEST)


async def test_404_without_a_model_hints_at_base_url(
    provider: Any, loopback: LoopbackServer
) -> None:
    loopback.enqueue(text_reply(404, "Not Found"))
    with pytest.raises(ProviderError, match=r"is base_url right\?"):
        await provider.chat(REQUEST)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ({"message": "upstream overloaded", "type": "server_error"}, ProviderUnavailableError),
        ({"message": "Rate limit exceeded", "code": 429}, RateLimitError),
        ({"message": "This model's maximum context length is 4096 tokens"}, ContextLengthError),
    ],
    ids=["server-error", "numeric-429", "context"],
)
async def test_in_band_error_mid_stream(
    provider: Any, loopback: LoopbackServer, error: dict[str, Any], expected: type
) -> None:
    parts = chat_sse(["Once ", "upon"], finish_reason=None, done=False)
    loopback.enqueue(
        Reply(body=[*parts, *sse_data([{"error": error}], done=False)], content_type=SSE)
    )
    text, exc = await partial_then_error(provider)
    assert text == "Once upon"
    assert type(exc) is expected
    assert error["message"] in str(exc)


async def test_json_error_on_a_200_instead_of_a_stream(
    provider: Any, loopback: LoopbackServer
) -> None:
    loopback.enqueue(Reply.json({"error": {"message": "model is loading", "type": "server_error"}}))
    with pytest.raises(ProviderUnavailableError, match="model is loading"):
        [c async for c in provider.stream(REQUEST)]


async def test_reset_mid_stream_keeps_partial_text(provider: Any, loopback: LoopbackServer) -> None:
    parts = chat_sse(["Once ", "upon"], finish_reason=None, done=False)
    loopback.enqueue(Reply(body=[*parts, Pause(0.05), Reset()], content_type=SSE))
    text, exc = await partial_then_error(provider)
    assert text == "Once upon"
    assert isinstance(exc, ProviderUnavailableError)
    assert str(exc).startswith(f"my-vllm: connection to {loopback.url}")


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (b'data: {"choices": [{"delta": {"content": "x"\n\n', "malformed JSON in stream event"),
        (b"data: [1, 2]\n\n", "expected a JSON object"),
        (b'data: {"choices": [{"delta": {"content": "\xff\xfe"}}]}\n\n', "not valid UTF-8"),
    ],
    ids=["truncated-json", "not-an-object", "bad-utf8"],
)
async def test_malformed_events_are_unavailable_errors(
    provider: Any, loopback: LoopbackServer, raw: bytes, match: str
) -> None:
    loopback.enqueue(
        Reply(body=[*chat_sse(["ok "], finish_reason=None, done=False), raw], content_type=SSE)
    )
    text, exc = await partial_then_error(provider)
    assert text == "ok "
    assert isinstance(exc, ProviderUnavailableError)
    assert match in str(exc)


@pytest.mark.parametrize(
    "body",
    [
        [],
        [": ping - 2024-01-01 00:00:00\r\n\r\n"],
        chat_sse(["cut ", "short"], finish_reason=None, done=True),
        chat_sse(["cut ", "short"], finish_reason=None, done=False),
        sse_data([usage_chunk((3, 2))]),
    ],
    ids=["empty", "only-pings", "no-finish-with-done", "no-finish-no-done", "only-usage"],
)
async def test_streams_that_never_finish_are_failures(
    provider: Any, loopback: LoopbackServer, body: list[Any]
) -> None:
    loopback.enqueue(Reply(body=body, content_type=SSE))
    with pytest.raises(
        ProviderUnavailableError, match=r"^my-vllm: stream ended before the answer was finished$"
    ):
        [c async for c in provider.stream(REQUEST)]


async def test_connection_refused(refused_url: str) -> None:
    p = OpenAICompatibleProvider(compat_settings(f"{refused_url}/v1"))
    try:
        with pytest.raises(ProviderUnavailableError, match="connection refused"):
            await p.list_models()
    finally:
        await p.close()


async def test_stopping_early_closes_the_socket(provider: Any, loopback: LoopbackServer) -> None:
    parts = chat_sse(["first ", "second"], finish_reason=None, done=False)
    loopback.enqueue(Reply(body=[*parts, Stall()], content_type=SSE))
    async with aclosing(provider.stream(REQUEST)) as chunks:
        async for chunk in chunks:
            assert chunk.text == "first "
            break
    assert loopback.wait_closed(), "the abandoned stream kept its connection open"


async def test_canary_key_never_reaches_an_error_message(loopback: LoopbackServer) -> None:
    echo = f"Incorrect API key provided: {CANARY}"
    loopback.enqueue(
        Reply.json({"error": {"message": echo, "code": "invalid_api_key"}}, 401),
        Reply(body=sse_data([{"error": {"message": f"bad {CANARY}"}}]), content_type=SSE),
        text_reply(500, f"Authorization: Bearer {CANARY}"),
    )
    p = OpenAICompatibleProvider(compat_settings(f"{loopback.url}/v1", api_key=CANARY))
    errors: list[ProviderError] = []
    try:
        for _ in range(3):
            with pytest.raises(ProviderError) as info:
                [c async for c in p.stream(REQUEST)]
            errors.append(info.value)
    finally:
        await p.close()
    assert CANARY not in repr(p.settings)
    for exc in errors:
        assert CANARY not in str(exc) and CANARY not in repr(exc.args)
        assert "[redacted]" in str(exc)


def test_body_without_options_is_minimal() -> None:
    body = build_chat_body(ChatRequest(messages=(Message("user", "hi"),), model="m"), stream=False)
    assert body == {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


def test_stream_state_reads_chunks_without_a_network() -> None:
    state = ChatStreamState("hf")
    texts = [
        state.feed("", chunk)
        for chunk in [
            chat_chunk("", role="assistant"),
            chat_chunk("Hi", role="assistant"),
            {"choices": [{"index": 1, "delta": {"content": "other choice"}}]},
            {"choices": [{"index": 0, "delta": {"reasoning_content": "hidden"}}]},
            chat_chunk(finish_reason="eos_token"),
            usage_chunk((4, 1)),
        ]
    ]
    assert texts == [[], [Chunk(text="Hi")], [], [Chunk(reasoning="hidden")], [], []]
    assert state.finish() == Chunk(finish_reason="stop", usage=Usage(4, 1))


def test_non_streamed_refusal_is_a_content_filter_finish() -> None:
    data = {"choices": [{"message": {"content": None, "refusal": "No."}, "finish_reason": "stop"}]}
    result = parse_chat_reply("hf", data, REQUEST)
    assert (result.text, result.finish_reason) == ("No.", "content_filter")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            {"code": 400, "message": "the request exceeds the available context size"},
            ContextLengthError,
        ),
        ({"code": "404", "message": "The model `x` does not exist."}, ModelNotFoundError),
        (
            {"type": "invalid_request_error", "code": "model_not_found", "message": "m"},
            ModelNotFoundError,
        ),
        ({"type": "invalid_request_error", "message": "bad value"}, BadRequestError),
        ({"type": "authentication_error", "message": "expired"}, ProviderAuthError),
        ({"code": "content_filter", "message": "flagged"}, ContentFilteredError),
        ("plain words", ProviderUnavailableError),
    ],
)
def test_in_band_error_table(error: Any, expected: type) -> None:
    assert type(error_from_payload("hf", error)) is expected


async def test_openai_handler_answers_every_route() -> None:
    with LoopbackServer(openai_handler("Hello from the handler", models=["m1", "m2"])) as server:
        p = OpenAICompatibleProvider(compat_settings(f"{server.url}/v1"))
        try:
            assert (await collect(p))[0] == "Hello from the handler"
            assert (await p.chat(REQUEST)).text == "Hello from the handler"
            assert [m.id for m in await p.list_models()] == ["m1", "m2"]
        finally:
            await p.close()
