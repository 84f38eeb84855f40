"""``ollama-cli chat`` in a real pseudo-terminal (pexpect), against a loopback Ollama server:
what a person at a terminal sees and what the server receives."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pexpect

from tests import HANG_S
from tests.conftest import subprocess_env
from tests.repl import home, only_ollama, stored_messages, with_backup
from tests.wire.loopback import LoopbackServer, Pause, Reply, Stall
from tests.wire.ollama import NDJSON, OllamaWire, chat_line, ndjson_lines

PROMPT = ">>>"
ROOT = Path(__file__).parents[2]


def spawn(*args: str, cpr: bool = False) -> pexpect.spawn:
    """``ollama-cli chat ARGS`` on a 100×30 terminal. A terminal answers cursor-position
    requests; without ``cpr`` the child is told not to ask (prompt-toolkit's switch)."""
    env = subprocess_env(home(), TERM="xterm-256color")
    if not cpr:
        env["PROMPT_TOOLKIT_NO_CPR"] = "1"
    return pexpect.spawn(
        sys.executable,
        ["-m", "ollama_cli", "chat", *args],
        env=env,
        cwd=str(ROOT),
        dimensions=(30, 100),
        encoding="utf-8",
        timeout=HANG_S,
    )


@contextmanager
def chat(*args: str, cpr: bool = False) -> Iterator[pexpect.spawn]:
    child = spawn(*args, cpr=cpr)
    try:
        yield child
    finally:
        if child.isalive():
            child.terminate(force=True)
        child.close()


def expect(child: pexpect.spawn, pattern: str) -> None:
    """Wait for ``pattern``, answering cursor-position requests as a terminal would."""
    while child.expect([r"\x1b\[6n", pattern]) == 0:
        child.send("\x1b[1;1R")


def until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def leave(child: pexpect.spawn) -> int:
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    status: int = child.exitstatus
    return status


def test_a_two_turn_conversation_then_ctrl_d_exits_0() -> None:
    with OllamaWire() as wire:
        wire.answer(["The answer is ", "**42**."]).answer(["You asked about ", "life."])
        only_ollama(wire.url)
        with chat() as child:
            expect(child, PROMPT)
            child.sendline("what is the answer?")
            expect(child, "42")
            expect(child, PROMPT)
            child.sendline("what did I ask?")
            expect(child, "life")
            expect(child, PROMPT)
            assert leave(child) == 0
    first, second = wire.chat_bodies()
    assert second["messages"] == [
        *first["messages"],
        {"role": "assistant", "content": "The answer is **42**."},
        {"role": "user", "content": "what did I ask?"},
    ]


def test_model_switch_and_retry() -> None:
    with OllamaWire(accept_any_model=True) as wire:
        wire.answer(["first"]).answer(["second"]).answer(["retried"])
        only_ollama(wire.url)
        with chat() as child:
            expect(child, PROMPT)
            child.sendline("hi")
            expect(child, "first")
            child.sendline("/model qwen3:8b")
            expect(child, "model: qwen3:8b")
            child.sendline("again")
            expect(child, "second")
            child.sendline("/retry")
            expect(child, "retried")
            expect(child, PROMPT)
            assert leave(child) == 0
    bodies = wire.chat_bodies()
    assert [b["model"] for b in bodies] == ["llama3.2", "qwen3:8b", "qwen3:8b"]
    assert bodies[2]["messages"] == bodies[1]["messages"]


def test_ctrl_c_mid_answer_stops_it_keeps_it_and_the_session_goes_on() -> None:
    with OllamaWire() as wire:
        # After "two " the server stalls: only Ctrl-C itself can end this answer, so seeing
        # "(interrupted)" proves it acted at once, not at the next token or a timeout.
        one, two = ndjson_lines([chat_line("one "), chat_line("two ")])
        stalled = Reply(body=[one, Pause(0.3), two, Stall()], content_type=NDJSON)
        wire.reply(stalled, path="/api/chat").answer(["next"])
        only_ollama(wire.url)
        with chat() as child:
            expect(child, PROMPT)
            child.sendline("count to five")
            expect(child, "two")
            streams = wire.server.open_connections
            child.sendintr()
            expect(child, r"\(interrupted\)")
            # The stalled server sees its client leave: the socket was closed, not abandoned.
            assert until(lambda: wire.server.open_connections < streams, timeout=HANG_S)
            expect(child, PROMPT)
            child.sendline("go on")
            expect(child, "next")
            expect(child, PROMPT)
            assert leave(child) == 0
    partial = wire.chat_bodies()[1]["messages"][1]
    assert partial == {"role": "assistant", "content": "one two "}
    stored = stored_messages()
    assert [(m.role, m.interrupted) for m in stored] == [
        ("user", False),
        ("assistant", True),
        ("user", False),
        ("assistant", False),
    ]
    assert stored[1].text == partial["content"]


def test_ctrl_c_at_the_prompt_clears_the_line() -> None:
    with OllamaWire() as wire:
        only_ollama(wire.url)
        with chat() as child:
            expect(child, PROMPT)
            child.send("not this")
            expect(child, "this")
            child.sendintr()
            child.sendline("hi")
            expect(child, "Ollama")
            expect(child, PROMPT)
            assert leave(child) == 0
    assert [b["messages"][-1]["content"] for b in wire.chat_bodies()] == ["hi"]


def test_the_toolbar_names_the_provider_that_answered_after_a_fallback(refused_url: str) -> None:
    with OllamaWire() as wire:
        wire.answer(["fallback answer"], prompt_eval_count=9, eval_count=3)
        with_backup(refused_url, wire.url)
        with chat(cpr=True) as child:
            expect(child, "backup · llama3.2 — ollama not running; /providers")
            expect(child, PROMPT)
            child.sendline("hi")
            expect(child, "ollama unreachable → backup")
            expect(child, "fallback answer")
            expect(
                child,
                r"backup · llama3\.2  │  9 in / 3 out tokens · [\d.]+ m?s  │  \$0 · session \$0"
                r"  │  fell back: ollama",
            )
            assert leave(child) == 0


def test_the_prompt_comes_though_a_provider_never_answers() -> None:
    """Start-up waits at most ``ready.READY_WITHIN_S`` on the network: the readiness check
    asks each provider once, and one that accepts and never answers does not hold the
    prompt back. How fast the prompt comes is a goal of bench/repl_startup.py, not
    something a busy machine can assert."""
    with LoopbackServer(lambda request: Reply(before_headers=[Stall()])) as hanging:
        only_ollama(hanging.url)
        with chat() as child:
            expect(child, r"ollama · llama3\.2 \(not checked yet\)")
            expect(child, PROMPT)
            assert [r.path for r in hanging.requests] in ([], ["/api/tags"])
            assert leave(child) == 0
    assert not os.path.exists(home() / "state" / "cooldowns.json")  # a check is no failure


def test_kill_9_during_the_third_turn_loses_nothing_answered() -> None:
    with OllamaWire() as wire:
        wire.answer(["first answer"]).answer(["second answer"])
        wire.answer(["third ", "answer ", "partial "] + ["more "] * 50, pause=0.3)
        only_ollama(wire.url)
        with chat() as child:
            for prompt, answer in (("one", "first answer"), ("two", "second answer")):
                expect(child, PROMPT)
                child.sendline(prompt)
                expect(child, answer)
            expect(child, PROMPT)
            child.sendline("three")
            expect(child, "partial")
            # Killed once the recorder has flushed the partial text (at most every 0.5 s).
            assert until(lambda: "partial" in stored_messages()[-1].text, timeout=HANG_S)
            os.kill(child.pid, 9)
            child.expect(pexpect.EOF)
    messages = stored_messages()
    assert [(m.role, m.interrupted) for m in messages] == [
        ("user", False), ("assistant", False),
        ("user", False), ("assistant", False),
        ("user", False), ("assistant", True),
    ]  # fmt: skip
    assert messages[1].text == "first answer" and messages[3].text == "second answer"
    assert messages[5].text.startswith("third answer partial")
