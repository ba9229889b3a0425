"""The demo: start the sandbox, point the connections at it, run every example DAG with `airflow dags test`.

Run through ``scripts/demo.sh`` (which bootstraps the virtualenv first). Prints a short summary per
DAG (the lines its tasks mark with ``DEMO-SUMMARY``); the full output of each run is kept under
``.airflow-demo/logs/``. The sandbox is stopped whatever happens.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from airflow_provider_dialers.sandbox import Sandbox
from airflow_provider_dialers.sandbox.core import SandboxConfig

ROOT = Path(__file__).resolve().parent.parent
AIRFLOW_HOME = ROOT / ".airflow-demo"
DAGS_FOLDER = ROOT / "example_dags"
MARKER = "DEMO-SUMMARY "


def airflow(*args: str, env: dict[str, str], log_file: Path) -> int:
    """Run an airflow CLI command, its output to ``log_file``; print its summary lines; return its code."""
    command = [str(Path(sys.executable).parent / "airflow"), *args]
    with log_file.open("w") as log:
        result = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        log.write(result.stdout)
    for line in result.stdout.splitlines():
        if line.startswith(MARKER):
            print("   " + line[len(MARKER):])
    return result.returncode


def example_dag_ids() -> list[str]:
    """DAG ids of the example DAGs, in file order (each file defines one DAG named like the file)."""
    return sorted(path.stem for path in DAGS_FOLDER.glob("dialer_*.py"))


def main() -> int:
    logs = AIRFLOW_HOME / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(AIRFLOW_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    print("== airflow db migrate (SQLite, embedded default)")
    if airflow("db", "migrate", env=env, log_file=logs / "db-migrate.log") != 0:
        print(f"   failed; see {logs / 'db-migrate.log'}")
        return 1

    failures = []
    # The sandbox runs as its own process, as a real dialer would; it dials at an accelerated rate.
    with Sandbox(config=SandboxConfig(dial_rate=200.0), in_process=False) as sandbox:
        print(f"== sandbox serving the four dialer APIs on {sandbox.url}")
        env.update(sandbox.connection_env())
        for dag_id in example_dag_ids():
            started = time.monotonic()
            print(f"== airflow dags test {dag_id}")
            code = airflow("dags", "test", dag_id, env=env, log_file=logs / f"{dag_id}.log")
            outcome = "success" if code == 0 else f"FAILED (exit {code}); see {logs / (dag_id + '.log')}"
            print(f"   -> {outcome} in {time.monotonic() - started:.1f}s")
            if code != 0:
                failures.append(dag_id)
    print("== sandbox stopped")
    if failures:
        print(f"Demo failed: {', '.join(failures)}")
        return 1
    print("Demo finished: every example DAG succeeded against the sandbox.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
