"""Storing an answer while it streams, so a kill mid-answer leaves it in history, flagged.

The choice: the assistant row is inserted at the first token with ``interrupted = 1``;
while tokens arrive its text is rewritten at most every ``flush_interval`` seconds
(each write sends the whole text, so writing per token would be quadratic in the
answer's length and cost a transaction per token); ``finish`` writes the final text
and metadata and clears the flag. A process killed in between leaves the row flagged
with the text of the last flush — at most ``flush_interval`` seconds of tokens are
lost. Ctrl-C is ``finish(interrupted=True)``. An answer that fails before its first
token stores nothing; ``finish`` alone stores the whole answer (``--no-stream``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ollama_cli.history.records import AnswerMeta
    from ollama_cli.history.store import HistoryStore


class AnswerRecorder:
    """Feed it the streamed text with ``append``; end with ``finish``."""

    def __init__(
        self,
        store: HistoryStore,
        conversation_id: str,
        *,
        provider: str | None,
        model: str | None,
        flush_interval: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
        message_id: int | None = None,
    ) -> None:
        self._store = store
        self._conversation_id = conversation_id
        self.provider = provider
        self.model = model
        self._interval = flush_interval
        self._clock = clock
        self._parts: list[str] = []
        self._message_id = message_id  # a row reserved by add_question, if any
        self._flushed_at = -float("inf")  # the first text is written at once

    @property
    def message_id(self) -> int | None:
        """The stored row's id, once the first token (or ``finish``) has stored it."""
        return self._message_id

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def append(self, text: str) -> None:
        """Add streamed text; stores it now if it is the first, or if a flush is due."""
        if not text:
            return
        self._parts.append(text)
        if self._message_id is None:
            self._message_id = self._store.begin_answer(
                self._conversation_id, self.text, provider=self.provider, model=self.model
            )
            self._flushed_at = self._clock()
        elif self._clock() - self._flushed_at >= self._interval:
            self.flush()

    def switch(self, provider: str, model: str | None) -> None:
        """Another provider continues the answer (a resumed stream); stored at the next write."""
        self.provider, self.model = provider, model

    def flush(self) -> None:
        """Write the text so far (the row stays flagged interrupted)."""
        if self._message_id is None:
            return
        self._store.update_answer(
            self._message_id, self.text, provider=self.provider, model=self.model
        )
        self._flushed_at = self._clock()

    def finish(self, meta: AnswerMeta) -> int:
        """Store the final text and ``meta``, committed; returns the message id.

        ``meta``'s provider and model default to the ones this recorder streamed from.
        """
        if self._message_id is None:
            self._message_id = self._store.begin_answer(
                self._conversation_id, self.text, provider=self.provider, model=self.model
            )
        if meta.provider is None:
            meta = replace(meta, provider=self.provider, model=self.model)
        self.provider, self.model = meta.provider, meta.model
        self._store.finish_answer(self._message_id, self.text, meta)
        return self._message_id
