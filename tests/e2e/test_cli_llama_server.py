"""The whole product against real inference: the CLI talking to a real llama.cpp server
(an OpenAI-compatible server nobody on this team wrote), and to the embedded local model.

Text is asserted only for the one prompt this 135M model answers reliably at temperature 0;
everything else asserts the protocol: exit codes, JSON shape, listings, the trace.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pexpect
import pytest

from tests.conftest import subprocess_env
from tests.e2e.conftest import LlamaServer
from tests.test_cli import cli, write_config
from tests.wire.ollama import OllamaWire

FRANCE = "What is the capital of France? Answer in one sentence."

pytestmark = [pytest.mark.local_model]


def use_server(home: Path, server: LlamaServer, *, chain: str = '["llamacpp"]') -> None:
    write_config(
        home,
        f"[router]\nchain = {chain}\n"
        f'[providers.llamacpp]\ntype = "openai-compatible"\nbase_url = "{server.base_url}"\n'
        f'default_model = "{server.model}"\ntimeout = 120\n',
    )


@pytest.mark.llama_server
def test_complete_through_the_real_server(cli_home: Path, llama_server: LlamaServer) -> None:
    use_server(cli_home, llama_server)
    out = cli(cli_home, "complete", "--temperature", "0", FRANCE, timeout=180)
    assert out.returncode == 0, out.stderr
    assert b"Paris" in out.stdout


@pytest.mark.llama_server
def test_complete_json_through_the_real_server(cli_home: Path, llama_server: LlamaServer) -> None:
    use_server(cli_home, llama_server)
    out = cli(cli_home, "complete", "--json", "--temperature", "0", FRANCE, timeout=180)
    data = json.loads(out.stdout)
    assert out.returncode == 0
    assert data["provider"] == "llamacpp" and "Paris" in data["text"]
    assert data["finish_reason"] == "stop"
    # llama-cpp-python's server sends no usage in a stream (it ignores stream_options).
    assert set(data["usage"]) == {"input_tokens", "output_tokens"}
    assert [a["outcome"] for a in data["attempts"]] == ["ok"]


@pytest.mark.llama_server
def test_models_and_providers_list_through_the_real_server(
    cli_home: Path, llama_server: LlamaServer
) -> None:
    use_server(cli_home, llama_server)
    models = cli(cli_home, "models", "list", "llamacpp")
    assert models.returncode == 0, models.stderr
    assert llama_server.model in models.stdout.decode().split()
    listed = cli(cli_home, "providers", "list", "--json")
    rows = {r["name"]: r for r in json.loads(listed.stdout)}
    assert rows["llamacpp"]["status"] == "ok" and rows["llamacpp"]["models"] >= 1
    assert listed.returncode == 0


@pytest.mark.llama_server
def test_over_long_prompt_falls_over_to_the_next_provider(
    cli_home: Path, llama_server: LlamaServer
) -> None:
    # The real server answers an over-long streamed prompt with 200 and an empty stream.
    # The next provider is a loopback Ollama: what is under test is the real server's side,
    # and evaluating 3000 tokens on the local model costs minutes on a busy machine.
    with OllamaWire(accept_any_model=True) as backup:
        use_server(cli_home, llama_server, chain='["llamacpp", "backup"]')
        with open(cli_home / "config.toml", "a") as fh:
            fh.write(
                f'[providers.backup]\ntype = "ollama"\nhost = "{backup.url}"\ndefault_model = "m"\n'
            )
        prompt = "word " * 3000 + "\nSay OK."
        out = cli(cli_home, "complete", "--json", "--max-tokens", "8", prompt, timeout=240)
    data = json.loads(out.stdout)
    assert data["attempts"][0]["provider"] == "llamacpp"
    assert data["attempts"][0]["outcome"] in ("unavailable", "context_too_long")
    assert data["provider"] == "backup", out.stderr
    assert len(backup.chat_bodies()) == 1


@pytest.mark.llama_server
def test_a_repl_turn_through_the_real_server(cli_home: Path, llama_server: LlamaServer) -> None:
    use_server(cli_home, llama_server)
    env = subprocess_env(cli_home, TERM="xterm")
    child = pexpect.spawn(
        sys.executable, ["-m", "ollama_cli", "chat"], env=env, encoding="utf-8",
        timeout=120, dimensions=(40, 120),
    )  # fmt: skip
    try:
        child.expect(">>>")
        child.sendline(FRANCE)
        child.expect("Paris")
        child.expect(">>>")
        child.sendline("/exit")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0


def test_complete_from_the_local_model_with_no_network_and_no_keys(cli_home: Path) -> None:
    out = cli(cli_home, "-p", "local", "complete", "--temperature", "0", FRANCE, timeout=180)
    assert out.returncode == 0, out.stderr
    assert b"Paris" in out.stdout


def test_fallback_to_local_when_every_remote_is_unreachable(
    cli_home: Path, refused_url: str
) -> None:
    write_config(cli_home, f'[providers.ollama]\nhost = "{refused_url}"\n')
    out = cli(cli_home, "complete", "--json", "--temperature", "0", FRANCE, timeout=180)
    data = json.loads(out.stdout)
    assert out.returncode == 0, out.stderr
    assert data["provider"] == "local" and "Paris" in data["text"]
    trace = [(a["provider"], a["outcome"]) for a in data["attempts"]]
    assert trace == [
        ("ollama", "unavailable"),
        ("claude", "skipped_no_key"),
        ("gemini", "skipped_no_key"),
        ("codex", "skipped_no_key"),
        ("hf", "skipped_no_key"),
        ("local", "ok"),
    ]
    assert "ollama unreachable → local" in out.stderr.decode()


def test_the_readme_path_a_repl_answers_from_the_local_model(
    cli_home: Path, refused_url: str
) -> None:
    """What `bash scripts/run.sh` ends in on a machine with no keys and no Ollama."""
    # temperature 0: the 135M model is only reliable on this prompt without sampling.
    write_config(
        cli_home,
        f'[providers.ollama]\nhost = "{refused_url}"\n[providers.local]\ntemperature = 0\n',
    )
    env = subprocess_env(cli_home, TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1")
    child = pexpect.spawn(
        sys.executable, ["-m", "ollama_cli", "chat"], env=env, encoding="utf-8",
        timeout=120, dimensions=(40, 120),
    )  # fmt: skip
    try:
        child.expect(">>>")
        child.sendline(FRANCE)
        child.expect("ollama unreachable → local")
        child.expect("Paris")
        child.expect(">>>")
        child.sendeof()
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
