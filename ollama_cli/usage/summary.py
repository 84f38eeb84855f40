"""One answer's cost as a person reads it (``-v``, the REPL), saying why when unknown."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ollama_cli.usage.prices import format_cost

if TYPE_CHECKING:
    from ollama_cli.router import RouteResult
    from ollama_cli.usage.tokens import Tokens


def token_counts(tokens: Tokens) -> str:
    """``12 in / 34 out tokens``, with ``?`` for a count the provider did not report."""
    return f"{_count(tokens.input)} in / {_count(tokens.output)} out tokens"


def cost_summary(result: RouteResult) -> str:
    """``cost $0.0012 (12 in / 34 out tokens)``, or why the cost is unknown."""
    tokens = result.tokens
    counts = token_counts(tokens)
    if result.cost is not None:
        return f"cost {format_cost(result.cost)} ({counts})"
    if not tokens.known:
        return f"cost unknown: {result.provider} did not report its tokens ({counts})"
    return f'cost unknown: no price for {result.model} (add [prices."{result.model}"])'


def _count(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"
