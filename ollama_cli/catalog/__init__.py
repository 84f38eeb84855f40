"""Model catalogs: each provider's listing cached in the state dir, defaults resolved
against it, retired models healed. See docs/routing.md, "Models that move"."""

from ollama_cli.catalog.models import ModelCatalog
from ollama_cli.catalog.store import CATALOG_TTL_S, CatalogStore

__all__ = ["CATALOG_TTL_S", "CatalogStore", "ModelCatalog"]
