"""OpenAI-style error replies and in-band errors, mapped onto the taxonomy once, purely.

Servers that speak OpenAI's API disagree on how to say what went wrong: OpenAI's error
bodies (``{"error": {"message", "type", "code"}}``), vLLM's and llama.cpp's numeric codes
in-band, the HF router's plain text, a proxy's HTML. The codes decide where there are any;
the wording of the message, then the HTTP status, where there are none.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from providers.errors import (
    BadRequestError,
    ContentFilteredError,
    ContextLengthError,
    ModelNotFoundError,
    ProviderAuthError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitError,
)
from providers.http import error_detail, error_for_status

#: Error ``code``/``type`` values (OpenAI, vLLM, llama.cpp, HF router) and what they mean.
#: Anything unlisted falls back on the HTTP status, or on "unavailable" mid-stream.
ERROR_CODES: dict[str, type[ProviderError]] = {
    code: cls
    for cls, codes in (
        (ContextLengthError, ("context_length_exceeded", "exceed_context_size_error")),
        (RateLimitError, ("rate_limit_exceeded", "rate_limit_error", "insufficient_quota")),
        (ModelNotFoundError, ("model_not_found", "model_not_supported")),
        (ProviderAuthError, ("invalid_api_key", "authentication_error", "permission_error")),
        (ProviderUnavailableError, ("server_error", "internal_error", "overloaded_error")),
        (ContentFilteredError, ("content_filter", "content_policy_violation", "invalid_prompt")),
        (ContentFilteredError, ("bio_policy", "misalignment_policy_violation")),
        (BadRequestError, ("invalid_request_error",)),
    )
    for code in codes
}

#: Phrases servers use for an over-long prompt when they give no usable code.
CONTEXT_MARKERS = (
    "context_length_exceeded",
    "context length",
    "context size",
    "context window",
    "maximum context",
    "prompt is too long",
)

#: How servers say "no such model" when they give no usable code (HF router, OpenAI, vLLM).
MODEL_MISSING = re.compile(
    r"\bmodel\b.*\b(not found|does not exist|not supported)|\b(unknown|no such) model", re.I
)


def error_from_status(
    name: str,
    status: int,
    body: bytes | str,
    headers: Mapping[str, str] | None = None,
    *,
    secret: str | None = None,
) -> ProviderError:
    """Map an HTTP error reply (JSON ``error`` object, plain text or HTML) to the taxonomy.

    ``secret`` (the request's key) is redacted from the server's message.
    """
    detail = error_detail(body, secrets=(secret,))
    codes = _error_codes(body)
    msg = f"{name}: HTTP {status}: {detail}" if detail else f"{name}: HTTP {status}"
    if 400 <= status < 500 and status not in (401, 403, 429):
        if _means(codes, ContextLengthError) or _mentions_context(detail):
            return ContextLengthError(msg, provider=name)
        if _means(codes, ModelNotFoundError) or MODEL_MISSING.search(detail):
            return ModelNotFoundError(msg, provider=name)
        if _means(codes, ContentFilteredError):
            return ContentFilteredError(msg, provider=name)
        if status == 404 and "model" not in detail.lower():
            # A 404 that names no model is usually a base_url without its /v1.
            return ModelNotFoundError(f"{msg} (is base_url right?)", provider=name)
    return error_for_status(name, status, detail, headers)


def error_from_payload(
    name: str, error: Any, *, where: str = "", secret: str | None = None
) -> ProviderError:
    """Map an in-band error object (on a 200 stream, or a failed response) to the taxonomy.

    ``secret`` (the request's key) is redacted from the server's message.
    """
    raw = error if isinstance(error, str) else json.dumps(error)
    detail = error_detail(raw, secrets=(secret,))
    msg = f"{name}: {where}{detail}" if detail else f"{name}: {where}server error"
    codes = _codes_of(error)
    if _means(codes, ContextLengthError) or _mentions_context(detail):
        return ContextLengthError(msg, provider=name)
    status = _status_of(error)
    if status is not None:
        return type(error_for_status(name, status, detail))(msg, provider=name)
    # Checked in this order: an invalid_request_error whose code says more says more.
    for cls in (
        RateLimitError,
        ModelNotFoundError,
        ContentFilteredError,
        ProviderAuthError,
        BadRequestError,
    ):
        if _means(codes, cls):
            return cls(msg, provider=name)
    # A server-side failure mid-answer: another try, or another provider, may well work.
    return ProviderUnavailableError(msg, provider=name)


def _error_codes(body: bytes | str) -> set[str]:
    """The lower-cased ``code`` and ``type`` strings of a JSON error body, if any."""
    try:
        data = json.loads(body)
    except ValueError:
        return set()
    return _codes_of(data.get("error", data) if isinstance(data, dict) else None)


def _codes_of(error: Any) -> set[str]:
    if not isinstance(error, dict):
        return set()
    return {error[k].lower() for k in ("code", "type") if isinstance(error.get(k), str)}


def _status_of(error: Any) -> int | None:
    """An HTTP status given as the error ``code`` (vLLM and llama.cpp do that in-band)."""
    code = error.get("code") if isinstance(error, dict) else None
    if isinstance(code, str) and code.isdigit():
        code = int(code)
    return code if isinstance(code, int) and 400 <= code < 600 else None


def _means(codes: set[str], cls: type[ProviderError]) -> bool:
    return any(ERROR_CODES.get(code) is cls for code in codes)


def _mentions_context(detail: str) -> bool:
    lowered = detail.lower()
    return any(marker in lowered for marker in CONTEXT_MARKERS)
