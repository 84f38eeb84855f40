"""Pairs stay pairs: concurrent ``--continue`` on one conversation never puts a question
away from its answer (each answer is stored right after its own question)."""

from __future__ import annotations

from pathlib import Path

from ollama_cli.history import HistoryStore
from tests.faults import finish, run_cli, start_cli, toml_config
from tests.wire.loopback import LoopbackServer, Pause, Reply, Request
from tests.wire.ollama import NDJSON, chat_line, done_line, ndjson_lines


def echo_slowly(request: Request) -> Reply:
    """Answer "re: <question>" in slow pieces, so concurrent turns overlap."""
    question = request.json()["messages"][-1]["content"]
    lines = ndjson_lines([chat_line("re: "), chat_line(question), done_line(eval_count=2)])
    return Reply(body=[Pause(0.3), lines[0], Pause(0.6), lines[1], lines[2]], content_type=NDJSON)


def test_concurrent_continues_keep_each_answer_after_its_question(cli_home: Path) -> None:
    with LoopbackServer(echo_slowly) as server:
        (cli_home / "config.toml").write_text(
            toml_config(["ollama"], {"ollama": {"host": server.url}}, retries=0)
        )
        assert run_cli(cli_home, "complete", "q0").code == 0
        procs = [start_cli(cli_home, "complete", "--continue", f"q{i}") for i in range(1, 5)]
        runs = [finish(p, 60) for p in procs]
    assert [r.code for r in runs] == [0, 0, 0, 0], [r.stderr for r in runs]
    with HistoryStore(cli_home / "history.sqlite3") as store:
        [conversation] = store.list_conversations()
        messages = store.messages(conversation.id)
    assert len(messages) == 10
    for question, answer in zip(messages[::2], messages[1::2], strict=True):
        assert question.role == "user" and answer.role == "assistant"
        assert answer.text == f"re: {question.text}"
        assert not answer.interrupted
