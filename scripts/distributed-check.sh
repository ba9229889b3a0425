#!/usr/bin/env bash
# A real distributed deployment on this machine (docs/distributed-check.md): PostgreSQL, Redis,
# Airflow 3.3.2 with CeleryExecutor and two Celery workers, scheduler, dag-processor, triggerer and
# api-server, plus the dialer sandbox, all on localhost. It triggers the example DAGs through the
# REST API, SIGKILLs the worker running an ECM upload mid-way (into an idle campaign, then into one
# that keeps dialling) and checks the retry on the other worker, and shows a deferrable sensor in
# the triggerer. One summary line per check; exits non-zero on any failure. Not part of .ci/run.
#   ./scripts/distributed-check.sh              everything (about 10 minutes on 2 cores)
#   ./scripts/distributed-check.sh --keep       keep the temporary directory (logs) afterwards
# Installs the Debian packages postgresql and redis-server when they are missing (apt-get).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# -- Debian packages: PostgreSQL (initdb, pg_ctl, postgres) and redis-server ----------------------
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
if [ -z "$(pg_bin)" ] || ! command -v redis-server >/dev/null; then
  echo "== installing the Debian packages postgresql and redis-server (apt-get)"
  sudo_=""; [ "$(id -u)" -eq 0 ] || sudo_="sudo"
  $sudo_ apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq --no-install-recommends postgresql redis-server >/dev/null
  # Debian starts a system cluster and a system redis on install: this check runs its own.
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    $sudo_ systemctl stop redis-server postgresql 2>/dev/null || true
  fi
fi

# -- the deployment's own venv (.distributed/venv), rebuilt when this script changes -----------------
# uv (from PyPI, in .distributed/uv) builds it in seconds; the project's .venv is left alone.
python="${PYTHON:-python3}"
tools="$root/.distributed/uv"
[ -x "$tools/bin/uv" ] || { "$python" -m venv "$tools" && "$tools/bin/pip" install --quiet "uv>=0.5"; }
venv="$root/.distributed/venv"
stamp="$venv/.stamp-$( { cat "$root/pyproject.toml" "$root/scripts/distributed-check.sh"; "$python" -V; } | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "== creating $venv: Airflow 3.3.2 with CeleryExecutor and PostgreSQL support (first run only)"
  rm -rf "$venv"
  UV_PYTHON_DOWNLOADS=never "$tools/bin/uv" venv --quiet --python "$(command -v "$python")" "$venv"
  # [celery]: apache-airflow-providers-celery; [postgres]: psycopg2 and asyncpg (Airflow's async
  # metadata engine). celery<5.7: celery 5.7 removed celery.backends.database.retry, which
  # apache-airflow-providers-celery 3.26 imports at start.
  UV_NO_PROGRESS=1 "$tools/bin/uv" pip install --quiet --python "$venv/bin/python" \
    "apache-airflow[celery,postgres]==3.3.2" "celery<5.7" "redis" -e "$root[sandbox]"
  touch "$stamp"
fi

PG_BIN="$(pg_bin)" exec "$venv/bin/python" "$root/scripts/distributed_check.py" "$@"
