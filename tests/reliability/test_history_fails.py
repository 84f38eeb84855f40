"""History can fail; the answer cannot. Real SQLite files, a real second process holding
the write lock, a real full file system (a 256 KB tmpfs mounted as home)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ollama_cli.history import HistoryStore
from tests.faults import run_cli, toml_config
from tests.wire.ollama import OllamaWire

ANSWER = [f"token{i} " for i in range(200)]
TEXT = "".join(ANSWER)
WHOLE = TEXT.encode() + b"\n"  # a pipe gets one final newline

LOCKER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
"""


@pytest.fixture
def wire(cli_home: Path) -> Iterator[OllamaWire]:
    with OllamaWire(accept_any_model=True, default_tokens=ANSWER) as server:
        (cli_home / "config.toml").write_text(
            toml_config(["ollama"], {"ollama": {"host": server.url}}, retries=0)
        )
        yield server


def hold_write_lock(db: Path, seconds: float) -> subprocess.Popen[bytes]:
    """Another process in ``BEGIN IMMEDIATE`` on ``db`` for ``seconds``."""
    proc = subprocess.Popen(
        [sys.executable, "-c", LOCKER, str(db), str(seconds)], stdout=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stdout.readline() == b"locked\n"
    return proc


def turns(home: Path) -> list[tuple[str, str]]:
    with HistoryStore(home / "history.sqlite3") as store:
        return [
            (m.role, m.text) for c in store.list_conversations(100) for m in store.messages(c.id)
        ]


def test_a_10_s_write_lock_costs_nothing_of_the_answer_and_the_turn_lands_later(
    cli_home: Path, wire: OllamaWire
) -> None:
    assert run_cli(cli_home, "complete", "first").code == 0  # the database exists
    locker = hold_write_lock(cli_home / "history.sqlite3", 10)
    try:
        run = run_cli(cli_home, "complete", "second", budget=60)
        assert locker.poll() is None, "the lock was released before the run ended"
    finally:
        locker.communicate(timeout=30)
    assert run.code == 0, run.stderr
    assert run.stdout == WHOLE
    [notice] = run.err_lines
    assert notice.startswith("history: this turn was not saved yet (")
    assert "database is locked" in notice and "added on the next run" in notice
    # The lock is gone: the next run that opens history adds the kept turn first.
    listed = run_cli(cli_home, "history", "list", "--json")
    assert listed.code == 0 and b"added 1 turn" in listed.stderr
    assert sorted(turns(cli_home)) == sorted(
        [("user", "first"), ("assistant", TEXT), ("user", "second"), ("assistant", TEXT)]
    )
    assert len(json.loads(listed.stdout)) == 2
    assert (cli_home / "history.sqlite3.recovery.jsonl").stat().st_size == 0


def test_a_lock_released_mid_turn_lets_the_turn_land_in_the_same_run(
    cli_home: Path, wire: OllamaWire
) -> None:
    assert run_cli(cli_home, "complete", "first").code == 0
    locker = hold_write_lock(cli_home / "history.sqlite3", 6)
    try:
        run = run_cli(cli_home, "complete", "second", budget=60)
    finally:
        locker.communicate(timeout=30)
    assert run.code == 0 and run.stdout == WHOLE
    # Either the busy timeout outlasted the lock, or the turn was journaled and saved late.
    assert ("user", "second") in turns(cli_home) or b"next run" in run.stderr


@contextlib.contextmanager
def tmpfs(path: Path, size: str = "256k") -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.decode().strip()})")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(folder: Path) -> None:
    """Write until the file system is full."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        with contextlib.suppress(OSError):
            while True:
                os.write(fd, b"\0" * 4096)
    finally:
        os.close(fd)


def test_a_256_kb_home_prints_the_whole_answer_and_says_it_was_not_saved(
    tmp_path: Path,
) -> None:
    big = [f"chunk{i:05d} " * 8 for i in range(4000)]  # ~380 KB: more than the disk holds
    with (
        tmpfs(tmp_path / "small") as home,
        OllamaWire(accept_any_model=True, default_tokens=big) as server,
    ):
        (home / "config.toml").write_text(
            toml_config(["ollama"], {"ollama": {"host": server.url}}, retries=0)
        )
        run = run_cli(home, "complete", "a long one", budget=60)
        assert run.code == 0, run.stderr
        assert run.stdout == "".join(big).encode() + b"\n"
        [notice] = run.err_lines
        assert notice.startswith("history: this turn was not saved (")
        assert "full" in notice or "No space" in notice


def test_a_full_disk_before_the_first_write_still_answers(tmp_path: Path) -> None:
    with (
        tmpfs(tmp_path / "full") as home,
        OllamaWire(accept_any_model=True, default_tokens=ANSWER) as server,
    ):
        (home / "config.toml").write_text(
            toml_config(["ollama"], {"ollama": {"host": server.url}}, retries=0)
        )
        assert run_cli(home, "complete", "fits").code == 0
        fill(home)
        run = run_cli(home, "complete", "does not fit", budget=60)
        assert run.code == 0, run.stderr
        assert run.stdout == WHOLE
        [notice] = run.err_lines
        assert notice.startswith("history: this turn was not saved (")
        assert b"internal error" not in run.stderr
        (home / "filler").unlink()
        assert ("user", "fits") in turns(home)


def test_a_full_disk_on_a_fresh_home_still_answers(tmp_path: Path) -> None:
    with (
        tmpfs(tmp_path / "fresh") as home,
        OllamaWire(accept_any_model=True, default_tokens=ANSWER) as server,
    ):
        (home / "config.toml").write_text(
            toml_config(["ollama"], {"ollama": {"host": server.url}}, retries=0)
        )
        fill(home)
        run = run_cli(home, "complete", "no room at all", budget=60)
        assert run.code == 0, run.stderr
        assert run.stdout == WHOLE
        assert b"internal error" not in run.stderr and b"Traceback" not in run.stderr
        assert any("not saved" in line for line in run.err_lines), run.err_lines


def test_a_journaled_turn_of_a_new_conversation_keeps_its_id_and_system_prompt(
    cli_home: Path, wire: OllamaWire
) -> None:
    db = cli_home / "history.sqlite3"
    db.write_bytes(b"not yet a database" * 10)
    run = run_cli(cli_home, "complete", "--system", "be brief", "kept", budget=60)
    assert run.code == 0 and run.stdout == WHOLE
    db.unlink()  # the user moves the damaged file aside
    again = run_cli(cli_home, "complete", "next")
    assert again.code == 0 and b"added 1 turn" in again.stderr
    with HistoryStore(db) as store:
        convs = store.list_conversations()
        assert len(convs) == 2
        kept = next(c for c in convs if c.title == "kept")
        assert store.conversation(kept.id).system_prompt == "be brief"
        assert [m.role for m in store.messages(kept.id)] == ["user", "assistant"]
