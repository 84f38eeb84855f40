"""Bugs are not outages, and a stdout that went away ends quietly.

A bug is simulated in a real ``ollama-cli`` process by making ``complete`` raise before it
does anything (``-c`` wrapper below): exit 70, one line naming the error and the crash
report, a 0600 report with the traceback, nothing of the key anywhere.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults import CANARIES, canary_env, finish, leaks, start_cli
from tests.wire.ollama import OllamaWire

KEY = CANARIES["OLLAMA_API_KEY"]
BUGGY = (
    "import sys, ollama_cli.commands.complete as c\n"
    "def run(app):\n"
    f"    raise RuntimeError('bug while holding {KEY}')\n"
    "c.run = run\n"
    "from ollama_cli.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def buggy(home: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-c", BUGGY, *args],
        capture_output=True,
        env=canary_env(home),
        timeout=60,
    )


def test_a_bug_is_exit_70_with_one_line_and_a_private_crash_report(cli_home: Path) -> None:
    run = buggy(cli_home, "complete", "hi")
    assert run.returncode == 70
    lines = run.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("ollama-cli: internal error: RuntimeError: bug while holding")
    assert "Traceback" not in lines[0] and not leaks(run.stderr)
    report = Path(lines[0].split("crash report: ")[1].split(" (")[0])
    assert report.is_file() and report.is_relative_to(cli_home)
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    assert stat.S_IMODE(report.parent.stat().st_mode) == 0o700
    text = report.read_text()
    assert "Traceback" in text and "RuntimeError" in text and not leaks(text)


def test_a_bug_with_v_shows_the_traceback_redacted(cli_home: Path) -> None:
    run = buggy(cli_home, "-v", "complete", "hi")
    assert run.returncode == 70
    assert b"Traceback" in run.stderr and b"[redacted]" in run.stderr
    assert not leaks(run.stderr)


def test_no_provider_answering_is_still_exit_1(cli_home: Path, refused_url: str) -> None:
    (cli_home / "config.toml").write_text(
        f'[router]\nchain = ["ollama"]\nretries = 0\n[providers.ollama]\nhost = "{refused_url}"\n'
    )
    run = finish(start_cli(cli_home, "complete", "hi"), 30)
    assert run.code == 1 and b"internal error" not in run.stderr


@pytest.fixture
def long_answer(cli_home: Path) -> Iterator[OllamaWire]:
    tokens = [f"word{i} " for i in range(3000)]
    with OllamaWire(accept_any_model=True, default_tokens=tokens) as wire:
        (cli_home / "config.toml").write_text(
            f'[router]\nchain = ["ollama"]\n[providers.ollama]\nhost = "{wire.url}"\n'
        )
        yield wire


def shell(home: Path, command: str) -> subprocess.CompletedProcess[bytes]:
    cli = f"{sys.executable} -m ollama_cli"
    return subprocess.run(
        ["bash", "-c", command.replace("CLI", cli)],
        capture_output=True,
        env=canary_env(home),
        timeout=60,
        cwd=Path(__file__).parents[2],
    )


def test_head_c_5_on_a_long_stream_is_silent_20_times_out_of_20(
    cli_home: Path, long_answer: OllamaWire
) -> None:
    for i in range(20):
        run = shell(cli_home, "CLI complete hi 2>err.txt | head -c 5; cat err.txt >&2")
        assert run.stdout == b"word0", i
        assert run.stderr == b"", (i, run.stderr.decode()[-2000:])
    # The reader leaving is not the provider failing: no cooldown was recorded.
    assert (
        not (cli_home / "state" / "cooldowns.json").exists()
        or "ollama" not in (cli_home / "state" / "cooldowns.json").read_text()
    )


def test_a_closed_stdout_ends_quietly(cli_home: Path, long_answer: OllamaWire) -> None:
    run = shell(cli_home, "CLI complete hi >&-")
    assert run.returncode == 0 and run.stderr == b""


def test_a_full_stdout_is_one_line_not_a_traceback(cli_home: Path, long_answer: OllamaWire) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    run = shell(cli_home, "CLI complete hi >/dev/full")
    assert run.returncode == 1
    assert run.stderr.decode().splitlines() == [
        "ollama-cli: cannot write to stdout (No space left on device)"
    ]
