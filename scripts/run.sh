#!/usr/bin/env bash
# Install (if needed) and start the chat REPL. With no provider configured or reachable,
# answers come from the embedded local model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/ollama-cli chat "$@"
