"""The routing policy as one table: what the router does with each error type.

The router decides by exception type only (never by status codes), walking the MRO so a
subclass of a taxonomy error gets its parent's rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from providers.errors import (
    BadRequestError,
    ContentFilteredError,
    ContextLengthError,
    ModelNotFoundError,
    ProviderAuthError,
    ProviderError,
    ProviderUnavailableError,
    ProviderUnreachableError,
    RateLimitError,
    UnsupportedParameterError,
)


@dataclass(frozen=True)
class Rule:
    retry: bool  # try the same provider again (with backoff)?
    fall_over: bool  # go on to the next provider?
    cooldown: bool  # does it count toward the provider's cooldown?


#             error type                   retry  fall over  cooldown
POLICY: dict[type[ProviderError], Rule] = {
    ProviderAuthError:        Rule(False, True, False),
    ProviderUnavailableError: Rule(True, True, True),
    ProviderUnreachableError: Rule(False, True, True),  # refused / no such host
    RateLimitError:           Rule(True, True, True),   # retry only if the wait is short
    ModelNotFoundError:       Rule(False, True, False),
    ContextLengthError:       Rule(False, True, False),
    ContentFilteredError:     Rule(False, True, False),
    BadRequestError:          Rule(False, False, False),
    # Asked again once without the parameter (walk.py); if that fails too, the user's.
    UnsupportedParameterError: Rule(False, False, False),
}  # fmt: skip

UNKNOWN = Rule(False, True, True)


def rule_for(error: ProviderError) -> Rule:
    for cls in type(error).__mro__:
        if cls in POLICY:
            return POLICY[cls]
    return UNKNOWN
