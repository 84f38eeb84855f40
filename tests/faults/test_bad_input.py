"""Bad input through the real CLI: broken bytes and oversize data on stdin, empty prompts,
unknown names, config values of the wrong type, unset variables, a config that is a
directory, and a data dir nobody can write. Each ends in one line a person can act on
and the documented exit status, never a traceback.

Tests run as root, which ignores permission bits, so "unwritable" is made two ways root
respects: a home under a regular file (mkdir fails with ENOTDIR), and a read-only bind
mount in a private mount namespace (``unshare -m``; skipped where that is not allowed).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ollama_cli.commands.complete import MAX_STDIN_BYTES
from tests.faults import ROOT, Run, canary_env, run_cli, toml_config
from tests.wire.ollama import OllamaWire


@pytest.fixture
def wire(cli_home: Path) -> Iterator[OllamaWire]:
    """An Ollama server that answers every chat; the only provider of the chain."""
    with OllamaWire(accept_any_model=True) as server:
        (cli_home / "config.toml").write_text(only_ollama(server.url))
        yield server


def only_ollama(url: str) -> str:
    return toml_config(["ollama"], {"ollama": {"host": url}}, retries=0)


def prompt_sent(wire: OllamaWire) -> str:
    (body,) = wire.chat_bodies()
    content: str = body["messages"][-1]["content"]
    return content


def assert_usage_error(run: Run, *needles: str, warnings: int = 0) -> None:
    """Exit 2 with one line on stderr (after ``warnings`` warnings) naming what is wrong."""
    assert run.code == 2, run.stderr
    assert len(run.err_lines) == 1 + warnings, run.err_lines
    assert all(line.startswith("warning: ") for line in run.err_lines[:-1])
    assert run.err_lines[-1].startswith("ollama-cli: ")
    for needle in needles:
        assert needle in run.err_lines[-1]
    assert run.stdout == b""


def test_invalid_utf8_on_stdin_is_replaced_with_a_warning(cli_home: Path, wire: OllamaWire) -> None:
    run = run_cli(cli_home, "complete", "fix this", stdin=b"caf\xe9 \xff\xfe ok\n")
    assert run.code == 0 and run.stdout == b"Hello from Ollama.\n"
    assert run.err_lines == ["warning: stdin is not valid UTF-8; undecodable bytes were replaced"]
    assert prompt_sent(wire) == "caf\ufffd \ufffd\ufffd ok\n\nfix this"


def test_a_real_replacement_character_is_not_mistaken_for_bad_bytes(
    cli_home: Path, wire: OllamaWire
) -> None:
    run = run_cli(cli_home, "complete", stdin="a \ufffd b".encode())
    assert run.code == 0 and run.err_lines == []
    assert prompt_sent(wire) == "a \ufffd b"


def test_nul_bytes_on_stdin_are_removed_with_a_warning(cli_home: Path, wire: OllamaWire) -> None:
    run = run_cli(cli_home, "complete", "--json", "and this", stdin=b"one\x00two\x00\n")
    assert run.code == 0
    assert run.err_lines == ["warning: stdin contains NUL bytes; they were removed"]
    assert prompt_sent(wire) == "onetwo\n\nand this"


def test_50_mb_on_stdin_is_refused_at_once(cli_home: Path, wire: OllamaWire) -> None:
    run = run_cli(cli_home, "complete", "summarise", stdin=b"y" * (50 * 1024 * 1024))
    assert_usage_error(run, "stdin is larger than 10 MB", "head -c")
    assert wire.requests == []


def test_exactly_the_stdin_limit_is_accepted(cli_home: Path, wire: OllamaWire) -> None:
    run = run_cli(cli_home, "complete", stdin=b"z" * MAX_STDIN_BYTES)
    assert run.code == 0, run.stderr
    assert len(prompt_sent(wire)) == MAX_STDIN_BYTES


@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (["complete"], b""),
        (["complete", ""], b""),
        (["complete", "   ", "\t"], b""),
        (["complete"], b"\n \n\t\n"),
        (["complete"], b"\x00\x00"),
    ],
    ids=["no-args", "empty-arg", "blank-args", "blank-stdin", "only-nul"],
)
def test_an_empty_prompt_is_a_usage_error(
    cli_home: Path, wire: OllamaWire, args: list[str], stdin: bytes
) -> None:
    run = run_cli(cli_home, *args, stdin=stdin)
    assert_usage_error(run, "nothing to answer", warnings=b"\x00" in stdin)
    assert wire.requests == []


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["-p", "nope", "complete", "hi"], "unknown provider 'nope'"),
        (["complete", "-p", "nope", "hi"], "unknown provider 'nope'"),
        (["-p", "", "complete", "hi"], "unknown provider ''"),
        (["models", "list", "nope"], "nope"),
        (["-m", "", "complete", "hi"], "-m/--model needs a model name"),
        (["complete", "-m", "  ", "hi"], "-m/--model needs a model name"),
    ],
    ids=["-p-before", "-p-after", "-p-empty", "models-list", "-m-empty", "-m-blank"],
)
def test_unknown_names_and_empty_models(
    cli_home: Path, wire: OllamaWire, args: list[str], needle: str
) -> None:
    assert_usage_error(run_cli(cli_home, *args), needle)
    assert wire.requests == []


BAD_CONFIGS = [
    ('[router]\nchain = "ollama"\n', ":2: router.chain: expected a list, got str"),
    ('[router]\nchain = ["ollama", "nope"]\n', ":2: router.chain: unknown provider 'nope'"),
    ("[router]\nchain = []\n", "router.chain: must be a non-empty list"),
    ("[router]\nchain = [1, 2]\n", "router.chain"),
    ("[router]\nretries = 1.5\n", ":2: router.retries: expected an integer, got float"),
    ("[router]\nretries = -1\n", "router.retries: must not be negative"),
    ('[router]\nmax_retry_wait = "2s"\n', "router.max_retry_wait: expected"),
    ("[router]\nresume_interrupted = 1\n", "router.resume_interrupted: expected true or false"),
    (
        "[router]\nhedge_after_ms = true\n",
        "router.hedge_after_ms: expected an integer, got a boolean",
    ),
    ("router = 3\n", "router: must be a table"),
    ('[history]\nenabled = "no"\n', "history.enabled: expected true or false"),
    ('[providers]\nclaude = "x"\n', "providers.claude: must be a table"),
    ('[providers.claude]\ntimeout = "fast"\n', ":2: providers.claude.timeout: expected"),
    ('[providers.claude]\nenabled = "yes"\n', "providers.claude.enabled: expected true or false"),
    ("[providers.claude]\nbase_url = 8080\n", "providers.claude.base_url: expected a string"),
    ('[providers.ollama]\nhost = ["a"]\n', "providers.ollama.host: expected a string"),
    ("[providers.x]\ntype = 3\n", "providers.x.type: expected a string"),
    ('[providers.x]\nbase_url = "http://127.0.0.1:9"\n', "providers.x: missing key 'type'"),
    ("[providers.claude]\nmax_tokens = 1.5\n", "providers.claude.max_tokens: expected an integer"),
    ("[surprise]\nx = 1\n", "surprise: unknown section"),
    ("[router\n", "invalid TOML"),
    ('a = "\x00"\n', "invalid TOML"),
]


@pytest.mark.parametrize(("text", "needle"), BAD_CONFIGS, ids=range(len(BAD_CONFIGS)))
def test_a_config_value_of_the_wrong_kind_is_exit_2_naming_file_and_key(
    cli_home: Path, text: str, needle: str
) -> None:
    path = cli_home / "config.toml"
    path.write_text(text)
    assert_usage_error(run_cli(cli_home, "complete", "hi"), str(path), needle)


@pytest.mark.parametrize(
    "text",
    [
        '[providers.claude]\nbase_url = "${env.SURELY_UNSET_1}"\n',
        '[providers.ollama]\nhost = "http://${env.SURELY_UNSET_1}:11434"\n',
        '[providers.claude]\napi_key = "${env.SURELY_UNSET_1}"\n',
        '[router]\nchain = ["ollama", "${env.SURELY_UNSET_1}"]\n',
    ],
    ids=["base_url", "inside-host", "api_key", "chain-item"],
)
def test_an_unset_variable_without_default_is_exit_2(cli_home: Path, text: str) -> None:
    (cli_home / "config.toml").write_text(text)
    run = run_cli(cli_home, "complete", "hi")
    assert_usage_error(run, "SURELY_UNSET_1 is not set", "${env.SURELY_UNSET_1:=default}")


@pytest.mark.parametrize("how", ["--config", "OLLAMA_CLI_CONFIG"])
def test_a_config_that_is_a_directory(cli_home: Path, how: str) -> None:
    folder = cli_home / "conf.d"
    folder.mkdir()
    if how == "--config":
        run = run_cli(cli_home, "--config", str(folder), "complete", "hi")
    else:
        run = run_cli(cli_home, "complete", "hi", OLLAMA_CLI_CONFIG=str(folder))
    assert_usage_error(run, str(folder), "is a directory")


@pytest.mark.parametrize(
    ("content", "needle"),
    [(None, "config file not found"), (b"\xff\xfe[router]\n", "cannot read config")],
    ids=["missing", "not-utf8"],
)
def test_an_explicit_config_that_cannot_be_read(
    cli_home: Path, content: bytes | None, needle: str
) -> None:
    path = cli_home / "given.toml"
    if content is not None:
        path.write_bytes(content)
    assert_usage_error(run_cli(cli_home, "--config", str(path), "complete", "hi"), needle)


def test_a_data_dir_under_a_regular_file_turns_history_off(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    home = blocker / "home"  # mkdir fails with ENOTDIR, even for root
    with OllamaWire() as server:
        config = tmp_path / "config.toml"
        config.write_text(only_ollama(server.url))
        run = run_cli(home, "complete", "hi", OLLAMA_CLI_CONFIG=str(config))
        cont = run_cli(home, "complete", "--continue", "hi", OLLAMA_CLI_CONFIG=str(config))
    assert run.code == 0 and run.stdout == b"Hello from Ollama.\n"
    assert len(run.err_lines) == 1
    assert (
        "history is off for this run" in run.err_lines[0] and "Not a directory" in run.err_lines[0]
    )
    assert cont.code == 2 and "history turned off" in cont.err_lines[-1]


def read_only(home: Path, *args: str, **env: str) -> Run:
    """``ollama-cli ARGS`` with ``home`` bind-mounted read-only in a private namespace."""
    script = 'mount --bind -o ro "$0" "$0" && exec "$@"'
    command = ["unshare", "-m", "sh", "-c", script, str(home), sys.executable, "-m", "ollama_cli"]
    proc = subprocess.run(
        [*command, *args], capture_output=True, env=canary_env(home, **env), cwd=ROOT, timeout=60
    )
    return Run(proc.returncode, proc.stdout, proc.stderr, 0.0)


def test_a_read_only_data_dir_keeps_answering_and_keeps_old_history(
    cli_home: Path, wire: OllamaWire
) -> None:
    if shutil.which("unshare") is None:
        pytest.skip("unshare is not installed")
    probe = subprocess.run(
        ["unshare", "-m", "mount", "--bind", "-o", "ro", "/", "/"], capture_output=True
    )
    if probe.returncode != 0:
        pytest.skip("no private mount namespace here (needs CAP_SYS_ADMIN)")
    assert run_cli(cli_home, "complete", "first").code == 0
    before = (cli_home / "history.sqlite3").read_bytes()
    run = read_only(cli_home, "complete", "second")
    assert run.code == 0 and run.stdout == b"Hello from Ollama.\n", run.stderr
    assert run.err_lines == [f"warning: {cli_home} is not writable; history is off for this run"]
    assert (cli_home / "history.sqlite3").read_bytes() == before
    assert [prompt["messages"][-1]["content"] for prompt in wire.chat_bodies()] == [
        "first",
        "second",
    ]


@pytest.mark.parametrize(
    ("table", "line"),
    [
        ("providers.ollama", "timeout = 0"),
        ("providers.ollama", "timeout = -1"),
        ("providers.ollama", "timeout = nan"),
        ("providers.ollama", "connect_timeout = nan"),
        ("router", "max_retry_wait = nan"),
        ("router", "cooldown_seconds = nan"),
    ],
)
def test_a_number_out_of_range_is_exit_2(
    cli_home: Path, wire: OllamaWire, table: str, line: str
) -> None:
    router, provider = (line, "") if table == "router" else ("", line)
    config = cli_home / "config.toml"
    config.write_text(
        f'[router]\nchain = ["ollama"]\nretries = 0\n{router}\n'
        f'[providers.ollama]\nhost = "{wire.url}"\n{provider}\n'
    )
    run = run_cli(cli_home, "complete", "hi")
    assert_usage_error(run, str(config), f"{table}.{line.split()[0]}")
