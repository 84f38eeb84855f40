"""What a file is, from its first bytes: an image or PDF we can send natively, text, or neither.

Names lie (``photo.png`` that is a JPEG, ``notes`` with no extension), so the type comes
from the content: the formats' magic numbers, and strict UTF-8 without NUL bytes for text.
"""

from __future__ import annotations

import codecs

from providers.types import PDF_TYPE

#: Magic numbers at offset 0 and the media type they mean.
MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", PDF_TYPE),
)
TEXT = "text/plain"
#: What an unknown file could have been, for the error message.
KNOWN = "text, PNG, JPEG, WebP, GIF or PDF"


def media_type(data: bytes, *, complete: bool = True) -> str | None:
    """``image/png``, ``image/jpeg``, ``image/webp``, ``image/gif``, ``application/pdf``,
    ``text/plain``, or None when the bytes are none of these. ``complete=False``: ``data``
    is the head of a longer file (a UTF-8 sequence cut at its end is fine)."""
    for magic, kind in MAGIC:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return TEXT if is_text(data, complete=complete) else None


def is_text(data: bytes, *, complete: bool = True) -> bool:
    """Strict UTF-8 with no NUL byte (a BOM is fine); empty files count as text."""
    if b"\x00" in data:
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data, final=complete)
    except UnicodeDecodeError:
        return False
    return True
