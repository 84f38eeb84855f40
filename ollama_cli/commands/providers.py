"""``ollama-cli providers list``: every configured provider, checked concurrently.

``--all`` lists the catalog instead: every provider type, built in or installed through
the ``ollama_cli.providers`` entry point group, and any installed package that was refused.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ollama_cli.commands import examples

if TYPE_CHECKING:
    from ollama_cli.app import App
    from ollama_cli.commands import Subparsers
    from ollama_cli.render.terminal import TerminalWriter
    from ollama_cli.router.health import HealthReport

COLUMNS = (
    "name",
    "type",
    "status",
    "default model",
    "latency ms",
    "models",
    "key env var",
    "detail",
)


def add_parser(sub: Subparsers, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "providers",
        parents=[parent],
        help="list providers and their health",
        **examples(
            "ollama-cli providers               check every provider (= providers list)",
            "ollama-cli providers list --json   every field, for scripts",
            "ollama-cli providers reset ollama  forget ollama's failures and cooldown",
        ),
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    ls = actions.add_parser(
        "list", parents=[parent], help="check every configured provider (concurrently)"
    )
    ls.add_argument("--json", action="store_true", help="print a JSON array")
    ls.add_argument(
        "--timeout",
        type=float,
        default=5.0,
        metavar="S",
        help="per-provider check timeout (default 5)",
    )
    ls.add_argument("--all", action="store_true", help="show the catalog of provider types instead")
    ls.set_defaults(run=run_list)
    reset = actions.add_parser(
        "reset", parents=[parent], help="forget failures and cooldowns (all, or NAME's)"
    )
    reset.add_argument("name", metavar="NAME", nargs="?", help="only this provider")
    reset.set_defaults(run=run_reset)
    p.set_defaults(run=run_list, json=False, timeout=5.0, all=False)


def run_reset(app: App) -> int:
    """``providers reset [NAME]``: the next call tries every provider (or NAME) afresh."""
    from ollama_cli.router.cooldown import CooldownStore

    name = app.args.name
    if name is not None and name not in app.config.providers:
        from ollama_cli.app import UsageError
        from ollama_cli.settings import unknown_provider

        raise UsageError(unknown_provider(name, app.config.providers))
    cleared = CooldownStore(app.paths.cooldowns).reset(name)
    if not cleared:
        print(f"{name} had no failures to forget" if name else "no failures to forget")
    for who in cleared:
        print(f"{who}: failures and cooldown forgotten")
    return 0


def run_list(app: App) -> int:
    from ollama_cli.app import run_async

    if app.args.all:
        return catalog(app)
    if app.args.timeout <= 0:
        from ollama_cli.app import UsageError

        raise UsageError("--timeout must be positive")
    config = app.config

    async def check() -> list[HealthReport]:
        if not app.args.json:
            app.warn(f"checking {len(config.providers)} providers…")
        try:
            return await app.router.health_check(list(config.providers), timeout=app.args.timeout)
        finally:
            await app.router.aclose()

    reports: list[HealthReport] = []

    async def main() -> int:
        reports.extend(await check())
        return 0

    status = run_async(main())
    if status:
        return status
    if app.args.json:
        json.dump([r.to_dict() for r in reports], sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        rows = [
            (
                r.name,
                r.type,
                r.status,
                _default_model(r),
                _opt(r.latency_ms),
                _opt(r.models),
                r.key_env or "-",
                r.detail,
            )
            for r in reports
        ]
        print_table(app.stdout, COLUMNS, rows, terminal_width(app.options.verbose))
    return 0 if any(r.status == "ok" for r in reports) else 1


def catalog(app: App) -> int:
    from providers.registry import ProviderRegistry

    registry = ProviderRegistry()
    specs = registry.all_specs()
    configured: dict[str, list[str]] = {}
    for name, cfg in app.config.providers.items():
        configured.setdefault(cfg.type, []).append(name)
    rows = [
        {
            "type": s.type_name,
            "origin": s.origin,
            "configured": configured.get(s.type_name, []),
            "key_env": list(s.key_envs),
            "default_model": s.default_model,
            "pip": list(s.pip_packages),
            "streaming": s.supports_streaming,
        }
        for s in specs
    ]
    refused = [r.message for r in registry.refused]
    if app.args.json:
        json.dump({"types": rows, "refused": refused}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        table = [
            (
                s.type_name,
                s.origin,
                ", ".join(configured.get(s.type_name, [])) or "-",
                ", ".join(s.key_envs) or "-",
                s.default_model or "-",
                ", ".join(s.pip_packages) or "-",
            )
            for s in specs
        ]
        header = ("type", "origin", "configured as", "key env var", "default model", "pip packages")
        # A reference table: whole in a pipe; a narrow terminal loses the columns after
        # the type (what this table is about) first.
        catalog_drop = ("pip packages", "key env var", "configured as")
        width = terminal_width(app.options.verbose) if sys.stdout.isatty() else None
        print_table(app.stdout, header, table, width, drop=catalog_drop)
        for line in refused:
            app.warn(f"refused: {line}")
    return 0


#: To fit a narrow terminal, these columns go first (in this order) — ``--json`` and ``-v``
#: keep them — then the model is shortened with "…" and the detail wrapped onto more lines.
DROP_FIRST = ("key env var", "models", "type", "latency ms")
SHORTEN, WRAP = "default model", "detail"
MIN_SHORTENED = 20
MIN_WRAPPED = 16
COMFORTABLE_WRAP = 30


def print_table(
    out: TerminalWriter,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    width: int | None = None,
    drop: Sequence[str] = (),
) -> None:
    """Aligned plain columns: readable on a terminal, greppable in a pipe.

    With ``width``, columns are dropped (``drop``, else ``DROP_FIRST``) and shortened
    (``fit``) until a line fits.
    """
    if width is not None:
        columns, rows = fit(columns, rows, width, drop or DROP_FIRST)
    widths = _widths(columns, rows)
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    for row in rows:
        cells = [str(v).split("\n") for v in row]  # a wrapped cell continues below
        for n in range(max(len(c) for c in cells)):
            parts = [
                (c[n] if n < len(c) else "").ljust(w) for c, w in zip(cells, widths, strict=True)
            ]
            lines.append("  ".join(parts).rstrip())
    for line in lines:
        out.line(line)


def fit(
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    width: int,
    drop: Sequence[str] = DROP_FIRST,
) -> tuple[list[str], list[list[str]]]:
    """The table with ``drop`` columns removed (in order) and ``SHRINK`` ones cut to
    ``width``."""
    cols, table = list(columns), [[str(v) for v in row] for row in rows]

    def total() -> int:
        return sum(_widths(cols, table)) + 2 * (len(cols) - 1)

    for name in drop:
        if total() <= width:
            break
        if name in cols:
            i = cols.index(name)
            del cols[i]
            for row in table:
                del row[i]
    if WRAP in cols:
        i = cols.index(WRAP)
        room = width - (total() - _widths(cols, table)[i])
        if room < COMFORTABLE_WRAP and SHORTEN in cols:  # the model gives way first
            j = cols.index(SHORTEN)
            limit = max(MIN_SHORTENED, _widths(cols, table)[j] - (COMFORTABLE_WRAP - room))
            for row in table:
                row[j] = row[j] if len(row[j]) <= limit else row[j][: limit - 1] + "…"
            room = width - (total() - _widths(cols, table)[i])
        if total() > width:
            import textwrap

            limit = max(MIN_WRAPPED, room)
            for row in table:
                row[i] = "\n".join(textwrap.wrap(row[i], limit, break_on_hyphens=False)) or "-"
    return cols, table


def _widths(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> list[int]:
    return [
        max(len(c), *(len(str(r[i])) for r in rows)) if rows else len(c)
        for i, c in enumerate(columns)
    ]


def terminal_width(verbose: bool) -> int | None:
    """The width a table must fit (``COLUMNS``, the terminal, else 80); None with ``-v``."""
    import shutil

    return None if verbose else shutil.get_terminal_size((80, 24)).columns


def _default_model(report: HealthReport) -> str:
    """The default, with its lifecycle when the cached catalog knows it is ending."""
    if report.lifecycle == "retired":
        return f"{report.default_model} (retired)"
    if report.lifecycle == "deprecated":
        when = f", retires {report.retires_at}" if report.retires_at else ""
        return f"{report.default_model} (deprecated{when})"
    return report.default_model


def _opt(value: int | None) -> str:
    return "-" if value is None else str(value)
