"""An answer's token counts as far as they are known, and the one rule that decides.

Providers do not always say what an answer used: llama.cpp streams end without usage,
some OpenAI-compatible gateways send zeros. Counting those as 0 would make such answers
look free and every total too small, so an unreported count is ``None`` (unknown) all
the way to the history file, the cost and ``ollama-cli usage``.
"""

from __future__ import annotations

from dataclasses import dataclass

from providers.types import Usage


@dataclass(frozen=True)
class Tokens:
    """One answer's tokens; None where the provider did not report them."""

    input: int | None
    output: int | None
    cached_input: int | None = None

    @property
    def known(self) -> bool:
        return self.input is not None and self.output is not None

    def to_dict(self) -> dict[str, int | None]:
        """``--json``'s ``usage``: null where unknown; cached input only when reported."""
        data = {"input_tokens": self.input, "output_tokens": self.output}
        if self.cached_input:
            data["cached_input_tokens"] = self.cached_input
        return data

    @classmethod
    def reported(cls, usage: Usage, *, reported: bool, text: str) -> Tokens:
        """What ``usage`` says about an answer of ``text``.

        Nothing reported, or a zero count for an answer that has text (a prompt is at
        least one token, and so is an answer), means unknown. An answer with no text
        generated nothing: its zeros are true.
        """
        cached = usage.cached_input_tokens or None
        if not text:
            return cls(usage.input_tokens, usage.output_tokens, cached)
        if not reported:
            return cls(None, None, None)
        return cls(usage.input_tokens or None, usage.output_tokens or None, cached)
