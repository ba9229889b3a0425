#!/usr/bin/env bash
# The README's main-job command: bootstraps .venv, starts the dialer sandbox, runs every example DAG
# with `airflow dags test` on the embedded SQLite default, prints a summary, stops the sandbox.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/bootstrap.sh"
exec "$root/.venv/bin/python" "$root/scripts/demo.py" "$@"
