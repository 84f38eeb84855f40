"""The Ollama adapter over real loopback sockets, and its pure parsing on recorded lines.

Payload shapes come from Ollama's docs/api.md and api/types.go (see tests/wire/ollama.py).
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import replace

import pytest

from providers import (
    BadRequestError,
    ChatRequest,
    Chunk,
    Message,
    ModelNotFoundError,
    ProviderAuthError,
    ProviderError,
    ProviderRegistry,
    ProviderSettings,
    ProviderSpec,
    ProviderUnavailableError,
    RateLimitError,
    Usage,
)
from providers.builtins import BUILTIN_TYPES
from providers.ollama import DEFAULT_HOST, OllamaProvider, parse_host, resolve_host
from providers.ollama_wire import StreamParser, build_chat_body, parse_chat_response
from tests.wire.loopback import BodyPart, Pause, Reply, Request, Stall
from tests.wire.ollama import NDJSON, OllamaWire, chat_line, chat_stream, done_line

CANARY = "sk-ollama-CANARY-7f3a9c"
Make = Callable[[ProviderSettings], OllamaProvider]


def settings(**overrides: object) -> ProviderSettings:
    base = ProviderSettings(name="ollama", type="ollama", default_model="llama3.2")
    return replace(base, **overrides)  # type: ignore[arg-type]


def ask(text: str = "hi", model: str = "llama3.2", **kw: object) -> ChatRequest:
    return ChatRequest(messages=(Message("user", text),), model=model, **kw)  # type: ignore[arg-type]


async def collect(stream: AsyncIterator[Chunk]) -> tuple[str, list[Chunk]]:
    chunks = [c async for c in stream]
    return "".join(c.text for c in chunks), chunks


@pytest.fixture
def wire() -> Iterator[OllamaWire]:
    with OllamaWire() as server:
        yield server


@pytest.fixture
async def make() -> AsyncIterator[Make]:
    """Build providers that are closed at teardown, even when the test failed."""
    made: list[OllamaProvider] = []

    def build(s: ProviderSettings) -> OllamaProvider:
        made.append(OllamaProvider(s))
        return made[-1]

    yield build
    for p in made:
        await p.close()


@pytest.fixture
def provider(wire: OllamaWire, make: Make) -> OllamaProvider:
    return make(wire.settings())


async def test_stream_yields_text_then_one_final_chunk(
    wire: OllamaWire, provider: OllamaProvider
) -> None:
    wire.answer(["The", " sky", " is", " blue."], prompt_eval_count=26, eval_count=282)
    text, chunks = await collect(provider.stream(ask()))
    assert text == "The sky is blue."
    assert [c.finish_reason for c in chunks] == [None, None, None, None, "stop"]
    assert chunks[-1].usage == Usage(input_tokens=26, output_tokens=282)
    assert wire.requests[0].headers["content-type"] == "application/json"


async def test_request_carries_messages_system_role_and_options(
    wire: OllamaWire, provider: OllamaProvider
) -> None:
    wire.answer(["ok"])
    request = ChatRequest(
        messages=(Message("system", "Be terse."), Message("user", "hi")),
        model="llama3.2",
        max_tokens=64,
        temperature=0.2,
    )
    await collect(provider.stream(request))
    (body,) = wire.chat_bodies()
    assert body == {
        "model": "llama3.2",
        "messages": [
            {"role": "system", "content": "Be terse."},
            {"role": "user", "content": "hi"},
        ],
        "stream": True,
        "options": {"num_predict": 64, "temperature": 0.2},
    }


def test_body_has_no_options_when_none_were_asked() -> None:
    assert "options" not in build_chat_body(ask(), stream=False)


async def test_chat_asks_for_one_object_and_parses_it(
    wire: OllamaWire, provider: OllamaProvider
) -> None:
    wire.answer(["Hello!", " How are you?"], prompt_eval_count=12, eval_count=7)
    result = await provider.chat(ask())
    assert (result.text, result.model, result.finish_reason) == (
        "Hello! How are you?",
        "llama3.2",
        "stop",
    )
    assert result.usage == Usage(12, 7)
    assert wire.chat_bodies()[0]["stream"] is False


async def test_complete_is_a_one_message_chat(wire: OllamaWire, provider: OllamaProvider) -> None:
    wire.answer(["42"])
    result = await provider.complete("answer?", max_tokens=3)
    assert result.text == "42"
    assert wire.chat_bodies()[0]["messages"] == [{"role": "user", "content": "answer?"}]
    assert wire.chat_bodies()[0]["options"] == {"num_predict": 3}


@pytest.mark.parametrize(
    ("done_reason", "expected"), [("length", "length"), (None, "stop"), ("load", "other")]
)
async def test_done_reason_is_normalised(
    wire: OllamaWire, provider: OllamaProvider, done_reason: str | None, expected: str
) -> None:
    wire.answer(["a"], done_reason=done_reason).answer(["a"], done_reason=done_reason)
    _, chunks = await collect(provider.stream(ask()))
    assert chunks[-1].finish_reason == expected
    assert (await provider.chat(ask())).finish_reason == expected


async def test_models_and_health_come_from_api_tags(
    wire: OllamaWire, provider: OllamaProvider
) -> None:
    wire.models = ["llama3.2:latest", "qwen3:8b", "codellama:13b"]
    assert [m.id for m in await provider.list_models()] == wire.models
    health = await provider.health_check()
    assert health.models == 3
    assert health.detail == wire.url
    assert [r.path for r in wire.requests] == ["/api/tags", "/api/tags"]


@pytest.mark.parametrize("method", ["chat", "stream"])
async def test_unknown_model_suggests_ollama_pull(provider: OllamaProvider, method: str) -> None:
    with pytest.raises(ModelNotFoundError) as err:
        if method == "chat":
            await provider.chat(ask(model="mistral:7b"))
        else:
            await collect(provider.stream(ask(model="mistral:7b")))
    assert str(err.value) == "ollama: model 'mistral:7b' not found (try `ollama pull mistral:7b`)"


@pytest.mark.parametrize(
    ("status", "body", "error", "text"),
    [
        (
            500,
            "llama runner process has terminated: signal: killed",
            ProviderUnavailableError,
            "ollama: HTTP 500: llama runner process has terminated: signal: killed",
        ),
        (
            503,
            "server busy, please try again.  maximum pending requests exceeded",
            ProviderUnavailableError,
            "ollama: HTTP 503: server busy",
        ),
        (401, "unauthorized", ProviderAuthError, "ollama: HTTP 401: unauthorized"),
        (400, "invalid options", BadRequestError, "ollama: HTTP 400: invalid options"),
        (404, b"404 page not found", ProviderUnavailableError, "is this an Ollama server?"),
    ],
)
@pytest.mark.parametrize("method", ["chat", "stream", "list_models"])
async def test_http_errors_map_to_the_taxonomy(
    wire: OllamaWire,
    provider: OllamaProvider,
    method: str,
    status: int,
    body: str | bytes,
    error: type[ProviderError],
    text: str,
) -> None:
    wire.fail(status, body)
    with pytest.raises(error) as err:
        if method == "stream":
            await collect(provider.stream(ask()))
        else:
            await getattr(provider, method)(*([ask()] if method == "chat" else []))
    assert text in str(err.value)


async def test_429_carries_retry_after(wire: OllamaWire, provider: OllamaProvider) -> None:
    wire.fail(429, "too many requests", headers={"Retry-After": "7"})
    with pytest.raises(RateLimitError) as err:
        await collect(provider.stream(ask()))
    assert err.value.retry_after == 7.0


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (
            "an error was encountered while running the model: unexpected EOF",
            ProviderUnavailableError,
        ),
        ("model 'llama3.2' not found", ModelNotFoundError),
    ],
)
async def test_in_band_error_on_a_200_stream(
    wire: OllamaWire, provider: OllamaProvider, message: str, error: type[ProviderError]
) -> None:
    wire.error_in_stream(["Once", " upon"], message)
    seen: list[str] = []
    with pytest.raises(error) as err:
        async for chunk in provider.stream(ask()):
            seen.append(chunk.text)
    assert seen == ["Once", " upon"]
    assert str(err.value).startswith("ollama: ")
    assert "\n" not in str(err.value)


async def test_connection_reset_mid_stream(wire: OllamaWire, provider: OllamaProvider) -> None:
    wire.cut(["partial", " answer"])
    seen: list[str] = []
    with pytest.raises(ProviderUnavailableError) as err:
        async for chunk in provider.stream(ask()):
            seen.append(chunk.text)
    assert seen == ["partial", " answer"]
    assert wire.url in str(err.value)


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        ([json.dumps(chat_line("ok")) + "\n", '{"message": {"content": "x"\n'], "malformed JSON"),
        ([b'{"message": {"content": "\xff\xfe"}, "done": false}\n'], "invalid UTF-8"),
        (["[1, 2]\n"], "unexpected list"),
    ],
)
async def test_garbage_in_the_stream_is_named(
    wire: OllamaWire, provider: OllamaProvider, lines: list[str | bytes], problem: str
) -> None:
    wire.reply(Reply(body=list(lines), content_type=NDJSON))
    with pytest.raises(ProviderUnavailableError) as err:
        await collect(provider.stream(ask()))
    assert problem in str(err.value)


@pytest.mark.parametrize(
    "body",
    [[], chat_stream(["no", " end"])[:-1]],
    ids=["empty", "no-done-line"],
)
async def test_stream_without_done_is_unfinished(
    wire: OllamaWire, provider: OllamaProvider, body: list[BodyPart]
) -> None:
    wire.reply(Reply(body=body, content_type=NDJSON))
    with pytest.raises(
        ProviderUnavailableError, match="stream ended before the answer was finished"
    ):
        await collect(provider.stream(ask()))


async def test_lines_split_across_network_writes(
    wire: OllamaWire, provider: OllamaProvider
) -> None:
    raw = "".join(str(part) for part in chat_stream(["naïve", " café"])).encode()
    cut = raw.index("ï".encode()) + 1  # split inside a UTF-8 sequence and inside a JSON line
    wire.reply(Reply(body=[raw[:cut], Pause(0.02), raw[cut:-1], Pause(0.02), raw[-1:]]))
    text, chunks = await collect(provider.stream(ask()))
    assert text == "naïve café"
    assert chunks[-1].finish_reason == "stop"


async def test_refused_connection_names_the_host(refused_url: str, make: Make) -> None:
    p = make(settings(options={"host": refused_url}))
    expected = f"ollama: cannot connect to {refused_url} (connection refused)"
    calls: list[Callable[[], Awaitable[object]]] = [
        lambda: p.chat(ask()),
        p.list_models,
        p.health_check,
        lambda: collect(p.stream(ask())),
    ]
    for call in calls:
        with pytest.raises(ProviderUnavailableError) as err:
            await call()
        assert str(err.value) == expected


async def test_nothing_on_the_default_host(make: Make) -> None:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 11434)) == 0:
            pytest.skip("something listens on localhost:11434")
    with pytest.raises(ProviderUnavailableError) as err:
        await make(settings()).list_models()
    assert str(err.value) == "ollama: cannot connect to http://localhost:11434 (connection refused)"


async def test_read_timeout_is_unavailable(wire: OllamaWire, make: Make) -> None:
    wire.reply(Reply(before_headers=[Stall()]))
    p = make(wire.settings(timeout=0.2))
    with pytest.raises(ProviderUnavailableError, match="read timed out"):
        await collect(p.stream(ask()))


@pytest.mark.parametrize("key", [None, CANARY])
async def test_bearer_header_only_with_a_key(wire: OllamaWire, make: Make, key: str | None) -> None:
    p = make(wire.settings(api_key=key, api_key_env="OLLAMA_API_KEY"))
    wire.answer(["a"])
    await collect(p.stream(ask()))
    await p.list_models()
    for request in wire.requests:
        assert request.headers.get("authorization") == (f"Bearer {CANARY}" if key else None)


def _echo_headers(status: int, padding: int) -> Callable[[Request], Reply]:
    """A server that quotes the Authorization header in its error (``padding`` moves it)."""

    def step(request: Request) -> Reply:
        quoted = request.headers.get("authorization", "")
        return Reply.json({"error": "x" * padding + f" {quoted}"}, status=status)

    return step


# 270 puts the key across the 300-character cut of quoted server errors.
@pytest.mark.parametrize("padding", [0, 270])
@pytest.mark.parametrize("status", [401, 403, 404, 429, 500])
async def test_key_never_reaches_an_error_message(
    wire: OllamaWire, make: Make, status: int, padding: int
) -> None:
    p = make(wire.settings(api_key=CANARY))
    wire.respond(_echo_headers(status, padding)).respond(_echo_headers(status, padding))
    wire.error_in_stream(["x"], "y" * (padding + 1) + f" bad key Bearer {CANARY}")
    calls: list[Callable[[], Awaitable[object]]] = [
        lambda: p.chat(ask()),
        lambda: collect(p.stream(ask())),
        lambda: collect(p.stream(ask())),
    ]
    for call in calls:
        with pytest.raises(ProviderError) as err:
            await call()
        message = str(err.value)
        assert CANARY[:8] not in message and CANARY[:8] not in repr(err.value.args)
    assert CANARY not in repr(p.settings)


async def test_stopping_early_closes_the_socket(wire: OllamaWire, provider: OllamaProvider) -> None:
    wire.reply(Reply(body=[*chat_stream(["first", " second"])[:1], Stall()], content_type=NDJSON))
    stream = provider.stream(ask())
    assert (await anext(stream)).text == "first"
    assert wire.server.open_connections == 1
    await stream.aclose()
    assert await asyncio.to_thread(wire.wait_closed)


async def test_close_is_idempotent(provider: OllamaProvider) -> None:
    await provider.list_models()
    await provider.close()
    await provider.close()


@pytest.mark.parametrize(
    ("value", "url"),
    [
        ("", DEFAULT_HOST),
        ("localhost", "http://localhost:11434"),
        ("0.0.0.0:11434", "http://127.0.0.1:11434"),
        ("0.0.0.0", "http://127.0.0.1:11434"),
        (":5000", "http://127.0.0.1:5000"),
        ("gpu-box:8080", "http://gpu-box:8080"),
        ("http://gpu-box:8080/", "http://gpu-box:8080"),
        ("http://gpu-box", "http://gpu-box:80"),
        ("https://ollama.com", "https://ollama.com:443"),
        ("https://proxy.example/ollama/", "https://proxy.example:443/ollama"),
        ("[::1]:11434", "http://[::1]:11434"),
        ("[::]", "http://[::1]:11434"),
    ],
)
def test_ollama_host_forms(value: str, url: str) -> None:
    assert parse_host(value) == url


@pytest.mark.parametrize("value", ["ftp://h", "h:notaport"])
async def test_an_invalid_host_fails_this_provider_only_on_use(value: str, make: Make) -> None:
    p = make(settings(options={"host": value}))
    with pytest.raises(ProviderUnavailableError, match="ollama: invalid host"):
        await p.list_models()


def test_host_precedence() -> None:
    base = settings()
    env = {"OLLAMA_HOST": "0.0.0.0:9999"}
    assert resolve_host(base, {}) == DEFAULT_HOST
    assert resolve_host(base, env) == "http://127.0.0.1:9999"
    # A base_url the config layer filled in with the default does not hide OLLAMA_HOST.
    assert resolve_host(replace(base, base_url=DEFAULT_HOST), env) == "http://127.0.0.1:9999"
    assert resolve_host(replace(base, base_url="http://b:1"), env) == "http://b:1"
    with_host = replace(base, base_url="http://b:1", options={"host": "h:2"})
    assert resolve_host(with_host, env) == "http://h:2"


async def test_ollama_host_env_reaches_the_server(
    wire: OllamaWire, make: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The injected environ decides, never the process's own (issue 20).
    monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:9")
    environ = {"OLLAMA_HOST": f"0.0.0.0:{wire.server.port}"}
    p = make(wire.settings(options={}, environ=environ))
    assert p.host == f"http://127.0.0.1:{wire.server.port}"
    assert [m.id for m in await p.list_models()] == ["llama3.2:latest"]


def test_parser_ignores_lines_after_done_and_blank_lines() -> None:
    parser = StreamParser("ollama", "llama3.2")
    lines = [chat_line("a"), done_line(eval_count=1), chat_line("late")]
    raw = ["", "", *(json.dumps(line) for line in lines)]
    assert parser.feed_lines(raw) == [Chunk(text="a")]
    assert parser.end() == Chunk(finish_reason="stop", usage=Usage(26, 1))


def test_whole_answer_with_an_error_field_is_an_error() -> None:
    with pytest.raises(ModelNotFoundError, match="ollama pull qwen3"):
        parse_chat_response("ollama", "qwen3", {"error": "model 'qwen3' not found"})
    with pytest.raises(ProviderUnavailableError, match="answer has no message"):
        parse_chat_response("ollama", "qwen3", {"done": True})


def test_class_matches_its_builtin_spec() -> None:
    spec = ProviderSpec.from_class(
        OllamaProvider, target="providers.ollama:OllamaProvider", origin="built-in"
    )
    assert spec == BUILTIN_TYPES["ollama"]


def test_registry_builds_it() -> None:
    provider = ProviderRegistry().create(settings())
    assert isinstance(provider, OllamaProvider)
