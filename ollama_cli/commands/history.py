"""``ollama-cli history list|show|export|rm|search``: the conversations stored in SQLite.

``history`` alone lists; ``history show`` without an id shows the latest conversation.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TYPE_CHECKING

from ollama_cli.commands import examples

if TYPE_CHECKING:
    from ollama_cli.app import App
    from ollama_cli.commands import Subparsers
    from ollama_cli.history import HistoryStore


def add_parser(sub: Subparsers, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "history",
        parents=[parent],
        help="list, show, export or delete conversations",
        **examples(
            "ollama-cli history                   the 20 latest conversations",
            "ollama-cli history show              the latest one, as markdown",
            "ollama-cli history show 3f9a --json  one by id prefix, as JSON",
            'ollama-cli history search "slow start"',
        ),
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    p.set_defaults(run=run_list, n=20, json=False)
    ls = actions.add_parser("list", parents=[parent], help="recent conversations, newest first")
    ls.add_argument("-n", type=int, default=20, metavar="N", help="how many (default 20)")
    ls.add_argument("--json", action="store_true", help="as JSON")
    ls.set_defaults(run=run_list)
    show = actions.add_parser("show", parents=[parent], help="print a conversation")
    show.add_argument(
        "id", metavar="ID", nargs="?", help="conversation id or unique prefix (default: latest)"
    )
    show.add_argument("--json", action="store_true", help="as JSON")
    show.set_defaults(run=run_show)
    export = actions.add_parser("export", parents=[parent], help="export a conversation")
    export.add_argument("id", metavar="ID")
    export.add_argument(
        "--format", choices=("md", "json"), default="md", help="md (default) or json"
    )
    export.set_defaults(run=run_show)
    rm = actions.add_parser("rm", parents=[parent], help="delete a conversation")
    rm.add_argument("id", metavar="ID")
    rm.set_defaults(run=run_rm)
    search = actions.add_parser("search", parents=[parent], help="find messages containing TEXT")
    search.add_argument("text", metavar="TEXT")
    search.add_argument("-n", type=int, default=20, metavar="N", help="how many (default 20)")
    search.add_argument("--json", action="store_true", help="as JSON")
    search.set_defaults(run=run_search)


def store_for(app: App) -> HistoryStore:
    """The store, or a usage error explaining why there is none."""
    from ollama_cli.app import UsageError
    from ollama_cli.conversation import open_store

    if not app.config.history_enabled:
        raise UsageError("history is turned off (history.enabled = false in config)")
    store = open_store(app, reading=True)
    if store is None:
        raise UsageError("history is not available (see the warning above)")
    return store


def resolved(app: App, store: HistoryStore) -> str:
    from ollama_cli.app import UsageError
    from ollama_cli.history import HistoryError

    try:
        if app.args.id is None:  # `history show` alone: the latest conversation
            last = store.last_conversation()
            if last is None:
                raise UsageError("no conversations yet")
            return last.id
        return store.resolve(app.args.id)
    except HistoryError as exc:
        raise UsageError(str(exc)) from None


def run_list(app: App) -> int:
    store = store_for(app)
    rows = store.list_conversations(limit=max(1, app.args.n))
    if app.args.json:
        _dump([r.__dict__ for r in rows])
        return 0
    if not rows:
        app.warn("no conversations yet")
    for r in rows:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.updated))
        who = f"{r.last_provider}/{r.last_model}" if r.last_provider else "-"
        app.stdout.line(f"{r.id}  {when}  {r.message_count:>3} msgs  {who:<32}  {r.title or ''}")
    return 0


def run_show(app: App) -> int:
    """``show`` prints markdown (or ``--json``); ``export`` the same, by ``--format``."""
    store = store_for(app)
    cid = resolved(app, store)
    as_json = getattr(app.args, "json", False) or getattr(app.args, "format", "md") == "json"
    if as_json:
        _dump(store.to_json(cid))
    else:
        app.stdout.write(store.to_markdown(cid))
        app.stdout.end_text()
    return 0


def run_rm(app: App) -> int:
    store = store_for(app)
    cid = resolved(app, store)
    store.delete(cid)
    app.warn(f"deleted conversation {cid}")
    return 0


def run_search(app: App) -> int:
    store = store_for(app)
    hits = store.search(app.args.text, limit=max(1, app.args.n))
    if app.args.json:
        _dump([h.__dict__ for h in hits])
        return 0
    for h in hits:
        line = " ".join(h.text.split())
        app.stdout.line(f"{h.conversation_id}  {h.role:<9}  {line[:100]}")
    return 0 if hits else 1


def _dump(data: object) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
