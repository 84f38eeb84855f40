"""The habits ``llm``/``aichat`` users bring, in a real pseudo-terminal: roles, aliases
(and, as they land, the editor, copying and reasoning), against a loopback Ollama server."""

from __future__ import annotations

import base64
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pexpect

from tests.conftest import subprocess_env
from tests.repl import home, stored_messages
from tests.repl.test_pty import PROMPT, ROOT, expect, leave
from tests.wire.ollama import OllamaWire


@contextmanager
def chat(**env: str) -> Iterator[pexpect.spawn]:
    """``ollama-cli chat`` on a 100×30 terminal with extra environment variables."""
    child = pexpect.spawn(
        sys.executable,
        ["-m", "ollama_cli", "chat"],
        env=subprocess_env(
            home(), **{"TERM": "xterm-256color", "PROMPT_TOOLKIT_NO_CPR": "1", **env}
        ),
        cwd=str(ROOT),
        dimensions=(30, 100),
        encoding="utf-8",
        timeout=15,
    )
    try:
        yield child
    finally:
        if child.isalive():
            child.terminate(force=True)
        child.close()


def config_with(url: str, extra: str) -> None:
    (home() / "config.toml").write_text(
        f'[router]\nchain = ["ollama"]\nretries = 0\n[providers.ollama]\nhost = "{url}"\n' + extra
    )


def test_role_switches_system_prompt_and_model_and_is_stored() -> None:
    from ollama_cli.history import HistoryStore

    with OllamaWire(accept_any_model=True) as wire:
        wire.answer(["plain"]).answer(["in verse"])
        config_with(wire.url, '[roles.poet]\nsystem = "Answer in verse."\nmodel = "fast"\n'
                    '[aliases]\nfast = "ollama/qwen3:8b"\n')  # fmt: skip
        with chat() as child:
            expect(child, PROMPT)
            child.sendline("hi")
            expect(child, "plain")
            child.sendline("/role poet")
            expect(child, r"role: poet \(ollama · qwen3:8b\)")
            child.sendline("and now?")
            expect(child, "in verse")
            expect(child, PROMPT)
            child.sendline("/role nobody")
            expect(child, "unknown role 'nobody'")
            expect(child, PROMPT)
            assert leave(child) == 0
    first, second = wire.chat_bodies()
    assert first["model"] == "llama3.2" and first["messages"][0]["role"] == "user"
    assert second["model"] == "qwen3:8b"
    assert second["messages"][0] == {"role": "system", "content": "Answer in verse."}
    assert [m.text for m in stored_messages()][-1] == "in verse"
    with HistoryStore(home() / "history.sqlite3") as store:
        last = store.last_conversation()
        assert last is not None and last.role == "poet"


def test_model_alias_in_the_repl() -> None:
    with OllamaWire(accept_any_model=True) as wire:
        wire.answer(["ok"])
        config_with(wire.url, '[aliases]\nfast = "qwen3:8b"\n')
        with chat() as child:
            expect(child, PROMPT)
            child.sendline("/model fast")
            expect(child, r"model: qwen3:8b \(provider ollama\)")
            child.sendline("hi")
            expect(child, "ok")
            expect(child, PROMPT)
            assert leave(child) == 0
    assert wire.chat_bodies()[0]["model"] == "qwen3:8b"


def test_reasoning_hidden_by_default_and_shown_dimmed_with_reasoning_on() -> None:
    from tests.test_reasoning import NDJSON, THINKING_ANSWER
    from tests.wire.loopback import Reply

    with OllamaWire() as wire:
        for _ in range(2):
            wire.reply(Reply(body=THINKING_ANSWER, content_type=NDJSON), path="/api/chat")
        config_with(wire.url, "")
        with chat() as child:
            expect(child, PROMPT)
            child.sendline("hi")
            expect(child, r"thought for [\d.]+ s")
            before = child.before
            expect(child, "Hello!")
            expect(child, PROMPT)
            assert "Greet back" not in before
            child.sendline("/reasoning on")
            expect(child, r"reasoning: shown \(dimmed\)")
            child.sendline("again")
            expect(child, "\x1b\\[2mGreet back")  # dimmed, above the answer
            expect(child, r"thought for [\d.]+ s")
            expect(child, "Hello!")
            expect(child, PROMPT)
            assert leave(child) == 0
    messages = stored_messages()
    assert [m.text for m in messages if m.role == "assistant"] == ["Hello!", "Hello!"]
    assert messages[-1].reasoning == "The user greets me.\nGreet back."


def editor_script(tmp: Path, text: str) -> str:
    """An $EDITOR that appends ``text`` to the file it is given (a person typing, then :wq)."""
    script = tmp / "editor.py"
    script.write_text(f"import sys\nopen(sys.argv[1], 'a').write({text!r})\n")
    return f"{sys.executable} {script}"


def test_edit_sends_what_the_editor_saved_and_an_unsaved_editor_sends_nothing(
    tmp_path: Path,
) -> None:
    with OllamaWire() as wire:
        wire.answer(["got it"]).answer(["second"]).answer(["third"])
        config_with(wire.url, "")
        with chat(EDITOR=editor_script(tmp_path, "from the editor\n"), VISUAL="") as child:
            expect(child, PROMPT)
            child.sendline("/edit draft:")
            expect(child, "got it")
            expect(child, PROMPT)
            child.send("typed so far")
            child.send("\x18\x05")  # Ctrl-X Ctrl-E: the same editor on the current input
            expect(child, "second")
            expect(child, PROMPT)
            assert leave(child) == 0
        with chat(EDITOR="true", VISUAL="") as child:  # exits without writing the file
            expect(child, PROMPT)
            child.sendline("/edit")
            expect(child, "nothing sent")
            expect(child, PROMPT)
            child.send("keep me")
            child.send("\x18\x05")
            child.send("\r")
            expect(child, "third")
            expect(child, PROMPT)
            assert leave(child) == 0
    sent = [b["messages"][-1]["content"] for b in wire.chat_bodies()]
    assert sent[:2] == ["draft:from the editor", "typed so farfrom the editor"]
    assert len(sent) == 3 and sent[2] == "keep me"  # the line stayed as typed, sent by Enter


def test_copy_writes_osc52_for_the_answer_and_a_code_block() -> None:
    answer = ["Use this:\n\n```sh\necho one\n```\n\nor\n\n```py\nprint(2)\n```\n"]
    with OllamaWire() as wire:
        wire.answer(answer)
        config_with(wire.url, "")
        with chat(PATH="/nonexistent") as child:  # no clipboard command: OSC 52 only
            expect(child, PROMPT)
            child.sendline("/copy")
            expect(child, "nothing to copy yet")
            child.sendline("show me")
            expect(child, "print")
            expect(child, PROMPT)
            child.sendline("/copy")
            expect(child, r"\x1b\]52;c;([A-Za-z0-9+/=]+)\x07")
            whole = base64.b64decode(child.match.group(1)).decode()
            expect(child, r"copied the last answer \(\d+ characters, OSC 52\)")
            child.sendline("/copy code 2")
            expect(child, r"\x1b\]52;c;([A-Za-z0-9+/=]+)\x07")
            block = base64.b64decode(child.match.group(1)).decode()
            child.sendline("/copy code 3")
            expect(child, "the last answer has 2 code blocks")
            expect(child, PROMPT)
            assert leave(child) == 0
    assert whole == answer[0]
    assert block == "print(2)\n"


def test_copy_without_a_terminal_clipboard_or_command_says_so(tmp_path: Path) -> None:
    with OllamaWire() as wire:
        wire.answer(["text"])
        config_with(wire.url, "")
        with chat(PATH="/nonexistent", TERM="dumb") as child:
            expect(child, PROMPT)
            child.sendline("hi")
            expect(child, "text")
            expect(child, PROMPT)
            child.sendline("/copy")
            expect(child, "cannot copy: the output is not a terminal that takes OSC 52")
            expect(child, PROMPT)
            child.sendline("/exit")  # a dumb terminal's prompt reads Ctrl-D as a character
            child.expect(pexpect.EOF)
