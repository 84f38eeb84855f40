"""Fault injection for every wire protocol: one catalogue of faults, served by a loopback
server that speaks the provider's own protocol (ollama, anthropic, gemini, the OpenAI
Responses API and OpenAI-compatible chat completions).

The replies are built with the per-protocol wire modules in ``tests/wire`` (their shapes and
sources are documented there); this module only decides *what goes wrong*. Every JSON error
message and in-band error echoes the key the request carried, as Google's ``DebugInfo``
does and as a careless proxy might: a key that reaches a user-visible line got there
through the client, not through the test.

    wire = WIRES["claude"]
    with FaultServer(wire, FAULTS["http_503"]) as server:
        ...  # point the claude provider at server.url; every generate request gets a 503
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from tests.wire import anthropic, gemini, ollama, openai
from tests.wire.loopback import (
    BodyPart,
    LoopbackServer,
    Pause,
    Reply,
    Request,
    Reset,
    Stall,
    free_port,
    sse,
)

TOKENS = ("The ", "quick ", "brown ")
#: One 5 MB text delta: a single event far larger than any network read.
HUGE = ("lorem ipsum dolor sit amet " * 200_000)[: 5 * 1024 * 1024]


def _bearer(request: Request) -> str:
    return request.headers.get("authorization", "").removeprefix("Bearer ")


def _stream(parts: Sequence[BodyPart], content_type: str) -> Reply:
    return Reply(body=list(parts), content_type=content_type)


@dataclass(frozen=True)
class Wire:
    """One remote provider and the protocol its built-in adapter speaks."""

    provider: str
    key_env: str
    model: str
    stream_type: str
    answer: Callable[[Sequence[str]], Reply]
    unfinished: Callable[[Sequence[str]], list[BodyPart]]
    error: Callable[[int, str, str | None], Reply]  # status, message, Retry-After
    model_missing: Callable[[str], Reply]  # message suffix
    in_band: Callable[[str], list[BodyPart]]
    malformed: str
    bad_utf8: bytes
    key: Callable[[Request], str]
    is_generate: Callable[[Request], bool]
    url_key: str = "base_url"
    url_suffix: str = ""

    def config(self, url: str) -> dict[str, str]:
        """The provider's config keys pointing it at ``url``."""
        return {self.url_key: url + self.url_suffix}


def _retry_headers(retry_after: str | None) -> dict[str, str]:
    return {"Retry-After": retry_after} if retry_after is not None else {}


ANTHROPIC_TYPES = {401: "authentication_error", 403: "permission_error", 429: "rate_limit_error"}
OPENAI_TYPES = {
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_error", None),
    429: ("requests", "rate_limit_exceeded"),
    529: ("overloaded_error", None),
}


def _openai_error(status: int, message: str, retry_after: str | None) -> Reply:
    etype, code = OPENAI_TYPES.get(status, ("server_error", None))
    return openai.error_reply(status, message, error_type=etype, code=code, retry_after=retry_after)


def _path(request: Request) -> str:
    return urlsplit(request.path).path


OLLAMA = Wire(
    provider="ollama",
    key_env="OLLAMA_API_KEY",
    model="llama3.2",
    stream_type=ollama.NDJSON,
    answer=lambda tokens: _stream(ollama.chat_stream(tokens), ollama.NDJSON),
    unfinished=lambda tokens: ollama.ndjson_lines(ollama.chat_line(t) for t in tokens),
    error=lambda status, msg, ra: ollama.error_reply(status, msg, **_retry_headers(ra)),
    model_missing=lambda tail: ollama.error_reply(404, f"model 'llama3.2' not found{tail}"),
    in_band=lambda msg: ollama.ndjson_lines([{"error": msg}]),
    malformed='{"model": "llama3.2", "message": {"role": "assistant", "content": "x"\n',
    bad_utf8=b'{"model":"llama3.2","message":{"role":"assistant","content":"caf\xe9"},"done":false}\n',
    key=_bearer,
    is_generate=lambda r: _path(r) == "/api/chat",
    url_key="host",
)

CLAUDE = Wire(
    provider="claude",
    key_env="ANTHROPIC_API_KEY",
    model="claude-sonnet-4-5",
    stream_type="text/event-stream",
    answer=lambda tokens: anthropic.sse_reply(anthropic.stream_events(tokens)),
    unfinished=lambda tokens: sse(anthropic.stream_events(tokens)[:-2]),
    error=lambda status, msg, ra: anthropic.error_reply(
        status,
        ANTHROPIC_TYPES.get(status, "overloaded_error" if status == 529 else "api_error"),
        msg,
        _retry_headers(ra),
    ),
    model_missing=lambda tail: anthropic.error_reply(
        404, "not_found_error", f"model: claude-sonnet-4-5{tail}"
    ),
    in_band=lambda msg: sse(
        [anthropic.stream_events([])[0], anthropic.error_event("overloaded_error", msg)]
    ),
    malformed='event: content_block_delta\ndata: {"type": "content_block_delta", "delta": {\n\n',
    bad_utf8=b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
    b'"delta":{"type":"text_delta","text":"caf\xe9"}}\n\n',
    key=lambda r: r.headers.get("x-api-key", ""),
    is_generate=lambda r: _path(r).endswith("/v1/messages"),
)

GEMINI = Wire(
    provider="gemini",
    key_env="GEMINI_API_KEY",
    model="gemini-2.5-flash",
    stream_type=gemini.SSE,
    answer=lambda tokens: gemini.stream_reply(tokens),
    unfinished=lambda tokens: gemini.sse_body(gemini.stream_events(tokens, finish=None)),
    error=lambda status, msg, ra: gemini.error_reply(status, msg, headers=_retry_headers(ra)),
    model_missing=lambda tail: gemini.error_reply(
        404, f"models/gemini-2.5-flash is not found for API version v1beta{tail}"
    ),
    in_band=lambda msg: gemini.sse_body([gemini.error_body(500, msg)]),
    malformed='data: {"candidates": [{"content": \r\n\r\n',
    bad_utf8=b'data: {"candidates":[{"content":{"parts":[{"text":"caf\xe9"}],"role":"model"}}]}'
    b"\r\n\r\n",
    key=lambda r: r.headers.get("x-goog-api-key", ""),
    is_generate=gemini.is_generate,
)

CODEX = Wire(
    provider="codex",
    key_env="OPENAI_API_KEY",
    model="gpt-5-codex",
    stream_type=openai.SSE,
    answer=lambda tokens: openai.responses_stream(tokens),
    unfinished=lambda tokens: openai.responses_sse(openai.responses_events(tokens, status=None)),
    error=_openai_error,
    model_missing=lambda tail: openai.error_reply(
        404, f"The model `gpt-5-codex` does not exist{tail}", code="model_not_found"
    ),
    in_band=lambda msg: openai.responses_sse(
        [
            openai.responses_events([])[0],
            {"type": "error", "code": "server_error", "message": msg, "param": None},
        ]
    ),
    malformed='event: response.output_text.delta\ndata: {"type": "response.output_text.delta", '
    '"delta": \n\n',
    bad_utf8=b'event: response.output_text.delta\ndata: {"type":"response.output_text.delta",'
    b'"delta":"caf\xe9"}\n\n',
    key=_bearer,
    is_generate=lambda r: _path(r).endswith("/responses"),
    url_suffix="/v1",
)

HF = Wire(
    provider="hf",
    key_env="HF_TOKEN",
    model="meta-llama/Llama-3.1-8B-Instruct",
    stream_type=openai.SSE,
    answer=lambda tokens: openai.chat_stream(tokens),
    unfinished=lambda tokens: openai.chat_sse(tokens, finish_reason=None, done=False),
    error=_openai_error,
    model_missing=lambda tail: openai.error_reply(
        404,
        f"The model `meta-llama/Llama-3.1-8B-Instruct` does not exist{tail}",
        code="model_not_found",
    ),
    in_band=lambda msg: openai.sse_data(
        [{"error": {"message": msg, "type": "server_error", "code": None}}], done=False
    ),
    malformed='data: {"choices": [{"index": 0, "delta": \n\n',
    bad_utf8=b'data: {"choices":[{"index":0,"delta":{"content":"caf\xe9"}}]}\n\n',
    key=_bearer,
    is_generate=lambda r: _path(r).endswith("/chat/completions"),
    url_suffix="/v1",
)

#: The five remote built-in providers, one per wire protocol.
WIRES: dict[str, Wire] = {w.provider: w for w in (OLLAMA, CLAUDE, GEMINI, CODEX, HF)}

Build = Callable[[Wire, Request], Reply]
RETRIED = ("unavailable", "unavailable")


@dataclass(frozen=True)
class Fault:
    """One way a server misbehaves, and what the router must make of it.

    ``outcomes`` are the trace outcomes of the faulty provider's attempts with
    ``router.retries = 1``; ``shown`` is the text the user saw before it failed;
    ``timeouts`` counts the read timeouts the walk waits out, ``waits`` any other sleep,
    and ``work`` the seconds its sheer size costs (parsing, storing, printing 5 MB).
    """

    name: str
    build: Build | None  # None: nothing listens (connection refused)
    outcomes: tuple[str, ...]
    shown: str = ""
    timeouts: int = 0
    waits: float = 0.0
    work: float = 0.0


def _echo(wire: Wire, request: Request) -> str:
    return f" (request key: {wire.key(request)})"


def _status(status: int, why: str, retry_after: str | None = None) -> Build:
    return lambda w, r: w.error(status, why + _echo(w, r), retry_after)


def _html(status: int, title: str) -> Build:
    page = f"<html><head><title>{title}</title></head><body><center><h1>{title}</h1></center>"
    page += "<hr><center>nginx</center></body></html>"
    return lambda w, r: Reply(status=status, body=page.encode(), content_type="text/html")


def _drip(wire: Wire, request: Request) -> Reply:
    reply = wire.answer(TOKENS)
    data = b"".join(
        p.encode() if isinstance(p, str) else p for p in reply.body if isinstance(p, (str, bytes))
    )
    parts: list[BodyPart] = []
    for i in range(len(data)):
        parts += [data[i : i + 1], Pause(1.0)]
    return _stream(parts, wire.stream_type)


FAULT_LIST = (
    Fault("refused", None, ("unavailable",)),
    Fault("no_answer", lambda w, r: Reply(before_headers=[Stall()]), RETRIED, timeouts=2),
    Fault(
        "headers_then_stall",
        lambda w, r: _stream([Stall()], w.stream_type),
        RETRIED,
        timeouts=2,
    ),
    Fault("drip", _drip, RETRIED, timeouts=2),
    Fault(
        "reset_mid_stream",
        lambda w, r: _stream([*w.unfinished(TOKENS), Reset()], w.stream_type),
        ("interrupted",),
        shown="".join(TOKENS),
    ),
    Fault("http_401", _status(401, "invalid API key"), ("auth",)),
    Fault("http_403", _status(403, "this key may not use this model"), ("auth",)),
    Fault("http_404_model", lambda w, r: w.model_missing(_echo(w, r)), ("model_not_found",)),
    Fault("http_413", _html(413, "413 Request Entity Too Large"), ("context_too_long",)),
    Fault("http_429", _status(429, "rate limit reached"), ("rate_limited", "rate_limited")),
    Fault(
        "http_429_retry_after_1",
        _status(429, "rate limit reached", "1"),
        ("rate_limited", "rate_limited"),
        waits=1.0,
    ),
    Fault("http_429_retry_after_60", _status(429, "quota exhausted", "60"), ("rate_limited",)),
    Fault("http_500", _status(500, "internal server error"), RETRIED),
    Fault("http_502", _html(502, "502 Bad Gateway"), RETRIED),
    Fault("http_503", _status(503, "the service is unavailable"), RETRIED),
    Fault("http_529", _status(529, "overloaded"), RETRIED),
    Fault(
        "in_band_error",
        lambda w, r: _stream(w.in_band("overloaded" + _echo(w, r)), w.stream_type),
        RETRIED,
    ),
    Fault("malformed_json", lambda w, r: _stream([w.malformed], w.stream_type), RETRIED),
    Fault("invalid_utf8", lambda w, r: _stream([w.bad_utf8], w.stream_type), RETRIED),
    Fault("empty_stream", lambda w, r: Reply(body=b"", content_type=w.stream_type), RETRIED),
    Fault(
        "no_finish",
        lambda w, r: _stream(w.unfinished(TOKENS), w.stream_type),
        ("interrupted",),
        shown="".join(TOKENS),
    ),
    Fault("huge_event", lambda w, r: w.answer([HUGE]), ("ok",), shown=HUGE, work=3.0),
)
FAULTS: dict[str, Fault] = {f.name: f for f in FAULT_LIST}


class FaultServer:
    """Serves ``fault`` to every generate request of ``wire``'s protocol (a 404 otherwise).

    For the ``refused`` fault nothing is started and ``url`` is a port nobody listens on.
    """

    def __init__(self, wire: Wire, fault: Fault) -> None:
        self.wire = wire
        self.fault = fault
        self.server = LoopbackServer(self._handle) if fault.build is not None else None
        self.url = self.server.url if self.server else f"http://127.0.0.1:{free_port()}"

    def __enter__(self) -> FaultServer:
        if self.server is not None:
            self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.server is not None:
            self.server.stop()

    @property
    def requests(self) -> list[Request]:
        return self.server.requests if self.server else []

    def _handle(self, request: Request) -> Reply:
        if not self.wire.is_generate(request) or self.fault.build is None:
            return Reply.json({"error": f"no route for {request.path}"}, status=404)
        return self.fault.build(self.wire, request)
