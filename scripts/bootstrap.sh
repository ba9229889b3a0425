#!/usr/bin/env bash
# Create .venv and install the package with its test extras, once per change of pyproject.toml.
# Sourced by scripts/test.sh and scripts/demo.sh; safe to run again (it is a no-op when up to date).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
python="${PYTHON:-python3}"

"$python" - <<'PY' || { echo "Python >= 3.10 is required" >&2; exit 1; }
import sys
sys.exit(0 if sys.version_info >= (3, 10) else 1)
PY

stamp="$venv/.installed-$(sha256sum "$root/pyproject.toml" "$root/scripts/bootstrap.sh" | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "== bootstrap: creating $venv and installing the package (first run only)"
  [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  # apache-airflow is pinned to the version the suite is tested on; pyproject declares it as the minimum.
  "$venv/bin/python" -m pip install --quiet "apache-airflow==3.3.2" -e "$root[test]"
  rm -f "$venv"/.installed-*
  touch "$stamp"
fi
