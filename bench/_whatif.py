"""Run ollama-cli with proposed start-up changes applied from outside, to measure them
before anyone edits the application: ``python bench/_whatif.py complete "hi"``.

``BENCH_WHATIF`` is a comma-separated list of changes (none = the code as it is):

- ``nocli``: httpx does not import its command-line module ``httpx._main`` (which pulls in
  click, rich.progress, rich.syntax and pygments whenever click is installed).
- ``tls``: one TLS context per process, shared by every client and built only for an
  ``https://`` base URL (httpx builds one per client, loading the CA bundle each time, even
  for ``http://`` where no TLS can happen).
- ``norich``: output to a pipe is written without importing rich (the plain renderer only
  needs a file and "is this a terminal").
"""

from __future__ import annotations

import os
import sys
from typing import Any


def skip_httpx_cli() -> None:
    # httpx does ``try: from ._main import main except ImportError``: a None entry in
    # sys.modules makes that import fail at once, and httpx defines a stub instead.
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


def shared_tls() -> None:
    """One TLS context per process, built on first https:// use; none for http://."""
    import ssl

    import certifi
    import httpx

    import providers.http

    context: ssl.SSLContext | None = None

    def make_client(settings: Any, base_url: str, headers: Any = None) -> httpx.AsyncClient:
        nonlocal context
        verify: ssl.SSLContext | bool = False  # http://: no TLS, and redirects are not followed
        if not base_url.startswith("http://"):
            if context is None:
                context = ssl.create_default_context(cafile=certifi.where())
            verify = context
        timeout = httpx.Timeout(settings.timeout, connect=settings.connect_timeout)
        return httpx.AsyncClient(
            base_url=base_url,
            headers=dict(headers or {}),
            timeout=timeout,
            trust_env=False,
            verify=verify,
        )

    providers.http.make_client = make_client


def plain_pipe_without_rich() -> None:
    import ollama_cli.render.sink

    original = ollama_cli.render.sink.make_sink

    def make_sink(turn: Any, environ: Any) -> Any:
        if turn.json or sys.stdout.isatty():
            return original(turn, environ)
        from ollama_cli.render.stream import PlainRenderer

        return PlainRenderer(sys.stdout)

    ollama_cli.render.sink.make_sink = make_sink


def main() -> int:
    changes = {c for c in os.environ.get("BENCH_WHATIF", "").split(",") if c}
    if "nocli" in changes:
        skip_httpx_cli()
    if "tls" in changes:
        shared_tls()
    if "norich" in changes:
        plain_pipe_without_rich()
    from ollama_cli.cli import main as cli_main

    return cli_main(sys.argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
