"""Stored keys (``ollama-cli keys``) and ``provider/model`` / aliases, through the real CLI.

The OS key store is switched off with keyring's own ``PYTHON_KEYRING_BACKEND`` switch (its
null backend), so ``keys set`` takes the file fallback: ``keys.json``, mode 0600.
"""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path
from typing import Any

import pexpect

from ollama_cli.config import load_config
from ollama_cli.targets import split_target
from tests.conftest import subprocess_env
from tests.test_cli import cli, write_config
from tests.wire.gemini import GeminiWire
from tests.wire.ollama import OllamaWire

NO_KEYRING: dict[str, Any] = {"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
SECRET = "gm-canary-5f3a9c"


def gemini_config(home: Path, url: str, extra: str = "") -> None:
    write_config(
        home,
        f'[router]\nchain = ["gemini"]\nretries = 0\n[providers.gemini]\nbase_url = "{url}"\n'
        + extra,
    )


def test_keys_set_reads_without_echo_stores_0600_and_the_key_is_used(cli_home: Path) -> None:
    with GeminiWire(key=SECRET) as wire:
        wire.answer(["stored ", "key works"])
        gemini_config(cli_home, wire.url)
        child = pexpect.spawn(
            sys.executable,
            ["-m", "ollama_cli", "keys", "set", "gemini"],
            env=subprocess_env(cli_home, **NO_KEYRING),
            encoding="utf-8",
            timeout=20,
        )
        child.expect("input hidden")
        child.sendline(SECRET)
        child.expect(pexpect.EOF)
        child.close()
        shown = child.before or ""
        assert child.exitstatus == 0, shown
        assert SECRET not in shown  # not echoed, not printed
        assert "keys.json" in shown
        keys_file = cli_home / "keys.json"
        assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
        out = cli(cli_home, "complete", "hi", **NO_KEYRING)
        listed = cli(cli_home, "keys", "list", **NO_KEYRING)
        shown_config = cli(cli_home, "config", "show", "--json", **NO_KEYRING)
    assert out.returncode == 0, out.stderr
    assert out.stdout == b"stored key works\n"
    for output in (out, listed, shown_config):
        assert SECRET.encode() not in output.stdout + output.stderr
    gemini_row = next(line for line in listed.stdout.decode().splitlines() if "gemini" in line)
    assert "file" in gemini_row
    assert json.loads(shown_config.stdout)["providers"]["gemini"]["api_key"] == "set"


def test_environment_beats_the_stored_key_and_rm_forgets_it(cli_home: Path) -> None:
    write_config(cli_home, '[router]\nchain = ["gemini"]\n')
    stored = cli(cli_home, "keys", "set", "gemini", stdin=SECRET + "\n", **NO_KEYRING)
    assert stored.returncode == 0, stored.stderr
    listed = cli(cli_home, "keys", "list", GEMINI_API_KEY="from-env", **NO_KEYRING)
    row = next(line for line in listed.stdout.decode().splitlines() if "gemini" in line)
    assert "env GEMINI_API_KEY" in row and "unused" in row
    assert b"from-env" not in listed.stdout
    removed = cli(cli_home, "keys", "rm", "gemini", **NO_KEYRING)
    assert removed.returncode == 0
    again = cli(cli_home, "keys", "rm", "gemini", **NO_KEYRING)
    assert again.returncode == 2
    assert b"no stored key for 'gemini'" in again.stderr
    assert json.loads((cli_home / "keys.json").read_text()) == {}


def test_a_stored_key_counts_for_chain_skipping(cli_home: Path) -> None:
    """Without a key gemini is skipped (``skipped_no_key``); with a stored one it answers."""
    with GeminiWire(key=SECRET) as wire:
        wire.answer(["hello"])
        gemini_config(cli_home, wire.url)
        before = cli(cli_home, "complete", "--json", "hi", **NO_KEYRING)
        cli(cli_home, "keys", "set", "gemini", stdin=SECRET, **NO_KEYRING)
        after = cli(cli_home, "complete", "--json", "hi", **NO_KEYRING)
    assert before.returncode == 1
    assert json.loads(before.stdout)["attempts"][0]["outcome"] == "skipped_no_key"
    assert json.loads(after.stdout)["text"] == "hello"


def test_keys_set_refuses_an_unknown_provider(cli_home: Path) -> None:
    out = cli(cli_home, "keys", "set", "gemni", stdin="x\n", **NO_KEYRING)
    assert out.returncode == 2
    assert b"unknown provider 'gemni'" in out.stderr
    assert not (cli_home / "keys.json").exists()


def test_provider_slash_model_selects_both_shown_in_json(cli_home: Path) -> None:
    with GeminiWire(key=SECRET, accept_any_model=True) as wire, OllamaWire() as ollama:
        wire.answer(["from gemini"])
        gemini_config(cli_home, wire.url)
        write_config(
            cli_home,
            f'[router]\nchain = ["ollama", "gemini"]\nretries = 0\n'
            f'[providers.ollama]\nhost = "{ollama.url}"\n'
            f'[providers.gemini]\nbase_url = "{wire.url}"\n',
        )
        out = cli(
            cli_home, "complete", "--json", "-m", "gemini/gemini-flash-latest", "hi",
            GEMINI_API_KEY=SECRET,
        )  # fmt: skip
        paths = [r.path for r in wire.requests]
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert (data["provider"], data["model"]) == ("gemini", "gemini-flash-latest")
    assert any("models/gemini-flash-latest:" in p for p in paths)
    assert ollama.chat_bodies() == []  # the chain's first provider was not asked


def test_an_alias_routes_to_its_provider_and_model(cli_home: Path) -> None:
    with GeminiWire(key=SECRET, accept_any_model=True) as wire:
        wire.answer(["fast answer"])
        gemini_config(cli_home, wire.url, '[aliases]\nfast = "gemini/gemini-flash-lite-latest"\n')
        out = cli(cli_home, "complete", "--json", "-m", "fast", "hi", GEMINI_API_KEY=SECRET)
        listed = cli(cli_home, "models", "list", "--json", GEMINI_API_KEY=SECRET)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert (data["provider"], data["model"]) == ("gemini", "gemini-flash-lite-latest")
    assert json.loads(listed.stdout)["aliases"] == {"fast": "gemini/gemini-flash-lite-latest"}


def test_a_slash_is_a_provider_only_when_it_names_one(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[aliases]\nsmart = "claude/claude-opus-4-1"\nlocal = "qwen3:8b"\n')
    config = load_config(path, {})
    hf_id = "meta-llama/Llama-3.1-8B-Instruct:cerebras"
    assert split_target(config, None, hf_id) == (None, hf_id)
    assert split_target(config, "hf", hf_id) == ("hf", hf_id)
    assert split_target(config, None, "gemini/gemini-2.5-pro") == ("gemini", "gemini-2.5-pro")
    # An explicit -p wins: the whole text is that provider's model id.
    assert split_target(config, "hf", "gemini/x") == ("hf", "gemini/x")
    assert split_target(config, None, "smart") == ("claude", "claude-opus-4-1")
    assert split_target(config, "ollama", "local") == ("ollama", "qwen3:8b")
    assert split_target(config, "ollama", None) == ("ollama", None)
