"""Retry delays: exponential from 0.5 s, capped at 8 s, with jitter; Retry-After wins."""

from __future__ import annotations

import random

BASE_DELAY = 0.5
MAX_DELAY = 8.0


def backoff_delay(
    retry: int, retry_after: float | None = None, rng: random.Random | None = None
) -> float:
    """Seconds to wait before retry number ``retry`` (0-based).

    Jitter keeps many clients from retrying in step: the delay is drawn from
    [50 %, 100 %] of the exponential step. A server's Retry-After is honoured as given.
    """
    if retry_after is not None:
        return max(0.0, retry_after)
    step = min(MAX_DELAY, BASE_DELAY * 2.0**retry)
    jitter: float = (rng or random).random()
    return step * (0.5 + 0.5 * jitter)
