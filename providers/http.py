"""Shared HTTP plumbing for the remote adapters: clients, timeouts, and the one place where
``httpx`` exceptions and HTTP statuses become taxonomy errors (like httpx's own
``map_httpcore_exceptions``). Vendor-specific refinements (e.g. a 400 that really means
"bad key") are made by each adapter before falling back on ``error_for_status``.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import json
import math
import re
import socket
import ssl
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from html import unescape
from typing import Any
from urllib.parse import urlsplit

import httpx

from providers.base import ProviderSettings
from providers.errors import (
    BadRequestError,
    ContextLengthError,
    ModelNotFoundError,
    ProviderAuthError,
    ProviderError,
    ProviderUnavailableError,
    ProviderUnreachableError,
    RateLimitError,
)
from providers.wording import codes_of, error_class, make_error

#: Longest error detail quoted from a server, so a 5 MB HTML page never reaches the terminal.
MAX_DETAIL = 300
#: Bounds on reading a finished stream's tail to keep its connection (see ``drain``): the
#: tail is a chunked terminator, a ``[DONE]`` or a usage event, a few bytes already on the way.
DRAIN_MAX_BYTES = 64 * 1024
DRAIN_TIMEOUT = 0.1
#: The longest wait a server's ``Retry-After`` may impose (cooldowns are stored).
MAX_RETRY_AFTER = 3600.0


def make_client(
    settings: ProviderSettings, base_url: str, headers: Mapping[str, str] | None = None
) -> httpx.AsyncClient:
    """An AsyncClient with the provider's read timeout and a separate connect timeout.

    Plain-http clients (local servers) skip TLS set-up entirely; https clients share one
    SSL context, so checking six providers loads the CA bundle once, not six times.
    """
    timeout = httpx.Timeout(settings.timeout, connect=settings.connect_timeout)
    verify: ssl.SSLContext | bool = _ssl_context() if base_url.startswith("https:") else False
    proxy = proxy_for(settings, base_url, settings.environ)
    try:
        return httpx.AsyncClient(
            base_url=base_url,
            headers=dict(headers or {}),
            timeout=timeout,
            trust_env=False,  # proxies are chosen by proxy_for, like curl; no .netrc
            proxy=proxy,
            verify=verify,
            follow_redirects=False,
            event_hooks={"response": [functools.partial(_refuse_redirect, settings.name)]},
        )
    except (ImportError, ValueError) as exc:  # socks5:// without socksio, ftp://…
        why = "SOCKS needs: pip install socksio" if isinstance(exc, ImportError) else "unsupported"
        raise ProviderUnavailableError(
            f"{settings.name}: cannot use the proxy {host_of(proxy or '')} ({why})",
            provider=settings.name,
        ) from None


def proxy_for(settings: ProviderSettings, url: str, environ: Mapping[str, str]) -> str | None:
    """The proxy for requests to ``url``, as curl chooses it: the provider's ``proxy``
    option, else (unless ``trust_env = false``) ``https_proxy``/``http_proxy`` by scheme,
    then ``all_proxy`` (lower case first, then upper), none for hosts in ``no_proxy``."""
    configured = settings.options.get("proxy")
    if configured:
        return str(configured)
    if settings.options.get("trust_env") is False:
        return None

    def var(name: str) -> str:
        value = environ.get(name.lower()) or environ.get(name.upper()) or ""
        return value.strip().strip("\"'")

    parts = urlsplit(url)
    if _bypassed(parts.hostname or "", parts.port, var("no_proxy")):
        return None
    return var(f"{parts.scheme}_proxy") or var("all_proxy") or None


def _bypassed(host: str, port: int | None, no_proxy: str) -> bool:
    """curl's ``NO_PROXY``: ``*``, or host names matching a listed domain or its
    subdomains (a leading dot is optional), or a listed IP (``host:port`` entries too)."""
    host = host.lower().strip("[]")
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        name, _, entry_port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        if entry_port and port is not None and entry_port != str(port):
            continue
        name = name.lstrip(".").strip("[]")
        if host == name or host.endswith("." + name):
            return True
    return False


async def _refuse_redirect(name: str, response: httpx.Response) -> None:
    """A 3xx is a failure naming where it pointed: the request (and its key) never follows."""
    if not response.is_redirect:
        return
    target = response.headers.get("location", "")
    where = host_of(str(response.url.join(target))) if target else "nowhere"
    await response.aclose()
    raise ProviderUnavailableError(
        f"{name}: HTTP {response.status_code} redirect to {where} (not followed)", provider=name
    )


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()


def host_of(url: str) -> str:
    """``scheme://host:port`` of a URL, without path, query or credentials."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}" if parts.scheme else url


def transport_error(name: str, url: str, exc: httpx.HTTPError) -> ProviderError:
    """Translate a transport-level httpx exception into a one-line taxonomy error."""
    where = host_of(url)
    if isinstance(exc, httpx.ConnectTimeout):
        return ProviderUnavailableError(
            f"{name}: cannot connect to {where} (connect timed out)", provider=name
        )
    if isinstance(exc, httpx.ConnectError):
        why = _connect_failure(exc)
        cls = (
            ProviderUnreachableError
            if why in ("connection refused", "host not found")
            else ProviderUnavailableError
        )
        return cls(f"{name}: cannot connect to {where} ({why})", provider=name)
    if isinstance(exc, httpx.ReadTimeout):
        return ProviderUnavailableError(
            f"{name}: {where} stopped sending (read timed out)", provider=name
        )
    if isinstance(exc, httpx.RemoteProtocolError):
        detail = _short(str(exc)) or "protocol error"
        return ProviderUnavailableError(
            f"{name}: connection to {where} broke ({detail})", provider=name
        )
    if isinstance(exc, (httpx.ReadError, httpx.WriteError, httpx.NetworkError)):
        return ProviderUnavailableError(f"{name}: connection to {where} was reset", provider=name)
    if isinstance(exc, httpx.TimeoutException):
        return ProviderUnavailableError(f"{name}: {where} timed out", provider=name)
    return ProviderUnavailableError(
        f"{name}: request to {where} failed ({type(exc).__name__})", provider=name
    )


def _connect_failure(exc: BaseException) -> str:
    """Why a connect failed, from the OS error underneath httpx's wrapper."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused"
        if isinstance(seen, socket.gaierror):
            return "host not found"
        if isinstance(seen, ssl.SSLError):
            return "TLS error"
        seen = seen.__cause__ or seen.__context__
    text = str(exc).lower()
    if "refused" in text or "all connection attempts failed" in text:
        return "connection refused"
    if "name or service" in text or "nodename" in text or "name resolution" in text:
        return "host not found"
    if "ssl" in text or "certificate" in text:
        return "TLS error"
    return "connection failed"


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or HTTP date),
    at most ``MAX_RETRY_AFTER``; a value that is not a finite number is ignored."""
    ms = headers.get("retry-after-ms")
    if ms:
        seconds = _finite(ms)
        if seconds is not None:
            return _capped(seconds / 1000)
    value = headers.get("retry-after")
    if not value:
        return None
    seconds = _finite(value)
    if seconds is not None:
        return _capped(seconds)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return _capped(when.timestamp() - (time.time() if now is None else now))


def _finite(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _capped(seconds: float) -> float:
    return min(MAX_RETRY_AFTER, max(0.0, seconds))


def error_detail(
    body: bytes | str, *paths: tuple[str, ...], secrets: Iterable[str | None] = ()
) -> str:
    """The server's own error message from a JSON or text body, shortened to one line.

    ``paths`` are key paths to try in a JSON body (``("error", "message")``...). The
    ``secrets`` (the request's key) are redacted before the cut: a key cut in half by it
    would no longer match, and its first characters would reach the user. An HTML page (a
    proxy's, a load balancer's) is reduced to its ``<title>``, or to nothing.
    """
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    secrets = tuple(secrets)
    try:
        data: Any = json.loads(text)
    except ValueError:
        title = _html_title(text)
        return _short(redact(text if title is None else title, *secrets))
    for path in (*paths, ("error", "message"), ("error",), ("message",), ("detail",)):
        node = data
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, str) and node.strip():
            return _short(redact(node, *secrets))
    return _short(redact(text, *secrets))


#: Tags that make markup an HTML page, and its title; looked for in its first 64 KiB.
_HTML_TAG = re.compile(r"<(?:html|head|body|title)\b", re.IGNORECASE)
_HTML_TITLE = re.compile(r"<title\b[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)


def _html_title(text: str) -> str | None:
    """The title of an HTML page ("" if it has none); None if ``text`` is not HTML."""
    head = text[: 64 * 1024]
    if not head.lstrip().startswith("<") or not _HTML_TAG.search(head):
        return None
    title = _HTML_TITLE.search(head)
    return unescape(title.group(1)) if title else ""


def json_object(name: str, raw: bytes | str, where: str) -> dict[str, Any]:
    """One JSON object from ``raw`` (a reply body or one stream event), or a one-line
    ProviderUnavailableError saying what was wrong with it and where (``where`` reads
    "the reply", "the response stream", "stream event"…)."""
    try:
        data = json.loads(raw)
    except UnicodeDecodeError as exc:
        raise ProviderUnavailableError(f"{name}: invalid UTF-8 in {where}", provider=name) from exc
    except json.JSONDecodeError as exc:
        raise ProviderUnavailableError(
            f"{name}: malformed JSON in {where} ({exc.msg} at char {exc.pos})", provider=name
        ) from exc
    if not isinstance(data, dict):
        raise ProviderUnavailableError(
            f"{name}: unexpected {type(data).__name__} in {where} (expected a JSON object)",
            provider=name,
        )
    return data


def error_for_status(
    name: str,
    status: int,
    detail: str,
    headers: Mapping[str, str] | None = None,
    codes: Iterable[str] = (),
) -> ProviderError:
    """The status → taxonomy mapping of DESIGN.md, refined by the one wording classifier.

    ``codes`` are the body's ``error.code``/``error.type`` strings (``codes_in``). An
    over-long prompt is ``context_too_long`` whatever the status, a proxy's 502 included.
    """
    headers = headers or {}
    msg = f"{name}: HTTP {status}" + (f": {detail}" if detail else "")
    retry_after = retry_after_seconds(headers)
    found = error_class(set(codes), detail, status)
    cls: type[ProviderError]
    if status >= 500 or status == 408:
        cls = ContextLengthError if found is ContextLengthError else ProviderUnavailableError
    elif status in (401, 403):
        cls = ProviderAuthError
    elif status == 429:
        cls = RateLimitError
    elif status == 413:
        cls = ContextLengthError
    else:
        cls = found or (ModelNotFoundError if status == 404 else BadRequestError)
    return make_error(cls, msg, provider=name, detail=detail, retry_after=retry_after)


def codes_in(body: bytes | str) -> set[str]:
    """The lower-cased ``code`` and ``type`` strings of a JSON error body, if any."""
    try:
        data = json.loads(body)
    except ValueError:
        return set()
    if isinstance(data, list) and data:  # Gemini's streamGenerateContent without alt=sse
        data = data[0]
    return codes_of(data.get("error", data) if isinstance(data, dict) else None)


def _short(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= MAX_DETAIL else line[: MAX_DETAIL - 1] + "…"


@asynccontextmanager
async def translating(name: str, url: str) -> AsyncIterator[None]:
    """Turn any httpx exception raised inside the block into a taxonomy error."""
    try:
        yield
    except httpx.HTTPError as exc:
        raise transport_error(name, url, exc) from exc


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with every non-empty secret replaced, as a last line of defence."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return text


async def drain(
    rest: AsyncIterator[object],
    response: httpx.Response,
    *,
    max_bytes: int = DRAIN_MAX_BYTES,
    timeout: float = DRAIN_TIMEOUT,
) -> bool:
    """Read what is left of a finished stream, so its connection can serve the next request.

    httpx returns a connection to the pool only when the body was read to its end; an
    adapter that stops at the protocol's final event would otherwise cost the next answer a
    new TCP and TLS handshake. ``rest`` is the adapter's own, partly consumed iterator over
    ``response`` (a second iteration of a response is not allowed). The byte bound is
    checked after each item, the time bound throughout. Errors, a slow tail or a long one
    are swallowed: the caller then closes the response, and with it the connection.

    Returns:
        True if the body ended within the bounds.
    """
    start = response.num_bytes_downloaded
    try:
        async with asyncio.timeout(timeout):
            async for _ in rest:
                if response.num_bytes_downloaded - start > max_bytes:
                    return False
    except (TimeoutError, httpx.HTTPError, httpx.StreamError, ProviderError):
        return False  # cancellation is none of these: it still propagates
    return True
