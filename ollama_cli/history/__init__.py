"""Conversation history in SQLite: every turn of ``chat`` and ``complete``, kept across runs.

``HistoryStore(app_paths().history_db)`` is the whole API; ``HistoryError`` is the one
error it raises (one line, naming the file), which the CLI turns into a warning and
carries on without history.
"""

from ollama_cli.history.answer import AnswerRecorder
from ollama_cli.history.records import (
    AnswerMeta,
    ConversationSummary,
    HistoryError,
    StoredConversation,
    StoredMessage,
)
from ollama_cli.history.store import HistoryStore

__all__ = [
    "AnswerMeta",
    "AnswerRecorder",
    "ConversationSummary",
    "HistoryError",
    "HistoryStore",
    "StoredConversation",
    "StoredMessage",
]
