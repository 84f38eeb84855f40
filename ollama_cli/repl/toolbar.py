"""The bottom toolbar: who answers (the provider that really answered, after a fallback),
with which model, the last answer's tokens and latency, its cost and the session's, and
the last fallback notice. A token count or cost that is not known shows as ``?``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ollama_cli.usage.prices import format_cost
from ollama_cli.usage.summary import token_counts
from ollama_cli.usage.tokens import Tokens

if TYPE_CHECKING:
    from ollama_cli.repl.state import LastAnswer, ReplState, SessionCost

SEPARATOR = "  │  "


def toolbar_text(state: ReplState, width: int | None = None) -> str:
    """One line, cut to ``width`` (the terminal's): the fallback notice, last, goes first."""
    last = state.last
    if last is not None and last.provider:
        provider, model = last.provider, last.model or "-"
    elif state.ready is not None and state.ready.provider and state.ready.model:
        provider, model = state.ready.provider, state.ready.model  # as the banner said
    else:
        provider, model = state.target()
    parts = [f"{provider} · {model}"]
    if last is not None:
        parts.append(answer_summary(last))
        if not _unanswered(last):
            parts.append(cost_summary(last, state.spent))
    if state.fallback:
        parts.append(f"fell back: {state.fallback}")
    return cut(" " + SEPARATOR.join(parts), width)


def cut(text: str, width: int | None) -> str:
    if width is None:
        import shutil

        width = shutil.get_terminal_size((80, 24)).columns
    return text if len(text) <= width else text[: max(1, width - 1)] + "…"


def _unanswered(last: LastAnswer) -> bool:
    return last.outcome == "failed" and not last.output_tokens


def answer_summary(last: LastAnswer) -> str:
    if _unanswered(last):
        return f"no answer ({duration(last.latency_ms)})"
    tokens = token_counts(Tokens(last.input_tokens, last.output_tokens))
    text = f"{tokens} · {duration(last.latency_ms)}"
    return f"{text} · interrupted" if last.outcome != "ok" else text


def cost_summary(last: LastAnswer, spent: SessionCost) -> str:
    """This answer's cost and the session's: ``$0.0012 · session $0.03`` (``?`` unknown)."""
    this = "$?" if last.cost is None else format_cost(last.cost)
    session = format_cost(spent.known) + (" +?" if spent.unknown else "")
    return f"{this} · session {session}"


def duration(ms: int) -> str:
    return f"{ms} ms" if ms < 1000 else f"{ms / 1000:.1f} s"
