"""Pure choices over a catalog: what a default selector means today, what replaces a
retired model, which installed Ollama model is best, which ids a typo was close to.

A default is either a concrete id or a selector: ``@sonnet`` (the newest active model of
that family: Anthropic's ``line``, or the id without its version numbers) or ``gpt-6*``
(the newest active model whose id starts so). "Newest" compares the version numbers in
the ids (``claude-sonnet-5-5`` > ``claude-sonnet-5`` > ``claude-sonnet-4-6``); a dated
snapshot loses to its undated alias.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from providers.types import ModelInfo

_NUMBER = re.compile(r"\d+")
_DATE = re.compile(r"^\d{6,8}$|^\d{4}-\d{2}-\d{2}$")
#: Ollama model names whose job is not chat.
_NOT_CHAT = re.compile(r"embed|rerank|clip|whisper", re.IGNORECASE)


def is_selector(model: str) -> bool:
    return model.startswith("@") or model.endswith("*")


def family_of(model: str) -> str:
    """The id without versions, dates and tags: ``gpt-5.6-sol`` → ``gpt-sol``,
    ``claude-sonnet-4-5`` → ``claude-sonnet``, ``qwen3:0.6b`` → ``qwen``."""
    base = model.split(":", 1)[0].rsplit("/", 1)[-1].lower()
    words = [w.rstrip("0123456789.") for w in re.split(r"[-_]", base)]
    return "-".join(w for w in words if w and not w[0].isdigit())


def same_model(listed: str, wanted: str) -> bool:
    """Ollama lists ``llama3.2:latest`` for the model asked for as ``llama3.2``."""
    return listed == wanted or listed == f"{wanted}:latest" or wanted == f"{listed}:latest"


def find(models: Iterable[ModelInfo], model: str) -> ModelInfo | None:
    return next((m for m in models if same_model(m.id, model)), None)


def usable(model: ModelInfo) -> bool:
    return model.lifecycle in ("active", "unknown")


def select(selector: str, models: Iterable[ModelInfo]) -> ModelInfo | None:
    """The newest usable model a selector names, or None."""
    if selector.endswith("*"):
        prefix = selector[:-1]
        return newest(m for m in models if m.id.startswith(prefix) and usable(m))
    family = selector.removeprefix("@").lower()
    return newest(m for m in models if usable(m) and _in_family(m, family))


def replacement(model: str, models: list[ModelInfo]) -> ModelInfo | None:
    """The newest usable model of ``model``'s family (its catalog ``family`` if listed)."""
    listed = find(models, model)
    family = listed.family if listed is not None and listed.family else family_of(model)
    found = newest(
        m for m in models if usable(m) and not same_model(m.id, model) and _in_family(m, family)
    )
    return found


def best_installed(wanted: str, models: list[ModelInfo]) -> ModelInfo | None:
    """For Ollama: the installed model closest to ``wanted`` — its family first, else the
    newest of the rest — leaving out models that do not chat (embeddings…)."""
    chat = [m for m in models if not _NOT_CHAT.search(m.id) and usable(m)]
    return replacement(wanted, chat) or newest(chat)


def closest(model: str, models: Iterable[ModelInfo], n: int = 3) -> list[str]:
    """The usable ids nearest a model that does not exist, for "did you mean"."""
    ids = [m.id for m in models if usable(m)]
    return difflib.get_close_matches(model, ids, n=n, cutoff=0.5)


def newest(models: Iterable[ModelInfo]) -> ModelInfo | None:
    return max(models, key=_age_key, default=None)


def _in_family(model: ModelInfo, family: str) -> bool:
    if model.family and model.family.lower() == family:
        return True
    own = family_of(model.id)
    return own == family or own.endswith(f"-{family}")


def _age_key(model: ModelInfo) -> tuple[tuple[int, ...], bool, int]:
    parts = re.split(r"[-_:]", model.id)
    dated = any(_DATE.match(p) for p in parts)
    numbers = tuple(
        int(n) for p in parts if not _DATE.match(p) for n in _NUMBER.findall(p) if len(n) < 6
    )
    return numbers, not dated, -len(model.id)
