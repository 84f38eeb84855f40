"""The CLI as a user runs it: a real subprocess, a real loopback Ollama server."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import subprocess_env
from tests.wire.loopback import LoopbackServer, Reply, Stall
from tests.wire.ollama import OllamaWire

HEAVY = (
    "httpx",
    "rich.markdown",
    "prompt_toolkit",
    "llama_cpp",
    "anthropic",
    "openai",
    "google.genai",
    "ollama",
)


def cli(home: Path, *args: str, stdin: str | bytes | None = None, timeout: float = 60, **env: str):
    data = stdin.encode() if isinstance(stdin, str) else stdin
    return subprocess.run(
        [sys.executable, "-m", "ollama_cli", *args],
        input=data if data is not None else b"",
        capture_output=True,
        env=subprocess_env(home, **env),
        timeout=timeout,
    )


def write_config(home: Path, text: str) -> Path:
    path = home / "config.toml"
    path.write_text(text)
    return path


def only_ollama(home: Path, url: str) -> None:
    write_config(
        home, f'[router]\nchain = ["ollama"]\nretries = 0\n[providers.ollama]\nhost = "{url}"\n'
    )


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version_import_nothing_heavy(cli_home: Path, flag: str) -> None:
    code = (
        "import sys, runpy\n"
        f"sys.argv = ['ollama-cli', '{flag}']\n"
        "try:\n    runpy.run_module('ollama_cli', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env(cli_home)
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_complete_streams_exact_text_to_a_pipe(cli_home: Path) -> None:
    with OllamaWire() as wire:
        wire.answer(["Hel", "lo", " **world**"])
        only_ollama(cli_home, wire.url)
        out = cli(cli_home, "complete", "hi")
    assert out.returncode == 0, out.stderr
    assert out.stdout == b"Hello **world**\n"  # one final newline to a pipe
    assert b"\x1b" not in out.stdout
    assert wire.chat_bodies()[0]["messages"][-1] == {"role": "user", "content": "hi"}


def test_complete_prompt_is_stdin_blank_line_then_args(cli_home: Path) -> None:
    with OllamaWire() as wire:
        wire.answer(["ok"])
        only_ollama(cli_home, wire.url)
        out = cli(cli_home, "complete", "summarise", "this", stdin="line one\nline two\n")
    assert out.returncode == 0, out.stderr
    assert (
        wire.chat_bodies()[0]["messages"][-1]["content"] == "line one\nline two\n\nsummarise this"
    )


def test_complete_json_has_the_design_shape(cli_home: Path) -> None:
    with OllamaWire() as wire:
        wire.answer(["4"], prompt_eval_count=12, eval_count=1)
        only_ollama(cli_home, wire.url)
        out = cli(cli_home, "complete", "--json", "2+2?")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["provider"] == "ollama" and data["model"] == "llama3.2"
    assert data["text"] == "4" and data["finish_reason"] == "stop"
    assert data["usage"] == {"input_tokens": 12, "output_tokens": 1}
    assert data["conversation_id"]
    assert data["attempts"][0]["outcome"] == "ok" and isinstance(
        data["attempts"][0]["elapsed_ms"], int
    )


def test_nothing_reachable_and_no_keys_exits_1_with_a_line_per_provider(
    cli_home: Path, refused_url: str
) -> None:
    write_config(
        cli_home,
        f'[providers.ollama]\nhost = "{refused_url}"\n[providers.local]\nenabled = false\n',
    )
    out = cli(cli_home, "complete", "hi")
    err = out.stderr.decode()
    assert out.returncode == 1
    assert "Traceback" not in err
    assert f"cannot connect to {refused_url} (connection refused)" in err
    for var in ("ANTHROPIC_API_KEY", "GEMINI_API_KEY", "OPENAI_API_KEY", "HF_TOKEN"):
        assert f"{var} is not set" in err
    # The last line: each provider, what went wrong, and what to do about it.
    assert err.strip().splitlines()[-1] == (
        "ollama-cli: no provider could answer: ollama unreachable (start Ollama: ollama serve);"
        " claude has no key (set ANTHROPIC_API_KEY); gemini has no key (set GEMINI_API_KEY);"
        " codex has no key (set OPENAI_API_KEY); hf has no key (set HF_TOKEN)"
    )
    assert out.stdout == b""


def test_json_failure_still_prints_the_object(cli_home: Path, refused_url: str) -> None:
    only_ollama(cli_home, refused_url)
    out = cli(cli_home, "complete", "--json", "hi")
    assert out.returncode == 1
    data = json.loads(out.stdout)
    assert data["text"] == "" and data["error"] == "no provider could answer"
    assert data["attempts"][0]["outcome"] == "unavailable"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[router\nretries = 1\n", "invalid TOML"),
        ("[router]\nretries = 1\nretriez = 2\n", ":3: router.retriez: unknown key"),
        ('[router]\n\nretries = "two"\n', ":3: router.retries: expected an integer, got str"),
        ("[providers.claude]\ntimeout = true\n", ":2: providers.claude.timeout: expected"),
        ('[providers.x]\ntype = "nope"\n', ":2: providers.x.type: unknown provider type 'nope'"),
        (
            '[providers.claude]\nbase_url = "${env.SURELY_UNSET_VAR}"\n',
            "SURELY_UNSET_VAR is not set",
        ),
    ],
)
def test_bad_config_exits_2_naming_file_line_and_key(
    cli_home: Path, text: str, expected: str
) -> None:
    path = write_config(cli_home, text)
    out = cli(cli_home, "complete", "hi")
    err = out.stderr.decode()
    assert out.returncode == 2
    assert "Traceback" not in err
    assert str(path) in err and expected in err
    assert len(err.strip().splitlines()) == 1


def test_config_that_is_a_directory(cli_home: Path) -> None:
    out = cli(cli_home, "--config", str(cli_home), "complete", "hi")
    assert out.returncode == 2 and b"is a directory" in out.stderr


def test_env_substitution_with_default(cli_home: Path) -> None:
    with OllamaWire() as wire:
        wire.answer(["sub"])
        write_config(
            cli_home,
            '[router]\nchain = ["ollama"]\n[providers.ollama]\nhost = "${env.MY_HOST:=http://127.0.0.1:1}"\n',
        )
        out = cli(cli_home, "complete", "hi", MY_HOST=wire.url)
    assert out.stdout == b"sub\n", out.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-p", "nope", "complete", "hi"], "unknown provider 'nope'"),
        (["complete", "-m", "", "hi"], "-m/--model needs a model name"),
        (["complete"], "nothing to answer"),
    ],
)
def test_usage_errors_exit_2(cli_home: Path, args: list[str], message: str) -> None:
    out = cli(cli_home, *args)
    assert out.returncode == 2
    assert message in out.stderr.decode()


def test_providers_list_json_checks_all_six_concurrently(cli_home: Path) -> None:
    hanging = LoopbackServer().start()
    hanging.handler = lambda request: Reply(before_headers=[Stall()])
    try:
        # Every remote endpoint is on loopback: tests never reach a real service.
        write_config(
            cli_home,
            f'[providers.ollama]\nhost = "{hanging.url}"\n'
            f'[providers.claude]\nbase_url = "{hanging.url}"\n',
        )
        out = cli(
            cli_home,
            "providers",
            "list",
            "--json",
            "--timeout",
            "2",
            ANTHROPIC_API_KEY="sk-canary-123",
        )
    finally:
        hanging.stop()
    rows = {r["name"]: r for r in json.loads(out.stdout)}
    assert list(rows) == ["ollama", "claude", "gemini", "codex", "hf", "local"]
    assert rows["ollama"]["status"] == "unreachable"
    assert rows["gemini"]["status"] == "no_key" and rows["gemini"]["key_env"] == "GEMINI_API_KEY"
    assert rows["claude"]["status"] == "unreachable"
    assert rows["local"]["status"] == "ok"
    assert out.returncode == 0
    # Concurrent, shown by order: the second hanging check was waiting while the first one
    # still was (one after the other, the first gives up before the second connects). How
    # long the whole takes is bench/providers_list.py's goal.
    assert hanging.connections == 2 and hanging.peak_open_connections == 2
    assert b"sk-canary-123" not in out.stdout + out.stderr


def test_config_show_is_toml_and_with_json_the_same_settings_as_json(cli_home: Path) -> None:
    path = write_config(
        cli_home,
        '[router]\nretries = 3\n[providers."my.vllm"]\ntype = "openai-compatible"\n'
        'base_url = "http://127.0.0.1:9/v1"\ndefault_model = "m"\napi_key = "sk-canary-789"\n',
    )
    path.chmod(0o600)
    text, as_json = cli(cli_home, "config", "show"), cli(cli_home, "config", "show", "--json")
    assert text.returncode == as_json.returncode == 0
    data = json.loads(as_json.stdout)
    assert data["router"]["retries"] == 3 and data["providers"]["my.vllm"]["api_key"] == "set"
    lines = text.stdout.decode().splitlines()
    assert lines[0] == f"# {path}" and "# api_key: set" in lines
    # The text form reads back as the same settings, less what is not set and the key.
    for table in data["providers"].values():
        for key in [k for k, v in table.items() if v is None or k == "api_key"]:
            del table[key]
    del data["path"]
    data["router"] = {k: v for k, v in data["router"].items() if v is not None}  # budgets
    assert tomllib.loads(text.stdout.decode()) == {
        "router": data["router"],
        "history": data["history"],
        "providers": data["providers"],
    }
    assert b"sk-canary-789" not in text.stdout + as_json.stdout


def test_models_list_for_ollama(cli_home: Path) -> None:
    with OllamaWire(models=["llama3.2:latest", "qwen3:8b"]) as wire:
        only_ollama(cli_home, wire.url)
        out = cli(cli_home, "models", "list", "ollama")
    assert out.returncode == 0, out.stderr
    assert out.stdout.decode().split() == ["llama3.2:latest", "qwen3:8b"]


def test_models_list_without_key_is_a_clear_error(cli_home: Path) -> None:
    out = cli(cli_home, "models", "list", "claude")
    assert out.returncode == 1
    assert out.stderr.decode().strip() == "ollama-cli: claude: ANTHROPIC_API_KEY is not set"


def test_models_list_claude_pages_through_the_api(cli_home: Path, loopback: LoopbackServer) -> None:
    from tests.wire.anthropic import AnthropicWire

    AnthropicWire(loopback, models=["claude-a", "claude-b", "claude-c"], page_size=2, key="sk-k")
    write_config(cli_home, f'[providers.claude]\nbase_url = "{loopback.url}"\n')
    out = cli(cli_home, "models", "list", "claude", ANTHROPIC_API_KEY="sk-k")
    assert out.returncode == 0, out.stderr
    assert out.stdout.decode().split() == ["claude-a", "claude-b", "claude-c"]
    assert b"sk-k" not in out.stdout + out.stderr


def test_a_corrupt_history_database_is_exit_2_and_left_untouched(cli_home: Path) -> None:
    db = cli_home / "history.sqlite3"
    garbage = b"this is not a database\x00" * 100
    db.write_bytes(garbage)
    with OllamaWire() as wire:
        wire.answer(["still answers"])
        only_ollama(cli_home, wire.url)
        out = cli(cli_home, "complete", "hi")
        err = out.stderr.decode()
        assert out.returncode == 2
        assert str(db) in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
        assert db.read_bytes() == garbage
        ok = cli(cli_home, "complete", "--no-history", "hi")
    assert ok.returncode == 0 and ok.stdout == b"still answers\n"
    assert db.read_bytes() == garbage
