"""The Gemini adapter: ``:streamGenerateContent?alt=sse``, ``:generateContent``, ``/v1beta/models``.

The key travels only in the ``x-goog-api-key`` header: a ``?key=`` in the URL would end up in
proxy logs and in httpx's own exception messages.

Usage is ``promptTokenCount`` in and ``candidatesTokenCount + thoughtsTokenCount`` out:
thinking tokens are billed as output (totalTokenCount counts them), and OpenAI's
``output_tokens`` includes reasoning tokens too, so the numbers compare across providers.

The stream's lines come from the shared reader (``providers.sse``); the small ``EventReader``
below adds what only Gemini needs: the bare (even pretty-printed) JSON error objects Google's
front end writes into a 200 stream, which the official SDK takes care to parse (google-genai
``_api_client._RawJsonLineBuffer``), and the JSON array a stream without ``alt=sse`` is.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Mapping
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from providers.base import BaseProvider, ProviderSettings
from providers.errors import (
    ContentFilteredError,
    ContextLengthError,
    ProviderAuthError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitError,
)
from providers.http import (
    error_detail,
    error_for_status,
    host_of,
    make_client,
    redact,
    translating,
)
from providers.sse import EventParser, LineDecoder
from providers.types import ChatRequest, ChatResult, Chunk, Health, Usage

API_VERSION = "v1beta"
#: A guard against a server that keeps sending the same page token.
MAX_MODEL_PAGES = 50
#: finishReason values meaning a filter withheld the answer (not that it was cut short).
FILTER_REASONS = frozenset(
    {"SAFETY", "RECITATION", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "IMAGE_SAFETY"}
    | {"IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION"}
)
#: With no text at all, these mean "blocked" rather than "an empty answer".
_BLOCKING = FILTER_REASONS | {"OTHER"}
#: google.rpc status names, for in-band errors that carry no numeric code.
_RPC_STATUS = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "RESOURCE_EXHAUSTED": 429,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def endpoint(model: str, method: str) -> str:
    """``/v1beta/models/x:<method>`` for a model given as ``x`` or ``models/x``.

    Other resource names (``tunedModels/x``) are kept as they are.
    """
    name = model.strip()
    if "/" not in name:
        name = f"models/{name}"
    return f"/{API_VERSION}/{quote(name, safe='/')}:{method}"


def build_body(request: ChatRequest) -> dict[str, Any]:
    """The GenerateContentRequest: turns as ``contents`` (assistant → ``model``), the
    system prompt as ``systemInstruction``, options in ``generationConfig``."""
    contents: list[dict[str, Any]] = []
    for message in request.turns:
        role = "model" if message.role == "assistant" else "user"
        if contents and contents[-1]["role"] == role:
            # Gemini wants user and model turns to alternate: merge neighbours.
            contents[-1]["parts"].append({"text": message.content})
        else:
            contents.append({"role": role, "parts": [{"text": message.content}]})
    body: dict[str, Any] = {"contents": contents}
    if request.system is not None:
        body["systemInstruction"] = {"parts": [{"text": request.system}]}
    config: dict[str, Any] = {}
    if request.max_tokens is not None:
        config["maxOutputTokens"] = request.max_tokens
    if request.temperature is not None:
        config["temperature"] = request.temperature
    if config:
        body["generationConfig"] = config
    return body


def normalise_finish(reason: str) -> str:
    if reason == "STOP":
        return "stop"
    if reason == "MAX_TOKENS":
        return "length"
    return "content_filter" if reason in FILTER_REASONS else "other"


def parse_usage(meta: object) -> Usage | None:
    if not isinstance(meta, dict):
        return None
    out = _count(meta.get("candidatesTokenCount")) + _count(meta.get("thoughtsTokenCount"))
    return Usage(input_tokens=_count(meta.get("promptTokenCount")), output_tokens=out)


class Answer:
    """Folds one GenerateContentResponse, or a stream of them, into text and a final chunk."""

    def __init__(self, name: str, secret: str | None = None) -> None:
        self.name = name
        self.secret = secret
        self.has_text = False
        self.finish: str | None = None
        self.usage: Usage | None = None

    def add(self, data: object) -> str:
        """The answer text in ``data``; raises for an in-band error or a blocked prompt."""
        if not isinstance(data, dict):
            raise _malformed(self.name, "a stream event is not a JSON object")
        if "error" in data:
            raise in_band_error(self.name, data, self.secret)
        blocked = _obj(data.get("promptFeedback")).get("blockReason")
        if isinstance(blocked, str):
            raise ContentFilteredError(
                f"{self.name}: the prompt was blocked ({blocked})", provider=self.name
            )
        candidates = _list(data.get("candidates"))
        first = _obj(candidates[0]) if candidates else {}
        parts = [_obj(p) for p in _list(_obj(first.get("content")).get("parts"))]
        # Thought summaries (``thought: true``) are the model's notes, not its answer.
        text = "".join(
            p["text"] for p in parts if isinstance(p.get("text"), str) and not p.get("thought")
        )
        if isinstance(first.get("finishReason"), str):
            self.finish = first["finishReason"]
        self.usage = parse_usage(data.get("usageMetadata")) or self.usage
        self.has_text = self.has_text or bool(text)
        return text

    def final(self, unfinished: str) -> Chunk:
        """The last chunk; ``unfinished`` is the complaint when no finishReason came."""
        if self.finish is None:
            raise ProviderUnavailableError(f"{self.name}: {unfinished}", provider=self.name)
        if not self.has_text and self.finish in _BLOCKING:
            raise ContentFilteredError(
                f"{self.name}: the answer was blocked ({self.finish})", provider=self.name
            )
        return Chunk(finish_reason=normalise_finish(self.finish), usage=self.usage or Usage())


def http_error(
    name: str, status: int, body: bytes, headers: Mapping[str, str], secret: str | None = None
) -> ProviderError:
    """The taxonomy error for a non-200 answer with a google.rpc error body."""
    try:
        payload: Any = json.loads(body)
    except ValueError:
        payload = None
    if isinstance(payload, list) and payload:  # streamGenerateContent without alt=sse
        payload = payload[0]
    error = _obj(_obj(payload).get("error"))
    detail = redact(error_detail(body, ("error", "message")), secret)
    return _classify(name, status, error, detail, headers)


def in_band_error(
    name: str, payload: Mapping[str, Any], secret: str | None = None
) -> ProviderError:
    """The taxonomy error for ``{"error": {...}}`` sent inside a 200 stream."""
    error = _obj(payload.get("error"))
    code = error.get("code")
    status = code if isinstance(code, int) and code >= 400 else None
    status = status or _RPC_STATUS.get(str(error.get("status")), 500)
    detail = redact(error_detail(json.dumps(payload), ("error", "message")), secret)
    return _classify(name, status, error, detail, {})


def _classify(
    name: str, status: int, error: Mapping[str, Any], detail: str, headers: Mapping[str, str]
) -> ProviderError:
    base = error_for_status(name, status, detail, headers)
    details = [_obj(d) for d in _list(error.get("details"))]
    reasons = [str(d.get("reason", "")) for d in details]
    lowered = detail.lower()
    # A bad key is a 400 INVALID_ARGUMENT with reason API_KEY_INVALID, not a 401.
    if any(r.startswith("API_KEY_") for r in reasons) or "api key not valid" in lowered:
        return ProviderAuthError(base.message, provider=name)
    # E.g. "User location is not supported": no retry helps, another provider may.
    if error.get("status") == "FAILED_PRECONDITION":
        return ProviderAuthError(base.message, provider=name)
    if status == 400 and "token count" in lowered and "exceed" in lowered:
        return ContextLengthError(base.message, provider=name)
    if isinstance(base, RateLimitError) and base.retry_after is None:
        base.retry_after = _retry_delay(details)
    return base


def _retry_delay(details: list[dict[str, Any]]) -> float | None:
    """google.rpc.RetryInfo ``retryDelay`` (a protobuf Duration such as ``"17s"``)."""
    for item in details:
        delay = item.get("retryDelay")
        if isinstance(delay, str) and delay.endswith("s"):
            try:
                return max(0.0, float(delay[:-1]))
            except ValueError:
                return None
    return None


def load_json(name: str, raw: str | bytes) -> list[Any]:
    """The objects in one payload (a JSON array gives its items); malformed → unavailable."""
    try:
        data = json.loads(raw)
    except UnicodeDecodeError:
        raise _malformed(name, "invalid UTF-8 in the response") from None
    except json.JSONDecodeError as exc:
        raise _malformed(name, f"malformed JSON in the response ({exc.msg})") from None
    return data if isinstance(data, list) else [data]


def model_names(page: object) -> tuple[list[str], str | None]:
    """Chat-capable model ids (without ``models/``) of a ListModels page, and the next token."""
    names = []
    for model in (_obj(m) for m in _list(_obj(page).get("models"))):
        name, methods = model.get("name"), model.get("supportedGenerationMethods")
        if isinstance(name, str) and (methods is None or "generateContent" in methods):
            names.append(name.removeprefix("models/"))
    token = _obj(page).get("nextPageToken")
    return names, token if isinstance(token, str) and token else None


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


class GeminiProvider(BaseProvider):
    """Google's Gemini API (Google AI Studio keys)."""

    type_name: ClassVar[str] = "gemini"
    key_envs: ClassVar[tuple[str, ...]] = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
    key_required: ClassVar[bool] = True
    default_model: ClassVar[str] = "gemini-2.5-flash"
    default_base_url: ClassVar[str | None] = "https://generativelanguage.googleapis.com"
    pip_packages: ClassVar[tuple[str, ...]] = ("httpx", "httpx-sse")

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        self.base_url = (settings.base_url or self.default_base_url or "").rstrip("/")
        self._client: httpx.AsyncClient | None = None

    async def chat(self, request: ChatRequest) -> ChatResult:
        client = self._http()
        url = endpoint(request.model, "generateContent")
        async with translating(self.name, self.base_url):
            response = await client.post(url, json=build_body(request))
        self._check(response)
        answer = Answer(self.name, self.settings.api_key)
        text = "".join([answer.add(obj) for obj in load_json(self.name, response.content)])
        last = answer.final("the answer came without a finishReason")
        return ChatResult(
            text=text,
            model=request.model,
            finish_reason=last.finish_reason or "stop",
            usage=last.usage or Usage(),
        )

    async def stream(self, request: ChatRequest) -> AsyncIterator[Chunk]:
        client = self._http()
        answer, reader = Answer(self.name, self.settings.api_key), EventReader(self.name)
        url = endpoint(request.model, "streamGenerateContent")
        async with (
            translating(self.name, self.base_url),
            client.stream("POST", url, params={"alt": "sse"}, json=build_body(request)) as response,
        ):
            if response.status_code != 200:
                await response.aread()
                self._check(response)
            async for data in response.aiter_bytes():
                for chunk in _text_chunks(answer, reader.feed(data)):
                    yield chunk
            for chunk in _text_chunks(answer, reader.close()):
                yield chunk
        yield answer.final("stream ended before the answer was finished")

    async def list_models(self) -> list[str]:
        client = self._http()
        names: list[str] = []
        params: dict[str, str | int] = {"pageSize": 1000}
        for _ in range(MAX_MODEL_PAGES):
            async with translating(self.name, self.base_url):
                response = await client.get(f"/{API_VERSION}/models", params=params)
            if response.status_code == 404:
                # Every Gemini API has this listing: base_url must point somewhere else.
                raise ProviderUnavailableError(
                    f"{self.name}: HTTP 404 for {response.url.path} on {host_of(self.base_url)}"
                    " (is base_url a Gemini API endpoint?)",
                    provider=self.name,
                )
            self._check(response)
            page, token = model_names(next(iter(load_json(self.name, response.content)), {}))
            names += page
            if token is None:
                break
            params["pageToken"] = token
        return names

    async def health_check(self) -> Health:
        return Health(models=len(await self.list_models()))

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    def _http(self) -> httpx.AsyncClient:
        """The client, made on first use; a missing key fails here, before any connection."""
        key = (self.settings.api_key or "").strip()
        env = self.settings.api_key_env or self.key_envs[0]
        if not key:
            raise ProviderAuthError(f"{self.name}: {env} is not set", provider=self.name)
        if not (key.isascii() and key.isprintable()):
            # httpx would fail on the header with an error outside the taxonomy.
            raise ProviderAuthError(
                f"{self.name}: {env} holds characters no API key has", provider=self.name
            )
        if self._client is None:
            self._client = make_client(self.settings, self.base_url, {"x-goog-api-key": key})
        return self._client

    def _check(self, response: httpx.Response) -> None:
        if response.status_code != 200:
            raise http_error(
                self.name,
                response.status_code,
                response.content,
                response.headers,
                self.settings.api_key,
            )


def _text_chunks(answer: Answer, payloads: list[str]) -> list[Chunk]:
    chunks = []
    for payload in payloads:
        for obj in load_json(answer.name, payload):
            text = answer.add(obj)
            if text:
                chunks.append(Chunk(text=text))
    return chunks


def _nesting(line: str) -> int:
    """How much ``line`` opens (+) or closes (-) JSON objects and arrays, strings aside."""
    bare = _JSON_STRING.sub("", line)
    return bare.count("{") + bare.count("[") - bare.count("}") - bare.count("]")


def _malformed(name: str, what: str) -> ProviderUnavailableError:
    return ProviderUnavailableError(f"{name}: {what}", provider=name)


def _obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
