"""A provider class that implements only half of the contract: no ``stream``, no
``list_models``. ollama-cli must refuse it at load, naming this package and both methods.

``type_name`` is left unset on purpose: a class that sets it is already refused by
``BaseProvider.__init_subclass__`` when its module is imported; this one gets as far as
the registry's own contract check.
"""

from __future__ import annotations

from providers.base import BaseProvider
from providers.types import ChatRequest, ChatResult, Health


class HalfProvider(BaseProvider):
    async def chat(self, request: ChatRequest) -> ChatResult:
        return ChatResult(text="half an answer", model=request.model)

    async def health_check(self) -> Health:
        return Health(models=0)
