"""What to do about each attempt that did not answer: the last line after a failed walk.

One table from outcome to advice, so ``complete`` and the REPL say the same thing, and a
user who sees "no provider could answer" also sees, per provider, the one step that fixes
it ("set ANTHROPIC_API_KEY", "start Ollama: ollama serve", "check base_url").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ollama_cli.config import Config, ProviderConfig
    from ollama_cli.router.trace import Attempt
    from ollama_cli.router.types import RouteResult

#: An outcome in a few words, after the provider's name ("ollama unreachable").
SHORT = {
    "unavailable": "unreachable",
    "rate_limited": "rate-limited",
    "auth": "refused the key",
    "model_not_found": "has no such model",
    "context_too_long": "context too long",
    "content_filtered": "filtered the answer",
    "skipped_no_key": "has no key",
    "skipped_cooldown": "cooling down",
    "skipped_budget": "over budget",
}


def short_outcome(outcome: str) -> str:
    return SHORT.get(outcome, outcome.replace("_", " "))


def advice(attempt: Attempt, cfg: ProviderConfig, environ: Mapping[str, str]) -> str:
    """The one thing to do about ``attempt`` ("" when there is nothing to suggest)."""
    outcome, name = attempt.outcome, cfg.name
    if outcome == "skipped_no_key":
        return f"set {cfg.key_env or 'its API key'}"
    if outcome == "skipped_cooldown":
        return f"-p {name} tries it now; ollama-cli providers reset {name} clears it"
    if outcome == "skipped_budget":
        return "raise router.daily_budget / monthly_budget; ollama-cli usage shows the spend"
    if outcome == "auth":
        return f"check the key in {cfg.key_origin(environ)}"
    if outcome == "unavailable":
        return _unavailable(attempt, cfg)
    return {
        "rate_limited": "wait, or add credit",
        "model_not_found": f"ollama-cli models list {name}",
        "context_too_long": "shorten the prompt, or use a model with a larger context",
        "content_filtered": "rephrase the prompt",
        "interrupted": "ask again (/retry in the REPL)",
    }.get(outcome, "")


def _unavailable(attempt: Attempt, cfg: ProviderConfig) -> str:
    refused = "cannot connect" in (attempt.error or "")
    if cfg.type == "ollama":
        return "start Ollama: ollama serve" if refused else "check that Ollama is running"
    if cfg.type == "local":
        return "see docs/troubleshooting.md (The local model)"
    return "check base_url" if refused else "try again later"


def summary(result: RouteResult, config: Config, environ: Mapping[str, str]) -> str:
    """``no provider could answer: ollama unreachable (start Ollama: ollama serve); …``.

    One entry per provider, for its last attempt; an error that stopped the walk (a bad
    request) is reported as it is, since no other provider would do better.
    """
    reason = result.error or "no provider could answer"
    if reason != "no provider could answer":
        return reason
    last: dict[str, Attempt] = {}
    for attempt in result.attempts:
        last.pop(attempt.provider, None)
        last[attempt.provider] = attempt
    parts = []
    for name, attempt in last.items():
        cfg = config.providers.get(name)
        todo = advice(attempt, cfg, environ) if cfg is not None else ""
        parts.append(f"{name} {short_outcome(attempt.outcome)}" + (f" ({todo})" if todo else ""))
    return f"{reason}: {'; '.join(parts)}" if parts else reason


def cut_notice(result: RouteResult, max_tokens: int | None, raise_with: str) -> str | None:
    """``cut at 512 tokens; --max-tokens to raise`` for an answer stopped by its length
    limit (None otherwise): a cut answer must not pass for a finished one."""
    if result.finish_reason != "length":
        return None
    limit = max_tokens or result.usage.output_tokens
    at = f"cut at {limit} tokens" if limit else "cut at the length limit"
    return f"{at}; {raise_with}"
