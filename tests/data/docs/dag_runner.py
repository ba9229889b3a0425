"""Runs the DAG examples of README.md and docs/*.md with Airflow 3's ``dag.test()``, one after another.

Started once by ``tests/test_docs_examples.py`` as a child process with its own ``AIRFLOW_HOME``
(a fresh SQLite metadata DB) and ``AIRFLOW__CORE__DAGS_FOLDER``, so the test process's own Airflow
state is never touched. Airflow's first ``dag.test()`` in a process builds the in-process Execution
API (about 15 s on 2 cores); this process pays that once, while the test process runs the hook
examples, and every DAG example after it takes a second or two.

Protocol: one JSON request per line on stdin, ``{"path": "<dags folder>/<file>.py"}``; the answer
is one line on stdout starting with ``DOCS-RESULT `` followed by JSON:
``{"ok": bool, "runs": [{"dag_id", "state", "tasks": {task_id: state}}], "error": text | null}``.
Everything else on stdout/stderr is Airflow's log, which the test shows when an example fails.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import traceback
from pathlib import Path

RESULT = "DOCS-RESULT "


def answer(payload: dict) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    print(RESULT + json.dumps(payload), flush=True)


def dags_of(path: Path) -> list:
    """Import ``path`` as Airflow's DAG processor does, and return its DAGs: those at module level,
    and those a ``with DAG(...)`` block or a called ``@dag`` function registered."""
    from airflow.sdk import DAG
    from airflow.sdk.definitions._internal.contextmanager import DagContext

    name = f"docs_example_{path.stem}"
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


def run(path: Path) -> dict:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    dags = dags_of(path)
    if not dags:
        return {"ok": False, "runs": [], "error": f"{path.name} defines no DAG at module level "
                "(is the @dag function called?)"}
    runs = []
    for dag in dags:
        dag_run = dag.test()
        with create_session() as session:
            tis = session.query(TaskInstance).filter(
                TaskInstance.dag_id == dag_run.dag_id, TaskInstance.run_id == dag_run.run_id).all()
            tasks = {ti.task_id + (f"[{ti.map_index}]" if ti.map_index >= 0 else ""): str(ti.state)
                     for ti in tis}
        runs.append({"dag_id": dag.dag_id, "state": str(dag_run.state), "tasks": tasks})
    ok = all(r["state"] == "success" for r in runs)
    return {"ok": ok, "runs": runs, "error": None}


def main() -> int:
    from airflow.utils import db

    db.initdb()  # a fresh SQLite DB: tables created from the ORM (seconds, not a full migration)
    # Warm up: the first dag.test() of a process builds Airflow's in-process Execution API.
    warmup = Path(sys.argv[1])
    answer(run(warmup))
    warmup.unlink()
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            answer(run(Path(json.loads(line)["path"])))
        except BaseException:  # noqa: BLE001 - reported to the test, which fails with it
            answer({"ok": False, "runs": [], "error": traceback.format_exc()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
