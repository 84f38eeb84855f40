"""The provider contract, the project's own types, the error taxonomy and the registry.

Importable as ``providers``; never imports ``ollama_cli``. Adapter modules (which import
httpx) are loaded by the registry only when a provider of their type is built.
"""

import sys

# httpx imports its own command-line module (click, rich, pygments: ~45 ms) whenever click
# is installed. We never use it; a None entry makes httpx fall back to its stub `main`.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

from providers.base import BaseProvider, ProviderSettings
from providers.errors import (
    BadRequestError,
    ContentFilteredError,
    ContextLengthError,
    ModelNotFoundError,
    ProviderAuthError,
    ProviderError,
    ProviderUnavailableError,
    ProviderUnreachableError,
    RateLimitError,
    UnsupportedParameterError,
)
from providers.registry import ENTRY_POINT_GROUP, ProviderLoadError, ProviderRegistry
from providers.spec import ProviderSpec
from providers.types import (
    Attachment,
    ChatRequest,
    ChatResult,
    Chunk,
    Health,
    Message,
    ModelInfo,
    Usage,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "Attachment",
    "BadRequestError",
    "BaseProvider",
    "ChatRequest",
    "ChatResult",
    "Chunk",
    "ContentFilteredError",
    "ContextLengthError",
    "Health",
    "Message",
    "ModelInfo",
    "ModelNotFoundError",
    "ProviderAuthError",
    "ProviderError",
    "ProviderLoadError",
    "ProviderRegistry",
    "ProviderSettings",
    "ProviderSpec",
    "ProviderUnavailableError",
    "ProviderUnreachableError",
    "RateLimitError",
    "UnsupportedParameterError",
    "Usage",
]
