"""Conformance: the official ``ollama`` SDK and our adapter read the same wire bytes alike.

Both are pointed at one loopback server that replays recorded answers byte for byte; the
SDK (used only here, as an oracle) and ``OllamaProvider`` must agree on text, done reason
and token counts, and on what they send.

Recorded payloads: Ollama's docs/api.md (github.com/ollama/ollama), sections "Chat Request
(Streaming)", "Chat request (Structured outputs)" and "List Local Models". The docs show
only the first and the final line of a stream; the lines between are filled in with the
same shape. The final line carries ``message`` with empty content because the server's
api/types.go ``ChatResponse.Message`` is not ``omitempty``, and ``done_reason`` as current
servers send it (shown in the docs' structured-output example).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import ollama
import pytest
from ollama._client import _parse_host

from providers import (
    ChatRequest,
    Message,
    ModelNotFoundError,
    ProviderSettings,
    ProviderUnavailableError,
)
from providers.ollama import OllamaProvider, parse_host
from tests.wire.loopback import Reply
from tests.wire.ollama import OllamaWire

STREAM_LINES = [
    b'{"model":"llama3.2","created_at":"2023-08-04T08:52:19.385406455-07:00",'
    b'"message":{"role":"assistant","content":"The","images":null},"done":false}\n',
    b'{"model":"llama3.2","created_at":"2023-08-04T08:52:19.485406455-07:00",'
    b'"message":{"role":"assistant","content":" sky is blue"},"done":false}\n',
    b'{"model":"llama3.2","created_at":"2023-08-04T08:52:19.585406455-07:00",'
    b'"message":{"role":"assistant","content":" because of Rayleigh scattering."},'
    b'"done":false}\n',
    b'{"model":"llama3.2","created_at":"2023-08-04T19:22:45.499127Z",'
    b'"message":{"role":"assistant","content":""},"done_reason":"stop","done":true,'
    b'"total_duration":4883583458,"load_duration":1334875,"prompt_eval_count":26,'
    b'"prompt_eval_duration":342546000,"eval_count":282,"eval_duration":4535599000}\n',
]

WHOLE_ANSWER = (
    b'{"model":"llama3.1","created_at":"2024-12-06T00:46:58.265747Z",'
    b'"message":{"role":"assistant","content":"{\\"age\\": 22, \\"available\\": false}"},'
    b'"done_reason":"stop","done":true,"total_duration":2254970291,'
    b'"load_duration":574751416,"prompt_eval_count":34,"prompt_eval_duration":1502000000,'
    b'"eval_count":12,"eval_duration":175000000}'
)

TAGS = (
    b'{"models":[{"name":"codellama:13b","model":"codellama:13b",'
    b'"modified_at":"2023-11-04T14:56:49.277302595-07:00","size":7365960935,'
    b'"digest":"9f438cb9cd581fc025612d27f7c1a6669ff83a8bb0ed86c94fcf4c5440555697",'
    b'"details":{"format":"gguf","family":"llama","families":null,"parameter_size":"13B",'
    b'"quantization_level":"Q4_0"}},{"name":"llama3:latest","model":"llama3:latest",'
    b'"modified_at":"2023-12-07T09:32:18.757212583-08:00","size":3825819519,'
    b'"digest":"fe938a131f40e6f6d40083c9f0f430a515233eb2edaa6d72eb85c50d64f2300e",'
    b'"details":{"format":"gguf","family":"llama","families":null,"parameter_size":"7B",'
    b'"quantization_level":"Q4_0"}}]}'
)

REQUEST = ChatRequest(
    messages=(
        Message("system", "Answer in one sentence."),
        Message("user", "why is the sky blue?"),
    ),
    model="llama3.2",
    max_tokens=128,
    temperature=0.0,
)
MESSAGES = [{"role": m.role, "content": m.content} for m in REQUEST.messages]
SDK_OPTIONS = {"num_predict": 128, "temperature": 0.0}


def stream_reply(lines: list[bytes]) -> Reply:
    return Reply(body=list(lines), content_type="application/x-ndjson")


@pytest.fixture
def server() -> Iterator[OllamaWire]:
    """Replays whatever the test enqueues, in order, to whichever client asks next."""
    with OllamaWire() as wire:
        yield wire


@pytest.fixture
async def sdk(server: OllamaWire) -> AsyncIterator[ollama.AsyncClient]:
    client = ollama.AsyncClient(host=server.url)
    yield client
    await client.close()


@pytest.fixture
async def ours(server: OllamaWire) -> AsyncIterator[OllamaProvider]:
    settings = ProviderSettings(
        name="ollama", type="ollama", default_model="llama3.2", options={"host": server.url}
    )
    provider = OllamaProvider(settings)
    yield provider
    await provider.close()


async def sdk_stream(sdk: ollama.AsyncClient) -> tuple[str, Any]:
    text, last = "", None
    async for part in await sdk.chat(
        model="llama3.2", messages=MESSAGES, stream=True, options=SDK_OPTIONS
    ):
        text += part.message.content or ""
        last = part
    return text, last


async def our_stream(ours: OllamaProvider) -> tuple[str, Any]:
    chunks = [c async for c in ours.stream(REQUEST)]
    return "".join(c.text for c in chunks), chunks[-1]


@pytest.mark.parametrize("done_reason", [b"stop", b"length"])
async def test_stream_same_text_done_reason_and_counts(
    server: OllamaWire, sdk: ollama.AsyncClient, ours: OllamaProvider, done_reason: bytes
) -> None:
    lines = [*STREAM_LINES[:-1], STREAM_LINES[-1].replace(b'"stop"', b'"' + done_reason + b'"')]
    server.reply(stream_reply(lines)).reply(stream_reply(lines))
    sdk_text, sdk_last = await sdk_stream(sdk)
    our_text, final = await our_stream(ours)
    assert our_text == sdk_text == "The sky is blue because of Rayleigh scattering."
    assert final.finish_reason == sdk_last.done_reason == done_reason.decode()
    assert final.usage.input_tokens == sdk_last.prompt_eval_count == 26
    assert final.usage.output_tokens == sdk_last.eval_count == 282


async def test_whole_answer_same_text_done_reason_and_counts(
    server: OllamaWire, sdk: ollama.AsyncClient, ours: OllamaProvider
) -> None:
    server.reply(Reply(body=WHOLE_ANSWER)).reply(Reply(body=WHOLE_ANSWER))
    theirs = await sdk.chat(model="llama3.2", messages=MESSAGES, options=SDK_OPTIONS)
    result = await ours.chat(REQUEST)
    assert result.text == theirs.message.content == '{"age": 22, "available": false}'
    assert result.finish_reason == theirs.done_reason == "stop"
    assert (result.usage.input_tokens, result.usage.output_tokens) == (
        theirs.prompt_eval_count,
        theirs.eval_count,
    )
    assert result.model == theirs.model == "llama3.1"


@pytest.mark.parametrize("stream", [True, False])
async def test_we_send_what_the_sdk_sends(
    server: OllamaWire,
    sdk: ollama.AsyncClient,
    ours: OllamaProvider,
    stream: bool,
) -> None:
    reply = stream_reply(STREAM_LINES) if stream else Reply(body=WHOLE_ANSWER)
    server.reply(reply).reply(reply)
    if stream:
        await sdk_stream(sdk)
        await our_stream(ours)
    else:
        await sdk.chat(model="llama3.2", messages=MESSAGES, options=SDK_OPTIONS)
        await ours.chat(REQUEST)
    theirs, mine = server.requests
    assert (mine.method, mine.path) == (theirs.method, theirs.path) == ("POST", "/api/chat")
    for key in ("model", "messages", "stream", "options"):
        assert mine.json()[key] == theirs.json()[key], key


async def test_same_model_list(
    server: OllamaWire, sdk: ollama.AsyncClient, ours: OllamaProvider
) -> None:
    server.reply(Reply(body=TAGS)).reply(Reply(body=TAGS))
    theirs = [m.model for m in (await sdk.list()).models]
    assert [m.id for m in await ours.list_models()] == theirs == ["codellama:13b", "llama3:latest"]
    assert [r.path for r in server.requests] == ["/api/tags", "/api/tags"]


async def test_missing_model_is_a_404_to_both(
    server: OllamaWire, sdk: ollama.AsyncClient, ours: OllamaProvider
) -> None:
    missing = Reply.json({"error": "model 'llama3.2' not found"}, status=404)
    server.reply(missing).reply(missing)
    with pytest.raises(ollama.ResponseError) as theirs:
        await sdk_stream(sdk)
    with pytest.raises(ModelNotFoundError) as mine:
        await our_stream(ours)
    assert theirs.value.status_code == 404
    assert theirs.value.error == "model 'llama3.2' not found"
    assert "ollama pull llama3.2" in str(mine.value)


async def test_in_band_error_stops_both_after_the_same_text(
    server: OllamaWire, sdk: ollama.AsyncClient, ours: OllamaProvider
) -> None:
    error = b'{"error":"an error was encountered while running the model: unexpected EOF"}\n'
    lines = [*STREAM_LINES[:2], error]
    server.reply(stream_reply(lines)).reply(stream_reply(lines))
    sdk_seen: list[str] = []
    with pytest.raises(ollama.ResponseError) as theirs:
        async for part in await sdk.chat(model="llama3.2", messages=MESSAGES, stream=True):
            sdk_seen.append(part.message.content or "")
    our_seen: list[str] = []
    with pytest.raises(ProviderUnavailableError) as mine:
        async for chunk in ours.stream(REQUEST):
            our_seen.append(chunk.text)
    assert our_seen == sdk_seen == ["The", " sky is blue"]
    assert str(mine.value) == f"ollama: {theirs.value.error}"


@pytest.mark.parametrize(
    "value",
    [
        "1.2.3.4",
        ":56789",
        "1.2.3.4:56789",
        "http://1.2.3.4",
        "https://1.2.3.4",
        "https://example.com:56789/path",
        "example.com:56789/path/",
        "[0001:002:003:0004::1]:56789",
        "https://[0001:002:003:0004::1]/path",
    ],
)
def test_host_forms_read_as_the_sdk_reads_them(value: str) -> None:
    # Deliberate differences, tested in test_ollama.py: "" keeps the documented
    # http://localhost:11434, and a 0.0.0.0 listen address becomes 127.0.0.1.
    assert parse_host(value) == _parse_host(value)
