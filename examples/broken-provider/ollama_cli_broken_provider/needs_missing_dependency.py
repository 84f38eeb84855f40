"""A provider module whose import fails: it needs a package nobody installed."""

from __future__ import annotations

import ollama_cli_no_such_dependency  # type: ignore[import-not-found]  # noqa: F401
