"""Whether a provider's model can take a request, decided before anything is sent.

Two skip rules beside ``skipped_no_key`` and ``skipped_cooldown``:

- ``unsupported_input``: the request carries an image or a PDF the model cannot read.
  The catalog entry (``ModelInfo.capabilities``) decides when it lists capabilities;
  otherwise the provider type's own declaration does (``input_parts``: what its wire
  format can carry; ``input_assumed``: whether every current model of the API reads
  them), or the provider's ``reads`` config key. A server that says nothing is not sent
  an image: a model that cannot see one answers as if it had, which is worse than falling
  over to one that can.
- ``context_too_long``: the prompt is larger than the model's known context window.
  Unknown windows never skip. The size is a lower bound (``MIN_BYTES_PER_TOKEN``), so a
  prompt the model could take is never refused here; the server has the last word.
"""

from __future__ import annotations

from collections.abc import Iterable

from providers.spec import ProviderSpec
from providers.types import Message, ModelInfo

#: Tokenizers rarely pack more than this many UTF-8 bytes into one token of prose or code.
MIN_BYTES_PER_TOKEN = 6
#: Tokens an image costs at least, whatever the vendor (low-detail images are ~85).
MIN_IMAGE_TOKENS = 85

WHAT = {"image_input": "images", "pdf_input": "PDFs"}


def needs_of(messages: Iterable[Message]) -> frozenset[str]:
    return frozenset(part.capability for m in messages for part in m.attachments)


def unreadable(
    needs: frozenset[str],
    spec: ProviderSpec | None,
    info: ModelInfo | None,
    model: str,
    declared: frozenset[str] = frozenset(),
) -> str | None:
    """Why ``model`` cannot take parts needing ``needs`` (None: it can).

    ``declared`` is the provider's ``reads`` config key: what the user says its models
    read when their catalog entry does not say.
    """
    for need in sorted(needs):
        what = WHAT.get(need, need)
        if spec is None or need not in spec.input_parts:
            kind = spec.type_name if spec is not None else "this provider type"
            return f"{kind} cannot send {what}"
        if info is not None and info.capabilities:
            if need not in info.capabilities:
                return f"{model} cannot read {what}"
        elif not (spec.input_assumed or need in declared):
            return f"{model} is not known to read {what}"
    return None


def estimated_tokens(messages: Iterable[Message]) -> int:
    """A lower bound on the prompt's tokens (see ``MIN_BYTES_PER_TOKEN``)."""
    total = 0
    for message in messages:
        total += len(message.content.encode("utf-8")) // MIN_BYTES_PER_TOKEN
        total += MIN_IMAGE_TOKENS * sum(1 for p in message.attachments if p.kind == "image")
    return total


def too_long(messages: tuple[Message, ...], info: ModelInfo | None, model: str) -> str | None:
    """Why the prompt cannot fit ``model``'s context window (None: it may)."""
    window = info.context_window if info is not None else None
    if not window:
        return None
    tokens = estimated_tokens(messages)
    if tokens <= window:
        return None
    return f"the prompt (at least {tokens:,} tokens) exceeds {model}'s context window ({window:,})"
