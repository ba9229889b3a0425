#!/usr/bin/env bash
# The benchmarks (issue 6): bootstraps .venv, then runs P1-P5 against a sandbox process and writes
# bench/RESULTS.md. Takes about 5 minutes on 2 cores; arguments go to `python -m bench.run` (--help).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/bootstrap.sh"
cd "$root"
export AIRFLOW_HOME="${AIRFLOW_HOME:-$root/.airflow-bench}"
exec "$root/.venv/bin/python" -m bench.run "$@"
