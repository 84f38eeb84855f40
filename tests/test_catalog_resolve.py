"""Pure choices over a catalog (ollama_cli.catalog.resolve) and the Anthropic stop reasons
that are not an answer, on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from ollama_cli.catalog.resolve import best_installed, closest, family_of, replacement, select
from ollama_cli.catalog.store import CatalogStore
from providers import ChatRequest, ContextLengthError, Message
from providers.anthropic import AnthropicProvider
from providers.types import ModelInfo
from tests.wire.anthropic import claude_settings, sse_reply, stream_events
from tests.wire.loopback import LoopbackServer, Request


def m(model_id: str, lifecycle: str = "active", family: str | None = None) -> ModelInfo:
    return ModelInfo(id=model_id, lifecycle=lifecycle, family=family)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("gpt-6.2-sol", "gpt-sol"),
        ("claude-sonnet-4-5-20250929", "claude-sonnet"),
        ("qwen3:0.6b", "qwen"),
        ("meta-llama/Llama-3.1-8B-Instruct", "llama-instruct"),
        ("gemini-3.8-flash", "gemini-flash"),
    ],
)
def test_family_of_drops_versions_dates_and_tags(model: str, family: str) -> None:
    assert family_of(model) == family


def test_selectors_pick_the_newest_usable_model() -> None:
    models = [
        m("claude-sonnet-4-6", "retired", "sonnet"),
        m("claude-sonnet-5", family="sonnet"),
        m("claude-sonnet-5-5", family="sonnet"),
        m("claude-sonnet-5-5-20261001", family="sonnet"),
        m("claude-opus-5-5", family="opus"),
    ]
    assert select("@sonnet", models) == models[2]  # an undated alias before its snapshot
    assert select("claude-opus*", models) == models[4]
    assert select("@haiku", models) is None


def test_a_replacement_keeps_the_family_and_never_a_retired_model() -> None:
    models = [m("gpt-5.6-sol", "retired"), m("gpt-6-sol"), m("gpt-6.1-luna"), m("dall-e-3")]
    assert replacement("gpt-5.6-sol", models) == models[1]
    assert replacement("gpt-5-codex", models) is None
    assert closest("gpt-6-sul", models)[0] == "gpt-6-sol"


def test_ollama_best_installed_prefers_the_family_and_skips_embeddings() -> None:
    installed = [m("nomic-embed-text:latest", "unknown"), m("qwen3:0.6b", "unknown")]
    assert best_installed("llama3.2", installed) == installed[1]
    assert best_installed("llama3.2", [*installed, m("llama3.1:8b", "unknown")]).id == "llama3.1:8b"  # type: ignore[union-attr]
    assert best_installed("llama3.2", installed[:1]) is None


def test_a_corrupt_cache_file_reads_as_empty_and_is_rewritten(tmp_path: Path) -> None:
    (tmp_path / "claude.json").write_text("{not json")
    store = CatalogStore(tmp_path)
    assert store.cached("claude") is None
    store.put("claude", [m("claude-sonnet-5-5", family="sonnet")])
    assert CatalogStore(tmp_path).fresh("claude") == [m("claude-sonnet-5-5", family="sonnet")]
    assert CatalogStore(tmp_path, ttl=0, clock=lambda: 1e12).fresh("claude") is None


async def test_a_paused_turn_is_continued_not_taken_for_the_end(loopback: LoopbackServer) -> None:
    replies = iter(
        [
            sse_reply(stream_events(["part one "], stop_reason="pause_turn")),
            sse_reply(stream_events(["and two"])),
        ]
    )
    loopback.handler = lambda request: next(replies)
    provider = AnthropicProvider(claude_settings(loopback.url))
    request = ChatRequest(messages=(Message("user", "go"),), model="claude-sonnet-5-5")
    try:
        chunks = [c async for c in provider.stream(request)]
    finally:
        await provider.close()
    assert "".join(c.text for c in chunks) == "part one and two"
    assert [c.finish_reason for c in chunks if c.finish_reason] == ["stop"]
    second: Request = loopback.requests[1]
    assert second.json()["messages"][-1] == {"role": "assistant", "content": "part one"}


async def test_model_context_window_exceeded_is_context_too_long(loopback: LoopbackServer) -> None:
    loopback.handler = lambda request: sse_reply(
        stream_events(["cut"], stop_reason="model_context_window_exceeded")
    )
    provider = AnthropicProvider(claude_settings(loopback.url))
    request = ChatRequest(messages=(Message("user", "go"),), model="claude-sonnet-5-5")
    try:
        with pytest.raises(ContextLengthError, match="model_context_window_exceeded"):
            [c async for c in provider.stream(request)]
    finally:
        await provider.close()
