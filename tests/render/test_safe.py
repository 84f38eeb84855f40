"""Text from outside cannot drive the terminal: every control sequence is shown, not run."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ollama_cli.render.safe import visible

ATTACKS = {
    "clipboard (OSC 52)": ("\x1b]52;c;cm0gLXJmIH4=\x07", "␛]52;c;cm0gLXJmIH4=␇"),
    "window title (OSC 2)": ("\x1b]2;pwned\x1b\\", "␛]2;pwned␛\\"),
    "title (OSC 0)": ("\x1b]0;x\x07", "␛]0;x␇"),
    "device status query (CSI 6n)": ("\x1b[6n", "␛[6n"),
    "cursor up": ("\x1b[3A", "␛[3A"),
    "screen clear": ("\x1b[2J\x1b[H", "␛[2J␛[H"),
    "8-bit CSI": ("\x9b6n", "␛[6n"),
    "8-bit OSC": ("\x9d52;c;x\x9c", "␛]52;c;x␛\\"),
    "carriage return over text": ("rm -rf ~\rls -la", "rm -rf ~␍ls -la"),
    "backspace": ("ls\x08\x08rm", "ls␈␈rm"),
    "delete": ("a\x7fb", "a␡b"),
}


@pytest.mark.parametrize("attack", ATTACKS.values(), ids=list(ATTACKS))
def test_control_sequences_are_shown_not_executed(attack: tuple[str, str]) -> None:
    text, shown = attack
    assert visible(text) == shown


def test_text_layout_is_kept() -> None:
    text = "# Title\n\n\tindented\r\n- item ✓ 漢字 😀\n"
    assert visible(text) is text


@given(st.text())
def test_no_control_character_survives(text: str) -> None:
    out = visible(text)
    assert not any((ord(c) < 0x20 and c not in "\n\t\r") or 0x7F <= ord(c) < 0xA0 for c in out)
    assert "\r" not in out.replace("\r\n", "")


@given(st.text(), st.text())
def test_chunking_does_not_matter_except_a_split_crlf(left: str, right: str) -> None:
    if not left.endswith("\r"):
        assert visible(left) + visible(right) == visible(left + right)
