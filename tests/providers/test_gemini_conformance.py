"""Conformance: the official google-genai SDK and our adapter read the same bytes alike.

Each recorded payload is served byte for byte, over a real loopback socket, once to
``genai.Client(...).aio.models`` and once to ``GeminiProvider``; both must find the same
text, the same finish reason (normalised) and the same usage. The SDK is the oracle only.

Sources of the recorded payloads (verbatim):

- Google's recorded Gemini Developer API responses, github.com/FirebaseExtended/
  vertexai-sdk-test-data, ``mock-responses/googleai/``: streaming-success-basic-reply-short.txt
  (commit be42a01), streaming-success-thinking-reply-thought-summary.txt (f0e75e4),
  streaming-failure-recitation-no-content.txt (be42a01),
  streaming-failure-prompt-blocked-safety.txt (4e48ff7), unary-success-basic-reply-short.txt
  (1b6abf9), unary-success-thinking-reply-thought-summary.json (3b5bb2f),
  unary-failure-finish-reason-safety.txt (3737ae1), unary-failure-api-key.txt (607da3e),
  unary-failure-unknown-model.txt (e177b49).
- google-genai 3.4.0, ``google/genai/tests/client/test_async_stream.py``:
  ``_sse_body_with_separator`` (CRLF events with U+2028 inside a JSON string).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from providers import (
    ChatRequest,
    Chunk,
    ContentFilteredError,
    Message,
    ModelNotFoundError,
    ProviderAuthError,
    ProviderError,
    Usage,
)
from providers.gemini import GeminiProvider
from tests.wire.gemini import SSE, GeminiWire
from tests.wire.loopback import LoopbackServer, Reply

MODEL = "gemini-2.5-flash"
#: How we normalise the SDK's FinishReason, written out independently of the adapter.
SDK_FINISH = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
}

STREAM_SHORT = rb"""data: {"candidates": [{"content": {"parts": [{"text": "The"}],"role": "model"}}],"usageMetadata": {"promptTokenCount": 7,"totalTokenCount": 7,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 7}]},"modelVersion": "gemini-3.1-flash-lite"}

data: {"candidates": [{"content": {"parts": [{"text": " capital of Wyoming"}],"role": "model"}}],"usageMetadata": {"promptTokenCount": 7,"totalTokenCount": 7,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 7}]},"modelVersion": "gemini-3.1-flash-lite"}

data: {"candidates": [{"content": {"parts": [{"text": " is **Cheyenne**.\n"}],"role": "model"},"finishReason": "STOP"}],"usageMetadata": {"promptTokenCount": 7,"candidatesTokenCount": 10,"totalTokenCount": 17,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 7}],"candidatesTokensDetails": [{"modality": "TEXT","tokenCount": 10}]},"modelVersion": "gemini-3.1-flash-lite"}

"""  # noqa: E501

STREAM_THINKING = rb"""data: {"candidates": [{"content": {"parts": [{"text": "**Exploring Sky Color**\n\nI've zeroed in on the core question: why does the sky appear blue? My thought process has taken shape, highlighting sunlight's composition, the atmospheric role, and the significance of scattering. Specifically, I'm focusing on Rayleigh scattering and how the wavelengths of light interact. My next step will be to explain this.\n\n\n","thought": true}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 10,"totalTokenCount": 80,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 10}],"thoughtsTokenCount": 70},"modelVersion": "gemini-2.5-flash","responseId": "0J-HaJetAqv0jrEPwu-tsQ0"}

data: {"candidates": [{"content": {"parts": [{"text": "**Refining the Explanation**\n\nI'm now in the process of formulating a clear and concise explanation. The initial draft is complete and it explains why the sky appears blue by referencing how sunlight is scattered by Earth's atmosphere. I'm focusing on the significance of the shorter wavelengths of blue light, ensuring a comprehensive understanding is conveyed. The current plan is to finalize the explanation.\n\n\n","thought": true}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 10,"totalTokenCount": 328,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 10}],"thoughtsTokenCount": 318},"modelVersion": "gemini-2.5-flash","responseId": "0J-HaJetAqv0jrEPwu-tsQ0"}

data: {"candidates": [{"content": {"parts": [{"text": "**Constructing a Concise Answer**\n\nI've formulated a succinct explanation for why the sky is blue. Sunlight contains all colors. Tiny gas molecules in the atmosphere scatter sunlight. Blue light has shorter wavelengths, scattering more efficiently. This dispersed blue light fills the sky, making it appear blue to us. I'm satisfied with this concise response.\n\n\n","thought": true}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 10,"totalTokenCount": 550,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 10}],"thoughtsTokenCount": 540},"modelVersion": "gemini-2.5-flash","responseId": "0J-HaJetAqv0jrEPwu-tsQ0"}

data: {"candidates": [{"content": {"parts": [{"text": "The sky is blue because tiny gas molecules in Earth's atmosphere scatter blue light from the sun more efficiently than other colors."}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 10,"candidatesTokenCount": 22,"totalTokenCount": 572,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 10}],"thoughtsTokenCount": 540},"modelVersion": "gemini-2.5-flash","responseId": "0J-HaJetAqv0jrEPwu-tsQ0"}

data: {"candidates": [{"content": {"parts": [{"text": " Blue light has shorter, smaller wavelengths, causing it to be scattered in all directions, making the sky appear blue to our eyes."}],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 10,"candidatesTokenCount": 48,"totalTokenCount": 598,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 10}],"thoughtsTokenCount": 540},"modelVersion": "gemini-2.5-flash","responseId": "0J-HaJetAqv0jrEPwu-tsQ0"}

"""  # noqa: E501

STREAM_RECITATION = rb"""data: {"candidates": [{"content": {"parts": [{"text": "text1"}],"role": "model"}}],"usageMetadata": {"promptTokenCount": 9,"totalTokenCount": 9,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 9}]},"modelVersion": "gemini-3.1-flash-lite"}

data: {"candidates": [{"content": {"parts": [{"text": "text2"}],"role": "model"}}],"usageMetadata": {"promptTokenCount": 9,"totalTokenCount": 9,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 9}]},"modelVersion": "gemini-3.1-flash-lite"}

data: {"candidates": [{"content": {"parts": [{"text": "text3"}],"role": "model"}}],"usageMetadata": {"promptTokenCount": 9,"totalTokenCount": 9,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 9}]},"modelVersion": "gemini-3.1-flash-lite"}

data: {"candidates": [{"content": {"parts": [{"text": "text4"}],"role": "model"},"citationMetadata": {"citationSources": [{"startIndex": 110,"endIndex": 239,"uri": "https://www.google.com/"}]}}],"usageMetadata": {"promptTokenCount": 9,"totalTokenCount": 9,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 9}]},"modelVersion": "gemini-3.1-flash-lite"}

data: {"candidates": [{"content": {"parts": [{"text": "text5"}],"role": "model"},"citationMetadata": {"citationSources": [{"startIndex": 118,"endIndex": 262,"uri": "https://uc-r.github.io/tidy_text"},{"startIndex": 146,"endIndex": 401,"uri": "https://www.google.com/"}]}}],"usageMetadata": {"promptTokenCount": 9,"totalTokenCount": 9,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 9}]},"modelVersion": "gemini-3.1-flash-lite"}

data: {"candidates": [{"content": {"parts": [{"text": "text6"}],"role": "model"},"citationMetadata": {"citationSources": [{"startIndex": 164,"endIndex": 401,"uri": "https://www.google.com/"},{"startIndex": 373,"endIndex": 588,"uri": "https://www.google.com/"}]}}],"usageMetadata": {"promptTokenCount": 9,"totalTokenCount": 9,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 9}]},"modelVersion": "gemini-3.1-flash-lite"}

data: {"candidates": [{"content": {"parts": [{"text": "text7"}],"role": "model"},"citationMetadata": {"citationSources": [{"startIndex": 395,"endIndex": 685,"uri": "https://www.google.com/"},{"startIndex": 699,"endIndex": 826,"uri": "https://www.google.com/"}]}}],"usageMetadata": {"promptTokenCount": 9,"totalTokenCount": 9,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 9}]},"modelVersion": "gemini-3.1-flash-lite"}

data: {"candidates": [{"content": {"parts": [{"text": "text8"}],"role": "model"},"citationMetadata": {"citationSources": [{"startIndex": 712,"endIndex": 869,"uri": "https://www.google.com/"},{"startIndex": 757,"endIndex": 1096,"uri": "https://www.google.com/"}]}}],"usageMetadata": {"promptTokenCount": 9,"totalTokenCount": 9,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 9}]},"modelVersion": "gemini-3.1-flash-lite"}

data: {"candidates": [{"finishReason": "RECITATION","citationMetadata": {"citationSources": [{"startIndex": 793,"endIndex": 1341,"uri": "https://www.google.com/"}]}}],"usageMetadata": {"promptTokenCount": 9,"candidatesTokenCount": 261,"totalTokenCount": 270,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 9}],"candidatesTokensDetails": [{"modality": "TEXT","tokenCount": 261}]},"modelVersion": "gemini-3.1-flash-lite"}

"""  # noqa: E501

#: Ends right after its last data line, with no blank line: the adapter must still read it.
STREAM_PROMPT_BLOCKED = rb"""data: {"candidates": [{"content": {"parts": [{"text": "text1"}],"role": "model"}}],"usageMetadata": {"promptTokenCount": 7,"totalTokenCount": 7,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 7}]},"modelVersion": "gemini-2.0-flash"}

data: {"candidates": [{"content": {"parts": [{"text": "text2"}],"role": "model"}}],"usageMetadata": {"promptTokenCount": 7,"totalTokenCount": 7,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 7}]},"modelVersion": "gemini-2.0-flash"}

data: {"candidates": [{"content": {"parts": [{"text": "text3"}],"role": "model"}}],"usageMetadata": {"promptTokenCount": 7,"totalTokenCount": 7,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 7}]},"modelVersion": "gemini-2.0-flash"}

data: {"promptFeedback": {"blockReason": "SAFETY","safetyRatings": [{"category": "HARM_CATEGORY_SEXUALLY_EXPLICIT","probability": "NEGLIGIBLE"},{"category": "HARM_CATEGORY_HATE_SPEECH","probability": "HIGH"},{"category": "HARM_CATEGORY_HARASSMENT","probability": "NEGLIGIBLE"},{"category": "HARM_CATEGORY_DANGEROUS_CONTENT","probability": "NEGLIGIBLE"}]}}
"""  # noqa: E501


def sdk_separator_stream(sep: str = "\u2028") -> bytes:
    """google-genai's ``_sse_body_with_separator``: CRLF events, ``sep`` inside the text."""
    events = [
        {
            "candidates": [
                {"content": {"role": "model", "parts": [{"text": f"line one{sep}line two"}]}}
            ]
        },
        {
            "candidates": [
                {"content": {"role": "model", "parts": [{"text": " done"}]}, "finishReason": "STOP"}
            ]
        },
    ]
    return b"".join(
        b"data: " + json.dumps(e, ensure_ascii=False).encode() + b"\r\n\r\n" for e in events
    )


UNARY_SHORT = rb"""{
  "candidates": [
    {
      "content": {
        "parts": [
          {
            "text": "Google's headquarters, also known as the Googleplex, is located in **Mountain View, California**.\n"
          }
        ],
        "role": "model"
      },
      "finishReason": "STOP",
      "avgLogprobs": -0.048741644079034981
    }
  ],
  "usageMetadata": {
    "promptTokenCount": 7,
    "candidatesTokenCount": 22,
    "totalTokenCount": 29,
    "promptTokensDetails": [
      {
        "modality": "TEXT",
        "tokenCount": 7
      }
    ],
    "candidatesTokensDetails": [
      {
        "modality": "TEXT",
        "tokenCount": 22
      }
    ]
  },
  "modelVersion": "gemini-2.0-flash"
}
"""  # noqa: E501

UNARY_THINKING = rb"""{
  "candidates": [
    {
      "content": {
        "parts": [
          {
            "text": "**Thinking About Google's Headquarters**\n\nWell, this one's straightforward. The user wants to know the city where Google's headquarters is located.  Of course, that would be Mountain View. It's almost second nature at this point, especially given my background.  Simple question, simple answer.  Let's get that information to them quickly and move on.\n",
            "thought": true
          },
          {
            "text": "Mountain View"
          }
        ],
        "role": "model"
      },
      "finishReason": "STOP",
      "index": 0
    }
  ],
  "usageMetadata": {
    "promptTokenCount": 14,
    "candidatesTokenCount": 2,
    "totalTokenCount": 40,
    "promptTokensDetails": [
      {
        "modality": "TEXT",
        "tokenCount": 14
      }
    ],
    "thoughtsTokenCount": 24
  },
  "modelVersion": "gemini-2.5-flash",
  "responseId": "2pmHaJqQEoqC-8YP6eStyAY"
}
"""  # noqa: E501

UNARY_SAFETY = rb"""{
  "candidates": [
    {
      "content": {
        "parts": [
          {
            "text": "Safety error incoming in 5, 4, 3, 2..."
          }
        ],
        "role": "model"
      },
      "finishReason": "SAFETY",
      "safetyRatings": [
        {
          "category": "HARM_CATEGORY_HATE_SPEECH",
          "probability": "NEGLIGIBLE"
        },
        {
          "category": "HARM_CATEGORY_DANGEROUS_CONTENT",
          "probability": "NEGLIGIBLE"
        },
        {
          "category": "HARM_CATEGORY_HARASSMENT",
          "probability": "NEGLIGIBLE"
        },
        {
          "category": "HARM_CATEGORY_SEXUALLY_EXPLICIT",
          "probability": "NEGLIGIBLE"
        }
      ],
      "avgLogprobs": -0.14098815917968749
    }
  ],
  "usageMetadata": {
    "promptTokenCount": 7,
    "candidatesTokenCount": 20,
    "totalTokenCount": 27,
    "promptTokensDetails": [
      {
        "modality": "TEXT",
        "tokenCount": 7
      }
    ],
    "candidatesTokensDetails": [
      {
        "modality": "TEXT",
        "tokenCount": 20
      }
    ]
  },
  "modelVersion": "gemini-2.0-flash"
}
"""

ERROR_API_KEY = rb"""{
  "error": {
    "code": 400,
    "message": "API key not valid. Please pass a valid API key.",
    "status": "INVALID_ARGUMENT",
    "details": [
      {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "API_KEY_INVALID",
        "domain": "googleapis.com",
        "metadata": {
          "service": "generativelanguage.googleapis.com"
        }
      },
      {
        "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
        "locale": "en-US",
        "message": "API key not valid. Please pass a valid API key."
      },
      {
        "@type": "type.googleapis.com/google.rpc.DebugInfo",
        "detail": "Invalid API key: key1234"
      }
    ]
  }
}
"""

ERROR_UNKNOWN_MODEL = rb"""{
  "error": {
    "code": 404,
    "message": "models/gemini-5.0-flash is not found for API version v1, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.",
    "status": "NOT_FOUND",
    "details": [
      {
        "@type": "type.googleapis.com/google.rpc.DebugInfo",
        "detail": "[ORIGINAL ERROR] generic::not_found: models/gemini-5.0-flash is not found for API version v1, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods. [google.rpc.error_details_ext] { message: \"models/gemini-5.0-flash is not found for API version v1, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.\" }"
      },
      {
        "@type": "type.googleapis.com/google.rpc.DebugInfo",
        "detail": "models/gemini-5.0-flash is not found for API version v1, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods."
      }
    ]
  }
}
"""  # noqa: E501


def served(loopback: LoopbackServer, body: bytes, content_type: str, status: int = 200) -> None:
    """Queue the same bytes twice: once for the SDK, once for the adapter."""
    for _ in range(2):
        loopback.enqueue(Reply(status=status, body=[body], content_type=content_type))


@pytest.fixture
async def sdk(loopback: LoopbackServer) -> AsyncIterator[Any]:
    options = types.HttpOptions(base_url=loopback.url, api_version="v1beta")
    client = genai.Client(api_key="test-key", http_options=options)
    yield client.aio
    await client.aio.aclose()


@pytest.fixture
async def adapter(loopback: LoopbackServer) -> AsyncIterator[GeminiProvider]:
    provider = GeminiProvider(GeminiWire(loopback).settings(api_key="test-key"))
    yield provider
    await provider.close()


def ask() -> ChatRequest:
    return ChatRequest(messages=(Message("user", "hi"),), model=MODEL)


def sdk_usage(meta: Any) -> Usage:
    thoughts = meta.thoughts_token_count or 0
    return Usage(meta.prompt_token_count or 0, (meta.candidates_token_count or 0) + thoughts)


@pytest.mark.parametrize(
    "body",
    [STREAM_SHORT, STREAM_THINKING, STREAM_RECITATION, sdk_separator_stream()],
    ids=["basic-reply-short", "thinking-thought-summary", "recitation", "sdk-u2028-crlf"],
)
async def test_streams_read_alike(
    loopback: LoopbackServer, sdk: Any, adapter: GeminiProvider, body: bytes
) -> None:
    served(loopback, body, SSE)
    theirs = [c async for c in await sdk.models.generate_content_stream(model=MODEL, contents="hi")]
    ours = [c async for c in adapter.stream(ask())]
    assert "".join(c.text for c in ours) == "".join(c.text or "" for c in theirs)
    last = theirs[-1]
    assert ours[-1].finish_reason == SDK_FINISH[last.candidates[0].finish_reason.value]
    expected_usage = sdk_usage(last.usage_metadata) if last.usage_metadata else Usage()
    assert ours[-1].usage == expected_usage
    assert loopback.requests[0].path == loopback.requests[1].path


async def test_blocked_prompt_after_text_reads_alike(
    loopback: LoopbackServer, sdk: Any, adapter: GeminiProvider
) -> None:
    served(loopback, STREAM_PROMPT_BLOCKED, SSE)
    theirs = [c async for c in await sdk.models.generate_content_stream(model=MODEL, contents="hi")]
    seen: list[Chunk] = []
    with pytest.raises(ContentFilteredError) as caught:
        async for chunk in adapter.stream(ask()):
            seen.append(chunk)
    assert "".join(c.text for c in seen) == "".join(c.text or "" for c in theirs)
    assert theirs[-1].prompt_feedback.block_reason.value in str(caught.value)


@pytest.mark.parametrize(
    "body", [UNARY_SHORT, UNARY_THINKING, UNARY_SAFETY], ids=["short", "thinking", "safety"]
)
async def test_whole_answers_read_alike(
    loopback: LoopbackServer, sdk: Any, adapter: GeminiProvider, body: bytes
) -> None:
    served(loopback, body, "application/json; charset=UTF-8")
    theirs = await sdk.models.generate_content(model=MODEL, contents="hi")
    ours = await adapter.chat(ask())
    assert ours.text == theirs.text
    assert ours.finish_reason == SDK_FINISH[theirs.candidates[0].finish_reason.value]
    assert ours.usage == sdk_usage(theirs.usage_metadata)


@pytest.mark.parametrize(
    ("body", "status", "kind"),
    [(ERROR_API_KEY, 400, ProviderAuthError), (ERROR_UNKNOWN_MODEL, 404, ModelNotFoundError)],
    ids=["api-key", "unknown-model"],
)
async def test_errors_read_alike(
    loopback: LoopbackServer,
    sdk: Any,
    adapter: GeminiProvider,
    body: bytes,
    status: int,
    kind: type[ProviderError],
) -> None:
    served(loopback, body, "application/json; charset=UTF-8", status=status)
    with pytest.raises(genai_errors.ClientError) as theirs:
        await sdk.models.generate_content(model=MODEL, contents="hi")
    with pytest.raises(kind) as ours:
        await adapter.chat(ask())
    assert theirs.value.code == status
    assert theirs.value.message is not None and theirs.value.message in str(ours.value)
    assert "key1234" not in str(ours.value)  # the DebugInfo detail is never quoted
