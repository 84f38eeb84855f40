"""The one classifier of error wording, for every adapter and every server behind them.

Vendors, proxies and local servers say the same things in different words and codes:
llama.cpp's "exceeds the available context size", Anthropic's "prompt is too long",
LiteLLM's "Invalid model name passed in model=…", OpenAI's ``context_length_exceeded``
code, vLLM's numeric codes in-band. Every adapter asks here, so an error reads the same
whether it came from Anthropic, Gemini, Ollama or an OpenAI-style server, on an HTTP error,
a 502 from a proxy, or an in-band stream error. Pure; tested on the servers' own words.
"""

from __future__ import annotations

import re
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
    UnsupportedParameterError,
)

#: Error ``code``/``type`` values (OpenAI, Anthropic, vLLM, llama.cpp, HF router, LiteLLM)
#: and what they mean. Anything unlisted falls back on the wording, then the HTTP status.
ERROR_CODES: dict[str, type[ProviderError]] = {
    code: cls
    for cls, codes in (
        (ContextLengthError, ("context_length_exceeded", "exceed_context_size_error")),
        (ContextLengthError, ("request_too_large", "model_context_window_exceeded")),
        (RateLimitError, ("rate_limit_exceeded", "rate_limit_error", "insufficient_quota")),
        # Out of credit is quota exhausted: another provider can still answer.
        (RateLimitError, ("billing_error",)),
        (ModelNotFoundError, ("model_not_found", "model_not_supported", "not_found_error")),
        (ProviderAuthError, ("invalid_api_key", "authentication_error", "permission_error")),
        (ProviderUnavailableError, ("server_error", "internal_error", "overloaded_error")),
        (ProviderUnavailableError, ("api_error", "timeout_error")),
        (ContentFilteredError, ("content_filter", "content_policy_violation", "invalid_prompt")),
        (ContentFilteredError, ("bio_policy", "misalignment_policy_violation")),
        (BadRequestError, ("invalid_request_error",)),
    )
    for code in codes
}

#: Phrases servers use for an over-long prompt (llama.cpp: "the request exceeds the
#: available context size"; Anthropic: "prompt is too long"; Gemini: "input token count
#: … exceeds the maximum number of tokens allowed").
CONTEXT_WORDING = re.compile(
    r"context[_ ](length|size|window)|maximum context|prompt is too long|too many tokens"
    r"|exceeds the context|token count.*exceed",
    re.IGNORECASE,
)

#: How servers say "no such model" (HF router, OpenAI, vLLM, Ollama, LiteLLM's
#: "Invalid model name passed in model=…").
MODEL_MISSING = re.compile(
    r"\bmodel\b.*\b(not found|does not exist|not supported)|\b(unknown|no such) model"
    r"|invalid model name",
    re.IGNORECASE,
)

#: A request parameter the model does not take, named: OpenAI "Unsupported parameter:
#: 'temperature' is not supported with this model.", Anthropic "temperature: Extra
#: inputs are not permitted" / "`temperature` is deprecated for this model", Gemini
#: "Unknown name \"topK\"".
SAMPLING_PARAMS = ("temperature", "top_p", "top_k")
_PARAM = r"[`'\"]?(temperature|top_p|top_k|topP|topK)[`'\"]?"
UNSUPPORTED_PARAM = re.compile(
    rf"unsupported (?:parameter|value): {_PARAM}|{_PARAM}(?::| is| was)? (?:\S+ ){{0,3}}"
    rf"(?:not supported|not permitted|deprecated|unsupported|not allowed)"
    rf"|unknown name {_PARAM}|extra inputs are not permitted.*{_PARAM}",
    re.IGNORECASE,
)
_WIRE_NAMES = {"topp": "top_p", "topk": "top_k"}


def error_class(
    codes: set[str], detail: str, status: int | None = None
) -> type[ProviderError] | None:
    """The taxonomy class the codes or the wording give, or None to go by status alone.

    The status decides for auth (401/403) and rate limits (429) before any wording; an
    over-long prompt is over-long whatever the status (a proxy's 502 included).
    """
    if _means(codes, ContextLengthError) or CONTEXT_WORDING.search(detail):
        return ContextLengthError
    if status in (401, 403, 429):
        return None
    if "credit balance is too low" in detail.lower():
        return RateLimitError
    if unsupported_param(detail) is not None:
        return UnsupportedParameterError
    # Checked in this order: an invalid_request_error whose code says more says more.
    for cls in (
        RateLimitError,
        ModelNotFoundError,
        ContentFilteredError,
        ProviderAuthError,
        ProviderUnavailableError,
    ):
        if _means(codes, cls):
            return cls
    if MODEL_MISSING.search(detail):
        return ModelNotFoundError
    return BadRequestError if _means(codes, BadRequestError) else None


def make_error(
    cls: type[ProviderError],
    message: str,
    *,
    provider: str,
    detail: str = "",
    retry_after: float | None = None,
) -> ProviderError:
    """An instance of ``cls``; an UnsupportedParameterError names its parameter."""
    if issubclass(cls, UnsupportedParameterError):
        return cls(message, provider=provider, param=unsupported_param(detail))
    return cls(message, provider=provider, retry_after=retry_after)


def unsupported_param(detail: str) -> str | None:
    """The sampling parameter an error says the model does not take (``top_p``…), or None."""
    found = UNSUPPORTED_PARAM.search(detail)
    if found is None:
        return None
    name = next(g for g in found.groups() if g)
    return _WIRE_NAMES.get(name.lower(), name.lower())


def codes_of(error: Any) -> set[str]:
    """The lower-cased ``code``/``type``/``status`` strings of an error object, if any."""
    if not isinstance(error, dict):
        return set()
    return {error[k].lower() for k in ("code", "type") if isinstance(error.get(k), str)}


def _means(codes: set[str], cls: type[ProviderError]) -> bool:
    return any(ERROR_CODES.get(code) is cls for code in codes)
