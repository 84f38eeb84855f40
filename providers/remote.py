"""``RemoteProvider``: what every httpx adapter shares, written once.

A lazy client (made on first use, so building a provider costs nothing), the missing-key
check before any connection, the boundary where httpx exceptions become taxonomy errors
and the key is scrubbed from every message, ``close``, and a health check that is the
model listing. Adapters supply their base URL, their auth headers and the wire format.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import httpx

from providers.base import BaseProvider, ProviderSettings
from providers.errors import ProviderAuthError, ProviderError, ProviderUnavailableError
from providers.http import make_client, redact, translating
from providers.types import Health


class RemoteProvider(BaseProvider):
    """Base of the adapters that speak HTTP; subclasses set ``auth_headers``."""

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        self._client: httpx.AsyncClient | None = None

    @property
    def environ(self) -> Mapping[str, str]:
        """The environment the app was given (never ``os.environ`` behind its back)."""
        return self.settings.environ

    def base_url(self) -> str:
        """Where the API lives (no trailing slash); raises if none is configured."""
        base = self.settings.base_url or self.default_base_url
        if not base:
            raise ProviderUnavailableError(
                f"{self.name}: no base_url configured", provider=self.name
            )
        return base.rstrip("/")

    def auth_headers(self, key: str | None) -> dict[str, str]:
        """The headers that carry ``key`` (None: no key) and any fixed ones the API wants."""
        return {"Authorization": f"Bearer {key}"} if key else {}

    def key_is_required(self) -> bool:
        return self.key_required

    def check_key(self) -> None:
        """Refuse before any connection when a required key is missing or unusable."""
        key = self.settings.api_key
        env = self.settings.api_key_env or (self.key_envs[0] if self.key_envs else "")
        if not key:
            if not self.key_is_required():
                return
            why = f"{env} is not set" if env else "no API key configured"
            raise ProviderAuthError(f"{self.name}: {why}", provider=self.name)
        if not (key.isascii() and key.isprintable()):
            # httpx would fail on the header with an error outside the taxonomy.
            where = env or "the API key"
            raise ProviderAuthError(
                f"{self.name}: {where} holds characters no API key has", provider=self.name
            )

    def client(self) -> httpx.AsyncClient:
        """The shared client, made on first use, after the key check."""
        self.check_key()
        if self._client is None:
            headers = self.auth_headers(self.settings.api_key)
            self._client = make_client(self.settings, self.base_url(), headers)
        return self._client

    @asynccontextmanager
    async def boundary(self, path: str = "") -> AsyncIterator[None]:
        """Translate httpx errors and scrub the key from every message, in one place.

        A server may echo request headers in its error text; the key never goes further.
        """
        try:
            async with translating(self.name, self.base_url() + path):
                yield
        except ProviderError as exc:
            exc.message = redact(exc.message, self.settings.api_key)
            exc.args = (exc.message,)
            raise

    async def health_check(self) -> Health:
        return Health(models=len(await self.list_models()), detail=self.health_detail())

    def health_detail(self) -> str:
        return ""

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()
