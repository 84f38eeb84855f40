"""ollama-cli: a terminal chat client for many LLM providers, with fallback routing.

The router is imported lazily (``ollama_cli.ProviderRouter``) so that ``--help`` and
``--version`` stay as cheap as starting Python.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from ollama_cli.router import ProviderRouter

__all__ = ["ProviderRouter", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "ProviderRouter":
        from ollama_cli.router import ProviderRouter

        return ProviderRouter
    raise AttributeError(name)
