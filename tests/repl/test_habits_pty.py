"""The habits ``llm``/``aichat`` users bring, in a real pseudo-terminal: roles, aliases
(and, as they land, the editor, copying and reasoning), against a loopback Ollama server."""

from __future__ import annotations

from tests.repl import home, stored_messages
from tests.repl.test_pty import PROMPT, chat, expect, leave
from tests.wire.ollama import OllamaWire


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
