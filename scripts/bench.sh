#!/usr/bin/env bash
# The benchmarks: bootstraps .venv, then runs P1-P7 against a sandbox process and writes
# bench/RESULTS.md. Takes about 20 minutes on 2 cores; arguments go to `python -m bench.run` (--help).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/bootstrap.sh"
cd "$root"
export AIRFLOW_HOME="${AIRFLOW_HOME:-$root/.airflow-bench}"
exec "$root/.venv/bin/python" -m bench.run "$@"
