"""The REPL loop driven through a real PromptSession (pipe input, dummy output) against a
loopback Ollama server: turns, multi-line input, Ctrl-C and Ctrl-D, input history,
completion, the toolbar, and what starting the REPL must not import."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from ollama_cli.repl import build_session, repl_loop
from ollama_cli.repl.completer import ReplCompleter
from ollama_cli.repl.handlers import COMMANDS
from ollama_cli.repl.keys import block_is_open, unwrap_block
from ollama_cli.repl.session import handle, input_history, sources
from ollama_cli.repl.state import LastAnswer, SessionCost
from ollama_cli.repl.toolbar import toolbar_text
from providers.types import Message
from tests import HANG_S
from tests.conftest import subprocess_env
from tests.repl import (
    CTRL_C,
    CTRL_D,
    ESC_ENTER,
    UP,
    drive,
    home,
    make_state,
    only_ollama,
    output,
    stored_messages,
    with_backup,
)
from tests.wire.loopback import Pause, Reply, Stall
from tests.wire.ollama import NDJSON, OllamaWire, chat_line, ndjson_lines


async def test_two_turns_the_second_request_carries_the_first() -> None:
    with OllamaWire() as wire:
        wire.answer(["Hel", "lo"]).answer(["Fine", "."])
        only_ollama(wire.url)
        out = await drive(make_state(), f"hi\rhow are you?\r{CTRL_D}")
    first, second = wire.chat_bodies()
    assert first["messages"] == [{"role": "user", "content": "hi"}]
    assert second["messages"] == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": "how are you?"},
    ]
    assert "Hello" in out and "Fine." in out
    assert [(m.role, m.text, m.interrupted) for m in stored_messages()] == [
        ("user", "hi", False),
        ("assistant", "Hello", False),
        ("user", "how are you?", False),
        ("assistant", "Fine.", False),
    ]


async def test_the_greeting_names_provider_and_model_and_help(refused_url: str) -> None:
    only_ollama(refused_url)
    out = await drive(make_state("-m", "qwen3:8b"), CTRL_D)
    assert out.splitlines()[0] == "ollama · qwen3:8b · /help for commands · Ctrl-D to quit"


async def test_escape_enter_inserts_a_newline() -> None:
    with OllamaWire() as wire:
        wire.answer(["ok"])
        only_ollama(wire.url)
        await drive(make_state(), f"line one{ESC_ENTER}line two\r{CTRL_D}")
    assert wire.chat_bodies()[0]["messages"][-1]["content"] == "line one\nline two"


async def test_a_triple_quote_block_spans_lines_until_closed() -> None:
    with OllamaWire() as wire:
        wire.answer(["ok"])
        only_ollama(wire.url)
        await drive(make_state(), f'"""\r  def f():\r      return 1\rexplain"""\r{CTRL_D}')
    content = wire.chat_bodies()[0]["messages"][-1]["content"]
    assert content == "  def f():\n      return 1\nexplain"


@pytest.mark.parametrize(
    ("text", "is_open"),
    [('"""', True), ('"""\nabc', True), ('"""abc"""', False), ('"""\na\n"""', False), ("a", False)],
)
def test_block_is_open(text: str, is_open: bool) -> None:
    assert block_is_open(text) is is_open


@pytest.mark.parametrize(
    ("text", "message"),
    [('"""hi"""', "hi"), ('"""\n  a\nb\n"""', "  a\nb"), ("plain", "plain"), ('""""""', "")],
)
def test_unwrap_block(text: str, message: str) -> None:
    assert unwrap_block(text) == message


async def test_ctrl_c_at_the_prompt_clears_the_line() -> None:
    with OllamaWire() as wire:
        wire.answer(["ok"])
        only_ollama(wire.url)
        await drive(make_state(), f"never sent{CTRL_C}hi\r{CTRL_D}")
    assert [b["messages"][-1]["content"] for b in wire.chat_bodies()] == ["hi"]


async def test_ctrl_d_leaves_at_once(refused_url: str) -> None:
    only_ollama(refused_url)
    state = make_state()
    out = await drive(state, f"{CTRL_D}hi\r")
    assert "unavailable" not in out
    assert state.conversation.messages == []


async def test_input_history_is_kept_across_sessions() -> None:
    with OllamaWire() as wire:
        wire.answer(["one"]).answer(["again"])
        only_ollama(wire.url)
        first = make_state()
        await drive(first, f"remember me\r{CTRL_D}", history=input_history(first))
        assert "remember me" in (home() / "repl_history").read_text()
        second = make_state()  # a new session recalls it with Up
        await drive(second, f"{UP}\r{CTRL_D}", history=input_history(second))
    assert [b["messages"][-1]["content"] for b in wire.chat_bodies()] == ["remember me"] * 2


async def test_ctrl_c_mid_answer_keeps_the_partial_answer_marked_interrupted() -> None:
    with OllamaWire() as wire:
        # After "two " the server stalls: nothing but the cancel can end this answer, and
        # no later token can slip in before it however slow the machine.
        one, two = ndjson_lines([chat_line("one "), chat_line("two ")])
        stalled = Reply(body=[one, Pause(0.2), two, Stall()], content_type=NDJSON)
        wire.reply(stalled, path="/api/chat").answer(["next"])
        only_ollama(wire.url)
        state = make_state()
        turn = asyncio.create_task(handle(state, "count"))
        while "two" not in output(state):
            await asyncio.sleep(0.01)
        assert state.busy is not None
        state.busy.cancel()  # what the SIGINT handler does
        assert await asyncio.wait_for(turn, HANG_S) is True
        assert wire.wait_closed()
        assert "(interrupted)" in output(state)
        assert state.conversation.messages[-1] == Message("assistant", "one two ")
        assert state.last is not None and state.last.outcome == "interrupted"
        await handle(state, "go on")
        await state.close()
    assert wire.chat_bodies()[1]["messages"][1] == {"role": "assistant", "content": "one two "}
    roles = [(m.role, m.text, m.interrupted) for m in stored_messages()]
    assert roles[:2] == [("user", "count", False), ("assistant", "one two ", True)]
    assert roles[3] == ("assistant", "next", False)


async def test_when_nothing_answers_the_trace_is_shown_and_the_session_goes_on(
    refused_url: str,
) -> None:
    only_ollama(refused_url)
    state = make_state()
    out = await drive(state, f"hi\r/system\r{CTRL_D}")
    assert "  ollama (llama3.2): unavailable: " in out
    assert "connection refused" in out
    assert "no system prompt" in out  # the next line was still read
    assert state.unanswered == "hi" and state.conversation.messages == []


async def test_the_toolbar_shows_the_provider_that_answered_after_a_fallback(
    refused_url: str,
) -> None:
    with OllamaWire() as wire:
        wire.answer(["from backup"], prompt_eval_count=12, eval_count=34)
        with_backup(refused_url, wire.url)
        state = make_state()
        assert toolbar_text(state).strip() == "ollama · llama3.2"
        out = await drive(state, f"hi\r{CTRL_D}")
    assert "ollama unreachable → backup (llama3.2)" in out  # inline, above the answer
    assert out.index("ollama unreachable") < out.index("from backup")
    text = toolbar_text(state, width=200)
    assert text.startswith(" backup · llama3.2  │  12 in / 34 out tokens · ")
    assert text.endswith("fell back: ollama unreachable → backup (llama3.2)")
    narrow = toolbar_text(state, width=80)  # an 80-column terminal: the notice is cut
    assert len(narrow) == 80 and narrow.endswith("…") and narrow.startswith(text[:60])


def test_toolbar_text_for_each_outcome(refused_url: str) -> None:
    only_ollama(refused_url)
    state = make_state()
    state.last = LastAnswer("ollama", "qwen3:8b", 5, 7, 1250, cost=0.0)
    assert toolbar_text(state) == (
        " ollama · qwen3:8b  │  5 in / 7 out tokens · 1.2 s  │  $0 · session $0"
    )
    state.last = LastAnswer("ollama", "qwen3:8b", 5, 2, 80, "interrupted", cost=0.0)
    assert "5 in / 2 out tokens · 80 ms · interrupted  │  $0" in toolbar_text(state)
    state.last = LastAnswer("gw", "m", None, None, 900, cost=None)
    state.spent = SessionCost(known=0.0512, unknown=1)
    assert toolbar_text(state) == (
        " gw · m  │  ? in / ? out tokens · 900 ms  │  $? · session $0.05 +?"
    )
    state.last = LastAnswer(None, None, 0, 0, 15, "failed")
    assert toolbar_text(state) == " ollama · llama3.2  │  no answer (15 ms)"


def completions(state_sources: ReplCompleter, text: str) -> list[str]:
    found = state_sources.get_completions(Document(text), CompleteEvent(completion_requested=True))
    return [c.text for c in found]


async def test_completion_of_commands_providers_models_and_ids() -> None:
    with OllamaWire(models=["llama3.2:latest", "qwen3:8b"]) as wire:
        only_ollama(wire.url)
        state = make_state()
        completer = ReplCompleter(COMMANDS, sources(state))
        assert completions(completer, "/pro") == ["/provider", "/providers"]
        assert completions(completer, "/q") == ["/quit"]
        assert set(completions(completer, "/provider ")) == {
            "ollama",
            "claude",
            "gemini",
            "codex",
            "hf",
            "local",
        }
        assert completions(completer, "/retry cl") == ["claude"]
        assert completions(completer, "/model ") == []  # not fetched yet: the prompt never waits
        await state.models.wait()
        assert completions(completer, "/model ") == ["llama3.2:latest", "qwen3:8b"]
        assert completions(completer, "/model 8b") == ["qwen3:8b"]
        assert completions(completer, "hello /pro") == []
        assert completions(completer, "/help ") == []
        await state.close()


async def test_model_names_of_an_unreachable_provider_are_just_empty(refused_url: str) -> None:
    only_ollama(refused_url)
    state = make_state()
    assert state.models.get("ollama") == []
    await state.models.wait()
    assert state.models.get("ollama") == []
    assert state.models.get("claude") == []  # no key: not even asked
    await state.models.wait()
    await state.close()


async def test_tab_completes_a_command_through_the_prompt(refused_url: str) -> None:
    only_ollama(refused_url)
    state = make_state()
    with create_pipe_input() as pipe:
        session = build_session(state, input=pipe, output=DummyOutput(), history=InMemoryHistory())
        loop = asyncio.create_task(repl_loop(state, session, signals=False))
        buffer = session.default_buffer
        pipe.send_text("/hel")
        while buffer.complete_state is None:  # completions are computed in the background
            await asyncio.sleep(0.01)
        pipe.send_text("\t")
        while buffer.text != "/help":
            await asyncio.sleep(0.01)
        pipe.send_text(f"\r{CTRL_D}")
        assert await asyncio.wait_for(loop, HANG_S) == 0
    assert "/save FILE" in output(state)


async def test_model_names_are_fetched_once_the_prompt_is_up() -> None:
    with OllamaWire(models=["llama3.2:latest", "qwen3:8b"]) as wire:
        only_ollama(wire.url)
        state = make_state()
        assert state._models is None  # nothing is fetched before the prompt is drawn
        with create_pipe_input() as pipe:
            session = build_session(state, input=pipe, output=DummyOutput())
            loop = asyncio.create_task(repl_loop(state, session, signals=False))
            while not wire.requests:  # started by the prompt's first paint, not by us
                await asyncio.sleep(0.01)
            await state.models.wait()
            pipe.send_text(CTRL_D)
            assert await asyncio.wait_for(loop, HANG_S) == 0
    assert state.models.get("ollama") == ["llama3.2:latest", "qwen3:8b"]
    assert [r.path for r in wire.requests] == ["/api/tags"]


def test_starting_the_repl_imports_no_provider_code(tmp_path: Path) -> None:
    """Up to the prompt, no httpx and no adapter: those cost the first message, not startup."""
    code = """
import sys
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from tests.repl import make_state
from ollama_cli.repl import build_session
from ollama_cli.repl.session import greet
state = make_state()
with create_pipe_input() as pipe:
    build_session(state, input=pipe, output=DummyOutput())
    greet(state)
heavy = ("httpx", "httpx_sse", "llama_cpp", "rich.markdown", "providers.http")
print([m for m in sys.modules if m in heavy or m.startswith("providers.") and m not in (
    "providers.base", "providers.builtins", "providers.errors", "providers.registry",
    "providers.spec", "providers.types")])
"""
    home = tmp_path / "h"
    home.mkdir()
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=subprocess_env(home),
        cwd=Path(__file__).parents[2],
        timeout=HANG_S,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


async def test_continue_picks_up_the_last_conversation() -> None:
    with OllamaWire() as wire:
        wire.answer(["Paris."]).answer(["Lyon."])
        only_ollama(wire.url)
        first = make_state()
        await drive(first, f"capital?\r{CTRL_D}")
        state = make_state("--continue")
        out = await drive(state, f"second city?\r{CTRL_D}")
    assert f"continuing conversation {first.conversation.id} (2 messages)" in out
    assert [m["content"] for m in wire.chat_bodies()[1]["messages"]] == [
        "capital?",
        "Paris.",
        "second city?",
    ]


def test_chat_without_a_terminal_is_a_usage_error(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "ollama_cli", "chat"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=subprocess_env(tmp_path),
        timeout=HANG_S,
    )
    assert out.returncode == 2
    assert out.stderr.startswith("ollama-cli: chat needs a terminal; for piped input use: ")


async def test_verbose_shows_the_trace_after_each_answer(refused_url: str) -> None:
    with OllamaWire() as wire:
        with_backup(refused_url, wire.url)
        out = await drive(make_state("-v"), f"hi\r{CTRL_D}")
    assert "  ollama (llama3.2): unavailable: " in out
    assert "  backup (llama3.2) (fallback): ok [" in out


async def test_an_answer_cut_at_the_length_limit_says_so_in_the_repl() -> None:
    with OllamaWire() as wire:
        wire.answer(["half an answer"], done_reason="length", eval_count=64)
        only_ollama(wire.url)
        out = await drive(make_state(), f"hi\r{CTRL_D}")
    assert out.index("half an answer") < out.index("cut at 64 tokens; ask it to go on")


async def test_the_toolbar_adds_up_what_the_session_cost() -> None:
    with OllamaWire() as wire:
        wire.answer(["one"], prompt_eval_count=1000, eval_count=100)
        wire.answer(["two"], prompt_eval_count=1000, eval_count=100)
        (home() / "config.toml").write_text(
            f'[router]\nchain = ["ollama"]\n[providers.ollama]\nhost = "{wire.url}"\n'
            '[prices."llama3.2"]\ninput = 10.0\noutput = 100.0\n'
        )
        state = make_state()
        await drive(state, f"a\rb\r{CTRL_D}")
    # Each answer: 1000 tokens at $10 and 100 at $100 per million = $0.02.
    assert state.last is not None and state.last.cost == pytest.approx(0.02)
    assert state.spent.known == pytest.approx(0.04) and state.spent.unknown == 0
    text = toolbar_text(state)  # cut to 80 columns: the session's cost is last
    assert "1,000 in / 100 out tokens" in text and "  │  $0.02 · session $0" in text
