"""Key bindings and the multi-line rules: Esc+Enter inserts a newline, and, as in
``ollama run``, a message starting with ``\"\"\"`` goes on until a line ending with ``\"\"\"``;
Ctrl-X Ctrl-E composes the line in ``$VISUAL``/``$EDITOR``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from prompt_toolkit.application.current import get_app
from prompt_toolkit.buffer import Buffer
from prompt_toolkit.filters import Condition
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent

QUOTES = '"""'


def block_is_open(text: str) -> bool:
    """True while a ``\"\"\"`` block has been opened and not yet closed."""
    body = text.lstrip()
    if not body.startswith(QUOTES):
        return False
    return not body[len(QUOTES) :].rstrip().endswith(QUOTES)


def unwrap_block(text: str) -> str:
    """The message inside a ``\"\"\"`` block (the text unchanged if it is not one)."""
    body = text.strip()
    if not body.startswith(QUOTES):
        return text
    body = body[len(QUOTES) :]
    if body.endswith(QUOTES):
        body = body[: -len(QUOTES)]
    return body.strip("\n").rstrip()


def key_bindings(environ: Mapping[str, str] | None = None) -> KeyBindings:
    bindings = KeyBindings()
    env = os.environ if environ is None else environ

    @bindings.add("c-x", "c-e")
    async def _edit(event: KeyPressEvent) -> None:
        await edit_buffer(event.current_buffer, env)

    in_block = Condition(lambda: block_is_open(get_app().current_buffer.text))

    @bindings.add("escape", "enter")
    def _newline(event: KeyPressEvent) -> None:
        event.current_buffer.insert_text("\n")

    @bindings.add("enter", filter=in_block)
    def _newline_in_block(event: KeyPressEvent) -> None:
        event.current_buffer.insert_text("\n")

    return bindings


async def edit_buffer(buffer: Buffer, environ: Mapping[str, str]) -> None:
    """Ctrl-X Ctrl-E: the line so far in ``$VISUAL``/``$EDITOR``, sent once saved.

    prompt-toolkit's own ``edit-and-execute-command`` sends the line even when the editor
    was closed without saving; here the editor runs the same way (``run_in_terminal``, above
    the prompt) but an unsaved file leaves the line as it was, unsent.
    """
    from prompt_toolkit.application import run_in_terminal

    from ollama_cli.editor import EditorError, edit_text

    before = buffer.text

    def edit() -> str | None:
        try:
            return edit_text(before, environ)
        except EditorError as exc:
            print(exc)
            return None

    text = await run_in_terminal(edit, in_executor=True)
    if text is None:
        return
    buffer.text = text.rstrip("\n")
    buffer.cursor_position = len(buffer.text)
    buffer.validate_and_handle()
