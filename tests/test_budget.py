"""Budgets: a paid provider over budget is ``skipped_budget`` and the chain goes on.

Routing is tested with scripted providers (tests/scripted.py); the whole path — config,
a real history holding today's spend, ``complete --json``, the notice, ``usage`` — with
the real CLI and loopback servers; and once with the real llama.cpp model answering.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ollama_cli.config import RouterSettings
from ollama_cli.history import HistoryStore
from ollama_cli.router import ProviderRouter, RouteRequest, RouteResult, RoutingError
from ollama_cli.usage.budget import Budget
from ollama_cli.usage.prices import FREE, Price, PriceTable
from providers.types import Message
from tests.scripted import Answer, Script, scripted_router
from tests.test_cli import cli, write_config
from tests.test_usage import db_path, usage_json

#: 0.1 USD a token either way: a scripted answer (3 in, 2 out) costs 0.5.
DEAR = Price(100_000.0, 100_000.0)


def budgeted(
    spent: float = 0.0,
    prices: dict[str, Price] | None = None,
    chain: tuple[str, ...] = ("claude", "local"),
    **limits: float,
) -> tuple[ProviderRouter, dict[str, Script], list[str], list[float]]:
    notices: list[str] = []
    router, scripts = scripted_router(list(chain), notices=notices)
    table = PriceTable(prices or {"claude-default": DEAR, "local-default": FREE})
    settings = RouterSettings(chain=chain, **limits)  # type: ignore[arg-type]
    asked: list[float] = []

    def spent_since(start: float) -> float:
        asked.append(start)
        return spent

    router.prices = table
    router.budget = Budget(settings, table, spent_since)
    return router, scripts, notices, asked


async def ask(router: ProviderRouter, prompt: str = "hi", **options: Any) -> RouteResult:
    request = RouteRequest(messages=(Message("user", prompt),), **options)
    routed = router.stream(request)
    async for _ in routed:
        pass
    return routed.result


def trace(result: RouteResult) -> list[tuple[str, str]]:
    return [(a.provider, a.outcome) for a in result.attempts]


async def test_a_spent_budget_skips_the_paid_provider_and_local_answers() -> None:
    router, scripts, notices, _ = budgeted(spent=1.02, daily_budget=1.0)
    scripts["local"].steps.append(Answer(["from ", "local"]))
    result = await ask(router)
    assert result.text == "from local" and result.provider == "local"
    assert trace(result) == [("claude", "skipped_budget"), ("local", "ok")]
    assert result.attempts[0].error == "would exceed the daily budget of $1.00 ($1.02 spent today)"
    assert scripts["claude"].opened == 0  # not a single request
    assert notices == [
        "claude skipped (would exceed the daily budget of $1.00 ($1.02 spent today))"
        " → local (local-default)"
    ]
    assert result.cost == 0.0  # local is free


async def test_answers_count_against_the_budget_as_they_are_made() -> None:
    router, scripts, _, asked = budgeted(spent=0.0, daily_budget=1.0)
    for _ in range(3):
        scripts["claude"].steps.append(Answer(["a", "b"]))
        scripts["local"].steps.append(Answer(["free"]))
    first, second, third = [await ask(router) for _ in range(3)]
    assert first.provider == second.provider == "claude"
    assert first.cost == pytest.approx(0.5)
    assert third.provider == "local"  # 0.5 + 0.5 spent: claude's next call would reach 1.0
    assert trace(third)[0] == ("claude", "skipped_budget")
    assert len(asked) == 1  # history is read once a day, not on every call


async def test_the_estimate_counts_max_tokens() -> None:
    router, scripts, _, _ = budgeted(spent=0.0, daily_budget=1.0)
    scripts["local"].steps.append(Answer(["free"]))
    result = await ask(router, max_tokens=50)  # up to 5 USD of output
    assert trace(result) == [("claude", "skipped_budget"), ("local", "ok")]


async def test_the_monthly_budget_is_its_own_limit() -> None:
    router, scripts, _, _ = budgeted(spent=3.0, daily_budget=100.0, monthly_budget=2.5)
    scripts["local"].steps.append(Answer(["free"]))
    result = await ask(router)
    assert result.attempts[0].error == (
        "would exceed the monthly budget of $2.50 ($3.00 spent this month)"
    )


async def test_free_and_unpriced_providers_are_never_held_back() -> None:
    router, scripts, _, _ = budgeted(
        spent=50.0, prices={"local-default": FREE}, chain=("gw", "local"), daily_budget=1.0
    )
    scripts["gw"].steps.append(Answer(["unpriced"]))
    result = await ask(router)
    assert trace(result) == [("gw", "ok")] and result.cost is None  # price unknown


async def test_over_budget_everywhere_is_a_failure_with_the_whole_trace() -> None:
    router, _, _, _ = budgeted(
        spent=9.0, prices={"a-default": DEAR, "b-default": DEAR}, chain=("a", "b"), daily_budget=1.0
    )
    with pytest.raises(RoutingError) as exc:
        await ask(router)
    assert trace(exc.value.result) == [("a", "skipped_budget"), ("b", "skipped_budget")]
    from ollama_cli.router.advice import summary

    line = summary(exc.value.result, router.config, {})
    assert line.startswith("no provider could answer: a over budget (raise router.daily_budget")


async def test_a_budget_skip_is_announced_even_when_not_first() -> None:
    from providers.errors import ProviderUnreachableError
    from tests.scripted import Fail

    router, scripts, notices, _ = budgeted(
        spent=2.0,
        prices={"claude-default": DEAR, "local-default": FREE},
        chain=("ollama", "claude", "local"),
        daily_budget=1.0,
    )
    scripts["ollama"].steps.append(Fail(ProviderUnreachableError("ollama: refused")))
    scripts["local"].steps.append(Answer(["free"]))
    result = await ask(router)
    assert trace(result) == [
        ("ollama", "unavailable"),
        ("claude", "skipped_budget"),
        ("local", "ok"),
    ]
    assert len(notices) == 1
    assert notices[0].startswith("ollama unreachable, claude skipped (would exceed the daily")
    assert notices[0].endswith("→ local (local-default)")


def spend_today(home: Path, cost_tokens: int) -> None:
    """Store one claude answer of ``cost_tokens`` output tokens (15 USD a million)."""
    with HistoryStore(db_path(home)) as store:
        cid = store.new_conversation()
        store.add_message(cid, "user", "earlier")
        store.add_message(
            cid,
            "assistant",
            "an expensive answer",
            provider="claude",
            model="claude-sonnet-4-5",
            input_tokens=0,
            output_tokens=cost_tokens,
        )


def claude_then(home: Path, claude_url: str, second: str, table: str = "") -> None:
    """Config: chain [claude, ``second``] with a $0.50 daily budget; claude on loopback."""
    write_config(
        home,
        f'[router]\nchain = ["claude", "{second}"]\nretries = 0\ndaily_budget = 0.5\n'
        f'[providers.claude]\nbase_url = "{claude_url}"\n{table}',
    )


def test_cli_a_spent_budget_skips_claude_and_the_loopback_answers(
    cli_home: Path, loopback: Any
) -> None:
    from tests.wire.loopback import LoopbackServer
    from tests.wire.openai import chat_stream

    spend_today(cli_home, 40_000)  # $0.60 of claude-sonnet-4-5 output today
    gw = (
        f'[providers.gw]\ntype = "openai-compatible"\nbase_url = "{loopback.url}/v1"\n'
        'default_model = "small"\n'
    )
    with LoopbackServer() as claude:
        claude_then(cli_home, claude.url, "gw", gw)
        loopback.enqueue(chat_stream(["che", "ap"], usage=(4, 2)))
        done = cli(cli_home, "-v", "complete", "--json", "hi", ANTHROPIC_API_KEY="sk-test")
        assert claude.requests == []
    assert done.returncode == 0, done.stderr.decode()
    data = json.loads(done.stdout)
    assert data["text"] == "cheap" and data["provider"] == "gw"
    assert [(a["provider"], a["outcome"]) for a in data["attempts"]] == [
        ("claude", "skipped_budget"),
        ("gw", "ok"),
    ]
    assert data["cost"] == 0.0  # a server on loopback is self-hosted
    assert data["usage"] == {"input_tokens": 4, "output_tokens": 2}
    err = done.stderr.decode()
    notice = "claude skipped (would exceed the daily budget of $0.50 ($0.60 spent today)) → gw"
    assert err.count(notice) == 1
    assert "cost $0 (4 in / 2 out tokens)" in err  # -v
    budgets = usage_json(cli_home)["budgets"]
    assert budgets == {"daily": {"limit": 0.5, "spent": pytest.approx(0.6)}}
    shown = cli(cli_home, "usage").stdout.decode()
    assert "daily budget: $0.60 of $0.50 spent (120%)" in shown


def test_cli_under_budget_claude_answers_and_the_cost_is_in_json(
    cli_home: Path, loopback: Any
) -> None:
    from tests.wire.anthropic import sse_reply, stream_events

    spend_today(cli_home, 1_000)  # $0.015
    claude_then(cli_home, loopback.url, "local")
    loopback.enqueue(sse_reply(stream_events(["Hi", "!"])))
    done = cli(cli_home, "complete", "--json", "hi", ANTHROPIC_API_KEY="sk-test")
    assert done.returncode == 0, done.stderr.decode()
    data = json.loads(done.stdout)
    assert data["provider"] == "claude" and data["attempts"][0]["outcome"] == "ok"
    usage = data["usage"]
    expected = (usage["input_tokens"] * 3 + usage["output_tokens"] * 15) / 1e6
    assert data["cost"] == pytest.approx(expected) and data["cost"] > 0


@pytest.mark.local_model
def test_cli_a_spent_budget_downgrades_claude_to_the_real_local_model(cli_home: Path) -> None:
    from tests.wire.loopback import LoopbackServer

    spend_today(cli_home, 40_000)
    with LoopbackServer() as claude:
        claude_then(cli_home, claude.url, "local")
        done = cli(
            cli_home,
            "complete",
            "--json",
            "--max-tokens",
            "8",
            "Say hi",
            ANTHROPIC_API_KEY="sk-test",
            timeout=180,
        )
        assert claude.requests == []
    assert done.returncode == 0, done.stderr.decode()
    data = json.loads(done.stdout)
    assert data["provider"] == "local" and data["text"]
    assert [(a["provider"], a["outcome"]) for a in data["attempts"]] == [
        ("claude", "skipped_budget"),
        ("local", "ok"),
    ]
    assert data["cost"] == 0.0
    assert "claude skipped (would exceed the daily budget" in done.stderr.decode()
