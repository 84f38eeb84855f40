#!/usr/bin/env bash
# The conventions, checked: lint, formatting, types (code, tests and benchmarks; settings
# in pyproject.toml). scripts/test.sh (so .ci/run), `make lint` and the pre-commit hook
# all run this, so the three agree. Fix what it reports with `make format`.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
