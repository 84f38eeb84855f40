"""Inputs a real user has: a config with a BOM, a bad port, a quoted OLLAMA_HOST, bytes on
the command line that are not UTF-8."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import subprocess_env
from tests.faults import run_cli, toml_config
from tests.wire.ollama import OllamaWire


def test_a_config_with_a_utf8_bom_is_read(cli_home: Path) -> None:
    with OllamaWire(accept_any_model=True) as wire:
        text = toml_config(["ollama"], {"ollama": {"host": wire.url}})
        (cli_home / "config.toml").write_bytes(b"\xef\xbb\xbf" + text.encode())
        run = run_cli(cli_home, "complete", "hi")
    assert run.code == 0, run.stderr
    assert run.stdout == b"Hello from Ollama.\n"


def test_an_invalid_port_is_exit_2_naming_the_key(cli_home: Path) -> None:
    for key, value in (("host", "http://127.0.0.1:99999"), ("host", "gpu-box:port")):
        (cli_home / "config.toml").write_text(toml_config(["ollama"], {"ollama": {key: value}}))
        run = run_cli(cli_home, "complete", "hi")
        assert run.code == 2, run.stderr
        assert run.err_lines[0].startswith("ollama-cli: ")
        assert "providers.ollama.host: invalid URL" in run.err_lines[0]
        assert len(run.err_lines) == 1 and b"Traceback" not in run.stderr


def test_a_quoted_ollama_host_is_accepted(cli_home: Path) -> None:
    with OllamaWire(accept_any_model=True) as wire:
        (cli_home / "config.toml").write_text(toml_config(["ollama"], {}))
        hostport = wire.url.removeprefix("http://")
        for quoted in (f'"{hostport}"', f"'{wire.url}'"):
            run = run_cli(cli_home, "complete", "hi", OLLAMA_HOST=quoted)
            assert run.code == 0, run.stderr
            assert run.stdout == b"Hello from Ollama.\n"


def test_arguments_that_are_not_utf8_are_replaced_not_an_internal_error(
    cli_home: Path,
) -> None:
    with OllamaWire(accept_any_model=True) as wire:
        (cli_home / "config.toml").write_text(
            toml_config(["ollama"], {"ollama": {"host": wire.url}})
        )
        argv = [os.fsencode(sys.executable), b"-m", b"ollama_cli", b"complete", b"caf\xe9 \xff"]
        run = subprocess.run(argv, capture_output=True, env=subprocess_env(cli_home), timeout=60)
        assert run.returncode == 0, run.stderr
        assert run.stdout == b"Hello from Ollama.\n"
        assert b"not valid UTF-8" in run.stderr and b"internal error" not in run.stderr
        assert wire.chat_bodies()[0]["messages"][-1]["content"] == "caf\ufffd \ufffd"


def test_a_pasted_key_with_a_newline_is_stripped_with_one_notice(cli_home: Path) -> None:
    with OllamaWire(accept_any_model=True) as wire:
        (cli_home / "config.toml").write_text(
            toml_config(["ollama"], {"ollama": {"host": wire.url}})
        )
        env = subprocess_env(cli_home, OLLAMA_API_KEY="  sk-pasted-123456\n")
        argv = [sys.executable, "-m", "ollama_cli", "complete", "hi"]
        run = subprocess.run(argv, capture_output=True, env=env, timeout=60)
        assert run.returncode == 0, run.stderr
        assert wire.requests[-1].headers["authorization"] == "Bearer sk-pasted-123456"
    assert run.stderr.decode().splitlines() == [
        "warning: ollama: OLLAMA_API_KEY has spaces or a newline around it; they were stripped"
    ]


def test_deeply_nested_toml_is_a_config_error_not_an_internal_error(cli_home: Path) -> None:
    (cli_home / "config.toml").write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    run = run_cli(cli_home, "complete", "hi")
    assert run.code == 2
    assert run.err_lines == [
        f"ollama-cli: {cli_home / 'config.toml'}: invalid TOML: nested too deeply"
    ]
