"""Gemini's wire format as pure functions: the request body, and what answers and errors mean.

Usage is ``promptTokenCount`` in and ``candidatesTokenCount + thoughtsTokenCount`` out:
thinking tokens are billed as output (totalTokenCount counts them), and OpenAI's
``output_tokens`` includes reasoning tokens too, so the numbers compare across providers.

Errors arrive as google.rpc error bodies, on a non-200 answer or in-band inside a 200
stream; both map onto the taxonomy here, so the adapter (``providers.gemini``) only moves
bytes and these are tested on recorded payloads without a network.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from providers.errors import (
    ContentFilteredError,
    ProviderAuthError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitError,
)
from providers.http import error_detail, error_for_status
from providers.tolerant import count, items, nonempty, obj
from providers.types import ChatRequest, Chunk, Message, ModelInfo, Usage
from providers.wording import codes_of, make_error

API_VERSION = "v1beta"
#: ListModels fields that state a sampling default, and our parameter names.
_SAMPLING = {"temperature": "temperature", "topP": "top_p", "topK": "top_k"}
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
            contents[-1]["parts"].extend(parts(message))
        else:
            contents.append({"role": role, "parts": parts(message)})
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


def parts(message: Message) -> list[dict[str, Any]]:
    """A message's parts: images and PDFs as ``inline_data`` blobs, then its text.

    Spelled as the REST reference's examples spell them (``inline_data``, ``mime_type``,
    standard base64); google-genai 3.6.1 sends ``inlineData`` and base64url, which the
    API's JSON parser takes as the same field and bytes.
    """
    blobs: list[dict[str, Any]] = [
        {"inline_data": {"mime_type": part.media_type, "data": part.base64}}
        for part in message.attachments
    ]
    if message.content or not blobs:
        blobs.append({"text": message.content})
    return blobs


def normalise_finish(reason: str) -> str:
    if reason == "STOP":
        return "stop"
    if reason == "MAX_TOKENS":
        return "length"
    return "content_filter" if reason in FILTER_REASONS else "other"


def parse_usage(meta: object) -> Usage | None:
    if not isinstance(meta, dict):
        return None
    out = count(meta.get("candidatesTokenCount")) + count(meta.get("thoughtsTokenCount"))
    return Usage(
        input_tokens=count(meta.get("promptTokenCount")),
        output_tokens=out,
        cached_input_tokens=count(meta.get("cachedContentTokenCount")),  # part of the prompt
    )


class Answer:
    """Folds one GenerateContentResponse, or a stream of them, into text and a final chunk."""

    def __init__(self, name: str, secret: str | None = None) -> None:
        self.name = name
        self.secret = secret
        self.has_text = False
        self.thought = ""  # the reasoning in the last response ``add`` saw
        self.finish: str | None = None
        self.usage: Usage | None = None

    def add(self, data: object) -> str:
        """The answer text in ``data``; raises for an in-band error or a blocked prompt."""
        if not isinstance(data, dict):
            raise _malformed(self.name, "a stream event is not a JSON object")
        if "error" in data:
            raise in_band_error(self.name, data, self.secret)
        blocked = obj(data.get("promptFeedback")).get("blockReason")
        if isinstance(blocked, str):
            raise ContentFilteredError(
                f"{self.name}: the prompt was blocked ({blocked})", provider=self.name
            )
        candidates = items(data.get("candidates"))
        first = obj(candidates[0]) if candidates else {}
        parts = [obj(p) for p in items(obj(first.get("content")).get("parts"))]
        # Thought summaries (``thought: true``, google-genai 3.6.1 ``Part.thought``) are the
        # model's reasoning, not its answer: kept apart in ``thought``.
        texts = [p for p in parts if isinstance(p.get("text"), str)]
        text = "".join(p["text"] for p in texts if not p.get("thought"))
        self.thought = "".join(p["text"] for p in texts if p.get("thought"))
        if isinstance(first.get("finishReason"), str):
            self.finish = first["finishReason"]
        self.usage = parse_usage(data.get("usageMetadata")) or self.usage
        self.has_text = self.has_text or bool(text)
        return text

    def final(self, unfinished: str) -> Chunk:
        """The last chunk; ``unfinished`` is the complaint when nothing at all came.

        A stream that ended cleanly after text but without a ``finishReason`` (Google's own
        SDK corpus records such streams) is a finished answer, reason "other".
        """
        if self.finish is None and self.has_text:
            return Chunk(finish_reason="other", usage=self.usage or Usage())
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
    error = obj(obj(payload).get("error"))
    detail = error_detail(body, ("error", "message"), secrets=(secret,))
    return _classify(name, status, error, detail, headers)


def in_band_error(
    name: str, payload: Mapping[str, Any], secret: str | None = None
) -> ProviderError:
    """The taxonomy error for ``{"error": {...}}`` sent inside a 200 stream.

    Its code classifies it as the same status would, but the message does not say "HTTP
    500": the answer's HTTP status was 200.
    """
    error = obj(payload.get("error"))
    code = error.get("code")
    status = code if isinstance(code, int) and code >= 400 else None
    status = status or _RPC_STATUS.get(str(error.get("status")), 500)
    detail = error_detail(json.dumps(payload), ("error", "message"), secrets=(secret,))
    found = _classify(name, status, error, detail, {})
    message = f"{name}: error in the stream: {detail or 'no details'}"
    return make_error(
        type(found), message, provider=name, detail=detail, retry_after=found.retry_after
    )


def _classify(
    name: str, status: int, error: Mapping[str, Any], detail: str, headers: Mapping[str, str]
) -> ProviderError:
    base = error_for_status(name, status, detail, headers, codes_of(error))
    details = [obj(d) for d in items(error.get("details"))]
    reasons = [str(d.get("reason", "")) for d in details]
    lowered = detail.lower()
    # A bad key is a 400 INVALID_ARGUMENT with reason API_KEY_INVALID, not a 401.
    if any(r.startswith("API_KEY_") for r in reasons) or "api key not valid" in lowered:
        return ProviderAuthError(base.message, provider=name)
    # E.g. "User location is not supported": no retry helps, another provider may.
    if error.get("status") == "FAILED_PRECONDITION":
        return ProviderAuthError(base.message, provider=name)
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


def parse_models_page(page: object) -> tuple[list[ModelInfo], str | None]:
    """Chat-capable models of a ListModels page (google-genai 3.6.1 ``types.Model``, REST
    camelCase), and the next page token."""
    models = []
    for model in (obj(m) for m in items(obj(page).get("models"))):
        name, methods = model.get("name"), model.get("supportedGenerationMethods")
        if isinstance(name, str) and (methods is None or "generateContent" in methods):
            models.append(model_info(model, name.removeprefix("models/")))
    token = obj(page).get("nextPageToken")
    return models, token if isinstance(token, str) and token else None


def model_info(model: dict[str, Any], model_id: str) -> ModelInfo:
    """One Gemini model. The listing gives no lifecycle; a sampling parameter it states a
    default for (``temperature``, ``topP``, ``topK``) is one the model takes."""
    sampling = frozenset(ours for wire, ours in _SAMPLING.items() if model.get(wire) is not None)
    return ModelInfo(
        id=model_id,
        display_name=nonempty(model.get("displayName")),
        context_window=count(model.get("inputTokenLimit")) or None,
        max_output_tokens=count(model.get("outputTokenLimit")) or None,
        capabilities=frozenset({"thinking"}) if model.get("thinking") is True else frozenset(),
        sampling_params=sampling or None,
    )


def _malformed(name: str, what: str) -> ProviderUnavailableError:
    return ProviderUnavailableError(f"{name}: {what}", provider=name)
