"""What one REPL session knows: the conversation, the chosen provider and model, the last
answer (for the toolbar) and where output goes.

A small dataclass instead of a god class: slash commands, the toolbar, the completer and the
turn runner all read and update this one object. The router and the rich console are built on
first use, so the prompt comes up before any provider code or rich's renderer is imported.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from ollama_cli.attach import Bundle
from ollama_cli.conversation import Conversation
from providers.types import Attachment

if TYPE_CHECKING:
    import asyncio

    from rich.console import Console

    from ollama_cli.app import App
    from ollama_cli.options import TurnOptions
    from ollama_cli.render import StreamRenderer, TerminalWriter
    from ollama_cli.repl.models import ModelCache
    from ollama_cli.repl.ready import Readiness
    from ollama_cli.router import ProviderRouter, RouteResult


@dataclass
class LastAnswer:
    """The toolbar's account of the last turn."""

    provider: str | None
    model: str | None
    input_tokens: int | None = 0  # None: the provider did not report it
    output_tokens: int | None = 0
    latency_ms: int = 0
    outcome: str = "ok"  # "ok", "interrupted" or "failed"
    cost: float | None = None  # None: unknown (no price, or no token counts)

    @classmethod
    def of(cls, result: RouteResult, latency_ms: int, outcome: str) -> LastAnswer:
        tokens = result.tokens
        return cls(
            result.provider,
            result.model,
            tokens.input,
            tokens.output,
            latency_ms,
            outcome,
            result.cost,
        )


@dataclass
class SessionCost:
    """What this REPL session's answers cost: the known part, and how many are unknown."""

    known: float = 0.0
    unknown: int = 0

    def add(self, last: LastAnswer, answered: bool) -> None:
        if last.cost is not None:
            self.known += last.cost
        elif answered:
            self.unknown += 1


@dataclass
class ReplState:
    app: App
    turn: TurnOptions  # the flags of `chat` (provider and model below may change)
    conversation: Conversation
    provider: str | None = None  # -p or /provider; None = the chain's order
    model: str | None = None  # -m or /model; None = the provider's default
    raw: bool = False
    show_reasoning: bool = False  # --show-reasoning or /reasoning on
    out: TextIO = field(default_factory=lambda: sys.stdout)
    last: LastAnswer | None = None
    spent: SessionCost = field(default_factory=SessionCost)
    fallback: str | None = None  # the last turn's fallback notice, for the toolbar
    unanswered: str | None = None  # the last prompt, if it got no text: what /retry resends
    renderer: StreamRenderer | None = None  # set while an answer streams
    busy: asyncio.Task[bool] | None = None  # the line being handled: what Ctrl-C cancels
    pending: Bundle = field(default_factory=Bundle)  # -f and /file: sent with the next message
    unanswered_parts: tuple[Attachment, ...] = ()  # the images/PDFs of ``unanswered``
    ready: Readiness | None = None  # the start-up check: who will answer (until a choice)
    _console: Console | None = None
    _writer: TerminalWriter | None = None
    _models: ModelCache | None = None

    @classmethod
    def start(cls, app: App, turn: TurnOptions, out: TextIO | None = None) -> ReplState:
        """The state for ``ollama-cli chat`` with its flags (``--continue`` and friends)."""
        conversation = Conversation.open(app, turn)
        provider, model = turn.provider, turn.model
        last = conversation.last_provider
        role = conversation.role
        if provider is None and model is None and role and (role.provider or role.model):
            provider, model = role.provider, role.model  # expanded when the role was read
        elif provider is None and model is None and last in app.config.providers:
            # Continue with whoever answered last, as `complete --continue` does.
            provider, model = last, conversation.last_model
        out = sys.stdout if out is None else out
        return cls(
            app,
            turn,
            conversation,
            provider,
            model,
            raw=turn.raw,
            show_reasoning=turn.show_reasoning,
            out=out,
        )

    @property
    def router(self) -> ProviderRouter:
        """The app's router (a turn passes ``notify`` so its notices are shown inline)."""
        return self.app.router

    @property
    def console(self) -> Console:
        if self._console is None:
            from ollama_cli.render import make_console

            self._console = make_console(self.out, self.app.environ)
        return self._console

    @property
    def writer(self) -> TerminalWriter:
        """Every line the REPL shows goes through here (text from outside made visible)."""
        if self._writer is None:
            from ollama_cli.render.terminal import TerminalWriter

            self._writer = TerminalWriter.of(self.out, self.app.environ)
        return self._writer

    @property
    def models(self) -> ModelCache:
        if self._models is None:
            from ollama_cli.repl.models import ModelCache

            self._models = ModelCache(lambda: self.router)
        return self._models

    def say(self, text: str, *, dim: bool = False) -> None:
        """One line of the REPL's own output (not an answer): dimmed unless ``TERM=dumb``."""
        self.writer.line(text, dim=dim)

    def notify(self, message: str) -> None:
        """A router notice: a fallback, a retry, a resumed answer."""
        if "→" in message:
            self.fallback = message
        if self.renderer is not None:
            self.renderer.notice(message)
        else:
            self.say(message, dim=True)

    def target(self) -> tuple[str, str]:
        """The provider and model the next message goes to first (skipped ones passed over)."""
        from ollama_cli.router import RouteRequest

        request = RouteRequest(messages=(), provider=self.provider, model=self.model)
        steps = self.router.plan(request)
        live = [s for s in steps if s.skip is None] or steps
        if not live:
            return self.provider or "-", self.model or "-"
        return live[0].name, live[0].model

    def choose(self, provider: str | None = None, model: str | None = None) -> None:
        """Switch provider (its default model) or model; the toolbar forgets the old answer's."""
        if provider is not None:
            self.provider, self.model = provider, None
        if model is not None:
            self.model = model
        self.last = None
        self.fallback = None
        self.ready = None

    async def close(self) -> None:
        """Stop background fetches and close connections and the history file."""
        if self._models is not None:
            await self._models.aclose()
        if "router" in self.app.__dict__:  # built (cached_property) only if a turn ran
            await self.app.router.aclose()
        if self.conversation.store is not None:
            self.conversation.store.close()
