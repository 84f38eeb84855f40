"""``<think>…</think>`` at the start of an answer, as reasoning models served by
OpenAI-compatible servers (DeepSeek-R1, QwQ, Qwen3 on vLLM or llama.cpp without a
reasoning parser) write their thinking: split off as reasoning, never shown as answer text.

Streams cut text anywhere, tags included (``<thi`` + ``nk>``), so the splitter holds back
only what could still be the start of a tag and releases it once it cannot. Only a block
that opens the answer (after optional whitespace) counts: a ``<think>`` later in an answer
is the model talking about the tag, and stays text.
"""

from __future__ import annotations

OPEN = "<think>"
CLOSE = "</think>"


class ThinkSplitter:
    """Feed text pieces in order; each call returns ``(answer_text, reasoning)``."""

    def __init__(self) -> None:
        self._state = "start"  # "start" → "think" → "after" (strip the gap) → "answer"
        self._held = ""

    def feed(self, text: str) -> tuple[str, str]:
        held = self._held + text
        self._held = ""
        answer, reasoning = "", ""
        if self._state == "start":
            stripped = held.lstrip()
            if not stripped or (len(stripped) < len(OPEN) and OPEN.startswith(stripped)):
                self._held = held  # whitespace, or maybe "<thi": wait for more
                return "", ""
            if not stripped.startswith(OPEN):
                self._state = "answer"
                return held, ""
            self._state, held = "think", stripped[len(OPEN) :]
        if self._state == "think":
            end = held.find(CLOSE)
            if end < 0:
                keep = _partial_suffix(held, CLOSE)
                self._held = held[len(held) - keep :] if keep else ""
                return "", held[: len(held) - keep]
            reasoning, held = held[:end], held[end + len(CLOSE) :]
            self._state = "after"
        if self._state == "after":
            held = held.lstrip()
            if not held:
                return "", reasoning
            self._state = "answer"
        answer = held
        return answer, reasoning

    def close(self) -> tuple[str, str]:
        """What is still held when the stream ends (an unclosed block is all reasoning)."""
        held, self._held = self._held, ""
        if self._state == "think":
            return "", held
        return (held, "") if self._state == "start" else ("", "")


def split_think(text: str) -> tuple[str, str]:
    """A whole (non-streamed) answer → ``(answer_text, reasoning)``."""
    splitter = ThinkSplitter()
    answer, reasoning = splitter.feed(text)
    tail_answer, tail_reasoning = splitter.close()
    return answer + tail_answer, reasoning + tail_reasoning


def _partial_suffix(text: str, tag: str) -> int:
    """The length of the longest end of ``text`` that is a proper start of ``tag``."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0
