"""The routing policy end to end: the real CLI, two loopback Ollama servers as two providers.

Each test is a user-visible scenario of DESIGN.md's routing policy: what the user sees on
stdout and stderr, the exit status, and what reached each server.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_cli import cli, write_config
from tests.wire.loopback import Reply, Stall
from tests.wire.ollama import OllamaWire


@pytest.fixture
def pair(cli_home: Path) -> Iterator[tuple[OllamaWire, OllamaWire]]:
    """Providers `first` and `second` (both type ollama), chained in that order."""
    with OllamaWire(accept_any_model=True) as a, OllamaWire(accept_any_model=True) as b:
        configure(cli_home, a.url, b.url)
        yield a, b


def configure(home: Path, first: str, second: str, **router: object) -> None:
    extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in router.items())
    write_config(
        home,
        '[router]\nchain = ["first", "second"]\nretries = 1\n'
        + extra
        + f'[providers.first]\ntype = "ollama"\nhost = "{first}"\ndefault_model = "m1"\n'
        + f'[providers.second]\ntype = "ollama"\nhost = "{second}"\ndefault_model = "m2"\n',
    )


def chats(wire: OllamaWire) -> int:
    return len(wire.chat_bodies())


def test_refused_connection_falls_over_and_the_trace_names_the_host(
    cli_home: Path, refused_url: str
) -> None:
    with OllamaWire(accept_any_model=True) as b:
        b.answer(["from second"])
        configure(cli_home, refused_url, b.url)
        out = cli(cli_home, "complete", "--json", "hi")
    data = json.loads(out.stdout)
    assert out.returncode == 0
    assert data["text"] == "from second" and data["provider"] == "second"
    first = data["attempts"][0]
    assert first["outcome"] == "unavailable"
    assert first["error"] == f"cannot connect to {refused_url} (connection refused)"
    assert "first unreachable → second (m2)" in out.stderr.decode()


def test_429_with_short_retry_after_is_retried_after_the_wait(
    pair: tuple[OllamaWire, OllamaWire], cli_home: Path
) -> None:
    a, b = pair
    a.fail(429, "slow down", headers={"Retry-After": "1"}).answer(["after wait"])
    started = time.monotonic()
    out = cli(cli_home, "complete", "hi")
    elapsed = time.monotonic() - started
    assert out.stdout == b"after wait\n", out.stderr
    assert elapsed >= 1.0  # it waited as told (how much longer is load, not behaviour)
    assert chats(a) == 2 and chats(b) == 0


def test_429_with_long_retry_after_falls_over_and_the_next_process_skips_it(
    pair: tuple[OllamaWire, OllamaWire], cli_home: Path
) -> None:
    a, b = pair
    a.fail(429, "quota exhausted", headers={"Retry-After": "120"})
    b.answer(["second answers"]).answer(["again"])
    out = cli(cli_home, "complete", "hi")
    assert out.stdout == b"second answers\n"
    assert "retrying" not in out.stderr.decode()  # no 120 s sleep: it fell over at once
    assert chats(a) == 1
    connections = a.server.connections
    out2 = cli(cli_home, "complete", "--json", "hi")
    data = json.loads(out2.stdout)
    assert data["text"] == "again"
    assert data["attempts"][0]["outcome"] == "skipped_cooldown"
    assert a.server.connections == connections  # zero connection attempts to the cooled provider
    state = json.loads((cli_home / "state" / "cooldowns.json").read_text())
    assert state["first"]["until"] > time.time() + 100


def test_500_then_200_succeeds_on_the_retry(
    pair: tuple[OllamaWire, OllamaWire], cli_home: Path
) -> None:
    a, b = pair
    a.fail(500, "internal error").answer(["retried"])
    out = cli(cli_home, "complete", "--json", "hi")
    data = json.loads(out.stdout)
    assert data["text"] == "retried"
    assert [(x["provider"], x["outcome"]) for x in data["attempts"]] == [
        ("first", "unavailable"),
        ("first", "ok"),
    ]
    assert data["attempts"][1]["kind"] == "retry"
    assert chats(b) == 0


def test_401_is_not_retried_and_falls_over(
    pair: tuple[OllamaWire, OllamaWire], cli_home: Path
) -> None:
    a, b = pair
    a.fail(401, "unauthorized")
    b.answer(["ok"])
    out = cli(cli_home, "complete", "--json", "hi")
    data = json.loads(out.stdout)
    assert [x["outcome"] for x in data["attempts"]] == ["auth", "ok"]
    assert chats(a) == 1


def test_400_stops_with_the_providers_message_and_exit_1(
    pair: tuple[OllamaWire, OllamaWire], cli_home: Path
) -> None:
    a, b = pair
    a.fail(400, "invalid option: temperature must be positive")
    out = cli(cli_home, "complete", "hi")
    err = out.stderr.decode()
    assert out.returncode == 1
    assert "invalid option: temperature must be positive" in err
    assert chats(b) == 0
    assert "Traceback" not in err


def test_stream_cut_after_three_tokens_is_resumed_by_the_next_provider(
    pair: tuple[OllamaWire, OllamaWire], cli_home: Path
) -> None:
    a, b = pair
    a.cut(["The ", "quick ", "brown "])
    b.answer(["fox ", "jumps."])
    out = cli(cli_home, "complete", "hi")
    assert out.returncode == 0, out.stderr
    assert out.stdout == b"The quick brown fox jumps.\n"
    assert "first interrupted → second continues the answer" in out.stderr.decode()
    resumed = b.chat_bodies()[0]["messages"]
    assert resumed[-2] == {"role": "assistant", "content": "The quick brown "}
    assert "Continue" in resumed[-1]["content"]


def test_hedging_answers_from_the_secondary_and_closes_the_primary(cli_home: Path) -> None:
    with OllamaWire(accept_any_model=True) as a, OllamaWire(accept_any_model=True) as b:
        a.reply(Reply(before_headers=[Stall()]), path="/api/chat")
        b.answer(["hedged"])
        configure(cli_home, a.url, b.url, hedge_after_ms=300)
        out = cli(cli_home, "complete", "--json", "hi")
        assert a.wait_closed()  # the loser's socket was closed, not left hanging
    data = json.loads(out.stdout)
    assert data["text"] == "hedged" and data["provider"] == "second"
    outcomes = {x["provider"]: (x["outcome"], x.get("kind")) for x in data["attempts"]}
    assert outcomes["first"][0] == "interrupted" and outcomes["second"] == ("ok", "hedge")


def test_no_fallback_reports_only_the_first(
    pair: tuple[OllamaWire, OllamaWire], cli_home: Path
) -> None:
    a, b = pair
    a.fail(503, "down").fail(503, "still down")
    out = cli(cli_home, "--no-fallback", "complete", "hi")
    assert out.returncode == 1
    assert chats(b) == 0


def test_model_flag_applies_to_the_first_provider_only(
    pair: tuple[OllamaWire, OllamaWire], cli_home: Path
) -> None:
    a, b = pair
    a.fail(404, "model 'custom' not found")
    b.answer(["ok"])
    out = cli(cli_home, "-m", "custom", "complete", "hi")
    assert out.returncode == 0
    assert a.chat_bodies()[0]["model"] == "custom"
    assert b.chat_bodies()[0]["model"] == "m2"
