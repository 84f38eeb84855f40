"""``ollama-cli usage`` as a user runs it: a real subprocess over a real SQLite history.

The 100k-turn history is seeded with ``executemany`` (tests/seed.py); what is checked is
what a user reads — totals, costs, the notes about unknown tokens and prices — never
how long it took (that is bench/usage_report.py).
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from ollama_cli.history import HistoryStore, schema
from ollama_cli.history.schema import open_database
from ollama_cli.paths import app_paths
from tests.seed import MIX, expected, seed_history
from tests.test_cli import cli, write_config

DAY = 86400.0
TURNS = 100_000


def db_path(home: Path) -> Path:
    return app_paths({"OLLAMA_CLI_HOME": str(home)}).history_db


def usage_json(home: Path, *args: str) -> dict[str, Any]:
    done = cli(home, "usage", "--json", *args)
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def groups(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {g["key"]: g for g in data["groups"]}


@pytest.fixture(scope="module")
def big_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """100k turns, one a second, ending now: spread over the last ~28 hours."""
    home = tmp_path_factory.mktemp("big")
    seed_history(db_path(home), TURNS, start=time.time() - TURNS, step=1.0)
    return home


def test_usage_over_100k_turns_sums_every_provider(big_home: Path) -> None:
    data = usage_json(big_home)
    counts = expected(TURNS)
    by = groups(data)
    assert {k: g["turns"] for k, g in by.items()} == counts
    claude = by["claude"]
    assert (claude["input_tokens"], claude["output_tokens"]) == (
        counts["claude"] * 1000,
        counts["claude"] * 500,
    )
    # claude-sonnet-4-5: $3 in / $15 out per million tokens.
    assert claude["cost"] == pytest.approx(counts["claude"] * (1000 * 3 + 500 * 15) / 1e6)
    assert claude["cost_complete"] is True
    # local: no token counts, but free; ollama: self-hosted, free; the gateway: unknown.
    assert by["local"]["unknown_usage_turns"] == counts["local"]
    assert by["local"]["cost"] == 0 and by["local"]["cost_complete"] is True
    assert by["ollama"]["cost"] == 0
    assert by["gateway"]["cost"] is None and by["gateway"]["unknown_cost_turns"] > 0
    total = data["total"]
    assert total["turns"] == TURNS
    assert total["cost"] == pytest.approx(claude["cost"])
    assert total["cost_complete"] is False


def test_the_table_says_what_is_unknown(big_home: Path) -> None:
    done = cli(big_home, "usage")
    assert done.returncode == 0, done.stderr.decode()
    out = done.stdout.decode()
    lines = out.splitlines()
    assert lines[0].split() == ["provider", "answers", "input", "output", "cost"]
    gateway = next(line for line in lines if line.startswith("gateway"))
    assert gateway.split()[-1] == "unknown"  # never "$0"
    local = next(line for line in lines if line.startswith("local"))
    assert local.split()[2:4] == ["?", "?"]
    assert "without token counts (not reported by the provider)" in out
    assert "cost unknown for mystery-model" in out and '[prices."mystery-model"]' in out
    total = next(line for line in lines if line.startswith("total"))
    assert total.endswith("+?")  # the total leaves out what it cannot know


def test_since_and_by_day(big_home: Path) -> None:
    recent = usage_json(big_home, "--since", "1h")
    assert 3500 <= recent["total"]["turns"] <= 3700  # one answer a second
    days = usage_json(big_home, "--by", "day")
    assert sum(g["turns"] for g in days["groups"]) == TURNS
    assert all(len(g["key"]) == 10 for g in days["groups"])  # YYYY-MM-DD
    tomorrow = time.strftime("%Y-%m-%d", time.localtime(time.time() + DAY))
    assert usage_json(big_home, "--since", tomorrow)["groups"] == []


def test_the_usage_query_reads_only_its_index(big_home: Path) -> None:
    from ollama_cli.history.usage import usage_sql

    conn = sqlite3.connect(db_path(big_home))
    for by_day in (False, True):
        sql = usage_sql(by_day)
        plan = " ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, (0.0,)))
        assert "USING COVERING INDEX messages_usage" in plan, plan
    conn.close()


def test_config_prices_override_and_extend_the_built_in_table(cli_home: Path) -> None:
    with HistoryStore(db_path(cli_home)) as store:
        cid = store.new_conversation()
        store.add_message(cid, "user", "q")
        for kind in MIX:
            store.add_message(
                cid,
                "assistant",
                "a",
                provider=kind.provider,
                model=kind.model,
                input_tokens=kind.input_tokens,
                output_tokens=kind.output_tokens,
            )
    write_config(
        cli_home,
        '[prices."mystery-model"]\ninput = 1.0\noutput = 2.0\n'
        '[prices."claude-sonnet-4*"]\ninput = 10\noutput = 20\n'
        '[prices."llama3.2"]\ninput = 1\noutput = 1\n',
    )
    by = groups(usage_json(cli_home, "--by", "model"))
    assert by["mystery-model"]["cost"] == pytest.approx((200 * 1 + 100 * 2) / 1e6)
    assert by["claude-sonnet-4-5-20250929"]["cost"] == pytest.approx((1000 * 10 + 500 * 20) / 1e6)
    assert by["llama3.2"]["cost"] == pytest.approx(450 / 1e6)  # configured beats self-hosted


def test_an_empty_history_says_so(cli_home: Path) -> None:
    done = cli(cli_home, "usage", "--since", "7d")
    assert done.returncode == 0
    assert "no answers in history since" in done.stderr.decode()
    assert usage_json(cli_home)["groups"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "3x"], "--since '3x' is not a time span or date; use e.g. 7d"),
        (["--since", "2026-13-01"], "is not a time span or date"),
        (["--by", "week"], "invalid choice: 'week'"),
    ],
)
def test_bad_flags_are_one_line_and_exit_2(cli_home: Path, args: list[str], message: str) -> None:
    done = cli(cli_home, "usage", *args)
    assert done.returncode == 2
    err = done.stderr.decode()
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[prices."m"]\ninput = 1\n', "prices.m: missing key 'output'"),
        ('[prices."m"]\ninput = 1\noutput = -2\n', "prices.m.output: must not be negative"),
        ('[prices."m"]\ninput = 1\noutput = 2\nouptut = 3\n', "prices.m.ouptut: unknown key"),
        ("[prices]\nm = 3\n", "prices.m: must be a table"),
    ],
)
def test_bad_prices_are_config_errors(cli_home: Path, toml: str, message: str) -> None:
    write_config(cli_home, toml)
    done = cli(cli_home, "usage")
    assert done.returncode == 2
    err = done.stderr.decode()
    assert message in err and "Traceback" not in err and len(err.splitlines()) == 1


def test_the_migration_turns_stored_zeros_of_answers_into_unknown(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    conn = open_database(path, schema.MIGRATIONS[:1])  # a database of the first release
    conn.execute("INSERT INTO conversations (id, created, updated) VALUES ('c', 0, 0)")
    rows = [
        (0, "user", "q", None, None),
        (1, "assistant", "streamed by llama.cpp", 0, 0),
        (2, "assistant", "a gateway sent input only", 12, 0),
        (3, "assistant", "", 0, 0),  # failed before any text: nothing was generated
        (4, "assistant", "real", 5, 7),
    ]
    conn.executemany(
        "INSERT INTO messages (conversation_id, seq, created, role, text, input_tokens,"
        " output_tokens) VALUES ('c', ?, 0, ?, ?, ?, ?)",
        rows,
    )
    conn.close()
    with HistoryStore(path) as store:
        stored = [(m.input_tokens, m.output_tokens) for m in store.messages("c")]
    assert stored == [(None, None), (None, None), (12, None), (0, 0), (5, 7)]


@pytest.mark.parametrize("usage", [None, (0, 0)], ids=["omitted", "zeros"])
def test_tokens_a_gateway_omits_are_stored_as_unknown_not_0(
    cli_home: Path, loopback: Any, usage: tuple[int, int] | None
) -> None:
    from tests.wire.openai import chat_stream

    write_config(
        cli_home,
        '[router]\nchain = ["gw"]\nretries = 0\n'
        f'[providers.gw]\ntype = "openai-compatible"\nbase_url = "{loopback.url}/v1"\n'
        'default_model = "some/model"\n'
        '[prices."some/model"]\ninput = 1\noutput = 1\n',
    )
    loopback.enqueue(chat_stream(["Hel", "lo"], usage=usage))
    done = cli(cli_home, "complete", "hi")
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().strip() == "Hello"
    with HistoryStore(db_path(cli_home)) as store:
        conversation = store.list_conversations()[0].id
        answer = store.messages(conversation)[-1]
    assert (answer.input_tokens, answer.output_tokens) == (None, None)
    data = usage_json(cli_home)
    assert data["total"]["unknown_usage_turns"] == 1
    assert data["total"]["cost"] is None  # priced, but its tokens are unknown
