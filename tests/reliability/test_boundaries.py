"""The redaction boundary and the router's deadlines, through a real misbehaving plugin
and real loopback servers. The keys are the canaries of ``tests.faults``; a leak is any
12-character run of one, anywhere a run left text: stderr, stdout, files under home."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.faults import CANARIES, home_leaks, leaks, run_cli, toml_config
from tests.reliability.plugin import install
from tests.wire.loopback import LoopbackServer, Pause, Reply
from tests.wire.ollama import NDJSON, OllamaWire, chat_line, done_line, ndjson_lines

EVIL_KEY = CANARIES["OPENAI_API_KEY"]  # a canary: leaks() knows it


@pytest.fixture
def plugin_path(tmp_path: Path) -> str:
    return str(install(tmp_path / "plugins"))


@pytest.fixture
def backup() -> Iterator[OllamaWire]:
    with OllamaWire(accept_any_model=True) as wire:
        yield wire


def configure(home: Path, mode: str, backup: OllamaWire | None, **evil: object) -> None:
    tables: dict[str, dict[str, object]] = {
        "evil": {"type": "evil", "mode": mode, "timeout": 1.0, **evil}
    }
    chain = ["evil"]
    if backup is not None:
        tables["second"] = {"type": "ollama", "host": backup.url, "default_model": "m"}
        chain.append("second")
    (home / "config.toml").write_text(toml_config(chain, tables, retries=0))


def evil_run(home: Path, plugin_path: str, *args: str, budget: float = 30):
    return run_cli(home, *args, budget=budget, PYTHONPATH=plugin_path, EVIL_KEY=EVIL_KEY)


def test_a_plugin_error_quoting_its_key_is_redacted_everywhere(
    cli_home: Path, plugin_path: str, backup: OllamaWire
) -> None:
    configure(cli_home, "leak", backup)
    plain = evil_run(cli_home, plugin_path, "-v", "complete", "hi")
    assert plain.code == 0 and plain.stdout == b"Hello from Ollama.\n"
    assert b"upstream refused key [redacted]" in plain.stderr
    as_json = evil_run(cli_home, plugin_path, "complete", "--json", "hi")
    data = json.loads(as_json.stdout)
    assert "[redacted]" in json.dumps(data["attempts"])
    configure(cli_home, "leak", None)
    failed = evil_run(cli_home, plugin_path, "complete", "hi")
    assert failed.code == 1 and b"[redacted]" in failed.stderr
    models = evil_run(cli_home, plugin_path, "models", "list", "evil")
    assert b"internal error" not in models.stderr and models.code in (1, 2)
    for run in (plain, as_json, failed, models):
        assert not leaks(run.stdout) and not leaks(run.stderr), run.stderr
    assert home_leaks(cli_home) == {}
    rows = sqlite3.connect(cli_home / "history.sqlite3").execute(
        "SELECT attempts_json FROM messages WHERE attempts_json IS NOT NULL"
    )
    assert any("[redacted]" in row[0] for row in rows)


def test_config_show_hides_credentials_in_every_url(cli_home: Path) -> None:
    key = CANARIES["OLLAMA_API_KEY"]
    (cli_home / "config.toml").write_text(
        toml_config(
            ["ollama"],
            {
                "ollama": {"host": f"http://admin:{key}@gpu-box:11434"},
                "hf": {"base_url": f"https://router.example/v1?token={key}&x=1"},
            },
        )
    )
    for args in (("config", "show"), ("config", "show", "--json")):
        run = run_cli(cli_home, *args)
        assert run.code == 0, run.stderr
        assert not leaks(run.stdout) and b"admin" not in run.stdout
        assert b"***@gpu-box:11434" in run.stdout and b"token=[redacted]&x=1" in run.stdout


@pytest.mark.parametrize("mode", ["hang", "trickle"])
def test_a_plugin_that_hangs_is_abandoned_at_its_deadline(
    cli_home: Path, plugin_path: str, backup: OllamaWire, mode: str
) -> None:
    configure(cli_home, mode, backup)
    started = time.monotonic()
    run = evil_run(cli_home, plugin_path, "complete", "hi", budget=30)
    assert run.code == 0, run.stderr
    assert time.monotonic() - started < 15  # 1 s timeout + grace, close abandoned too
    if mode == "hang":
        assert run.stdout == b"Hello from Ollama.\n"
    else:  # the second provider continues the answer the first began
        assert run.stdout.startswith(b"first ")
    assert b"Traceback" not in run.stderr and b"internal error" not in run.stderr


def test_providers_list_with_a_hung_plugin_returns_at_its_timeout(
    cli_home: Path, plugin_path: str
) -> None:
    configure(cli_home, "hang", None)
    started = time.monotonic()
    run = evil_run(cli_home, plugin_path, "providers", "list", "--json", "--timeout", "1")
    assert run.code is not None, "providers list hung"
    assert time.monotonic() - started < 15
    rows = {r["name"]: r for r in json.loads(run.stdout)}
    assert rows["evil"]["status"] == "unreachable"


def trickle(byte_pause: float) -> Reply:
    """An answer line that arrives a byte every ``byte_pause`` s: never a read timeout."""
    line = str(ndjson_lines([chat_line("never whole")])[0]).encode()
    parts: list[object] = []
    for i in range(len(line)):
        parts += [line[i : i + 1], Pause(byte_pause)]
    return Reply(body=parts, content_type=NDJSON)  # type: ignore[arg-type]


def blank_lines(pause: float) -> Reply:
    """Ollama's keep-alive: blank lines, forever, never an answer."""
    return Reply(body=["\n", Pause(pause)] * 200, content_type=NDJSON)


@pytest.mark.parametrize("reply", [trickle(0.3), blank_lines(0.3)], ids=["trickle", "blanks"])
def test_timeout_bounds_the_wait_between_events_even_when_bytes_keep_coming(
    cli_home: Path, backup: OllamaWire, reply: Reply
) -> None:
    with LoopbackServer() as slow:
        slow.enqueue(reply)
        tables: dict[str, dict[str, Any]] = {
            "ollama": {"host": slow.url, "timeout": 1.0},
            "second": {"type": "ollama", "host": backup.url, "default_model": "m"},
        }
        (cli_home / "config.toml").write_text(toml_config(["ollama", "second"], tables, retries=0))
        started = time.monotonic()
        run = run_cli(cli_home, "-v", "complete", "hi", budget=30)
    assert run.code == 0, run.stderr
    assert time.monotonic() - started < 10
    assert run.stdout == b"Hello from Ollama.\n"
    # The adapter's own line deadline or the router's, whichever is first: both bound it.
    assert b"no complete line in 1 s" in run.stderr or b"no answer within 1.5 s" in run.stderr


def test_timeout_bounds_a_non_streamed_body_trickled_a_byte_at_a_time(
    cli_home: Path, backup: OllamaWire
) -> None:
    body = json.dumps(done_line(content="slow")).encode()
    parts: list[object] = []
    for i in range(len(body)):
        parts += [body[i : i + 1], Pause(0.3)]
    with LoopbackServer() as slow:
        slow.enqueue(Reply(body=parts, content_type="application/json"))  # type: ignore[arg-type]
        tables: dict[str, dict[str, Any]] = {
            "ollama": {"host": slow.url, "timeout": 1.0},
            "second": {"type": "ollama", "host": backup.url, "default_model": "m"},
        }
        (cli_home / "config.toml").write_text(toml_config(["ollama", "second"], tables, retries=0))
        started = time.monotonic()
        run = run_cli(cli_home, "complete", "--no-stream", "hi", budget=30)
    assert run.code == 0, run.stderr
    assert time.monotonic() - started < 10
    assert run.stdout == b"Hello from Ollama.\n"
