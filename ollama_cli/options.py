"""The parsed command line as typed values: what the global flags and a turn's flags mean.

argparse stays at the edge (``cli.py`` and each command's ``add_parser``); everything
deeper reads these frozen dataclasses, so a flag's default and meaning live in one place
and a typo in a field name is a type error, not a silent ``getattr(args, …, None)``.
Imported by ``cli.py`` on every run, so it imports nothing beyond the standard library.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, fields
from typing import Any


def _from_namespace(cls: Any, args: argparse.Namespace, **extra: Any) -> Any:
    """``cls(**…)`` from the namespace's attributes that are fields; absent ones default."""
    values = {f.name: getattr(args, f.name) for f in fields(cls) if hasattr(args, f.name)}
    return cls(**{**values, **extra})


@dataclass(frozen=True)
class GlobalOptions:
    """The flags every command accepts (before or after its name)."""

    config: str | None = None  # --config PATH
    provider: str | None = None  # -p: try this provider first
    model: str | None = None  # -m: the model for that first provider
    no_fallback: bool = False
    verbose: bool = False

    @classmethod
    def from_namespace(cls, args: argparse.Namespace) -> GlobalOptions:
        result: GlobalOptions = _from_namespace(cls, args)
        return result


@dataclass(frozen=True)
class TurnOptions:
    """What one conversation turn needs from the command line (``chat`` and ``complete``).

    ``provider``/``model``/``fallback`` come from the global flags; the rest from the
    command's own (``chat`` has no ``--max-tokens``, so it stays None there).
    """

    provider: str | None = None
    model: str | None = None
    no_fallback: bool = False
    verbose: bool = False
    system: str | None = None
    role: str | None = None  # -r/--role NAME
    show_reasoning: bool = False
    raw: bool = False
    cont: bool = False  # -c/--continue
    conversation: str | None = None  # --conversation ID
    no_history: bool = False
    max_tokens: int | None = None
    temperature: float | None = None
    no_stream: bool = False
    json: bool = False
    files: tuple[str, ...] = ()  # -f/--file, in order

    @classmethod
    def build(cls, options: GlobalOptions, args: argparse.Namespace) -> TurnOptions:
        """The turn's options: the global ones, then the command's own flags."""
        result: TurnOptions = _from_namespace(
            cls,
            args,
            provider=options.provider,
            model=options.model,
            no_fallback=options.no_fallback,
            verbose=options.verbose,
            files=tuple(getattr(args, "files", None) or ()),
        )
        return result

    @property
    def continues(self) -> bool:
        """True when the turn continues a stored conversation (``-c`` or ``--conversation``)."""
        return self.cont or bool(self.conversation)
