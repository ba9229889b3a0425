"""The demo: start the sandbox, point the connections at it, run every example DAG with `airflow dags test`.

Run through ``scripts/demo.sh`` (which bootstraps the virtualenv first). Prints a short summary per
DAG run (the lines its tasks mark with ``DEMO-SUMMARY``, and how long each deferred sensor waited in
the triggerer); the full output of each run is kept under ``.airflow-demo/logs/``. The sandbox runs
as a child process and is stopped whatever happens; the exit code is non-zero if any run failed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from airflow_provider_dialers.sandbox import Sandbox
from airflow_provider_dialers.sandbox.core import SandboxConfig

ROOT = Path(__file__).resolve().parent.parent
AIRFLOW_HOME = ROOT / ".airflow-demo"
DAGS_FOLDER = ROOT / "example_dags"
MARKER = "DEMO-SUMMARY "
#: Contacts the sandbox's simulated dialers settle per second, per vendor.
DIAL_RATE = 200.0
#: No single DAG run may take longer than this (seconds); the demo as a whole takes a few minutes.
RUN_TIMEOUT = 600


@dataclass(frozen=True)
class DemoRun:
    """One ``airflow dags test`` of an example DAG, with its run configuration (the Params)."""

    dag_id: str
    conf: dict[str, Any] = field(default_factory=dict)
    label: str = ""

    @property
    def name(self) -> str:
        return f"{self.dag_id}-{self.label}" if self.label else self.dag_id


#: The runs, in an order that tells the story: check the dialers, load contacts, run a campaign,
#: follow a contact up, then stop everything in an emergency and end the stop. Example DAGs not
#: listed here are run afterwards with their default Params, so none is ever left out.
PLAN: tuple[DemoRun, ...] = (
    DemoRun("dialer_connections_check"),
    DemoRun("dialer_upload_contacts"),
    DemoRun("dialer_multi_vendor_fanout"),
    DemoRun("dialer_campaign_lifecycle"),
    DemoRun("dialer_contact_followup"),
    DemoRun("dialer_global_emergency", {"enabled": True}, "enable"),
    DemoRun("dialer_global_emergency", {"enabled": False}, "disable"),
)

_TIMESTAMP = r"^(?P<at>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z)"
_DEFERRED = re.compile(_TIMESTAMP + r".*Pausing task as DEFERRED\..*task_id=(?P<task>\S+)")
_TRIGGER_DONE = re.compile(_TIMESTAMP + r".*\[DAG TEST\] Trigger completed")


def example_dag_ids() -> list[str]:
    """DAG ids of the example DAGs (each file defines one DAG named like the file)."""
    return sorted(path.stem for path in DAGS_FOLDER.glob("dialer_*.py"))


def demo_runs() -> list[DemoRun]:
    """:data:`PLAN`, then every example DAG it does not name, with its default Params."""
    planned = {run.dag_id for run in PLAN}
    return [*PLAN, *(DemoRun(dag_id) for dag_id in example_dag_ids() if dag_id not in planned)]


def deferrals(output: str) -> Iterator[tuple[str, float]]:
    """(task id, seconds in the triggerer) for each sensor that deferred during a ``dags test``.

    ``airflow dags test`` runs the trigger inline once the task has left its worker process
    ("Pausing task as DEFERRED"), and logs when the trigger completes.
    """
    waiting: tuple[str, datetime] | None = None
    for line in output.splitlines():
        if match := _DEFERRED.match(line):
            waiting = (match["task"], _parse_time(match["at"]))
        elif waiting and (match := _TRIGGER_DONE.match(line)):
            yield waiting[0], (_parse_time(match["at"]) - waiting[1]).total_seconds()
            waiting = None


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def airflow(*args: str, env: dict[str, str], log_file: Path) -> tuple[int, str]:
    """Run an airflow CLI command, its output to ``log_file``; return its exit code and output."""
    command = [str(Path(sys.executable).parent / "airflow"), *args]
    with log_file.open("w") as log:
        try:
            result = subprocess.run(command, check=False, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    text=True, timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired as exc:
            output = exc.stdout if isinstance(exc.stdout, str) else (exc.stdout or b"").decode(errors="replace")
            log.write(output)
            return 124, output
        log.write(result.stdout)
    return result.returncode, result.stdout


def print_summary(output: str) -> None:
    for line in output.splitlines():
        if line.startswith(MARKER):
            print("   " + line[len(MARKER):])
    for task_id, seconds in deferrals(output):
        print(f"   (deferred: {task_id} waited {seconds:.1f}s in the triggerer, holding no worker slot)")


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
    code, _ = airflow("db", "migrate", env=env, log_file=logs / "db-migrate.log")
    if code != 0:
        print(f"   failed; see {logs / 'db-migrate.log'}")
        return 1

    # The ECM sandbox compares a contact's dialTime with its own local clock, and the connections
    # say the server's time zone is UTC (their default): run the sandbox on UTC so they agree.
    os.environ["TZ"] = "UTC"
    failures = []
    started_demo = time.monotonic()
    # The sandbox runs as its own process, as a real dialer would; it dials at an accelerated rate.
    with Sandbox(config=SandboxConfig(dial_rate=DIAL_RATE), in_process=False) as sandbox:
        print(f"== sandbox serving the four dialer APIs on {sandbox.url} (dialing {DIAL_RATE:.0f} contacts/s)")
        env.update(sandbox.connection_env())
        for run in demo_runs():
            started = time.monotonic()
            conf = f" --conf '{json.dumps(run.conf)}'" if run.conf else ""
            print(f"== airflow dags test {run.dag_id}{conf}")
            args = ["dags", "test", run.dag_id] + (["--conf", json.dumps(run.conf)] if run.conf else [])
            log_file = logs / f"{run.name}.log"
            code, output = airflow(*args, env=env, log_file=log_file)
            print_summary(output)
            outcome = "success" if code == 0 else f"FAILED (exit {code}); see {log_file}"
            print(f"   -> {outcome} in {time.monotonic() - started:.1f}s")
            if code != 0:
                failures.append(run.name)
    print(f"== sandbox stopped (demo took {time.monotonic() - started_demo:.0f}s)")
    if failures:
        print(f"Demo failed: {', '.join(failures)}")
        return 1
    print("Demo finished: every example DAG succeeded against the sandbox.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
