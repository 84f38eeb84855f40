"""An ollama-cli provider type, ``command``, installed as a plugin.

ollama-cli finds it through the ``ollama_cli.providers`` entry point declared in this
package's pyproject.toml, which names ``get_provider_spec`` below. The spec is derived from
the class, so the catalog (``ollama-cli providers list --all``) and config validation see
the same capabilities the class declares.
"""

from __future__ import annotations

from ollama_cli_command_provider.provider import CommandProvider
from providers.spec import ProviderSpec

__all__ = ["CommandProvider", "get_provider_spec"]


def get_provider_spec() -> ProviderSpec:
    """The spec of the ``command`` type (the registry fills in ``origin``)."""
    return ProviderSpec.from_class(
        CommandProvider,
        target="ollama_cli_command_provider.provider:CommandProvider",
        origin="ollama-cli-command-provider",
    )
