"""The REPL's banner names the provider that will really answer (a pty, loopback servers)."""

from __future__ import annotations

import re

from tests.repl import home, only_ollama, write_config
from tests.repl.test_pty import chat, expect, leave
from tests.wire.loopback import LoopbackServer, Reply, Stall
from tests.wire.ollama import OllamaWire

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")


def banner(child) -> list[str]:
    expect(child, ">>>")
    lines = [line.strip() for line in ANSI.sub("", child.before).splitlines()]
    return [line for line in lines if line]


def test_first_run_without_ollama_or_keys_names_the_local_model(refused_url: str) -> None:
    write_config(
        chain=["ollama", "claude", "gemini", "local"], providers={"ollama": {"host": refused_url}}
    )
    (home() / "config.toml").write_text(
        (home() / "config.toml").read_text() + "[providers.claude]\n[providers.gemini]\n"
    )
    with chat() as child:
        lines = banner(child)
        assert leave(child) == 0
    assert lines[0] == (
        "local · SmolLM2-135M-Instruct — ollama not running, no keys set; /providers"
    )
    assert lines[1] == "/help for commands · Ctrl-D to quit"


def test_a_running_ollama_is_named_plainly() -> None:
    with OllamaWire() as wire:
        only_ollama(wire.url)
        with chat() as child:
            lines = banner(child)
            assert leave(child) == 0
    assert lines[0] == "ollama · llama3.2"
    assert [r.path for r in wire.requests] == ["/api/tags"]


def test_a_provider_that_does_not_answer_in_time_is_named_unchecked(
    loopback: LoopbackServer,
) -> None:
    loopback.enqueue(Reply(before_headers=[Stall()]))
    only_ollama(loopback.url)
    with chat() as child:
        lines = banner(child)  # the prompt comes up anyway
        assert leave(child) == 0
    assert lines[0] == "ollama · llama3.2 (not checked yet)"
