"""One generation with llama.cpp: its arguments, its stream of parts, its errors.

``Generation.run`` is the body of a worker thread; it waits for the model's lock, counts
the prompt's tokens (so an over-long prompt is a ContextLengthError before any work) and
emits chunks. The argument building and part parsing are pure, tested without a model.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from providers.errors import ContextLengthError, ProviderError, ProviderUnavailableError
from providers.local_models import LoadedModel
from providers.types import ChatRequest, Chunk, Usage

#: llama.cpp's own default temperature; a cap so a small model cannot ramble to n_ctx.
DEFAULT_TEMPERATURE = 0.2
DEFAULT_MAX_TOKENS = 512
#: How often a worker waiting for a busy model checks whether its consumer went away.
LOCK_POLL_SECONDS = 0.05
_CONTEXT_ERROR = re.compile(r"Requested tokens \((\d+)\) exceed context window of (\d+)")


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
class Generation:
    """One generation, run on a worker thread: emits text chunks, then a finish chunk with
    usage or a taxonomy error, then None. ``stop`` is checked while waiting for the model
    and between tokens, so a consumer that goes away frees the model at once."""

    name: str
    model: LoadedModel
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
