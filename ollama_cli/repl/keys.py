"""Key bindings and the multi-line rules: Esc+Enter inserts a newline, and, as in
``ollama run``, a message starting with ``\"\"\"`` goes on until a line ending with ``\"\"\"``.
"""

from __future__ import annotations

from prompt_toolkit.application.current import get_app
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


def key_bindings() -> KeyBindings:
    bindings = KeyBindings()
    in_block = Condition(lambda: block_is_open(get_app().current_buffer.text))

    @bindings.add("escape", "enter")
    def _newline(event: KeyPressEvent) -> None:
        event.current_buffer.insert_text("\n")

    @bindings.add("enter", filter=in_block)
    def _newline_in_block(event: KeyPressEvent) -> None:
        event.current_buffer.insert_text("\n")

    return bindings
