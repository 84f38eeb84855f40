"""Our OpenAI-compatible adapter against a REAL llama.cpp server (llama-cpp-python 0.3.36).

Besides the happy paths, these tests pin down two things the real server does that a
scripted fake would not (recorded on this machine, 2026-11):

- an over-long prompt, streamed, gets ``200 text/event-stream`` with an EMPTY body (no
  event, no ``[DONE]``; the ValueError only reaches the server's log). Non-streamed, the
  same prompt gets ``400 application/json`` with ``code: context_length_exceeded``.
- a body that is not JSON gets ``500 text/plain`` ``Internal Server Error`` and the
  connection is then dropped; JSON that fails validation gets ``500 application/json``
  with ``type: internal_server_error``. Client errors look like server errors here.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from providers.base import ProviderSettings
from providers.errors import ContextLengthError, ProviderError, ProviderUnavailableError
from providers.openai_compat import OpenAICompatibleProvider
from providers.types import ChatRequest, Chunk, Message
from tests.e2e.conftest import LlamaServer

pytestmark = [pytest.mark.llama_server, pytest.mark.local_model]

FRANCE = "What is the capital of France? Answer in one sentence."
#: At temperature 0 SmolLM2-135M answers this with 1000+ tokens.
LONG_ANSWER = "Write a very long story about a dragon, at least 2000 words."
#: ~3000 tokens: more than the server's n_ctx of 2048.
TOO_LONG = "word " * 3000


@pytest.fixture
async def llamacpp(llama_server: LlamaServer) -> AsyncIterator[OpenAICompatibleProvider]:
    settings = ProviderSettings(
        name="llamacpp",
        type="openai-compatible",
        default_model=llama_server.model,
        base_url=llama_server.base_url,
        timeout=60.0,
    )
    provider = OpenAICompatibleProvider(settings)
    yield provider
    await provider.close()


def ask(server: LlamaServer, text: str = FRANCE, **kw: Any) -> ChatRequest:
    return ChatRequest(messages=(Message("user", text),), model=server.model, **kw)


async def collect(stream: AsyncIterator[Chunk]) -> tuple[str, list[Chunk]]:
    chunks = [c async for c in stream]
    return "".join(c.text for c in chunks), chunks


async def test_chat(llamacpp: OpenAICompatibleProvider, llama_server: LlamaServer) -> None:
    result = await llamacpp.chat(ask(llama_server, temperature=0))
    assert "Paris" in result.text
    assert result.finish_reason == "stop"
    assert result.usage.input_tokens > 0
    assert result.usage.output_tokens > 0


async def test_stream(llamacpp: OpenAICompatibleProvider, llama_server: LlamaServer) -> None:
    text, chunks = await collect(llamacpp.stream(ask(llama_server, temperature=0)))
    assert "Paris" in text
    assert len([c for c in chunks if c.text]) >= 3
    assert chunks[-1].finish_reason == "stop"


async def test_stream_max_tokens_is_length(
    llamacpp: OpenAICompatibleProvider, llama_server: LlamaServer
) -> None:
    text, chunks = await collect(llamacpp.stream(ask(llama_server, temperature=0, max_tokens=3)))
    assert text
    assert chunks[-1].finish_reason == "length"


async def test_models_and_health(
    llamacpp: OpenAICompatibleProvider, llama_server: LlamaServer
) -> None:
    assert [m.id for m in await llamacpp.list_models()] == [llama_server.model]
    assert (await llamacpp.health_check()).models == 1


async def test_server_ignores_the_model_name(
    llamacpp: OpenAICompatibleProvider, llama_server: LlamaServer
) -> None:
    # llama.cpp serves its one model whatever the request names: no 404 to fall over on.
    request = ChatRequest((Message("user", FRANCE),), model="no-such-model", temperature=0)
    assert "Paris" in (await llamacpp.chat(request)).text


async def test_over_long_streamed_prompt_is_an_error_not_an_empty_answer(
    llamacpp: OpenAICompatibleProvider, llama_server: LlamaServer
) -> None:
    messages = [{"role": "user", "content": TOO_LONG}]
    body = {"model": llama_server.model, "stream": True, "messages": messages}
    async with (
        httpx.AsyncClient(trust_env=False, timeout=60) as client,
        client.stream("POST", f"{llama_server.base_url}/chat/completions", json=body) as raw,
    ):
        assert raw.status_code == 200
        assert raw.headers["content-type"].startswith("text/event-stream")
        assert await raw.aread() == b""  # what the server really sends
    shown: list[Chunk] = []
    with pytest.raises(ProviderError) as err:
        async for chunk in llamacpp.stream(ask(llama_server, TOO_LONG)):
            shown.append(chunk)
    assert shown == []
    assert isinstance(err.value, ProviderUnavailableError)
    assert str(err.value) == "llamacpp: stream ended before the answer was finished"


async def test_over_long_prompt_not_streamed_is_context_length(
    llamacpp: OpenAICompatibleProvider, llama_server: LlamaServer
) -> None:
    with pytest.raises(ContextLengthError, match="maximum context length is 2048 tokens"):
        await llamacpp.chat(ask(llama_server, TOO_LONG))


async def test_malformed_requests_get_500s(llama_server: LlamaServer) -> None:
    url = f"{llama_server.base_url}/chat/completions"
    headers = {"content-type": "application/json"}
    # One client per request: after the text/plain 500 the server drops the connection
    # without a `connection: close` header, so reusing it may be reset (seen here).
    async with httpx.AsyncClient(trust_env=False, timeout=30) as client:
        broken = await client.post(url, content=b'{"model": "x", "messages": [', headers=headers)
    async with httpx.AsyncClient(trust_env=False, timeout=30) as client:
        invalid = await client.post(url, content=json.dumps({"messages": 5}), headers=headers)
    assert broken.status_code == 500
    assert broken.headers["content-type"].startswith("text/plain")
    assert broken.text == "Internal Server Error"
    assert invalid.status_code == 500
    assert invalid.headers["content-type"] == "application/json"
    assert invalid.json()["error"]["type"] == "internal_server_error"


async def test_abandoned_stream_frees_the_server(
    llamacpp: OpenAICompatibleProvider, llama_server: LlamaServer
) -> None:
    # Answered in full, this story is 1500 tokens; the server must stop when we hang up.
    mark = len(llama_server.log.read_bytes())
    story = ask(llama_server, LONG_ANSWER, temperature=0, max_tokens=1500)
    received = 0
    async for chunk in llamacpp.stream(story):
        received += bool(chunk.text)
        if received == 2:
            break
    result = await llamacpp.chat(ask(llama_server, temperature=0))
    assert "Paris" in result.text
    # Shown by the server's own log, not by the clock: it saw the hang-up, and no
    # generation it logged since ran long (a story left running would log ~1500 runs
    # before the next answer could start: one slot, interrupt_requests off).
    log = llama_server.log.read_bytes()[mark:].decode("utf-8", "replace")
    assert "disconnected" in log
    runs = [int(n) for n in re.findall(r"eval time = .*?/\s+(\d+) runs", log)]
    assert runs and max(runs) < 100, runs
