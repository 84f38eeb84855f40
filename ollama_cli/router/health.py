"""Concurrent health checks for ``providers list``: wall time ≈ the slowest check."""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

from providers.errors import ProviderAuthError, ProviderError, ProviderUnavailableError

if TYPE_CHECKING:
    from ollama_cli.router.router import ProviderRouter

STATUSES = ("ok", "no_key", "unreachable", "auth_failed", "disabled", "error")


@dataclass(frozen=True)
class HealthReport:
    name: str
    type: str
    status: str
    default_model: str
    latency_ms: int | None = None
    models: int | None = None
    key_env: str | None = None
    detail: str = ""
    #: The default model's lifecycle and retirement date, from the cached catalog.
    lifecycle: str | None = None
    retires_at: str | None = None
    #: Seconds of cooldown it had left when checked (None: it was not cooling down). A
    #: cooling provider is checked all the same; passing the check ends its cooldown.
    cooling_s: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


async def check_all(router: ProviderRouter, names: list[str], timeout: float) -> list[HealthReport]:
    return list(await asyncio.gather(*(checked(router, n, timeout) for n in names)))


async def checked(router: ProviderRouter, name: str, timeout: float) -> HealthReport:
    """``check_one``, and what it means for a cooldown: a pass clears it (the fix is in),
    a failure says how long it still has."""
    cooling = router.cooldowns.remaining(name, router.fingerprint(name))
    report = await check_one(router, name, timeout)
    if cooling <= 0 or report.status in ("disabled", "no_key"):
        return report
    if report.status == "ok":
        router.cooldowns.record_success(name)
        note = "was cooling down; cleared"
    else:
        note = f"cooling down {cooling:.0f} s more (-p {name} tries it now)"
    detail = f"{report.detail}; {note}" if report.detail else note
    return replace(report, detail=detail, cooling_s=round(cooling))


async def check_one(router: ProviderRouter, name: str, timeout: float) -> HealthReport:
    cfg = router.provider_config(name)

    def report(
        status: str, detail: str = "", latency: int | None = None, models: int | None = None
    ) -> HealthReport:
        listed = router.catalog.default_entry(name, cfg.default_model)
        return HealthReport(
            name,
            cfg.type,
            status,
            cfg.default_model,
            latency,
            models,
            cfg.key_env,
            detail,
            listed.lifecycle if listed else None,
            listed.retires_at if listed else None,
        )

    if not cfg.enabled:
        return report("disabled", "enabled = false in config")
    if cfg.key_required and cfg.resolve_key(router.environ) is None:
        return report("no_key", f"{cfg.key_env or 'an API key'} is not set")
    try:
        provider = router.provider(name)  # built first: latency is the check, not our start-up
    except ProviderError as exc:
        return report("error", _detail(exc, name))
    started = time.perf_counter()
    try:
        health = await asyncio.wait_for(provider.health_check(), timeout)
    except TimeoutError:
        return report("unreachable", f"no answer within {timeout:g} s", _ms(started))
    except ProviderAuthError as exc:
        return report("auth_failed", _detail(exc, name), _ms(started))
    except ProviderUnavailableError as exc:
        return report("unreachable", _detail(exc, name), _ms(started))
    except ProviderError as exc:
        return report("error", _detail(exc, name), _ms(started))
    except Exception as exc:  # noqa: BLE001 - a broken plugin shows as "error", not a crash
        return report("error", f"unexpected {type(exc).__name__}: {exc}", _ms(started))
    return report("ok", health.detail, _ms(started), health.models)


def _detail(exc: ProviderError, name: str) -> str:
    text = str(exc)
    return text[len(name) + 2 :] if text.startswith(f"{name}: ") else text


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
