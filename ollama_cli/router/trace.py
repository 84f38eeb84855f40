"""The attempt trace: one record per provider tried, for stderr, ``--json`` and history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Why an attempt was made: the first try, a retry, a fallback, a hedge or a resume.
KINDS = ("first", "retry", "fallback", "hedge", "resume")


@dataclass(frozen=True)
class Attempt:
    provider: str
    model: str
    outcome: str
    error: str | None = None
    elapsed_ms: int = 0
    kind: str = "first"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "provider": self.provider,
            "model": self.model,
            "outcome": self.outcome,
        }
        if self.error:
            data["error"] = self.error
        data["elapsed_ms"] = self.elapsed_ms
        if self.kind != "first":
            data["kind"] = self.kind
        return data

    def line(self) -> str:
        """One stderr line: ``ollama (llama3.2): unavailable: cannot connect … [2 ms]``."""
        detail = f": {self.error}" if self.error else ""
        kind = f" ({self.kind})" if self.kind != "first" else ""
        return (
            f"{self.provider} ({self.model}){kind}: {self.outcome}{detail} [{self.elapsed_ms} ms]"
        )
