"""The one server-sent-events reader the SSE adapters share (anthropic, gemini, openai*).

Bytes become events in two small steps, each usable alone: ``LineDecoder`` turns network
chunks into lines (strict UTF-8, CR, LF or CRLF line ends, however the chunks split) and
``EventParser`` applies the SSE field rules to lines. ``aiter_sse`` runs both over an
``httpx.Response``; gemini feeds the lines to its own layer, because Google's front end
also writes bare JSON into a 200 stream, and ollama reads NDJSON lines. All of them read
the body through ``aiter_decoded``, which bounds the wait for each complete event or line:
httpx's read timeout applies to each socket read, so a server dripping a byte a second
would otherwise hold an answer for minutes.

Events are httpx-sse's public ``ServerSentEvent``, but the decoding is ours, because
httpx-sse's does not fit in four ways:

- ``EventSource`` reads ``aiter_text()``, which decodes with ``errors="replace"``: corrupt
  bytes would reach the terminal as U+FFFD instead of failing as a taxonomy error.
- Its ``SSEDecoder`` dispatches blocks that carry no ``data:`` line, and as the last event
  id persists, every blank keep-alive line after an ``id:`` becomes an empty event, which
  adapters reading one JSON value per event would reject. The spec (WHATWG HTML, "Interpreting
  an event stream") dispatches only blocks with data, as done here.
- It never dispatches a last event that has no blank line after it; servers that close
  right after their last ``data:`` line are common (the anthropic SDK's recorded streams).
- The decoders live in a private module (``httpx_sse._decoders``).
"""

from __future__ import annotations

import asyncio
import codecs
import re
from collections.abc import AsyncGenerator, Sequence
from typing import Protocol, TypeVar

import httpx
from httpx_sse import ServerSentEvent

from providers.errors import ProviderUnavailableError
from providers.http import host_of

__all__ = [
    "NOT_UTF8",
    "Decoder",
    "EventParser",
    "LineDecoder",
    "SSEDecoder",
    "ServerSentEvent",
    "aiter_decoded",
    "aiter_sse",
]

Item = TypeVar("Item", covariant=True)

#: The complaint about bytes that are not UTF-8; ``{name}`` is the provider and ``{byte}``
#: the first bad byte (an int). Adapters may keep their own wording.
NOT_UTF8 = "{name}: the event stream is not valid UTF-8"

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class LineDecoder:
    """Network chunks in, complete lines out (without their line ends).

    Only CR, LF and CRLF end a line (never U+2028 inside a JSON string). A CR at the end
    of a chunk may be half of a CRLF, so that line waits for the next chunk or ``close()``.
    The unfinished line is kept as a list of pieces and joined once: a long line that
    arrives in many chunks costs linear time, not quadratic.
    """

    def __init__(self, name: str, not_utf8: str = NOT_UTF8) -> None:
        self.name = name
        self._not_utf8 = not_utf8
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._pieces: list[str] = []
        self._held_cr = False

    def feed(self, chunk: bytes) -> list[str]:
        """The lines this chunk completes; raises ProviderUnavailableError on invalid UTF-8."""
        return self._split(self._decode(chunk, final=False))

    def close(self) -> list[str]:
        """The lines left at the end of the stream, the unterminated last one included."""
        lines = self._split(self._decode(b"", final=True))
        if self._pieces or self._held_cr:
            lines.append("".join(self._pieces))
        self._pieces, self._held_cr = [], False
        return lines

    def _decode(self, chunk: bytes, *, final: bool) -> str:
        try:
            return self._utf8.decode(chunk, final)
        except UnicodeDecodeError as exc:
            message = self._not_utf8.format(name=self.name, byte=exc.object[exc.start])
            raise ProviderUnavailableError(message, provider=self.name) from None

    def _split(self, text: str) -> list[str]:
        if self._held_cr:
            text, self._held_cr = "\r" + text, False
        if text.endswith("\r"):
            text, self._held_cr = text[:-1], True
        lines = _LINE_BREAK.split(text)
        if len(lines) == 1:  # no line end yet: one more piece of the current line
            if text:
                self._pieces.append(text)
            return []
        self._pieces.append(lines[0])
        lines[0] = "".join(self._pieces)
        rest = lines.pop()
        self._pieces = [rest] if rest else []
        return lines


class EventParser:
    """The SSE field rules, one line at a time: ``event``, ``data`` (lines joined with LF),
    ``id``, ``retry``; ``:`` comments and unknown fields are ignored. A blank line
    dispatches the event if it has data; ``flush()`` dispatches one the stream ended in.
    """

    def __init__(self) -> None:
        self._event = ""
        self._data: list[str] = []
        self._id = ""  # the spec's "last event ID": it carries over to later events
        self._retry: int | None = None

    @property
    def has_data(self) -> bool:
        """True while ``data:`` lines wait for the blank line that ends their event."""
        return bool(self._data)

    def line(self, line: str) -> ServerSentEvent | None:
        """Apply one line; returns the event a blank line completes, else None."""
        if not line:
            return self.flush()
        if line.startswith(":"):
            return None
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "data":
            self._data.append(value)
        elif field == "event":
            self._event = value
        elif field == "id" and "\0" not in value:
            self._id = value
        elif field == "retry" and value.isascii() and value.isdigit():
            self._retry = int(value)
        return None

    def flush(self) -> ServerSentEvent | None:
        """The pending event, if it has data; the event name and retry start afresh."""
        event = None
        if self._data:
            event = ServerSentEvent(self._event, "\n".join(self._data), self._id, self._retry)
        self._event, self._data, self._retry = "", [], None
        return event


class SSEDecoder:
    """Bytes in, events out: a ``LineDecoder`` feeding an ``EventParser`` (no I/O)."""

    def __init__(self, name: str, not_utf8: str = NOT_UTF8) -> None:
        self._lines = LineDecoder(name, not_utf8)
        self._parser = EventParser()

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        return self._events(self._lines.feed(chunk))

    def close(self) -> list[ServerSentEvent]:
        """Events left at the end, including a last one with no blank line after it."""
        events = self._events(self._lines.close())
        last = self._parser.flush()
        return [*events, last] if last is not None else events

    def _events(self, lines: list[str]) -> list[ServerSentEvent]:
        return [event for line in lines if (event := self._parser.line(line)) is not None]


class Decoder(Protocol[Item]):
    """Bytes in, complete items out: ``LineDecoder``, ``SSEDecoder``, gemini's reader."""

    def feed(self, chunk: bytes) -> Sequence[Item]: ...

    def close(self) -> Sequence[Item]: ...


async def aiter_decoded(
    name: str,
    response: httpx.Response,
    decoder: Decoder[Item],
    *,
    unit: str = "event",
    idle: float | None = None,
) -> AsyncGenerator[Item, None]:
    """The items ``decoder`` makes of a streamed body, each within ``idle`` seconds.

    ``idle`` defaults to the request's read timeout (``settings.timeout``, set by
    ``make_client``); a response with no request has no deadline. Only time spent waiting
    for the network counts, not the consumer's time between items. Any complete item
    resets the wait, keep-alives included (an Anthropic ``ping`` is an event), but bytes
    that complete nothing do not: a server sending only SSE comments, or a byte a second,
    gives the user nothing and is stalled. ``unit`` names an item in the message.

    Raises ProviderUnavailableError when the wait runs out (worded as httpx's read timeout
    when not a byte came, as a trickle otherwise); decoder and httpx errors pass through.
    """
    seconds = _read_timeout(response) if idle is None else idle
    clock = asyncio.get_running_loop().time
    waited, trickled = 0.0, False
    body = response.aiter_bytes()
    while True:
        started = clock()
        deadline = asyncio.timeout(None if seconds is None else seconds - waited)
        try:
            async with deadline:
                chunk = await anext(body, None)
        except TimeoutError:
            if not deadline.expired():
                raise
            why = f"no complete {unit} in {seconds:g} s" if trickled else "read timed out"
            where = host_of(str(request.url)) if (request := _request_of(response)) else "server"
            raise ProviderUnavailableError(
                f"{name}: {where} stopped sending ({why})", provider=name
            ) from None
        if chunk is None:
            break
        items = decoder.feed(chunk)
        waited = 0.0 if items else waited + clock() - started
        trickled = not items
        for item in items:
            yield item
    for item in decoder.close():
        yield item


def _read_timeout(response: httpx.Response) -> float | None:
    """The read timeout the response's request was sent with (httpx's ``timeout`` extension)."""
    request = _request_of(response)
    timeouts = request.extensions.get("timeout") if request is not None else None
    read = timeouts.get("read") if isinstance(timeouts, dict) else None
    return float(read) if isinstance(read, (int, float)) else None


def _request_of(response: httpx.Response) -> httpx.Request | None:
    try:
        return response.request
    except RuntimeError:  # a response built by hand, without a request
        return None


def aiter_sse(
    name: str, response: httpx.Response, *, not_utf8: str = NOT_UTF8
) -> AsyncGenerator[ServerSentEvent, None]:
    """The events of a streamed ``response``, whatever its content type says.

    Args:
        name: the provider's name, for error messages.
        response: an open streamed response (its body not read yet).
        not_utf8: the message for invalid UTF-8 (see ``NOT_UTF8``).

    Raises ProviderUnavailableError for invalid UTF-8 and for a server that completes no
    event within the read timeout (see ``aiter_decoded``; comments do not count, events
    such as Anthropic's ``ping`` do); httpx errors pass through for the adapter's
    ``translating()`` to map.
    """
    return aiter_decoded(name, response, SSEDecoder(name, not_utf8))
