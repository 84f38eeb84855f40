"""Conformance for reasoning: each official SDK and our adapter find the same thinking in
the same wire bytes, and none of it in the answer text.

Payloads, served byte for byte from a loopback socket (first to the SDK, then to us):

- Anthropic: the "Extended thinking" streaming trace of the Anthropic docs (recorded in
  ``test_anthropic_conformance``), cut into 7-byte network chunks; a whole message with a
  ``thinking`` block (anthropic 2.16.0 ``ThinkingBlock``).
- Gemini: Google's recorded ``streaming-success-thinking-reply-thought-summary`` and
  ``unary-success-thinking-reply-thought-summary`` (``test_gemini_conformance``), where
  ``"thought": true`` parts (google-genai 3.6.1 ``Part.thought``) are the thinking.
- Ollama: ``/api/chat`` with ``think`` as Ollama's docs/api.md shows it ("Chat request
  (with thinking)"): ``message.thinking`` beside ``message.content`` (ollama 0.6.3
  ``Message.thinking``).
- Responses: ``response.reasoning_summary_text.delta`` events (openai 3.57.0
  ``ResponseReasoningSummaryTextDeltaEvent``) before the output text.
- Chat completions: DeepSeek's documented ``reasoning_content`` deltas, and the
  ``<think>…</think>`` prefix a reasoning model writes into ``content`` when the server has
  no reasoning parser, split across chunks inside both tags.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from providers import ChatRequest, Message, ProviderSettings
from providers.anthropic import AnthropicProvider
from providers.gemini import GeminiProvider
from providers.ollama import OllamaProvider
from providers.openai_compat import OpenAICompatibleProvider
from providers.openai_responses import OpenAIResponsesProvider
from providers.think_tags import ThinkSplitter, split_think
from tests.providers.test_anthropic_conformance import DOCS_THINKING
from tests.providers.test_gemini_conformance import STREAM_THINKING, UNARY_THINKING
from tests.wire.anthropic import claude_settings, quick_server
from tests.wire.gemini import GeminiWire
from tests.wire.loopback import LoopbackServer, Reply
from tests.wire.openai import SSE, codex_settings, compat_settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    anthropic = pytest.importorskip("anthropic")
    genai = pytest.importorskip("google.genai")
    ollama = pytest.importorskip("ollama")
    openai = pytest.importorskip("openai")

KEY = "sk-test-key"
ASK = ChatRequest(messages=(Message("user", "hi"),), model="m", max_tokens=256)


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with quick_server() as srv:
        yield srv


def twice(server: LoopbackServer, body: Any, content_type: str) -> None:
    server.enqueue(*[Reply(body=body, content_type=content_type)] * 2)


async def ours(provider: Any, *, stream: bool = True) -> tuple[str, str]:
    """(answer text, reasoning) as our adapter reads them."""
    try:
        if not stream:
            result = await provider.chat(ASK)
            return result.text, result.reasoning
        chunks = [c async for c in provider.stream(ASK)]
    finally:
        await provider.close()
    assert chunks[-1].finish_reason is not None
    return "".join(c.text for c in chunks), "".join(c.reasoning for c in chunks)


async def test_claude_thinking_deltas(server: LoopbackServer) -> None:
    body = DOCS_THINKING.encode()
    twice(server, [body[i : i + 7] for i in range(0, len(body), 7)], "text/event-stream")
    client = anthropic.AsyncAnthropic(api_key=KEY, base_url=server.url, max_retries=0)
    text = thinking = ""
    events = await client.messages.create(
        model="m", max_tokens=256, messages=[{"role": "user", "content": "hi"}], stream=True
    )
    async for event in events:
        if event.type == "content_block_delta" and event.delta.type == "text_delta":
            text += event.delta.text
        elif event.type == "content_block_delta" and event.delta.type == "thinking_delta":
            thinking += event.delta.thinking
    await client.close()
    assert await ours(AnthropicProvider(claude_settings(server.url))) == (text, thinking)
    assert "GCD(1071, 462) = 21" in thinking and "GCD" not in text


async def test_claude_thinking_block_of_a_whole_message(server: LoopbackServer) -> None:
    message = {
        "id": "msg_1", "type": "message", "role": "assistant", "model": "m",
        "content": [
            {"type": "thinking", "thinking": "Euclid: 1071 = 2 × 462 + 147…", "signature": "Eq"},
            {"type": "redacted_thinking", "data": "EmwKAhgB"},
            {"type": "text", "text": "It is **21**."},
        ],
        "stop_reason": "end_turn", "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 20},
    }  # fmt: skip
    twice(server, json.dumps(message).encode(), "application/json")
    client = anthropic.AsyncAnthropic(api_key=KEY, base_url=server.url, max_retries=0)
    theirs = await client.messages.create(
        model="m", max_tokens=256, messages=[{"role": "user", "content": "hi"}]
    )
    await client.close()
    text = "".join(b.text for b in theirs.content if b.type == "text")
    thinking = "".join(b.thinking for b in theirs.content if b.type == "thinking")
    provider = AnthropicProvider(claude_settings(server.url))
    assert await ours(provider, stream=False) == (text, thinking)


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "whole"])
async def test_gemini_thought_parts(loopback: LoopbackServer, stream: bool) -> None:
    body, kind = (STREAM_THINKING, SSE) if stream else (UNARY_THINKING, "application/json")
    twice(loopback, [body], kind)
    options = genai.types.HttpOptions(base_url=loopback.url, api_version="v1beta")
    client = genai.Client(api_key="test-key", http_options=options)
    if stream:
        responses = [
            r
            async for r in await client.aio.models.generate_content_stream(model="m", contents="hi")
        ]
    else:
        responses = [await client.aio.models.generate_content(model="m", contents="hi")]
    await client.aio.aclose()
    parts = [p for r in responses for p in r.candidates[0].content.parts]
    text = "".join(p.text for p in parts if p.text and not p.thought)
    thought = "".join(p.text for p in parts if p.text and p.thought)
    provider = GeminiProvider(GeminiWire(loopback).settings(api_key="test-key"))
    assert await ours(provider, stream=stream) == (text, thought)
    assert thought.startswith("**")


OLLAMA_THINKING = [
    b'{"model":"qwen3","created_at":"2025-05-29T09:35:56.836222Z","message":'
    b'{"role":"assistant","content":"","thinking":"Okay, the user"},"done":false}\n',
    b'{"model":"qwen3","created_at":"2025-05-29T09:35:56.9Z","message":'
    b'{"role":"assistant","content":"","thinking":" asks why the sky is blue."},"done":false}\n',
    b'{"model":"qwen3","created_at":"2025-05-29T09:35:57.1Z","message":'
    b'{"role":"assistant","content":"Rayleigh scattering."},"done":false}\n',
    b'{"model":"qwen3","created_at":"2025-05-29T09:35:57.2Z","message":'
    b'{"role":"assistant","content":""},"done_reason":"stop","done":true,'
    b'"prompt_eval_count":12,"eval_count":40}\n',
]


async def test_ollama_thinking_field(loopback: LoopbackServer) -> None:
    twice(loopback, OLLAMA_THINKING, "application/x-ndjson")
    client = ollama.AsyncClient(host=loopback.url)
    text = thinking = ""
    async for part in await client.chat(
        model="qwen3", messages=[{"role": "user", "content": "hi"}], stream=True, think=True
    ):
        text += part.message.content or ""
        thinking += part.message.thinking or ""
    await client.close()
    settings = ProviderSettings(
        name="ollama", type="ollama", default_model="qwen3", options={"host": loopback.url}
    )
    assert await ours(OllamaProvider(settings)) == (text, thinking)
    assert thinking == "Okay, the user asks why the sky is blue."


def _sse(events: list[dict[str, Any]]) -> bytes:
    out = []
    for number, event in enumerate(events):
        event = {"type": event["type"], "sequence_number": number, **event}
        out.append(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n")
    return "".join(out).encode()


RESP = {
    "id": "resp_1",
    "object": "response",
    "created_at": 1,
    "model": "gpt-5",
    "output": [],
    "status": "in_progress",
    "parallel_tool_calls": True,
    "tool_choice": "auto",
    "tools": [],
}
SUMMARY = {"item_id": "rs_1", "output_index": 0, "summary_index": 0}
TEXT_AT = {"item_id": "msg_1", "output_index": 1, "content_index": 0}
RESPONSES_REASONING = _sse([
    {"type": "response.created", "response": RESP},
    {"type": "response.output_item.added", "output_index": 0,
     "item": {"id": "rs_1", "type": "reasoning", "summary": []}},
    {"type": "response.reasoning_summary_part.added", **SUMMARY,
     "part": {"type": "summary_text", "text": ""}},
    {"type": "response.reasoning_summary_text.delta", **SUMMARY, "delta": "**Weighing units**"},
    {"type": "response.reasoning_summary_text.delta", **SUMMARY, "delta": "\n\nCelsius first."},
    {"type": "response.reasoning_summary_part.added", **SUMMARY, "summary_index": 1,
     "part": {"type": "summary_text", "text": ""}},
    {"type": "response.reasoning_summary_text.delta", **SUMMARY, "summary_index": 1,
     "delta": "Then answer."},
    {"type": "response.output_text.delta", **TEXT_AT, "delta": "It is 18 °C."},
    {"type": "response.completed", "response": {**RESP, "status": "completed",
     "usage": {"input_tokens": 5, "output_tokens": 9, "total_tokens": 14,
               "input_tokens_details": {"cached_tokens": 0},
               "output_tokens_details": {"reasoning_tokens": 6}}}},
])  # fmt: skip


async def test_responses_reasoning_summaries(loopback: LoopbackServer) -> None:
    from openai.types.responses import (
        ResponseReasoningSummaryPartAddedEvent,
        ResponseReasoningSummaryTextDeltaEvent,
        ResponseTextDeltaEvent,
    )

    twice(loopback, [RESPONSES_REASONING], SSE)
    client = openai.AsyncOpenAI(api_key=KEY, base_url=f"{loopback.url}/v1", max_retries=0)
    text = summary = ""
    async for event in await client.responses.create(model="gpt-5", input="hi", stream=True):
        if isinstance(event, ResponseTextDeltaEvent):
            text += event.delta
        elif isinstance(event, ResponseReasoningSummaryTextDeltaEvent):
            summary += event.delta
        elif isinstance(event, ResponseReasoningSummaryPartAddedEvent) and event.summary_index:
            summary += "\n\n"
    await client.close()
    provider = OpenAIResponsesProvider(codex_settings(f"{loopback.url}/v1", api_key=KEY))
    assert await ours(provider) == (text, summary)
    assert summary.endswith("Celsius first.\n\nThen answer.")


def _chat_chunks(deltas: list[dict[str, Any]]) -> bytes:
    base = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "r1"}
    lines = [{**base, "choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas]
    lines.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return b"".join(f"data: {json.dumps(x)}\n\n".encode() for x in lines) + b"data: [DONE]\n\n"


async def sdk_chat(url: str) -> tuple[str, str]:
    """The SDK's content, and any ``reasoning_content`` it kept as an extra field."""
    client = openai.AsyncOpenAI(api_key=KEY, base_url=f"{url}/v1", max_retries=0)
    content = reasoning = ""
    stream = await client.chat.completions.create(
        model="r1", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    async for chunk in stream:
        for choice in chunk.choices:
            content += choice.delta.content or ""
            reasoning += (choice.delta.model_extra or {}).get("reasoning_content") or ""
    await client.close()
    return content, reasoning


async def test_chat_reasoning_content_deltas(loopback: LoopbackServer) -> None:
    body = _chat_chunks([
        {"role": "assistant", "content": None, "reasoning_content": "9.11 vs 9.8: "},
        {"content": None, "reasoning_content": "compare tenths."},
        {"content": "9.8 is larger."},
    ])  # fmt: skip
    twice(loopback, [body], SSE)
    theirs = await sdk_chat(loopback.url)
    provider = OpenAICompatibleProvider(compat_settings(f"{loopback.url}/v1", api_key=KEY))
    assert await ours(provider) == theirs == ("9.8 is larger.", "9.11 vs 9.8: compare tenths.")


async def test_think_tags_split_across_chunks(loopback: LoopbackServer) -> None:
    pieces = ["\n<th", "ink>Compare", " tenths: 8 > 1.</th", "ink>", "\n\n9.8", " is larger."]
    twice(loopback, [_chat_chunks([{"content": p} for p in pieces])], SSE)
    content, _ = await sdk_chat(loopback.url)
    provider = OpenAICompatibleProvider(compat_settings(f"{loopback.url}/v1", api_key=KEY))
    text, reasoning = await ours(provider)
    assert content == "\n<think>Compare tenths: 8 > 1.</think>\n\n9.8 is larger."
    assert (text, reasoning) == ("9.8 is larger.", "Compare tenths: 8 > 1.")


@pytest.mark.parametrize(
    ("pieces", "expected"),
    [
        (["<think>a</think>b"], ("b", "a")),
        (["<", "t", "h", "i", "n", "k", ">", "x", "<", "/think", ">", " ", "y"], ("y", "x")),
        (["no tags here"], ("no tags here", "")),
        (["<b>bold</b>"], ("<b>bold</b>", "")),
        (["<thin"], ("<thin", "")),  # a stream that ends on what looked like a tag
        (["<think>unclosed"], ("", "unclosed")),
        (["answer <think>x</think>"], ("answer <think>x</think>", "")),  # not at the start
        (["  ", "\n"], ("  \n", "")),
    ],
)
def test_think_splitter_any_cut(pieces: list[str], expected: tuple[str, str]) -> None:
    splitter = ThinkSplitter()
    parts = [splitter.feed(p) for p in pieces] + [splitter.close()]
    assert ("".join(a for a, _ in parts), "".join(r for _, r in parts)) == expected
    assert split_think("".join(pieces)) == expected


def test_think_splitter_gives_the_same_split_wherever_the_stream_is_cut() -> None:
    whole = " <think>a < b </thin </think>\n\n</think> answer <think>"
    expected = split_think(whole)
    assert expected == ("</think> answer <think>", "a < b </thin ")
    for i in range(len(whole)):
        for j in range(i, len(whole)):
            splitter = ThinkSplitter()
            parts = [splitter.feed(p) for p in (whole[:i], whole[i:j], whole[j:])]
            parts.append(splitter.close())
            got = ("".join(a for a, _ in parts), "".join(r for _, r in parts))
            assert got == expected, (i, j)
