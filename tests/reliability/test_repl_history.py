"""A database removed under a running REPL: the answers keep coming and keep being stored
(in a new file), never into the deleted one."""

from __future__ import annotations

from pathlib import Path

import pexpect

from ollama_cli.history import HistoryStore
from tests.faults import PROMPT, spawn_chat, toml_config
from tests.wire.ollama import OllamaWire


def test_removing_the_database_mid_session_keeps_the_next_turns(cli_home: Path) -> None:
    db = cli_home / "history.sqlite3"
    with OllamaWire(accept_any_model=True) as wire:
        wire.answer(["first answer"]).answer(["second answer"])
        (cli_home / "config.toml").write_text(
            toml_config(["ollama"], {"ollama": {"host": wire.url}})
        )
        child = spawn_chat(cli_home)
        try:
            child.expect(PROMPT)
            child.sendline("one")
            child.expect("first answer")
            child.expect(PROMPT)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            child.sendline("two")
            child.expect("second answer")
            child.expect(PROMPT)
            child.sendeof()
            child.expect(pexpect.EOF, timeout=10)
        finally:
            child.close(force=True)
    assert db.exists()
    with HistoryStore(db) as store:
        rows = [(m.role, m.text) for c in store.list_conversations() for m in store.messages(c.id)]
    assert ("user", "two") in rows and ("assistant", "second answer") in rows
