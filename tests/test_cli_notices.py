"""Notices that tell the truth: through the real CLI, against loopback servers."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_cli import cli, write_config
from tests.wire.loopback import LoopbackServer, Reply
from tests.wire.ollama import OllamaWire

SECRET = "hf_secret_value_that_must_not_show_1234"


def test_a_refused_key_names_the_variable_it_came_from(
    cli_home: Path, loopback: LoopbackServer
) -> None:
    body = json.dumps({"error": {"message": "Invalid credentials", "type": "invalid_request"}})
    loopback.enqueue(Reply(401, body), Reply(401, body))
    write_config(
        cli_home,
        f'[router]\nchain = ["hf"]\nretries = 0\n[providers.hf]\nbase_url = "{loopback.url}"\n',
    )
    from_env = cli(cli_home, "complete", "hi", HF_TOKEN=SECRET)
    write_config(
        cli_home,
        f'[router]\nchain = ["hf"]\nretries = 0\n[providers.hf]\nbase_url = "{loopback.url}"\n'
        f'api_key = "{SECRET}"\n',
    )
    from_config = cli(cli_home, "complete", "hi")
    last = [run.stderr.decode().strip().splitlines()[-1] for run in (from_env, from_config)]
    assert from_env.returncode == from_config.returncode == 1
    assert (
        last[0]
        == "ollama-cli: no provider could answer: hf refused the key (check the key in HF_TOKEN)"
    )
    assert last[1].endswith("(check the key in api_key of [providers.hf])")
    assert SECRET.encode() not in from_env.stderr + from_config.stderr


def test_a_fallback_notice_after_two_failures_is_one_line_naming_both(
    cli_home: Path, refused_url: str
) -> None:
    with OllamaWire() as wire:
        wire.answer(["third answers"])
        write_config(
            cli_home,
            '[router]\nchain = ["ollama", "backup", "third"]\nretries = 0\n'
            f'[providers.ollama]\nhost = "{refused_url}"\n'
            f'[providers.backup]\ntype = "ollama"\nhost = "{refused_url}"\n'
            f'[providers.third]\ntype = "ollama"\nhost = "{wire.url}"\n',
        )
        out = cli(cli_home, "complete", "hi")
    assert out.returncode == 0
    assert out.stdout == b"third answers\n"
    assert out.stderr.decode().splitlines() == [
        "ollama unreachable, backup unreachable → third (llama3.2)"
    ]


def test_an_answer_cut_at_max_tokens_says_so(cli_home: Path) -> None:
    with OllamaWire() as wire:
        wire.answer(["The first", " words"], done_reason="length", eval_count=512)
        wire.answer(["cut again"], done_reason="length", eval_count=7)
        wire.answer(["finished"])
        write_config(
            cli_home, f'[router]\nchain = ["ollama"]\n[providers.ollama]\nhost = "{wire.url}"\n'
        )
        limited = cli(cli_home, "complete", "--max-tokens", "512", "hi")
        by_default = cli(cli_home, "complete", "hi")
        whole = cli(cli_home, "complete", "hi")
    assert limited.stdout == b"The first words\n"
    assert limited.stderr.decode().splitlines() == ["cut at 512 tokens; --max-tokens to raise"]
    assert by_default.stderr.decode().splitlines() == ["cut at 7 tokens; --max-tokens to raise"]
    assert whole.stderr == b""
    assert wire.chat_bodies()[0]["options"]["num_predict"] == 512
