"""Routing policy with scripted providers: fallback, retries, cooldowns, resume, hedging."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ollama_cli.router import RouteRequest, RoutingError, UnknownProviderError
from ollama_cli.router.backoff import backoff_delay
from ollama_cli.router.policy import POLICY, rule_for
from ollama_cli.router.walk import RESUME_INSTRUCTION
from providers import (
    BadRequestError,
    Message,
    ModelNotFoundError,
    ProviderAuthError,
    ProviderUnavailableError,
    ProviderUnreachableError,
    RateLimitError,
    errors,
)
from tests import HANG_S
from tests.scripted import Answer, Cut, Fail, Stall, scripted_router

HI = (Message("user", "hi"),)


async def collect(router, **kw):
    routed = router.stream(RouteRequest(messages=HI, **kw))
    pieces = [t async for t in routed]
    return "".join(pieces), routed.result


def outcomes(result) -> list[tuple[str, str]]:
    return [(a.provider, a.outcome) for a in result.attempts]


@pytest.fixture
def sleeps() -> list[float]:
    return []


def no_sleep(router, sleeps: list[float]) -> None:
    async def fake(seconds: float) -> None:
        sleeps.append(seconds)

    router.sleep = fake


async def test_unreachable_falls_over_at_once_without_retry(sleeps: list[float]) -> None:
    router, s = scripted_router(["a", "b"])
    no_sleep(router, sleeps)
    s["a"].steps.append(
        Fail(ProviderUnreachableError("a: cannot connect to http://h:1 (connection refused)"))
    )
    s["b"].steps.append(Answer(["hello", " world"]))
    text, result = await collect(router)
    assert text == "hello world"
    assert outcomes(result) == [("a", "unavailable"), ("b", "ok")]
    assert result.attempts[0].error == "cannot connect to http://h:1 (connection refused)"
    assert result.attempts[1].kind == "fallback"
    assert (result.provider, result.model) == ("b", "b-default")
    assert sleeps == []


async def test_5xx_is_retried_with_backoff_then_succeeds(sleeps: list[float]) -> None:
    router, s = scripted_router(["a", "b"], retries=1)
    no_sleep(router, sleeps)
    s["a"].steps.extend([Fail(ProviderUnavailableError("a: HTTP 500")), Answer(["ok"])])
    text, result = await collect(router)
    assert text == "ok"
    assert outcomes(result) == [("a", "unavailable"), ("a", "ok")]
    assert result.attempts[1].kind == "retry"
    assert len(sleeps) == 1 and 0.25 <= sleeps[0] <= 0.5
    assert s["b"].opened == 0


async def test_auth_error_is_not_retried(sleeps: list[float]) -> None:
    router, s = scripted_router(["a", "b"], retries=3)
    no_sleep(router, sleeps)
    s["a"].steps.append(Fail(ProviderAuthError("a: HTTP 401: invalid x-api-key")))
    s["b"].steps.append(Answer(["fine"]))
    _, result = await collect(router)
    assert outcomes(result) == [("a", "auth"), ("b", "ok")]
    assert s["a"].opened == 1 and sleeps == []


async def test_bad_request_stops_without_fallback() -> None:
    router, s = scripted_router(["a", "b"])
    s["a"].steps.append(Fail(BadRequestError("a: HTTP 400: temperature must be <= 2")))
    with pytest.raises(RoutingError) as info:
        await collect(router)
    assert str(info.value) == "a: HTTP 400: temperature must be <= 2"
    assert outcomes(info.value.result) == [("a", "bad_request")]
    assert s["b"].opened == 0


async def test_short_retry_after_is_honoured(sleeps: list[float]) -> None:
    router, s = scripted_router(["a", "b"], retries=1, max_retry_wait=2.0)
    no_sleep(router, sleeps)
    s["a"].steps.extend([Fail(RateLimitError("a: HTTP 429", retry_after=1.0)), Answer(["x"])])
    _, result = await collect(router)
    assert sleeps == [1.0]
    assert outcomes(result) == [("a", "rate_limited"), ("a", "ok")]


async def test_long_retry_after_falls_over_and_cools_down(
    tmp_path: Path, sleeps: list[float]
) -> None:
    state = tmp_path / "cooldowns.json"
    router, s = scripted_router(["a", "b"], cooldown_path=state)
    no_sleep(router, sleeps)
    s["a"].steps.append(Fail(RateLimitError("a: HTTP 429", retry_after=120)))
    s["b"].steps.append(Answer(["x"]))
    _, result = await collect(router)
    assert sleeps == []
    assert outcomes(result) == [("a", "rate_limited"), ("b", "ok")]
    # A new router (the next process) skips `a` without touching it.
    router2, s2 = scripted_router(["a", "b"], cooldown_path=state)
    s2["b"].steps.append(Answer(["y"]))
    _, result2 = await collect(router2)
    assert outcomes(result2) == [("a", "skipped_cooldown"), ("b", "ok")]
    assert s2["a"].opened == 0
    assert "cooling down for 1" in (result2.attempts[0].error or "")


async def test_cooldown_after_consecutive_failures_and_cleared_by_success(tmp_path: Path) -> None:
    state = tmp_path / "cooldowns.json"
    for _ in range(2):
        router, s = scripted_router(["a", "b"], cooldown_path=state, retries=0, cooldown_failures=2)
        s["a"].steps.append(Fail(ProviderUnavailableError("a: HTTP 503")))
        s["b"].steps.append(Answer(["x"]))
        await collect(router)
    router, s = scripted_router(["a", "b"], cooldown_path=state)
    s["b"].steps.append(Answer(["x"]))
    _, result = await collect(router)
    assert outcomes(result)[0] == ("a", "skipped_cooldown")
    # Only `a` in the chain and cooling down: it is tried anyway, and success clears it.
    router, s = scripted_router(["a"], cooldown_path=state)
    s["a"].steps.append(Answer(["back"]))
    text, result = await collect(router)
    assert text == "back" and outcomes(result) == [("a", "ok")]
    assert router.cooldowns.remaining("a") == 0
    assert '"a"' not in state.read_text()


async def test_corrupt_cooldown_file_is_ignored(tmp_path: Path) -> None:
    state = tmp_path / "cooldowns.json"
    state.write_text("{not json")
    router, s = scripted_router(["a"], cooldown_path=state)
    s["a"].steps.append(Answer(["ok"]))
    text, _ = await collect(router)
    assert text == "ok"


async def test_missing_key_is_skipped_without_a_request() -> None:
    router, s = scripted_router(["a", "b"], keys={"a": False})
    s["b"].steps.append(Answer(["x"]))
    _, result = await collect(router)
    assert outcomes(result) == [("a", "skipped_no_key"), ("b", "ok")]
    assert result.attempts[0].error == "A_KEY is not set"
    assert s["a"].opened == 0


async def test_stream_cut_after_three_tokens_is_resumed_by_next_provider() -> None:
    notices: list[str] = []
    router, s = scripted_router(["a", "b"], notices=notices)
    s["a"].steps.append(
        Cut(["The ", "quick ", "brown "], ProviderUnavailableError("a: connection reset"))
    )
    s["b"].steps.append(Answer(["fox."]))
    text, result = await collect(router)
    assert text == "The quick brown fox."
    assert outcomes(result) == [("a", "interrupted"), ("b", "ok")]
    assert result.attempts[1].kind == "resume"
    resumed = s["b"].requests[0].messages
    assert resumed[-2] == Message("assistant", "The quick brown ")
    assert resumed[-1] == Message("user", RESUME_INSTRUCTION)
    assert any("a interrupted → b continues the answer" in n for n in notices)
    assert s["a"].opened == 1  # no retry of a stream that already showed text


async def test_cut_stream_without_resume_keeps_partial_text() -> None:
    router, s = scripted_router(["a", "b"], resume_interrupted=False)
    s["a"].steps.append(Cut(["par", "tial"], ProviderUnavailableError("a: reset")))
    routed = router.stream(RouteRequest(messages=HI))
    shown = []
    with pytest.raises(RoutingError) as info:
        async for t in routed:
            shown.append(t)
    assert "".join(shown) == "partial"
    assert info.value.result.text == "partial" and info.value.result.interrupted
    assert s["b"].opened == 0


async def test_stream_without_finish_is_a_failure_not_an_empty_answer() -> None:
    router, s = scripted_router(["a", "b"], retries=0)
    s["a"].steps.append(Answer([], finish=None))
    s["b"].steps.append(Answer(["real"]))
    text, result = await collect(router)
    assert text == "real"
    assert result.attempts[0].outcome == "unavailable"
    assert "stream ended before the answer was finished" in (result.attempts[0].error or "")


async def test_unexpected_exception_in_a_provider_falls_over() -> None:
    router, s = scripted_router(["a", "b"], retries=0)
    s["a"].steps.append(Fail(ValueError("boom")))  # type: ignore[arg-type]
    s["b"].steps.append(Answer(["ok"]))
    _, result = await collect(router)
    assert outcomes(result) == [("a", "unavailable"), ("b", "ok")]
    assert result.attempts[0].error == "unexpected ValueError: boom"


async def test_all_fail_raises_with_the_whole_trace() -> None:
    router, s = scripted_router(["a", "b"], retries=0)
    s["a"].steps.append(Fail(ProviderUnreachableError("a: refused")))
    s["b"].steps.append(Fail(ModelNotFoundError("b: no model")))
    with pytest.raises(RoutingError) as info:
        await collect(router)
    assert str(info.value) == "no provider could answer"
    assert outcomes(info.value.result) == [("a", "unavailable"), ("b", "model_not_found")]


async def test_provider_flag_moves_it_first_and_model_applies_to_it_only() -> None:
    router, s = scripted_router(["a", "b"], retries=0)
    s["b"].steps.append(Fail(ModelNotFoundError("b: no such model")))
    s["a"].steps.append(Answer(["x"]))
    _, result = await collect(router, provider="b", model="custom")
    assert [(a.provider, a.model) for a in result.attempts] == [("b", "custom"), ("a", "a-default")]
    with pytest.raises(UnknownProviderError):
        router.plan(RouteRequest(messages=HI, provider="nope"))


async def test_no_fallback_uses_only_the_first() -> None:
    router, s = scripted_router(["a", "b"], retries=0)
    s["a"].steps.append(Fail(ProviderUnreachableError("a: refused")))
    with pytest.raises(RoutingError):
        await collect(router, fallback=False)
    assert s["b"].opened == 0


async def test_hedge_starts_the_next_provider_and_cancels_the_loser() -> None:
    notices: list[str] = []
    router, s = scripted_router(["a", "b"], hedge_after_ms=50, notices=notices)
    s["a"].steps.append(Stall())
    s["b"].steps.append(Answer(["fast"]))
    loop = asyncio.get_running_loop()
    started = loop.time()
    text, result = await asyncio.wait_for(
        collect(router), HANG_S
    )  # a stays stalled: no hedge, no end
    assert text == "fast"
    assert loop.time() - started >= 0.04  # b was started after hedge_after_ms, not at once
    assert outcomes(result) == [("b", "ok"), ("a", "interrupted")] or outcomes(result) == [
        ("a", "interrupted"),
        ("b", "ok"),
    ]
    assert s["a"].closed == 1  # the loser's stream was closed
    assert any("also asking b" in n for n in notices)


async def test_hedging_keeps_retries(sleeps: list[float]) -> None:
    """With hedge_after_ms set, a 500 before the hedge timer is retried as without hedging."""
    router, s = scripted_router(["a", "b"], retries=1, hedge_after_ms=5000)
    no_sleep(router, sleeps)
    s["a"].steps.extend([Fail(ProviderUnavailableError("a: HTTP 500")), Answer(["ok"])])
    text, result = await collect(router)
    assert text == "ok"
    assert [(a.provider, a.outcome, a.kind) for a in result.attempts] == [
        ("a", "unavailable", "first"),
        ("a", "ok", "retry"),
    ]
    assert len(sleeps) == 1 and s["b"].opened == 0


async def test_a_hedge_that_fails_is_traced_and_the_slow_primary_still_answers() -> None:
    """Once hedged, each side ends through the same attempt path: the hedge's failure is
    traced as a hedge, the primary's late answer wins, and the walk stops there."""
    router, s = scripted_router(["a", "b", "c"], hedge_after_ms=20)
    s["a"].steps.append(Answer(["late"], first_delay=0.2))
    s["b"].steps.append(Fail(ProviderUnavailableError("b: HTTP 503")))
    text, result = await collect(router)
    assert text == "late"
    assert sorted((a.provider, a.outcome, a.kind) for a in result.attempts) == [
        ("a", "ok", "first"),
        ("b", "unavailable", "hedge"),
    ]
    assert s["c"].opened == 0


async def test_hedge_not_needed_when_primary_is_fast() -> None:
    router, s = scripted_router(["a", "b"], hedge_after_ms=500)
    s["a"].steps.append(Answer(["quick"]))
    text, result = await collect(router)
    assert text == "quick" and s["b"].opened == 0
    assert outcomes(result) == [("a", "ok")]


async def test_cancelling_the_consumer_closes_the_provider_stream() -> None:
    router, s = scripted_router(["a"])
    s["a"].steps.append(Answer(["x"] * 1000))
    routed = router.stream(RouteRequest(messages=HI))
    async for _ in routed:
        break
    await routed.aclose()
    assert s["a"].closed == 1


def test_policy_table_covers_the_taxonomy() -> None:
    assert rule_for(ProviderUnreachableError("x")).retry is False
    assert rule_for(ProviderUnavailableError("x")).retry is True
    assert rule_for(BadRequestError("x")).fall_over is False
    # Every error type a provider can raise has its own row: none falls to the catch-all.
    classes = [c for c in vars(errors).values() if isinstance(c, type)]
    taxonomy = {c for c in classes if issubclass(c, errors.ProviderError)}
    assert set(POLICY) == taxonomy - {errors.ProviderError}


def test_backoff_is_exponential_capped_and_jittered() -> None:
    assert 0.25 <= backoff_delay(0) <= 0.5
    assert 0.5 <= backoff_delay(1) <= 1.0
    assert 4.0 <= backoff_delay(10) <= 8.0
    assert backoff_delay(3, retry_after=1.5) == 1.5


async def test_skipping_the_first_provider_is_announced() -> None:
    notices: list[str] = []
    router, s = scripted_router(["a", "b"], keys={"a": False}, notices=notices)
    s["b"].steps.append(Answer(["x"]))
    await collect(router)
    assert notices == ["a skipped (A_KEY is not set) → b (b-default)"]


async def test_a_cooling_provider_is_tried_when_everything_else_failed(tmp_path: Path) -> None:
    state = tmp_path / "cooldowns.json"
    router, s = scripted_router(["a", "b"], cooldown_path=state, retries=0)
    s["a"].steps.append(Fail(RateLimitError("a: HTTP 429", retry_after=120)))
    s["b"].steps.append(Answer(["x"]))
    await collect(router)
    router2, s2 = scripted_router(["a", "b"], cooldown_path=state, retries=0)
    s2["b"].steps.append(Fail(ProviderUnreachableError("b: refused")))
    s2["a"].steps.append(Answer(["a after all"]))
    text, result = await collect(router2)
    assert text == "a after all"
    assert outcomes(result) == [("a", "skipped_cooldown"), ("b", "unavailable"), ("a", "ok")]


async def test_a_503_retry_after_is_honoured(sleeps: list[float]) -> None:
    router, s = scripted_router(["a"], retries=1, max_retry_wait=2.0)
    no_sleep(router, sleeps)
    s["a"].steps.extend(
        [Fail(ProviderUnavailableError("a: HTTP 503", retry_after=1.5)), Answer(["x"])]
    )
    await collect(router)
    assert sleeps == [1.5]


async def test_notices_go_to_the_notify_given_with_the_call() -> None:
    default: list[str] = []
    router, s = scripted_router(["a", "b"], keys={"a": False}, notices=default)
    s["b"].steps.append(Answer(["x"]))
    mine: list[str] = []
    routed = router.stream(RouteRequest(messages=HI), notify=mine.append)
    assert "".join([t async for t in routed]) == "x"
    assert mine == ["a skipped (A_KEY is not set) → b (b-default)"] and default == []


async def test_the_fallback_notice_names_who_answers_when_it_starts_answering() -> None:
    router, s = scripted_router(["a", "b", "c"], retries=0)
    s["a"].steps.append(Fail(ProviderUnreachableError("a: refused")))
    s["b"].steps.append(Fail(ProviderUnreachableError("b: refused")))
    s["c"].steps.append(Answer(["from c"]))
    events: list[str] = []
    routed = router.stream(RouteRequest(messages=HI), notify=lambda m: events.append(f"N {m}"))
    async for text in routed:
        events.append(f"T {text}")
    assert events == ["N a unreachable, b unreachable → c (c-default)", "T from c"]


async def test_no_fallback_notice_when_the_next_provider_fails_too() -> None:
    notices: list[str] = []
    router, s = scripted_router(["a", "b"], retries=0, notices=notices)
    s["a"].steps.append(Fail(ProviderUnreachableError("a: refused")))
    s["b"].steps.append(Fail(ProviderUnreachableError("b: refused")))
    with pytest.raises(RoutingError):
        await collect(router)
    assert not [n for n in notices if "→" in n]
