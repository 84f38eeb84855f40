"""The ``chat`` REPL: prompt-toolkit input, streamed markdown answers, slash commands.

Split as pgcli and litecli split theirs: ``state`` (one small dataclass), ``session`` (the
loop), ``turn`` (one answer), ``slash`` (the command registry) and ``handlers`` (the
commands), ``completer``, ``toolbar``, ``keys`` and ``models`` (names for completion).
"""

from ollama_cli.repl.session import build_session, repl_loop, run_repl
from ollama_cli.repl.state import ReplState

__all__ = ["ReplState", "build_session", "repl_loop", "run_repl"]
