"""A conversation as the commands see it: its context messages and where turns are stored.

Wraps the history store so that ``complete`` and the REPL share one way of continuing
a conversation (``--continue`` / ``--conversation ID``), storing the user's message the
moment it is sent and the answer as it streams (partial answers survive a kill).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from providers.types import Attachment, Message

if TYPE_CHECKING:
    from ollama_cli.app import App
    from ollama_cli.history import AnswerMeta, HistoryStore
    from ollama_cli.history.turn_writer import TurnWriter
    from ollama_cli.options import TurnOptions
    from ollama_cli.router import RouteRequest, RouteResult
    from ollama_cli.settings import ProviderConfig, Role


@dataclass
class Conversation:
    store: HistoryStore | None
    id: str | None = None
    system: str | None = None
    messages: list[Message] = field(default_factory=list)
    last_provider: str | None = None
    last_model: str | None = None
    role: Role | None = None  # ``-r NAME`` / ``/role NAME``: its prompt is ``system``
    role_name: str | None = None  # the stored role of a loaded conversation
    #: Where a turn that could not be stored is reported (one line); stderr if None.
    notify: Callable[[str], None] | None = None
    _turn: TurnWriter | None = None

    @classmethod
    def open(cls, app: App, turn: TurnOptions) -> Conversation:
        """A new conversation, or the one named by ``--continue`` / ``--conversation``.

        ``-r NAME`` gives the role's system prompt (an explicit ``-s`` wins over it).
        """
        role = app.role(turn.role) if turn.role else None
        conversation = cls._open(app, turn, turn.system or (role.system if role else None))
        conversation.role = role or conversation.role
        return conversation

    @classmethod
    def _open(cls, app: App, turn: TurnOptions, system: str | None) -> Conversation:
        wanted = turn.conversation
        store = None if turn.no_history else open_store(app, reading=turn.continues)
        if not turn.continues:
            return cls(store, system=system, notify=app.warn)
        from ollama_cli.app import UsageError
        from ollama_cli.history import HistoryError

        if store is None:
            raise UsageError("cannot continue a conversation with history turned off")
        try:
            if wanted:
                cid = store.resolve(wanted)
            else:
                last = store.last_conversation()
                if last is None:
                    raise UsageError("there is no conversation to continue yet")
                cid = last.id
            conversation = cls.load(store, cid, system)
            conversation.notify = app.warn
            conversation.keep_to_config(app.config.providers, app.warn)
            if conversation.role_name:
                conversation.role = app.find_role(conversation.role_name)
            return conversation
        except HistoryError as exc:
            raise UsageError(str(exc)) from None

    @classmethod
    def load(cls, store: HistoryStore, cid: str, system: str | None = None) -> Conversation:
        stored = store.messages(cid)
        messages = [
            Message(
                "user" if m.role == "user" else "assistant",
                m.text,
                store.attachments(m.attachments) if m.attachments else (),
            )
            for m in stored
            if m.role in ("user", "assistant") and (m.text or m.attachments)
        ]
        record = store.conversation(cid)
        last = store.last_provider_model(cid)
        return cls(
            store,
            id=cid,
            system=system or record.system_prompt,
            messages=messages,
            last_provider=last[0] if last else None,
            last_model=last[1] if last else None,
            role_name=record.role,
        )

    def keep_to_config(
        self, providers: Mapping[str, ProviderConfig], notify: Callable[[str], None]
    ) -> None:
        """Forget who answered last when that provider was removed from the config or is
        disabled: the conversation continues on the chain (a disabled provider gets
        nothing, ``--continue`` included), and the user is told."""
        name = self.last_provider
        if name is None:
            return
        config = providers.get(name)
        if config is not None and config.enabled:
            return
        why = "is no longer configured" if config is None else "is disabled"
        notify(f"{name}, which answered this conversation last, {why}; continuing on the chain")
        self.last_provider = self.last_model = None

    def context(
        self, prompt: str | None = None, parts: tuple[Attachment, ...] = ()
    ) -> tuple[Message, ...]:
        """System prompt, earlier turns, and the new prompt (with its images and PDFs)."""
        head = (Message("system", self.system),) if self.system else ()
        tail = (Message("user", prompt, parts),) if prompt is not None else ()
        return (*head, *self.messages, *tail)

    def set_system(self, system: str | None) -> None:
        """Change the system prompt, stored at once when the conversation already is (a
        new one stores it with its first message)."""
        self.system = system
        if self.store is not None and self.id is not None:
            self.store.set_system_prompt(self.id, system)

    def add_user(self, prompt: str, parts: tuple[Attachment, ...] = ()) -> None:
        """Send ``prompt``: in the context now, and stored (or journaled: ``TurnWriter``)."""
        self.messages.append(Message("user", prompt, parts))
        if self.store is None:
            return
        from ollama_cli.history.turn_writer import TurnWriter

        self._turn = TurnWriter(self.store, self.id, self.system, role=self.role_used)
        self.id = self._turn.question(prompt, parts)

    @property
    def role_used(self) -> str | None:
        return self.role.name if self.role is not None else self.role_name

    def use_role(self, role: Role | None) -> None:
        """``/role NAME`` (None: no role): its system prompt from the next message on."""
        self.role, self.role_name = role, None
        self.system = role.system if role is not None else None
        if self.store is not None and self.id is not None:
            self.store.set_role(self.id, self.role_used, self.system)

    def stream_text(self, text: str, provider: str | None, model: str | None) -> None:
        """Store streamed text as it arrives (rate-limited by the recorder)."""
        if self._turn is not None:
            self._turn.stream(text, provider, model)

    def add_answer(
        self, result: RouteResult, *, latency_ms: int, interrupted: bool = False
    ) -> None:
        """Store the answer's final state (partial ones marked interrupted). A turn the
        database refused is journaled, and the user told in one line."""
        if result.text:
            self.messages.append(Message("assistant", result.text))
        turn, self._turn = self._turn, None
        if turn is None:
            return
        notice = turn.finish(
            result.text, answer_meta(result, latency_ms, interrupted or not result.ok)
        )
        if notice is not None:
            if self.notify is not None:
                self.notify(notice)
            else:
                print(notice, file=sys.stderr, flush=True)


def answer_meta(result: RouteResult, latency_ms: int, interrupted: bool) -> AnswerMeta:
    """What history keeps about how ``result`` was obtained."""
    from ollama_cli.history import AnswerMeta

    tokens = result.tokens  # None where the provider did not report a count
    return AnswerMeta(
        provider=result.provider,
        model=result.model,
        finish_reason=result.finish_reason,
        input_tokens=tokens.input,
        output_tokens=tokens.output,
        latency_ms=latency_ms,
        attempts=[a.to_dict() for a in result.attempts],
        interrupted=interrupted,
        cached_input_tokens=tokens.cached_input,
        reasoning=result.reasoning,
    )


def request_for(
    turn: TurnOptions,
    conversation: Conversation,
    prompt: str,
    parts: tuple[Attachment, ...] = (),
) -> RouteRequest:
    """The routed request for ``prompt`` (and its images/PDFs): ``-p``/``-m`` first (aliases
    already expanded, see ``App.turn``), then the role's provider and model, then whoever
    answered a continued conversation last; ``--max-tokens``/``--temperature`` over the
    role's."""
    from ollama_cli.router import RouteRequest

    provider, model = turn.provider, turn.model
    role = conversation.role
    if provider is None and model is None and role and (role.provider or role.model):
        provider, model = role.provider, role.model
    elif provider is None and model is None and conversation.last_provider:
        provider, model = conversation.last_provider, conversation.last_model
    max_tokens, temperature = turn.max_tokens, turn.temperature
    if role is not None:
        max_tokens = role.max_tokens if max_tokens is None else max_tokens
        temperature = role.temperature if temperature is None else temperature
    return RouteRequest(
        messages=conversation.context(prompt, parts),
        model=model,
        provider=provider,
        fallback=False if turn.no_fallback else None,
        max_tokens=max_tokens,
        temperature=temperature,
        stream=not turn.no_stream,
    )


def open_store(app: App, *, reading: bool = False) -> HistoryStore | None:
    """The history store, or None (history off), with the recovery journal replayed.

    An unwritable data dir turns history off with a warning. A database that cannot be
    opened is left untouched: when ``reading`` (``--continue``, ``history show``) that is
    a usage error (exit 2); else the store is returned anyway, its writes fail and the
    turn goes to the recovery journal, with one notice at its end (``TurnWriter``).
    """
    store = app.history
    if store is None:
        return None
    from ollama_cli.app import UsageError
    from ollama_cli.history import HistoryError

    data_dir = app.paths.data_dir
    if data_dir.exists() and not os.access(data_dir, os.W_OK):
        app.warn(f"warning: {data_dir} is not writable; history is off for this run")
        return None
    try:
        store.open()
    except HistoryError as exc:
        if not store.path.exists():
            app.warn(f"warning: {exc}; history is off for this run")
            return None
        if reading:
            raise UsageError(str(exc)) from None
        return store
    added, dropped = store.replay_pending(wait=False)
    if added:
        plural = "s" if added != 1 else ""
        app.warn(f"history: added {added} turn{plural} kept in {store.journal.path}")
    if dropped:
        app.warn(f"warning: {dropped} unreadable line(s) of {store.journal.path} were dropped")
    return store
