#!/usr/bin/env bash
# Run every benchmark in turn, print every table, write bench/results/*.json.
# `make bench` calls this. About 3 minutes on a quiet 2-core machine; BENCH_SCALE=0.3
# gives a quick smoke run. Every server is on loopback: nothing leaves the machine.
set -euo pipefail
cd "$(dirname "$0")/.."

py=.venv/bin/python
# Measure what a user's installed copy does: bytecode cached (outside the working tree),
# output not forced unbuffered. This development environment sets both the other way.
unset PYTHONDONTWRITEBYTECODE PYTHONUNBUFFERED
export PYTHONPYCACHEPREFIX="${TMPDIR:-/tmp}/ollama-cli-bench-pycache"

read -r load1 _ < /proc/loadavg
echo "ollama-cli benchmarks: $(nproc) CPUs, load average $load1, $($py -V)"
if awk -v l="$load1" 'BEGIN { exit !(l > 0.7) }'; then
  echo "warning: the machine is busy (load $load1): wall times will read high; cpu columns hold up better" >&2
fi

failed=()
run() {
  local script=$1
  shift
  if [ ! -f "bench/$script" ]; then
    echo -e "\n== $script: not there yet, skipped"
    return
  fi
  local t0=$SECONDS
  if ! "$py" "bench/$script" "$@"; then
    failed+=("$script")
  fi
  echo "   ($script: $((SECONDS - t0)) s)"
}

run startup.py
run complete_e2e.py
run router_overhead.py
run failover.py
run faults.py
run providers_list.py
run connection_reuse.py
run history_list.py
run attach.py
run catalog_cache.py
run usage_report.py
run render_throughput.py
run repl_startup.py
run import_costs.py
run whatif.py
run summary.py

echo -e "\nall benchmarks: $SECONDS s; results in bench/results/"
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed: ${failed[*]}" >&2
  exit 1
fi
