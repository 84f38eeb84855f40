"""OpenAI-compatible chat completions (``POST {base_url}/chat/completions``).

One adapter for hf (the Hugging Face router) and every ``type = "openai-compatible"``
server: vLLM, llama.cpp, LM Studio, OpenRouter, Groq... They agree on the shape and differ
in the details this module absorbs: ``data:`` with or without a space, ``[DONE]`` or not,
a usage-only last chunk (``choices: []``), the role repeated in every chunk, an
``{"error": ...}`` object on a 200 stream, and their own finish reasons (``eos``...).

A stream that ends without any ``finish_reason`` did not finish. The real llama.cpp server
answers an over-long prompt with an empty 200 stream: that must fail, not look like "".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from providers.errors import ProviderUnavailableError, stream_ended
from providers.openai_base import OpenAIBase, StreamState, error_from_payload
from providers.think_tags import ThinkSplitter, split_think
from providers.tolerant import count, obj, text
from providers.types import ChatRequest, ChatResult, Chunk, Message, Usage

#: Vendor finish reasons → normalised ones; anything unlisted is "other".
FINISH_REASONS = {
    "stop": "stop",
    "eos": "stop",
    "eos_token": "stop",
    "end_turn": "stop",
    "stop_sequence": "stop",
    "length": "length",
    "max_tokens": "length",
    "model_length": "length",
    "content_filter": "content_filter",
    "tool_calls": "other",
    "function_call": "other",
}


def build_chat_body(request: ChatRequest, *, stream: bool) -> dict[str, Any]:
    """The JSON body of a chat completions call; system messages stay in place."""
    body: dict[str, Any] = {
        "model": request.model,
        "messages": [{"role": m.role, "content": chat_content(m)} for m in request.messages],
    }
    # ``max_tokens``, not ``max_completion_tokens``: every compatible server knows it.
    if request.max_tokens is not None:
        body["max_tokens"] = request.max_tokens
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


def chat_content(message: Message) -> str | list[dict[str, Any]]:
    """A message's ``content``: its text, or a text part then ``image_url`` / ``file`` parts.

    Shapes as openai 3.57.0's ``ChatCompletionContentPartImageParam`` (a data URL) and
    ``File`` (``file_data`` as a data URL, with a ``filename``).
    """
    if not message.attachments:
        return message.content
    content: list[dict[str, Any]] = []
    if message.content:
        content.append({"type": "text", "text": message.content})
    for part in message.attachments:
        if part.kind == "image":
            content.append({"type": "image_url", "image_url": {"url": part.data_url}})
        else:
            file = {"filename": part.filename, "file_data": part.data_url}
            content.append({"type": "file", "file": file})
    return content


def normalise_finish(reason: Any, *, refused: bool = False) -> str:
    """A normalised finish reason; a refusal with no other text is a content filter."""
    if refused:
        return "content_filter"
    return FINISH_REASONS.get(str(reason).lower(), "other")


def chat_usage(data: dict[str, Any]) -> Usage | None:
    usage = data.get("usage")
    if not isinstance(usage, dict):
        return None
    cached = count(obj(usage.get("prompt_tokens_details")).get("cached_tokens"))
    return Usage(count(usage.get("prompt_tokens")), count(usage.get("completion_tokens")), cached)


def parse_chat_reply(
    name: str, data: dict[str, Any], request: ChatRequest, secret: str | None = None
) -> ChatResult:
    """A whole (non-streamed) chat completion: the first choice's message."""
    if data.get("error"):
        raise error_from_payload(name, data["error"], secret=secret)
    choices = data.get("choices")
    choice = choices[0] if isinstance(choices, list) and choices else None
    if not isinstance(choice, dict):
        raise ProviderUnavailableError(f"{name}: reply has no choices", provider=name)
    message = obj(choice.get("message"))
    content, thought = split_think(text(message.get("content")))
    refusal = text(message.get("refusal"))
    thought = _reasoning_field(message) + thought
    # The whole reply arrived, so a server that leaves finish_reason out did finish.
    finish = normalise_finish(
        choice.get("finish_reason") or "stop", refused=bool(refusal) and not content
    )
    return ChatResult(
        text=content + refusal,
        model=request.model,
        finish_reason=finish,
        usage=chat_usage(data) or Usage(),
        reasoning=thought,
    )


@dataclass
class ChatStreamState:
    """Turns chat completion chunks into our chunks (pure: no I/O).

    The finish reason and usage may come in different chunks (usage last, with
    ``choices: []``), so the final chunk is built only when the stream ends.
    """

    name: str
    done: bool = False
    text_seen: bool = False
    refused: bool = False
    reason: str | None = None
    usage: Usage | None = None
    secret: str | None = field(default=None, repr=False)  # redacted from in-band errors
    think: ThinkSplitter = field(default_factory=ThinkSplitter, repr=False)

    def feed(self, event: str, data: dict[str, Any]) -> list[Chunk]:
        if data.get("error"):
            raise error_from_payload(
                self.name, data["error"], where="stream error: ", secret=self.secret
            )
        self.usage = chat_usage(data) or self.usage
        choices = data.get("choices")
        if choices is not None and not isinstance(choices, list):
            raise ProviderUnavailableError(
                f"{self.name}: malformed stream event: 'choices' is not a list",
                provider=self.name,
            )
        chunks = []
        for choice in choices or []:
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            delta = obj(choice.get("delta"))
            content, thought = self.think.feed(text(delta.get("content")))
            thought = _reasoning_field(delta) + thought
            if content or thought:
                self.text_seen = self.text_seen or bool(content)
                chunks.append(Chunk(text=content, reasoning=thought))
            if refusal := text(delta.get("refusal")):
                self.refused = True
                chunks.append(Chunk(text=refusal))
            if choice.get("finish_reason"):
                self.reason = str(choice["finish_reason"])
        return chunks

    def finish(self) -> Chunk:
        if self.reason is None:
            raise stream_ended(self.name)
        held, thought = self.think.close()
        refused = self.refused and not (self.text_seen or held)
        return Chunk(
            text=held,
            finish_reason=normalise_finish(self.reason, refused=refused),
            usage=self.usage,
            reasoning=thought,
        )


class OpenAICompatibleProvider(OpenAIBase):
    """Any OpenAI-compatible chat completions server; base_url comes from config."""

    type_name: ClassVar[str] = "openai-compatible"
    key_envs: ClassVar[tuple[str, ...]] = ()
    key_required: ClassVar[bool] = False
    default_model: ClassVar[str] = ""
    default_base_url: ClassVar[str | None] = None
    pip_packages: ClassVar[tuple[str, ...]] = ("httpx", "httpx-sse")
    endpoint: ClassVar[str] = "/chat/completions"
    #: The shapes exist; whether the served model reads them is the server's to say.
    input_parts: ClassVar[frozenset[str]] = frozenset({"image_input", "pdf_input"})

    def key_is_required(self) -> bool:
        # Local servers need no key; an instance that names a required key (hf) does.
        return bool(self.settings.api_key_env and self.settings.options.get("key_required"))

    def build_body(self, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        return build_chat_body(request, stream=stream)

    def parse_reply(self, data: dict[str, Any], request: ChatRequest) -> ChatResult:
        return parse_chat_reply(self.name, data, request, self.settings.api_key)

    def new_stream_state(self) -> StreamState:
        return ChatStreamState(self.name, secret=self.settings.api_key)


def _reasoning_field(message: dict[str, Any]) -> str:
    """Thinking sent beside the content: ``reasoning_content`` (DeepSeek, vLLM, llama.cpp)
    or ``reasoning`` (OpenRouter, Ollama's OpenAI endpoint)."""
    return text(message.get("reasoning_content")) or text(message.get("reasoning"))
