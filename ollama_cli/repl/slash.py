"""The slash-command registry: one table that dispatches, completes and writes ``/help``.

As in litecli, a command is declared once (name, aliases, argument help, one line of help,
handler) and everything else — the help screen, completion of names and arguments, the
"did you mean" hint for a typo — is derived from that declaration.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ollama_cli.suggest import closest

if TYPE_CHECKING:
    from ollama_cli.repl.state import ReplState

Handler = Callable[["ReplState", str], Awaitable[None]]


class EndSession(Exception):
    """Raised by ``/exit``: leave the REPL normally (status 0)."""


@dataclass(frozen=True)
class SlashCommand:
    name: str
    help: str
    handler: Handler
    args: str = ""  # e.g. "NAME" or "[PROVIDER]", shown in /help
    aliases: tuple[str, ...] = ()
    complete: str | None = None  # what the argument completes to: "provider", "model", …

    @property
    def usage(self) -> str:
        return f"/{self.name} {self.args}".rstrip()


class SlashRegistry:
    """Commands by name and alias, in declaration order."""

    def __init__(self) -> None:
        self._commands: list[SlashCommand] = []
        self._by_name: dict[str, SlashCommand] = {}

    def command(
        self,
        name: str,
        help: str,
        *,
        args: str = "",
        aliases: tuple[str, ...] = (),
        complete: str | None = None,
    ) -> Callable[[Handler], Handler]:
        """Declare the decorated coroutine as ``/name``."""

        def register(handler: Handler) -> Handler:
            self.add(SlashCommand(name, help, handler, args, aliases, complete))
            return handler

        return register

    def add(self, command: SlashCommand) -> None:
        for key in (command.name, *command.aliases):
            if key in self._by_name:
                raise ValueError(f"/{key} is declared twice")
            self._by_name[key] = command
        self._commands.append(command)

    def __iter__(self) -> Iterator[SlashCommand]:
        return iter(self._commands)

    def find(self, name: str) -> SlashCommand | None:
        return self._by_name.get(name.lower())

    def names(self) -> Iterator[tuple[str, SlashCommand]]:
        """Every name and alias with its command: what completion offers."""
        for command in self._commands:
            for key in (command.name, *command.aliases):
                yield key, command

    def closest(self, name: str) -> str | None:
        matches = closest(name, self._by_name, n=1, cutoff=0.5)
        return self._by_name[matches[0]].name if matches else None

    def help_lines(self) -> list[str]:
        """``/help``: one aligned line per command, aliases at the end."""
        width = max(len(c.usage) for c in self._commands)
        lines = []
        for command in self._commands:
            also = (
                f" (also {', '.join('/' + a for a in command.aliases)})" if command.aliases else ""
            )
            lines.append(f"  {command.usage.ljust(width)}  {command.help}{also}")
        return lines

    async def dispatch(self, state: ReplState, line: str) -> None:
        """Run the command on ``line`` (which starts with "/"); unknown ones get a hint."""
        word, _, arg = line[1:].strip().partition(" ")
        command = self.find(word)
        if command is None:
            guess = self.closest(word) if word else None
            hint = f"; did you mean /{guess}?" if guess else ""
            state.say(f"unknown command /{word}{hint} (/help lists them)")
            return
        await command.handler(state, arg.strip())
