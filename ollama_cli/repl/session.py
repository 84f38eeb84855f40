"""The REPL loop: build the prompt-toolkit session, read lines, run each as a cancellable task.

Every line (a message or a slash command) runs in its own task, so Ctrl-C — a SIGINT while
the terminal is in cooked mode — cancels just that task and the loop goes on. At the prompt,
prompt-toolkit reads Ctrl-C as a key and the line is cleared. Ctrl-D or ``/exit`` ends with 0.

Nothing here imports provider code: the router builds a provider on the first message, and
model names for completion are fetched only once the prompt is on screen.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from prompt_toolkit import PromptSession
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.history import FileHistory, History, InMemoryHistory

from ollama_cli.app import EXIT_OK
from ollama_cli.history import HistoryError
from ollama_cli.repl.completer import ReplCompleter, Source
from ollama_cli.repl.handlers import COMMANDS
from ollama_cli.repl.keys import key_bindings, unwrap_block
from ollama_cli.repl.slash import EndSession
from ollama_cli.repl.state import ReplState
from ollama_cli.repl.toolbar import toolbar_text
from ollama_cli.repl.turn import answer, take_pending

if TYPE_CHECKING:
    from prompt_toolkit.input import Input
    from prompt_toolkit.output import Output

    from ollama_cli.app import App
    from ollama_cli.options import TurnOptions
    from ollama_cli.repl.ready import Readiness

PROMPT = ">>> "
CONTINUATION = "... "


async def run_repl(app: App, turn: TurnOptions) -> int:
    """``ollama-cli chat``: the readiness check runs while the session is being built."""
    from ollama_cli.repl.ready import check

    state = ReplState.start(app, turn)
    await attach_flag_files(state)
    ready = asyncio.ensure_future(check(state))
    session = build_session(state)
    return await repl_loop(state, session, ready=ready)


async def attach_flag_files(state: ReplState) -> None:
    """``chat -f``: attached to the first message, or exit 2 before the prompt comes up."""
    files = state.turn.files
    if not files:
        return
    from ollama_cli.app import UsageError
    from ollama_cli.attach import AttachError, load_all

    try:
        state.pending = await load_all(files)
    except AttachError as exc:
        raise UsageError(str(exc)) from None
    for line in state.pending.listing:
        state.say(f"attached {line} (sent with your first message)", dim=True)


def build_session(
    state: ReplState,
    *,
    input: Input | None = None,
    output: Output | None = None,
    history: History | None = None,
) -> PromptSession[str]:
    return PromptSession(
        PROMPT,
        history=history if history is not None else input_history(state),
        auto_suggest=AutoSuggestFromHistory(),
        completer=ReplCompleter(COMMANDS, sources(state)),
        complete_while_typing=True,
        key_bindings=key_bindings(state.app.environ),
        bottom_toolbar=lambda: toolbar_text(state),
        prompt_continuation=CONTINUATION,
        input=input,
        output=output,
    )


def input_history(state: ReplState) -> History:
    """Lines typed in earlier sessions (Up, Ctrl-R, suggestions); in memory if unwritable."""
    path = state.app.paths.input_history
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=True)
    except OSError as exc:
        state.say(f"warning: cannot keep input history in {path} ({exc.strerror})", dim=True)
        return InMemoryHistory()
    return FileHistory(str(path))


def sources(state: ReplState) -> dict[str, Source]:
    """Where each kind of slash-command argument gets its values."""

    def providers() -> Iterable[tuple[str, str]]:
        return [(n, c.default_model) for n, c in state.app.config.providers.items()]

    def models() -> Iterable[tuple[str, str]]:
        from ollama_cli.targets import alias_choices

        listed = [(m, "") for m in state.models.get(state.target()[0])]
        return [*listed, *((name, f"alias: {to}") for name, to in alias_choices(state.app.config))]

    def conversations() -> Iterable[tuple[str, str]]:
        store = state.conversation.store
        rows = store.list_conversations(limit=50) if store is not None else []
        return [(r.id, r.title or "") for r in rows]

    from prompt_toolkit.completion import PathCompleter

    def roles() -> Iterable[tuple[str, str]]:
        from ollama_cli.roles import all_roles
        from ollama_cli.settings import ConfigError

        try:
            found = all_roles(state.app.config, state.app.paths.config_dir)
        except ConfigError:
            return []  # /role NAME reports the broken file
        return [(r.name, r.system.splitlines()[0][:40]) for r in found.values()]

    return {
        "provider": providers,
        "model": models,
        "conversation": conversations,
        "path": PathCompleter(expanduser=True),
        "role": roles,
    }


async def repl_loop(
    state: ReplState,
    session: PromptSession[str],
    *,
    signals: bool = True,
    ready: asyncio.Future[Readiness] | None = None,
) -> int:
    """Read and handle lines until Ctrl-D or ``/exit``; returns the exit status."""
    greet(state, await ready if ready is not None else None)
    try:
        with ctrl_c_cancels(state, session) if signals else contextlib.nullcontext():
            while True:
                try:
                    line = await session.prompt_async(
                        handle_sigint=False, pre_run=lambda: fetch_models_once_drawn(state, session)
                    )
                except KeyboardInterrupt:
                    continue
                except EOFError:
                    break
                if not await handle(state, line):
                    break
    finally:
        await state.close()
    return EXIT_OK


def greet(state: ReplState, ready: Readiness | None = None) -> None:
    """The banner: who answers (``ready``: checked; else the plan's first), then help."""
    conversation = state.conversation
    if conversation.id is not None:
        count = len(conversation.messages)
        state.say(f"continuing conversation {conversation.id} ({count} messages)", dim=True)
    if ready is None:
        provider, model = state.target()
        state.say(f"{provider} · {model} · /help for commands · Ctrl-D to quit", dim=True)
        return
    state.ready = ready
    state.say(ready.banner(), dim=True)
    state.say("/help for commands · Ctrl-D to quit", dim=True)


def fetch_models_once_drawn(state: ReplState, session: PromptSession[str]) -> None:
    """Once the prompt is on screen, fetch the current provider's models for completion
    (a no-op when they are known or already being fetched)."""

    def fetch(_: Any) -> None:
        session.app.after_render -= fetch
        state.models.want(state.target()[0])

    session.app.after_render += fetch


async def handle(state: ReplState, line: str) -> bool:
    """Run one line as a task (what Ctrl-C cancels); False when the session should end."""
    if not line.strip():
        return True
    task = asyncio.ensure_future(act(state, line))
    state.busy = task
    try:
        await asyncio.wait({task})
    except asyncio.CancelledError:
        task.cancel()  # the whole REPL is being stopped (SIGTERM): stop the line too
        with contextlib.suppress(asyncio.CancelledError):
            await task
        raise
    finally:
        state.busy = None
    if task.cancelled():
        state.say("(interrupted)", dim=True)
        state.say("")
        return True
    return task.result()


async def act(state: ReplState, line: str) -> bool:
    """Run a slash command or send a message; False after ``/exit``."""
    try:
        if line.startswith("/") and not line.startswith("//"):
            await COMMANDS.dispatch(state, line)
        else:
            text = unwrap_block(line)
            text = text[1:] if text.startswith("//") else text
            if text.strip():
                message, parts = take_pending(state, text)
                await answer(state, message, parts=parts)
    except EndSession:
        return False
    except HistoryError as exc:
        state.say(f"history: {exc}")
    return True


@contextlib.contextmanager
def ctrl_c_cancels(state: ReplState, session: PromptSession[str]) -> Iterator[None]:
    """While a line is being handled, SIGINT cancels it; at the prompt it clears the line."""
    loop = asyncio.get_running_loop()

    def on_sigint() -> None:
        if state.busy is not None and not state.busy.done():
            state.busy.cancel()
        elif session.app.is_running:
            session.app.key_processor.send_sigint()

    try:
        loop.add_signal_handler(signal.SIGINT, on_sigint)
    except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, Windows
        yield
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)
