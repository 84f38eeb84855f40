"""The attachment loader's pieces on their own: sniffing, fences, ``.gitignore``, caps."""

from __future__ import annotations

from pathlib import Path

import pytest

from ollama_cli.attach import AttachError, load_all
from ollama_cli.attach.fetch import fetch
from ollama_cli.attach.load import fenced, shown_url
from ollama_cli.attach.sniff import media_type
from tests import media
from tests.wire.loopback import LoopbackServer, Pause, Reply


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (media.png(), "image/png"),
        (media.jpeg(), "image/jpeg"),
        (media.gif(), "image/gif"),
        (media.webp(), "image/webp"),
        (media.pdf(), "application/pdf"),
        ("héllo\n".encode(), "text/plain"),
        (b"", "text/plain"),
        (b"\xff\xfe\x00h", None),  # UTF-16: not UTF-8 text, no known magic
        ("héllo".encode("latin-1"), None),
    ],
)
def test_types_come_from_the_content(data: bytes, kind: str | None) -> None:
    assert media_type(data) == kind


async def test_a_misnamed_file_is_sent_as_what_it_is(tmp_path: Path) -> None:
    fake = tmp_path / "photo.png"
    fake.write_bytes(media.jpeg())
    bundle = await load_all([str(fake)])
    assert [p.media_type for p in bundle.parts] == ["image/jpeg"]


def test_the_fence_is_longer_than_any_backtick_run_inside() -> None:
    assert fenced("a.md", "x ```` y") == "a.md\n`````md\nx ```` y\n`````"
    assert fenced("https://h/a.txt", "t\n\n") == "https://h/a.txt\n```\nt\n```"


async def test_nested_gitignores_and_the_repository_root_count(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / ".gitignore").write_text("*.tmp\n")
    pkg = repo / "pkg"
    (pkg / "gen").mkdir(parents=True)
    (pkg / ".gitignore").write_text("gen/\n!keep.tmp\n")
    (pkg / "a.py").write_text("a\n")
    (pkg / "b.tmp").write_text("b\n")
    (pkg / "keep.tmp").write_text("k\n")
    (pkg / "gen" / "c.py").write_text("c\n")
    (pkg / ".env").write_text("SECRET=1\n")
    bundle = await load_all([str(pkg)])  # attached below the repository root
    assert [t.name for t in bundle.texts] == [f"{pkg}/a.py", f"{pkg}/keep.tmp"]


async def test_a_download_stops_at_the_cap() -> None:
    with LoopbackServer() as server:
        # Chunked, so no Content-Length warns ahead: the cap is met while reading.
        server.enqueue(Reply(body=[b"x" * 600, Pause(0.01), b"y" * 600], content_type="text/plain"))
        with pytest.raises(AttachError, match=r"too large \(more than 1 KB; the limit is 1000 B\)"):
            await fetch(server.url + "/big.txt", 1000)
        server.enqueue(Reply(body=b"z" * 5000, content_type="text/plain"))
        with pytest.raises(AttachError, match=r"too large \(5 KB; the limit is 1000 B\)"):
            await fetch(server.url + "/declared.txt", 1000)


def test_a_url_is_shown_without_credentials_or_query() -> None:
    assert (
        shown_url("https://u:p@h.example:8443/a/b.pdf?sig=1#x") == "https://h.example:8443/a/b.pdf"
    )


async def test_a_big_file_is_refused_by_its_kind_without_being_read(tmp_path: Path) -> None:
    log = tmp_path / "huge.log"
    with log.open("wb") as f:
        f.write(b"line\n" * 20_000)  # the first 64 KB are text
        f.truncate(3 * 1024 * 1024 * 1024)  # 3 GB, sparse: reading it would take a while
    with pytest.raises(AttachError, match=r"too large \(3072\.0 MB; the limit for a text "):
        await load_all([str(log)])


async def test_a_directory_skips_big_binaries_and_refuses_big_text(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.txt").write_text("a\n")
    with (tree / "blob.png").open("wb") as f:
        f.write(media.png())
        f.truncate(100 * 1024 * 1024)
    bundle = await load_all([str(tree)])
    assert [t.name for t in bundle.texts] == [f"{tree}/a.txt"]
    assert "1 not text" in bundle.listing[0]
    (tree / "big.txt").write_bytes(b"x" * (1024 * 1024 + 1))
    with pytest.raises(AttachError, match="directory too large"):
        await load_all([str(tree)])
