"""Shared fixtures: an isolated OLLAMA_CLI_HOME, a clean environment, loopback servers."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.wire.loopback import LoopbackServer, free_port

#: Variables that could make a test talk to a real service or read a real config.
KEY_VARS = (
    "OLLAMA_API_KEY",
    "OLLAMA_HOST",
    "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "OPENAI_API_KEY",
    "HF_TOKEN",
    "OLLAMA_CLI_CONFIG",
    "NO_COLOR",
)


def pytest_configure(config: pytest.Config) -> None:
    """Give the processes the tests start a terminal's Ctrl-C, however the suite was started.

    A suite run in the background of a non-interactive shell (``cmd &``, as CI runners and
    scripts do) inherits SIGINT ignored, and every CLI it starts would ignore Ctrl-C too:
    the tests that press it would fail for a reason no user has. A handler (unlike an
    ignored signal) is reset to the default by exec, so installing Python's own restores
    the default in the children.
    """
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def clean_environ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point OLLAMA_CLI_HOME at a temp dir and strip provider keys (httpx's clean_environ)."""
    home = tmp_path / "home"
    home.mkdir()
    for var in KEY_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OLLAMA_CLI_HOME", str(home))
    yield home


@pytest.fixture
def cli_home(clean_environ: Path) -> Path:
    return clean_environ


@pytest.fixture
def loopback() -> Iterator[LoopbackServer]:
    """A started, empty loopback server; script it with ``enqueue`` or ``handler``."""
    with LoopbackServer() as server:
        yield server


@pytest.fixture
def refused_url() -> str:
    """A URL where nothing listens: connecting is refused at once."""
    return f"http://127.0.0.1:{free_port()}"


def subprocess_env(home: Path, **extra: str) -> dict[str, str]:
    """Environment for running the CLI in a subprocess with an isolated home."""
    env = {k: v for k, v in os.environ.items() if k not in KEY_VARS}
    env["OLLAMA_CLI_HOME"] = str(home)
    env.update(extra)
    return env
