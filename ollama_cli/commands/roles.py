"""``ollama-cli roles list|show|edit``: named system prompts (``-r NAME``, ``/role NAME``).

Roles come from ``[roles.NAME]`` tables and from ``roles/NAME.md`` files in the config dir
(``ollama_cli.roles``); ``edit`` opens a role's file in the editor, creating it.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ollama_cli.app import App
    from ollama_cli.commands import Subparsers
    from ollama_cli.settings import Role

TEMPLATE = """\
+++
# Optional: provider = "claude", model = "claude-haiku-4-5", temperature = 0.2, max_tokens = 1024
+++
"""


def add_parser(sub: Subparsers, parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser("roles", parents=[parent], help="list, show or edit roles (-r NAME)")
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    ls = actions.add_parser("list", parents=[parent], help="every role and where it is defined")
    ls.add_argument("--json", action="store_true", help="print a JSON array")
    ls.set_defaults(run=run_list)
    show = actions.add_parser("show", parents=[parent], help="print one role")
    show.add_argument("name", metavar="NAME")
    show.set_defaults(run=run_show)
    edit = actions.add_parser(
        "edit", parents=[parent], help="edit (or create) roles/NAME.md in $VISUAL/$EDITOR"
    )
    edit.add_argument("name", metavar="NAME")
    edit.set_defaults(run=run_edit)
    p.set_defaults(run=run_list, json=False)


def run_list(app: App) -> int:
    from ollama_cli.commands.providers import print_table

    roles = _all(app)
    if app.args.json:
        json.dump([as_dict(r) for r in roles.values()], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if not roles:
        app.warn("no roles yet: ollama-cli roles edit NAME creates one")
        return 0
    rows = [(r.name, _target(r), _first_line(r.system), r.source) for r in roles.values()]
    print_table(app.stdout, ("role", "provider/model", "system prompt", "defined in"), rows)
    return 0


def run_show(app: App) -> int:
    role = _one(app, app.args.name)
    for key, value in as_dict(role).items():
        if key != "system" and value is not None:
            print(f"{key}: {value}")
    print()
    print(role.system)
    return 0


def run_edit(app: App) -> int:
    from ollama_cli.app import UsageError
    from ollama_cli.editor import EditorError, edit_file
    from ollama_cli.roles import NAME, role_path

    name = app.args.name
    if name in app.config.roles:
        raise UsageError(f"role {name!r} is defined in {app.config.path}; edit it there")
    if not NAME.match(name):
        raise UsageError(f"{name!r} cannot be a role name (letters, digits, '-', '_', '.')")
    path = role_path(app.paths.config_dir, name)
    created = not path.exists()
    if created:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(TEMPLATE, encoding="utf-8")
    try:
        changed = edit_file(path, app.environ)
    except EditorError as exc:
        raise UsageError(str(exc)) from None
    finally:
        if created and path.read_text(encoding="utf-8") == TEMPLATE:
            path.unlink()  # closed without writing a prompt: no empty role left behind
    if not changed:
        print(f"role {name} unchanged")
        return 0
    role = _one(app, name)  # a mistake in the file shows now, not at the next -r
    print(f"saved role {role.name} ({path})")
    return 0


def as_dict(role: Role) -> dict[str, object]:
    return {
        "name": role.name,
        "provider": role.provider,
        "model": role.model,
        "temperature": role.temperature,
        "max_tokens": role.max_tokens,
        "source": role.source,
        "system": role.system,
    }


def _all(app: App) -> dict[str, Role]:
    from ollama_cli.app import UsageError
    from ollama_cli.roles import all_roles
    from ollama_cli.settings import ConfigError

    try:
        return all_roles(app.config, app.paths.config_dir)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def _one(app: App, name: str) -> Role:
    from ollama_cli.app import UsageError
    from ollama_cli.roles import unknown_role

    role = app.find_role(name)
    if role is None:
        raise UsageError(unknown_role(app.config, app.paths.config_dir, name))
    return role


def _target(role: Role) -> str:
    if role.provider and role.model:
        return f"{role.provider}/{role.model}"
    return role.provider or role.model or "-"


def _first_line(text: str, width: int = 40) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= width else line[: width - 1] + "…"
