"""Images and PDFs on the wire: each adapter's request body carries them in the vendor's
documented shape, the shape the official SDK sends for the same content.

Each test sends one request through the SDK and one through our adapter to the same
loopback server and compares the message parts the server received. SDK versions:
anthropic 2.16.0, openai 3.57.0, google-genai 3.6.1, ollama 0.6.3.
"""

from __future__ import annotations

import base64
import warnings
from typing import Any

import pytest

from providers import Attachment, ChatRequest, Message
from providers.anthropic import AnthropicProvider
from providers.gemini import GeminiProvider
from providers.ollama import OllamaProvider
from providers.openai_compat import OpenAICompatibleProvider
from providers.openai_responses import OpenAIResponsesProvider
from tests import media
from tests.wire.anthropic import AnthropicWire, claude_settings
from tests.wire.gemini import GeminiWire
from tests.wire.loopback import LoopbackServer
from tests.wire.ollama import OllamaWire
from tests.wire.openai import codex_settings, compat_settings, openai_handler

with warnings.catch_warnings():  # the SDKs' import-time deprecations are not ours to fail on
    warnings.simplefilter("ignore")
    anthropic = pytest.importorskip("anthropic")
    openai = pytest.importorskip("openai")
    ollama = pytest.importorskip("ollama")
    from google import genai
    from google.genai import types as genai_types

PNG = Attachment("shots/red.png", "image/png", media.png())
JPEG = Attachment("grey.jpg", "image/jpeg", media.jpeg())
PDF = Attachment("docs/paper.pdf", "application/pdf", media.pdf())
PROMPT = "What is in these files?"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def ask(model: str, *parts: Attachment) -> ChatRequest:
    return ChatRequest(messages=(Message("user", PROMPT, parts),), model=model)


def last_body(server: LoopbackServer) -> dict[str, Any]:
    body = server.requests[-1].json()
    assert isinstance(body, dict)
    return body


async def test_anthropic_image_and_document_blocks(loopback: LoopbackServer) -> None:
    AnthropicWire(loopback).answer(["ok"], always=True)
    sdk = anthropic.AsyncAnthropic(api_key="sk-ant-x", base_url=loopback.url, max_retries=0)
    blocks: list[Any] = [
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": b64(PNG.data)},
        },
        {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": b64(PDF.data)},
        },
        {"type": "text", "text": PROMPT},
    ]
    await sdk.messages.create(
        model="claude-sonnet-4-5", max_tokens=64, messages=[{"role": "user", "content": blocks}]
    )
    await sdk.close()
    expected = last_body(loopback)["messages"]

    provider = AnthropicProvider(claude_settings(loopback.url))
    await provider.chat(ask("claude-sonnet-4-5", PNG, PDF))
    await provider.close()
    assert last_body(loopback)["messages"] == expected


async def test_gemini_inline_data_parts(loopback: LoopbackServer) -> None:
    wire = GeminiWire(loopback, accept_any_model=True)
    options = genai_types.HttpOptions(base_url=loopback.url, api_version="v1beta")
    client = genai.Client(api_key="test-key", http_options=options)
    await client.aio.models.generate_content(
        model="gemini-2.5-flash",
        contents=[
            genai_types.Content(
                role="user",
                parts=[
                    genai_types.Part.from_bytes(data=JPEG.data, mime_type="image/jpeg"),
                    genai_types.Part.from_bytes(data=PDF.data, mime_type="application/pdf"),
                    genai_types.Part.from_text(text=PROMPT),
                ],
            )
        ],
    )
    await client.aio.aclose()
    expected = decoded(wire.generate_bodies()[-1]["contents"])
    assert expected[0]["parts"][0]["inline_data"] == {"mime_type": "image/jpeg", "data": JPEG.data}

    provider = GeminiProvider(wire.settings())
    await provider.chat(ask("gemini-2.5-flash", JPEG, PDF))
    await provider.close()
    assert decoded(wire.generate_bodies()[-1]["contents"]) == expected


def decoded(contents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Blobs as the REST reference spells them, with their bytes decoded: the SDK sends
    ``inlineData`` and base64url, we send ``inline_data`` and standard base64; the API's
    JSON parser takes both spellings of the field and both alphabets."""
    for content in contents:
        for part in content["parts"]:
            blob = part.pop("inlineData", None) or part.get("inline_data")
            if blob is not None:
                data = blob["data"].replace("+", "-").replace("/", "_")
                mime = blob.get("mime_type") or blob.get("mimeType")
                part["inline_data"] = {"mime_type": mime, "data": base64.urlsafe_b64decode(data)}
    return contents


async def test_responses_input_image_and_input_file(loopback: LoopbackServer) -> None:
    loopback.handler = openai_handler()
    sdk = openai.AsyncOpenAI(api_key="sk-x", base_url=loopback.url + "/v1", max_retries=0)
    content: list[Any] = [
        {"type": "input_text", "text": PROMPT},
        {"type": "input_image", "image_url": PNG.data_url, "detail": "auto"},
        {"type": "input_file", "filename": "paper.pdf", "file_data": PDF.data_url},
    ]
    await sdk.responses.create(
        model="gpt-5-codex", input=[{"type": "message", "role": "user", "content": content}]
    )
    await sdk.close()
    expected = last_body(loopback)["input"]
    assert expected[0]["content"][1]["image_url"].startswith("data:image/png;base64,")

    provider = OpenAIResponsesProvider(codex_settings(loopback.url + "/v1"))
    await provider.chat(ask("gpt-5-codex", PNG, PDF))
    await provider.close()
    assert last_body(loopback)["input"] == expected


async def test_chat_completions_image_url_parts(loopback: LoopbackServer) -> None:
    loopback.handler = openai_handler()
    sdk = openai.AsyncOpenAI(api_key="sk-x", base_url=loopback.url + "/v1", max_retries=0)
    content: list[Any] = [
        {"type": "text", "text": PROMPT},
        {"type": "image_url", "image_url": {"url": PNG.data_url}},
        {"type": "file", "file": {"filename": "paper.pdf", "file_data": PDF.data_url}},
    ]
    await sdk.chat.completions.create(
        model="Qwen/Qwen3-8B", messages=[{"role": "user", "content": content}]
    )
    await sdk.close()
    expected = last_body(loopback)["messages"]

    provider = OpenAICompatibleProvider(compat_settings(loopback.url + "/v1"))
    await provider.chat(ask("Qwen/Qwen3-8B", PNG, PDF))
    await provider.close()
    assert last_body(loopback)["messages"] == expected


async def test_ollama_images_field() -> None:
    with OllamaWire(accept_any_model=True) as wire:
        sdk = ollama.AsyncClient(host=wire.url)
        # The SDK base64-encodes raw bytes itself (ollama._types.Image).
        await sdk.chat(
            model="llava",
            messages=[{"role": "user", "content": PROMPT, "images": [PNG.data, JPEG.data]}],
        )
        await sdk.close()
        expected = wire.chat_bodies()[-1]["messages"]
        assert expected[0]["images"] == [b64(PNG.data), b64(JPEG.data)]

        provider = OllamaProvider(wire.settings())
        await provider.chat(ask("llava", PNG, JPEG))
        await provider.close()
        assert wire.chat_bodies()[-1]["messages"] == expected


async def test_text_only_messages_keep_plain_string_content(loopback: LoopbackServer) -> None:
    AnthropicWire(loopback).answer(["ok"], always=True)
    provider = AnthropicProvider(claude_settings(loopback.url))
    await provider.chat(ChatRequest(messages=(Message("user", "hi"),), model="claude-haiku-4-5"))
    await provider.close()
    assert last_body(loopback)["messages"] == [{"role": "user", "content": "hi"}]


def test_request_needs_names_the_capabilities_of_its_parts() -> None:
    assert ask("m").needs == frozenset()
    assert ask("m", PNG).needs == {"image_input"}
    assert ask("m", PNG, PDF).needs == {"image_input", "pdf_input"}
    assert PDF.filename == "paper.pdf"
    assert Attachment("https://x.test/a/b.png?s=1", "image/png", b"").filename == "b.png"
