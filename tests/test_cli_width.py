"""Tables and the toolbar fit the terminal: 80 columns by default, full detail with -v/--json."""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import pexpect

from tests import HANG_S
from tests.conftest import subprocess_env
from tests.repl import home
from tests.test_cli import cli, write_config

ROOT = Path(__file__).parents[1]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")


def refused_ollama(cli_home: Path, url: str) -> None:
    write_config(
        cli_home, f'[providers.ollama]\nhost = "{url}"\n[providers.local]\nenabled = false\n'
    )


def test_providers_list_fits_80_columns_and_keeps_the_detail(
    cli_home: Path, refused_url: str
) -> None:
    refused_ollama(cli_home, refused_url)
    out = cli(cli_home, "providers", "list", COLUMNS="80")
    lines = out.stdout.decode().splitlines()
    assert max(len(line) for line in lines) <= 80, "\n".join(lines)
    assert lines[0].split() == ["NAME", "STATUS", "DEFAULT", "MODEL", "DETAIL"]
    # The detail is wrapped, not cut: the whole message is there, over several lines.
    assert f"cannot connect to {refused_url} (connection refused)" in " ".join(
        line[lines[0].index("DETAIL") :].strip() for line in lines
    )
    assert sum(line.startswith(("ollama ", "claude ", "hf ")) for line in lines) == 3


def test_providers_list_verbose_and_json_keep_every_column(
    cli_home: Path, refused_url: str
) -> None:
    refused_ollama(cli_home, refused_url)
    wide = cli(cli_home, "providers", "list", "-v", COLUMNS="80")
    as_json = cli(cli_home, "providers", "list", "--json", COLUMNS="80")
    header = wide.stdout.decode().splitlines()[0]
    assert "KEY ENV VAR" in header and "LATENCY MS" in header and "TYPE" in header
    rows = json.loads(as_json.stdout)
    assert {r["name"]: r["key_env"] for r in rows}["claude"] == "ANTHROPIC_API_KEY"


def test_slash_providers_fits_an_80_column_terminal(refused_url: str) -> None:
    refused_ollama(home(), refused_url)
    child = pexpect.spawn(
        sys.executable,
        ["-m", "ollama_cli", "chat"],
        env=subprocess_env(home(), TERM="xterm-256color", PROMPT_TOOLKIT_NO_CPR="1"),
        cwd=str(ROOT),
        dimensions=(40, 80),
        encoding="utf-8",
        timeout=HANG_S,
    )
    seen = io.StringIO()
    child.logfile_read = seen
    try:
        child.expect(">>>")
        child.sendline("/providers")
        try:
            child.expect(r"local\s+disabled")
        except pexpect.TIMEOUT:
            raise AssertionError(repr(ANSI.sub("", seen.getvalue())[-3000:])) from None
        screen = ANSI.sub("", seen.getvalue())
        table = [line for line in screen.splitlines() if "no_key" in line or "NAME" in line]
        assert table and max(len(line.rstrip()) for line in table) <= 80, table
        assert "KEY ENV VAR" not in screen
        child.sendeof()
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
