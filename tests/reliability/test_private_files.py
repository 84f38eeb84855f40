"""Private files: whatever the umask, what ollama-cli writes is 0600 in 0700 folders."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.faults import canary_env, toml_config
from tests.wire.ollama import OllamaWire


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_history_wal_shm_state_and_journal_are_private_under_umask_000(cli_home: Path) -> None:
    cli_home.chmod(0o755)
    with OllamaWire(accept_any_model=True) as wire, OllamaWire() as failing:
        failing.fail(503, "down").fail(503, "down")
        wire.answer([f"w{i} " for i in range(30)], pause=0.1)
        tables: dict[str, dict[str, Any]] = {
            "broken": {"type": "ollama", "host": failing.url, "default_model": "m"},
            "ollama": {"host": wire.url},
        }
        (cli_home / "config.toml").write_text(
            toml_config(["broken", "ollama"], tables, retries=0, cooldown_failures=1)
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "ollama_cli", "complete", "hi"],
            env=canary_env(cli_home),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=lambda: os.umask(0),
        )
        seen: dict[str, int] = {}
        deadline = time.monotonic() + 20
        while proc.poll() is None and time.monotonic() < deadline:
            for name in ("history.sqlite3-wal", "history.sqlite3-shm"):
                path = cli_home / name
                if path.exists():
                    seen[name] = mode(path)
            time.sleep(0.02)
        proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert seen == {"history.sqlite3-wal": 0o600, "history.sqlite3-shm": 0o600}
    assert mode(cli_home / "history.sqlite3") == 0o600
    assert mode(cli_home) == 0o700  # the data dir (OLLAMA_CLI_HOME here)
    assert mode(cli_home / "state") == 0o700
    for name in ("cooldowns.json", "cooldowns.lock"):
        assert mode(cli_home / "state" / name) == 0o600, name
