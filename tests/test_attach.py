"""Attachments end to end: the real CLI, loopback providers, a real history file.

What a user notices: the image reaches a provider that can read it (and only such a
provider), text files arrive as fenced blocks, ``--continue`` resends the image, the
database keeps one copy, and a file that cannot be attached is one line and exit 2 with
nothing sent.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from ollama_cli.paths import app_paths
from tests import media
from tests.test_cli import cli, write_config
from tests.wire.anthropic import TEST_KEY, AnthropicWire
from tests.wire.loopback import LoopbackServer, Reply
from tests.wire.ollama import OllamaWire


@pytest.fixture
def chain(cli_home: Path, loopback: LoopbackServer) -> Iterator[tuple[OllamaWire, AnthropicWire]]:
    """``ollama`` (llama3.2: not known to read images) first, then ``claude``."""
    claude = AnthropicWire(loopback).answer(["I see red."], always=True)
    with OllamaWire(accept_any_model=True) as ollama:
        write_config(
            cli_home,
            '[router]\nchain = ["ollama", "claude"]\nretries = 0\n'
            f'[providers.ollama]\nhost = "{ollama.url}"\n'
            f'[providers.claude]\nbase_url = "{loopback.url}"\n',
        )
        yield ollama, claude


def run(home: Path, *args: str, stdin: bytes | None = None):
    return cli(home, *args, stdin=stdin, ANTHROPIC_API_KEY=TEST_KEY)


def claude_bodies(claude: AnthropicWire) -> list[dict]:  # type: ignore[type-arg]
    return [r.json() for r in claude.message_requests]


def test_a_provider_that_cannot_read_the_image_is_skipped_and_the_next_answers(
    chain: tuple[OllamaWire, AnthropicWire], cli_home: Path, tmp_path: Path
) -> None:
    ollama, claude = chain
    image = tmp_path / "red.png"
    image.write_bytes(media.png())
    out = run(cli_home, "complete", "--json", "-f", str(image), "what colour is this?")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["provider"] == "claude" and data["text"] == "I see red."
    first, second = data["attempts"]
    assert first["outcome"] == "unsupported_input"
    assert first["error"] == "llama3.2 is not known to read images"
    assert second["outcome"] == "ok" and "kind" not in second  # nothing was tried before it
    assert ollama.chat_bodies() == []  # never sent a prompt it would misread
    stderr = out.stderr.decode()
    assert f"attached {image} (image/png, 69 B)" in stderr
    assert "ollama skipped (llama3.2 is not known to read images) → claude" in stderr
    content = claude_bodies(claude)[-1]["messages"][0]["content"]
    assert content[0]["type"] == "image" and content[0]["source"]["media_type"] == "image/png"
    assert content[-1] == {"type": "text", "text": "what colour is this?"}


def test_continue_resends_the_image_and_the_database_holds_one_copy(
    chain: tuple[OllamaWire, AnthropicWire], cli_home: Path, tmp_path: Path
) -> None:
    _, claude = chain
    image = tmp_path / "shot.jpg"
    image.write_bytes(media.jpeg())
    assert run(cli_home, "complete", "-f", str(image), "describe it").returncode == 0
    # Same picture again under another name, then a plain follow-up.
    copy = tmp_path / "copy.jpg"
    copy.write_bytes(media.jpeg())
    assert run(cli_home, "complete", "-c", "-f", str(copy), "and this one?").returncode == 0
    out = run(cli_home, "complete", "--continue", "which was brighter?")
    assert out.returncode == 0, out.stderr
    messages = claude_bodies(claude)[-1]["messages"]
    images = [b for m in messages if isinstance(m["content"], list) for b in m["content"]]
    sources = [b["source"] for b in images if b["type"] == "image"]
    assert len(sources) == 2 and all(s["media_type"] == "image/jpeg" for s in sources)
    with sqlite3.connect(app_paths({"OLLAMA_CLI_HOME": str(cli_home)}).history_db) as db:
        assert db.execute("SELECT count(*) FROM attachments").fetchone()[0] == 1
        assert db.execute("SELECT count(*) FROM message_attachments").fetchone()[0] == 2
    shown = run(cli_home, "history", "show", last_id(cli_home))
    assert f"- attached: {image} (image/jpeg, 155 B)" in shown.stdout.decode()
    exported = json.loads(
        run(cli_home, "history", "export", "--format", "json", last_id(cli_home)).stdout
    )
    parts = [a for m in exported["messages"] for a in m.get("attachments", [])]
    assert [p["name"] for p in parts] == [str(image), str(copy)]
    assert parts[0]["data"] == parts[1]["data"] != ""


def last_id(home: Path) -> str:
    out = run(home, "history", "list", "--json")
    return str(json.loads(out.stdout)[0]["id"])


def test_text_files_and_directories_go_in_as_fenced_blocks(
    chain: tuple[OllamaWire, AnthropicWire], cli_home: Path, tmp_path: Path
) -> None:
    ollama, _ = chain
    ollama.answer(["ok"])
    project = tmp_path / "proj"
    (project / "src").mkdir(parents=True)
    (project / ".git").mkdir()
    (project / ".gitignore").write_text("build/\n*.log\n")
    (project / "src" / "app.py").write_text("print('hi')\n")
    (project / "README.md").write_text("uses ``` fences\n")
    (project / "debug.log").write_text("noise\n")
    (project / "build").mkdir()
    (project / "build" / "out.txt").write_text("generated\n")
    (project / "logo.png").write_bytes(media.png())
    out = run(cli_home, "complete", "-f", str(project), "review this")
    assert out.returncode == 0, out.stderr
    prompt = ollama.chat_bodies()[-1]["messages"][-1]["content"]
    assert f"{project}/README.md\n````md\nuses ``` fences\n````" in prompt
    assert f"{project}/src/app.py\n```py\nprint('hi')\n```" in prompt
    assert "noise" not in prompt and "generated" not in prompt
    assert prompt.endswith("\n\nreview this")
    assert f"{project}/ (2 files, 28 B; 2 ignored, 1 not text)" in out.stderr.decode()


def test_an_attached_url_is_fetched_and_sniffed(
    chain: tuple[OllamaWire, AnthropicWire], cli_home: Path
) -> None:
    _, claude = chain
    with LoopbackServer() as files:
        # Served as text/plain and named .txt: the content says PDF.
        files.enqueue(Reply(body=media.pdf(), content_type="text/plain"))
        url = files.url + "/paper.txt"
        out = run(cli_home, "complete", "-f", url, "summarise")
    assert out.returncode == 0, out.stderr
    block = claude_bodies(claude)[-1]["messages"][0]["content"][0]
    assert block["type"] == "document" and block["source"]["media_type"] == "application/pdf"


def test_stdin_can_be_the_attachment(
    chain: tuple[OllamaWire, AnthropicWire], cli_home: Path
) -> None:
    _, claude = chain
    out = run(cli_home, "complete", "-f", "-", "what is this?", stdin=media.gif())
    assert out.returncode == 0, out.stderr
    block = claude_bodies(claude)[-1]["messages"][0]["content"][0]
    assert block["source"]["media_type"] == "image/gif"


def test_when_no_provider_can_read_the_part_nothing_is_sent(
    chain: tuple[OllamaWire, AnthropicWire], cli_home: Path, tmp_path: Path
) -> None:
    ollama, claude = chain
    pdf = tmp_path / "paper.pdf"
    pdf.write_bytes(media.pdf())
    out = run(cli_home, "complete", "-p", "ollama", "--no-fallback", "-f", str(pdf), "hi")
    assert out.returncode == 1
    assert "ollama (llama3.2): unsupported_input: ollama cannot send PDFs" in out.stderr.decode()
    assert ollama.chat_bodies() == [] and claude.message_requests == []


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p / "missing.png", "{path}: no such file or directory"),
        (
            lambda p: _write(p / "blob.bin", b"\x00\x01\x02\xff"),
            "{path}: unknown file type (not text, PNG, JPEG, WebP, GIF or PDF)",
        ),
        (
            lambda p: _write(p / "big.txt", b"a" * (1024 * 1024 + 1)),
            "{path}: too large (1.0 MB; the limit for a text file is 1 MB)",
        ),
        (
            lambda p: _many(p / "many", 201),
            "{path}: directory too large (the limit is 200 files and 1 MB of text); "
            "attach a subdirectory or list it in .gitignore",
        ),
        (lambda p: _write(p / "empty" / "x.bin", b"\x00"), "{path}: no text files to attach"),
    ],
    ids=["missing", "unknown-type", "too-large", "directory-over-cap", "no-text"],
)
def test_a_file_that_cannot_be_attached_is_one_line_and_exit_2_with_nothing_sent(
    chain: tuple[OllamaWire, AnthropicWire],
    cli_home: Path,
    tmp_path: Path,
    make,
    expected: str,
) -> None:
    ollama, claude = chain
    path = make(tmp_path)
    if expected.endswith("no text files to attach"):
        path = path.parent
    out = run(cli_home, "complete", "-f", str(path), "hi")
    assert out.returncode == 2
    assert out.stderr.decode() == f"ollama-cli: {expected.format(path=path)}\n"
    assert out.stdout == b""
    assert ollama.chat_bodies() == [] and claude.message_requests == []
    assert not (app_paths({"OLLAMA_CLI_HOME": str(cli_home)}).history_db).exists()


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _many(path: Path, count: int) -> Path:
    path.mkdir()
    for i in range(count):
        (path / f"f{i:03}.txt").write_text("x\n")
    return path


def test_a_provider_declared_to_read_images_is_sent_them(cli_home: Path, tmp_path: Path) -> None:
    image = tmp_path / "red.png"
    image.write_bytes(media.png())
    with OllamaWire(accept_any_model=True) as ollama:
        ollama.answer(["A red pixel."])
        write_config(
            cli_home,
            '[router]\nchain = ["vision"]\nretries = 0\n'
            f'[providers.vision]\ntype = "ollama"\nhost = "{ollama.url}"\n'
            'default_model = "llava"\nreads = ["image"]\n',
        )
        out = run(cli_home, "complete", "-f", str(image), "what is it?")
        assert out.returncode == 0, out.stderr
        assert out.stdout == b"A red pixel.\n"
        message = ollama.chat_bodies()[-1]["messages"][-1]
        assert message["content"] == "what is it?"
        assert message["images"] == [base64.b64encode(media.png()).decode()]
        pdf = tmp_path / "a.pdf"
        pdf.write_bytes(media.pdf())
        refused = run(cli_home, "complete", "-f", str(pdf), "and this?")
    assert refused.returncode == 1
    assert "unsupported_input: ollama cannot send PDFs" in refused.stderr.decode()


def test_reads_takes_only_known_part_names(cli_home: Path) -> None:
    write_config(cli_home, '[providers.ollama]\nreads = ["video"]\n')
    out = run(cli_home, "complete", "hi")
    assert out.returncode == 2
    assert (
        "reads" in out.stderr.decode() and 'must be a list of "image", "pdf"' in out.stderr.decode()
    )


def test_a_url_is_shown_and_stored_without_its_credentials_or_query(
    chain: tuple[OllamaWire, AnthropicWire], cli_home: Path
) -> None:
    _, claude = chain
    with LoopbackServer() as files:
        files.enqueue(Reply(body=media.png(), content_type="image/png"))
        host = files.url.removeprefix("http://")
        url = f"http://me:hunter2@{host}/shot.png?X-Amz-Signature=s3cr3t"
        out = run(cli_home, "complete", "-f", url, "what is it?")
        assert files.requests[0].path == "/shot.png?X-Amz-Signature=s3cr3t"
    assert out.returncode == 0, out.stderr
    assert f"attached http://{host}/shot.png (image/png, 69 B)" in out.stderr.decode()
    shown = run(cli_home, "history", "export", "--format", "json", last_id(cli_home)).stdout
    assert b"hunter2" not in shown and b"s3cr3t" not in shown
    assert b"hunter2" not in json.dumps(claude_bodies(claude)).encode()


def test_a_url_over_the_cap_or_failing_is_one_line_and_exit_2(
    chain: tuple[OllamaWire, AnthropicWire], cli_home: Path, refused_url: str
) -> None:
    ollama, claude = chain
    with LoopbackServer() as files:
        files.enqueue(Reply(status=404, body=b"nope", content_type="text/plain"))
        missing = run(cli_home, "complete", "-f", files.url + "/gone.png", "hi")
    assert missing.returncode == 2
    assert missing.stderr.decode() == f"ollama-cli: {files.url}/gone.png: HTTP 404 Not Found\n"
    refused = run(cli_home, "complete", "-f", refused_url + "/a.png", "hi")
    assert refused.returncode == 2
    assert refused.stderr.decode() == (
        f"ollama-cli: {refused_url}/a.png: cannot connect to {refused_url} (connection refused)\n"
    )
    assert ollama.chat_bodies() == [] and claude.message_requests == []
