"""Oracles kept current: the built-in defaults against the newest SDKs' own model tables.

The installed SDKs (anthropic 2.16.0, openai 3.57.0, google-genai 3.6.1) carry the
vendors' current model ids as literal types and their deprecation tables with shutdown
dates. A built-in default, once resolved against a catalog recorded from those sources,
must be one of those ids and must not be listed for a shutdown that has already passed.
When a vendor retires the default, the next SDK release makes this test fail: pick the
new default then (docs/providers.md says how and where from).

Sources of the recorded catalogs:
- Anthropic: ``anthropic/types/model_param.py`` (``ModelParam``), ``_data/deprecated_models.py``
  (``DEPRECATED_MODELS``), entries shaped as ``types/model_info.py`` and validated by the
  SDK's own ``ModelInfo``; ``claude-sonnet-4-5`` retired on 2026-11-30 (issue 13).
- OpenAI: ``openai/types/shared/chat_model.py`` (``ChatModel`` and its "Deprecated
  values" table), ``responses_model.py``; entries shaped as ``types/model.py``
  (``shutdown_date``) and validated by the SDK's ``Model``.
- Gemini: google-genai 3.6.1 ``client.py``'s own example model (``gemini-3.8-flash``).
"""

from __future__ import annotations

import datetime
import inspect
import json
import re
import typing
from typing import Any

import anthropic.types
import openai.types
import openai.types.shared.chat_model as openai_chat_model
import pytest
from anthropic._data import DEPRECATED_MODELS
from anthropic.types import ModelParam
from google.genai import client as genai_client
from openai.types.shared import ChatModel, ResponsesModel

from ollama_cli.catalog.resolve import family_of, find, is_selector, select, usable
from providers.anthropic_wire import parse_models_page
from providers.builtins import BUILTIN_PROVIDERS, BUILTIN_TYPES
from providers.openai_base import parse_model_list
from providers.types import ModelInfo

TODAY = datetime.date.today()


def literals(alias: Any) -> set[str]:
    """Every string literal inside a (Union of) Literal type alias."""
    found: set[str] = set()
    for arg in typing.get_args(alias):
        if isinstance(arg, str):
            found.add(arg)
        else:
            found |= literals(arg)
    return found


ANTHROPIC_IDS = literals(ModelParam)
OPENAI_IDS = literals(ChatModel) | literals(ResponsesModel)


def anthropic_deprecations() -> dict[str, datetime.date]:
    """``DEPRECATED_MODELS`` ("January 22nd, 2027") as dates."""
    out = {}
    for model, when in DEPRECATED_MODELS.items():
        plain = re.sub(r"(\d+)(st|nd|rd|th)", r"\1", when)
        out[model] = datetime.datetime.strptime(plain, "%B %d, %Y").date()
    return out


def openai_deprecations() -> dict[str, datetime.date]:
    """The "Deprecated values" table of ``chat_model.py``: model → announced shutdown."""
    source = inspect.getsource(openai_chat_model)
    table = source[source.index("Deprecated values:") :]
    out = {}
    for entry in re.split(r"\n- ", table):
        date = re.search(r"shutdown date:\s*(\d{4}-\d{2}-\d{2})", entry.replace("\n  ", " "))
        if date:
            for model in re.findall(r'"([^"]+)"', entry):
                out[model] = datetime.date.fromisoformat(date.group(1))
    return out


def anthropic_catalog() -> list[ModelInfo]:
    """A ``/v1/models`` page as the API serves it today, from the SDK's own tables."""
    deprecated = anthropic_deprecations()
    entries = []
    for model in [*sorted(ANTHROPIC_IDS), "claude-sonnet-4-5"]:
        line = next((w for w in ("haiku", "sonnet", "opus", "fable", "mythos") if w in model), None)
        lifecycle = "active"
        retires = None
        if model in deprecated:
            lifecycle, retires = "deprecated", f"{deprecated[model].isoformat()}T00:00:00Z"
        if model == "claude-sonnet-4-5":
            lifecycle, retires = "retired", "2026-11-30T00:00:00Z"
        entry = {
            "type": "model",
            "id": model,
            "display_name": model,
            "created_at": "2026-01-01T00:00:00Z",
            "lifecycle": lifecycle,
            "retires_at": retires,
            "line": line,
        }
        anthropic.types.ModelInfo.model_validate(entry)  # the SDK reads these bytes too
        entries.append(entry)
    models, _ = parse_models_page({"data": entries, "has_more": False})
    return models


def openai_catalog() -> list[ModelInfo]:
    """A ``/v1/models`` listing with ``shutdown_date`` where the SDK's table has one."""
    shutdowns = openai_deprecations()
    entries = []
    for model in sorted(OPENAI_IDS):
        entry: dict[str, Any] = {"id": model, "object": "model", "created": 0, "owned_by": "openai"}
        if model in shutdowns:
            entry["shutdown_date"] = shutdowns[model].isoformat()
        openai.types.Model.model_validate(entry)
        entries.append(entry)
    return parse_model_list("codex", json.dumps({"object": "list", "data": entries}))


def default_of(name: str) -> str:
    builtin = BUILTIN_PROVIDERS[name]
    return builtin.default_model or BUILTIN_TYPES[builtin.type].default_model


def resolved(default: str, catalog: list[ModelInfo]) -> ModelInfo | None:
    return select(default, catalog) if is_selector(default) else find(catalog, default)


def test_the_claude_default_is_current_in_anthropic_2_16_0() -> None:
    model = resolved(default_of("claude"), anthropic_catalog())
    assert model is not None and usable(model) and model.family == "sonnet"
    assert model.id in ANTHROPIC_IDS
    retires = anthropic_deprecations().get(model.id)
    assert retires is None or retires > TODAY


def test_the_codex_default_is_current_in_openai_3_57_0() -> None:
    model = resolved(default_of("codex"), openai_catalog())
    assert model is not None and usable(model)
    assert model.id in OPENAI_IDS
    assert model.id not in openai_deprecations()


def test_the_gemini_default_is_the_latest_alias_of_a_family_the_sdk_uses() -> None:
    default = default_of("gemini")
    assert default.endswith("-latest")
    family = family_of(default.removesuffix("-latest"))
    used = re.findall(r"gemini-[0-9.]+-[a-z]+", inspect.getsource(genai_client))
    assert any(family_of(model) == family for model in used), used


@pytest.mark.parametrize(
    "retired",
    ["claude-sonnet-4-5", "gpt-5-codex", "gemini-2.5-flash", "meta-llama/Llama-3.1-8B-Instruct"],
)
def test_no_built_in_default_is_one_issue_13_found_dead(retired: str) -> None:
    assert retired not in {default_of(name) for name in BUILTIN_PROVIDERS}


def test_the_recorded_catalogs_carry_lifecycle_as_the_sdks_define_it() -> None:
    claude = {m.id: m for m in anthropic_catalog()}
    assert claude["claude-sonnet-4-5"].lifecycle == "retired"
    assert claude["claude-sonnet-4-5"].retires_at == "2026-11-30"
    assert claude["claude-opus-4-5"].lifecycle == "deprecated"
    assert claude["claude-opus-4-5"].retires_at == "2027-01-22"
    codex = {m.id: m for m in openai_catalog()}
    assert codex["gpt-5"].lifecycle == "deprecated" and codex["gpt-5"].retires_at == "2026-12-11"
    assert codex["gpt-4o-audio-preview"].lifecycle == "retired"  # shut down 2026-05-07
    assert codex["gpt-6.2-sol"].lifecycle == "unknown"  # no shutdown announced


def test_healing_a_retired_sonnet_lands_on_the_default() -> None:
    from ollama_cli.catalog.resolve import replacement

    found = replacement("claude-sonnet-4-5", anthropic_catalog())
    assert found is not None and found.id == default_of("claude")
