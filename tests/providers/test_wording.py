"""The one error-wording classifier, on the servers' own words, on every adapter's path."""

from __future__ import annotations

import json

import pytest

from providers.anthropic_wire import http_error as anthropic_http_error
from providers.anthropic_wire import stream_error as anthropic_stream_error
from providers.errors import (
    BadRequestError,
    ContextLengthError,
    ModelNotFoundError,
    ProviderError,
    ProviderUnavailableError,
    UnsupportedParameterError,
)
from providers.gemini_wire import http_error as gemini_http_error
from providers.gemini_wire import in_band_error as gemini_in_band
from providers.http import error_for_status
from providers.ollama_wire import error_from_response as ollama_error
from providers.ollama_wire import error_from_text as ollama_in_band
from providers.openai_errors import error_from_payload, error_from_status
from providers.wording import unsupported_param

#: llama.cpp's llama-server (tools/server/utils.hpp, format_error_response, type
#: "exceed_context_size_error"), as any front end in between may pass it on.
LLAMA_CPP = "the request exceeds the available context size, try increasing it"
LLAMA_CPP_BODY = json.dumps({"error": {"code": 400, "message": LLAMA_CPP}}).encode()
#: LiteLLM proxy's reply to an unknown model (litellm/proxy/route_llm_request.py).
LITELLM = (
    "{'error': '/chat/completions: Invalid model name passed in model=gpt-9. Call "
    "`/v1/models` to view available models for your key.'}"
)
LITELLM_BODY = json.dumps({"error": {"message": LITELLM, "type": "None", "code": "400"}})


def every_path(status: int, body: bytes | str) -> list[ProviderError]:
    raw = body.encode() if isinstance(body, str) else body
    return [
        anthropic_http_error("claude", status, raw, {}),
        gemini_http_error("gemini", status, raw, {}),
        ollama_error("ollama", status, raw, model="m", host="http://x"),
        error_from_status("codex", status, raw),
        error_for_status("any", status, json.loads(raw)["error"]["message"]),
    ]


@pytest.mark.parametrize("status", [400, 500, 502])
def test_llama_cpp_context_wording_is_context_too_long_on_every_path(status: int) -> None:
    for error in every_path(status, LLAMA_CPP_BODY):
        assert isinstance(error, ContextLengthError), error


def test_llama_cpp_context_wording_in_band() -> None:
    assert isinstance(ollama_in_band("ollama", LLAMA_CPP, "m"), ContextLengthError)
    assert isinstance(error_from_payload("hf", {"message": LLAMA_CPP}), ContextLengthError)
    event = json.dumps({"type": "error", "error": {"type": "api_error", "message": LLAMA_CPP}})
    assert isinstance(anthropic_stream_error("claude", event), ContextLengthError)
    payload = {"error": {"code": 500, "message": LLAMA_CPP, "status": "INTERNAL"}}
    assert isinstance(gemini_in_band("gemini", payload), ContextLengthError)


def test_litellm_unknown_model_is_model_not_found_on_every_path() -> None:
    for error in every_path(400, LITELLM_BODY):
        assert isinstance(error, ModelNotFoundError), error


def test_a_plain_bad_request_stays_one_and_a_502_stays_unavailable() -> None:
    body = json.dumps({"error": {"message": "messages: field required"}})
    assert all(type(e) is BadRequestError for e in every_path(400, body))
    body = json.dumps({"error": {"message": "bad gateway"}})
    assert all(type(e) is ProviderUnavailableError for e in every_path(502, body))


@pytest.mark.parametrize(
    ("wording", "param"),
    [
        # OpenAI reasoning models.
        ("Unsupported parameter: 'temperature' is not supported with this model.", "temperature"),
        # Anthropic's validation error for a field the Messages API no longer takes.
        ("temperature: Extra inputs are not permitted", "temperature"),
        ("`top_p` is deprecated for this model.", "top_p"),
        # Google's JSON mapping of an unknown field.
        ("Invalid JSON payload received. Unknown name \"topK\" at 'generation_config'", "top_k"),
        ("max_tokens: field required", None),
        ("temperature: must be between 0 and 1", None),
    ],
)
def test_a_400_naming_a_sampling_parameter(wording: str, param: str | None) -> None:
    assert unsupported_param(wording) == param
    error = error_from_status("codex", 400, json.dumps({"error": {"message": wording}}))
    if param is None:
        assert not isinstance(error, UnsupportedParameterError)
    else:
        assert isinstance(error, UnsupportedParameterError)
        assert error.param == param
