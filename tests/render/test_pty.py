"""Real answers rendered into a real pseudo-terminal: the bytes a terminal receives.

``ollama-cli complete`` runs against a loopback Ollama server that streams the answer token by
token with short pauses, so the renderer paints many frames. The tests replay the bytes
through a small terminal (`tests.render.vt`) and look at them directly: every finished line
is written once (a marker word appears once in the whole byte stream), Ctrl-C and a resize in
mid-answer duplicate nothing, and control sequences from the model are shown, never sent.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pexpect
import pytest

from tests.conftest import subprocess_env
from tests.render.vt import Screen
from tests.repl import home, only_ollama
from tests.wire.loopback import BodyPart, Pause, Reply
from tests.wire.ollama import NDJSON, OllamaWire, chat_line, done_line, ndjson_lines

ROOT = Path(__file__).parents[2]
MARKERS = [f"M{n:02d}x" for n in range(16)]


def marked_answer() -> str:
    """Paragraphs, a list and a code block, with a marker word in each line's worth of text."""
    m = iter(MARKERS)
    words = "the router walks the chain until a provider answers and the renderer shows it"
    paragraph = " ".join(f"{words} {next(m)}" for _ in range(4))
    items = "\n".join(f"- item {next(m)} {words}" for _ in range(4))
    code = "\n".join(f"value_{n} = compute('{next(m)}')" for n in range(4))
    tail = " ".join(f"{words} {next(m)}" for _ in range(4))
    return f"{paragraph}\n\n{items}\n\n```python\n{code}\n```\n\n{tail}\n"


def tokens(text: str) -> list[str]:
    return re.findall(r"\S+\s*|\s+", text)


def streamed(parts: list[str], pause: float = 0.004, hold: float = 0.0) -> Reply:
    """A chat reply streaming ``parts`` with ``pause`` between them (``hold``: then wait)."""
    body: list[BodyPart] = []
    for line in ndjson_lines(chat_line(p) for p in parts):
        body += [line, Pause(pause)]
    if hold:
        body.append(Pause(hold))
    body += ndjson_lines([done_line()])
    return Reply(body=body, content_type=NDJSON)


@contextmanager
def complete(*args: str, rows: int = 40, cols: int = 80, **env: str) -> Iterator[pexpect.spawn]:
    environ = subprocess_env(home(), **{"TERM": "xterm-256color", **env})
    child = pexpect.spawn(
        sys.executable,
        ["-m", "ollama_cli", "--no-fallback", "complete", *args, "question"],
        env=environ,
        cwd=str(ROOT),
        dimensions=(rows, cols),
        encoding="utf-8",
        codec_errors="replace",
        timeout=30,
    )
    try:
        yield child
    finally:
        if child.isalive():
            child.terminate(force=True)
        child.close()


def everything(child: pexpect.spawn) -> str:
    child.expect(pexpect.EOF)
    before: str = child.before
    return before


def assert_each_marker_once(raw: str, markers: list[str]) -> None:
    counts = {m: raw.count(m) for m in markers}
    assert counts == dict.fromkeys(markers, 1)


def test_a_streamed_answer_writes_each_line_once() -> None:
    answer = marked_answer()
    with OllamaWire() as wire:
        wire.reply(streamed(tokens(answer)), path="/api/chat")
        only_ollama(wire.url)
        with complete() as child:
            raw = everything(child)
    assert_each_marker_once(raw, MARKERS)
    screen = Screen().feed(raw)
    assert screen.max_up < 40  # every repaint stays inside the visible screen
    shown = screen.text()
    assert all(shown.count(m) == 1 for m in MARKERS)
    assert "value_3 = compute" in shown and "```" not in shown  # rendered, not raw
    assert raw.count("\x1b[?25l") == raw.count("\x1b[?25h") == 1


def test_ctrl_c_mid_answer_duplicates_nothing() -> None:
    answer = marked_answer()
    half = tokens(answer)[:85]  # into the list, a line left unfinished
    with OllamaWire() as wire:
        wire.reply(streamed(half, hold=30), path="/api/chat")
        only_ollama(wire.url)
        with complete() as child:
            child.expect(re.escape(MARKERS[5]))
            child.sendintr()
            raw = child.before + child.after + everything(child)
            child.close()
            assert child.exitstatus == 130 or child.signalstatus == signal.SIGINT
    shown_markers = [m for m in MARKERS if m in raw]
    assert len(shown_markers) >= 6
    assert_each_marker_once(raw, shown_markers)
    first_line = Screen().feed(raw).text().splitlines()[0]
    assert Screen().feed(raw).text().count(first_line) == 1
    assert raw.rfind("\x1b[?25h") > raw.rfind("\x1b[?25l")  # the cursor is back


def test_a_resize_mid_answer_duplicates_nothing() -> None:
    answer = marked_answer()
    parts = tokens(answer)
    first, rest = parts[:30], parts[30:]
    with OllamaWire() as wire:
        body: list[BodyPart] = []
        for line in ndjson_lines(chat_line(p) for p in first):
            body += [line, Pause(0.004)]
        body.append(Pause(1.0))  # the window is resized while the answer waits here
        for line in ndjson_lines(chat_line(p) for p in rest):
            body += [line, Pause(0.004)]
        body += ndjson_lines([done_line()])
        wire.reply(Reply(body=body, content_type=NDJSON), path="/api/chat")
        only_ollama(wire.url)
        with complete(cols=100) as child:
            child.expect(re.escape(MARKERS[2]))
            child.setwinsize(40, 60)
            raw = child.before + child.after + everything(child)
    assert_each_marker_once(raw, MARKERS)
    shown = Screen().feed(raw).text()
    assert all(shown.count(m) == 1 for m in MARKERS)
    # After the resize, rows are laid out for 60 columns.
    after = shown[shown.index(MARKERS[8]) :]
    assert max(len(line) for line in after.splitlines()) <= 60


ATTACK = (
    "Copy this: \x1b]52;c;cm0gLXJmIH4=\x07 title \x1b]0;pwned\x07 ask \x1b[6n wipe \x1b[2J\x1b[H"
)
SHOWN = "␛]52;c;cm0gLXJmIH4=␇"


@pytest.mark.parametrize("raw_flag", [False, True], ids=["rendered", "raw"])
def test_escape_sequences_from_the_model_are_shown_not_sent(raw_flag: bool) -> None:
    with OllamaWire() as wire:
        wire.reply(streamed(tokens(ATTACK + "\n\nend\n")), path="/api/chat")
        only_ollama(wire.url)
        with complete(*(["--raw"] if raw_flag else [])) as child:
            raw = everything(child)
    for sequence in ("\x1b]52", "\x1b]0;", "\x1b[6n", "\x1b[2J", "\x1b[H", "\x07"):
        assert sequence not in raw
    assert SHOWN in raw and "␛]0;pwned␇" in raw and "␛[6n" in raw
    Screen().feed(raw)  # and nothing but the renderer's own escapes


def test_a_pipe_gets_the_exact_bytes() -> None:
    with OllamaWire() as wire:
        wire.reply(streamed(tokens(ATTACK + "\n")), path="/api/chat")
        only_ollama(wire.url)
        done = subprocess.run(
            [sys.executable, "-m", "ollama_cli", "complete", "question"],
            env=subprocess_env(home(), TERM="xterm-256color"),
            cwd=str(ROOT),
            capture_output=True,
            timeout=30,
        )
    assert done.stdout.decode() == ATTACK + "\n"


def test_an_error_body_with_escapes_is_shown_not_sent() -> None:
    with OllamaWire() as wire:
        wire.fail(500, "overloaded \x1b]0;pwned\x07\x1b[2J", path="/api/chat")
        only_ollama(wire.url)
        with complete() as child:
            raw = everything(child)
    assert "\x1b]0;" not in raw and "\x1b[2J" not in raw
    assert "␛]0;pwned␇␛[2J" in raw


def test_no_color_keeps_the_layout_without_colours() -> None:
    answer = "# Title\n\n- **first** item\n- second item\n\n```python\nx = 1\n```\n"
    with OllamaWire() as wire:
        wire.reply(streamed(tokens(answer)), path="/api/chat")
        only_ollama(wire.url)
        with complete(NO_COLOR="1") as child:
            raw = everything(child)
    shown = Screen().feed(raw).text()
    assert "• first item" in shown and "x = 1" in shown and "```" not in shown
    sgr = re.findall(r"\x1b\[([\d;]*)m", raw)
    assert not [code for code in sgr if re.search(r"(^|;)(3|4|9|10)\d", code)]


def test_a_dumb_terminal_gets_no_escape_at_all() -> None:
    answer = "# Title\n\nSome **bold** text \x1b[31mred\x1b[0m.\n"
    with OllamaWire() as wire:
        wire.reply(streamed(tokens(answer)), path="/api/chat")
        wire.fail(500, "down \x1b[2J", path="/api/chat")
        only_ollama(wire.url)
        with complete(TERM="dumb") as child:
            first = everything(child)
        with complete(TERM="dumb") as child:  # an error line too
            second = everything(child)
    assert "\x1b" not in first + second
    assert "# Title" in first and "␛[31mred␛[0m" in first
    assert "down ␛[2J" in second


def run_on_pty(*args: str, **env: str) -> str:
    environ = subprocess_env(home(), **{"TERM": "xterm-256color", **env})
    child = pexpect.spawn(
        sys.executable,
        ["-m", "ollama_cli", *args],
        env=environ,
        cwd=str(ROOT),
        dimensions=(40, 200),
        encoding="utf-8",
        timeout=30,
    )
    try:
        return everything(child)
    finally:
        child.close()


def test_history_and_model_names_are_shown_not_sent() -> None:
    evil = "\x1b]0;pwned\x07\x1b[2J"
    with OllamaWire(models=[f"llama{evil}:latest"]) as wire:
        wire.reply(streamed(tokens(f"stored {evil} answer\n")), path="/api/chat")
        only_ollama(wire.url)
        subprocess.run(
            [sys.executable, "-m", "ollama_cli", "complete", f"title {evil}"],
            env=subprocess_env(home()),
            cwd=str(ROOT),
            capture_output=True,
            timeout=30,
            check=True,
        )
        models = run_on_pty("models", "list", "-p", "ollama")
    listed = run_on_pty("history", "list")
    cid = listed.split()[0]
    shown = run_on_pty("history", "show", cid)
    found = run_on_pty("history", "search", "stored")
    for output in (models, listed, shown, found):
        assert "\x1b]0;" not in output and "\x1b[2J" not in output
        assert "␛]0;pwned␇␛[2J" in output


def test_the_repl_on_a_dumb_terminal_writes_no_escape() -> None:
    with OllamaWire() as wire:
        wire.reply(streamed(tokens("# Hi\n\nplain **answer**\n")), path="/api/chat")
        only_ollama(wire.url)
        environ = subprocess_env(home(), TERM="dumb")
        child = pexpect.spawn(
            sys.executable,
            ["-m", "ollama_cli", "chat"],
            env=environ,
            cwd=str(ROOT),
            dimensions=(30, 100),
            encoding="utf-8",
            timeout=30,
        )
        try:
            child.expect(">>> ")
            banner = child.before
            child.sendline("question")
            child.expect("answer")
            shown = child.before
            child.expect(">>> ")
            child.sendline("/exit")
            output = shown + child.before + everything(child)
        finally:
            child.close()
    # The banner, the answer and the REPL's own lines carry no escape. Known gap, not ours:
    # building a PromptSession writes "ESC[?12l ESC[?25h" once even when TERM=dumb.
    banner = banner.removeprefix("\x1b[?12l\x1b[?25h")
    assert "/help for commands" in banner
    assert "# Hi\r\n\r\nplain **" in output  # the answer as it came, not rendered
    assert "\x1b" not in banner + output
