"""``ollama-cli usage``: tokens, answers and cost per provider, model or day, from history,
and how much of each budget is spent. Says so when tokens or prices are unknown instead
of counting 0."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ollama_cli.app import App
    from ollama_cli.commands import Subparsers
    from ollama_cli.history import HistoryStore
    from ollama_cli.usage.prices import PriceTable
    from ollama_cli.usage.report import Group


def add_parser(sub: Subparsers, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "usage",
        parents=[parent],
        help="tokens and cost per provider, model or day (from history), budgets",
        description="Tokens, answers and cost from history, grouped by provider, model or "
        "day, and how much of router.daily_budget / router.monthly_budget is spent.",
    )
    p.add_argument(
        "--since",
        metavar="WHEN",
        help="only answers since WHEN: 7d, 12h, 2w, today, month or 2026-11-01 (default: all)",
    )
    p.add_argument(
        "--by",
        choices=("provider", "model", "day"),
        default="provider",
        help="group by provider (default), model or day",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=run)


def run(app: App) -> int:
    from ollama_cli.app import UsageError
    from ollama_cli.commands.history import store_for
    from ollama_cli.usage.prices import PriceTable
    from ollama_cli.usage.report import summarise
    from ollama_cli.usage.since import parse_since

    now = time.time()
    since = None
    if app.args.since is not None:
        try:
            since = parse_since(app.args.since, now)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    store = store_for(app)
    table = PriceTable(app.config.prices)
    groups, total = summarise(
        store.usage(since, by_day=app.args.by == "day"),
        app.args.by,
        table,
        app.config.providers,
    )
    budgets = budget_use(app, table, store)
    if app.args.json:
        _dump(app, since, groups, total, budgets)
        return 0
    if not groups:
        app.warn("no answers in history" + (f" since {_when(since)}" if since else ""))
    else:
        _print_table(app.args.by, groups, total)
        for note in notes(total):
            print(note)
    for line in budget_lines(budgets):
        print(line)
    return 0


def budget_use(app: App, table: PriceTable, store: HistoryStore) -> dict[str, dict[str, float]]:
    """``{"daily": {"limit": …, "spent": …}, …}`` for the budgets that are set."""
    from ollama_cli.usage.budget import Budget
    from ollama_cli.usage.report import spend_reader

    reader = spend_reader(store, table, app.config.providers)
    budget = Budget(app.config.router, table, reader)
    return {
        word: {"limit": limit, "spent": round(budget.spent(word), 6)}
        for word, limit in budget.limits.items()
    }


def budget_lines(budgets: dict[str, dict[str, float]]) -> list[str]:
    """``daily budget: $0.42 of $1.00 spent (42%)``, one line per budget that is set."""
    from ollama_cli.usage.prices import format_cost

    lines = []
    for word, use in budgets.items():
        limit, spent = use["limit"], use["spent"]
        share = f" ({spent / limit:.0%})" if limit else ""
        lines.append(f"{word} budget: {format_cost(spent)} of {format_cost(limit)} spent{share}")
    return lines


def notes(total: Group) -> list[str]:
    """What the table cannot show: answers of unknown tokens or price, the prices' date."""
    from ollama_cli.usage.prices import CURRENCY, PRICES_DATE

    lines = []
    if total.unknown_usage:
        lines.append(
            f"+? {total.unknown_usage} answer(s) without token counts (not reported by "
            "the provider): not counted"
        )
    if total.unpriced_models:
        models = sorted(total.unpriced_models)
        lines.append(f"cost unknown for {', '.join(models)}: no price; add to the config")
        lines.append(f'  [prices."{models[0]}"] input = …, output = …  (per million tokens)')
    lines.append(f"costs in {CURRENCY}: built-in prices of {PRICES_DATE} under [prices]")
    return lines


def _print_table(by: str, groups: list[Group], total: Group) -> None:
    rows = [_cells(g) for g in groups]
    if len(groups) > 1:
        rows.append(_cells(total))
    header = (by, "answers", "input", "output", "cost")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        first = str(row[0]).ljust(widths[0])
        rest = "  ".join(str(c).rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))
        print(f"{first}  {rest}".rstrip())


def _cells(group: Group) -> tuple[str, ...]:
    from ollama_cli.usage.prices import format_cost

    cost = format_cost(group.cost)
    if group.cost is not None and not group.cost_complete:
        cost += " +?"
    return (
        group.key,
        f"{group.turns:,}",
        _tokens(group.input_tokens, group),
        _tokens(group.output_tokens, group),
        cost,
    )


def _tokens(count: int, group: Group) -> str:
    """``1,234``; ``1,234 +?`` when some answers' counts are unknown; ``?`` when all are."""
    if group.unknown_usage == group.turns:
        return "?"
    return f"{count:,} +?" if group.unknown_usage else f"{count:,}"


def _when(since: float | None) -> str | None:
    return None if since is None else datetime.fromtimestamp(since).isoformat(timespec="minutes")


def _dump(
    app: App,
    since: float | None,
    groups: list[Group],
    total: Group,
    budgets: dict[str, dict[str, float]],
) -> None:
    from ollama_cli.usage.prices import CURRENCY, PRICES_DATE

    data = {
        "since": _when(since),
        "by": app.args.by,
        "currency": CURRENCY,
        "prices_date": PRICES_DATE,
        "groups": [{"key": g.key, **g.to_dict()} for g in groups],
        "total": total.to_dict(),
        "budgets": budgets,
    }
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
