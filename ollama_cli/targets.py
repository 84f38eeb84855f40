"""What ``-p``/``-m`` (and ``/model``, and a role's model) name: aliases and ``provider/model``.

``-m gemini/gemini-flash-latest`` selects both the provider and the model, as in ``llm`` and
``aichat``. Model ids may contain ``/`` themselves (Hugging Face's ``org/model:provider``),
so the part before the first ``/`` is a provider only when it names a configured one and
no other provider was chosen explicitly; otherwise the whole text is the model id.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ollama_cli.settings import Config


def split_target(
    config: Config, provider: str | None, model: str | None
) -> tuple[str | None, str | None]:
    """``(provider, model)`` as typed → the provider and model they select.

    An alias (``[aliases] fast = "gemini/gemini-flash-lite-latest"``) is replaced by its
    target first; then a ``provider/`` prefix naming a configured provider is split off.
    """
    return split_model(config.providers, config.aliases, provider, model)


def split_model(
    providers: Collection[str], aliases: Mapping[str, str], provider: str | None, model: str | None
) -> tuple[str | None, str | None]:
    """``split_target`` before the ``Config`` exists (roles are read while it is built)."""
    if model is None:
        return provider, None
    model = aliases.get(model, model)
    head, slash, rest = model.partition("/")
    if slash and rest and head in providers and provider in (None, head):
        return head, rest
    return provider, model


def alias_choices(config: Config) -> list[tuple[str, str]]:
    """Every alias with its target: what REPL completion and ``models list`` offer."""
    return sorted(config.aliases.items())
