"""Model catalogs through the real CLI and real loopback servers (issue 13's "Must show").

Catalog payloads follow the vendors' listings: Anthropic ``/v1/models`` entries as in
anthropic 2.16.0 ``types/model_info.py`` (``lifecycle``, ``retires_at``, ``line``,
``max_input_tokens``, ``max_tokens``, ``capabilities``), Ollama ``/api/tags`` as in ollama
0.6.3 ``_types.ListResponse``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.test_cli import cli, write_config
from tests.wire.anthropic import error_reply, sse_reply, stream_events
from tests.wire.loopback import LoopbackServer, Reply, Request
from tests.wire.ollama import OllamaWire

KEY = "sk-ant-catalog-test"
RETIRED = ("claude-sonnet-4-5", "claude-sonnet-4-5-20250929", "claude-sonnet-4-6")
ACTIVE = "claude-sonnet-5-5"


def anthropic_model(model_id: str, lifecycle: str, retires_at: str | None = None) -> dict[str, Any]:
    supported = {"supported": True}
    return {
        "type": "model",
        "id": model_id,
        "display_name": model_id.replace("-", " ").title(),
        "created_at": "2026-09-01T00:00:00Z",
        "lifecycle": lifecycle,
        "deprecated_at": None if lifecycle == "active" else "2026-06-01T00:00:00Z",
        "retires_at": retires_at,
        "line": "sonnet" if "sonnet" in model_id else "opus",
        "max_input_tokens": 1_000_000,
        "max_tokens": 128_000,
        "capabilities": {"image_input": supported, "pdf_input": supported},
    }


CATALOG = {
    "data": [
        anthropic_model(ACTIVE, "active"),
        anthropic_model("claude-opus-4-5", "deprecated", "2027-01-22T00:00:00Z"),
        *(anthropic_model(m, "retired", "2026-11-30T00:00:00Z") for m in RETIRED),
    ],
    "has_more": False,
    "first_id": ACTIVE,
    "last_id": RETIRED[-1],
}


class RetiringAnthropic:
    """Lists CATALOG; answers 404 ``not_found_error`` for a retired model, text otherwise."""

    def __init__(self, server: LoopbackServer) -> None:
        self.server = server
        server.handler = self.handle

    def handle(self, request: Request) -> Reply:
        if request.path.startswith("/v1/models"):
            return Reply.json(CATALOG)
        model = request.json()["model"]
        if model in RETIRED:
            return error_reply(404, "not_found_error", f"model: {model}")
        return sse_reply(stream_events(["answered by ", model]))

    def asked(self) -> list[str]:
        return [r.json()["model"] for r in self.server.requests if r.path == "/v1/messages"]


def claude_only(home: Path, url: str, default: str) -> None:
    write_config(
        home,
        f'[router]\nchain = ["claude"]\nretries = 0\n'
        f'[providers.claude]\nbase_url = "{url}"\ndefault_model = "{default}"\n',
    )


def notices(err: bytes) -> list[str]:
    return [line for line in err.decode().splitlines() if line.strip()]


def test_a_retired_default_heals_once_and_the_next_process_asks_for_the_active_model(
    cli_home: Path, loopback: LoopbackServer
) -> None:
    wire = RetiringAnthropic(loopback)
    claude_only(cli_home, loopback.url, "claude-sonnet-4-5")
    first = cli(cli_home, "complete", "hi", ANTHROPIC_API_KEY=KEY)
    assert first.returncode == 0, first.stderr
    assert first.stdout.decode().strip() == f"answered by {ACTIVE}"
    assert notices(first.stderr) == [f"claude: claude-sonnet-4-5 is retired; using {ACTIVE}"]
    assert wire.asked() == ["claude-sonnet-4-5", ACTIVE]

    second = cli(cli_home, "complete", "--json", "hi again", ANTHROPIC_API_KEY=KEY)
    assert second.returncode == 0, second.stderr
    assert wire.asked()[2:] == [ACTIVE]  # no request names a retired model
    assert json.loads(second.stdout)["model"] == ACTIVE
    assert notices(second.stderr) == []
    assert KEY.encode() not in first.stderr + second.stderr + second.stdout


def test_a_family_selector_resolves_to_the_newest_active_model(
    cli_home: Path, loopback: LoopbackServer
) -> None:
    wire = RetiringAnthropic(loopback)
    claude_only(cli_home, loopback.url, "@sonnet")
    out = cli(cli_home, "complete", "hi", ANTHROPIC_API_KEY=KEY)
    assert out.returncode == 0, out.stderr
    assert wire.asked() == [ACTIVE] and notices(out.stderr) == []


def test_a_model_named_with_m_is_never_replaced_and_gets_did_you_mean(
    cli_home: Path, loopback: LoopbackServer
) -> None:
    wire = RetiringAnthropic(loopback)
    claude_only(cli_home, loopback.url, ACTIVE)
    out = cli(cli_home, "complete", "-m", "claude-sonnet-4-6", "hi", ANTHROPIC_API_KEY=KEY)
    assert out.returncode == 1
    assert wire.asked() == ["claude-sonnet-4-6"]
    assert f"did you mean: {ACTIVE}" in out.stderr.decode()


def test_models_list_json_carries_lifecycle_and_retirement_dates(
    cli_home: Path, loopback: LoopbackServer
) -> None:
    RetiringAnthropic(loopback)
    claude_only(cli_home, loopback.url, ACTIVE)
    out = cli(cli_home, "models", "list", "claude", "--json", ANTHROPIC_API_KEY=KEY)
    assert out.returncode == 0, out.stderr
    models = {m["id"]: m for m in json.loads(out.stdout)["models"]}
    assert models[ACTIVE]["lifecycle"] == "active" and models[ACTIVE]["retires_at"] is None
    assert models["claude-opus-4-5"]["lifecycle"] == "deprecated"
    assert models["claude-opus-4-5"]["retires_at"] == "2027-01-22"
    assert models["claude-sonnet-4-6"] == {
        **models["claude-sonnet-4-6"],
        "lifecycle": "retired",
        "retires_at": "2026-11-30",
        "family": "sonnet",
        "context_window": 1_000_000,
        "max_output_tokens": 128_000,
        "capabilities": ["image_input", "pdf_input"],
    }
    text = cli(cli_home, "models", "list", "claude", ANTHROPIC_API_KEY=KEY)
    lines = text.stdout.decode().splitlines()
    assert "claude-opus-4-5  (deprecated, retires 2027-01-22)" in lines
    assert "claude-sonnet-4-6  (retired)" in lines
    # The second listing came from the cache: one /v1/models request in all.
    assert sum(r.path.startswith("/v1/models") for r in loopback.requests) == 1
    cli(cli_home, "models", "list", "claude", "--refresh", ANTHROPIC_API_KEY=KEY)
    assert sum(r.path.startswith("/v1/models") for r in loopback.requests) == 2


def test_a_deprecated_default_warns_once_a_day(cli_home: Path, loopback: LoopbackServer) -> None:
    RetiringAnthropic(loopback)
    claude_only(cli_home, loopback.url, "claude-opus-4-5")
    cli(cli_home, "models", "list", "claude", ANTHROPIC_API_KEY=KEY)  # fills the cache
    first = cli(cli_home, "complete", "hi", ANTHROPIC_API_KEY=KEY)
    second = cli(cli_home, "complete", "hi", ANTHROPIC_API_KEY=KEY)
    assert (first.returncode, second.returncode) == (0, 0)
    assert notices(first.stderr) == [
        "claude: claude-opus-4-5 is deprecated (retires 2027-01-22); "
        "`models list claude` shows the others"
    ]
    assert notices(second.stderr) == []


def test_ollama_answers_with_the_one_model_installed(cli_home: Path) -> None:
    with OllamaWire(models=["qwen3:0.6b"]) as wire:
        write_config(
            cli_home,
            f'[router]\nchain = ["ollama"]\nretries = 0\n[providers.ollama]\nhost = "{wire.url}"\n',
        )
        out = cli(cli_home, "complete", "--json", "hi")
        asked = [b["model"] for b in wire.chat_bodies()]
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert (data["provider"], data["model"]) == ("ollama", "qwen3:0.6b")
    assert asked == ["llama3.2", "qwen3:0.6b"]
    assert notices(out.stderr) == [
        "ollama: llama3.2 is not pulled; using qwen3:0.6b (`ollama pull llama3.2` to get it)"
    ]


LLAMA_CPP_CONTEXT = {
    "error": {
        "code": 400,
        "message": "the request exceeds the available context size, try increasing it",
        "type": "exceed_context_size_error",
    }
}
LITELLM_UNKNOWN = {
    "error": {
        "message": "{'error': '/chat/completions: Invalid model name passed in model=gpt-9. "
        "Call `/v1/models` to view available models for your key.'}",
        "type": "None",
        "param": "None",
        "code": "400",
    }
}


def with_ollama_backup(home: Path, first: str, url: str, ollama_url: str, extra: str = "") -> None:
    kind = {"claude": "anthropic", "gemini": "gemini", "codex": "openai"}[first]
    write_config(
        home,
        f'[router]\nchain = ["{first}", "ollama"]\nretries = 0\n'
        f'[providers.{first}]\ntype = "{kind}"\nbase_url = "{url}"\n{extra}'
        f'[providers.ollama]\nhost = "{ollama_url}"\n',
    )


def outcomes(stdout: bytes) -> list[tuple[str, str]]:
    return [(a["provider"], a["outcome"]) for a in json.loads(stdout)["attempts"]]


def test_a_refusal_with_no_text_falls_over_as_content_filtered(
    cli_home: Path, loopback: LoopbackServer
) -> None:
    loopback.handler = lambda r: sse_reply(stream_events([], stop_reason="refusal"))
    with OllamaWire() as ollama:
        with_ollama_backup(cli_home, "claude", loopback.url, ollama.url)
        out = cli(
            cli_home,
            "complete",
            "--json",
            "hi",
            ANTHROPIC_API_KEY=KEY,
            GEMINI_API_KEY="gm-test-key",
            OPENAI_API_KEY="sk-oa",
        )
    assert out.returncode == 0, out.stderr
    assert outcomes(out.stdout) == [("claude", "content_filtered"), ("ollama", "ok")]
    assert json.loads(out.stdout)["text"] == "Hello from Ollama."


def test_a_refusal_after_text_is_resumed_elsewhere_and_announced(
    cli_home: Path, loopback: LoopbackServer
) -> None:
    loopback.handler = lambda r: sse_reply(stream_events(["Sure, ", "the "], stop_reason="refusal"))
    with OllamaWire() as ollama:
        with_ollama_backup(cli_home, "claude", loopback.url, ollama.url)
        out = cli(
            cli_home,
            "complete",
            "--json",
            "hi",
            ANTHROPIC_API_KEY=KEY,
            GEMINI_API_KEY="gm-test-key",
            OPENAI_API_KEY="sk-oa",
        )
    assert out.returncode == 0, out.stderr
    assert outcomes(out.stdout) == [("claude", "interrupted"), ("ollama", "ok")]
    assert json.loads(out.stdout)["text"] == "Sure, the Hello from Ollama."
    err = out.stderr.decode()
    assert "claude refused to go on → ollama continues the answer" in err


def test_temperature_to_a_model_that_takes_none_is_dropped_with_a_notice(
    cli_home: Path, loopback: LoopbackServer
) -> None:
    def handle(request: Request) -> Reply:
        if request.path.startswith("/v1/models"):
            return Reply.json(CATALOG)
        if "temperature" in request.json():
            return error_reply(
                400, "invalid_request_error", "temperature: Extra inputs are not permitted"
            )
        return sse_reply(stream_events(["no sampling here"]))

    loopback.handler = handle
    claude_only(cli_home, loopback.url, ACTIVE)
    out = cli(cli_home, "complete", "--json", "--temperature", "0.3", "hi", ANTHROPIC_API_KEY=KEY)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert (data["text"], data["dropped_params"]) == ("no sampling here", ["temperature"])
    assert notices(out.stderr) == [
        f"claude: {ACTIVE} does not take temperature; asked again without it"
    ]
    # Once the catalog is known (it says: no sampling parameters), none is ever sent.
    cli(cli_home, "models", "list", "claude", ANTHROPIC_API_KEY=KEY)
    before = len(loopback.requests)
    again = cli(cli_home, "complete", "--temperature", "0.3", "hi", ANTHROPIC_API_KEY=KEY)
    assert again.returncode == 0, again.stderr
    sent = [r.json() for r in loopback.requests[before:] if r.path == "/v1/messages"]
    assert len(sent) == 1 and "temperature" not in sent[0]
    assert notices(again.stderr) == [f"claude: {ACTIVE} takes no temperature; sent without it"]


def test_llama_cpp_context_wording_falls_over_on_the_anthropic_path(
    cli_home: Path, loopback: LoopbackServer
) -> None:
    loopback.handler = lambda r: Reply.json(LLAMA_CPP_CONTEXT, status=400)
    with OllamaWire() as ollama:
        with_ollama_backup(cli_home, "claude", loopback.url, ollama.url)
        out = cli(
            cli_home,
            "complete",
            "--json",
            "hi",
            ANTHROPIC_API_KEY=KEY,
            GEMINI_API_KEY="gm-test-key",
            OPENAI_API_KEY="sk-oa",
        )
    assert out.returncode == 0, out.stderr
    assert outcomes(out.stdout) == [("claude", "context_too_long"), ("ollama", "ok")]


def test_llama_cpp_context_wording_falls_over_on_the_gemini_path(
    cli_home: Path, loopback: LoopbackServer
) -> None:
    loopback.handler = lambda r: Reply.json(LLAMA_CPP_CONTEXT, status=400)
    with OllamaWire() as ollama:
        with_ollama_backup(cli_home, "gemini", loopback.url, ollama.url)
        out = cli(
            cli_home,
            "complete",
            "--json",
            "hi",
            ANTHROPIC_API_KEY=KEY,
            GEMINI_API_KEY="gm-test-key",
            OPENAI_API_KEY="sk-oa",
        )
    assert out.returncode == 0, out.stderr
    assert outcomes(out.stdout) == [("gemini", "context_too_long"), ("ollama", "ok")]


def test_a_litellm_worded_unknown_model_falls_over(
    cli_home: Path, loopback: LoopbackServer
) -> None:
    loopback.handler = lambda r: Reply.json(LITELLM_UNKNOWN, status=400)
    with OllamaWire() as ollama:
        with_ollama_backup(cli_home, "codex", loopback.url, ollama.url)
        out = cli(
            cli_home,
            "complete",
            "--json",
            "-m",
            "gpt-9",
            "hi",
            ANTHROPIC_API_KEY=KEY,
            GEMINI_API_KEY="gm-test-key",
            OPENAI_API_KEY="sk-oa",
        )
    assert out.returncode == 0, out.stderr
    assert outcomes(out.stdout) == [("codex", "model_not_found"), ("ollama", "ok")]


def test_a_second_codex_turn_is_accepted_by_a_server_that_wants_typed_items(
    cli_home: Path, loopback: LoopbackServer
) -> None:
    """llama.cpp's /v1/responses rejects an input item without ``"type"`` ("Cannot
    determine type of 'item'"), which a second turn (with the first answer) always has."""
    from tests.wire.openai import responses_stream

    def handle(request: Request) -> Reply:
        items = request.json()["input"]
        if any(item.get("type") != "message" for item in items):
            return Reply.json(
                {
                    "error": {
                        "code": 400,
                        "message": "Cannot determine type of 'item'",
                        "type": "invalid_request_error",
                    }
                },
                status=400,
            )
        return responses_stream([f"turn {len(items) // 2 + 1}"])

    loopback.handler = handle
    write_config(
        cli_home,
        f'[router]\nchain = ["codex"]\nretries = 0\n'
        f'[providers.codex]\nbase_url = "{loopback.url}"\n',
    )
    first = cli(cli_home, "complete", "hello", OPENAI_API_KEY="sk-oa")
    second = cli(cli_home, "complete", "-c", "and again", OPENAI_API_KEY="sk-oa")
    assert (first.returncode, second.returncode) == (0, 0), second.stderr
    assert second.stdout.decode().strip() == "turn 2"
    assert len(loopback.requests[-1].json()["input"]) == 3


def test_providers_list_shows_a_deprecated_default_with_its_retirement_date(
    cli_home: Path, loopback: LoopbackServer
) -> None:
    RetiringAnthropic(loopback)
    claude_only(cli_home, loopback.url, "claude-opus-4-5")
    cli(cli_home, "models", "list", "claude", ANTHROPIC_API_KEY=KEY)  # fills the cache
    out = cli(cli_home, "providers", "list", "--json", ANTHROPIC_API_KEY=KEY)
    claude = next(r for r in json.loads(out.stdout) if r["name"] == "claude")
    assert (claude["lifecycle"], claude["retires_at"]) == ("deprecated", "2027-01-22")
    table = cli(cli_home, "-v", "providers", "list", ANTHROPIC_API_KEY=KEY, COLUMNS="200")
    assert "claude-opus-4-5 (deprecated, retires 2027-01-22)" in table.stdout.decode()
