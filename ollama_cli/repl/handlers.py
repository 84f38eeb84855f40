"""The REPL's slash commands, declared into ``COMMANDS`` in the order ``/help`` lists them.

Each handler is short: the work is done by the router, the conversation and the history
store, the same ones the other commands use.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ollama_cli.conversation import Conversation
from ollama_cli.private import write_export
from ollama_cli.repl.slash import EndSession, SlashRegistry
from ollama_cli.repl.turn import retry
from ollama_cli.settings import unknown_provider

if TYPE_CHECKING:
    from ollama_cli.repl.state import ReplState

COMMANDS = SlashRegistry()

#: How long ``/providers`` and ``/models`` wait for a provider before calling it unreachable.
CHECK_TIMEOUT_S = 5.0
HISTORY_ROWS = 20

KEYS_HELP = (
    'keys: Esc+Enter inserts a newline; a line starting with """ opens a block until a line '
    'ending with """; Ctrl-C stops an answer or clears the line; Ctrl-D leaves. '
    "Start a message with // to send a literal /."
)


@COMMANDS.command("help", "show this help", aliases=("?",))
async def show_help(state: ReplState, arg: str) -> None:
    for line in COMMANDS.help_lines():
        state.say(line)
    state.say(KEYS_HELP, dim=True)


@COMMANDS.command("provider", "try this provider first", args="[NAME]", complete="provider")
async def choose_provider(state: ReplState, arg: str) -> None:
    providers = state.app.config.providers
    if not arg:
        name, model = state.target()
        state.say(f"provider: {name} ({model}); known: {', '.join(providers)}")
        return
    if arg not in providers:
        state.say(unknown_provider(arg, providers))
        return
    state.choose(provider=arg)
    state.models.want(arg)
    cfg = providers[arg]
    state.say(f"provider: {arg} ({cfg.default_model})", dim=True)
    if cfg.key_required and cfg.resolve_key(state.app.environ) is None:
        state.say(f"{arg}: {cfg.key_env} is not set; answers will come from the next provider")


@COMMANDS.command(
    "model", "use this model (for the first provider tried)", args="[NAME]", complete="model"
)
async def choose_model(state: ReplState, arg: str) -> None:
    if not arg:
        name, model = state.target()
        state.say(f"model: {model} (provider {name}); /models lists them")
        return
    from ollama_cli.targets import split_target

    provider, picked = split_target(state.app.config, None, arg)
    state.choose(provider=provider, model=picked)
    name, chosen = state.target()
    state.say(f"model: {chosen} (provider {name})", dim=True)


@COMMANDS.command(
    "models", "list the models of PROVIDER (default: the current one)", args="[PROVIDER]",
    complete="provider",
)  # fmt: skip
async def list_models(state: ReplState, arg: str) -> None:
    from ollama_cli.settings import unknown_provider
    from ollama_cli.suggest import did_you_mean
    from providers.errors import ProviderError

    providers = state.app.config.providers
    name, current = state.target()
    if arg and arg != name:
        if arg not in providers:
            state.say(unknown_provider(arg, providers) + did_you_mean(arg, providers))
            return
        name, current = arg, providers[arg].default_model
    default = providers[name].default_model
    try:
        listed = await asyncio.wait_for(state.router.list_models(name), CHECK_TIMEOUT_S)
    except TimeoutError:
        state.say(f"{name}: no answer within {CHECK_TIMEOUT_S:g} s")
        return
    except ProviderError as exc:
        state.say(str(exc))
        return
    names = [m.id for m in listed]
    state.models.put(name, names)
    if not names:
        state.say(f"{name} lists no models")
    for model in sorted(names):
        is_current = same_model(model, current)
        marks = [
            m for m, on in (("current", is_current), ("default", same_model(model, default))) if on
        ]
        note = f"  ({', '.join(marks)})" if marks else ""
        state.say(f"{'*' if is_current else ' '} {model}{note}")


def same_model(listed: str, wanted: str) -> bool:
    """Ollama lists ``llama3.2:latest`` for the model asked for as ``llama3.2``."""
    return listed in (wanted, f"{wanted}:latest")


@COMMANDS.command("providers", "check every configured provider (concurrently)")
async def check_providers(state: ReplState, arg: str) -> None:
    from ollama_cli.commands.providers import COLUMNS, print_table, terminal_width

    state.say(f"checking {len(state.app.config.providers)} providers…", dim=True)
    reports = await state.router.health_check(timeout=CHECK_TIMEOUT_S)
    rows = [
        (
            r.name,
            r.type,
            r.status,
            r.default_model,
            "-" if r.latency_ms is None else str(r.latency_ms),
            "-" if r.models is None else str(r.models),
            r.key_env or "-",
            r.detail,
        )
        for r in reports
    ]
    # The same table as `ollama-cli providers list`, written where the REPL writes.
    print_table(state.writer, COLUMNS, rows, terminal_width(state.turn.verbose))


@COMMANDS.command("system", "show, set or clear the system prompt", args="[TEXT|clear]")
async def system_prompt(state: ReplState, arg: str) -> None:
    conversation = state.conversation
    if not arg:
        state.say(f"system: {conversation.system}" if conversation.system else "no system prompt")
        return
    from ollama_cli.history import HistoryError

    try:
        conversation.set_system(None if arg == "clear" else arg)
    except HistoryError as exc:  # set for this session; storing it failed
        state.say(f"system prompt set for this session only: {exc}")
        return
    state.say("system prompt cleared" if arg == "clear" else "system prompt set", dim=True)


@COMMANDS.command(
    "file", "attach files, directories or URLs to your next message", args="PATH…", complete="path"
)
async def attach_files(state: ReplState, arg: str) -> None:
    import shlex

    from ollama_cli.attach import AttachError, load_all

    if not arg:
        listing = state.pending.listing
        state.say("attached: " + "; ".join(listing) if listing else "nothing attached yet")
        return
    try:
        bundle = await load_all(shlex.split(arg))
    except (AttachError, ValueError) as exc:  # ValueError: unbalanced quotes
        state.say(str(exc))
        return
    state.pending.add(bundle)
    for line in bundle.listing:
        state.say(f"attached {line} (sent with your next message)", dim=True)


@COMMANDS.command(
    "role", "use a role from now on (or: /role clear)", args="[NAME|clear]", complete="role"
)
async def use_role(state: ReplState, arg: str) -> None:
    from ollama_cli.app import UsageError
    from ollama_cli.roles import unknown_role

    app, conversation = state.app, state.conversation
    if not arg:
        role = conversation.role
        state.say(f"role: {role.name}" if role else "no role (/role NAME; ollama-cli roles list)")
        return
    if arg == "clear":
        conversation.use_role(None)
        state.say("role cleared (no system prompt)", dim=True)
        return
    try:
        role = app.find_role(arg)
    except UsageError as exc:
        state.say(str(exc))
        return
    if role is None:
        state.say(unknown_role(app.config, app.paths.config_dir, arg))
        return
    conversation.use_role(role)
    if role.provider or role.model:
        state.choose(role.provider, role.model)  # expanded when the role was read
    name, model = state.target()
    state.say(f"role: {role.name} ({name} · {model})", dim=True)


@COMMANDS.command(
    "reasoning", "show the model's reasoning (dimmed) or only 'thought for N s'", args="[on|off]"
)
async def reasoning(state: ReplState, arg: str) -> None:
    if arg not in ("", "on", "off"):
        state.say("usage: /reasoning on|off")
        return
    if arg:
        state.show_reasoning = arg == "on"
    shown = "shown (dimmed)" if state.show_reasoning else "hidden ('thought for N s' only)"
    state.say(f"reasoning: {shown}", dim=bool(arg))


@COMMANDS.command(
    "edit", "compose a message in $VISUAL/$EDITOR (also Ctrl-X Ctrl-E)", args="[TEXT]"
)
async def edit_message(state: ReplState, arg: str) -> None:
    from ollama_cli.editor import EditorError, edit_text
    from ollama_cli.repl.turn import answer

    try:
        text = await asyncio.to_thread(edit_text, arg, state.app.environ)
    except EditorError as exc:
        state.say(str(exc))
        return
    if text is None or not text.strip():
        state.say("nothing sent (the editor was closed without saving)", dim=True)
        return
    message = text.strip("\n")
    state.say(message)
    await answer(state, message)


@COMMANDS.command(
    "copy", "copy the last answer (or its N-th code block) to the clipboard", args="[code [N]]"
)
async def copy_answer(state: ReplState, arg: str) -> None:
    from ollama_cli.clipboard import ClipboardError, code_blocks, copy

    last = next(
        (m.content for m in reversed(state.conversation.messages) if m.role == "assistant"), None
    )
    what, _, number = arg.partition(" ")
    number = number.strip() or "1"
    if what not in ("", "code") or not number.isdigit() or int(number) < 1:
        state.say("usage: /copy, or /copy code [N] for the N-th code block")
        return
    if last is None:
        state.say("nothing to copy yet")
        return
    text, label = last, "the last answer"
    if what == "code":
        blocks = code_blocks(last)
        if int(number) > len(blocks):
            plural = "" if len(blocks) == 1 else "s"
            state.say(f"the last answer has {len(blocks)} code block{plural}")
            return
        text, label = blocks[int(number) - 1], f"code block {number}"
    try:
        used = copy(text, state.out, state.app.environ)
    except ClipboardError as exc:
        state.say(str(exc))
        return
    state.say(f"copied {label} ({len(text)} characters, {', '.join(used)})", dim=True)


@COMMANDS.command("retry", "answer the last message again", args="[PROVIDER]", complete="provider")
async def retry_last(state: ReplState, arg: str) -> None:
    providers = state.app.config.providers
    if arg and arg not in providers:
        state.say(unknown_provider(arg, providers))
        return
    await retry(state, arg or None)


@COMMANDS.command("clear", "start a new conversation", aliases=("new",))
async def clear(state: ReplState, arg: str) -> None:
    old = state.conversation
    state.conversation = Conversation(old.store, system=old.system, role=old.role)
    state.last = state.fallback = state.unanswered = None
    state.say("new conversation", dim=True)


@COMMANDS.command("history", "list recent conversations")
async def recent(state: ReplState, arg: str) -> None:
    store = state.conversation.store
    if store is None:
        state.say("history is off for this session")
        return
    rows = store.list_conversations(limit=HISTORY_ROWS)
    if not rows:
        state.say("no conversations yet")
    for row in rows:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(row.updated))
        mark = "*" if row.id == state.conversation.id else " "
        by = row.last_provider or "-"
        state.say(
            f"{mark} {row.id}  {when}  {row.message_count:>3} msgs  {by:<8}  {row.title or ''}"
        )
    state.say("/load ID continues one (a unique prefix is enough)", dim=True)


@COMMANDS.command("load", "continue a stored conversation", args="ID", complete="conversation")
async def load(state: ReplState, arg: str) -> None:
    from ollama_cli.history import HistoryError

    store = state.conversation.store
    if store is None:
        state.say("history is off for this session")
        return
    if not arg:
        state.say("usage: /load ID (/history lists them)")
        return
    try:
        conversation = Conversation.load(store, store.resolve(arg))
    except HistoryError as exc:
        state.say(str(exc))
        return
    state.conversation = conversation
    state.last = state.fallback = state.unanswered = None
    show_messages(state, conversation)
    state.say(f"loaded {conversation.id}: {len(conversation.messages)} messages", dim=True)


def show_messages(state: ReplState, conversation: Conversation) -> None:
    """The loaded turns, answers rendered as they were when streamed."""
    from ollama_cli.render import make_renderer

    if conversation.system:
        state.say(f"system: {conversation.system}", dim=True)
    for message in conversation.messages:
        if message.role == "user":
            state.say(f">>> {message.content}")
            for part in message.attachments:
                state.say(f"    attached {part.name} ({part.media_type})", dim=True)
            continue
        with make_renderer(
            state.console, raw=state.raw, environ=state.app.environ, notices=state.writer
        ) as renderer:
            renderer.feed(message.content)
        state.say("")


@COMMANDS.command("save", "write the conversation to a markdown file", args="FILE [--force]")
async def save(state: ReplState, arg: str) -> None:
    words = arg.split()
    force = "--force" in words
    name = " ".join(w for w in words if w != "--force")
    if not name:
        state.say("usage: /save FILE [--force]")
        return
    path = Path(name).expanduser()
    if path.is_file() and not force:  # a directory fails below, with its own message
        state.say(f"{path} exists; /save {name} --force overwrites it")
        return
    try:
        write_export(path, conversation_markdown(state.conversation))
    except OSError as exc:
        state.say(f"cannot write {path}: {exc.strerror or exc}")
        return
    state.say(f"saved {len(state.conversation.messages)} messages to {path}", dim=True)


def conversation_markdown(conversation: Conversation) -> str:
    """The stored export when there is one; else the same format from the context."""
    from ollama_cli.history import export
    from ollama_cli.history.records import StoredConversation, StoredMessage

    store, cid = conversation.store, conversation.id
    if store is not None and cid is not None:
        return store.to_markdown(cid)
    now = time.time()
    record = StoredConversation("unsaved", now, now, None, conversation.system)
    messages = [
        StoredMessage(i, "unsaved", i, now, m.role, m.content)
        for i, m in enumerate(conversation.messages)
    ]
    return export.to_markdown(record, messages)


@COMMANDS.command("exit", "leave (or Ctrl-D)", aliases=("bye", "quit"))
async def leave(state: ReplState, arg: str) -> None:
    raise EndSession
