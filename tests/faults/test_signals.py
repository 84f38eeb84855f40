"""Ctrl-C (SIGINT), SIGTERM and SIGHUP while ``complete`` waits: on the connection, mid-stream, in a
retry's sleep and during a hedge. The process must exit 130 / 143 / 129 at once (before whatever
it waited on could end by itself: every wait here lasts WAIT_S or, for the stream, longer
than the whole test), close its connections (the server sees them go), keep the earlier
turn in history, and store a partial answer marked interrupted.

Each case first answers one ``complete`` normally, then interrupts a ``complete
--continue`` of the same conversation.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ollama_cli.history import HistoryStore, StoredMessage
from tests import HANG_S
from tests.faults import finish, run_cli, start_cli, toml_config
from tests.wire.loopback import Reply, Stall
from tests.wire.ollama import OllamaWire, error_reply

#: SIGHUP (the terminal closed) is handled like SIGTERM, with its conventional 128 + 1.
SIGNALS = {
    "SIGINT": (signal.SIGINT, 130),
    "SIGTERM": (signal.SIGTERM, 143),
    "SIGHUP": (signal.SIGHUP, 129),
}
WAIT_S = 30.0  # the providers' timeout and the Retry-After: what only the signal may cut short


@dataclass
class Scene:
    """Two Ollama-type providers, ``first`` then ``second``, in OLLAMA_CLI_HOME."""

    home: Path
    first: OllamaWire
    second: OllamaWire

    def configure(self, **router: object) -> None:
        tables = {
            name: {"type": "ollama", "host": wire.url, "default_model": "m", "timeout": WAIT_S}
            for name, wire in (("first", self.first), ("second", self.second))
        }
        chain = ["first", "second"] if router.get("hedge_after_ms") else ["first"]
        text = toml_config(chain, tables, retries=1, max_retry_wait=2 * WAIT_S, **router)
        (self.home / "config.toml").write_text(text)


@pytest.fixture
def scene(cli_home: Path) -> Iterator[Scene]:
    with OllamaWire(accept_any_model=True) as a, OllamaWire(accept_any_model=True) as b:
        yield Scene(cli_home, a, b)


def until(condition: Callable[[], bool], timeout: float = HANG_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the scene never got there"
        time.sleep(0.01)


def read_until(proc: subprocess.Popen[bytes], needle: bytes, timeout: float = HANG_S) -> bytes:
    """What the process printed on stdout, once it has printed ``needle``."""
    assert proc.stdout is not None
    seen, deadline = b"", time.monotonic() + timeout
    while needle not in seen:
        assert time.monotonic() < deadline, f"never printed {needle!r}: {seen!r}"
        ready, _, _ = select.select([proc.stdout], [], [], 0.05)
        if ready:
            seen += os.read(proc.stdout.fileno(), 65536)
    return seen


def chats(wire: OllamaWire) -> int:
    return len(wire.chat_bodies())


def stage_connect(scene: Scene) -> Callable[[subprocess.Popen[bytes]], bytes]:
    """The server accepts the request and never answers."""
    scene.configure()
    scene.first.reply(Reply(before_headers=[Stall()]), path="/api/chat")

    def wait(proc: subprocess.Popen[bytes]) -> bytes:
        until(lambda: chats(scene.first) == 2)
        return b""

    return wait


def stage_stream(scene: Scene) -> Callable[[subprocess.Popen[bytes]], bytes]:
    """Tokens drip 0.4 s apart (for longer than WAIT_S); the signal comes after the third."""
    scene.configure()
    scene.first.answer([f"word{i} " for i in range(100)], pause=0.4)
    return lambda proc: read_until(proc, b"word2 ")


def retry_sleep(status: int) -> Callable[[Scene], Callable[[subprocess.Popen[bytes]], bytes]]:
    def stage(scene: Scene) -> Callable[[subprocess.Popen[bytes]], bytes]:
        """The first try fails with Retry-After: WAIT_S; the signal comes 0.7 s into the wait."""
        scene.configure()
        retry_after = {"Retry-After": f"{WAIT_S:g}"}
        scene.first.reply(error_reply(status, "busy", **retry_after), path="/api/chat")

        def wait(proc: subprocess.Popen[bytes]) -> bytes:
            until(lambda: chats(scene.first) == 2)
            time.sleep(0.7)
            assert chats(scene.first) == 2, "retried before Retry-After had passed"
            return b""

        return wait

    return stage


def stage_hedge(scene: Scene) -> Callable[[subprocess.Popen[bytes]], bytes]:
    """Neither provider answers; the hedge after 200 ms has both waiting."""
    scene.configure(hedge_after_ms=200)
    for wire in (scene.first, scene.second):
        wire.reply(Reply(before_headers=[Stall()]), path="/api/chat")

    def wait(proc: subprocess.Popen[bytes]) -> bytes:
        until(lambda: chats(scene.first) == 2 and chats(scene.second) == 1)
        return b""

    return wait


STAGES = {
    "connect": stage_connect,
    "stream": stage_stream,
    "retry-sleep-429": retry_sleep(429),
    "retry-sleep-503": retry_sleep(503),
    "hedge": stage_hedge,
}
CASES = [
    pytest.param(
        stage,
        sig,
        id=f"{stage}-{sig}",
    )
    for stage in STAGES
    for sig in SIGNALS
]


def history(home: Path) -> list[StoredMessage]:
    with HistoryStore(home / "history.sqlite3") as store:
        last = store.last_conversation()
        assert last is not None
        return store.messages(last.id)


@pytest.mark.parametrize(("stage", "sig"), CASES)
def test_a_signal_ends_the_turn_promptly_and_keeps_history(
    scene: Scene, stage: str, sig: str
) -> None:
    scene.configure()
    scene.first.answer(["an ", "earlier ", "answer"])
    assert run_cli(scene.home, "complete", "first question").code == 0
    wait = STAGES[stage](scene)
    proc = start_cli(scene.home, "complete", "--continue", "second question")
    try:
        shown = wait(proc)
        signum, status = SIGNALS[sig]
        sent = time.perf_counter()
        proc.send_signal(signum)
        run = finish(proc, budget=60)
    finally:
        if proc.returncode is None:  # the scene failed: do not leave the process behind
            finish(proc, budget=0)
    shown += run.stdout
    assert run.code == status, run.stderr
    assert time.perf_counter() - sent < WAIT_S  # the signal ended it, not the wait's own end
    assert b"Traceback" not in run.stderr
    assert scene.first.wait_closed() and scene.second.wait_closed()
    stored = history(scene.home)
    assert [(m.role, m.text, m.interrupted) for m in stored[:3]] == [
        ("user", "first question", False),
        ("assistant", "an earlier answer", False),
        ("user", "second question", False),
    ]
    if stage == "stream":
        partial = stored[3]
        assert partial.role == "assistant" and partial.interrupted
        assert partial.text == shown.decode() and partial.text.startswith("word0 word1 word2 ")
    else:
        assert all(m.text == "" and m.interrupted for m in stored[3:])
