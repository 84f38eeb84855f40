"""The one redaction boundary: every configured secret is scrubbed from text that leaves
the process, wherever the text came from (a built-in adapter, a plugin, a traceback).

The ``Redactor`` is fed once, from the configuration's resolved secrets (each provider's
key from the environment, the key store or the config file, credentials in its URLs) and
from the environment's secret-looking variables; it is applied where text leaves: the
stderr writer (``RedactingStream``, installed over ``sys.stderr``), ``--json`` output,
history rows, state files and crash reports. Call sites never redact one by one.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

if TYPE_CHECKING:
    from ollama_cli.settings import Config

MARK = "[redacted]"
#: Shorter values are not secrets worth a false positive ("1", "true", a port).
MIN_SECRET = 6
#: Environment variables whose values are secrets whatever the config says.
SECRET_NAME = re.compile(r"(API_?KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL)", re.IGNORECASE)
#: Query parameters that carry credentials (``?key=…`` for Gemini, ``?token=…``…).
SECRET_PARAM = re.compile(
    r"^(key|api[_-]?key|token|access[_-]?token|auth|sig|signature|password)$", re.IGNORECASE
)


class Redactor:
    """Replaces every known secret in a text with ``[redacted]``, longest first."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(*secrets)

    def add(self, *secrets: str | None) -> None:
        """Learn more secrets (the value as given and with its whitespace stripped)."""
        for secret in secrets:
            for value in (secret, secret.strip() if secret else None):
                if value and len(value) >= MIN_SECRET and value not in self._secrets:
                    self._secrets.add(value)
                    self._pattern = None

    def __call__(self, text: str) -> str:
        if not self._secrets or not text:
            return text
        if self._pattern is None:
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(map(re.escape, ordered)))
        return self._pattern.sub(MARK, text)

    def held_back(self, text: str) -> int:
        """How many characters at the end of ``text`` could be the start of a secret
        (a writer keeps them until the next write shows whether they are)."""
        longest = 0
        for secret in self._secrets:
            for n in range(min(len(secret) - 1, len(text)), longest, -1):
                if text.endswith(secret[:n]):
                    longest = n
                    break
        return longest

    def data(self, value: Any) -> Any:
        """``value`` (JSON-like data) with every string redacted."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, dict):
            return {k: self.data(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.data(v) for v in value]
        return value


def config_secrets(config: Config, environ: Mapping[str, str]) -> list[str]:
    """Every secret the configuration knows: each provider's key wherever it comes from
    (``resolve_key`` is the one place that decides), the literal ``api_key``, the values
    of its key variables, and the credentials in its URL-valued settings."""
    found: list[str] = []
    for provider in config.providers.values():
        found += [provider.api_key or "", provider.resolve_key(environ) or ""]
        found += [environ.get(var, "") for var in provider.key_envs]
        urls = [provider.base_url, *(v for v in provider.options.values() if isinstance(v, str))]
        for url in urls:
            found += url_secrets(url)
    return [s for s in found if s]


def environ_secrets(environ: Mapping[str, str]) -> list[str]:
    """Values of variables named like secrets (``*_API_KEY``, ``*_TOKEN``…), and the
    credentials in proxy URLs."""
    found = [v for k, v in environ.items() if SECRET_NAME.search(k)]
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "OLLAMA_HOST"):
        for var in (name, name.lower()):
            found += url_secrets(environ.get(var))
    return found


def url_secrets(url: str | None) -> list[str]:
    """The password (and user) and credential query values in ``url``."""
    if not url or "://" not in url:
        return []
    try:
        parts = urlsplit(url.strip().strip("\"'"))
        found = [parts.password or "", parts.username or ""] if parts.password else []
    except ValueError:
        return []
    found += [v for k, v in parse_qsl(parts.query) if SECRET_PARAM.match(k)]
    return [s for s in found if s]


def safe_url(url: str | None) -> str | None:
    """``url`` fit to print: user and password become ``***``, credential query values
    ``[redacted]`` (``https://u:p@host/v1?key=k`` → ``https://***@host/v1?key=[redacted]``)."""
    if not url or "://" not in url:
        return url
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.username or parts.password:
            netloc = "***@" + netloc.rpartition("@")[2]
        query = "&".join(
            f"{k}={MARK}" if SECRET_PARAM.match(k) else f"{k}={v}"
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        )
        return urlunsplit(parts._replace(netloc=netloc, query=query))
    except ValueError:
        return "[unparsable URL]"


class RedactingStream(io.TextIOBase):
    """A text stream that redacts everything written before passing it on.

    A secret split across two writes is caught: the end of a write that could begin a
    secret is held back until the next write or ``flush``. Everything else (``isatty``,
    ``fileno``, ``encoding``…) is the wrapped stream's.
    """

    def __init__(self, stream: Any, redactor: Redactor) -> None:
        super().__init__()
        self._stream = stream
        self._redactor = redactor
        self._pending = ""

    @property
    def wrapped(self) -> Any:
        return self._stream

    def write(self, text: str) -> int:
        data = self._pending + text
        keep = self._redactor.held_back(data)
        self._pending = data[len(data) - keep :] if keep else ""
        out = self._redactor(data[: len(data) - keep])
        if out:
            self._stream.write(out)
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._stream.write(self._redactor(self._pending))
            self._pending = ""
        self._stream.flush()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self._stream, "encoding", None) or "utf-8")

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self._stream, "errors", None)

    def isatty(self) -> bool:
        return bool(self._stream.isatty())

    def fileno(self) -> int:
        return int(self._stream.fileno())

    def close(self) -> None:
        """Flush only: the wrapped stream belongs to whoever installed this one (and this
        object's ``__del__`` calls ``close``)."""
        with contextlib.suppress(OSError, ValueError):
            self.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
