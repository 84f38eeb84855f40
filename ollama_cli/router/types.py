"""What goes into the router and what comes out of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ollama_cli.router.trace import Attempt
from ollama_cli.usage.tokens import Tokens
from providers.types import Message, Usage


@dataclass(frozen=True)
class RouteRequest:
    """A user's request, before the router picks providers and models.

    ``model`` applies to the first provider of the plan only; ``provider`` moves that
    provider to the front; ``fallback=None`` means "as configured".
    """

    messages: tuple[Message, ...]
    model: str | None = None
    provider: str | None = None
    fallback: bool | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    stream: bool = True


@dataclass
class RouteResult:
    """The answer (possibly partial) and the honest account of how it was obtained."""

    text: str = ""
    provider: str | None = None
    model: str | None = None
    finish_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    usage_reported: bool = False  # did any provider send token counts?
    cost: float | None = None  # in the price table's currency; None = unknown
    attempts: list[Attempt] = field(default_factory=list)
    interrupted: bool = False
    error: str | None = None
    #: Request parameters left out because the model does not take them (``temperature``).
    dropped_params: list[str] = field(default_factory=list)
    #: The answering attempt's thinking, kept apart from ``text`` (see ``providers.Chunk``).
    reasoning: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None and self.finish_reason is not None

    @property
    def tokens(self) -> Tokens:
        """The answer's token counts, None where the provider did not report them."""
        return Tokens.reported(self.usage, reported=self.usage_reported, text=self.text)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "provider": self.provider,
            "model": self.model,
            "text": self.text,
            "finish_reason": self.finish_reason,
            "usage": self.tokens.to_dict(),
            "cost": None if self.cost is None else round(self.cost, 6),
        }
        if self.reasoning:
            data["reasoning"] = self.reasoning
        if self.interrupted:
            data["interrupted"] = True
        if self.dropped_params:
            data["dropped_params"] = list(self.dropped_params)
        if self.error:
            data["error"] = self.error
        data["attempts"] = [a.to_dict() for a in self.attempts]
        return data


class RoutingError(Exception):
    """No provider could answer. ``result`` holds the trace and any partial text."""

    def __init__(self, message: str, result: RouteResult) -> None:
        super().__init__(message)
        self.result = result
        result.error = message


class UnknownProviderError(Exception):
    """``-p NAME`` (or a REPL command) named a provider that is not configured."""
