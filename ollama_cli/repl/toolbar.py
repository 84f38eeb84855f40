"""The bottom toolbar: who answers (the provider that really answered, after a fallback),
with which model, the last answer's tokens and latency, and the last fallback notice."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ollama_cli.repl.state import LastAnswer, ReplState

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
    if state.fallback:
        parts.append(f"fell back: {state.fallback}")
    return cut(" " + SEPARATOR.join(parts), width)


def cut(text: str, width: int | None) -> str:
    if width is None:
        import shutil

        width = shutil.get_terminal_size((80, 24)).columns
    return text if len(text) <= width else text[: max(1, width - 1)] + "…"


def answer_summary(last: LastAnswer) -> str:
    if last.outcome == "failed" and not last.output_tokens:
        return f"no answer ({duration(last.latency_ms)})"
    tokens = f"{last.input_tokens} in / {last.output_tokens} out tokens"
    text = f"{tokens} · {duration(last.latency_ms)}"
    return f"{text} · interrupted" if last.outcome != "ok" else text


def duration(ms: int) -> str:
    return f"{ms} ms" if ms < 1000 else f"{ms / 1000:.1f} s"
