#!/usr/bin/env bash
# Runs the provider under each supported Airflow version (docs/compatibility.md): for each version a
# cached venv in .compat/ (rebuilt when pyproject.toml or this script change), then, against the
# sandbox, the example-DAG tests, the crash-and-retry test (SIGKILL mid-upload, the retry resumes)
# and the compatibility tests. One line per version; exits non-zero when any version fails.
#   ./scripts/compat.sh                  every supported version
#   ./scripts/compat.sh 3.0.6 3.3.2      those versions only
# Extra pytest arguments: COMPAT_PYTEST_ARGS="-x -v" ./scripts/compat.sh 3.1.8
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

SUPPORTED=(3.0.6 3.1.8 3.2.2 3.3.2)
# The fallbacks' own tests and the suite's parts that found a difference between versions, then the
# example DAGs and the crash-and-retry test (SIGKILL mid-upload) against the sandbox.
TESTS=(tests/test_compat.py tests/test_permanent_errors.py tests/test_connection_errors.py
       tests/test_uploads_sources.py tests/test_example_dags.py tests/test_reliability_crash.py)
# Airflow 3.0 marks a try whose task process was killed (SIGKILL, out of memory) failed without spending
# its retries: its supervisor reports "failed" (3.1 reports up_for_retry when retries remain). There is no
# retry for the checkpoint to serve, so the crash-and-retry test runs from 3.1 (docs/compatibility.md).
tests_for() {
  case "$1" in
    3.0.*) printf '%s\n' "${TESTS[@]}" | grep -v test_reliability_crash ;;
    *) printf '%s\n' "${TESTS[@]}" ;;
  esac
}
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=("${SUPPORTED[@]}")
for version in "${versions[@]}"; do
  [[ " ${SUPPORTED[*]} " == *" $version "* ]] || { echo "unsupported version $version (one of ${SUPPORTED[*]})" >&2; exit 2; }
done

# .venv (Airflow 3.3.2) brings uv, which builds the per-version venvs in seconds.
"$root/scripts/bootstrap.sh"
uv="$root/.venv/bin/uv"
python="$(readlink -f "$root/.venv/bin/python")"
export UV_PYTHON_DOWNLOADS=never UV_NO_PROGRESS=1

# Airflow's constraints files (what each release was tested with) are not reachable from here, so each
# venv resolves as of shortly after that release: uv's --exclude-newer takes the newest release of every
# dependency up to that date, as the constraints did. Resolving today's newest instead breaks the older
# Airflows (3.0.6 with FastAPI 0.165: every task start is refused; 3.2.2 with pydantic 2.14: no task
# runs). The dates are the releases' build dates plus about ten days (the release vote).
resolved_as_of() {
  case "$1" in
    3.0.6) echo 2025-09-05 ;;
    3.1.8) echo 2026-03-20 ;;
    3.2.2) echo 2026-06-05 ;;
    3.3.2) echo 2026-09-22 ;;
  esac
}

# The oldest Airflow runs with the oldest apache-airflow-providers-http pyproject.toml accepts, so that
# lower bound is tested too. The 3.0 API server renders a provider's connection-form fields only when
# WTForms is importable (3.1 stubs it): it comes with the FAB provider, which most 3.0 deployments have.
http_floor="$(grep -oE '"apache-airflow-providers-http>=[0-9.]+"' "$root/pyproject.toml" | grep -oE '[0-9][0-9.]*')"
requirements_for() {
  case "$1" in
    "${SUPPORTED[0]}") echo "apache-airflow-providers-http==$http_floor wtforms" ;;
    *) echo "apache-airflow-providers-http" ;;
  esac
}

stamp_of() {
  { cat "$root/pyproject.toml" "$root/scripts/compat.sh"; echo "$1 $python"; } | sha256sum | cut -c1-16
}

prepare() {  # prepare VERSION: the venv of that version, built once per stamp
  local version="$1" venv="$root/.compat/venv-$1" stamp
  stamp="$venv/.stamp-$(stamp_of "$version")"
  [ -f "$stamp" ] && return 0
  rm -rf "$venv"
  "$uv" venv --quiet --python "$python" "$venv"
  # shellcheck disable=SC2046
  "$uv" pip install --quiet --python "$venv/bin/python" --exclude-newer "$(resolved_as_of "$version")" \
    "apache-airflow==$version" $(requirements_for "$version") -e "$root[test]"
  touch "$stamp"
}

failed=0
summary=()
for version in "${versions[@]}"; do
  start=$(date +%s)
  log="$root/.compat/pytest-$version.log"
  mkdir -p "$root/.compat"
  if ! prepare "$version" >"$log" 2>&1; then
    summary+=("airflow $version: FAIL (venv: see $log) $(( $(date +%s) - start )) s")
    failed=1
    continue
  fi
  built=$(( $(date +%s) - start ))
  home="$root/.compat/home-$version"
  rm -rf "$home" && mkdir -p "$home"
  # shellcheck disable=SC2086,SC2046
  if AIRFLOW_HOME="$home" "$root/.compat/venv-$version/bin/python" -m pytest -q -p no:cacheprovider \
      ${COMPAT_PYTEST_ARGS:-} $(tests_for "$version") >>"$log" 2>&1; then
    result=PASS
  else
    result=FAIL
    failed=1
  fi
  counts=$(grep -E '^(=+ )?[0-9]+ (passed|failed|error)' "$log" | tail -1 | sed -E 's/^=+ //; s/ in [0-9.]+s.*//; s/ =+$//')
  summary+=("airflow $version: $result ${counts:-no tests ran} ($(( $(date +%s) - start )) s, venv ${built} s; log $log)")
  echo "${summary[-1]}"
done
echo "== compat summary"
printf '%s\n' "${summary[@]}"
exit "$failed"
