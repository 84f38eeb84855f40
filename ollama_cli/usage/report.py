"""``ollama-cli usage``'s numbers: history's per-provider-and-model sums, priced and
regrouped by provider, model or day.

Costs are computed from the stored token counts with the current price table, so a
price added to the config later prices the old answers too. A group's cost covers the
answers whose cost is known; how many are not (unknown tokens, unknown price) is kept
beside it, so the output can say "and N answers of unknown cost" instead of a wrong sum.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ollama_cli.usage.prices import PriceTable, cost_of
from ollama_cli.usage.tokens import Tokens

if TYPE_CHECKING:
    from ollama_cli.history import HistoryStore
    from ollama_cli.history.usage import UsageRow
    from ollama_cli.settings import ProviderConfig

GROUPINGS = ("provider", "model", "day")


@dataclass
class Group:
    key: str
    turns: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    unknown_usage: int = 0  # answers whose tokens the provider did not report
    unknown_cost: int = 0  # answers whose cost is unknown (no tokens or no price)
    cost: float | None = None  # of the answers whose cost is known; None if none is
    unpriced_models: set[str] = field(default_factory=set)

    def add(self, row: UsageRow, cost: float | None, unknown_cost: int) -> None:
        self.turns += row.turns
        self.input_tokens += row.input_tokens
        self.output_tokens += row.output_tokens
        self.cached_input_tokens += row.cached_input_tokens
        self.unknown_usage += row.unknown
        self.unknown_cost += unknown_cost
        if cost is not None:
            self.cost = (self.cost or 0.0) + cost

    def merge(self, other: Group) -> None:
        self.turns += other.turns
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cached_input_tokens += other.cached_input_tokens
        self.unknown_usage += other.unknown_usage
        self.unknown_cost += other.unknown_cost
        self.unpriced_models |= other.unpriced_models
        if other.cost is not None:
            self.cost = (self.cost or 0.0) + other.cost

    @property
    def cost_complete(self) -> bool:
        """Whether ``cost`` is the whole group's cost (no answer of unknown cost)."""
        return self.unknown_cost == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "turns": self.turns,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cached_input_tokens": self.cached_input_tokens,
            "cost": None if self.cost is None else round(self.cost, 6),
            "cost_complete": self.cost_complete,
            "unknown_usage_turns": self.unknown_usage,
            "unknown_cost_turns": self.unknown_cost,
        }


def group_key(row: UsageRow, by: str) -> str:
    if by == "day":
        return row.day or "-"
    if by == "model":
        return row.model or "-"
    return row.provider or "-"


@dataclass(frozen=True)
class Priced:
    """One history row with what is known of its cost."""

    row: UsageRow
    cost: float | None  # of its answers whose cost is known
    unknown_cost: int  # how many of its answers have no known cost
    unpriced: bool  # its model has no price


def priced_rows(
    rows: Iterable[UsageRow], table: PriceTable, providers: Mapping[str, ProviderConfig]
) -> Iterable[Priced]:
    """Each row priced: a free model costs 0 even where its tokens are unknown; answers
    without tokens have no cost, only those that generated tokens lack a price."""
    for row in rows:
        price = table.price(providers.get(row.provider or ""), row.model)
        if price is None:
            generated = row.known_input or row.known_output
            unknown = row.turns if generated else row.unknown
            yield Priced(row, None, unknown, unpriced=bool(generated))
        elif price.input == price.output == 0 and not price.cached_input:
            yield Priced(row, 0.0, 0, unpriced=False)
        else:
            known = Tokens(row.known_input, row.known_output, row.known_cached)
            cost = cost_of(price, known) if row.turns > row.unknown else None
            yield Priced(row, cost, row.unknown, unpriced=False)


def summarise(
    rows: Iterable[UsageRow],
    by: str,
    table: PriceTable,
    providers: Mapping[str, ProviderConfig],
) -> tuple[list[Group], Group]:
    """Groups in key order, and the total."""
    groups: dict[str, Group] = {}
    for priced in priced_rows(rows, table, providers):
        key = group_key(priced.row, by)
        group = groups.setdefault(key, Group(key))
        group.add(priced.row, priced.cost, priced.unknown_cost)
        if priced.unpriced:
            group.unpriced_models.add(priced.row.model or "-")
    total = Group("total")
    for group in groups.values():
        total.merge(group)
    return [groups[k] for k in sorted(groups)], total


def known_cost(
    rows: Iterable[UsageRow], table: PriceTable, providers: Mapping[str, ProviderConfig]
) -> float:
    """What the answers of known cost in ``rows`` cost (what a budget counts)."""
    return sum(p.cost or 0.0 for p in priced_rows(rows, table, providers))


def spend_reader(
    store: HistoryStore | None, table: PriceTable, providers: Mapping[str, ProviderConfig]
) -> Callable[[float], float]:
    """``start → the known cost of the answers stored since start`` (0 without history)."""

    def spent_since(start: float) -> float:
        from ollama_cli.history import HistoryError

        if store is None:
            return 0.0
        try:
            return known_cost(store.usage(start), table, providers)
        except HistoryError:  # reported where the history is used; nothing counted here
            return 0.0

    return spent_since
