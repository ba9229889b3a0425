"""The demo: start the sandbox, point the connections at it, run every example DAG with `airflow dags test`.

Run through ``scripts/demo.sh`` (which bootstraps the virtualenv first). Prints a short summary per
DAG run, read from the run's XComs in the metadata DB (what its tasks return: the same summaries an
operator sees in the Airflow UI), and how long each deferred sensor waited in the triggerer (from
Airflow's own log lines). The full output of each run is kept under ``.airflow-demo/logs/``. The
sandbox runs as a child process and is stopped whatever happens; the exit code is non-zero if any
run failed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from airflow_provider_dialers.sandbox import Sandbox
from airflow_provider_dialers.sandbox.core import SandboxConfig

ROOT = Path(__file__).resolve().parent.parent
AIRFLOW_HOME = ROOT / ".airflow-demo"
DAGS_FOLDER = ROOT / "example_dags"
#: The metadata DB: SQLite, Airflow's embedded default, in AIRFLOW_HOME.
DB = AIRFLOW_HOME / "airflow.db"
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
#: follow a contact up, run a night's load to its callbacks, then stop everything in an emergency
#: and end the stop. Example DAGs not
#: listed here are run afterwards with their default Params, so none is ever left out.
PLAN: tuple[DemoRun, ...] = (
    DemoRun("dialer_connections_check"),
    DemoRun("dialer_upload_contacts"),
    DemoRun("dialer_multi_vendor_fanout"),
    DemoRun("dialer_campaign_lifecycle"),
    DemoRun("dialer_contact_followup"),
    DemoRun("dialer_nightly_load"),
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
    (Airflow logs "Pausing task as DEFERRED"), and logs when the trigger completes.
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


# -- what a run left in the metadata DB --------------------------------------------------------------


@dataclass(frozen=True)
class TaskResult:
    """One task instance of a run: its state, its label in the UI (a mapped task's rendered map
    index) and its return value (its ``return_value`` XCom; None when it pushed none)."""

    task_id: str
    map_index: int
    state: str | None
    label: str | None
    value: Any = None


@dataclass(frozen=True)
class RunResult:
    """A DAG run as the metadata DB has it after ``airflow dags test``: its state and its tasks."""

    dag_id: str
    run_id: str
    state: str | None
    tasks: tuple[TaskResult, ...]

    def value(self, task_id: str, map_index: int = -1) -> Any:
        """A task's return value (None when it returned nothing, failed, or was skipped)."""
        return next((t.value for t in self.tasks if t.task_id == task_id and t.map_index == map_index), None)

    def mapped(self, task_id: str) -> list[TaskResult]:
        """A (mapped) task's instances, in map index order."""
        return sorted((t for t in self.tasks if t.task_id == task_id), key=lambda t: t.map_index)

    def failed(self) -> list[TaskResult]:
        """The tasks that failed (not those that did not run because an upstream task failed)."""
        return [t for t in self.tasks if t.state == "failed"]


def last_run_key(db_path: Path | str) -> int:
    """The key of the newest DAG run (any DAG) in the SQLite metadata DB at ``db_path``; 0 if none.
    Taken before a run, it tells :func:`read_run` to accept only a run made after it."""
    from airflow.models.dagrun import DagRun
    from sqlalchemy import func, select

    with _session(db_path) as session:
        return session.scalar(select(func.max(DagRun.id))) or 0


def read_run(db_path: Path | str, dag_id: str, *, after: int = 0) -> RunResult | None:
    """The latest run of ``dag_id`` in the SQLite metadata DB at ``db_path`` (made after the run whose
    key is ``after``), with every task's state and return value, read with Airflow's own models; None
    if there is no such run.
    """
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XCOM_RETURN_KEY, XComModel
    from sqlalchemy import select

    with _session(db_path) as session:
        run = session.execute(
            select(DagRun.id, DagRun.run_id, DagRun.state)
            .where(DagRun.dag_id == dag_id, DagRun.id > after).order_by(DagRun.id.desc()).limit(1)
        ).first()
        if run is None:
            return None
        values = {
            (row.task_id, row.map_index): XComModel.deserialize_value(row)
            for row in session.execute(
                select(XComModel.task_id, XComModel.map_index, XComModel.value)
                .where(XComModel.dag_run_id == run.id, XComModel.key == XCOM_RETURN_KEY))
        }
        tasks = tuple(
            TaskResult(row.task_id, row.map_index, row.state, row.label,
                       values.get((row.task_id, row.map_index)))
            for row in session.execute(
                select(TaskInstance.task_id, TaskInstance.map_index, TaskInstance.state,
                       TaskInstance.rendered_map_index.label("label"))
                .where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run.run_id)
                .order_by(TaskInstance.task_id, TaskInstance.map_index))
        )
    return RunResult(dag_id, run.run_id, run.state, tasks)


@contextmanager
def _session(db_path: Path | str) -> Iterator[Any]:
    """A session on the SQLite metadata DB at ``db_path``: its own engine, so it reads that DB whatever
    metadata DB this process's Airflow is configured for."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    engine = create_engine(f"sqlite:///{db_path}")
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


# -- the summary of each example DAG's run, from its tasks' return values ---------------------------------


def _name(task: TaskResult) -> str:
    """A task as the UI names it: its id, and for a mapped task its label, e.g. ``upload[ameyo_default]``."""
    return f"{task.task_id}[{task.label}]" if task.label else task.task_id


def _rejects(first_rejects: list[dict]) -> list[str]:
    return [f"    rejected row {r['row']}: {r['field']}: {r['reason']}" for r in first_rejects]


def _counts(result: dict) -> str:
    return (f"{result['total']} rows: {result['accepted']} accepted, {result['rejected']} rejected, "
            f"{result['duplicates']} duplicates, skipped {result['skipped_dnc']} (DNC) "
            f"+ {result['skipped_window']} (calling window)")


def _connections_check(run: RunResult) -> list[str]:
    lines = []
    for check in run.mapped("check_and_list"):
        if check.value is None:
            lines.append(f"{check.label}: {check.state}")
            continue
        lines.append(f"{check.value['conn_id']}: {check.value['message']}")
        lines += [f"    {c['id']!s:<34} {c['name']!s:<28} {c['status']}" for c in check.value["campaigns"]]
    return lines


def _upload_contacts(run: RunResult) -> list[str]:
    report = run.value("report")
    if report is None:
        return []
    lines = [f"upload to {report['conn_id']} campaign {report['campaign_id']}: {_counts(report)}"]
    lines += _rejects(report["first_rejects"])
    if report["rejects_path"]:
        lines.append(f"    (every rejected row and its reason: {report['rejects_path']})")
    return lines


def _fanout(run: RunResult) -> list[str]:
    report = run.value("report")
    if report is None:  # the report fails the run when an upload failed: show the uploads instead
        return [f"{upload.label}: {_counts(upload.value) if upload.value else upload.state}"
                for upload in run.mapped("upload_contacts")]
    return [f"{conn_id} (campaign {result['campaign_id']}): "
            + (f"{result['state']} ({result['reason']})" if "state" in result else _counts(result))
            for conn_id, result in report.items()]


def _lifecycle(run: RunResult) -> list[str]:
    report = run.value("report")
    if report is None:
        return []
    contacts, callbacks = report["contacts"], report["callbacks"]
    return [
        f"campaign {report['campaign_name']!r}: id {report['campaign_id']} "
        f"({'created' if report['created'] else 'reused'})",
        f"contacts: {_counts(contacts)}" + (f" (rejects file {contacts['rejects_path']})"
                                            if contacts["rejects_path"] else ""),
        *_rejects(contacts["first_rejects"]),
        f"callbacks: {callbacks['accepted']} scheduled, {callbacks['rejected']} rejected, "
        f"{callbacks['duplicates']} duplicates",
        f"complete: {report['complete']}, {report['total']} contacts, {report['pending']} in flight",
        f"outcomes: {report['outcomes']}",
    ]


def _followup(run: RunResult) -> list[str]:
    result = run.value("contact_reached") or run.value("report_callback")
    if result is None:
        return []
    lines = [f"contact {result['contact']} on {result['conn_id']} campaign {result['campaign_id']}: "
             f"{result['state']} after {result['attempts']} attempts"]
    if (callback := result["follow_up"]) is None:
        lines.append("reached: no follow-up needed")
    else:
        lines.append(f"called back on {callback['conn_id']} campaign {callback['campaign_id']}: "
                     f"{callback['accepted']} scheduled, {callback['duplicates']} already scheduled, "
                     f"{callback['rejected']} rejected")
        lines += _rejects(callback["first_rejects"])
    return lines


def _nightly_load(run: RunResult) -> list[str]:
    report = run.value("report")
    if report is None:
        return []
    load, export, decisions, callbacks = report["load"], report["export"], report["decisions"], report["callbacks"]
    return [
        f"load into {report['conn_id']} campaign {report['campaign_id']}: {_counts(load)}",
        *_rejects(load["first_rejects"]),
        f"outcomes: {report['outcomes']}",
        f"exported {export['rows']} contacts to {export['path']}: {export['by_state']}",
        (f"reached {decisions['reached']}, never to call {decisions['never']}, still dialling "
         f"{decisions['pending']}, not in tonight's file {decisions['not_in_file']}, to call back "
         f"{decisions['call_back']}"),
        f"callbacks on {callbacks['conn_id']} campaign {callbacks['campaign_id']}: {_counts(callbacks)}",
        *_rejects(callbacks["first_rejects"]),
    ]


def _emergency(run: RunResult) -> list[str]:
    report = run.value("report")
    if report is None:  # the report fails the run when a switch failed: show the switches instead
        return [f"{switch.label}: {switch.value if switch.value else switch.state}"
                for switch in run.mapped("emergency_switch")]
    lines = []
    for conn_id, result in report.items():
        if result is None:
            lines.append(f"{conn_id}: FAILED (see its task log)")
        elif result["enabled"]:
            lines.append(f"{conn_id} ({result['mode']}): emergency stop on; stopped {result['paused']}")
        else:
            lines.append(f"{conn_id} ({result['mode']}): emergency stop off; restored {result['resumed']}")
    return lines


def _any_dag(run: RunResult) -> list[str]:
    """An example DAG with no summary of its own here: every task's return value, shortened."""
    lines = []
    for task in run.tasks:
        if task.value is not None:
            text = json.dumps(task.value, default=str)
            lines.append(f"{_name(task)}: {text if len(text) <= 160 else text[:157] + '...'}")
    return lines


SUMMARIES: dict[str, Callable[[RunResult], list[str]]] = {
    "dialer_connections_check": _connections_check,
    "dialer_upload_contacts": _upload_contacts,
    "dialer_multi_vendor_fanout": _fanout,
    "dialer_campaign_lifecycle": _lifecycle,
    "dialer_contact_followup": _followup,
    "dialer_nightly_load": _nightly_load,
    "dialer_global_emergency": _emergency,
}


def summary(run: RunResult | None) -> list[str]:
    """What to print for a run: its DAG's summary from the XComs, then the tasks that failed."""
    if run is None:
        return ["(no DAG run was recorded)"]
    try:
        lines = SUMMARIES.get(run.dag_id, _any_dag)(run)
    except (KeyError, TypeError, AttributeError):  # a DAG edited to return something else: show it as it is
        lines = _any_dag(run)
    lines += [f"task {_name(t)}: {t.state} (see its log)" for t in run.failed()]
    return lines


def print_summary(run: RunResult | None, output: str) -> None:
    for line in summary(run):
        print("   " + line)
    for task_id, seconds in deferrals(output):
        print(f"   (deferred: {task_id} waited {seconds:.1f}s in the triggerer, holding no worker slot)")


# -- running it --------------------------------------------------------------------------------------------


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


def main() -> int:
    logs = AIRFLOW_HOME / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    airflow_env = {
        "AIRFLOW_HOME": str(AIRFLOW_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    # This process reads the runs' XComs with Airflow's models: configure Airflow here as for the runs.
    os.environ.update(airflow_env)
    env = {
        **os.environ,
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
            before = last_run_key(DB)
            code, output = airflow(*args, env=env, log_file=log_file)
            print_summary(read_run(DB, run.dag_id, after=before), output)
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
