"""State never fails a run; a disabled or removed provider gets nothing, ``--continue``
included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.faults import run_cli, toml_config
from tests.wire.ollama import OllamaWire


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[1, 2]",
        '{"ollama": {"failures": 2, "until": 1e308}}',
        '{"ollama": {"failures": 2, "until": NaN}}',
        '{"ollama": {"failures": "x", "until": 0}}',
        '{"ollama": 7}',
    ],
)
def test_a_corrupt_or_absurd_cooldowns_file_is_ignored_with_a_notice(
    cli_home: Path, content: str
) -> None:
    state = cli_home / "state"
    state.mkdir()
    (state / "cooldowns.json").write_text(content)
    with OllamaWire(accept_any_model=True) as wire:
        (cli_home / "config.toml").write_text(
            toml_config(["ollama"], {"ollama": {"host": wire.url}})
        )
        run = run_cli(cli_home, "complete", "hi")
    assert run.code == 0, run.stderr
    assert run.stdout == b"Hello from Ollama.\n"
    assert len(run.err_lines) == 1 and run.err_lines[0].startswith("warning: ignoring ")
    assert "cooldowns.json" in run.err_lines[0]


def two_providers(home: Path, first: OllamaWire, second: OllamaWire, **first_table: object) -> None:
    tables: dict[str, dict[str, Any]] = {
        "first": {"type": "ollama", "host": first.url, "default_model": "m", **first_table},
        "second": {"type": "ollama", "host": second.url, "default_model": "m"},
    }
    (home / "config.toml").write_text(toml_config(["first", "second"], tables, retries=0))


def test_continue_never_routes_to_a_provider_disabled_since(cli_home: Path) -> None:
    with OllamaWire(accept_any_model=True) as first, OllamaWire(accept_any_model=True) as second:
        first.answer(["from first"])
        two_providers(cli_home, first, second)
        assert run_cli(cli_home, "complete", "one").code == 0
        two_providers(cli_home, first, second, enabled=False)
        run = run_cli(cli_home, "complete", "--continue", "two")
        assert run.code == 0, run.stderr
        assert run.stdout == b"Hello from Ollama.\n"
        assert len(first.chat_bodies()) == 1  # nothing more for the disabled one
        assert "first, which answered this conversation last, is disabled" in run.err_lines[0]


def test_continue_after_the_last_provider_was_removed_uses_the_chain(cli_home: Path) -> None:
    with OllamaWire(accept_any_model=True) as first, OllamaWire(accept_any_model=True) as second:
        first.answer(["from first"])
        two_providers(cli_home, first, second)
        assert run_cli(cli_home, "complete", "one").code == 0
        tables: dict[str, dict[str, Any]] = {
            "second": {"type": "ollama", "host": second.url, "default_model": "m"}
        }
        (cli_home / "config.toml").write_text(toml_config(["second"], tables, retries=0))
        run = run_cli(cli_home, "complete", "--continue", "two")
    assert run.code == 0, run.stderr
    assert run.stdout == b"Hello from Ollama.\n"
    assert b"internal error" not in run.stderr
    assert "is no longer configured; continuing on the chain" in run.err_lines[0]
    body = second.chat_bodies()[-1]
    assert [m["content"] for m in body["messages"]] == ["one", "from first", "two"]
