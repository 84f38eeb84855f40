"""Turning ``-f PATH|URL|-`` into what a prompt carries: text blocks and native parts.

Text files (and every text file of a directory) become fenced blocks headed by their path,
put before the prompt; images and PDFs become ``Attachment`` parts that each adapter sends
in its vendor's shape. Types come from the content (``sniff``). Every failure is one
``AttachError`` line, raised before anything is sent.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from ollama_cli.attach.sniff import KNOWN, TEXT, media_type
from ollama_cli.attach.tree import Walk
from providers.types import Attachment

MB = 1024 * 1024
#: Largest image or PDF: above every vendor's own limit for one part once base64-encoded.
MAX_PART_BYTES = 20 * MB
#: Most text one attachment adds: one file, or all the files of one directory.
MAX_TEXT_BYTES = 1 * MB
#: Most files one directory may add.
MAX_DIR_FILES = 200
#: How much of a file is read to tell its kind before its size is checked against the cap.
HEAD_BYTES = 64 * 1024
#: How many file names the notice about an attached directory shows.
LISTED = 8

ReadStdin = Callable[[int], bytes]


class AttachError(Exception):
    """An attachment that cannot be used, as one line naming it and what to do."""


@dataclass(frozen=True)
class TextFile:
    name: str
    text: str


@dataclass
class Bundle:
    """Everything ``-f`` attached: text blocks, native parts, and one notice line each."""

    texts: list[TextFile] = field(default_factory=list)
    parts: list[Attachment] = field(default_factory=list)
    listing: list[str] = field(default_factory=list)

    def prompt(self, prompt: str) -> str:
        """The fenced text blocks, then the prompt."""
        blocks = [fenced(t.name, t.text) for t in self.texts]
        return "\n\n".join([*blocks, prompt] if prompt else blocks)

    def add(self, other: Bundle) -> None:
        self.texts += other.texts
        self.parts += other.parts
        self.listing += other.listing


def fenced(name: str, text: str) -> str:
    """``name`` on its own line, then ``text`` in a fence longer than any backtick run in it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    language = Path(name).suffix.lstrip(".") if "://" not in name else ""
    return f"{name}\n{fence}{language}\n{text.rstrip(chr(10))}\n{fence}"


def human(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < MB:
        return f"{size / 1024:.0f} KB"
    return f"{size / MB:.1f} MB"


def limit(size: int) -> str:
    """A limit as people write it: ``20 MB``, ``512 KB``."""
    return f"{size // MB} MB" if size % MB == 0 else human(size)


def from_bytes(name: str, data: bytes) -> Bundle:
    """One attached file's bytes, whatever they came from (path, URL, stdin)."""
    kind = media_type(data)
    if kind is None:
        raise AttachError(f"{name}: unknown file type (not {KNOWN})")
    if kind == TEXT:
        if len(data) > MAX_TEXT_BYTES:
            raise too_large(name, len(data), MAX_TEXT_BYTES, "a text file")
        text = data.decode("utf-8").removeprefix("\ufeff")
        return Bundle(texts=[TextFile(name, text)], listing=[f"{name} (text, {human(len(data))})"])
    if len(data) > MAX_PART_BYTES:
        raise too_large(name, len(data), MAX_PART_BYTES, "an image or PDF")
    part = Attachment(name, kind, data)
    return Bundle(parts=[part], listing=[f"{name} ({kind}, {human(len(data))})"])


def too_large(name: str, size: int, cap: int, what: str) -> AttachError:
    return AttachError(f"{name}: too large ({human(size)}; the limit for {what} is {limit(cap)})")


def from_path(spec: str) -> Bundle:
    path = Path(spec).expanduser()
    try:
        if path.is_dir():
            return from_directory(spec, path)
        data = read_capped(spec, path)
    except FileNotFoundError:
        raise AttachError(f"{spec}: no such file or directory") from None
    except OSError as exc:
        raise AttachError(f"{spec}: cannot read it ({exc.strerror or exc})") from None
    return from_bytes(spec, data)


def read_capped(name: str, path: Path) -> bytes:
    """The file's bytes, or ``AttachError`` naming the limit for its kind before reading
    more than the first 64 KB of a file that is over it."""
    with path.open("rb") as f:
        head = f.read(HEAD_BYTES)
        size = max(len(head), os.fstat(f.fileno()).st_size)
        text = media_type(head, complete=False) == TEXT
        cap, what = (MAX_TEXT_BYTES, "a text file") if text else (MAX_PART_BYTES, "an image or PDF")
        if size > cap:
            raise too_large(name, size, cap, what)
        return head + f.read(cap + 1 - len(head))


def text_head(path: Path) -> bytes | None:
    """A directory member's bytes up to one past the text cap; None when it is not text
    (an image or a binary is not read past its first 64 KB)."""
    with path.open("rb") as f:
        head = f.read(HEAD_BYTES)
        if media_type(head, complete=False) != TEXT:
            return None
        return head + f.read(MAX_TEXT_BYTES + 1 - len(head))


def from_directory(spec: str, root: Path) -> Bundle:
    """Every text file under ``root`` (``.gitignore`` honoured), within the directory caps."""
    walk = Walk(root)
    texts: list[TextFile] = []
    total = skipped = 0
    for path in walk.files():
        try:
            data = text_head(path)
        except OSError:
            data = None
        if data is None or media_type(data, complete=len(data) <= MAX_TEXT_BYTES) != TEXT:
            skipped += 1
            continue
        total += len(data)
        if len(texts) >= MAX_DIR_FILES or total > MAX_TEXT_BYTES:
            raise AttachError(
                f"{spec}: directory too large (the limit is {MAX_DIR_FILES} files and "
                f"{limit(MAX_TEXT_BYTES)} of text); attach a subdirectory or list it in .gitignore"
            )
        name = (Path(spec) / path.relative_to(root)).as_posix()
        texts.append(TextFile(name, data.decode("utf-8").removeprefix("\ufeff")))
    if not texts:
        raise AttachError(f"{spec}: no text files to attach")
    return Bundle(texts=texts, listing=[directory_line(spec, texts, total, walk.ignored, skipped)])


def directory_line(spec: str, texts: list[TextFile], total: int, ignored: int, skipped: int) -> str:
    """``src/ (3 files, 12 KB; 2 ignored, 1 not text): src/a.py, src/b.py, src/c.py``."""
    notes = [f"{len(texts)} file{'s' if len(texts) != 1 else ''}", human(total)]
    left_out = [f"{ignored} ignored"] if ignored else []
    left_out += [f"{skipped} not text"] if skipped else []
    head = ", ".join(notes) + (f"; {', '.join(left_out)}" if left_out else "")
    names = [t.name for t in texts[:LISTED]]
    more = f", … {len(texts) - LISTED} more" if len(texts) > LISTED else ""
    return f"{spec.rstrip('/')}/ ({head}): {', '.join(names)}{more}"


def from_stdin(read: ReadStdin) -> Bundle:
    data = read(MAX_PART_BYTES + 1)
    if len(data) > MAX_PART_BYTES:
        raise too_large("stdin", len(data), MAX_PART_BYTES, "an image or PDF")
    return from_bytes("stdin", data)


def is_url(spec: str) -> bool:
    return spec.startswith(("http://", "https://"))


def shown_url(url: str) -> str:
    """The URL as shown, sent and stored: without credentials or query (a signed URL's
    query is a secret), which only the download itself uses."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit((parts.scheme, host + port, parts.path, "", ""))


async def load_all(specs: Sequence[str], read_stdin: ReadStdin | None = None) -> Bundle:
    """Every ``-f`` value in order; the first that fails raises ``AttachError``."""
    bundle = Bundle()
    for spec in specs:
        if spec == "-":
            if read_stdin is None:
                raise AttachError("-: stdin cannot be attached here")
            bundle.add(from_stdin(read_stdin))
        elif is_url(spec):
            from ollama_cli.attach.fetch import fetch

            bundle.add(from_bytes(shown_url(spec), await fetch(spec, MAX_PART_BYTES)))
        else:
            bundle.add(from_path(spec))
    return bundle
