"""A conversation as the commands see it: its context messages and where turns are stored.

Wraps the history store so that ``complete`` and the REPL share one way of continuing
a conversation (``--continue`` / ``--conversation ID``), storing the user's message the
moment it is sent and the answer as it streams (partial answers survive a kill).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from providers.types import Attachment, Message

if TYPE_CHECKING:
    from ollama_cli.app import App
    from ollama_cli.history import AnswerMeta, HistoryStore
    from ollama_cli.history.answer import AnswerRecorder
    from ollama_cli.options import TurnOptions
    from ollama_cli.router import RouteRequest, RouteResult
    from ollama_cli.settings import Role


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
    _recorder: AnswerRecorder | None = None

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
        store = None if turn.no_history else open_store(app)
        wanted = turn.conversation
        if not turn.continues:
            return cls(store, system=system)
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
        except HistoryError as exc:
            raise UsageError(str(exc)) from None
        if conversation.role_name:
            conversation.role = app.find_role(conversation.role_name)
        return conversation

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

    def context(
        self, prompt: str | None = None, parts: tuple[Attachment, ...] = ()
    ) -> tuple[Message, ...]:
        """System prompt, earlier turns, and the new prompt (with its images and PDFs)."""
        head = (Message("system", self.system),) if self.system else ()
        tail = (Message("user", prompt, parts),) if prompt is not None else ()
        return (*head, *self.messages, *tail)

    def add_user(self, prompt: str, parts: tuple[Attachment, ...] = ()) -> None:
        self.messages.append(Message("user", prompt, parts))
        if self.store is None:
            return
        if self.id is None:
            self.id = self.store.new_conversation(system_prompt=self.system, role=self.role_used)
        self.store.add_message(self.id, "user", prompt, attachments=parts)

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
        if self.store is None or self.id is None:
            return
        if self._recorder is None:
            self._recorder = self.store.record_answer(self.id, provider=provider, model=model)
        elif provider and provider != self._recorder.provider:
            self._recorder.switch(provider, model)
        self._recorder.append(text)

    def add_answer(
        self, result: RouteResult, *, latency_ms: int, interrupted: bool = False
    ) -> None:
        """Store the answer's final state (partial ones marked interrupted)."""
        if result.text:
            self.messages.append(Message("assistant", result.text))
        recorder, self._recorder = self._recorder, None
        if self.store is None or self.id is None:
            return
        if recorder is None:
            if not result.text and not result.attempts:
                return
            recorder = self.store.record_answer(
                self.id, provider=result.provider, model=result.model
            )
            recorder.append(result.text)
        recorder.finish(answer_meta(result, latency_ms, interrupted or not result.ok))


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
        reasoning=result.reasoning,
        cached_input_tokens=tokens.cached_input,
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

    role = conversation.role
    provider, model = turn.provider, turn.model
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


def open_store(app: App) -> HistoryStore | None:
    """The history store, or None (history off). An unwritable data dir turns history off
    with a warning; a corrupt database is a usage error (exit 2), left untouched."""
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
        raise UsageError(str(exc)) from None
    return store
