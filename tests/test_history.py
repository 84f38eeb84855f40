"""The history store against real SQLite files: what a user of `history` and `--continue`
relies on, what survives a crash, and that a damaged file is reported, never overwritten."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ollama_cli.history import AnswerMeta, HistoryError, HistoryStore, StoredMessage, schema
from ollama_cli.paths import app_paths
from providers.types import Attachment
from tests import media

PNG = Attachment("shots/red.png", "image/png", media.png())


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "history.sqlite3"


@pytest.fixture
def store(db_path: Path) -> Iterator[HistoryStore]:
    with HistoryStore(db_path) as s:
        yield s


def scripted_ids(*ids: str) -> Any:
    it = iter(ids)
    return lambda: next(it)


def one_line_naming(exc: pytest.ExceptionInfo[HistoryError], path: Path) -> str:
    message = str(exc.value)
    assert "\n" not in message
    assert str(path) in message
    return message


def test_round_trip_survives_reopen(db_path: Path) -> None:
    with HistoryStore(db_path) as store:
        cid = store.new_conversation(system_prompt="be brief")
        store.add_message(cid, "user", "What is 2+2?")
        store.add_message(
            cid,
            "assistant",
            "4",
            provider="claude",
            model="claude-sonnet-4-5",
            input_tokens=12,
            output_tokens=1,
            latency_ms=412.4,
            finish_reason="stop",
            attempts=[{"provider": "ollama", "outcome": "unavailable", "elapsed_ms": 2}],
        )
    with HistoryStore(db_path) as store:
        conversation = store.conversation(cid)
        user, answer = store.messages(cid)
    assert conversation.system_prompt == "be brief"
    assert conversation.title == "What is 2+2?"
    assert (user.role, user.text, user.seq, user.interrupted) == ("user", "What is 2+2?", 0, False)
    assert answer == StoredMessage(
        id=answer.id,
        conversation_id=cid,
        seq=1,
        created=answer.created,
        role="assistant",
        text="4",
        provider="claude",
        model="claude-sonnet-4-5",
        input_tokens=12,
        output_tokens=1,
        latency_ms=412,
        finish_reason="stop",
        interrupted=False,
        attempts=[{"provider": "ollama", "outcome": "unavailable", "elapsed_ms": 2}],
    )


def test_history_lives_at_the_app_paths_location(clean_environ: Path) -> None:
    with HistoryStore(app_paths().history_db) as store:
        store.new_conversation()
    assert (clean_environ / "history.sqlite3").is_file()


def test_title_is_first_user_line_shortened_unless_given(store: HistoryStore) -> None:
    long = "\n  Explain   the difference between " + "very " * 20 + "things\nmore"
    cid = store.new_conversation()
    store.add_message(cid, "system", "ignored for the title")
    store.add_message(cid, "user", long)
    store.add_message(cid, "user", "a later question")
    title = store.conversation(cid).title
    assert title is not None and title.startswith("Explain the difference between very")
    assert len(title) <= 60 and title.endswith("…")
    given = store.new_conversation(title="Chosen")
    store.add_message(given, "user", "hello")
    assert store.conversation(given).title == "Chosen"


def test_list_is_newest_first_with_counts_and_last_provider(store: HistoryStore) -> None:
    first = store.new_conversation()
    store.add_message(first, "user", "one")
    second = store.new_conversation()
    store.add_message(second, "user", "two")
    store.add_message(second, "assistant", "2", provider="gemini", model="gemini-2.5-flash")
    store.add_message(first, "assistant", "1", provider="claude", model="claude-sonnet-4-5")
    listed = store.list_conversations()
    assert [c.id for c in listed] == [first, second]
    assert (listed[0].message_count, listed[0].last_provider) == (2, "claude")
    assert (listed[1].title, listed[1].last_model) == ("two", "gemini-2.5-flash")
    assert [c.id for c in store.list_conversations(limit=1)] == [first]


def test_listing_walks_the_index_instead_of_sorting_or_counting(store: HistoryStore) -> None:
    store.new_conversation()
    conn = sqlite3.connect(store.path)
    plan = " ".join(
        row[3]
        for row in conn.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM conversations ORDER BY updated DESC LIMIT 20"
        )
    )
    conn.close()
    assert "conversations_by_updated" in plan
    assert "TEMP B-TREE" not in plan


def test_last_conversation_and_last_provider_model(store: HistoryStore) -> None:
    assert store.last_conversation() is None
    cid = store.new_conversation()
    store.add_message(cid, "user", "hi")
    assert store.last_provider_model(cid) is None
    store.add_message(cid, "assistant", "hello", provider="ollama", model="llama3.2")
    store.add_message(cid, "user", "and?")
    last = store.last_conversation()
    assert last is not None and last.id == cid
    assert store.last_provider_model(cid) == ("ollama", "llama3.2")


def test_resolve_unique_prefix_full_id_and_uppercase(db_path: Path) -> None:
    with HistoryStore(db_path, ids=scripted_ids("ab12cd34", "ab99zz00", "k3v9q2xa")) as store:
        for _ in range(3):
            store.new_conversation()
        assert store.resolve("k") == "k3v9q2xa"
        assert store.resolve("AB1") == "ab12cd34"
        assert store.resolve(" ab99zz00 ") == "ab99zz00"


def test_resolve_ambiguous_and_unknown_prefixes(db_path: Path) -> None:
    with HistoryStore(db_path, ids=scripted_ids("aa000000", "ab000000", "ac000000")) as store:
        for _ in range(3):
            store.new_conversation()
        with pytest.raises(HistoryError, match=r"^'a' matches 3 conversations: be more specific$"):
            store.resolve("a")
        with pytest.raises(HistoryError, match=r"^no conversation matches 'zz'$"):
            store.resolve("zz")
        with pytest.raises(HistoryError, match="no conversation id given"):
            store.resolve("  ")


def test_an_id_clash_draws_a_new_id(db_path: Path) -> None:
    with HistoryStore(db_path, ids=scripted_ids("aaaaaaaa", "aaaaaaaa", "bbbbbbbb")) as store:
        assert store.new_conversation() == "aaaaaaaa"
        assert store.new_conversation() == "bbbbbbbb"


def test_database_is_in_wal_mode_at_the_current_schema(store: HistoryStore) -> None:
    store.open()
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(schema.MIGRATIONS)
    conn.close()


def test_a_version_0_database_is_migrated(db_path: Path) -> None:
    db_path.parent.mkdir()
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE scratch (x)")
    conn.commit()
    conn.close()
    with HistoryStore(db_path) as store:
        cid = store.new_conversation()
        store.add_message(cid, "user", "hi")
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(schema.MIGRATIONS)
    assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 1
    conn.close()


def test_a_version_1_database_gains_the_attachment_tables_and_keeps_its_turns(
    db_path: Path,
) -> None:
    db_path.parent.mkdir()
    old = schema.open_database(db_path, schema.MIGRATIONS[:1])  # as the first release left it
    old.execute(
        "INSERT INTO conversations (id, created, updated, message_count) VALUES ('c1', 0, 0, 1)"
    )
    old.execute(
        "INSERT INTO messages (conversation_id, seq, created, role, text)"
        " VALUES ('c1', 0, 0, 'user', 'old turn')"
    )
    old.close()
    with HistoryStore(db_path) as store:
        assert [m.text for m in store.messages("c1")] == ["old turn"]
        store.add_message("c1", "user", "see", attachments=(PNG,))
        stored = store.messages("c1")[1]
        assert stored.attachments[0].media_type == "image/png"
        assert store.attachments(stored.attachments) == (PNG,)


def test_a_version_1_database_keeps_its_rows_and_gains_role_and_reasoning(db_path: Path) -> None:
    """A history written before roles and reasoning existed: migrated, nothing lost."""
    db_path.parent.mkdir()
    conn = sqlite3.connect(db_path)
    for statement in schema.MIGRATIONS[0]:
        conn.execute(statement)
    conn.execute("INSERT INTO conversations (id, created, updated) VALUES ('old1', 1, 1)")
    conn.execute(
        "INSERT INTO messages (conversation_id, seq, created, role, text)"
        " VALUES ('old1', 1, 1, 'assistant', 'kept')"
    )
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    with HistoryStore(db_path) as store:
        assert store.conversation("old1").role is None
        (message,) = store.messages("old1")
        assert (message.text, message.reasoning) == ("kept", None)


def test_a_new_migration_upgrades_an_existing_database(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with HistoryStore(db_path) as store:
        cid = store.new_conversation()
    extra = ("ALTER TABLE conversations ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0",)
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, extra])
    with HistoryStore(db_path) as store:
        assert store.conversation(cid).id == cid
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(schema.MIGRATIONS)
    assert conn.execute("SELECT pinned FROM conversations").fetchall() == [(0,)]
    conn.close()


def test_a_database_from_a_newer_version_is_refused_untouched(db_path: Path) -> None:
    with HistoryStore(db_path) as store:
        store.new_conversation()
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA user_version = 7")
    conn.close()
    before = db_path.read_bytes()
    with pytest.raises(HistoryError) as exc:
        HistoryStore(db_path).list_conversations()
    known = f"schema version 7, newer than this ollama-cli knows ({len(schema.MIGRATIONS)})"
    assert known in one_line_naming(exc, db_path)
    assert db_path.read_bytes() == before


WRITER = """
import sys, time
from pathlib import Path
from ollama_cli.history import HistoryStore
path, go, shared, name = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
print("ready", flush=True)
while not go.exists():
    time.sleep(0.001)
store = HistoryStore(path)
cid = shared if shared != "-" else store.new_conversation()
for n in range(200):
    store.add_message(cid, "user", f"{name} {n}")
"""


@pytest.mark.parametrize("shared", [False, True], ids=["new-file", "same-conversation"])
def test_two_processes_append_concurrently_without_loss(db_path: Path, shared: bool) -> None:
    cid = "-"
    if shared:
        with HistoryStore(db_path) as store:
            cid = store.new_conversation()
    go = db_path.parent / "go"
    go.parent.mkdir(exist_ok=True)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(db_path), str(go), cid, name],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("left", "right")
    ]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    go.touch()
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert (proc.returncode, err) == (0, "")
    with HistoryStore(db_path) as store:
        conversations = store.list_conversations()
        texts = [m.text for c in conversations for m in store.messages(c.id)]
    assert sorted(texts) == sorted(f"{name} {n}" for name in ("left", "right") for n in range(200))
    assert sum(c.message_count for c in conversations) == 400
    if shared:
        assert [m.seq for m in store.messages(cid)] == list(range(400))
    conn = sqlite3.connect(db_path)  # the two-creators race did not leave it out of WAL
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


KILLED_MID_ANSWER = """
import sys, time
from pathlib import Path
from ollama_cli.history import HistoryStore
store = HistoryStore(Path(sys.argv[1]))
cid = store.new_conversation()
for n in (1, 2):
    store.add_message(cid, "user", f"question {n}")
    store.add_message(cid, "assistant", f"answer {n}", provider="claude", finish_reason="stop")
store.add_message(cid, "user", "question 3")
answer = store.record_answer(cid, provider="claude", model="m", flush_interval=0)
answer.append("the partial ")
answer.append("third answer")
print(cid, flush=True)
time.sleep(60)
"""


def test_sigkill_mid_answer_keeps_finished_turns_and_flags_the_partial(db_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_MID_ANSWER, str(db_path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    cid = proc.stdout.readline().strip()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    with HistoryStore(db_path) as store:
        messages = store.messages(cid)
    assert [(m.role, m.text, m.interrupted) for m in messages] == [
        ("user", "question 1", False),
        ("assistant", "answer 1", False),
        ("user", "question 2", False),
        ("assistant", "answer 2", False),
        ("user", "question 3", False),
        ("assistant", "the partial third answer", True),
    ]


def test_streamed_answer_writes_at_a_bounded_rate_and_finishes_clean(store: HistoryStore) -> None:
    cid = store.new_conversation()
    answer = store.record_answer(cid, provider="ollama", model="llama3.2", flush_interval=3600)
    answer.append("first token")
    for _ in range(50):
        answer.append(" more")
    stored = store.messages(cid)[-1]
    assert (stored.text, stored.interrupted) == ("first token", True)
    answer.switch("claude", "claude-sonnet-4-5")  # a resumed stream: credited to the finisher
    message_id = answer.finish(AnswerMeta(finish_reason="stop", input_tokens=5, output_tokens=51))
    stored = store.messages(cid)[-1]
    assert stored.id == message_id
    assert (stored.text, stored.interrupted) == ("first token" + " more" * 50, False)
    assert (stored.provider, stored.finish_reason, stored.output_tokens) == ("claude", "stop", 51)
    assert store.last_provider_model(cid) == ("claude", "claude-sonnet-4-5")


def test_ctrl_c_keeps_the_partial_answer_flagged(store: HistoryStore) -> None:
    cid = store.new_conversation()
    answer = store.record_answer(cid, provider="ollama", model="llama3.2")
    answer.append("half an")
    answer.finish(AnswerMeta(interrupted=True))
    stored = store.messages(cid)[-1]
    assert (stored.text, stored.interrupted) == ("half an", True)


def test_an_answer_without_tokens_is_stored_only_by_finish(store: HistoryStore) -> None:
    cid = store.new_conversation()
    answer = store.record_answer(cid, provider="codex", model="gpt-5")
    answer.append("")
    assert store.messages(cid) == []
    answer.finish(AnswerMeta(finish_reason="stop"))
    assert [(m.text, m.interrupted) for m in store.messages(cid)] == [("", False)]


class FakeAttempt:
    def to_dict(self) -> dict[str, Any]:
        return {"provider": "hf", "outcome": "auth", "api_key": "sk-canary-123"}


def test_attempts_never_carry_secret_looking_keys(store: HistoryStore) -> None:
    cid = store.new_conversation()
    leaky = {"provider": "claude", "outcome": "ok", "headers": {"x-api-key": "sk-canary-123"}}
    store.add_message(cid, "assistant", "hi", attempts=[FakeAttempt(), leaky])
    assert store.messages(cid)[0].attempts == [
        {"provider": "hf", "outcome": "auth"},
        {"provider": "claude", "outcome": "ok"},
    ]
    assert b"sk-canary-123" not in store.path.read_bytes() + Path(f"{store.path}-wal").read_bytes()


@pytest.mark.parametrize(
    "garbage",
    [os.urandom(4096), b"SQLite format 3\x00" + os.urandom(4080)],
    ids=["random-bytes", "sqlite-header-then-garbage"],
)
def test_a_corrupt_file_is_reported_and_left_untouched(db_path: Path, garbage: bytes) -> None:
    db_path.parent.mkdir()
    db_path.write_bytes(garbage)
    store = HistoryStore(db_path)  # opening is lazy: nothing raised yet
    with pytest.raises(HistoryError) as exc:
        store.add_message("abc", "user", "hi")
    message = one_line_naming(exc, db_path)
    assert "is unreadable" in message and "--no-history" in message
    assert db_path.read_bytes() == garbage
    assert sorted(p.name for p in db_path.parent.iterdir()) == ["history.sqlite3"]


def test_a_directory_in_place_of_the_file_is_reported(db_path: Path) -> None:
    db_path.mkdir(parents=True)
    with pytest.raises(HistoryError) as exc:
        HistoryStore(db_path).open()
    assert "is unreadable (it is a directory)" in one_line_naming(exc, db_path)


def test_an_unusable_data_dir_is_reported(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("a file where the data dir should be")
    db_path = tmp_path / "data" / "history.sqlite3"
    with pytest.raises(HistoryError) as exc:
        HistoryStore(db_path).open()
    assert one_line_naming(exc, db_path).startswith("cannot create history database")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads and writes any file")
def test_permission_problems_are_reported(db_path: Path) -> None:
    with HistoryStore(db_path) as store:
        store.new_conversation()
    db_path.chmod(0o444)
    with pytest.raises(HistoryError) as exc:
        HistoryStore(db_path).open()
    assert "read-only" in one_line_naming(exc, db_path)
    db_path.chmod(0)
    with pytest.raises(HistoryError) as exc:
        HistoryStore(db_path).open()
    assert "unreadable (permission denied)" in one_line_naming(exc, db_path)
    db_path.chmod(0o644)
    db_path.parent.chmod(0o555)
    try:
        with pytest.raises(HistoryError) as exc:
            HistoryStore(db_path).open()
        assert "is in a read-only directory" in one_line_naming(exc, db_path)
        other = db_path.parent / "other.sqlite3"
        with pytest.raises(HistoryError, match="cannot create history database"):
            HistoryStore(other).open()
    finally:
        db_path.parent.chmod(0o755)


def test_search_matches_literally_ignoring_case(store: HistoryStore) -> None:
    cid = store.new_conversation()
    texts = ["100% sure", "100 percent", "snake_case", "snakeXcase", "back\\slash", "SHOUT"]
    for text in texts:
        store.add_message(cid, "user", text)
    assert [m.text for m in store.search("100%")] == ["100% sure"]
    assert [m.text for m in store.search("e_c")] == ["snake_case"]
    assert [m.text for m in store.search("\\")] == ["back\\slash"]
    assert [m.text for m in store.search("shout")] == ["SHOUT"]
    assert [m.text for m in store.search("100")] == ["100 percent", "100% sure"]  # newest first
    assert len(store.search("a", limit=2)) == 2
    assert store.search("nowhere") == []


def fill_exportable(store: HistoryStore) -> str:
    cid = store.new_conversation(system_prompt="Answer in French.")
    store.add_message(cid, "user", "Say hello")
    store.add_message(
        cid,
        "assistant",
        "Bonjour !",
        provider="claude",
        model="claude-sonnet-4-5",
        input_tokens=9,
        output_tokens=3,
        latency_ms=321,
        finish_reason="stop",
    )
    store.add_message(cid, "user", "And goodbye?")
    store.add_message(cid, "assistant", "Au rev", provider="ollama", interrupted=True)
    return cid


def test_markdown_export(store: HistoryStore) -> None:
    cid = fill_exportable(store)
    markdown = store.to_markdown(cid)
    assert markdown.startswith(f"# Say hello\n\n*Conversation `{cid}`, ")
    assert "## System\n\nAnswer in French.\n" in markdown
    assert "## User\n\nSay hello\n\n## Assistant (claude · claude-sonnet-4-5)\n\nBonjour !\n" in (
        markdown
    )
    assert markdown.endswith("## Assistant (ollama)\n\nAu rev\n\n*(interrupted)*\n")


def test_json_export(store: HistoryStore) -> None:
    cid = fill_exportable(store)
    exported = json.loads(json.dumps(store.to_json(cid)))
    assert (exported["format"], exported["id"], exported["title"]) == (1, cid, "Say hello")
    assert exported["system_prompt"] == "Answer in French."
    assert exported["created"].endswith("+00:00")
    user, answer, _, partial = exported["messages"]
    assert user == {"role": "user", "text": "Say hello", "created": user["created"]}
    assert answer["usage"] == {"input_tokens": 9, "output_tokens": 3}
    assert (answer["provider"], answer["latency_ms"], answer["finish_reason"]) == (
        "claude",
        321,
        "stop",
    )
    assert (partial["text"], partial["interrupted"]) == ("Au rev", True)


def test_delete_cascades_to_messages(store: HistoryStore) -> None:
    cid = fill_exportable(store)
    kept = store.new_conversation()
    store.add_message(kept, "user", "keep me")
    store.delete(cid)
    with pytest.raises(HistoryError, match="no conversation matches"):
        store.resolve(cid)
    conn = sqlite3.connect(store.path)
    assert conn.execute("SELECT text FROM messages").fetchall() == [("keep me",)]
    conn.close()
    with pytest.raises(HistoryError, match=f"^no conversation '{cid}'$"):
        store.delete(cid)


def test_unknown_ids_and_roles_are_refused(store: HistoryStore) -> None:
    with pytest.raises(HistoryError, match=r"^no conversation 'nope'$"):
        store.add_message("nope", "user", "hi")
    with pytest.raises(HistoryError, match=r"^no conversation 'nope'$"):
        store.messages("nope")
    with pytest.raises(HistoryError, match=r"^no stored answer 99$"):
        store.update_answer(99, "text")
    cid = store.new_conversation()
    with pytest.raises(ValueError, match="role must be one of"):
        store.add_message(cid, "tool", "hi")
    assert store.list_conversations()[0].message_count == 0


def test_an_attachment_is_stored_once_and_goes_with_its_last_conversation(
    db_path: Path,
) -> None:
    pdf = Attachment("paper.pdf", "application/pdf", media.pdf())
    with HistoryStore(db_path) as store:
        first, second = store.new_conversation(), store.new_conversation()
        store.add_message(first, "user", "look", attachments=(PNG, pdf))
        store.add_message(first, "user", "again", attachments=(PNG,))
        store.add_message(second, "user", "same picture", attachments=(PNG,))
        conn = sqlite3.connect(db_path)
        assert conn.execute("SELECT count(*) FROM attachments").fetchone()[0] == 2
        refs = store.messages(first)[0].attachments
        assert [(r.name, r.media_type, r.size) for r in refs] == [
            ("shots/red.png", "image/png", len(PNG.data)),
            ("paper.pdf", "application/pdf", len(pdf.data)),
        ]
        assert "- attached: shots/red.png (image/png, 69 B)" in store.to_markdown(first)
        store.delete(first)
        assert conn.execute("SELECT count(*) FROM attachments").fetchone()[0] == 1
        store.delete(second)
        assert conn.execute("SELECT count(*) FROM attachments").fetchone()[0] == 0
        conn.close()
