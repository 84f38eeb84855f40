"""The project's own message, request, chunk and result types, shared by every provider.

Providers translate their vendor's wire format into these and nothing else, so the
router, the renderer and the history store never see a vendor-specific shape.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["system", "user", "assistant"]
Lifecycle = Literal["active", "deprecated", "retired", "unknown"]
LIFECYCLES = ("active", "deprecated", "retired", "unknown")

#: Capability names a ``ModelInfo`` may carry (an empty set means "not known").
CAPABILITIES = ("image_input", "pdf_input", "thinking")

#: Media types sent as native message parts (content-sniffed, never taken from a name).
IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif")
PDF_TYPE = "application/pdf"

#: Normalised finish reasons. Adapters map every vendor value onto one of these.
FINISH_REASONS = ("stop", "length", "content_filter", "other")


@dataclass(frozen=True, slots=True)
class Attachment:
    """An image or a PDF sent as a native part of a message, in each vendor's own shape.

    Text files never become attachments: they are part of ``Message.content``, so every
    provider (and every caller that reads ``content``) sees them. ``name`` is what the user
    attached (a path or URL), for display and for APIs that want a file name.
    """

    name: str
    media_type: str
    data: bytes = field(repr=False)

    @property
    def kind(self) -> Literal["image", "pdf"]:
        return "pdf" if self.media_type == PDF_TYPE else "image"

    @property
    def capability(self) -> str:
        """The model capability (``ModelInfo.capabilities``) needed to read this part."""
        return f"{self.kind}_input"

    @property
    def filename(self) -> str:
        """The last segment of what was attached: APIs that want a file name get a bare one."""
        last = self.name.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        return last or f"attachment.{self.kind}"

    @property
    def base64(self) -> str:
        return base64.b64encode(self.data).decode("ascii")

    @property
    def data_url(self) -> str:
        return f"data:{self.media_type};base64,{self.base64}"

    @property
    def digest(self) -> str:
        """SHA-256 of the bytes: the history stores each distinct attachment once."""
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True, slots=True)
class Message:
    """One turn of a conversation: its text, and any images or PDFs that go with it."""

    role: Role
    content: str
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts, normalised to input/output for every provider.

    ``cached_input_tokens`` is the part of ``input_tokens`` the vendor served from its
    prompt cache (billed at a lower price), where the vendor reports it.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """What a provider is asked to do: a conversation and generation options.

    ``model`` is always set by the time a provider sees the request: the router
    fills in the provider's default model when the user did not choose one.
    """

    messages: tuple[Message, ...]
    model: str
    max_tokens: int | None = None
    temperature: float | None = None

    @property
    def system(self) -> str | None:
        """The system prompt (all system messages joined), or None."""
        parts = [m.content for m in self.messages if m.role == "system"]
        return "\n\n".join(parts) if parts else None

    @property
    def turns(self) -> tuple[Message, ...]:
        """The messages without system messages, for APIs that take the system apart."""
        return tuple(m for m in self.messages if m.role != "system")

    @property
    def needs(self) -> frozenset[str]:
        """The model capabilities the attachments need (``{"image_input"}``...); empty for text."""
        return frozenset(a.capability for m in self.messages for a in m.attachments)


@dataclass(frozen=True, slots=True)
class Chunk:
    """One piece of a streamed answer.

    Text chunks carry ``text``; the final chunk carries ``finish_reason`` (and usage
    when the provider reports it). A stream that ends without a chunk carrying a
    finish reason did not finish: the router treats it as a failure.

    ``reasoning`` is the model's thinking (Claude thinking, Gemini thought parts, Responses
    reasoning summaries, Ollama ``thinking``, ``<think>`` text): never answer text, never
    sent back to a model, and never what makes an attempt count as answered.
    """

    text: str = ""
    finish_reason: str | None = None
    usage: Usage | None = None
    reasoning: str = ""


@dataclass(frozen=True, slots=True)
class ChatResult:
    """A whole answer."""

    text: str
    model: str
    finish_reason: str = "stop"
    usage: Usage = field(default_factory=Usage)
    reasoning: str = ""  # the model's thinking, apart from the answer (see ``Chunk``)


@dataclass(frozen=True, slots=True)
class Health:
    """What a successful health check learned. Failures raise taxonomy errors instead."""

    models: int | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One entry of a provider's model catalog, parsed from the vendor's own listing.

    Every field but ``id`` may be unknown: a server that lists bare ids gives
    ``lifecycle="unknown"``, no limits and empty ``capabilities``. ``retires_at`` is an
    ISO date (``2026-11-30``). ``capabilities`` holds names from ``CAPABILITIES``.
    ``sampling_params`` is the set of sampling parameters the model accepts (e.g.
    ``{"temperature", "top_p"}``); None when the vendor does not say.
    """

    id: str
    display_name: str | None = None
    lifecycle: Lifecycle = "unknown"
    retires_at: str | None = None
    family: str | None = None
    context_window: int | None = None
    max_output_tokens: int | None = None
    capabilities: frozenset[str] = frozenset()
    sampling_params: frozenset[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        """As JSON (``models list --json``, the catalog cache): sets as sorted lists."""
        data = {f: getattr(self, f) for f in self.__dataclass_fields__}
        data["capabilities"] = sorted(self.capabilities)
        if self.sampling_params is not None:
            data["sampling_params"] = sorted(self.sampling_params)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelInfo:
        """The inverse of ``to_dict``; unknown keys are ignored, missing ones unknown."""
        sampling = data.get("sampling_params")
        lifecycle = data.get("lifecycle")
        return cls(
            id=str(data["id"]),
            display_name=data.get("display_name"),
            lifecycle=lifecycle if lifecycle in LIFECYCLES else "unknown",
            retires_at=data.get("retires_at"),
            family=data.get("family"),
            context_window=data.get("context_window"),
            max_output_tokens=data.get("max_output_tokens"),
            capabilities=frozenset(data.get("capabilities") or ()),
            sampling_params=None if sampling is None else frozenset(sampling),
        )


def model_infos(items: Iterable[ModelInfo | str]) -> list[ModelInfo]:
    """``items`` as ModelInfo: plugins written before catalogs may still list bare ids."""
    return [item if isinstance(item, ModelInfo) else ModelInfo(id=str(item)) for item in items]
