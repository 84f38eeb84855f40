"""Stored API keys (``ollama-cli keys set NAME``): the OS key store when there is one,
else a 0600 file in the config dir.

The file ``keys.json`` is also the index: it names every stored key and where its value
lives (``{"claude": {"store": "keyring"}}`` or ``{"claude": {"value": "…"}}``), so
``keys list`` and "has a key" checks never wake the OS key store for a provider without
one, and ``keyring`` (about 100 ms to import) is loaded only when a key is kept there.

Nothing here prints a value. Lookups go through ``ProviderConfig.resolve_key``, the one
place that decides which key a provider uses (environment, then stored, then config).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The service name under which keys are kept in the OS key store.
SERVICE = "ollama-cli"
KEYS_FILE = "keys.json"


class KeyStoreError(Exception):
    """The key file or the OS key store could not be read or written (one line)."""


@dataclass(frozen=True)
class StoredKey:
    value: str
    where: str  # "keyring" or "file"


class KeyStore:
    """The stored keys of one config dir."""

    def __init__(self, config_dir: Path) -> None:
        self.path = config_dir / KEYS_FILE

    @classmethod
    def of(cls, environ: Mapping[str, str]) -> KeyStore:
        from ollama_cli.paths import app_paths

        return cls(app_paths(environ).config_dir)

    def names(self) -> dict[str, str]:
        """Each stored key's name and where its value lives ("keyring" or "file")."""
        return {
            name: "keyring" if entry.get("store") == "keyring" else "file"
            for name, entry in self._read().items()
        }

    def get(self, name: str) -> StoredKey | None:
        entry = self._read().get(name)
        if entry is None:
            return None
        if entry.get("store") == "keyring":
            value = _keyring_get(name)
            return StoredKey(value, "keyring") if value else None
        value = entry.get("value")
        return StoredKey(value, "file") if isinstance(value, str) and value else None

    def set(self, name: str, value: str) -> str:
        """Store ``value`` under ``name``; returns where it went ("keyring" or "file")."""
        entries = self._read()
        if _keyring_usable():
            try:
                _keyring().set_password(SERVICE, name, value)
            except Exception as exc:  # noqa: BLE001 - a locked or broken key store: say so
                raise KeyStoreError(f"the OS key store refused the key ({exc})") from None
            entries[name] = {"store": "keyring"}
        else:
            entries[name] = {"value": value}
        self._write(entries)
        return "keyring" if "store" in entries[name] else "file"

    def remove(self, name: str) -> bool:
        """Forget the key ``name``; False when there was none."""
        entries = self._read()
        entry = entries.pop(name, None)
        if entry is None:
            return False
        if entry.get("store") == "keyring":
            with contextlib.suppress(Exception):  # already gone from the key store
                _keyring().delete_password(SERVICE, name)
        self._write(entries)
        return True

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise KeyStoreError(f"cannot read stored keys in {self.path} ({exc})") from None
        if not isinstance(data, dict):
            raise KeyStoreError(f"{self.path} is not a key file (expected a JSON object)")
        return {k: v for k, v in data.items() if isinstance(v, dict)}

    def _write(self, entries: dict[str, dict[str, Any]]) -> None:
        """Replace the file atomically; it is created 0600, never readable by others."""
        tmp = self.path.with_name(f".{KEYS_FILE}.{os.getpid()}")
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(entries, f, indent=2)
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise KeyStoreError(f"cannot write {self.path} ({exc.strerror or exc})") from None


def _keyring() -> Any:
    import keyring

    return keyring


def _keyring_usable() -> bool:
    """True when keyring found a real backend (not its "fail" or "null" placeholders)."""
    try:
        backend = _keyring().get_keyring()
    except Exception:  # noqa: BLE001 - not installed, or a backend broken while loading
        return False
    priority = getattr(backend, "priority", 0)
    return bool(priority > 0) and type(backend).__module__.split(".")[-1] not in ("fail", "null")


def _keyring_get(name: str) -> str | None:
    try:
        value = _keyring().get_password(SERVICE, name)
    except Exception:  # noqa: BLE001 - a locked key store reads as "no key", not a crash
        return None
    return value if isinstance(value, str) else None
