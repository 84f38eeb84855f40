"""The error taxonomy: every provider failure becomes one of these, once, at the boundary.

The router decides what to do by exception type alone (see ``ollama_cli.router.policy``),
so adapters must never let an ``httpx`` or SDK exception escape. Messages are one line a
person can act on and never contain a secret.
"""

from __future__ import annotations


class ProviderError(Exception):
    """Base of the taxonomy. ``outcome`` is the trace/JSON name of the failure class.

    ``retry_after`` is the server's own Retry-After, in seconds, when it sent one (429s and
    503s do): the router waits that long instead of its own backoff.
    """

    outcome = "error"

    def __init__(
        self, message: str, *, provider: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.retry_after = retry_after

    def __str__(self) -> str:
        return self.message


class ProviderAuthError(ProviderError):
    """Missing key (raised before any request), or 401/403."""

    outcome = "auth"


class ProviderUnavailableError(ProviderError):
    """Connection refused/reset, DNS, TLS, timeouts, 5xx, 529 overloaded."""

    outcome = "unavailable"


class ProviderUnreachableError(ProviderUnavailableError):
    """Nothing answers at the address at all: connection refused, or no such host.

    Still "unavailable" to users and the trace, but the router falls over at once instead
    of retrying: a port with nothing listening will not start listening in half a second.
    """


class RateLimitError(ProviderError):
    """429 or quota exhausted. ``retry_after`` is seconds to wait, when the server said."""

    outcome = "rate_limited"


class ModelNotFoundError(ProviderError):
    """The requested model does not exist on this provider."""

    outcome = "model_not_found"


class ContextLengthError(ProviderError):
    """The prompt is too long for the model."""

    outcome = "context_too_long"


class ContentFilteredError(ProviderError):
    """Blocked by safety or moderation."""

    outcome = "content_filtered"


class BadRequestError(ProviderError):
    """Any other 4xx caused by the user's own request: no fallback will help."""

    outcome = "bad_request"


class UnsupportedParameterError(BadRequestError):
    """The model does not take a request parameter (``temperature``…), named in ``param``.

    The router asks the same provider again, once, without it (and says so).
    """

    outcome = "unsupported_parameter"

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        retry_after: float | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message, provider=provider, retry_after=retry_after)
        self.param = param


#: How every stream that closed before its finish event is worded (adapters and router).
STREAM_ENDED = "stream ended before the answer was finished"


def stream_ended(provider: str) -> ProviderUnavailableError:
    """The error for a stream that closed before its finish event: the connection went
    mid-answer, so it is retried, then fallen over, like any other unavailability. (Once
    text was shown, the router records whatever error cut the stream as ``interrupted``.)"""
    return ProviderUnavailableError(f"{provider}: {STREAM_ENDED}", provider=provider)


__all__ = [
    "STREAM_ENDED",
    "BadRequestError",
    "ContentFilteredError",
    "ContextLengthError",
    "ModelNotFoundError",
    "ProviderAuthError",
    "ProviderError",
    "ProviderUnavailableError",
    "ProviderUnreachableError",
    "RateLimitError",
    "UnsupportedParameterError",
    "stream_ended",
]
