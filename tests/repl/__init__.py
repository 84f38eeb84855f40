"""REPL tests. Helpers shared by the in-process tests: build the state ``ollama-cli chat``
would build, and drive the real loop through a real PromptSession fed by a pipe."""

from __future__ import annotations

import asyncio
import io
import os
from pathlib import Path

from prompt_toolkit.history import History, InMemoryHistory
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from ollama_cli.app import App
from ollama_cli.cli import build_parser
from ollama_cli.history import HistoryStore, StoredMessage
from ollama_cli.options import GlobalOptions, TurnOptions
from ollama_cli.repl import ReplState, build_session, repl_loop
from tests import HANG_S

CTRL_C = "\x03"
CTRL_D = "\x04"
ESC_ENTER = "\x1b\r"
UP = "\x1b[A"


def home() -> Path:
    return Path(os.environ["OLLAMA_CLI_HOME"])


def write_config(*, chain: list[str], providers: dict[str, dict[str, str]]) -> None:
    """A config.toml in OLLAMA_CLI_HOME: ``chain`` and one table per provider."""
    lines = ["[router]", f"chain = {chain!r}".replace("'", '"'), "retries = 0"]
    for name, keys in providers.items():
        lines.append(f"[providers.{name}]")
        lines += [f'{key} = "{value}"' for key, value in keys.items()]
    (home() / "config.toml").write_text("\n".join(lines) + "\n")


def only_ollama(url: str) -> None:
    write_config(chain=["ollama"], providers={"ollama": {"host": url}})


def with_backup(ollama: str, backup: str) -> None:
    """Chain ``ollama`` then ``backup``, a second Ollama-type provider (a fallback target)."""
    write_config(
        chain=["ollama", "backup"],
        providers={"ollama": {"host": ollama}, "backup": {"type": "ollama", "host": backup}},
    )


def make_state(*argv: str) -> ReplState:
    """The state of ``ollama-cli chat ARGV``, writing to a StringIO (``state.out``)."""
    args = build_parser().parse_args(["chat", *argv])
    options = GlobalOptions.from_namespace(args)
    return ReplState.start(App(options, args), TurnOptions.build(options, args), out=io.StringIO())


def output(state: ReplState) -> str:
    out = state.out
    assert isinstance(out, io.StringIO)
    return out.getvalue()


async def drive(state: ReplState, keys: str, *, history: History | None = None) -> str:
    """Type ``keys`` into the real loop (end them with Ctrl-D); return what it printed."""
    with create_pipe_input() as pipe:
        session = build_session(
            state, input=pipe, output=DummyOutput(), history=history or InMemoryHistory()
        )
        pipe.send_text(keys)
        status = await asyncio.wait_for(repl_loop(state, session, signals=False), HANG_S)
    assert status == 0
    return output(state)


def stored_messages() -> list[StoredMessage]:
    """Every message of the most recent conversation in OLLAMA_CLI_HOME's history."""
    with HistoryStore(home() / "history.sqlite3") as store:
        last = store.last_conversation()
        assert last is not None
        return store.messages(last.id)
