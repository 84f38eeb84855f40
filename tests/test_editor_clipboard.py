"""``complete --edit`` through the real CLI, and the clipboard's two ways: OSC 52 and a
platform command (a real executable on PATH standing in for ``wl-copy``)."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from ollama_cli.clipboard import ClipboardError, code_blocks, copy, osc52
from tests.test_cli import cli, write_config
from tests.wire.ollama import OllamaWire


def appending_editor(tmp: Path, text: str) -> str:
    script = tmp / "editor.py"
    script.write_text(f"import sys\nopen(sys.argv[1], 'a').write({text!r})\n")
    return f"{sys.executable} {script}"


def test_complete_edit_sends_what_was_saved_and_nothing_when_unsaved(
    cli_home: Path, tmp_path: Path
) -> None:
    with OllamaWire() as wire:
        wire.answer(["ok"])
        write_config(
            cli_home, f'[router]\nchain = ["ollama"]\n[providers.ollama]\nhost = "{wire.url}"\n'
        )
        saved = cli(
            cli_home,
            "complete",
            "--edit",
            "start:",
            EDITOR=appending_editor(tmp_path, " more\n"),
            VISUAL="",
        )
        unsaved = cli(cli_home, "complete", "--edit", "start:", EDITOR="true", VISUAL="")
        failing = cli(cli_home, "complete", "--edit", EDITOR="false", VISUAL="")
    assert saved.returncode == 0, saved.stderr
    assert [b["messages"][-1]["content"] for b in wire.chat_bodies()] == ["start: more"]
    assert unsaved.returncode == failing.returncode == 2
    assert b"nothing sent: the editor was closed without saving" in unsaved.stderr
    assert b"Traceback" not in unsaved.stderr + failing.stderr


def test_code_blocks_in_order_without_fences() -> None:
    md = (
        "Intro\n\n```python\nprint(1)\n  x\n```\n\ntext ```inline```\n\n"
        "  ~~~~\ncode2\n  ~~~~\n\n```\nopen"
    )
    assert code_blocks(md) == ["print(1)\n  x\n", "code2\n", "open\n"]
    assert code_blocks("no code") == []


def test_osc52_is_wrapped_for_tmux() -> None:
    assert osc52("hi", {}) == "\x1b]52;c;aGk=\x07"
    assert osc52("hi", {"TMUX": "/tmp/tmux"}) == "\x1bPtmux;\x1b\x1b]52;c;aGk=\x07\x1b\\"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def fake_wl_copy(tmp: Path) -> Path:
    """A ``wl-copy`` that writes what it is given to ``clip.txt``."""
    bin_dir = tmp / "bin"
    bin_dir.mkdir()
    tool = bin_dir / "wl-copy"
    clip = str(tmp / "clip.txt")
    tool.write_text(
        f"#!{sys.executable}\nimport sys\nopen({clip!r}, 'w').write(sys.stdin.read())\n"
    )
    tool.chmod(0o755)
    return bin_dir


def test_not_a_terminal_falls_back_to_the_platform_command(tmp_path: Path) -> None:
    env = {"PATH": str(fake_wl_copy(tmp_path)), "WAYLAND_DISPLAY": "wayland-0", "TERM": "xterm"}
    assert copy("héllo", io.StringIO(), env) == ["wl-copy"]
    assert (tmp_path / "clip.txt").read_text() == "héllo"


def test_a_local_terminal_gets_both_and_ssh_only_osc52(tmp_path: Path) -> None:
    env = {"PATH": str(fake_wl_copy(tmp_path)), "WAYLAND_DISPLAY": "wayland-0", "TERM": "xterm"}
    out = Terminal()
    assert copy("x", out, env) == ["OSC 52", "wl-copy"]
    assert out.getvalue() == "\x1b]52;c;eA==\x07"
    assert copy("x", Terminal(), {**env, "SSH_CONNECTION": "1 2 3 4"}) == ["OSC 52"]


def test_neither_way_is_a_clear_error() -> None:
    with pytest.raises(ClipboardError, match="no clipboard command"):
        copy("x", io.StringIO(), {"PATH": "/nonexistent", "TERM": "xterm"})
