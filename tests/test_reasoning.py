"""Reasoning through the real CLI and router: shown only as a marker unless asked for,
stored apart from the answer, never sent back, never an answer for failover."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_cli import cli, write_config
from tests.wire.loopback import BodyPart, Reply, Reset
from tests.wire.ollama import OllamaWire

NDJSON = "application/x-ndjson"


def line(content: str = "", thinking: str = "", done: bool = False) -> bytes:
    message = {"role": "assistant", "content": content}
    if thinking:
        message["thinking"] = thinking
    event: dict[str, object] = {"model": "qwen3", "message": message, "done": done}
    if done:
        event |= {"done_reason": "stop", "prompt_eval_count": 3, "eval_count": 5}
    return json.dumps(event).encode() + b"\n"


THINKING_ANSWER: list[BodyPart] = [
    line(thinking="The user greets me."),
    line(thinking="\nGreet back."),
    line("Hello!"),
    line(done=True),
]


def test_reasoning_is_hidden_marked_and_stored_apart(cli_home: Path) -> None:
    with OllamaWire() as wire:
        wire.reply(Reply(body=THINKING_ANSWER, content_type=NDJSON), path="/api/chat")
        wire.reply(Reply(body=THINKING_ANSWER, content_type=NDJSON), path="/api/chat")
        wire.answer(["next"])
        write_config(
            cli_home, f'[router]\nchain = ["ollama"]\n[providers.ollama]\nhost = "{wire.url}"\n'
        )
        hidden = cli(cli_home, "complete", "hi")
        shown = cli(cli_home, "complete", "--show-reasoning", "--json", "hi")
        cid = json.loads(shown.stdout)["conversation_id"]
        follow = cli(cli_home, "complete", "--conversation", cid, "and?")
        stored = json.loads(cli(cli_home, "history", "show", "--json", cid).stdout)
    assert hidden.returncode == 0, hidden.stderr
    assert hidden.stdout == b"Hello!\n"  # stdout is the answer only
    assert b"thought for" in hidden.stderr and b"Greet back" not in hidden.stderr
    data = json.loads(shown.stdout)
    assert data["text"] == "Hello!"
    assert data["reasoning"] == "The user greets me.\nGreet back."
    assert follow.returncode == 0
    # The continued conversation sends the answer back, never the reasoning.
    sent = wire.chat_bodies()[-1]["messages"]
    assert {"role": "assistant", "content": "Hello!"} in sent
    assert all("Greet back" not in m["content"] for m in sent)
    answer = next(m for m in stored["messages"] if m["role"] == "assistant")
    assert (answer["text"], answer["reasoning"]) == ("Hello!", "The user greets me.\nGreet back.")


def test_show_reasoning_to_a_pipe_goes_to_stderr(cli_home: Path) -> None:
    with OllamaWire() as wire:
        wire.reply(Reply(body=THINKING_ANSWER, content_type=NDJSON), path="/api/chat")
        write_config(
            cli_home, f'[router]\nchain = ["ollama"]\n[providers.ollama]\nhost = "{wire.url}"\n'
        )
        out = cli(cli_home, "complete", "--show-reasoning", "hi")
    assert out.stdout == b"Hello!\n"
    assert b"The user greets me.\nGreet back.\nthought for " in out.stderr


def test_a_stream_that_only_thought_then_died_has_shown_no_answer(cli_home: Path) -> None:
    """Failover, not a resume: the backup starts afresh and is not told to 'continue'."""
    with OllamaWire() as first, OllamaWire() as backup:
        died: list[BodyPart] = [line(thinking="Let me think"), line(thinking=" hard…"), Reset()]
        first.reply(Reply(body=died, content_type=NDJSON), path="/api/chat")
        backup.answer(["Fresh answer."])
        write_config(
            cli_home,
            '[router]\nchain = ["ollama", "backup"]\nretries = 0\n'
            f'[providers.ollama]\nhost = "{first.url}"\n'
            f'[providers.backup]\ntype = "ollama"\nhost = "{backup.url}"\n',
        )
        out = cli(cli_home, "complete", "--json", "hi")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert (data["provider"], data["text"]) == ("backup", "Fresh answer.")
    assert [(a["outcome"], a.get("kind", "first")) for a in data["attempts"]] == [
        ("unavailable", "first"),
        ("ok", "fallback"),
    ]
    assert "reasoning" not in data  # the failed attempt's thinking is not the answer's
    assert backup.chat_bodies()[0]["messages"] == [{"role": "user", "content": "hi"}]
