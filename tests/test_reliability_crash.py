"""R2 "Crash and retry": SIGKILL the real task process mid-upload, let Airflow retry the same task
instance, and check that every contact is at the dialer exactly once and that the retry resumed.

How the task runs. ``airflow dags test`` without ``--use-executor`` runs every task *inside its own
process* (``InProcessTestSupervisor``): a SIGKILL of the task would kill ``dags test`` itself and
no retry could follow. With ``--use-executor`` it hands the task to the configured executor
(LocalExecutor): a worker process runs the Task SDK supervisor, which forks the task runner, and
the task talks to the Execution API (``airflow api-server --apps execution``, started here on
127.0.0.1). That is the production path. The test SIGKILLs the forked task runner (its pid is
written by the task, tests/dags/r2_crash_upload.py), the supervisor reports the try failed,
``dags test``'s scheduling loop puts the task up for retry (``retries=1``, ``retry_delay=0``) and
runs try 2 of the *same* task instance, whose ``task_state_store`` (before Airflow 3.3, a Variable:
docs/compatibility.md) holds the upload checkpoint.

Everything runs on loopback: the sandbox (a thread of this process), the API server and
``dags test`` (child processes of this test, stopped by the test). Every wait is bounded.
"""

from __future__ import annotations

import csv
import json
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import psutil
import pytest
import requests

from airflow_provider_dialers.compat import VARIABLE_PREFIX, has_task_state_store
from tests.support import first_phones

ROOT = Path(__file__).resolve().parent.parent
DAGS_FOLDER = Path(__file__).resolve().parent / "dags"
DAG_ID = "r2_crash_upload"
ROWS = 100
BATCH = 10  # the DAG's batch_size (max_concurrency=1)
KILL_AFTER_STORED = 30  # SIGKILL once this many of the file's contacts are at the dialer
SINCH_CAMPAIGN = "62718C7889CC44F7B944C1A6F6BE9B7F"

# vendor -> (connection, campaign, the upload request's path, delay per upload request in seconds).
# The delay holds each *processed* answer, so the kill lands while a request is in flight: the
# dialer has (or is about to have) the batch, the task never hears of it. ECM sends one
# insertCallback per contact, hence a shorter delay; Ameyo's commands all share one path.
VENDORS = {
    "expertflow": ("expertflow_ecm_default", "1", r"/umm/ecm/callback/insertCallback$", 0.05),
    "sinch": ("sinch_obi_default", SINCH_CAMPAIGN, r"/customers/list$", 0.4),
    "ameyo": ("ameyo_default", "1", r"/ameyowebaccess/command$", 0.3),
}


def _airflow() -> str:
    return str(Path(sys.executable).parent / "airflow")


def _task_logs(home: Path) -> str:
    """The upload's task logs: Airflow before 3.3 writes its tasks' lines there, not to ``dags test``'s output."""
    return "".join(path.read_text() for path in sorted(home.glob(f"logs/dag_id={DAG_ID}/**/attempt=*.log")))


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop_group(process: subprocess.Popen) -> None:
    """Stop a child this test started in its own session, with everything it spawned."""
    if process.poll() is None:
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 10)):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                break
            try:
                process.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue


@pytest.fixture(scope="module")
def airflow_executor_env(tmp_path_factory):
    """A fresh AIRFLOW_HOME (SQLite), LocalExecutor, and an Execution API server on 127.0.0.1."""
    home = tmp_path_factory.mktemp("r2-airflow-home")
    port = _free_port()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),  # shared by dags test (signs) and the server
    }
    subprocess.run([_airflow(), "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    log = (home / "api-server.log").open("wb")
    server = subprocess.Popen(
        [_airflow(), "api-server", "--apps", "execution", "-H", "127.0.0.1", "-p", str(port), "-w", "1"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, (home / "api-server.log").read_text()[-3000:]
            try:
                if requests.get(f"http://127.0.0.1:{port}/execution/health", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "the Execution API server did not start within 120 s"
            time.sleep(0.25)
        yield {"env": env, "home": home}
    finally:
        _stop_group(server)
        log.close()


def _contacts_file(path: Path, vendor: str) -> list[str]:
    phones = [f"55591{n:05d}" for n in range(ROWS)]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["external_id", "phone", "timezone"])
        writer.writerows([f"r2-{vendor}-{n}", phone, "Europe/London"] for n, phone in enumerate(phones))
    return phones


def _vendor_requests(sandbox, vendor: str, since: int = 0, until: int | None = None) -> int:
    return sum(1 for r in sandbox.client.requests(vendor=vendor, since=since)
               if until is None or r["seq"] <= until)


def _last_seq(sandbox) -> int:
    log = sandbox.client.requests()
    return log[-1]["seq"] if log else 0


def _metadata(home: Path) -> dict:
    """The run's task instance, its earlier tries and the upload's XCom, from the metadata DB."""
    with sqlite3.connect(home / "airflow.db") as db:
        (run_id,) = db.execute("SELECT run_id FROM dag_run WHERE dag_id=? ORDER BY id DESC LIMIT 1",
                               (DAG_ID,)).fetchone()
        ti = db.execute("SELECT try_number, state FROM task_instance WHERE dag_id=? AND run_id=? AND task_id='upload'",
                        (DAG_ID, run_id)).fetchone()
        history = db.execute(
            "SELECT try_number, state FROM task_instance_history WHERE dag_id=? AND run_id=? AND task_id='upload' "
            "ORDER BY try_number", (DAG_ID, run_id)).fetchall()
        (xcom,) = db.execute(
            "SELECT value FROM xcom WHERE dag_id=? AND run_id=? AND task_id='upload' AND key='return_value'",
            (DAG_ID, run_id)).fetchone()
        if has_task_state_store():
            state_store = db.execute("SELECT COUNT(*) FROM task_state_store WHERE dag_id=? AND run_id=?",
                                     (DAG_ID, run_id)).fetchone()[0]
        else:  # Airflow before 3.3: the checkpoint's Variable (compat.VariableStateStore), left after success?
            state_store = db.execute("SELECT COUNT(*) FROM variable WHERE key LIKE ?",
                                     (f"{VARIABLE_PREFIX}.{DAG_ID}.%",)).fetchone()[0]
    value = json.loads(xcom)
    return {"ti": ti, "history": history, "result": json.loads(value) if isinstance(value, str) else value,
            "state_store_rows": state_store}


def _wait_for(condition, timeout: float, what: str, process: subprocess.Popen, output: Path):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if process.poll() is not None:
            pytest.fail(f"`airflow dags test` ended before {what}:\n{output.read_text()[-5000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"not {what} within {timeout:.0f} s:\n{output.read_text()[-5000:]}")
        time.sleep(0.05)


@pytest.mark.parametrize("vendor", list(VENDORS))
def test_sigkill_of_the_task_process_mid_upload_then_the_retry_resumes_exactly_once(
    sandbox, airflow_executor_env, tmp_path, reliability_report, vendor
):
    conn_id, campaign_id, upload_path, delay = VENDORS[vendor]
    source, pid_dir, output = tmp_path / "contacts.csv", tmp_path / "pids", tmp_path / "dags-test.log"
    phones = _contacts_file(source, vendor)
    before = first_phones(sandbox, vendor, campaign_id)
    sandbox.client.add_fault(action="delay", vendor=vendor, path=upload_path, method="POST", delay=delay,
                             count=None)
    conf = {"conn_id": conn_id, "campaign_id": campaign_id, "source": str(source), "pid_dir": str(pid_dir)}
    env = {**airflow_executor_env["env"], **sandbox.connection_env()}

    def stored() -> int:
        return len(first_phones(sandbox, vendor, campaign_id)) - len(before)

    with output.open("wb") as out:
        dags_test = subprocess.Popen(
            [_airflow(), "dags", "test", DAG_ID, "--use-executor", "--conf", json.dumps(conf)],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        pid_file = pid_dir / "try-1.pid"
        pid = int(_wait_for(lambda: pid_file.exists() and pid_file.read_text(), 120,
                            "try 1 started", dags_test, output))
        _wait_for(lambda: stored() >= KILL_AFTER_STORED, 120, f"{KILL_AFTER_STORED} contacts were stored",
                  dags_test, output)
        # The process that runs the task is the task runner the supervisor forked: a descendant of
        # `dags test` (through the LocalExecutor worker), not `dags test` itself nor the supervisor.
        task_process = psutil.Process(pid)
        assert pid in {p.pid for p in psutil.Process(dags_test.pid).children(recursive=True)}
        supervisor_pid = task_process.ppid()
        assert supervisor_pid not in (dags_test.pid, os.getpid())
        os.kill(pid, signal.SIGKILL)
        task_process.wait(timeout=30)
        kill_seq = _last_seq(sandbox)
        sandbox.client.clear_faults()  # the retry runs at full speed
        # try 2 writes its pid before it reads a row: what is stored now is what try 1 delivered
        _wait_for(lambda: (pid_dir / "try-2.pid").exists(), 120, "try 2 started", dags_test, output)
        stored_before_retry = stored()
        dags_test.wait(timeout=240)
    finally:
        _stop_group(dags_test)
    text = output.read_text()
    assert dags_test.returncode == 0, text[-6000:]

    # Airflow's own view: try 1 failed (killed), try 2 of the same task instance succeeded.
    meta = _metadata(airflow_executor_env["home"])
    assert meta["ti"] == (2, "success")
    assert meta["history"] == [(1, "failed")]
    if has_task_state_store():
        assert meta["state_store_rows"] >= 1  # the checkpoint lives in the run's task_state_store
    else:
        assert meta["state_store_rows"] == 0  # it lived in a Variable, removed when the retry succeeded
    retry_pid = int((pid_dir / "try-2.pid").read_text())
    assert retry_pid != pid
    assert "Resuming from row" in text + _task_logs(airflow_executor_env["home"])
    # the supervisor saw the task runner die of SIGKILL (not an exception) and put the task up for retry
    assert any("SIGKILL" in line and "final_state=up_for_retry" in line for line in text.splitlines()), text[-6000:]

    # Exactly once at the dialer: every contact of the file, none twice, none missing.
    added = first_phones(sandbox, vendor, campaign_id)[len(before):]
    counts = Counter(added)
    duplicates = sum(n - 1 for n in counts.values() if n > 1)
    missing = len(set(phones) - set(counts))
    assert (duplicates, missing, len(added)) == (0, 0, ROWS)
    assert set(added) == set(phones)

    # The accounting of the retry adds up over both tries, and the retry resumed: it sent only the
    # rows from the first unsettled batch on, never the whole file again.
    result = meta["result"]
    buckets = {k: result[k] for k in ("total", "accepted", "rejected", "duplicates", "skipped_dnc", "skipped_window")}
    assert buckets == {"total": ROWS, "accepted": ROWS, "rejected": 0, "duplicates": 0, "skipped_dnc": 0,
                       "skipped_window": 0}
    resumed_from = result["resumed_from_row"]
    assert resumed_from is not None and 1 < resumed_from <= stored_before_retry + 1
    assert (resumed_from - 1) % BATCH == 0  # a batch boundary
    # The rows the killed try delivered (the batch in flight included) are found at the dialer by the
    # retry's lookup of the campaign and counted as that try's: none is sent again.
    resent = result["sent"] - (ROWS - stored_before_retry)
    assert resent == 0 and result["sent"] < ROWS
    assert result["batches"] == -(-result["sent"] // BATCH) < ROWS // BATCH

    # HTTP requests the dialer received (all of the vendor's, logins included), per try
    requests_try1 = _vendor_requests(sandbox, vendor, until=kill_seq)
    requests_retry = _vendor_requests(sandbox, vendor, since=kill_seq)
    stats = sandbox.client.stats()
    reliability_report(
        f"R2 crash+retry {vendor} (SIGKILL of the task runner, try 2 of the same TI)",
        rows=ROWS, stored_before_kill=stored_before_retry, resumed_from_row=resumed_from,
        sent_by_retry=result["sent"], batches_by_retry=result["batches"], resent_rows=resent,
        http_requests_try1=requests_try1, http_requests_retry=requests_retry,
        contacts_at_dialer=len(added), duplicates=duplicates, missing=missing,
        logins=stats["logins"].get(vendor, 0), tries=meta["ti"][0],
    )
