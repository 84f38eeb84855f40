"""Daily and monthly spending limits (``router.daily_budget`` / ``router.monthly_budget``).

The router asks ``refusal`` before calling a provider: a paid provider whose next call
would take the spend of the day (or month) to its budget is skipped (``skipped_budget``)
and the chain goes on, so free and local providers keep answering after the paid ones are
spent. A provider that costs 0 (local, self-hosted) is never held back; one whose price
is unknown is not either, since its spend cannot be counted (give it a ``[prices]``
entry to hold it to the budget).

The spend is the known cost of the answers in history since local midnight (or the 1st
of the month), read once per period, plus the answers this process has made since. The
next call's cost is estimated from the prompt (about 4 characters a token) and, when the
request limits it, the most the answer can cost (``--max-tokens``); without a limit a
call may take the spend somewhat past the budget, and the next one is then skipped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ollama_cli.usage.prices import PriceTable, cost_of, format_cost
from ollama_cli.usage.since import period_start
from ollama_cli.usage.tokens import Tokens

if TYPE_CHECKING:
    from ollama_cli.settings import ProviderConfig, RouterSettings

#: (setting, period word in messages, "spent …")
PERIODS = (("daily_budget", "daily", "today"), ("monthly_budget", "monthly", "this month"))

CHARS_PER_TOKEN = 4


class Budget:
    """The budgets of one process. ``spent_since(start)`` reads the stored spend."""

    def __init__(
        self,
        settings: RouterSettings,
        prices: PriceTable,
        spent_since: Callable[[float], float],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limits = {
            word: getattr(settings, key)
            for key, word, _ in PERIODS
            if getattr(settings, key) is not None
        }
        self.prices = prices
        self._spent_since = spent_since
        self._clock = clock
        self._spent: dict[tuple[str, float], float] = {}

    @property
    def active(self) -> bool:
        return bool(self.limits)

    def spent(self, word: str) -> float:
        """The known spend of the current day or month."""
        start = period_start(word, self._clock())
        key = (word, start)
        if key not in self._spent:
            self._spent[key] = self._spent_since(start)
        return self._spent[key]

    def charge(self, cost: float | None) -> None:
        """Count an answer this process made (its cost, when known)."""
        if not cost:
            return
        now = self._clock()
        for word in self.limits:
            key = (word, period_start(word, now))
            if key in self._spent:
                self._spent[key] += cost

    def refusal(
        self, provider: ProviderConfig, model: str, prompt_chars: int, max_tokens: int | None
    ) -> str | None:
        """Why ``provider`` must not be called now, or None."""
        if not self.limits:
            return None
        price = self.prices.price(provider, model)
        if price is None or (price.input == 0 and price.output == 0):
            return None
        estimate = Tokens(-(-prompt_chars // CHARS_PER_TOKEN), max_tokens or 0)
        next_call = cost_of(price, estimate) or 0.0
        for _, word, when in PERIODS:
            limit = self.limits.get(word)
            if limit is None:
                continue
            spent = self.spent(word)
            if spent + next_call >= limit:
                return (
                    f"would exceed the {word} budget of {format_cost(limit)} "
                    f"({format_cost(spent)} spent {when})"
                )
        return None
