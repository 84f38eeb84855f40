"""The price table: patterns, overrides, the self-hosted rule, and unknown never being 0."""

from __future__ import annotations

import pytest

from ollama_cli.config import load_config
from ollama_cli.router.types import RouteResult
from ollama_cli.usage.prices import (
    BUILTIN_PRICES,
    FREE,
    Price,
    PriceTable,
    cost_of,
    format_cost,
)
from ollama_cli.usage.since import parse_since
from ollama_cli.usage.tokens import Tokens
from providers.types import Usage


def providers() -> dict[str, object]:
    return dict(load_config(None, environ={}).providers)


@pytest.mark.parametrize(
    ("model", "price"),
    [
        ("claude-sonnet-4-5", BUILTIN_PRICES["claude-sonnet-4*"]),
        ("claude-sonnet-4-5-20250929", BUILTIN_PRICES["claude-sonnet-4*"]),
        ("gemini-2.5-flash", BUILTIN_PRICES["gemini-2.5-flash*"]),
        ("models/gemini-2.5-flash", BUILTIN_PRICES["gemini-2.5-flash*"]),
        ("gemini-2.5-flash-lite", BUILTIN_PRICES["gemini-2.5-flash-lite*"]),  # longest wins
        ("gpt-5-codex", BUILTIN_PRICES["gpt-5-codex*"]),
        ("gpt-5-mini-2025-08-07", BUILTIN_PRICES["gpt-5-mini*"]),
        ("GPT-4o-mini", BUILTIN_PRICES["gpt-4o-mini*"]),
        ("some-new-model", None),
        ("gpt-5.9-hyper", None),  # an exact entry ("gpt-5") is not a prefix
    ],
)
def test_built_in_lookup_by_pattern(model: str, price: Price | None) -> None:
    assert PriceTable().lookup(model) == price


def test_the_built_in_default_models_are_free_priced_or_unknown_never_0() -> None:
    config = load_config(None, environ={})
    table = PriceTable()
    for name, provider in config.providers.items():
        price = table.price(provider, provider.default_model)
        if name in ("local", "ollama"):
            assert price == FREE, name
        else:  # a remote default may be newer than the table: unknown then, never free
            assert price is None or price.output > 0, name
    claude = config.providers["claude"]
    assert table.price(claude, claude.default_model) is not None  # the Sonnet family


def test_configured_prices_win_and_patterns_extend() -> None:
    table = PriceTable({"claude-sonnet-4-5": Price(1, 2), "my-*": Price(3, 4)})
    assert table.lookup("claude-sonnet-4-5") == Price(1, 2)
    assert table.lookup("claude-sonnet-4-5-20250929") == BUILTIN_PRICES["claude-sonnet-4*"]
    assert table.lookup("my-finetune") == Price(3, 4)


@pytest.mark.parametrize(
    ("name", "raw", "free"),
    [
        ("box", {"type": "openai-compatible", "base_url": "http://127.0.0.1:8000/v1"}, True),
        ("lan", {"type": "openai-compatible", "base_url": "http://192.168.1.9:8000/v1"}, True),
        ("mdns", {"type": "openai-compatible", "base_url": "http://gpu-box.local/v1"}, True),
        ("or", {"type": "openai-compatible", "base_url": "https://openrouter.ai/api/v1"}, False),
        ("cloud", {"type": "ollama", "host": "https://ollama.com"}, False),
        ("proxy", {"type": "anthropic", "base_url": "http://127.0.0.1:4000"}, False),
    ],
)
def test_self_hosted_servers_cost_nothing_unless_priced(
    tmp_path: object, name: str, raw: dict[str, str], free: bool
) -> None:
    from ollama_cli.config import _provider
    from ollama_cli.config_source import ConfigSource
    from providers.registry import ProviderRegistry

    cfg = _provider(
        name, {**raw, "default_model": "m"}, f"providers.{name}", ConfigSource(None, ""),
        ProviderRegistry(),
    )  # fmt: skip
    assert (PriceTable().price(cfg, "m") == FREE) is free
    assert PriceTable({"m": Price(1, 1)}).price(cfg, "m") == Price(1, 1)
    # A vendor's model behind a local proxy bills as the vendor's.
    assert PriceTable().price(cfg, "gpt-4o") == BUILTIN_PRICES["gpt-4o*"]


def test_cost_counts_cached_input_at_its_price() -> None:
    price = Price(input=3.0, output=15.0, cached_input=0.30)
    tokens = Tokens(input=1_000_000, output=100_000, cached_input=400_000)
    assert cost_of(price, tokens) == pytest.approx(0.6 * 3 + 0.4 * 0.3 + 0.1 * 15)
    no_cache_price = Price(3.0, 15.0)
    assert cost_of(no_cache_price, tokens) == pytest.approx(3 + 1.5)


def test_unknown_is_never_zero() -> None:
    table = PriceTable()
    assert table.cost(None, "no-such-model", Tokens(10, 10)) is None
    assert table.cost(None, "claude-sonnet-4-5", Tokens(None, 10)) is None
    assert format_cost(None) == "unknown"
    assert format_cost(0.0) == "$0"
    assert format_cost(0.0012) == "$0.0012"
    assert format_cost(1.5) == "$1.50"


@pytest.mark.parametrize(
    ("text", "usage", "reported", "tokens"),
    [
        ("hi", Usage(3, 5), True, Tokens(3, 5)),
        ("hi", Usage(0, 0), False, Tokens(None, None)),  # llama.cpp streams
        ("hi", Usage(0, 0), True, Tokens(None, None)),  # a gateway's zeros
        ("hi", Usage(12, 0), True, Tokens(12, None)),
        ("hi", Usage(12, 5, 4), True, Tokens(12, 5, 4)),
        ("", Usage(0, 0), False, Tokens(0, 0)),  # nothing generated: zero is the truth
    ],
)
def test_the_unknown_usage_rule(text: str, usage: Usage, reported: bool, tokens: Tokens) -> None:
    result = RouteResult(text=text, usage=usage, usage_reported=reported)
    assert result.tokens == tokens


def test_since_forms() -> None:
    now = 1_800_000_000.0
    assert parse_since("7d", now) == now - 7 * 86400
    assert parse_since("12h", now) == now - 12 * 3600
    assert parse_since("2w", now) == now - 14 * 86400
    assert parse_since("today", now) <= now < parse_since("today", now) + 86400
    assert parse_since("month", now) <= parse_since("today", now)
    with pytest.raises(ValueError, match="not a time span or date"):
        parse_since("yesterday-ish", now)


def test_adapters_report_cached_input_as_part_of_input() -> None:
    """The vendors' documented usage fields (OpenAI Responses and chat completions,
    Gemini), as the SDKs name them: ``input_tokens_details.cached_tokens`` (openai 3.57.0
    ``ResponseUsage``), ``prompt_tokens_details.cached_tokens`` (``CompletionUsage``),
    ``cachedContentTokenCount`` (google-genai 3.6.1 ``GenerateContentResponseUsageMetadata``)."""
    from providers.gemini_wire import parse_usage
    from providers.openai_compat import chat_usage
    from providers.openai_responses import responses_usage

    responses = {
        "input_tokens": 2000,
        "output_tokens": 5,
        "input_tokens_details": {"cached_tokens": 1536},
    }
    assert responses_usage({"usage": responses}) == Usage(2000, 5, 1536)
    chat = {
        "prompt_tokens": 1200,
        "completion_tokens": 3,
        "prompt_tokens_details": {"cached_tokens": 1024},
    }
    assert chat_usage({"usage": chat}) == Usage(1200, 3, 1024)
    meta = {"promptTokenCount": 900, "candidatesTokenCount": 4, "cachedContentTokenCount": 800}
    assert parse_usage(meta) == Usage(900, 4, 800)
    assert chat_usage({"usage": {"prompt_tokens": 7, "completion_tokens": 1}}) == Usage(7, 1, 0)
