"""The pipe face of ``complete``: through a real shell pipeline, as a user types it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import subprocess_env
from tests.test_cli import cli, only_ollama
from tests.wire.ollama import OllamaWire


def shell(home: Path, pipeline: str) -> subprocess.CompletedProcess[bytes]:
    """Run a pipeline in sh; ``$OC`` stands for the CLI."""
    command = pipeline.replace("$OC", f"{sys.executable} -m ollama_cli")
    return subprocess.run(
        ["sh", "-c", command], capture_output=True, env=subprocess_env(home), timeout=60
    )


def test_a_reader_that_leaves_early_leaves_stderr_empty(cli_home: Path) -> None:
    with OllamaWire() as wire:
        wire.answer([f"line {n}\n" for n in range(3000)])
        only_ollama(cli_home, wire.url)
        out = shell(cli_home, "$OC complete hi | head -2")
    assert out.stdout.startswith(b"line 0\nline 1\n")
    assert out.stderr == b""


def test_the_cli_exits_0_when_head_leaves(cli_home: Path) -> None:
    with OllamaWire() as wire:
        wire.answer([f"line {n}\n" for n in range(3000)])
        only_ollama(cli_home, wire.url)
        out = subprocess.run(
            ["bash", "-c", f"{sys.executable} -m ollama_cli complete hi | head -1 >/dev/null;"
             " echo ${PIPESTATUS[0]}"],
            capture_output=True, env=subprocess_env(cli_home), timeout=60,
        )  # fmt: skip
    assert out.stdout.strip() == b"0" and out.stderr == b""


def test_an_answer_without_a_final_newline_gets_exactly_one(cli_home: Path) -> None:
    with OllamaWire() as wire:
        wire.answer(["one\n", "two"])
        only_ollama(cli_home, wire.url)
        counted = shell(cli_home, "$OC complete hi | wc -l")
        wire.answer(["one\n", "two"])
        read = shell(cli_home, '$OC complete hi | while read -r line; do echo "[$line]"; done')
    assert counted.stdout.strip() == b"2"
    assert read.stdout == b"[one]\n[two]\n"


def test_an_answer_ending_in_a_newline_is_not_given_another(cli_home: Path) -> None:
    with OllamaWire() as wire:
        wire.answer(["done\n"])
        only_ollama(cli_home, wire.url)
        out = cli(cli_home, "complete", "hi")
        wire.answer(["as json"])
        as_json = cli(cli_home, "complete", "--json", "hi")
    assert out.stdout == b"done\n"
    assert as_json.stdout.endswith(b"}\n") and as_json.stdout.count(b"\n") == 1
