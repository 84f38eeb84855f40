"""Framing of a Gemini stream: SSE ``data:`` events, and the bare JSON values among them.

Lines come from the shared reader (``providers.sse``); ``EventReader`` adds what only Gemini
needs: the bare (even pretty-printed) JSON error objects Google's front end writes into a
200 stream, which the official SDK takes care to parse (google-genai
``_api_client._RawJsonLineBuffer``), and the JSON array a stream without ``alt=sse`` is.
"""

from __future__ import annotations

import re

from providers.sse import EventParser, LineDecoder

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


class EventReader:
    """Splits a byte stream into the JSON texts of SSE ``data:`` events and bare JSON values.

    Lines come from the shared ``LineDecoder`` (CRLF, LF or CR; strict UTF-8); a line that
    opens a JSON value outside an event starts a bare value, which ends where its brackets
    balance. ``close()`` dispatches whatever the stream ended in the middle of.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._lines = LineDecoder(name, "{name}: invalid UTF-8 in the stream")
        self._sse = EventParser()
        self._raw: list[str] = []
        self._depth = 0

    def feed(self, chunk: bytes) -> list[str]:
        out: list[str] = []
        for line in self._lines.feed(chunk):
            self._line(line, out)
        return out

    def close(self) -> list[str]:
        out: list[str] = []
        for line in self._lines.close():
            self._line(line, out)
        self._line("", out)  # a last event without its blank line still counts
        if self._raw:
            out.append("\n".join(self._raw))
            self._raw, self._depth = [], 0
        return out

    def _line(self, line: str, out: list[str]) -> None:
        if self._raw or (not self._sse.has_data and line.lstrip()[:1] in ("{", "[")):
            self._raw.append(line)
            self._depth += _nesting(line)
            if self._depth <= 0:
                out.append("\n".join(self._raw))
                self._raw, self._depth = [], 0
        elif (event := self._sse.line(line)) is not None:
            # Event names, ids and retry hints mean nothing to Gemini: only the data.
            out.append(event.data)


def _nesting(line: str) -> int:
    """How much ``line`` opens (+) or closes (-) JSON objects and arrays, strings aside."""
    bare = _JSON_STRING.sub("", line)
    return bare.count("{") + bare.count("[") - bare.count("}") - bare.count("]")
