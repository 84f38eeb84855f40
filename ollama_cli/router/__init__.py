"""The fallback router: plan, walk, retry, cooldown, resume, hedge, trace."""

from ollama_cli.router.router import ProviderRouter, RoutedStream
from ollama_cli.router.trace import Attempt
from ollama_cli.router.types import RouteRequest, RouteResult, RoutingError, UnknownProviderError

__all__ = [
    "Attempt",
    "ProviderRouter",
    "RouteRequest",
    "RouteResult",
    "RoutedStream",
    "RoutingError",
    "UnknownProviderError",
]
