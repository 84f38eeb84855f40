"""Conformance: the official ``anthropic`` SDK and our adapter read the same wire bytes alike.

Each recorded payload is served byte for byte over a loopback socket, once to
``anthropic.AsyncAnthropic`` (``max_retries=0``) and once to ``AnthropicProvider``; both must
agree on the answer text, the stop reason (after normalisation) and the token usage, and
on which kind of failure an error is.

The SDK's ``MessageStream`` accumulator (2.12.0) crashes with AttributeError on a
``message_start`` that carries no ``usage``, which two recorded payloads do. For those the
oracle is the SDK's own typed raw events (``create(stream=True)``), folded minimally here.

Sources of the recorded payloads:

- [docs-streaming] Anthropic API docs, "Streaming Messages", basic streaming request
  (https://docs.claude.com/en/docs/build-with-claude/streaming).
- [docs-thinking] Anthropic API docs, "Extended thinking", full streaming event trace
  (https://platform.claude.com/docs/en/build-with-claude/extended-thinking); the two
  "// Additional ... deltas" placeholder lines of the page are left out.
- [sdk-fixtures] anthropic-sdk-python, tests/lib/streaming/fixtures/{basic_response,
  tool_use_response, refusal_response, message_delta_omitted_usage_response,
  usage_omitted_response}.txt (https://github.com/anthropics/anthropic-sdk-python).
- [sdk-snapshot] anthropic-sdk-python, tests/lib/_parse/__inline_snapshot__/test_messages/
  TestSyncParse/bd7029d5-d8d4-4e06-be3a-2ac9c60803a6.json, the response body.
- [docs-stop-reasons] Anthropic API docs, "Handling stop reasons", example response
  (https://platform.claude.com/docs/en/build-with-claude/handling-stop-reasons).
- [docs-errors] Anthropic API docs, "Errors": status codes, error types and the error shape
  (https://docs.claude.com/en/api/errors), and the ``event: error`` example of
  "Streaming Messages".
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from providers import (
    BadRequestError,
    ChatRequest,
    ContentFilteredError,
    ContextLengthError,
    Message,
    ModelNotFoundError,
    ProviderAuthError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitError,
    Usage,
)
from providers.anthropic import AnthropicProvider
from providers.anthropic_wire import finish_reason
from tests.wire.anthropic import AnthropicWire, claude_settings, quick_server
from tests.wire.loopback import LoopbackServer, Reply

with warnings.catch_warnings():  # the SDK's import-time deprecations are not ours to fail on
    warnings.simplefilter("ignore")
    anthropic = pytest.importorskip("anthropic")

# Not the built-in default: the SDK warns that claude-sonnet-4-5 is deprecated.
MODEL = "claude-sonnet-4-6"

# [docs-streaming]
DOCS_BASIC = """event: message_start
data: {"type": "message_start", "message": {"id": "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", "type": "message", "role": "assistant", "content": [], "model": "claude-sonnet-4-5-20250929", "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 25, "output_tokens": 1}}}

event: content_block_start
data: {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}

event: ping
data: {"type": "ping"}

event: content_block_delta
data: {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello"}}

event: content_block_delta
data: {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "!"}}

event: content_block_stop
data: {"type": "content_block_stop", "index": 0}

event: message_delta
data: {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence":null}, "usage": {"output_tokens": 15}}

event: message_stop
data: {"type": "message_stop"}

"""  # noqa: E501

# [docs-thinking]
DOCS_THINKING = """event: message_start
data: {"type": "message_start", "message": {"id": "msg_01...", "type": "message", "role": "assistant", "content": [], "model": "claude-opus-4-8", "stop_reason": null, "stop_sequence": null}}

event: content_block_start
data: {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": "", "signature": ""}}

event: content_block_delta
data: {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "I need to find the GCD of 1071 and 462 using the Euclidean algorithm.\\n\\n1071 = 2 × 462 + 147"}}

event: content_block_delta
data: {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "\\n462 = 3 × 147 + 21\\n147 = 7 × 21 + 0\\n\\nSo GCD(1071, 462) = 21"}}

event: content_block_delta
data: {"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b..."}}

event: content_block_stop
data: {"type": "content_block_stop", "index": 0}

event: content_block_start
data: {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}}

event: content_block_delta
data: {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "The greatest common divisor of 1071 and 462 is **21**."}}

event: content_block_stop
data: {"type": "content_block_stop", "index": 1}

event: message_delta
data: {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}}

event: message_stop
data: {"type": "message_stop"}
"""  # noqa: E501

# [sdk-fixtures] basic_response.txt (ends without a final newline, as recorded)
SDK_BASIC = """event: message_start
data: {"type":"message_start","message":{"id":"msg_4QpJur2dWWDjF6C758FbBw5vm12BaVipnK","type":"message","role":"assistant","content":[],"model":"claude-3-opus-latest","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":11,"output_tokens":1}}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

event: ping
data: {"type": "ping"}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" there"}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"!"}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":6}}

event: message_stop
data: {"type":"message_stop"}"""  # noqa: E501

# [sdk-fixtures] tool_use_response.txt
SDK_TOOL_USE = """event: message_start
data: {"type":"message_start","message":{"id":"msg_019Q1hrJbZG26Fb9BQhrkHEr","type":"message","role":"assistant","model":"claude-sonnet-4-20250514","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":377,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1,"service_tier":"standard"}}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

event: ping
data: {"type": "ping"}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"I"}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"'ll check the current weather in Paris for you."}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: content_block_start
data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01NRLabsLyVHZPKxbKvkfSMn","name":"get_weather","caller":{"type":"direct"},"input":{}}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\\"locati"}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"on\\": \\"P"}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"ar"}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"is\\"}"}}

event: content_block_stop
data: {"type":"content_block_stop","index":1}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":65}}

event: message_stop
data: {"type":"message_stop"}"""  # noqa: E501

# [sdk-fixtures] refusal_response.txt
SDK_REFUSAL = """event: message_start
data: {"type":"message_start","message":{"id":"msg_01RefusalTestMessage123456789","type":"message","role":"assistant","content":[],"model":"claude-opus-4-7","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":20,"output_tokens":1}}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"refusal","stop_sequence":null,"stop_details":{"type":"refusal","category":"cyber","explanation":"This request was refused due to policy."}},"usage":{"output_tokens":120,"output_tokens_details":{"thinking_tokens":67}}}

event: message_stop
data: {"type":"message_stop"}
"""  # noqa: E501

# [sdk-fixtures] message_delta_omitted_usage_response.txt
SDK_CACHE_USAGE = """event: message_start
data: {"type":"message_start","message":{"id":"msg_01MessageDeltaOmitted00000001","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","stop_reason":null,"stop_sequence":null,"stop_details":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":10,"cache_read_input_tokens":5,"cache_creation":{"ephemeral_5m_input_tokens":10,"ephemeral_1h_input_tokens":0},"output_tokens":1,"service_tier":"priority"}}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello there!"}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null,"stop_details":null},"usage":{"output_tokens":8}}

event: message_stop
data: {"type":"message_stop"}
"""  # noqa: E501

# [sdk-fixtures] usage_omitted_response.txt: usage only on message_delta
SDK_LATE_USAGE = """event: message_start
data: {"type":"message_start","message":{"id":"msg_usage_omitted","type":"message","role":"assistant","content":[],"model":"claude-test","stop_reason":null,"stop_sequence":null}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":12,"output_tokens":6}}

event: message_stop
data: {"type":"message_stop"}
"""  # noqa: E501

#: id -> (payload, whether the SDK's MessageStream can read it; see the module docstring)
STREAMS = {
    "docs-basic": (DOCS_BASIC, True),
    "docs-thinking": (DOCS_THINKING, False),
    "sdk-basic": (SDK_BASIC, True),
    "sdk-tool-use": (SDK_TOOL_USE, True),
    "sdk-cache-usage": (SDK_CACHE_USAGE, True),
    "sdk-late-usage": (SDK_LATE_USAGE, False),
}

# [sdk-snapshot] and [docs-stop-reasons]
MESSAGES: dict[str, dict[str, Any]] = {
    "sdk-snapshot": {
        "model": "claude-sonnet-4-5-20250929",
        "id": "msg_01T4jd6NyD9xGGtTPDC4ogy5",
        "type": "message",
        "role": "assistant",
        "content": [
            {
                "type": "text",
                "text": '{"items":[{"product_name":"Green Tea","price":5.50,"quantity":2},'
                '{"product_name":"Coffee","price":3.00,"quantity":1}],"total":14.0}',
            }
        ],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 406,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
            "output_tokens": 50,
            "service_tier": "standard",
            "inference_geo": "not_available",
        },
    },
    "docs-stop-reasons": {
        "id": "msg_01234",
        "type": "message",
        "role": "assistant",
        "content": [{"type": "text", "text": "Here's the answer to your question..."}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 100, "output_tokens": 50},
    },
}

# [docs-errors]: status, error type, and what each side must make of it.
ERRORS = [
    (
        400,
        "invalid_request_error",
        "max_tokens: Field required",
        "BadRequestError",
        BadRequestError,
    ),
    (401, "authentication_error", "invalid x-api-key", "AuthenticationError", ProviderAuthError),
    (403, "permission_error", "Not allowed", "PermissionDeniedError", ProviderAuthError),
    (404, "not_found_error", "model: claude-nope", "NotFoundError", ModelNotFoundError),
    (
        413,
        "request_too_large",
        "Request exceeds the maximum size",
        "APIStatusError",
        ContextLengthError,
    ),
    (429, "rate_limit_error", "Rate limited", "RateLimitError", RateLimitError),
    (500, "api_error", "Internal server error", "InternalServerError", ProviderUnavailableError),
    (529, "overloaded_error", "Overloaded", "InternalServerError", ProviderUnavailableError),
]

Answer = tuple[str, str, Usage]


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with quick_server() as srv:
        yield srv


def request() -> ChatRequest:
    return ChatRequest(messages=(Message("user", "Hello"),), model=MODEL, max_tokens=256)


def sdk_client(url: str) -> Any:
    return anthropic.AsyncAnthropic(api_key="sk-ant-conformance", base_url=url, max_retries=0)


def normalised(message: Any) -> Answer:
    text = "".join(block.text for block in message.content if block.type == "text")
    usage = message.usage
    return (
        text,
        finish_reason(message.stop_reason),
        Usage(usage.input_tokens or 0, usage.output_tokens or 0),
    )


async def sdk_stream(url: str) -> Answer:
    client = sdk_client(url)
    try:
        async with client.messages.stream(
            model=MODEL, max_tokens=256, messages=[{"role": "user", "content": "Hello"}]
        ) as stream:
            return normalised(await stream.get_final_message())
    finally:
        await client.close()


async def sdk_raw_stream(url: str) -> Answer:
    """The SDK's typed stream events, folded: text deltas, last stop reason, latest usage."""
    client = sdk_client(url)
    text, stop, usage = "", None, {"input_tokens": 0, "output_tokens": 0}
    try:
        events = await client.messages.create(
            model=MODEL,
            max_tokens=256,
            messages=[{"role": "user", "content": "Hello"}],
            stream=True,
        )
        async for event in events:
            if event.type == "message_start" and event.message.usage is not None:
                usage.update(event.message.usage.model_dump(include=set(usage)))
            elif event.type == "content_block_delta" and event.delta.type == "text_delta":
                text += event.delta.text
            elif event.type == "message_delta":
                stop = event.delta.stop_reason
                if event.usage is not None:
                    usage.update(event.usage.model_dump(include=set(usage), exclude_none=True))
    finally:
        await client.close()
    return text, finish_reason(stop), Usage(**usage)


async def sdk_create(url: str) -> Answer:
    client = sdk_client(url)
    try:
        message = await client.messages.create(
            model=MODEL, max_tokens=256, messages=[{"role": "user", "content": "Hello"}]
        )
        return normalised(message)
    finally:
        await client.close()


async def our_stream(url: str) -> Answer:
    provider = AnthropicProvider(claude_settings(url))
    try:
        chunks = [chunk async for chunk in provider.stream(request())]
    finally:
        await provider.close()
    last = chunks[-1]
    assert last.finish_reason is not None and last.usage is not None
    assert all(not c.finish_reason for c in chunks[:-1])
    return "".join(c.text for c in chunks), last.finish_reason, last.usage


async def our_chat(url: str) -> Answer:
    provider = AnthropicProvider(claude_settings(url))
    try:
        result = await provider.chat(request())
    finally:
        await provider.close()
    return result.text, result.finish_reason, result.usage


@pytest.mark.parametrize(("payload", "helper"), STREAMS.values(), ids=STREAMS.keys())
async def test_streams_read_alike(server: LoopbackServer, payload: str, helper: bool) -> None:
    body = payload.encode()
    server.enqueue(*[Reply(body=body, content_type="text/event-stream")] * 2)
    theirs = await (sdk_stream if helper else sdk_raw_stream)(server.url)
    ours = await our_stream(server.url)
    assert ours == theirs
    assert ours[0]  # every payload has text


async def test_a_refusal_with_http_200_is_content_filtered(server: LoopbackServer) -> None:
    """The SDK's own refusal fixture: it reads ``stop_reason == "refusal"``; for us that is
    ``content_filtered``, so the next provider answers (issue 13)."""
    server.enqueue(*[Reply(body=SDK_REFUSAL.encode(), content_type="text/event-stream")] * 2)
    theirs = await sdk_stream(server.url)
    assert theirs[0] == ""
    with pytest.raises(ContentFilteredError, match="stop_reason refusal"):
        await our_stream(server.url)


@pytest.mark.parametrize("payload", MESSAGES.values(), ids=MESSAGES.keys())
async def test_messages_read_alike(server: LoopbackServer, payload: dict[str, Any]) -> None:
    server.enqueue(*[Reply(body=json.dumps(payload).encode())] * 2)
    assert await our_chat(server.url) == await sdk_create(server.url)


async def test_same_bytes_chunked_at_awkward_places(server: LoopbackServer) -> None:
    # Network chunks split events, lines and the multibyte "×" of the thinking trace.
    body = DOCS_THINKING.encode()
    parts: list[Any] = [body[i : i + 7] for i in range(0, len(body), 7)]
    server.enqueue(*[Reply(body=parts, content_type="text/event-stream")] * 2)
    assert await our_stream(server.url) == await sdk_raw_stream(server.url)


@pytest.mark.parametrize(
    ("status", "etype", "message", "sdk_error", "our_error"), ERRORS, ids=[e[1] for e in ERRORS]
)
async def test_http_errors_are_classified_alike(
    server: LoopbackServer,
    status: int,
    etype: str,
    message: str,
    sdk_error: str,
    our_error: type[ProviderError],
) -> None:
    body = {"type": "error", "error": {"type": etype, "message": message}, "request_id": "req_01"}
    server.enqueue(*[Reply.json(body, status=status, **{"retry-after": "3"})] * 2)
    with pytest.raises(anthropic.APIStatusError) as theirs:
        await sdk_create(server.url)
    assert isinstance(theirs.value, getattr(anthropic, sdk_error))
    with pytest.raises(ProviderError) as ours:
        await our_chat(server.url)
    assert isinstance(ours.value, our_error)
    assert message in str(ours.value) and message in str(theirs.value)


async def test_error_event_mid_stream_fails_both(server: LoopbackServer) -> None:
    head = DOCS_BASIC.split("event: content_block_stop")[0]
    error = 'event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}\n\n'  # noqa: E501
    server.enqueue(*[Reply(body=(head + error).encode(), content_type="text/event-stream")] * 2)
    with pytest.raises(anthropic.APIStatusError, match="Overloaded"):
        await sdk_stream(server.url)
    with pytest.raises(ProviderUnavailableError, match="overloaded_error during the answer"):
        await our_stream(server.url)


async def test_we_are_stricter_about_unfinished_streams(server: LoopbackServer) -> None:
    # The SDK returns whatever it accumulated; we refuse to call a cut stream an answer.
    cut = DOCS_BASIC.split("event: message_stop")[0].split("event: message_delta")[0]
    server.enqueue(*[Reply(body=cut.encode(), content_type="text/event-stream")] * 2)
    text, _, _ = await sdk_stream(server.url)
    assert text == "Hello!"
    with pytest.raises(ProviderUnavailableError, match="stream ended before the answer"):
        await our_stream(server.url)


async def test_model_pages_are_walked_alike(server: LoopbackServer) -> None:
    names = [f"claude-model-{i}" for i in range(7)]
    AnthropicWire(server, models=names, page_size=3)
    client = sdk_client(server.url)
    try:
        theirs = [model.id async for model in client.models.list(limit=3)]
    finally:
        await client.close()
    provider = AnthropicProvider(claude_settings(server.url))
    try:
        ours = [m.id for m in await provider.list_models()]
    finally:
        await provider.close()
    assert ours == theirs == names
