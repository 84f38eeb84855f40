"""Slash commands: the registry (and the /help it generates), then each command as a user
types it into the real loop, against a loopback Ollama server."""

from __future__ import annotations

from pathlib import Path

import pytest

from ollama_cli.repl.handlers import COMMANDS
from ollama_cli.repl.slash import SlashRegistry
from tests.repl import CTRL_D, drive, make_state, only_ollama, stored_messages, with_backup
from tests.wire.ollama import OllamaWire

#: DESIGN.md: "Slash commands at least: …"
REQUIRED = "help provider model models providers system retry clear history load save exit"


async def nothing(state: object, arg: str) -> None:
    pass


def test_help_is_generated_from_the_registry() -> None:
    registry = SlashRegistry()
    registry.command("go", "go somewhere", args="WHERE", aliases=("g",))(nothing)
    registry.command("stop", "stop")(nothing)
    assert registry.help_lines() == [
        "  /go WHERE  go somewhere (also /g)",
        "  /stop      stop",
    ]
    assert registry.find("G") is registry.find("go")
    assert registry.closest("stpo") == "stop"
    with pytest.raises(ValueError, match="/g is declared twice"):
        registry.command("g", "again")(nothing)


def test_every_required_command_is_declared_and_in_help() -> None:
    help_text = "\n".join(COMMANDS.help_lines())
    for name in REQUIRED.split():
        assert COMMANDS.find(name) is not None
        assert f"/{name}" in help_text
    assert {COMMANDS.find(a) for a in ("exit", "bye", "quit")} == {COMMANDS.find("exit")}


async def test_help_lists_commands_and_keys(refused_url: str) -> None:
    only_ollama(refused_url)
    out = await drive(make_state(), f"/help\r{CTRL_D}")
    assert "  /retry [PROVIDER]" in out
    assert "Esc+Enter" in out and '"""' in out


async def test_an_unknown_command_gets_the_closest_match(refused_url: str) -> None:
    only_ollama(refused_url)
    out = await drive(make_state(), f"/mdoel x\r/zzzz\r{CTRL_D}")
    assert "unknown command /mdoel; did you mean /model? (/help lists them)" in out
    assert "unknown command /zzzz (/help lists them)" in out


@pytest.mark.parametrize("command", ["/exit", "/bye", "/quit"])
async def test_exit_leaves_without_reading_further(refused_url: str, command: str) -> None:
    only_ollama(refused_url)
    state = make_state()
    out = await drive(state, f"{command}\rhi\r")  # no Ctrl-D: nothing after /exit is read
    assert "unavailable" not in out


async def test_model_switch_applies_to_the_next_request() -> None:
    with OllamaWire(accept_any_model=True) as wire:
        only_ollama(wire.url)
        state = make_state()
        out = await drive(state, f"one\r/model qwen3:8b\rtwo\r/model\r{CTRL_D}")
    assert [b["model"] for b in wire.chat_bodies()] == ["llama3.2", "qwen3:8b"]
    assert "model: qwen3:8b (provider ollama)" in out


async def test_provider_switch_is_validated_and_applies_to_the_next_request(
    refused_url: str,
) -> None:
    with OllamaWire() as wire:
        with_backup(refused_url, wire.url)
        state = make_state()
        out = await drive(state, f"/provider nope\r/provider backup\rhi\r{CTRL_D}")
    assert "unknown provider 'nope' (known: " in out
    assert state.provider == "backup"
    assert "ollama unreachable" not in out  # backup was asked first
    assert len(wire.chat_bodies()) == 1


async def test_provider_without_key_says_answers_will_fall_back(refused_url: str) -> None:
    only_ollama(refused_url)
    out = await drive(make_state(), f"/provider claude\r{CTRL_D}")
    assert "claude: ANTHROPIC_API_KEY is not set; answers will come from the next provider" in out


async def test_models_lists_with_current_and_default_marked() -> None:
    with OllamaWire(models=["llama3.2:latest", "qwen3:8b"]) as wire:
        only_ollama(wire.url)
        out = await drive(make_state("-m", "qwen3:8b"), f"/models\r{CTRL_D}")
    assert "  llama3.2:latest  (default)\n* qwen3:8b  (current)\n" in out


async def test_models_of_an_unreachable_provider_is_one_line(refused_url: str) -> None:
    only_ollama(refused_url)
    out = await drive(make_state(), f"/models\r{CTRL_D}")
    assert "ollama: cannot connect to " in out


async def test_providers_prints_the_health_table(refused_url: str) -> None:
    with OllamaWire() as wire:
        with_backup(refused_url, wire.url)
        out = await drive(make_state(), f"/providers\r{CTRL_D}")
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("NAME  "))
    status = lines[header].split().index("STATUS")  # the columns shown depend on the width
    rows = {
        line.split()[0]: line.split()[status]
        for line in lines[header + 1 : header + 12]
        if line[:1].strip()  # not a wrapped detail's continuation
    }
    assert rows["ollama"] == "unreachable" and rows["backup"] == "ok"
    assert rows["claude"] == "no_key"


async def test_system_prompt_show_set_and_clear() -> None:
    with OllamaWire() as wire:
        only_ollama(wire.url)
        keys = f"/system\r/system be brief\r/system\rhi\r/system clear\rhi again\r{CTRL_D}"
        out = await drive(make_state("--system", "start"), keys)
    assert "system: start" in out and "system: be brief" in out
    first, second = wire.chat_bodies()
    assert first["messages"][0] == {"role": "system", "content": "be brief"}
    assert second["messages"][0]["role"] == "user"


async def test_retry_replaces_the_last_answer_in_the_context() -> None:
    with OllamaWire() as wire:
        wire.answer(["first try"]).answer(["second try"]).answer(["ok"])
        only_ollama(wire.url)
        state = make_state()
        await drive(state, f"hi\r/retry\rthanks\r{CTRL_D}")
    bodies = wire.chat_bodies()
    assert bodies[1]["messages"] == [{"role": "user", "content": "hi"}]
    assert [m["content"] for m in bodies[2]["messages"]] == ["hi", "second try", "thanks"]


async def test_retry_with_a_provider_asks_that_one(refused_url: str) -> None:
    with OllamaWire() as wire:
        wire.answer(["from ollama"]).answer(["from backup"])
        with_backup(wire.url, wire.url)
        state = make_state()
        await drive(state, f"hi\r/retry backup\r/retry nope\r{CTRL_D}")
    assert state.last is not None and state.last.provider == "backup"
    assert state.conversation.messages[-1].content == "from backup"
    assert len(wire.chat_bodies()) == 2


async def test_retry_after_a_failure_resends_the_unanswered_message(refused_url: str) -> None:
    only_ollama(refused_url)
    state = make_state()
    out = await drive(state, f"/retry\rhi\r/retry\r{CTRL_D}")
    assert "nothing to retry yet" in out
    assert out.count("ollama (llama3.2): unavailable") == 2
    assert state.conversation.messages == []


async def test_clear_starts_a_new_conversation() -> None:
    with OllamaWire() as wire:
        only_ollama(wire.url)
        state = make_state()
        await drive(state, f"hi\r/clear\rhello\r{CTRL_D}")
    assert wire.chat_bodies()[1]["messages"] == [{"role": "user", "content": "hello"}]
    assert [m.text for m in stored_messages()] == ["hello", "Hello from Ollama."]


async def test_history_and_load_continue_an_old_conversation() -> None:
    with OllamaWire() as wire:
        wire.answer(["Paris."]).answer(["About 2 million."])
        only_ollama(wire.url)
        first = make_state()
        await drive(first, f"capital of France?\r{CTRL_D}")
        cid = first.conversation.id
        assert cid is not None
        state = make_state()
        out = await drive(state, f"/history\r/load {cid[:4]}\rpopulation?\r{CTRL_D}")
    assert f"  {cid}  " in out and "capital of France?" in out
    assert ">>> capital of France?\nParis." in out
    assert f"loaded {cid}: 2 messages" in out
    assert [m["content"] for m in wire.chat_bodies()[1]["messages"]] == [
        "capital of France?",
        "Paris.",
        "population?",
    ]
    assert state.conversation.id == cid


async def test_load_of_an_unknown_id_is_one_line(refused_url: str) -> None:
    only_ollama(refused_url)
    out = await drive(make_state(), f"/load zzzz\r/load\r{CTRL_D}")
    assert "no conversation matches 'zzzz'" in out
    assert "usage: /load ID" in out


@pytest.mark.parametrize("history", [True, False])
async def test_save_writes_markdown(tmp_path: Path, history: bool) -> None:
    target = tmp_path / "chat.md"
    with OllamaWire() as wire:
        wire.answer(["**Hi**"])
        only_ollama(wire.url)
        state = make_state() if history else make_state("--no-history")
        out = await drive(state, f"hello\r/save {target}\r/save {tmp_path}\r{CTRL_D}")
    text = target.read_text()
    assert "## User\n\nhello\n" in text
    assert "**Hi**" in text
    assert f"saved 2 messages to {target}" in out
    assert f"cannot write {tmp_path}: Is a directory" in out


async def test_save_never_overwrites_without_force(tmp_path: Path) -> None:
    target = tmp_path / "notes.md"
    target.write_text("my notes\n")
    with OllamaWire() as wire:
        wire.answer(["Hi"])
        only_ollama(wire.url)
        out = await drive(make_state(), f"hello\r/save {target}\r{CTRL_D}")
        assert target.read_text() == "my notes\n"
        assert f"{target} exists; /save {target} --force overwrites it" in out
        forced = await drive(make_state("-c"), f"/save {target} --force\r{CTRL_D}")
    assert "## User\n\nhello\n" in target.read_text()
    assert f"saved 2 messages to {target}" in forced


async def test_models_honours_its_provider_argument(refused_url: str) -> None:
    with OllamaWire(models=["qwen3:8b", "llama3.2:latest"]) as backup:
        with_backup(refused_url, backup.url)
        out = await drive(make_state(), f"/models backup\r/models bakup\r{CTRL_D}")
    # backup's models (at its default model), not the current provider's connection error
    assert "* llama3.2:latest  (current, default)\n  qwen3:8b\n" in out
    assert "cannot connect" not in out
    assert "unknown provider 'bakup' (known: " in out and "; did you mean backup?" in out
