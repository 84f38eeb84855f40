"""Conformance: the official ``openai`` SDK and our adapters read the same recorded bytes.

Each payload is served twice from a loopback socket, once to ``AsyncOpenAI`` (the oracle,
``max_retries=0``) and once to our adapter; both must find the same text, finish reason
(normalised) and usage, and send the same request. Sources of the recorded payloads:

- chat stream, length stream and refusal stream: openai-python's live-API recordings
  ``.inline-snapshot/external/038a5c69c34c….bin`` (trimmed to its first tokens),
  ``69363a555f8e….bin`` and ``ca015b8b1eba….bin`` (tests/lib/chat/test_completions_streaming.py);
- chat completion: openai-python ``tests/lib/chat/test_completions.py::test_parse_nothing``;
- response: openai-python ``tests/lib/responses/test_responses.py::test_output_text``;
- Responses stream: a live recording in prism-php/prism
  ``tests/Fixtures/openai/stream-basic-text-responses-1.json`` (trimmed), whose events are
  those of OpenAI's API reference "Streaming events";
- incomplete / failed streams: the event sequences of openai-python
  ``tests/lib/responses/test_stream_incomplete.py`` and ``test_response_stream_final.py``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam
from openai.types.responses import (
    ResponseCompletedEvent,
    ResponseFailedEvent,
    ResponseIncompleteEvent,
    ResponseInputParam,
    ResponseTextDeltaEvent,
)

from providers.errors import (
    BadRequestError,
    ModelNotFoundError,
    ProviderAuthError,
    ProviderUnavailableError,
    RateLimitError,
)
from providers.openai_compat import OpenAICompatibleProvider, normalise_finish
from providers.openai_responses import OpenAIResponsesProvider
from providers.types import ChatRequest, Message, Usage
from tests.wire.loopback import LoopbackServer, Reply
from tests.wire.openai import SSE, STATUS_CASES, codex_settings, compat_settings

KEY = "sk-test-key"
QUESTION = "What's the weather like in SF?"
MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": QUESTION}]
#: With ``"type": "message"``, as openai 3.57.0's ``EasyInputMessageParam`` allows and
#: llama.cpp's server requires from the second turn on ("Cannot determine type of 'item'").
INPUT: ResponseInputParam = [{"type": "message", "role": "user", "content": QUESTION}]
REQUEST = ChatRequest(messages=(Message("user", QUESTION),), model="gpt-4o-2024-08-06")


def _data(obj: Any) -> str:
    return "data: " + json.dumps(obj, separators=(",", ":")) + "\n\n"


# fmt: off
def _chat_recording(
    cid: str, created: int, deltas: list[dict[str, Any]], finish: str, usage: list[int]
) -> str:
    """Rebuild the bytes of an openai-python chat stream recording from its parts."""
    env = {"id": cid, "object": "chat.completion.chunk", "created": created,
           "model": "gpt-4o-2024-08-06", "system_fingerprint": "fp_845eaabc1f"}
    choice = {"index": 0, "delta": {}, "logprobs": None, "finish_reason": None}
    lines = [_data({**env, "choices": [{**choice, "delta": d}]}) for d in deltas]
    lines.append(_data({**env, "choices": [{**choice, "finish_reason": finish}]}))
    prompt, completion = usage
    total = {"prompt_tokens": prompt, "completion_tokens": completion,
             "total_tokens": prompt + completion}
    lines.append(_data({**env, "choices": [], "usage": total}))
    return "".join(lines) + "data: [DONE]\n\n"


_ROLE = {"role": "assistant", "content": "", "refusal": None}
CHAT_STREAM = _chat_recording(
    "chatcmpl-9tXjg9DdaOfymTPDrSLfxslQEH0C2", 1723024748,
    [_ROLE, *({"content": t} for t in
              ["I'm", " unable", " to", " provide", " real", "-time", " updates", "."])],
    "stop", [14, 47],
)
CHAT_LENGTH_STREAM = _chat_recording(
    "chatcmpl-9tXjkSxyTVUSWZRJFSZJgWBHzh2c3", 1723024752,
    [_ROLE, {"content": '{"'}], "length", [17, 1],
)
CHAT_REFUSAL_STREAM = _chat_recording(
    "chatcmpl-9tXmMGFPkLS0t0u0895fzYOblnfYa", 1723024914,
    [{"role": "assistant", "content": None, "refusal": ""},
     *({"refusal": t} for t in ["I'm", " sorry", ",", " but", " I", " can't", " assist",
                                " with", " that", " request", "."])],
    "stop", [17, 12],
)
CHAT_COMPLETION = (
    '{"id": "chatcmpl-ABfvaueLEMLNYbT8YzpJxsmiQ6HSY", "object": "chat.completion", "created": '
    '1727346142, "model": "gpt-4o-2024-08-06", "choices": [{"index": 0, "message": {"role": '
    '"assistant", "content": "I\'m unable to provide real-time weather updates. To get the '
    'current weather in San Francisco, I recommend checking a reliable weather website or app '
    'like the Weather Channel or a local news station.", "refusal": null}, "logprobs": null, '
    '"finish_reason": "stop"}], "usage": {"prompt_tokens": 14, "completion_tokens": 37, '
    '"total_tokens": 51, "completion_tokens_details": {"reasoning_tokens": 0}}, '
    '"system_fingerprint": "fp_b40fb1c6fb"}'
)
RESPONSE = (
    '{"id": "resp_689a0b2545288193953c892439b42e2800b2e36c65a1fd4b", "object": "response", '
    '"created_at": 1754925861, "status": "completed", "background": false, "error": null, '
    '"incomplete_details": null, "instructions": null, "max_output_tokens": null, '
    '"max_tool_calls": null, "model": "gpt-4o-mini-2024-07-18", "output": [{"id": '
    '"msg_689a0b2637b08193ac478e568f49e3f900b2e36c65a1fd4b", "type": "message", "status": '
    '"completed", "content": [{"type": "output_text", "annotations": [], "logprobs": [], '
    '"text": "I can\'t provide real-time updates, but you can easily check the current '
    'weather in San Francisco using a weather website or app. Typically, San Francisco has '
    'cool, foggy summers and mild winters, so it\'s good to be prepared for variable '
    'weather!"}], "role": "assistant"}], "parallel_tool_calls": true, "previous_response_id": '
    'null, "prompt_cache_key": null, "reasoning": {"effort": null, "summary": null}, '
    '"safety_identifier": null, "service_tier": "default", "store": true, "temperature": 1.0, '
    '"text": {"format": {"type": "text"}, "verbosity": "medium"}, "tool_choice": "auto", '
    '"tools": [], "top_logprobs": 0, "top_p": 1.0, "truncation": "disabled", "usage": '
    '{"input_tokens": 14, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 50, '
    '"output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 64}, "user": null, '
    '"metadata": {}}'
)

_RESP = json.loads(
    '{"id":"resp_684b3e43e9648199951aea692dce026b010b42c5871a937b","object":"response",'
    '"created_at":1749761604,"status":"in_progress","background":false,"error":null,'
    '"incomplete_details":null,"instructions":null,"max_output_tokens":2048,"model":"gpt-4-0613",'
    '"output":[],"parallel_tool_calls":true,"previous_response_id":null,"reasoning":{"effort":'
    'null,"summary":null},"service_tier":"auto","store":true,"temperature":1.0,"text":{"format":'
    '{"type":"text"}},"tool_choice":"auto","tools":[],"top_p":1.0,"truncation":"disabled",'
    '"usage":null,"user":null,"metadata":{}}'
)
_MSG = "msg_684b3e45d0908199a9d13b395deba54e010b42c5871a937b"
_DELTAS = ["I", "'m", " an", " artificial", " intelligence", " trained", " to", " assist", "."]
_TEXT = "".join(_DELTAS)
_PART = {"item_id": _MSG, "output_index": 0, "content_index": 0}
_ITEM = {"id": _MSG, "type": "message", "status": "completed",
         "content": [{"type": "output_text", "annotations": [], "text": _TEXT}],
         "role": "assistant"}
_USAGE = {"input_tokens": 10, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 16,
          "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 26}


def _responses_recording(terminal: dict[str, Any]) -> str:
    """Rebuild the prism-php recording (trimmed deltas), ending in ``terminal``."""
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": _RESP},
        {"type": "response.in_progress", "response": _RESP},
        {"type": "response.output_item.added", "output_index": 0,
         "item": {**_ITEM, "status": "in_progress", "content": []}},
        {"type": "response.content_part.added", **_PART,
         "part": {"type": "output_text", "annotations": [], "text": ""}},
        *({"type": "response.output_text.delta", **_PART, "delta": d} for d in _DELTAS),
        {"type": "response.output_text.done", **_PART, "text": _TEXT},
        {"type": "response.output_item.done", "output_index": 0, "item": _ITEM},
        terminal,
    ]
    blocks = []
    for number, event in enumerate(events):
        event = {"type": event["type"], "sequence_number": number, **event}
        blocks.append(f"event: {event['type']}\n" + _data(event))
    return "".join(blocks)


RESPONSES_STREAM = _responses_recording({"type": "response.completed", "response": {
    **_RESP, "status": "completed", "service_tier": "default", "output": [_ITEM],
    "usage": _USAGE}})
RESPONSES_INCOMPLETE_STREAM = _responses_recording({"type": "response.incomplete", "response": {
    **_RESP, "status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}}})
# fmt: on

#: The SDK's exception for a status, and the taxonomy error our adapters must raise for it.
SDK_ERRORS: dict[str, tuple[type[Exception], type[Exception]]] = {
    "401": (openai.AuthenticationError, ProviderAuthError),
    "403": (openai.PermissionDeniedError, ProviderAuthError),
    "404-model": (openai.NotFoundError, ModelNotFoundError),
    "422-text": (openai.UnprocessableEntityError, BadRequestError),
    "429": (openai.RateLimitError, RateLimitError),
    "400-bad": (openai.BadRequestError, BadRequestError),
    "500": (openai.InternalServerError, ProviderUnavailableError),
    "502-html": (openai.InternalServerError, ProviderUnavailableError),
    "503": (openai.InternalServerError, ProviderUnavailableError),
}


@pytest.fixture
async def sdk(loopback: LoopbackServer) -> AsyncIterator[openai.AsyncOpenAI]:
    client = openai.AsyncOpenAI(api_key=KEY, base_url=f"{loopback.url}/v1", max_retries=0)
    yield client
    await client.close()


@pytest.fixture
async def compat(loopback: LoopbackServer) -> AsyncIterator[OpenAICompatibleProvider]:
    p = OpenAICompatibleProvider(compat_settings(f"{loopback.url}/v1", api_key=KEY))
    yield p
    await p.close()


@pytest.fixture
async def codex(loopback: LoopbackServer) -> AsyncIterator[OpenAIResponsesProvider]:
    p = OpenAIResponsesProvider(codex_settings(f"{loopback.url}/v1", api_key=KEY))
    yield p
    await p.close()


async def ours(provider: Any) -> tuple[str, str | None, Usage | None]:
    chunks = [c async for c in provider.stream(REQUEST)]
    return "".join(c.text for c in chunks), chunks[-1].finish_reason, chunks[-1].usage


def stream_reply(raw: str) -> Reply:
    return Reply(body=[raw.encode()], content_type=SSE)


@pytest.mark.parametrize(
    ("raw", "refused"),
    [
        (CHAT_STREAM, False),
        (CHAT_LENGTH_STREAM, False),
        (CHAT_REFUSAL_STREAM, True),
        (CHAT_STREAM.replace("data: ", "data:").replace("\n", "\r\n"), False),
    ],
    ids=["text", "length", "refusal", "crlf-no-space"],
)
async def test_chat_stream_matches_the_sdk(
    sdk: openai.AsyncOpenAI, compat: Any, loopback: LoopbackServer, raw: str, refused: bool
) -> None:
    loopback.enqueue(stream_reply(raw), stream_reply(raw))
    text, finish, usage = "", None, None
    stream = await sdk.chat.completions.create(
        model=REQUEST.model,
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )
    async for chunk in stream:
        for choice in chunk.choices:
            text += (choice.delta.content or "") + (choice.delta.refusal or "")
            finish = choice.finish_reason or finish
        if chunk.usage:
            usage = Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
    # A refusal is our one deliberate difference: the SDK says "stop", we say why.
    assert await ours(compat) == (text, normalise_finish(finish, refused=refused), usage)
    assert text and usage is not None
    sdk_request, our_request = loopback.requests
    assert our_request.path == sdk_request.path == "/v1/chat/completions"
    assert our_request.json() == sdk_request.json()
    assert our_request.headers["authorization"] == sdk_request.headers["authorization"]


async def test_chat_completion_matches_the_sdk(
    sdk: openai.AsyncOpenAI, compat: Any, loopback: LoopbackServer
) -> None:
    loopback.enqueue(Reply(body=CHAT_COMPLETION), Reply(body=CHAT_COMPLETION))
    completion = await sdk.chat.completions.create(model=REQUEST.model, messages=MESSAGES)
    result = await compat.chat(REQUEST)
    assert completion.usage is not None
    assert (result.text, result.finish_reason, result.usage) == (
        completion.choices[0].message.content,
        normalise_finish(completion.choices[0].finish_reason),
        Usage(completion.usage.prompt_tokens, completion.usage.completion_tokens),
    )
    assert loopback.requests[1].json() == loopback.requests[0].json()


@pytest.mark.parametrize(
    "raw", [RESPONSES_STREAM, RESPONSES_INCOMPLETE_STREAM], ids=["completed", "incomplete"]
)
async def test_responses_stream_matches_the_sdk(
    sdk: openai.AsyncOpenAI, codex: Any, loopback: LoopbackServer, raw: str
) -> None:
    loopback.enqueue(stream_reply(raw), stream_reply(raw))
    text, finish, usage = "", None, None
    stream = await sdk.responses.create(
        model=REQUEST.model,
        input=INPUT,
        stream=True,
        store=False,
    )
    async for event in stream:
        if isinstance(event, ResponseTextDeltaEvent):
            text += event.delta
        elif isinstance(event, ResponseCompletedEvent | ResponseIncompleteEvent):
            details = event.response.incomplete_details
            finish = "length" if details and details.reason == "max_output_tokens" else "stop"
            u = event.response.usage
            usage = Usage(u.input_tokens, u.output_tokens) if u else None
    assert await ours(codex) == (text, finish, usage)
    assert text == _TEXT
    sdk_request, our_request = loopback.requests
    assert our_request.path == sdk_request.path == "/v1/responses"
    assert our_request.json() == sdk_request.json()


async def test_failed_response_stream_is_an_error_for_us_and_a_failed_event_for_the_sdk(
    sdk: openai.AsyncOpenAI, codex: Any, loopback: LoopbackServer
) -> None:
    failed = {**_RESP, "status": "failed", "error": {"code": "server_error", "message": "boom"}}
    raw = _responses_recording({"type": "response.failed", "response": failed})
    loopback.enqueue(stream_reply(raw), stream_reply(raw))
    stream = await sdk.responses.create(model=REQUEST.model, input=INPUT, stream=True)
    errors = [e.response.error async for e in stream if isinstance(e, ResponseFailedEvent)]
    assert [(e.code, e.message) for e in errors if e] == [("server_error", "boom")]
    with pytest.raises(ProviderUnavailableError, match=r"^codex: response failed: boom$"):
        await ours(codex)


async def test_response_matches_the_sdk(
    sdk: openai.AsyncOpenAI, codex: Any, loopback: LoopbackServer
) -> None:
    loopback.enqueue(Reply(body=RESPONSE), Reply(body=RESPONSE))
    response = await sdk.responses.create(model=REQUEST.model, input=INPUT, store=False)
    result = await codex.chat(REQUEST)
    assert response.usage is not None
    assert (result.text, result.finish_reason, result.usage) == (
        response.output_text,
        "stop",
        Usage(response.usage.input_tokens, response.usage.output_tokens),
    )
    assert loopback.requests[1].json() == loopback.requests[0].json()


@pytest.mark.parametrize(
    "case", [c for c in STATUS_CASES if c[0] in SDK_ERRORS], ids=lambda c: c[0]
)
async def test_error_statuses_agree_with_the_sdk(
    sdk: openai.AsyncOpenAI, compat: Any, loopback: LoopbackServer, case: tuple[str, Reply, type]
) -> None:
    sdk_error, our_error = SDK_ERRORS[case[0]]
    loopback.enqueue(case[1], case[1])
    with pytest.raises(sdk_error):
        await sdk.chat.completions.create(model=REQUEST.model, messages=MESSAGES)
    with pytest.raises(our_error):
        await compat.chat(REQUEST)
