"""The two input rules of the plan: parts a model cannot read, prompts it cannot fit."""

from __future__ import annotations

from ollama_cli.router import RouteRequest
from ollama_cli.router.capability import needs_of, too_long, unreadable
from providers import Attachment, Message, ModelInfo
from providers.builtins import BUILTIN_TYPES
from tests import media
from tests.scripted import Answer, scripted_router

PNG = Attachment("a.png", "image/png", media.png())
PDF = Attachment("a.pdf", "application/pdf", media.pdf())
IMAGE, BOTH = frozenset({"image_input"}), frozenset({"image_input", "pdf_input"})


def test_the_catalog_decides_when_it_lists_capabilities() -> None:
    claude = BUILTIN_TYPES["anthropic"]
    seeing = ModelInfo("claude-x", capabilities=frozenset({"image_input"}))
    assert unreadable(IMAGE, claude, seeing, "claude-x") is None
    assert unreadable(BOTH, claude, seeing, "claude-x") == "claude-x cannot read PDFs"
    # A catalog entry that lists nothing is "not known": the type's declaration decides.
    assert unreadable(BOTH, claude, ModelInfo("claude-x"), "claude-x") is None


def test_servers_that_do_not_say_are_not_sent_parts() -> None:
    ollama, compat = BUILTIN_TYPES["ollama"], BUILTIN_TYPES["openai-compatible"]
    assert unreadable(IMAGE, ollama, None, "llama3.2") == "llama3.2 is not known to read images"
    llava = ModelInfo("llava", capabilities=frozenset({"image_input"}))
    assert unreadable(IMAGE, ollama, llava, "llava") is None
    assert unreadable(BOTH, ollama, llava, "llava") == "ollama cannot send PDFs"
    assert unreadable(IMAGE, compat, None, "Qwen/Qwen3-8B") is not None
    assert unreadable(IMAGE, BUILTIN_TYPES["local"], None, "m") == "local cannot send images"


def test_only_a_known_window_smaller_than_the_prompt_skips() -> None:
    prompt = (Message("user", "word " * 6000, (PNG,)),)  # 30,000 bytes: ≥ 5,085 tokens
    assert too_long(prompt, None, "m") is None
    assert too_long(prompt, ModelInfo("m"), "m") is None
    assert too_long(prompt, ModelInfo("m", context_window=8192), "m") is None
    assert too_long(prompt, ModelInfo("m", context_window=4096), "m") == (
        "the prompt (at least 5,085 tokens) exceeds m's context window (4,096)"
    )
    assert needs_of(prompt) == IMAGE


async def test_a_model_whose_window_is_too_small_is_skipped_before_any_request() -> None:
    router, scripts = scripted_router(["small", "big"])
    windows = {"small": 1000, "big": 200_000}
    router._catalog = lambda name, model: ModelInfo(model, context_window=windows[name])
    scripts["big"].steps.append(Answer(["fits"]))
    result = await router.chat(RouteRequest(messages=(Message("user", "x" * 12_000),)))
    assert result.text == "fits"
    assert [a.outcome for a in result.attempts] == ["context_too_long", "ok"]
    assert scripts["small"].opened == 0
