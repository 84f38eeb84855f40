"""HTTP edges and proxies, on real loopback sockets.

A proxy here is a loopback server that answers like Ollama whatever the request line says:
a request that reached it through the proxy carries the absolute URL of the real target
(``POST http://ollama.invalid:11434/api/chat``), which is how a test tells "went through
the proxy" from "went direct".
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from providers.base import ProviderSettings
from providers.http import MAX_RETRY_AFTER, proxy_for, retry_after_seconds
from tests.faults import CANARIES, canary_env, leaks, run_cli, toml_config
from tests.wire.loopback import LoopbackServer, Reply, Request
from tests.wire.ollama import NDJSON, OllamaWire, chat_stream

KEY = CANARIES["OLLAMA_API_KEY"]


def ollama_anywhere(request: Request) -> Reply:
    return Reply(body=chat_stream(["via ", "proxy"]), content_type=NDJSON)


@pytest.fixture
def proxy() -> Iterator[LoopbackServer]:
    with LoopbackServer(ollama_anywhere) as server:
        yield server


def configure(home: Path, host: str, **table: object) -> None:
    tables: dict[str, dict[str, Any]] = {"ollama": {"host": host, "timeout": 10.0, **table}}
    (home / "config.toml").write_text(toml_config(["ollama"], tables, retries=0))


@pytest.mark.parametrize("var", ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"])
def test_requests_go_through_the_proxy_the_environment_names(
    cli_home: Path, proxy: LoopbackServer, var: str
) -> None:
    configure(cli_home, "http://ollama.invalid:11434")
    env: dict[str, str] = {var: proxy.url}
    run = run_cli(cli_home, "complete", "hi", **env)  # type: ignore[arg-type]
    assert run.code == 0, run.stderr
    assert run.stdout == b"via proxy\n"
    assert proxy.requests[0].path == "http://ollama.invalid:11434/api/chat"


def test_no_proxy_and_trust_env_false_go_direct(cli_home: Path, proxy: LoopbackServer) -> None:
    with OllamaWire(accept_any_model=True) as direct:
        configure(cli_home, direct.url)
        bypasses: list[dict[str, str]] = [{"NO_PROXY": "localhost,127.0.0.1"}, {"no_proxy": "*"}]
        for env in bypasses:
            run = run_cli(cli_home, "complete", "hi", HTTP_PROXY=proxy.url, **env)  # type: ignore[arg-type]
            assert run.code == 0 and run.stdout == b"Hello from Ollama.\n"
        configure(cli_home, direct.url, trust_env=False)
        run = run_cli(cli_home, "complete", "hi", HTTP_PROXY=proxy.url)
        assert run.code == 0 and run.stdout == b"Hello from Ollama.\n"
    assert proxy.requests == []


def test_a_provider_proxy_wins_and_its_credentials_never_show(
    cli_home: Path, proxy: LoopbackServer
) -> None:
    secret_proxy = proxy.url.replace("http://", f"http://user:{KEY}@")
    configure(cli_home, "http://ollama.invalid:11434", proxy=secret_proxy)
    run = run_cli(cli_home, "complete", "hi", HTTP_PROXY="http://127.0.0.1:9")
    assert run.code == 0 and run.stdout == b"via proxy\n"
    shown = run_cli(cli_home, "config", "show")
    assert shown.code == 0 and b"***@127.0.0.1" in shown.stdout
    assert not leaks(shown.stdout)


def test_curl_no_proxy_matching() -> None:
    settings = ProviderSettings("x", "ollama", "m")
    env = {"https_proxy": "http://p:1", "NO_PROXY": ".corp.example, 10.0.0.1:8443"}
    assert proxy_for(settings, "https://api.corp.example/v1", env) is None
    assert proxy_for(settings, "https://corp.example/v1", env) is None
    assert proxy_for(settings, "https://10.0.0.1:8443/v1", env) is None
    assert proxy_for(settings, "https://10.0.0.1:9443/v1", env) == "http://p:1"
    assert proxy_for(settings, "https://notcorp.example/v1", env) == "http://p:1"
    assert proxy_for(settings, "http://api.example/v1", env) is None  # no http_proxy
    quoted = {"HTTPS_PROXY": '"http://q:2"'}
    assert proxy_for(settings, "https://api.example/v1", quoted) == "http://q:2"


def test_a_redirect_is_a_failure_naming_its_target_and_the_key_never_follows(
    cli_home: Path,
) -> None:
    with LoopbackServer() as target, OllamaWire(accept_any_model=True) as backup:
        with LoopbackServer() as redirecting:
            redirecting.enqueue(
                Reply(status=302, headers={"Location": f"{target.url}/api/chat"}, body=b"")
            )
            tables: dict[str, dict[str, Any]] = {
                "ollama": {"host": redirecting.url},
                "second": {"type": "ollama", "host": backup.url, "default_model": "m"},
            }
            text = toml_config(["ollama", "second"], tables, retries=0)
            (cli_home / "config.toml").write_text(text)
            run = run_cli(cli_home, "-v", "complete", "hi")
        assert run.code == 0, run.stderr
        assert run.stdout == b"Hello from Ollama.\n"
        assert f"HTTP 302 redirect to {target.url} (not followed)".encode() in run.stderr
        assert target.requests == []
        assert not leaks(run.stderr)


def test_retry_after_is_capped_and_non_finite_values_are_ignored() -> None:
    assert retry_after_seconds({"retry-after": "1e12"}) == MAX_RETRY_AFTER
    assert retry_after_seconds({"retry-after": "inf"}) is None
    assert retry_after_seconds({"retry-after": "nan"}) is None
    assert retry_after_seconds({"retry-after-ms": "Infinity", "retry-after": "5"}) == 5
    assert retry_after_seconds({"retry-after": "-3"}) == 0
    assert math.isfinite(retry_after_seconds({"retry-after": "Fri, 31 Dec 9999 23:59:59 GMT"}) or 0)


def test_a_huge_retry_after_stores_a_cooldown_of_at_most_an_hour(cli_home: Path) -> None:
    import json
    import time

    with OllamaWire(accept_any_model=True) as wire:
        wire.fail(429, {"error": "slow down"}, headers={"Retry-After": "99999999999"})
        configure(cli_home, wire.url)
        run = run_cli(cli_home, "complete", "hi")
    assert run.code == 1
    state = json.loads((cli_home / "state" / "cooldowns.json").read_text())
    assert state["ollama"]["until"] <= time.time() + MAX_RETRY_AFTER + 5


def test_the_env_of_a_run_is_canaries(cli_home: Path) -> None:
    assert canary_env(cli_home)["OLLAMA_API_KEY"] == KEY


def test_a_200_without_an_answer_shape_is_a_failure_not_an_empty_answer(cli_home: Path) -> None:
    with LoopbackServer() as empty, OllamaWire(accept_any_model=True) as backup:
        empty.enqueue(Reply.json({}))
        tables: dict[str, dict[str, Any]] = {
            "codex": {"base_url": empty.url + "/v1"},
            "second": {"type": "ollama", "host": backup.url, "default_model": "m"},
        }
        (cli_home / "config.toml").write_text(toml_config(["codex", "second"], tables, retries=0))
        run = run_cli(cli_home, "-v", "complete", "--no-stream", "hi")
    assert run.code == 0, run.stderr
    assert run.stdout == b"Hello from Ollama.\n"
    assert b"unavailable: reply has no output" in run.stderr


def test_a_socks_proxy_without_socksio_is_a_provider_failure(cli_home: Path) -> None:
    with OllamaWire(accept_any_model=True) as backup:
        tables: dict[str, dict[str, Any]] = {
            "ollama": {"host": "http://ollama.invalid:11434"},
            "second": {
                "type": "ollama",
                "host": backup.url,
                "default_model": "m",
                "trust_env": False,
            },
        }
        (cli_home / "config.toml").write_text(toml_config(["ollama", "second"], tables, retries=0))
        run = run_cli(
            cli_home, "-v", "complete", "hi", ALL_PROXY=f"socks5://u:{KEY}@127.0.0.1:1080"
        )
    assert run.code == 0, run.stderr
    assert run.stdout == b"Hello from Ollama.\n"
    assert b"cannot use the proxy socks5://127.0.0.1:1080" in run.stderr
    assert not leaks(run.stderr)
