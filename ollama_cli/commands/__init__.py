"""One module per subcommand. Each exposes ``add_parser(subparsers, parent)`` (cheap: no
heavy imports at module level) and sets ``run(app) -> int`` as the parser default.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, TypeAlias

COMMANDS = ("chat", "complete", "providers", "models", "history", "config", "completion")

if TYPE_CHECKING:
    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]
