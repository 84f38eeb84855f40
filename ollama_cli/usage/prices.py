"""What a model's tokens cost: the built-in price table, config overrides, and the rule
for local and self-hosted models.

The built-in table is a dated snapshot of the vendors' published list prices (USD per
million tokens, standard tier, prompts up to 200k tokens), keyed by model-id patterns so
that a dated id (``claude-sonnet-4-5-20250929``) or a newer member of a family the table
knows is priced without an exact entry. Prices change: ``[prices."MODEL"]`` in the config
overrides or extends it, and an entry there always wins over the built-in table.

A model with no price has an unknown cost (``None``), never 0 — a total that silently
counts an unpriced model as free would be a lie. Models run on the user's own machine
(the ``local`` type, Ollama, an OpenAI-compatible server on a loopback or private
address) cost 0 unless the config gives them a price.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ollama_cli.usage.tokens import Tokens

if TYPE_CHECKING:
    from ollama_cli.settings import ProviderConfig

CURRENCY = "USD"
#: When the built-in table was taken from the vendors' pricing pages (see SOURCES).
PRICES_DATE = "2026-12-02"
SOURCES = (
    "https://docs.anthropic.com/en/docs/about-claude/pricing",
    "https://ai.google.dev/gemini-api/docs/pricing",
    "https://platform.openai.com/docs/pricing",
)


@dataclass(frozen=True)
class Price:
    """List price per million tokens. ``cached_input`` is what input tokens served from the
    vendor's prompt cache cost; None = the full input price (an upper bound)."""

    input: float
    output: float
    cached_input: float | None = None


FREE = Price(0.0, 0.0, 0.0)

#: Pattern (``fnmatch``, case-insensitive) → price. The most specific pattern wins: an
#: exact id over any pattern, then the longest pattern.
BUILTIN_PRICES: dict[str, Price] = {
    # Anthropic: input / output / cache hits.
    "claude-opus-4-6*": Price(5.0, 25.0, 0.50),
    "claude-opus-4-5*": Price(5.0, 25.0, 0.50),
    "claude-opus-4-1*": Price(15.0, 75.0, 1.50),
    "claude-opus-4-0*": Price(15.0, 75.0, 1.50),
    "claude-opus-4-2025*": Price(15.0, 75.0, 1.50),
    "claude-sonnet-4*": Price(3.0, 15.0, 0.30),
    # Every Sonnet generation so far has kept this tier's price: a newer one is assumed to.
    "claude-sonnet-*": Price(3.0, 15.0, 0.30),
    "claude-haiku-4-5*": Price(1.0, 5.0, 0.10),
    "claude-3-5-haiku*": Price(0.80, 4.0, 0.08),
    # Google Gemini: input (text) / output / context caching.
    "gemini-2.5-pro*": Price(1.25, 10.0, 0.125),
    "gemini-2.5-flash*": Price(0.30, 2.50, 0.03),
    "gemini-2.5-flash-lite*": Price(0.10, 0.40, 0.01),
    "gemini-3-pro*": Price(2.0, 12.0, 0.20),
    # OpenAI: input / output / cached input.
    "gpt-5": Price(1.25, 10.0, 0.125),
    "gpt-5-2025*": Price(1.25, 10.0, 0.125),
    "gpt-5-codex*": Price(1.25, 10.0, 0.125),
    "gpt-5-mini*": Price(0.25, 2.0, 0.025),
    "gpt-5-nano*": Price(0.05, 0.40, 0.005),
    "gpt-4.1*": Price(2.0, 8.0, 0.50),
    "gpt-4.1-mini*": Price(0.40, 1.60, 0.10),
    "gpt-4o*": Price(2.50, 10.0, 1.25),
    "gpt-4o-mini*": Price(0.15, 0.60, 0.075),
}

#: Provider types that run on the user's machine (or a server the user runs).
SELF_HOSTED_TYPES = frozenset({"local", "ollama"})


class PriceTable:
    """The built-in table under the config's ``[prices]`` entries."""

    def __init__(self, configured: Mapping[str, Price] | None = None) -> None:
        self._configured = {k.lower(): v for k, v in (configured or {}).items()}
        self._builtin = {k.lower(): v for k, v in BUILTIN_PRICES.items()}

    def lookup(self, model: str | None) -> Price | None:
        """The price of ``model`` from the config, else the built-in table, else None."""
        if not model:
            return None
        wanted = model.lower()
        # Gemini answers may name the model as "models/gemini-…".
        wanted = wanted.removeprefix("models/")
        return _match(self._configured, wanted) or _match(self._builtin, wanted)

    def price(self, provider: ProviderConfig | None, model: str | None) -> Price | None:
        """What ``model`` costs when ``provider`` serves it: configured, else the built-in
        table's price of a vendor's model, else free when self-hosted, else unknown.

        A vendor's model id on a local server (``gpt-4o`` behind a LiteLLM proxy on
        localhost) is priced as the vendor's: no one hosts that model themselves.
        """
        configured = _match(self._configured, (model or "").lower().removeprefix("models/"))
        if configured is not None:
            return configured
        if provider is not None and provider.type == "local":
            return FREE
        listed = self.lookup(model)
        if listed is None and provider is not None and self_hosted(provider):
            return FREE
        return listed

    def cost(
        self, provider: ProviderConfig | None, model: str | None, tokens: Tokens
    ) -> float | None:
        """The answer's cost, or None when its price or its token counts are unknown."""
        price = self.price(provider, model)
        if price is None:
            return None
        return cost_of(price, tokens)


def cost_of(price: Price, tokens: Tokens) -> float | None:
    """Cost in ``CURRENCY``; ``cached_input`` tokens are part of ``input`` (OpenAI's and
    Gemini's convention; the Anthropic adapter reports it so too)."""
    if tokens.input is None or tokens.output is None:
        return None
    cached = min(tokens.cached_input or 0, tokens.input)
    cached_price = price.input if price.cached_input is None else price.cached_input
    total = (
        (tokens.input - cached) * price.input + cached * cached_price + tokens.output * price.output
    )
    return total / 1_000_000


def _match(table: Mapping[str, Price], model: str) -> Price | None:
    if not model:
        return None
    if model in table:
        return table[model]
    hits = [p for p in table if fnmatchcase(model, p)]
    return table[max(hits, key=len)] if hits else None


def self_hosted(provider: ProviderConfig) -> bool:
    """Runs on the user's machine or network: the local type, Ollama not at ollama.com,
    or an OpenAI-compatible server on a loopback, private or ``.local`` address. The
    vendors' own types (anthropic, gemini, openai) never are: pointed at a local address
    they reach a proxy to the vendor, which bills as the vendor does."""
    url = str(provider.options.get("host") or provider.base_url or "")
    host = (urlsplit(url if "//" in url else f"//{url}").hostname or "").lower()
    if provider.type in SELF_HOSTED_TYPES:
        return not (host == "ollama.com" or host.endswith(".ollama.com"))
    if provider.type != "openai-compatible" or not host:
        return False
    if host == "localhost" or host.endswith((".local", ".localhost", ".lan", ".internal")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


def format_cost(cost: float | None) -> str:
    """``$0.0123`` (more digits for tiny amounts), or ``unknown``."""
    if cost is None:
        return "unknown"
    if cost == 0:
        return "$0"
    if cost < 0.01:
        return f"${cost:.4f}"
    return f"${cost:.2f}"
