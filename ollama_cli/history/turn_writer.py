"""Storing one turn so that history can fail and the answer cannot.

``TurnWriter`` is what a conversation writes a turn through: the question when it is
sent, the answer as it streams (``AnswerRecorder``), its metadata at the end. The first
``HistoryError`` (lock still held after the busy timeout, disk full, read-only or damaged
file) stops the writes to the database for the rest of the turn, so nothing is stored out
of order; ``finish`` then appends what was not stored to the recovery journal and returns
the one line that tells the user so. Nothing here raises a storage error.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ollama_cli.history.records import HistoryError, new_id

if TYPE_CHECKING:
    from ollama_cli.history.answer import AnswerRecorder
    from ollama_cli.history.records import AnswerMeta
    from ollama_cli.history.store import HistoryStore
    from providers.types import Attachment


class TurnWriter:
    """One question and its answer, written to ``store`` or, failing that, journaled."""

    def __init__(
        self,
        store: HistoryStore,
        conversation_id: str | None,
        system: str | None,
        *,
        role: str | None = None,
    ):
        self.store = store
        self.conversation_id = conversation_id
        self.system = system
        self.role = role  # the role a new conversation is held in (``-r NAME``)
        #: Why the database refused this turn (one line), once it has.
        self.failure: str | None = None
        self._created = time.time()
        self._new = False  # the conversation exists only in the journal so far
        self._question: str | None = None  # the question, when it was not stored
        self._recorder: AnswerRecorder | None = None
        self._answer_id: int | None = None  # the answer's row, reserved with the question
        self._text: list[str] = []

    def _write(self, write: Callable[[], object]) -> bool:
        """Run one database write unless an earlier one failed; False if it did not land."""
        if self.failure is not None:
            return False
        try:
            write()
        except HistoryError as exc:
            self.failure = str(exc)
            return False
        return True

    def question(self, text: str, parts: tuple[Attachment, ...] = ()) -> str:
        """Store the question and its attachments (starting the conversation if needed);
        returns its id. The journal keeps a question's text, not its attachments."""
        if self.conversation_id is None:
            created: list[str] = []
            if not self._write(
                lambda: created.append(
                    self.store.new_conversation(system_prompt=self.system, role=self.role)
                )
            ):
                created.append(new_id())
                self._new = True
            self.conversation_id = created[0]
        cid = self.conversation_id
        reserved: list[int] = []
        if self._write(lambda: reserved.append(self.store.add_question(cid, text, parts))):
            self._answer_id = reserved[0]
        else:
            self._question = text
        return cid

    def stream(self, text: str, provider: str | None, model: str | None) -> None:
        """Store streamed text as it arrives (rate-limited by the recorder)."""
        self._text.append(text)
        recorder = self._recorder_for(provider, model)
        if provider and provider != recorder.provider:
            recorder.switch(provider, model)
        if self.failure is None:
            self._write(lambda: recorder.append(text))

    def _recorder_for(self, provider: str | None, model: str | None) -> AnswerRecorder:
        if self._recorder is None:
            assert self.conversation_id is not None, "question() comes first"
            self._recorder = self.store.record_answer(
                self.conversation_id, provider=provider, model=model, message_id=self._answer_id
            )
        return self._recorder

    def finish(self, text: str, meta: AnswerMeta) -> str | None:
        """Store the answer's final state; returns a notice if the turn was not stored.

        An answer with no text and no attempts stores nothing.
        """
        nothing = not text and not meta.attempts
        if self._recorder is None and self._answer_id is None and nothing:
            return self._journal(None) if self.failure else None
        recorder = self._recorder_for(meta.provider, meta.model)
        if self.failure is None and not self._text and text:
            self._write(lambda: recorder.append(text))  # --no-stream: the whole text at once
        if self._write(lambda: recorder.finish(meta)):
            return None
        answer: dict[str, Any] = {"role": "assistant", "text": text or "".join(self._text)}
        answer.update(
            provider=meta.provider or recorder.provider,
            model=meta.model if meta.provider else recorder.model,
            finish_reason=meta.finish_reason,
            input_tokens=meta.input_tokens,
            output_tokens=meta.output_tokens,
            latency_ms=meta.latency_ms,
            interrupted=meta.interrupted,
            attempts=_plain(meta.attempts),
            answer_id=recorder.message_id,
        )
        return self._journal(answer)

    def _journal(self, answer: dict[str, Any] | None) -> str:
        messages: list[dict[str, Any]] = []
        if self._question is not None:
            messages.append({"role": "user", "text": self._question})
        if answer is not None:
            messages.append(answer)
        entry = {
            "conversation_id": self.conversation_id,
            "created": self._created,
            "system": self.system if self._new else None,
            "messages": messages,
        }
        why = self.failure or "unknown error"
        try:
            self.store.journal.append(entry)
        except OSError as exc:
            failed = f"the recovery journal failed too: {exc.strerror or exc}"
            return f"history: this turn was not saved ({why}; {failed})"
        replayed, _ = self.store.replay_pending(wait=False)  # the lock may be free again
        if replayed:
            return f"history: this turn was saved late ({why})"
        return (
            f"history: this turn was not saved yet ({why}); "
            f"it is kept in {self.store.journal.path} and added on the next run"
        )


def _plain(attempts: Any) -> list[Any] | None:
    if attempts is None:
        return None
    return [a if isinstance(a, dict) else a.to_dict() for a in attempts]
