"""``/file`` in the REPL: what it attaches goes with the next message only; paths complete."""

from __future__ import annotations

import base64
import re
import tempfile
from pathlib import Path

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from ollama_cli.app import UsageError
from ollama_cli.history import HistoryStore
from ollama_cli.repl.completer import ReplCompleter
from ollama_cli.repl.handlers import COMMANDS
from ollama_cli.repl.session import attach_flag_files, sources
from providers.types import Attachment
from tests import media
from tests.repl import CTRL_D, drive, home, make_state, only_ollama, stored_messages
from tests.wire.ollama import OllamaWire


async def test_file_attaches_to_the_next_message_only(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("buy milk\n")
    with OllamaWire() as wire:
        wire.answer(["Milk."]).answer(["Nothing."])
        only_ollama(wire.url)
        keys = f"/file {notes}\rwhat is on my list?\rand now?\r{CTRL_D}"
        out = await drive(make_state(), keys)
    first, second = wire.chat_bodies()
    assert (
        first["messages"][0]["content"] == f"{notes}\n```txt\nbuy milk\n```\n\nwhat is on my list?"
    )
    assert second["messages"][-1] == {"role": "user", "content": "and now?"}
    assert f"attached {notes} (text, 9 B) (sent with your next message)" in out
    assert stored_messages()[0].text.startswith(f"{notes}\n```txt")


async def test_an_image_for_a_model_not_known_to_see_is_not_sent(tmp_path: Path) -> None:
    image = tmp_path / "cat.webp"
    image.write_bytes(media.webp())
    with OllamaWire() as wire:
        only_ollama(wire.url)
        out = await drive(make_state(), f"/file {image}\rwhat is this?\r/file\r{CTRL_D}")
    assert wire.chat_bodies() == []
    assert "unsupported_input: llama3.2 is not known to read images" in out
    assert "nothing attached yet" in out  # sent (and refused) with that message: not pending
    assert stored_messages()[0].attachments[0].media_type == "image/webp"


async def test_file_errors_are_one_line_and_the_session_goes_on(tmp_path: Path) -> None:
    with OllamaWire() as wire:
        wire.answer(["Hi."])
        only_ollama(wire.url)
        out = await drive(make_state(), f"/file {tmp_path}/nope.png\rhello\r{CTRL_D}")
    assert f"{tmp_path}/nope.png: no such file or directory" in out
    assert wire.chat_bodies()[0]["messages"] == [{"role": "user", "content": "hello"}]


async def test_file_completes_paths(tmp_path: Path) -> None:
    (tmp_path / "report.pdf").write_bytes(media.pdf())
    (tmp_path / "reports").mkdir()
    state = make_state()
    completer = ReplCompleter(COMMANDS, sources(state))
    typed = f"/file {tmp_path}/a.png {tmp_path}/rep"
    found = completer.get_completions(Document(typed), CompleteEvent(completion_requested=True))
    assert sorted(c.text for c in found) == ["ort.pdf", "orts"]
    await state.close()


async def test_load_carries_the_images_of_a_stored_conversation() -> None:
    png = Attachment("red.png", "image/png", media.png())
    with HistoryStore(home() / "history.sqlite3") as store:
        cid = store.new_conversation()
        store.add_message(cid, "user", "what colour?", attachments=(png,))
        store.add_message(cid, "assistant", "Red.", provider="ollama", model="llava")
    with OllamaWire(accept_any_model=True) as wire:
        wire.answer(["Brighter."])
        (home() / "config.toml").write_text(
            f'[router]\nchain = ["ollama"]\nretries = 0\n[providers.ollama]\nhost = "{wire.url}"\n'
            'default_model = "llava"\nreads = ["image"]\n'
        )
        out = await drive(make_state(), f"/load {cid}\rand now?\r{CTRL_D}")
    assert "attached red.png (image/png)" in out
    first = wire.chat_bodies()[0]["messages"][0]
    assert first["content"] == "what colour?"
    assert first["images"] == [base64.b64encode(png.data).decode()]


async def test_chat_f_attaches_to_the_first_message(tmp_path: Path) -> None:
    notes = tmp_path / "todo.md"
    notes.write_text("- ship it\n")
    with OllamaWire() as wire:
        wire.answer(["Ship it."])
        only_ollama(wire.url)
        state = make_state("-f", str(notes))
        await attach_flag_files(state)
        await drive(state, f"what is left?\r{CTRL_D}")
    content = wire.chat_bodies()[0]["messages"][0]["content"]
    assert content == f"{notes}\n```md\n- ship it\n```\n\nwhat is left?"


async def test_chat_f_with_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    state = make_state("-f", str(tmp_path / "gone.txt"))
    with pytest.raises(UsageError, match=r"gone\.txt: no such file or directory"):
        await attach_flag_files(state)
    await state.close()


def test_file_in_a_real_terminal_tab_completes_and_attaches() -> None:
    from tests.repl.test_pty import PROMPT, chat, expect, leave

    # A short directory, so the typed line fits the 100-column terminal unwrapped.
    with tempfile.TemporaryDirectory(prefix="att", dir="/tmp") as short:
        tab_completes_and_attaches(Path(short), PROMPT, chat, expect, leave)


def tab_completes_and_attaches(tmp_path: Path, prompt: str, chat, expect, leave) -> None:
    (tmp_path / "quarterly-report.md").write_text("revenue up\n")
    with OllamaWire() as wire:
        wire.answer(["Up."])
        only_ollama(wire.url)
        with chat() as child:
            expect(child, prompt)
            child.send(f"/file {tmp_path}/quart")
            expect(child, "quarterly-report.md")  # the completion menu offers it
            child.send("\t\r")  # Tab takes it: only "quart" was typed
            expect(child, re.escape(f"attached {tmp_path}/quarterly-report.md (text, 11 B)"))
            child.sendline("how was the quarter?")
            expect(child, "Up.")
            expect(child, prompt)
            assert leave(child) == 0
    content = wire.chat_bodies()[0]["messages"][0]["content"]
    assert content.startswith(f"{tmp_path}/quarterly-report.md\n```md\nrevenue up\n```")
