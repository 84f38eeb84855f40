"""Fetching an attached URL: the adapters' HTTP client (timeouts, proxy rules), size-capped.

The body is read as it arrives and the download stops at the cap, so a huge or endless
response costs at most ``cap`` bytes. Failures are the same one-line wording the
providers use ("cannot connect to https://host (connection refused)").
"""

from __future__ import annotations

import httpx

from ollama_cli.attach.load import AttachError, human, limit, shown_url
from providers.base import ProviderSettings
from providers.errors import ProviderError
from providers.http import host_of, make_client, translating

#: Seconds to wait for the server between bytes, and to connect (the providers' defaults).
READ_TIMEOUT = 60.0
CONNECT_TIMEOUT = 5.0


async def fetch(url: str, cap: int) -> bytes:
    """The body of ``url`` (following redirects), or ``AttachError`` naming it as shown
    (no credentials, no query)."""
    name = shown_url(url)
    settings = ProviderSettings(
        name=name,
        type="url",
        default_model="",
        timeout=READ_TIMEOUT,
        connect_timeout=CONNECT_TIMEOUT,
    )
    client = make_client(settings, host_of(url))
    try:
        async with (
            translating(name, url),
            client.stream("GET", url, follow_redirects=True) as reply,
        ):
            if reply.status_code >= 400:
                status = f"HTTP {reply.status_code} {reply.reason_phrase}".rstrip()
                raise AttachError(f"{name}: {status}")
            return await _read_capped(name, reply, cap)
    except ProviderError as exc:
        raise AttachError(str(exc)) from None
    finally:
        await client.aclose()


async def _read_capped(url: str, reply: httpx.Response, cap: int) -> bytes:
    declared = reply.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise _too_large(url, int(declared), cap)
    body = bytearray()
    async for piece in reply.aiter_bytes():
        body += piece
        if len(body) > cap:
            raise _too_large(url, len(body), cap, more=True)
    return bytes(body)


def _too_large(url: str, size: int, cap: int, *, more: bool = False) -> AttachError:
    at_least = "more than " if more else ""
    return AttachError(f"{url}: too large ({at_least}{human(size)}; the limit is {limit(cap)})")
