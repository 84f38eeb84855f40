"""Tiny, real media files built in memory: a PNG, a JPEG, a GIF, a WebP and a PDF.

Each is a valid file of its format (a 1×1 picture, a one-page PDF) made from its
specification, so tests need no downloads and no imaging library.
"""

from __future__ import annotations

import struct
import zlib


def png(rgb: tuple[int, int, int] = (255, 0, 0)) -> bytes:
    """A 1×1 8-bit RGB PNG of one colour (different colours give different bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(bytes([0, *rgb]))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def jpeg() -> bytes:
    """A 1×1 grey baseline JPEG: one 8×8 block whose DC difference and AC are all zero,
    coded with one-symbol Huffman tables (DC category 0 and AC end-of-block, code ``0``)."""

    def segment(marker: int, data: bytes) -> bytes:
        return struct.pack(">BBH", 0xFF, marker, len(data) + 2) + data

    jfif = segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    dqt = segment(0xDB, b"\x00" + bytes([1] * 64))
    sof = segment(0xC0, struct.pack(">BHHB", 8, 1, 1, 1) + b"\x01\x11\x00")
    one_code = bytes([1] + [0] * 15)  # one code of length 1
    dht = segment(0xC4, b"\x00" + one_code + b"\x00" + b"\x10" + one_code + b"\x00")
    sos = segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
    scan = b"\x3f"  # bits 0 (DC) 0 (EOB), padded with ones
    return b"\xff\xd8" + jfif + dqt + sof + dht + sos + scan + b"\xff\xd9"


def gif() -> bytes:
    """A 1×1 GIF89a with a two-colour palette."""
    return (
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff"
        b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
    )


def webp() -> bytes:
    """A 1×1 lossless WebP (RIFF container, one VP8L chunk)."""
    vp8l = b"\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"
    chunk = b"VP8L" + struct.pack("<I", 13) + vp8l[:13] + b"\x00"
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def pdf(text: str = "Hello PDF") -> bytes:
    """A one-page PDF 1.4 showing ``text``, with a correct cross-reference table."""
    stream = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
