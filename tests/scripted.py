"""Scripted in-process providers for router tests (like llm's MockModel): they test
routing, not providers. Each call pops the next scripted step."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from ollama_cli.config import Config, ProviderConfig, RouterSettings
from ollama_cli.router import ProviderRouter
from ollama_cli.router.cooldown import CooldownStore
from providers import (
    BaseProvider,
    ChatRequest,
    ChatResult,
    Chunk,
    Health,
    ModelInfo,
    ProviderError,
    Usage,
)
from providers.registry import ProviderRegistry
from providers.spec import ProviderSpec


@dataclass
class Answer:
    tokens: list[str]
    finish: str | None = "stop"
    first_delay: float = 0.0


@dataclass
class Fail:
    error: ProviderError


@dataclass
class Cut:
    """Yield ``tokens`` then fail with ``error`` (a stream dying mid-answer)."""

    tokens: list[str]
    error: ProviderError


@dataclass
class Stall:
    """Never produce anything (until cancelled)."""


@dataclass
class Script:
    steps: deque[Any] = field(default_factory=deque)
    requests: list[ChatRequest] = field(default_factory=list)
    opened: int = 0
    closed: int = 0


class ScriptedProvider(BaseProvider):
    type_name = "scripted"
    default_model = "scripted-model"

    @property
    def script(self) -> Script:
        return self.settings.options["script"]  # type: ignore[no-any-return]

    async def chat(self, request: ChatRequest) -> ChatResult:
        text, finish = "", "stop"
        async for chunk in self.stream(request):
            text += chunk.text
            finish = chunk.finish_reason or finish
        return ChatResult(text, request.model, finish, Usage(1, len(text)))

    async def stream(self, request: ChatRequest) -> AsyncIterator[Chunk]:
        script = self.script
        script.requests.append(request)
        script.opened += 1
        step = (
            script.steps.popleft()
            if script.steps
            else Fail(ProviderError(f"{self.name}: script exhausted"))
        )
        try:
            if isinstance(step, Fail):
                raise step.error
            if isinstance(step, Stall):
                await asyncio.Event().wait()
            if isinstance(step, Answer):
                if step.first_delay:
                    await asyncio.sleep(step.first_delay)
                for token in step.tokens:
                    yield Chunk(text=token)
                    await asyncio.sleep(0)
                if step.finish:
                    yield Chunk(finish_reason=step.finish, usage=Usage(3, len(step.tokens)))
            if isinstance(step, Cut):
                for token in step.tokens:
                    yield Chunk(text=token)
                raise step.error
        finally:
            script.closed += 1

    async def health_check(self) -> Health:
        return Health(models=1)

    async def list_models(self) -> list[ModelInfo]:
        return [ModelInfo(id="scripted-model")]


def scripted_router(
    names: list[str],
    *,
    keys: dict[str, bool] | None = None,
    cooldown_path: Any = None,
    notices: list[str] | None = None,
    **settings: Any,
) -> tuple[ProviderRouter, dict[str, Script]]:
    """A router over scripted providers ``names`` (in chain order)."""
    registry = ProviderRegistry()
    registry.register(ProviderSpec("scripted", "tests.scripted:ScriptedProvider"), ScriptedProvider)
    scripts = {n: Script() for n in names}
    keys = keys or {}
    providers = {
        n: ProviderConfig(
            name=n,
            type="scripted",
            default_model=f"{n}-default",
            key_envs=(f"{n.upper()}_KEY",),
            key_required=n in keys,
            api_key="k" if keys.get(n) else None,
            options={"script": scripts[n]},
        )
        for n in names
    }
    config = Config(None, RouterSettings(chain=tuple(names), **settings), providers)
    sink = notices if notices is not None else []
    router = ProviderRouter(
        config,
        registry=registry,
        cooldowns=CooldownStore(cooldown_path),
        notify=sink.append,
        environ={},
    )
    return router, scripts
