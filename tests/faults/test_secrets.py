"""Secrets never leak: canary keys against servers that echo them back, keys cut in half by
the error-detail limit, the key's place on the wire, and the config file's permissions.

The fault matrix (test_matrix.py) already runs every fault with a canary in every key
variable and searches stdout, stderr, ``--json``, ``-v`` traces, the history database and
the state files; these are the cases it does not reach.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ollama_cli.config import load_config
from providers.base import BaseProvider
from providers.errors import ProviderError
from providers.registry import ProviderRegistry
from providers.types import ChatRequest, Message
from tests.faults import CANARIES, home_leaks, leaks, run_cli, toml_config, victim_table
from tests.faults.servers import WIRES, Wire
from tests.wire.loopback import LoopbackServer, Reply, Request, free_port

#: ``providers.http.MAX_DETAIL`` cuts a server's message at 300 characters; this much
#: padding puts the cut 20 characters into the key (after its 9-character prefix).
PADDING = "x" * 270


@pytest.fixture
def echo() -> Iterator[LoopbackServer]:
    """A server whose every answer is a 401 quoting the key the request carried."""

    def handle(request: Request) -> Reply:
        keys = [v for v in request.headers.values() if leaks(v)]
        return Reply.json({"error": {"message": f"bad key {keys}", "type": "x"}}, status=401)

    with LoopbackServer(handle) as server:
        yield server


def provider_for(wire: Wire, url: str, tmp_path: Path) -> BaseProvider:
    path = tmp_path / "config.toml"
    path.write_text(toml_config([wire.provider], {wire.provider: victim_table(wire, url, 2.0)}))
    config = load_config(path, CANARIES)
    return ProviderRegistry().create(config.providers[wire.provider].settings(CANARIES))


async def first_error(provider: BaseProvider, model: str) -> ProviderError:
    try:
        async for _ in provider.stream(ChatRequest((Message("user", "hi"),), model)):
            pass
    except ProviderError as exc:
        return exc
    finally:
        await provider.close()
    raise AssertionError("the stream did not fail")


CUT_CASES = [
    pytest.param(name, kind, id=f"{name}-{kind}")
    for name in WIRES
    for kind in ("http_error", "in_band_error")
]


@pytest.mark.parametrize(("name", "kind"), CUT_CASES)
async def test_a_key_cut_by_the_detail_limit_never_leaks(
    tmp_path: Path, name: str, kind: str
) -> None:
    wire = WIRES[name]

    def handle(request: Request) -> Reply:
        message = PADDING + wire.key(request)
        if kind == "http_error":
            return wire.error(401, message, None)
        return Reply(body=wire.in_band(message), content_type=wire.stream_type)

    with LoopbackServer(handle) as server:
        error = await first_error(provider_for(wire, server.url, tmp_path), wire.model)
    assert PADDING[:50] in str(error)  # the server's message did reach the user…
    assert leaks(str(error)) == []  # …but not one run of 12 characters of the key


@pytest.mark.parametrize("name", list(WIRES))
async def test_the_key_travels_in_a_header_never_in_the_url(tmp_path: Path, name: str) -> None:
    wire = WIRES[name]
    with LoopbackServer(lambda r: wire.answer(["ok"])) as server:
        provider = provider_for(wire, server.url, tmp_path)
        try:
            chunks = [
                c async for c in provider.stream(ChatRequest((Message("user", "hi"),), wire.model))
            ]
        finally:
            await provider.close()
    assert "".join(c.text for c in chunks) == "ok"
    (request,) = server.requests
    assert wire.key(request) == CANARIES[wire.key_env]
    assert leaks(request.path) == [] and leaks(request.body) == []


def all_at(url: str) -> str:
    tables = {name: victim_table(wire, url, 2.0) for name, wire in WIRES.items()}
    tables["local"] = {"enabled": False}
    return toml_config(list(WIRES), tables, retries=0)


def test_health_checks_and_model_lists_against_an_echoing_server(
    cli_home: Path, echo: LoopbackServer
) -> None:
    (cli_home / "config.toml").write_text(all_at(echo.url))
    listed = run_cli(cli_home, "providers", "list", "--json", "--timeout", "2")
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert {rows[name]["status"] for name in WIRES} == {"auth_failed"}
    runs = [listed] + [run_cli(cli_home, "models", "list", name) for name in WIRES]
    for run in runs:
        assert leaks(run.stdout + run.stderr) == []
    assert all(b"bad key" in run.stderr for run in runs[1:])  # the echo was shown, redacted
    assert home_leaks(cli_home) == {}


def test_every_provider_refusing_the_key_in_complete_and_history(
    cli_home: Path, echo: LoopbackServer
) -> None:
    (cli_home / "config.toml").write_text(all_at(echo.url))
    runs = [
        run_cli(cli_home, "-v", "complete", "hi"),
        run_cli(cli_home, "complete", "--json", "hi"),
    ]
    data = json.loads(runs[1].stdout)
    runs.append(run_cli(cli_home, "history", "show", "--json", data["conversation_id"]))
    assert runs[2].code == 0 and b"attempts" in runs[2].stdout
    outcomes = [a["outcome"] for a in data["attempts"]]
    assert outcomes == ["auth"] * len(WIRES)
    assert [run.code for run in runs[:2]] == [1, 1]
    for run in runs:
        assert leaks(run.stdout + run.stderr) == []
    assert home_leaks(cli_home) == {}


def test_credentials_in_a_base_url_stay_out_of_error_lines(cli_home: Path) -> None:
    port = free_port()
    secret = CANARIES["OPENAI_API_KEY"]
    table = {"base_url": f"http://user:{secret}@127.0.0.1:{port}/v1", "timeout": 2.0}
    (cli_home / "config.toml").write_text(toml_config(["codex"], {"codex": table}))
    run = run_cli(cli_home, "-v", "complete", "--json", "hi")
    assert run.code == 1 and b"connection refused" in run.stderr
    assert leaks(run.stdout + run.stderr) == [] and home_leaks(cli_home) == {}


LITERAL = toml_config(
    ["claude"],
    {"claude": {"api_key": CANARIES["ANTHROPIC_API_KEY"], "base_url": "http://127.0.0.1:9"}},
)


@pytest.mark.parametrize(("mode", "warned"), [(0o644, True), (0o640, True), (0o600, False)])
def test_a_literal_key_in_a_readable_config_is_warned_about(
    cli_home: Path, mode: int, warned: bool
) -> None:
    path = cli_home / "config.toml"
    path.write_text(LITERAL)
    os.chmod(path, mode)
    run = run_cli(cli_home, "config", "show", "--json")
    assert run.code == 0
    warnings = [line for line in run.err_lines if "readable by others" in line]
    if warned:
        readable = f"holds an API key and is readable by others (mode {mode:o})"
        assert warnings == [f"warning: {path} {readable}; run: chmod 600 {path}"]
    else:
        assert run.err_lines == []
    assert json.loads(run.stdout)["providers"]["claude"]["api_key"] == "set"
    assert leaks(run.stdout + run.stderr) == []


def test_a_key_taken_from_the_environment_is_not_warned_about(cli_home: Path) -> None:
    path = cli_home / "config.toml"
    table = {"api_key": "${env.MY_CLAUDE_KEY}", "base_url": "http://127.0.0.1:9"}
    path.write_text(toml_config(["claude"], {"claude": table}))
    os.chmod(path, 0o644)
    run = run_cli(cli_home, "config", "show", MY_CLAUDE_KEY=CANARIES["ANTHROPIC_API_KEY"])
    assert run.code == 0 and run.err_lines == []
    assert leaks(run.stdout) == []


def test_config_show_never_prints_a_key(cli_home: Path) -> None:
    (cli_home / "config.toml").write_text(LITERAL)
    os.chmod(cli_home / "config.toml", 0o600)
    for args in (["config", "show"], ["config", "show", "--json"], ["-v", "config", "show"]):
        run = run_cli(cli_home, *args)
        assert run.code == 0 and leaks(run.stdout + run.stderr) == []


def test_config_show_hides_a_password_in_a_base_url(cli_home: Path) -> None:
    secret = CANARIES["HF_TOKEN"]
    table = {"base_url": f"https://user:{secret}@router.example/v1"}
    (cli_home / "config.toml").write_text(toml_config(["hf"], {"hf": table}))
    run = run_cli(cli_home, "config", "show", "--json")
    assert run.code == 0 and "router.example" in run.stdout.decode()
    assert leaks(run.stdout + run.stderr) == []
