"""Where ollama-cli keeps its files: config, data (history) and state (cooldowns).

``OLLAMA_CLI_HOME`` relocates all of them (tests use it); otherwise the platform's user
dirs. Nothing here touches the disk: directories are created by whoever writes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class AppPaths:
    config_dir: Path
    data_dir: Path
    state_dir: Path

    @property
    def default_config(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def history_db(self) -> Path:
        return self.data_dir / "history.sqlite3"

    @property
    def input_history(self) -> Path:
        return self.data_dir / "repl_history"

    @property
    def cooldowns(self) -> Path:
        return self.state_dir / "cooldowns.json"

    @property
    def catalogs(self) -> Path:
        return self.state_dir / "catalogs"


def app_paths(environ: Mapping[str, str] | None = None) -> AppPaths:
    env = os.environ if environ is None else environ
    home = env.get("OLLAMA_CLI_HOME")
    if home:
        root = Path(home).expanduser()
        return AppPaths(root, root, root / "state")
    import platformdirs

    return AppPaths(
        Path(platformdirs.user_config_dir("ollama-cli")),
        Path(platformdirs.user_data_dir("ollama-cli")),
        Path(platformdirs.user_state_dir("ollama-cli")),
    )
