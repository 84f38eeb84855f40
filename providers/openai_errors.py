"""OpenAI-style error replies and in-band errors, mapped onto the taxonomy once, purely.

Servers that speak OpenAI's API disagree on how to say what went wrong: OpenAI's error
bodies (``{"error": {"message", "type", "code"}}``), vLLM's and llama.cpp's numeric codes
in-band, the HF router's plain text, LiteLLM's wording, a proxy's HTML. What the codes and
words mean is decided in ``providers.wording`` (the one classifier); this module only
finds them in OpenAI-shaped bodies.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from providers.errors import ModelNotFoundError, ProviderError, ProviderUnavailableError
from providers.http import codes_in, error_detail, error_for_status
from providers.wording import codes_of, error_class, make_error


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
    codes = codes_in(body)
    found = error_for_status(name, status, detail, headers, codes)
    if status == 404 and type(found) is ModelNotFoundError and "model" not in detail.lower():
        # A 404 that names no model is usually a base_url without its /v1.
        return ModelNotFoundError(f"{found.message} (is base_url right?)", provider=name)
    return found


def error_from_payload(
    name: str, error: Any, *, where: str = "", secret: str | None = None
) -> ProviderError:
    """Map an in-band error object (on a 200 stream, or a failed response) to the taxonomy.

    ``secret`` (the request's key) is redacted from the server's message.
    """
    raw = error if isinstance(error, str) else json.dumps(error)
    detail = error_detail(raw, secrets=(secret,))
    msg = f"{name}: {where}{detail}" if detail else f"{name}: {where}server error"
    codes = codes_of(error)
    status = _status_of(error)
    if status is not None:
        cls = type(error_for_status(name, status, detail, codes=codes))
    else:
        # A server-side failure mid-answer: another try, or another provider, may well work.
        cls = error_class(codes, detail) or ProviderUnavailableError
    return make_error(cls, msg, provider=name, detail=detail)


def _status_of(error: Any) -> int | None:
    """An HTTP status given as the error ``code`` (vLLM and llama.cpp do that in-band)."""
    code = error.get("code") if isinstance(error, dict) else None
    if isinstance(code, str) and code.isdigit():
        code = int(code)
    return code if isinstance(code, int) and 400 <= code < 600 else None
