# The few commands everyone runs. Each installs what it needs first (scripts/install.sh).
.PHONY: run test test-fast lint format bench

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh

test-fast:  ## skip real inference and the llama.cpp server
	.venv/bin/python -m pytest -q -m "not local_model and not llama_server"

lint:
	bash scripts/lint.sh

format:
	.venv/bin/ruff format . && .venv/bin/ruff check --fix .

bench:
	bash scripts/install.sh dev && bash bench/run_all.sh
