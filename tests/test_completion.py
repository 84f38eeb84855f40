"""``ollama-cli completion``: scripts that parse in their shell and complete what a user types.

bash is always here, so its script is driven for real (``COMP_WORDS`` in, ``COMPREPLY``
out). fish answers ``complete -C`` itself; zsh is driven with its completion builtins
replaced by printers (real zle needs a terminal). Both are skipped where not installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ollama_cli.cli import build_parser, main
from ollama_cli.commands.completion_script import SHELLS, flag_values, script, walk
from tests.conftest import subprocess_env

#: (words typed, the word being completed last) → what must be offered, exactly.
CASES = [
    (
        ["ollama-cli", ""],
        "chat complete providers models roles keys history usage config completion",
    ),
    (["ollama-cli", "pro"], "providers"),
    (["ollama-cli", "history", ""], "list show export rm search"),
    (["ollama-cli", "-p", ""], "ollama claude gemini codex hf local my-vllm"),
    (["ollama-cli", "-p", "claude", "-m", "x", "com"], "complete completion"),
    (["ollama-cli", "models", "list", ""], "ollama claude gemini codex hf local my-vllm"),
    (["ollama-cli", "history", "export", "abc", "--format", ""], "md json"),
    (["ollama-cli", "completion", ""], "bash zsh fish"),
    (["ollama-cli", "complete", "--system", "be brief", "--j"], "--json"),
    (["ollama-cli", "providers", "list", "--t"], "--timeout"),
    (["ollama-cli", "config", "init", "--f"], "--force"),
]
CONFIG = '[providers.my-vllm]\ntype = "openai-compatible"\nbase_url = "http://x/v1"\n'
CONFIG += 'default_model = "m"\n'


@pytest.fixture
def shell_env(tmp_path: Path, cli_home: Path) -> dict[str, str]:
    """An environment where ``ollama-cli`` runs this checkout, with one extra provider."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "ollama-cli"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m ollama_cli "$@"\n')
    shim.chmod(0o755)
    (cli_home / "config.toml").write_text(CONFIG)
    env = subprocess_env(cli_home)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return env


def generated(shell: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["completion", shell]) == 0
    return capsys.readouterr().out


def run_shell(argv: list[str], code: str, env: dict[str, str]) -> str:
    out = subprocess.run([*argv, code], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.mark.parametrize("shell", SHELLS)
def test_every_command_subcommand_and_flag_is_in_the_script(
    shell: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = generated(shell, capsys)
    for node in walk(build_parser()):
        assert node.name in text
        for option in node.options:
            for flag in option.flags:
                assert flag in text
    assert "--providers'" not in text  # the hidden helper is not offered to people


@pytest.mark.parametrize("shell", SHELLS)
def test_the_script_is_valid_in_its_shell(
    shell: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    path = tmp_path / f"completion.{shell}"
    path.write_text(generated(shell, capsys))
    out = subprocess.run([shell, "-n", str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_bash_completes_commands_flags_values_and_provider_names(
    tmp_path: Path, shell_env: dict[str, str]
) -> None:
    path = tmp_path / "completion.bash"
    path.write_text(script("bash", build_parser()))
    lines = [f"source {path}"]
    for words, _ in CASES:
        quoted = " ".join(f"'{w}'" for w in words)
        lines.append(
            f"COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}; COMPREPLY=(); _ollama_cli; "
            'echo "${COMPREPLY[*]}"'
        )
    out = run_shell(["bash", "-c"], "\n".join(lines), shell_env)
    assert out.splitlines() == [expected for _, expected in CASES]


def test_bash_completes_file_names_after_config(tmp_path: Path, shell_env: dict[str, str]) -> None:
    (tmp_path / "my-config.toml").write_text("")
    path = tmp_path / "completion.bash"
    path.write_text(script("bash", build_parser()))
    code = (
        f"source {path}; cd {tmp_path}; COMP_WORDS=(ollama-cli --config my-); COMP_CWORD=2; "
        '_ollama_cli; echo "${COMPREPLY[*]}"'
    )
    assert run_shell(["bash", "-c"], code, shell_env) == "my-config.toml\n"


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_completes_like_bash(tmp_path: Path, shell_env: dict[str, str]) -> None:
    path = tmp_path / "completion.fish"
    path.write_text(script("fish", build_parser()))
    lines = [f"source {path}"]
    for words, _ in CASES:
        line = " ".join(f"'{w}'" if " " in w else w for w in words)
        lines.append(f"complete -C\"{line}\" | string replace -r '\\t.*' '' | string join ' '")
    lines.append("true")  # `string join` exits 1 on a single word; that is no failure
    out = run_shell(["fish", "--no-config", "-c"], "\n".join(lines), shell_env)
    got = [set(line.split()) for line in out.splitlines()]
    assert got == [set(expected.split()) for _, expected in CASES]


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_completes_like_bash(tmp_path: Path, shell_env: dict[str, str]) -> None:
    path = tmp_path / "completion.zsh"
    path.write_text(script("zsh", build_parser()))
    stubs = (
        "compdef() { :; }\n"
        '_describe() { local name=${@[-1]}; print -rn -- "${(@)${(P)name}%%:*} "; }\n'
        'compadd() { [[ $1 == -- ]] && shift; print -rn -- "$* "; }\n'
    )
    lines = [stubs, f"source {path}"]
    for words, _ in CASES:
        quoted = " ".join(f"'{w}'" for w in words)
        lines.append(f"words=({quoted}); CURRENT={len(words)}; _ollama_cli; print")
    out = run_shell(["zsh", "-f", "-c"], "\n".join(lines), shell_env)
    got = [line.split() for line in out.splitlines()]
    # zsh offers every flag and leaves prefix matching to its own matcher.
    for (words, expected), offered in zip(CASES, got, strict=True):
        assert [w for w in offered if w.startswith(words[-1])] == expected.split()


def test_provider_names_come_from_the_config(
    cli_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (cli_home / "config.toml").write_text(CONFIG)
    assert main(["completion", "--providers"]) == 0
    assert capsys.readouterr().out.split() == [
        *["ollama", "claude", "gemini", "codex", "hf", "local"],
        "my-vllm",
    ]


def test_a_broken_config_still_completes_the_built_in_names(
    cli_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (cli_home / "config.toml").write_text("[router]\nbogus = 1\n")
    assert main(["completion", "--providers"]) == 0
    out = capsys.readouterr()
    assert out.out.split() == ["ollama", "claude", "gemini", "codex", "hf", "local"]


def test_no_shell_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion"]) == 2
    assert (
        capsys.readouterr().err == "ollama-cli: which shell? ollama-cli completion bash|zsh|fish\n"
    )


def test_a_flag_takes_a_value_everywhere_or_nowhere() -> None:
    nodes = walk(build_parser())
    valued = flag_values(nodes)
    for node in nodes:
        for option in node.options:
            for flag in option.flags:
                assert (flag in valued) == bool(option.values), (node.path, flag)


def test_generating_a_script_imports_nothing_heavy(cli_home: Path) -> None:
    code = (
        "import sys, contextlib, io\n"
        "from ollama_cli.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['completion', 'bash'])\n"
        "print([m for m in ('httpx', 'rich', 'prompt_toolkit') if m in sys.modules])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env(cli_home)
    )
    assert out.stdout.strip() == "[]", out.stderr
