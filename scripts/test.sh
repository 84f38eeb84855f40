#!/usr/bin/env bash
# Install everything (app, local model, test tools, SDK oracles), check the conventions
# (scripts/lint.sh: ruff, ruff format, mypy), then run all the tests, including the
# real-inference ones (deselect while iterating: -m "not local_model").
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh dev
bash scripts/lint.sh
exec .venv/bin/python -m pytest -q "$@"
