"""The habits people bring from llm, aichat and git: through the real CLI, as typed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_cli import cli, only_ollama
from tests.wire.ollama import OllamaWire


def test_a_prompt_without_a_command_is_complete(cli_home: Path) -> None:
    with OllamaWire() as wire:
        wire.answer(["yes"]).answer(["again"])
        only_ollama(cli_home, wire.url)
        plain = cli(cli_home, "explain TCP slow start")
        flagged = cli(cli_home, "-p", "ollama", "hi")
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout == b"yes\n"
    assert flagged.stdout == b"again\n"
    prompts = [body["messages"][-1]["content"] for body in wire.chat_bodies()]
    assert prompts == ["explain TCP slow start", "hi"]


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (["hisotry"], "unknown command 'hisotry'; did you mean history?"),
        (["history", "lst"], "did you mean list?"),
        (["complete", "--jsno", "hi"], "did you mean --json?"),
        (["history", "show", "--jsn"], "did you mean --json?"),
        (["providers", "lsit"], "did you mean list?"),
    ],
)
def test_typos_get_did_you_mean_and_exit_2(cli_home: Path, args: list[str], hint: str) -> None:
    out = cli(cli_home, *args)
    assert out.returncode == 2
    assert hint in out.stderr.decode()
    assert b"Traceback" not in out.stderr


def test_history_alone_lists_and_show_alone_shows_the_latest(cli_home: Path) -> None:
    with OllamaWire() as wire:
        wire.answer(["first answer"]).answer(["second answer"])
        only_ollama(cli_home, wire.url)
        empty = cli(cli_home, "history", "show")
        cli(cli_home, "complete", "first question")
        cli(cli_home, "complete", "second question")
    listed = cli(cli_home, "history")
    shown = cli(cli_home, "history", "show")
    assert empty.returncode == 2 and b"no conversations yet" in empty.stderr
    assert listed.returncode == 0
    assert [line.split()[-2:] for line in listed.stdout.decode().splitlines()] == [
        ["second", "question"],
        ["first", "question"],
    ]
    assert shown.returncode == 0
    assert "second answer" in shown.stdout.decode()
    assert "first answer" not in shown.stdout.decode()


def test_config_alone_shows_the_configuration(cli_home: Path) -> None:
    only_ollama(cli_home, "http://127.0.0.1:9")
    alone, show = cli(cli_home, "config"), cli(cli_home, "config", "show")
    assert alone.returncode == 0 and alone.stdout == show.stdout
    assert b"127.0.0.1:9" in alone.stdout


@pytest.mark.parametrize(
    ("args", "absent", "example"),
    [
        (["history", "--help"], "--provider", "ollama-cli history show"),
        (["config", "--help"], "--no-fallback", "ollama-cli config init"),
        (["complete", "--help"], "", 'ollama-cli "explain TCP slow start"'),
        (["chat", "--help"], "", "ollama-cli chat -c"),
    ],
)
def test_subcommand_help_lists_what_applies_and_ends_with_examples(
    cli_home: Path, args: list[str], absent: str, example: str
) -> None:
    out = cli(cli_home, *args)
    text = out.stdout.decode()
    assert out.returncode == 0
    assert not absent or absent not in text
    examples = text[text.index("examples:") :]
    assert example in examples
    assert text.rstrip().splitlines()[-1].startswith("  ")  # the examples are the end
