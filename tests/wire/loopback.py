"""A scriptable HTTP/1.1 server on a real loopback socket, for wire-level tests.

It speaks just enough HTTP for httpx (request line, headers, Content-Length bodies,
chunked or close-delimited responses) and can misbehave on cue: stall before or after
the headers, drip bytes, reset the connection, or send arbitrary raw bytes. Every
request is recorded, and connections are counted so tests can assert that a provider
in cooldown was never contacted or that a cancelled stream's socket was closed.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from tests import HANG_S


@dataclass(frozen=True)
class Pause:
    """Wait this many seconds before sending the next body part."""

    seconds: float


@dataclass(frozen=True)
class Reset:
    """Abort the connection with a TCP RST (SO_LINGER 0)."""


@dataclass(frozen=True)
class Stall:
    """Stop sending and keep the connection open until the client leaves or the server stops."""


BodyPart = bytes | str | Pause | Reset | Stall


@dataclass
class Reply:
    """One scripted response.

    ``body`` parts are sent in order; a list body is sent with chunked encoding unless
    ``chunked=False`` (then the connection close delimits it). ``before_headers`` runs
    before the status line (e.g. ``[Stall()]`` to accept and never answer).
    """

    status: int = 200
    body: bytes | str | list[BodyPart] = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    chunked: bool | None = None
    before_headers: list[BodyPart] = field(default_factory=list)

    @classmethod
    def json(cls, data: Any, status: int = 200, **headers: str) -> Reply:
        return cls(status=status, body=json.dumps(data).encode(), headers=dict(headers))


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


Handler = Callable[[Request], Reply]

_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    413: "Payload Too Large",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    529: "Overloaded",
}


class LoopbackServer:
    """Serve ``handler`` (or queued replies) on 127.0.0.1:<free port> in a thread."""

    def __init__(self, handler: Handler | None = None) -> None:
        self.handler = handler
        self.queue: deque[Reply] = deque()
        self.requests: list[Request] = []
        self.connections = 0
        self.open_connections = 0
        self.peak_open_connections = 0  # the most open at once (concurrency, by order)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._clients: set[socket.socket] = set()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)

    def enqueue(self, *replies: Reply) -> LoopbackServer:
        """Answer the next requests with these replies, in order (before ``handler``)."""
        self.queue.extend(replies)
        return self

    def start(self) -> LoopbackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        # shutdown() wakes the thread blocked in accept(); close() alone does not on Linux.
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self._sock.close()
        with self._lock:
            clients = list(self._clients)
        for c in clients:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
            c.close()
        self._thread.join(timeout=2)

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_closed(self, timeout: float = HANG_S) -> bool:
        """Wait until no client connection is open; True if that happened in time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.open_connections == 0:
                return True
            time.sleep(0.01)
        return self.open_connections == 0

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            # As real servers do: else a chunked terminator waits for the client's delayed ACK.
            with contextlib.suppress(OSError):
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self.connections += 1
                self.open_connections += 1
                self.peak_open_connections = max(self.peak_open_connections, self.open_connections)
                self._clients.add(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            reader = conn.makefile("rb")
            while not self._stop.is_set():
                request = _read_request(reader)
                if request is None:
                    return
                self.requests.append(request)
                reply = self._reply_for(request)
                keep = self._send(conn, reply)
                if not keep:
                    return
        except OSError:
            return
        finally:
            with self._lock:
                self.open_connections -= 1
                self._clients.discard(conn)
            with contextlib.suppress(OSError):
                conn.close()

    def _reply_for(self, request: Request) -> Reply:
        if self.queue:
            return self.queue.popleft()
        if self.handler is not None:
            return self.handler(request)
        return Reply(status=404, body=b'{"error": "no reply scripted"}')

    def _send(self, conn: socket.socket, reply: Reply) -> bool:
        """Send ``reply``; return False when the connection must not be reused."""
        if not self._run_parts(conn, reply.before_headers, chunked=False):
            return False
        parts = reply.body if isinstance(reply.body, list) else [reply.body]
        chunked = reply.chunked if reply.chunked is not None else isinstance(reply.body, list)
        head = [f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, 'Status')}"]
        headers = {
            "content-type": reply.content_type,
            **{k.lower(): v for k, v in reply.headers.items()},
        }
        if chunked:
            headers["transfer-encoding"] = "chunked"
        elif not isinstance(reply.body, list):
            headers["content-length"] = str(len(_bytes(reply.body)))
        else:
            headers["connection"] = "close"
        head += [f"{k}: {v}" for k, v in headers.items()]
        conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        if not self._run_parts(conn, parts, chunked=chunked):
            return False
        if chunked:
            conn.sendall(b"0\r\n\r\n")
        return headers.get("connection") != "close"

    def _run_parts(self, conn: socket.socket, parts: Iterable[BodyPart], *, chunked: bool) -> bool:
        for part in parts:
            if isinstance(part, Pause):
                if self._stop.wait(part.seconds):
                    return False
            elif isinstance(part, Reset):
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
                return False
            elif isinstance(part, Stall):
                _wait_for_client_to_leave(conn, self._stop)
                return False
            else:
                data = _bytes(part)
                if not data:
                    continue
                conn.sendall(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
        return True


def _bytes(part: bytes | str) -> bytes:
    return part.encode() if isinstance(part, str) else part


def _wait_for_client_to_leave(conn: socket.socket, stop: threading.Event) -> None:
    conn.settimeout(0.05)
    while not stop.is_set():
        try:
            if conn.recv(65536) == b"":
                return
        except TimeoutError:
            continue
        except OSError:
            return


def _read_request(reader: Any) -> Request | None:
    line = reader.readline()
    if not line:
        return None
    method, path, _ = line.decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    while True:
        h = reader.readline()
        if h in (b"\r\n", b"\n", b""):
            break
        k, _, v = h.decode("latin-1").partition(":")
        headers[k.strip().lower()] = v.strip()
    length = int(headers.get("content-length", "0") or 0)
    body = reader.read(length) if length else b""
    return Request(method, path, headers, body)


def free_port() -> int:
    """A port with nothing listening on it (for 'connection refused')."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sse(events: Iterable[tuple[str | None, Any]], sep: str = "\n") -> list[BodyPart]:
    """SSE body parts: one ``event:``/``data:`` block per (event, data) pair."""
    parts: list[BodyPart] = []
    for event, data in events:
        payload = data if isinstance(data, str) else json.dumps(data)
        block = (f"event: {event}{sep}" if event else "") + f"data: {payload}{sep}{sep}"
        parts.append(block)
    return parts


def ndjson(objects: Iterable[Any]) -> list[BodyPart]:
    return [json.dumps(o) + "\n" for o in objects]
