#!/usr/bin/env bash
# The README's test command: bootstraps .venv, then runs the whole test suite against the local sandbox.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/bootstrap.sh"
cd "$root"
export AIRFLOW_HOME="${AIRFLOW_HOME:-$root/.airflow-test}"
# Two workers, each with its own sandbox; a module's tests stay on one worker (its fixtures, its order).
exec "$root/.venv/bin/python" -m pytest -n 2 --dist loadscope "$@"
