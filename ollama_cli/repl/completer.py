"""Tab completion: slash commands, then each command's argument (provider names from the
config, model names fetched in the background, conversation ids from history).

Argument values come from small callables so completion never blocks: a source returns what
is known now (``ModelCache.get`` starts a fetch and returns nothing the first time).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from ollama_cli.repl.slash import SlashRegistry

#: Values to offer, each with a short description shown beside it ("" for none); or a
#: completer of its own for arguments that are not a list of names (paths), which gets
#: the word being typed.
Source = Callable[[], Iterable[tuple[str, str]]] | Completer


class ReplCompleter(Completer):
    def __init__(self, commands: SlashRegistry, sources: Mapping[str, Source]) -> None:
        self.commands = commands
        self.sources = sources

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterator[Completion]:
        text = document.text_before_cursor
        if not text.startswith("/") or text.startswith("//") or "\n" in text:
            return
        word, space, arg = text[1:].partition(" ")
        if not space:
            yield from self._names(word)
            return
        command = self.commands.find(word)
        source = self.sources.get(command.complete or "") if command else None
        arg = arg.lstrip()
        if isinstance(source, Completer):  # completes every argument, e.g. /file a.png b/
            last = arg.rsplit(" ", 1)[-1]
            yield from source.get_completions(Document(last), complete_event)
            return
        if source is None or " " in arg:
            return
        yield from matching(arg, source())

    def _names(self, word: str) -> Iterator[Completion]:
        for name, command in self.commands.names():
            if name.startswith(word.lower()):
                yield Completion(
                    f"/{name}",
                    start_position=-len(word) - 1,
                    display_meta=command.help,
                )


def matching(typed: str, values: Iterable[tuple[str, str]]) -> Iterator[Completion]:
    """Values starting with ``typed`` first, then those containing it (``llama`` finds
    ``meta-llama/Llama-3.1-8B``); case-insensitive."""
    wanted = typed.lower()
    values = list(values)
    prefix = [v for v in values if v[0].lower().startswith(wanted)]
    inside = [v for v in values if wanted in v[0].lower() and v not in prefix]
    for value, meta in prefix + inside:
        yield Completion(value, start_position=-len(typed), display_meta=meta or None)
