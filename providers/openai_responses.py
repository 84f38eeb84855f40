"""OpenAI's Responses API (``POST {base_url}/responses``), the flavour codex-class models need.

System prompts go to ``instructions``; the other turns are ``input`` messages. Streams are
typed SSE events: ``response.output_text.delta`` carries text, and one terminal event ends
the answer (``response.completed``, ``response.incomplete``, ``response.failed``). Reasoning
summaries (``response.reasoning_summary_text.delta``, and ``response.reasoning_text.delta``
from open-weight models) become reasoning chunks, never answer text; tool events are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from providers.errors import ProviderUnavailableError, stream_ended
from providers.openai_base import OpenAIBase, StreamState, error_from_payload
from providers.tolerant import count, obj
from providers.types import ChatRequest, ChatResult, Chunk, Message, Usage

#: Stream events whose ``delta`` is reasoning (openai 3.57.0 ``types/responses``).
REASONING_DELTAS = ("response.reasoning_summary_text.delta", "response.reasoning_text.delta")
#: ``incomplete_details.reason`` → normalised finish reason.
INCOMPLETE_REASONS = {"max_output_tokens": "length", "content_filter": "content_filter"}


def build_responses_body(request: ChatRequest, *, stream: bool) -> dict[str, Any]:
    """The JSON body of a Responses API call. ``store: false``: a CLI keeps its own history."""
    body: dict[str, Any] = {
        "model": request.model,
        # Each item says it is a message: llama.cpp's server rejects a second turn
        # without it ("Cannot determine type of 'item'"), as OpenAI's spec allows.
        "input": [
            {"type": "message", "role": m.role, "content": input_content(m)} for m in request.turns
        ],
        "store": False,
    }
    if request.system is not None:
        body["instructions"] = request.system
    if request.max_tokens is not None:
        body["max_output_tokens"] = request.max_tokens
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if stream:
        body["stream"] = True
    return body


def input_content(message: Message) -> str | list[dict[str, Any]]:
    """A message's ``content``: its text, or ``input_text`` then ``input_image`` /
    ``input_file`` parts (data URLs, as openai 3.57.0's ``ResponseInputImageParam`` and
    ``ResponseInputFileParam``)."""
    if not message.attachments:
        return message.content
    content: list[dict[str, Any]] = []
    if message.content:
        content.append({"type": "input_text", "text": message.content})
    for part in message.attachments:
        if part.kind == "image":
            content.append({"type": "input_image", "image_url": part.data_url, "detail": "auto"})
        else:
            content.append(
                {"type": "input_file", "filename": part.filename, "file_data": part.data_url}
            )
    return content


def responses_usage(response: dict[str, Any]) -> Usage | None:
    usage = response.get("usage")
    if not isinstance(usage, dict):
        return None
    cached = count(obj(usage.get("input_tokens_details")).get("cached_tokens"))
    return Usage(count(usage.get("input_tokens")), count(usage.get("output_tokens")), cached)


def responses_finish(
    name: str, response: dict[str, Any], *, refused: bool, secret: str | None = None
) -> str:
    """The normalised finish reason of a finished response object; raises if it failed."""
    status = response.get("status")
    if status == "failed" or (status is None and response.get("error")):
        error = response.get("error") or "failed"
        raise error_from_payload(name, error, where="response failed: ", secret=secret)
    if status == "incomplete":
        details = response.get("incomplete_details") or {}
        reason = details.get("reason") if isinstance(details, dict) else None
        return INCOMPLETE_REASONS.get(str(reason), "other")
    return "content_filter" if refused else "stop"


def parse_responses_reply(
    name: str, data: dict[str, Any], request: ChatRequest, secret: str | None = None
) -> ChatResult:
    """A whole (non-streamed) response: the ``output_text`` parts of its message items.

    A 200 without ``output`` (``{}`` from a proxy or a broken gateway) has no answer
    shape: it is a failure that falls over, not an empty answer."""
    if data.get("output") is None:
        raise ProviderUnavailableError(f"{name}: reply has no output", provider=name)
    texts, refusals, thoughts = [], [], []
    for item in _list(name, data, "output"):
        if isinstance(item, dict) and item.get("type") == "reasoning":
            thoughts += [
                str(p.get("text") or "")
                for p in _list(name, item, "summary")
                if isinstance(p, dict)
            ]
        if not isinstance(item, dict) or item.get("type", "message") != "message":
            continue
        for part in _list(name, item, "content"):
            if isinstance(part, dict) and part.get("type") == "output_text":
                texts.append(str(part.get("text") or ""))
            elif isinstance(part, dict) and part.get("type") == "refusal":
                refusals.append(str(part.get("refusal") or ""))
    text = "".join(texts) + "".join(refusals)
    refused = bool(refusals) and not "".join(texts)
    finish = responses_finish(name, data, refused=refused, secret=secret)
    return ChatResult(
        text=text,
        model=request.model,
        finish_reason=finish,
        usage=responses_usage(data) or Usage(),
        reasoning="\n\n".join(t for t in thoughts if t),
    )


def _list(name: str, data: dict[str, Any], key: str) -> list[Any]:
    """``data[key]`` as a list (absent = empty); any other type is a malformed reply."""
    value = data.get(key) or []
    if not isinstance(value, list):
        raise ProviderUnavailableError(f"{name}: malformed reply: {key!r} is not a list")
    return value


@dataclass
class ResponsesStreamState:
    """Turns Responses API stream events into chunks (pure: no I/O)."""

    name: str
    done: bool = False
    text_seen: bool = False
    refused: bool = False
    final: Chunk | None = None
    secret: str | None = field(default=None, repr=False)  # redacted from in-band errors

    def feed(self, event: str, data: dict[str, Any]) -> list[Chunk]:
        kind = data.get("type") or event
        if kind in ("response.output_text.delta", "response.refusal.delta"):
            delta = data.get("delta")
            if not isinstance(delta, str) or not delta:
                return []
            if kind == "response.refusal.delta":
                self.refused = True
            else:
                self.text_seen = True
            return [Chunk(text=delta)]
        if kind in REASONING_DELTAS:
            delta = data.get("delta")
            return [Chunk(reasoning=delta)] if isinstance(delta, str) and delta else []
        if kind == "response.reasoning_summary_part.added" and count(data.get("summary_index")):
            return [Chunk(reasoning="\n\n")]  # between two summary parts
        if kind == "error":
            error = data.get("error") or data
            raise error_from_payload(self.name, error, where="stream error: ", secret=self.secret)
        if kind in ("response.completed", "response.incomplete", "response.failed"):
            response = data.get("response")
            if not isinstance(response, dict):
                raise ProviderUnavailableError(
                    f"{self.name}: {kind} event without a response", provider=self.name
                )
            if kind == "response.failed":
                response = {**response, "status": "failed"}
            refused = self.refused and not self.text_seen
            finish = responses_finish(self.name, response, refused=refused, secret=self.secret)
            self.final = Chunk(finish_reason=finish, usage=responses_usage(response))
            self.done = True
        return []

    def finish(self) -> Chunk:
        if self.final is None:
            raise stream_ended(self.name)
        return self.final


class OpenAIResponsesProvider(OpenAIBase):
    """codex: OpenAI models through the Responses API."""

    type_name: ClassVar[str] = "openai"
    key_envs: ClassVar[tuple[str, ...]] = ("OPENAI_API_KEY",)
    key_required: ClassVar[bool] = True
    default_model: ClassVar[str] = "gpt-6.2-sol"
    default_base_url: ClassVar[str | None] = "https://api.openai.com/v1"
    pip_packages: ClassVar[tuple[str, ...]] = ("httpx", "httpx-sse")
    endpoint: ClassVar[str] = "/responses"
    input_parts: ClassVar[frozenset[str]] = frozenset({"image_input", "pdf_input"})
    #: The Responses API's current models read images and PDFs (``input_file``).
    input_assumed: ClassVar[bool] = True

    def build_body(self, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        return build_responses_body(request, stream=stream)

    def parse_reply(self, data: dict[str, Any], request: ChatRequest) -> ChatResult:
        return parse_responses_reply(self.name, data, request, self.settings.api_key)

    def new_stream_state(self) -> StreamState:
        return ResponsesStreamState(self.name, secret=self.settings.api_key)
