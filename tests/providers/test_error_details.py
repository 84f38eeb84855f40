"""The server's own words in our errors (``providers.http.error_detail``) and their wording.

- The key is redacted before the detail is cut to ``MAX_DETAIL``: a key straddling the
  cut would otherwise reach the user as its first characters, which no later redaction
  can recognise. Every adapter passes its key in, for HTTP and in-band errors alike.
- An HTML error page (nginx's, a load balancer's) is quoted by its title, never as markup.
- Gemini's in-band errors say where they came from, not an "HTTP 500" that never happened.
- An OpenAI-compatible stream event whose ``choices`` is not a list is malformed.

The error bodies are the vendors' documented shapes, built by tests/wire/*.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from providers import anthropic_wire, gemini_wire, ollama_wire, openai_errors
from providers.errors import ProviderError, ProviderUnavailableError, RateLimitError
from providers.http import MAX_DETAIL, error_detail
from providers.openai_compat import ChatStreamState
from tests.faults import CANARIES, leaks
from tests.faults.servers import WIRES
from tests.providers.test_stream_pacing import ask, make_provider
from tests.wire import anthropic, gemini
from tests.wire.loopback import LoopbackServer, Reply

KEY = CANARIES["ANTHROPIC_API_KEY"]
#: Puts the cut 29 characters into the key (20 past its ``cnry-ANT-`` prefix): they
#: would survive a redaction made after the cut.
STRADDLING = "x" * (MAX_DETAIL - 30) + KEY
NGINX_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n"
    "</html>\r\n"
)


@pytest.mark.parametrize(
    "body",
    [STRADDLING, json.dumps({"error": {"message": STRADDLING}}), json.dumps({"x": STRADDLING})],
    ids=["text", "json-message", "json-whole"],
)
def test_the_key_is_redacted_before_the_cut(body: str) -> None:
    assert leaks(error_detail(body)) == ["ANTHROPIC_API_KEY"]  # without it: cut, and leaked
    detail = error_detail(body, secrets=(None, KEY))
    assert leaks(detail) == [] and "[redacted]" in detail
    assert len(detail) <= MAX_DETAIL


@pytest.mark.parametrize(
    ("page", "detail"),
    [
        (NGINX_502, "502 Bad Gateway"),
        ("<!DOCTYPE html><html><head><title>Bad &amp; worse</title>", "Bad & worse"),
        ('\n<HTML><Title lang="en">\n  Service\n  Unavailable </TITLE>', "Service Unavailable"),
        ("<html><body>upstream error</body></html>", ""),  # no title: no detail
        ("<error>not html</error>", "<error>not html</error>"),  # other markup is kept
        ("<3 plain text", "<3 plain text"),
    ],
)
def test_an_html_page_is_quoted_by_its_title(page: str, detail: str) -> None:
    assert error_detail(page.encode()) == detail


ReplyError = Callable[[int, bytes], ProviderError]
HTTP_ERRORS: dict[str, ReplyError] = {
    "claude": lambda status, body: anthropic_wire.http_error("claude", status, body, {}),
    "gemini": lambda status, body: gemini_wire.http_error("gemini", status, body, {}),
    "hf": lambda status, body: openai_errors.error_from_status("hf", status, body),
    "ollama": lambda status, body: ollama_wire.error_from_response(
        "ollama", status, body, model="llama3.2", host="http://localhost:11434"
    ),
}


@pytest.mark.parametrize("name", list(HTTP_ERRORS))
def test_every_adapter_quotes_a_proxy_page_by_its_title(name: str) -> None:
    error = HTTP_ERRORS[name](502, NGINX_502.encode())
    assert isinstance(error, ProviderUnavailableError)
    assert str(error) == f"{name}: HTTP 502: 502 Bad Gateway"


async def test_a_proxy_page_over_the_wire(loopback: LoopbackServer, tmp_path: Path) -> None:
    loopback.enqueue(Reply(status=502, body=NGINX_502.encode(), content_type="text/html"))
    with pytest.raises(ProviderUnavailableError) as caught:
        await ask(make_provider(WIRES["codex"], loopback.url, tmp_path), "gpt-5-codex")
    assert str(caught.value) == "codex: HTTP 502: 502 Bad Gateway"


#: Each adapter's pure error mappers, given the key: HTTP error bodies and in-band errors.
KEYED: dict[str, Callable[[str], ProviderError]] = {
    "anthropic-http": lambda msg: anthropic_wire.http_error(
        "claude",
        401,
        json.dumps(anthropic.error_body("authentication_error", msg)).encode(),
        {},
        KEY,
    ),
    "anthropic-event": lambda msg: anthropic_wire.stream_error(
        "claude", json.dumps(anthropic.error_body("overloaded_error", msg)), KEY
    ),
    "gemini-http": lambda msg: gemini_wire.http_error(
        "gemini", 400, json.dumps(gemini.error_body(400, msg)).encode(), {}, KEY
    ),
    "gemini-in-band": lambda msg: gemini_wire.in_band_error(
        "gemini", gemini.error_body(500, msg), KEY
    ),
    "openai-http": lambda msg: openai_errors.error_from_status(
        "hf", 401, json.dumps({"error": {"message": msg}}).encode(), secret=KEY
    ),
    "openai-in-band": lambda msg: openai_errors.error_from_payload(
        "hf", {"message": msg, "type": "server_error"}, where="stream error: ", secret=KEY
    ),
    "ollama-http": lambda msg: ollama_wire.error_from_response(
        "ollama", 500, json.dumps({"error": msg}).encode(), model=None, host="h", secret=KEY
    ),
    "ollama-in-band": lambda msg: ollama_wire.error_from_text("ollama", msg, "m", KEY),
}


@pytest.mark.parametrize("mapper", list(KEYED))
def test_every_error_mapper_redacts_before_it_cuts(mapper: str) -> None:
    error = KEYED[mapper](STRADDLING)
    assert "x" * 50 in str(error)  # the server's message is still shown…
    assert leaks(str(error)) == []  # …but not a 12-character run of the key


@pytest.mark.parametrize(
    ("body", "cls"),
    [
        (gemini.error_body(500, "Internal error encountered."), ProviderUnavailableError),
        (gemini.error_body(503, status="UNAVAILABLE"), ProviderUnavailableError),
        (
            gemini.error_body(
                429,
                "Resource exhausted.",
                details=[{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"}],
            ),
            RateLimitError,
        ),
    ],
)
def test_gemini_in_band_errors_do_not_claim_an_http_status(
    body: dict[str, object], cls: type[ProviderError]
) -> None:
    error = gemini_wire.in_band_error("gemini", body)
    message = str(body["error"]["message"])  # type: ignore[index]
    assert type(error) is cls
    assert str(error) == f"gemini: error in the stream: {message}"
    if cls is RateLimitError:
        assert error.retry_after == 7.0  # the RetryInfo still counts


@pytest.mark.parametrize("choices", [True, 3, "x", {"0": {}}])
def test_choices_that_are_not_a_list_are_a_malformed_event(choices: object) -> None:
    with pytest.raises(ProviderUnavailableError) as caught:
        ChatStreamState("hf").feed("", {"choices": choices})
    assert str(caught.value) == "hf: malformed stream event: 'choices' is not a list"


def test_a_usage_only_event_still_has_no_choices_to_read() -> None:
    state = ChatStreamState("hf")
    assert state.feed("", {"choices": [], "usage": {"prompt_tokens": 1}}) == []
    assert state.feed("", {"usage": {"prompt_tokens": 2}}) == []


@pytest.mark.parametrize(
    "reply", [{"output": True}, {"output": [{"type": "message", "content": 3}]}]
)
def test_a_responses_reply_with_a_non_list_is_malformed_not_a_crash(
    reply: dict[str, object],
) -> None:
    from providers.errors import ProviderUnavailableError
    from providers.openai_responses import parse_responses_reply
    from providers.types import ChatRequest, Message

    request = ChatRequest(messages=(Message("user", "hi"),), model="m")
    with pytest.raises(
        ProviderUnavailableError, match=r"^codex: malformed reply: '\w+' is not a list$"
    ):
        parse_responses_reply("codex", reply, request)
