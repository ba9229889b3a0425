"""Runs DAG files with Airflow 3's ``dag.test()`` in one long-lived child process, and its client.

Run as a script, this file is the runner: started once per test session (:class:`DagRunner`, the
``dag_runner`` fixture of ``tests/conftest.py``) with its own ``AIRFLOW_HOME``: a fresh SQLite
metadata DB (``<home>/airflow.db``), so the test process's own Airflow state is never touched.
Airflow's first ``dag.test()`` in a process builds the in-process Execution API (about 15 s on 2
cores); the runner pays that once, while the tests do other things, and every DAG after it takes
a second or two (plus whatever its sensors wait).

The runner sees two DAG bundles: ``dags-folder`` (``<home>/dags``, where tests write DAG files, e.g.
the docs' examples) and ``dialer-example-dags`` (the repository's ``example_dags/``, read only).
``dag.test()`` records a DAG in the metadata DB from the bundle that holds its file.

Protocol: one JSON request per line on stdin::

    {"path": "<a DAG file>", "conf": {...} | null, "env": {"NAME": "value" | null} | null}

``conf`` is the run's configuration (its Params overrides), as ``airflow dags test --conf``;
``env`` sets (or, for null, unsets) environment variables for this request only: the client sends
the test process's ``AIRFLOW_CONN_*`` variables with every request (the runner starts without any),
so a run sees the connections the test sees. The answer is one line on stdout starting with
``DAG-RUNNER-RESULT `` followed by JSON::

    {"ok": bool, "error": text | null,
     "runs": [{"dag_id", "run_id", "run_key", "state",
               "tasks": {"<task_id>[<map_index>]": state},
               "task_instances": [{"task_id", "map_index", "state", "label", "value"}],
               "logged": [message, ...],
               "deferred": [{"task_id", "map_index", "seconds", "event"}]}]}

``run_key`` is the run's key (``dag_run.id``) in the metadata DB; ``value`` a task's return value
(its ``return_value`` XCom, as JSON; null when it pushed none); ``label`` a mapped task's
rendered map index; ``logged`` the messages the run's tasks logged through the task logger
(``airflow.task``), in order; ``deferred`` each time a task deferred and ``dag.test()`` ran its
trigger inline, once the trigger fired (``event``: its payload). Everything else on
stdout/stderr is Airflow's log (as ``airflow dags test`` prints it), which the client returns
with the answer.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import logging
import os
import queue
import subprocess
import sys
import threading
import time
import traceback
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_DAGS = ROOT / "example_dags"
RESULT = "DAG-RUNNER-RESULT "
#: Longest one request may take once the runner is warm, seconds (sensors included).
RUN_TIMEOUT = 180
#: Longest the runner may take to start (import Airflow, create its DB, build the Execution API).
START_TIMEOUT = 240
#: The logger DAG code logs through (``logging.getLogger("airflow.task")``); Airflow's operators use
#: child loggers of it (``airflow.task.operators...``), which are not the DAG's own lines.
TASK_LOGGER = "airflow.task"


def answer(payload: dict) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    print(RESULT + json.dumps(payload, default=str), flush=True)


def dags_of(path: Path) -> list:
    """Import ``path`` as Airflow's DAG processor does, and return its DAGs: those at module level,
    and those a ``with DAG(...)`` block or a called ``@dag`` function registered."""
    from airflow.sdk import DAG
    from airflow.sdk.definitions._internal.contextmanager import DagContext

    name = f"dag_runner_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    DagContext.autoregistered_dags.clear()
    DagContext.current_autoregister_module_name = name
    try:
        spec.loader.exec_module(module)
        found = [value for value in vars(module).values() if isinstance(value, DAG)]
        found += [dag for dag, _ in DagContext.autoregistered_dags]
    finally:
        DagContext.current_autoregister_module_name = None
        DagContext.autoregistered_dags.clear()
    dags, seen = [], set()
    for dag in found:
        if id(dag) not in seen:
            seen.add(id(dag))
            dags.append(dag)
    return dags


class TaskLog(logging.Handler):
    """The messages logged through the task logger itself, while attached to it."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == TASK_LOGGER:
            self.messages.append(record.getMessage())


@contextmanager
def task_log():
    logger, handler = logging.getLogger(TASK_LOGGER), TaskLog()
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)


@contextmanager
def deferrals():
    """Each trigger ``dag.test()`` runs inline (for a task that deferred), as it completes."""
    from airflow.sdk.definitions import dag as dag_module

    seen: list[dict] = []
    run_inline = dag_module._run_inline_trigger

    def recording(trigger, *ti_given):
        # Airflow 3.0 passes the trigger only; its caller (dag.test's _run_task) holds the task instance
        task_sdk_ti = ti_given[0] if ti_given else sys._getframe(1).f_locals["ti"]
        started = time.monotonic()
        event = run_inline(trigger, *ti_given)
        seen.append({"task_id": task_sdk_ti.task_id, "map_index": task_sdk_ti.map_index,
                     "seconds": round(time.monotonic() - started, 3),
                     "event": getattr(event, "payload", None)})
        return event

    dag_module._run_inline_trigger = recording
    try:
        yield seen
    finally:
        dag_module._run_inline_trigger = run_inline


@contextmanager
def environment(overrides: dict[str, str | None] | None):
    saved = dict(os.environ)
    for name, value in (overrides or {}).items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def task_instances(dag_run) -> list[dict]:
    """Every task instance of the run: its state, its label and its return value (JSON)."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XCOM_RETURN_KEY, XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        values = {
            (row.task_id, row.map_index): XComModel.deserialize_value(row)
            for row in session.execute(
                select(XComModel.task_id, XComModel.map_index, XComModel.value)
                .where(XComModel.dag_run_id == dag_run.id, XComModel.key == XCOM_RETURN_KEY))
        }
        rows = session.execute(
            select(TaskInstance.task_id, TaskInstance.map_index, TaskInstance.state,
                   TaskInstance.rendered_map_index)
            .where(TaskInstance.dag_id == dag_run.dag_id, TaskInstance.run_id == dag_run.run_id)
            .order_by(TaskInstance.task_id, TaskInstance.map_index)).all()
    return [{"task_id": row.task_id, "map_index": row.map_index,
             "state": None if row.state is None else str(row.state), "label": row.rendered_map_index,
             "value": values.get((row.task_id, row.map_index))} for row in rows]


def run(request: dict) -> dict:
    path = Path(request["path"])
    with environment(request.get("env")):
        dags = dags_of(path)
        if not dags:
            return {"ok": False, "runs": [], "error": f"{path.name} defines no DAG at module level "
                    "(is the @dag function called?)"}
        runs = []
        for dag in dags:
            with task_log() as logged, deferrals() as deferred:
                dag_run = dag.test(run_conf=request.get("conf"))
            tis = task_instances(dag_run)
            runs.append({
                "dag_id": dag.dag_id, "run_id": dag_run.run_id, "run_key": dag_run.id,
                "state": str(dag_run.state),
                "tasks": {ti["task_id"] + (f"[{ti['map_index']}]" if ti["map_index"] >= 0 else ""):
                          ti["state"] for ti in tis},
                "task_instances": tis, "logged": logged, "deferred": deferred,
            })
    ok = all(r["state"] == "success" for r in runs)
    return {"ok": ok, "runs": runs, "error": None}


def share_the_in_process_api() -> None:
    """Airflow before 3.3 builds a new in-process Execution API for every task ``dag.test()`` runs (2 to
    7 s each on 2 cores, scripts/compat.sh); 3.3 builds it once per process (``functools.lru_cache``
    on ``in_process_api_server``): the runner does the same on the older versions."""
    from airflow.sdk.execution_time import supervisor

    if not hasattr(supervisor.in_process_api_server, "cache_info"):
        supervisor.in_process_api_server = functools.lru_cache(maxsize=1)(supervisor.in_process_api_server)


def main() -> int:
    from airflow.utils import db

    share_the_in_process_api()
    db.initdb()  # a fresh SQLite DB: tables created from the ORM (seconds, not a full migration)
    # Warm up: the first dag.test() of a process builds Airflow's in-process Execution API.
    warmup = Path(sys.argv[1])
    answer(run({"path": str(warmup)}))
    warmup.unlink()
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            answer(run(json.loads(line)))
        except BaseException:  # noqa: BLE001 - reported to the test, which fails with it
            answer({"ok": False, "runs": [], "error": traceback.format_exc()})
    return 0


# -- the client, in the test process -------------------------------------------------------------------

_LOCAL_BUNDLE = "airflow.dag_processing.bundles.local.LocalDagBundle"
_WARMUP_DAG = """\
from airflow.sdk import dag, task

@dag(dag_id="dag_runner_warmup", schedule=None)
def dag_runner_warmup():
    @task
    def hello():
        return "ready"
    hello()

dag_runner_warmup()
"""


class DagRunner:
    """The runner child process, from the test process: :meth:`start` it early (it warms up while
    other tests run), then :meth:`run` DAG files one at a time."""

    def __init__(self, home: Path) -> None:
        self.home = home
        #: The runner's DAGs folder (the ``dags-folder`` bundle): where tests write their DAG files.
        self.dags = home / "dags"
        self.dags.mkdir(parents=True, exist_ok=True)
        #: The runner's SQLite metadata DB (readable from the test process between runs).
        self.db = home / "airflow.db"
        self.process: subprocess.Popen | None = None
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.ready: dict | None = None

    def start(self) -> None:
        """Start the runner, unless it runs: it warms up meanwhile; :meth:`run` waits for that."""
        if self.process is not None:
            return
        warmup = self.dags / "dag_runner_warmup.py"
        warmup.write_text(_WARMUP_DAG)
        bundles = [{"name": "dags-folder", "classpath": _LOCAL_BUNDLE, "kwargs": {"path": str(self.dags)}},
                   {"name": "dialer-example-dags", "classpath": _LOCAL_BUNDLE,
                    "kwargs": {"path": str(EXAMPLE_DAGS)}}]
        env = {name: value for name, value in os.environ.items()
               if not name.startswith("AIRFLOW_CONN_") and name != "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"}
        env.update({
            "AIRFLOW_HOME": str(self.home), "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(bundles),
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        })
        self.lines = queue.Queue()
        self.ready = None
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), str(warmup)], cwd=self.home, env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=1)
        threading.Thread(target=self._drain, args=(self.process, self.lines), daemon=True).start()

    @staticmethod
    def _drain(process: subprocess.Popen, lines: queue.Queue) -> None:
        for line in process.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    def _answer(self, timeout: float) -> tuple[dict | None, list[str]]:
        """The next answer, and the output before it (None when the runner died or timed out)."""
        output: list[str] = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self.stop()
                output.append(f"(no answer within {timeout:.0f} s: the runner was stopped)")
                return None, output
            if line is None:
                self.process = None
                output.append("(the runner exited)")
                return None, output
            if line.startswith(RESULT):
                return json.loads(line.removeprefix(RESULT)), output
            output.append(line)

    def wait_ready(self) -> None:
        """Start the runner if it is not running, and wait for its warm-up run."""
        self.start()
        if self.ready is None:
            result, output = self._answer(START_TIMEOUT)
            if not (result and result["ok"]):
                log = "\n".join(output[-80:])
                raise RuntimeError(f"the DAG runner did not start:\n{log}\n{result}")
            self.ready = result

    def run(self, path: Path, *, conf: dict | None = None, env: dict[str, str | None] | None = None,
            timeout: float = RUN_TIMEOUT) -> tuple[dict | None, list[str]]:
        """Run the DAGs of ``path`` with ``dag.test()``: the answer (see the protocol above; None when
        the runner gave none) and Airflow's log meanwhile. The runs see this process's
        ``AIRFLOW_CONN_*`` variables, then ``env``."""
        self.wait_ready()
        request_env = {name: value for name, value in os.environ.items() if name.startswith("AIRFLOW_CONN_")}
        request_env.update(env or {})
        self.process.stdin.write(json.dumps({"path": str(path), "conf": conf, "env": request_env}) + "\n")
        self.process.stdin.flush()
        return self._answer(timeout)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.stdin:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


if __name__ == "__main__":
    # Run as a script: ``tests/`` itself is not a place to import from (``tests.*`` is, via PYTHONPATH).
    if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
        del sys.path[0]
    sys.exit(main())
