"""The distributed deployment check: run by ``scripts/distributed-check.sh`` in ``.distributed/venv``.

Starts, all on localhost and in one temporary directory: its own PostgreSQL cluster and Redis (free
ports, no persistence), Airflow 3.3.2 with CeleryExecutor (api-server, scheduler, dag-processor,
triggerer and two Celery workers, each reporting its own host name), and the dialer sandbox. Then:

1. triggers every example DAG through the REST API (a JWT from ``/auth/token``) and checks each run
   succeeds, with tasks on both workers;
2. shows a deferrable sensor ``deferred`` in the triggerer, then lets the dialer finish the campaign;
3. twice (an idle ECM campaign, then one that keeps dialling) uploads 20,000 contacts, SIGKILLs the
   worker running the upload mid-way and checks that try 2 ran on the other worker, resumed from
   its checkpoint, left every contact at the dialer exactly once, and kept the rejects in one file
   in shared storage.

Prints one PASS/FAIL line per check, stops every process it started (by process id) and exits
non-zero on any failure. ``--keep`` keeps the temporary directory (every process's log);
``--record`` writes the run into docs/distributed-check.md.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_DAGS = ROOT / "example_dags"
CHECK_DAGS = ROOT / "scripts" / "distributed_dags"
DOC = ROOT / "docs" / "distributed-check.md"
BIN = Path(sys.executable).parent
#: Contacts per crash upload; every BAD_EVERY-th row has a phone ECM refuses (a reject).
CRASH_ROWS, BAD_EVERY = 20_000, 500
#: The worker is killed once this many of the upload's contacts are at the dialer.
KILL_AFTER = 3_000
#: Seconds the sandbox holds each ECM insertCallback answer while try 1 runs (so the kill lands mid-way).
ECM_DELAY = 0.01
#: Contacts per second the sandbox's dialers settle while the example DAGs and the crash checks run.
DIAL_RATE = 200.0
#: The dialling campaign's rate in the crash check: every contact stored before the kill is being
#: called by the time the retry looks for it.
CRASH_DIAL_RATE = 1000.0
#: [scheduler] task_instance_heartbeat_timeout: a killed task is retried after this (default 300 s).
HEARTBEAT_TIMEOUT = 30
WORKERS = ("dc-worker1", "dc-worker2")
#: The example DAGs' runs: conf per run; the emergency stop runs last, on then off, one at a time.
EMERGENCY = [("dialer_global_emergency", {"enabled": True}), ("dialer_global_emergency", {"enabled": False})]


def worker_hostname() -> str:
    """``[core] hostname_callable`` of the workers: each reports its own name, as on two machines."""
    return os.environ.get("DISTRIBUTED_CHECK_WORKER") or socket.getfqdn()


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


#: Set to the deployment's :meth:`Processes.check_alive`: every wait stops when a process has died.
WATCH: list[Callable[[], None]] = []


def wait_for(what: str, condition: Callable[[], Any], timeout: float, interval: float = 0.5) -> Any:
    """Poll ``condition`` until it returns something truthy (returned); RuntimeError after ``timeout`` s,
    or as soon as a started process has exited (:data:`WATCH`)."""
    deadline = time.monotonic() + timeout
    while True:
        for check_alive in WATCH:
            check_alive()
        try:
            value = condition()
        except Exception:  # noqa: BLE001 - a service still starting answers with errors
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f"not {what} within {timeout:.0f} s")
        time.sleep(interval)


class Processes:
    """Every process this check starts, each with its log; stopped by process id, its children too."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.running: dict[str, tuple[subprocess.Popen, int]] = {}

    def start(self, name: str, args: list[str], env: dict[str, str], *, user: str | None = None,
              stop_signal: int = signal.SIGTERM) -> subprocess.Popen:
        """Start ``args`` as ``name`` (its output to ``logs/<name>.log``)."""
        with (self.logs / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True, user=user)
        self.running[name] = (process, stop_signal)
        return process

    def tree(self, name: str) -> list[Any]:
        """The process ``name`` and every process it spawned (psutil processes)."""
        import psutil

        try:
            root = psutil.Process(self.running[name][0].pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def kill(self, name: str) -> list[int]:
        """SIGKILL ``name`` and its children at once (a machine dying); the pids killed."""
        victims = self.tree(name)
        for proc in victims:
            with contextlib.suppress(Exception):  # already gone
                proc.send_signal(signal.SIGKILL)
        self.running.pop(name)[0].wait(timeout=30)
        return [proc.pid for proc in victims]

    def stop(self, name: str, timeout: float = 30) -> None:
        """Stop ``name`` with its stop signal; SIGKILL it and any child left after ``timeout`` s."""
        import psutil

        victims = self.tree(name)
        process, stop_signal = self.running.pop(name)
        if process.poll() is None:
            process.send_signal(stop_signal)
        _, alive = psutil.wait_procs(victims, timeout=timeout)
        for proc in alive:
            try:
                proc.kill()
            except psutil.NoSuchProcess:
                pass
        process.wait(timeout=10)

    def check_alive(self) -> None:
        """RuntimeError naming any started process that has exited, with its log's last line."""
        for name, (process, _) in self.running.items():
            if process.poll() is not None:
                lines = (self.logs / f"{name}.log").read_text(errors="replace").strip().splitlines() or [""]
                raise RuntimeError(f"{name} exited ({process.returncode}): {lines[-1][:300]}")

    def stop_all(self) -> None:
        for name in reversed(list(self.running)):
            try:
                self.stop(name)
            except Exception as exc:  # noqa: BLE001 - stop the others whatever happens
                print(f"   could not stop {name}: {exc}")


class Api:
    """Airflow's public REST API (/api/v2) with a JWT from the simple auth manager's /auth/token."""

    def __init__(self, base: str, username: str, password: str) -> None:
        import requests

        self.base, self.session = base.rstrip("/"), requests.Session()
        answer = self.session.post(f"{self.base}/auth/token", json={"username": username, "password": password},
                                   timeout=30)
        answer.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.session.request(method, f"{self.base}/api/v2{path}", timeout=60, **kwargs)
        if answer.status_code >= 400:
            raise RuntimeError(f"{method} {path}: HTTP {answer.status_code} {answer.text[:300]}")
        return answer.json()

    def trigger(self, dag_id: str, conf: dict[str, Any]) -> str:
        """Start a run of ``dag_id`` with ``conf``; its run id."""
        return self.call("POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf})["dag_run_id"]

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")

    def run_state(self, dag_id: str, run_id: str) -> str:
        return self.run(dag_id, run_id)["state"]

    def wait_run(self, dag_id: str, run_id: str, timeout: float) -> str:
        """Wait until the run is finished; its state."""
        return wait_for(f"{dag_id} finished", lambda: self.run_state(dag_id, run_id) in ("success", "failed")
                        and self.run_state(dag_id, run_id), timeout, interval=2)

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        return self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]

    def task_instance(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        return self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}")

    def tries(self, dag_id: str, run_id: str, task_id: str) -> list[dict[str, Any]]:
        return self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/tries")["task_instances"]

    def xcom(self, dag_id: str, run_id: str, task_id: str) -> Any:
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value"
        value = self.call("GET", path, params={"deserialize": "true"})["value"]
        return json.loads(value) if isinstance(value, str) else value


class Sandbox:
    """The sandbox's admin API (/_sandbox), over HTTP like any client."""

    def __init__(self, url: str) -> None:
        import requests

        self.url, self.session = url, requests.Session()

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.session.request(method, f"{self.url}/_sandbox{path}", timeout=120, **kwargs)
        answer.raise_for_status()
        return answer.json()

    def ecm_phones(self, campaign_id: str) -> Counter:
        """phone -> how many contacts (callbacks) ECM holds with it in the campaign."""
        state = self.call("GET", "/state/expertflow")
        return Counter(c["phone1"] for c in state["callbacks"] if str(c["campaignId"]) == campaign_id)

    def ecm_requests(self) -> int:
        return self.call("GET", "/stats")["requests"].get("expertflow", 0)


class Deployment:
    """PostgreSQL, Redis, the sandbox and Airflow's components, started in ``home``."""

    def __init__(self, home: Path) -> None:
        self.home, self.shared = home, home / "shared"
        self.logs = home / "logs"
        for folder in (self.logs, self.shared):
            folder.mkdir(parents=True)
        self.procs = Processes(self.logs)
        WATCH[:] = [self.procs.check_alive]
        self.ports = {name: free_port() for name in ("postgres", "redis", "sandbox", "api", "triggerer_logs",
                                                     *WORKERS)}
        self.env: dict[str, str] = {}
        self.api: Api | None = None
        self.sandbox = Sandbox(f"http://127.0.0.1:{self.ports['sandbox']}")
        self.versions: dict[str, str] = {}

    # -- services ----------------------------------------------------------------------------------
    def start_postgres(self) -> None:
        pg_bin = Path(os.environ.get("PG_BIN") or Path(shutil.which("initdb") or "initdb").resolve().parent)
        user = "postgres" if os.geteuid() == 0 else None  # postgres refuses to run as root
        data = self.home / "pg"
        data.mkdir(mode=0o700)
        if user:
            shutil.chown(data, user)
        subprocess.run([str(pg_bin / "initdb"), "-D", str(data), "-U", "airflow", "--auth=trust", "-E", "UTF8",
                        "--locale=C", "--no-sync"], check=True, capture_output=True, user=user, timeout=300)
        self.procs.start("postgres", [str(pg_bin / "postgres"), "-D", str(data), "-p", str(self.ports["postgres"]),
                                      "-k", str(data), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
                                      "-c", "max_connections=300"], os.environ.copy(), user=user,
                         stop_signal=signal.SIGINT)  # SIGINT: PostgreSQL's fast shutdown
        import psycopg2

        dsn = f"host=127.0.0.1 port={self.ports['postgres']} user=airflow dbname=postgres"
        connection = wait_for("PostgreSQL accepting connections", lambda: psycopg2.connect(dsn), 60)
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("CREATE DATABASE airflow")
            cursor.execute("SHOW server_version")
            self.versions["PostgreSQL"] = cursor.fetchone()[0].split()[0]
        connection.close()

    def start_redis(self) -> None:
        (self.home / "redis").mkdir()
        self.procs.start("redis", ["redis-server", "--port", str(self.ports["redis"]), "--bind", "127.0.0.1",
                                   "--save", "", "--appendonly", "no", "--dir", str(self.home / "redis")],
                         os.environ.copy())
        import redis

        client = redis.Redis(port=self.ports["redis"])
        wait_for("Redis answering", client.ping, 30)
        self.versions["Redis"] = client.info()["redis_version"]

    def start_sandbox(self) -> None:
        args = [sys.executable, "-m", "airflow_provider_dialers.sandbox", "--port", str(self.ports["sandbox"]),
                "--dial-rate", str(DIAL_RATE)]
        exports = subprocess.run([*args, "--print-env"], check=True, capture_output=True, text=True).stdout
        self.connections = {}
        for line in exports.splitlines():  # export AIRFLOW_CONN_X='{...}'
            name, _, value = line.removeprefix("export ").partition("=")
            self.connections[name] = value.strip("'")
        # The ECM sandbox compares dial times with its local clock; the connections say UTC.
        self.procs.start("sandbox", args, {**os.environ, "TZ": "UTC"})
        wait_for("the sandbox answering", lambda: self.sandbox.call("GET", "/health")["ok"], 60)

    # -- Airflow -----------------------------------------------------------------------------------
    def airflow_env(self) -> dict[str, str]:
        from cryptography.fernet import Fernet

        airflow_home, password = self.home / "airflow", secrets.token_urlsafe(16)
        airflow_home.mkdir()
        (airflow_home / "passwords.json").write_text(json.dumps({"admin": password}))
        self.password = password
        pg, api = f"airflow@127.0.0.1:{self.ports['postgres']}/airflow", f"http://127.0.0.1:{self.ports['api']}"
        bundles = [{"name": name, "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
                    "kwargs": {"path": str(path), "refresh_interval": 0}}
                   for name, path in (("dialer_examples", EXAMPLE_DAGS), ("distributed_check", CHECK_DAGS))]
        return {
            **os.environ, **self.connections,
            "TZ": "UTC",
            "AIRFLOW_HOME": str(airflow_home),
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(EXAMPLE_DAGS),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(airflow_home / "passwords.json"),
            "AIRFLOW__API__BASE_URL": api,
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://{pg}",
            "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{self.ports['redis']}/0",
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://{pg}",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "4",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT),
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(bundles),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(self.ports["triggerer_logs"]),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(self.ports[WORKERS[0]]),
        }

    def start_airflow(self) -> None:
        self.env = self.airflow_env()
        airflow = str(BIN / "airflow")
        migrate = subprocess.run([airflow, "db", "migrate"], env=self.env, capture_output=True, text=True,
                                 timeout=900, check=False)
        (self.logs / "db-migrate.log").write_text(migrate.stdout + migrate.stderr)
        if migrate.returncode:
            raise RuntimeError(f"airflow db migrate failed; see {self.logs / 'db-migrate.log'}")
        self.procs.start("api-server", [airflow, "api-server", "-H", "127.0.0.1", "-p", str(self.ports["api"]),
                                        "-w", "1"], self.env)
        for component in ("scheduler", "dag-processor", "triggerer"):
            self.procs.start(component, [airflow, component], self.env)
        for worker in WORKERS:
            self.start_worker(worker)
        base = f"http://127.0.0.1:{self.ports['api']}"

        def healthy() -> bool:
            import requests

            health = requests.get(f"{base}/api/v2/monitor/health", timeout=10).json()
            return all(health.get(part, {}).get("status") == "healthy"
                       for part in ("metadatabase", "scheduler", "triggerer", "dag_processor"))

        wait_for("the api-server, scheduler, triggerer and dag-processor healthy", healthy, 300, interval=2)
        self.api = Api(base, "admin", self.password)
        dag_ids = [p.stem for p in (*EXAMPLE_DAGS.glob("dialer_*.py"), *CHECK_DAGS.glob("distributed_*.py"))]
        wait_for(f"{len(dag_ids)} DAGs parsed", lambda: all(self._dag_ready(d) for d in dag_ids), 300, interval=2)
        self.versions["Airflow"] = version("apache-airflow")
        self.versions["apache-airflow-providers-celery"] = version("apache-airflow-providers-celery")
        self.versions["celery"] = version("celery")

    def _dag_ready(self, dag_id: str) -> bool:
        assert self.api is not None
        self.api.call("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
        return True

    def start_worker(self, worker: str) -> None:
        """Start Celery worker ``worker``: its own node name, host name and log-server port."""
        env = {**self.env, "DISTRIBUTED_CHECK_WORKER": worker,
               "AIRFLOW__CORE__HOSTNAME_CALLABLE": "distributed_check.worker_hostname",
               "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(self.ports[worker]),
               "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "scripts"), os.environ.get("PYTHONPATH")]))}
        log = self.logs / f"{worker}.log"
        offset = log.stat().st_size if log.exists() else 0
        self.procs.start(worker, [str(BIN / "airflow"), "celery", "worker", "--celery-hostname",
                                  f"{worker}@%h", "--concurrency", "4"], env)
        wait_for(f"{worker} ready", lambda: b" ready." in log.read_bytes()[offset:], 180, interval=1)


# -- the checks ------------------------------------------------------------------------------------------
class Checks:
    """Each check returns its summary figures, or raises with what went wrong."""

    def __init__(self, deployment: Deployment) -> None:
        self.d = deployment
        self.api: Api = deployment.api  # type: ignore[assignment]
        self.sandbox = deployment.sandbox

    def example_dags(self) -> list[tuple[str, bool, str]]:
        """Every example DAG, triggered over REST at once (the emergency stop last, on then off)."""
        shared = self.d.shared
        confs = {
            "dialer_upload_contacts": {"rejects_path": f"{shared}/examples/"},
            "dialer_multi_vendor_fanout": {"rejects_dir": f"{shared}/examples/"},
            "dialer_campaign_lifecycle": {"rejects_path": f"{shared}/examples/"},
            "dialer_nightly_load": {"outcomes_dir": f"{shared}/nightly"},
        }
        dag_ids = sorted(p.stem for p in EXAMPLE_DAGS.glob("dialer_*.py") if p.stem != EMERGENCY[0][0])
        started = time.monotonic()
        batches = [[(d, confs.get(d, {})) for d in dag_ids], *([run] for run in EMERGENCY)]
        results, hosts = [], Counter()
        for batch in batches:
            runs = [(dag_id, conf, self.api.trigger(dag_id, conf)) for dag_id, conf in batch]
            for dag_id, conf, run_id in runs:
                state = self.api.wait_run(dag_id, run_id, 900)
                dates = self.api.run(dag_id, run_id)
                tis = self.api.task_instances(dag_id, run_id)
                on = Counter(ti["hostname"] for ti in tis if ti["hostname"])
                hosts.update(on)
                label = dag_id + (f" {json.dumps(conf)}" if dag_id == EMERGENCY[0][0] else "")
                failed = [f"{ti['task_id']}[{ti['map_index']}]={ti['state']}" for ti in tis
                          if ti["state"] not in ("success", "skipped")]
                results.append((f"example {label}", state == "success" and not failed,
                                f"{state} in {_seconds(dates['start_date'], dates['end_date'])}, {len(tis)} task instances "
                                f"({', '.join(f'{h}: {n}' for h, n in sorted(on.items()))})"
                                + (f"; not successful: {', '.join(failed)}" if failed else "")))
        both = all(hosts[w] for w in WORKERS)
        results.append(("example DAGs on both workers", both,
                        f"{sum(hosts.values())} task instances in {time.monotonic() - started:.0f} s: "
                        + ", ".join(f"{w} ran {hosts[w]}" for w in WORKERS)))
        return results

    def deferred_sensor(self) -> str:
        """A deferrable sensor waits in the triggerer until the dialer finishes the campaign."""
        dag_id, task_id = "distributed_deferred_sensor", "wait_for_completion"
        self.sandbox.call("POST", "/reset")
        self.sandbox.call("PUT", "/config", json={"dial_rate": 0})  # the campaign waits for us
        run_id = self.api.trigger(dag_id, {"campaign_id": "1"})
        ti = wait_for("the sensor deferred", lambda: (t := self.api.task_instance(dag_id, run_id, task_id))
                      ["state"] == "deferred" and t, 300)
        deferred_at, before = time.monotonic(), self.sandbox.ecm_requests()
        time.sleep(10)  # the triggerer polls (every 2 s) while the task holds no worker slot
        still = self.api.task_instance(dag_id, run_id, task_id)
        if still["state"] != "deferred":
            raise RuntimeError(f"the sensor left the deferred state before the campaign was done: {still['state']}")
        polls = self.sandbox.ecm_requests() - before
        moved = self.sandbox.call("POST", "/advance", params={"vendor": "expertflow"})
        advanced_at = time.monotonic()
        state = self.api.wait_run(dag_id, run_id, 300)
        self.sandbox.call("PUT", "/config", json={"dial_rate": DIAL_RATE})
        done = self.api.task_instance(dag_id, run_id, task_id)
        if state != "success" or done["state"] != "success":
            raise RuntimeError(f"run {state}, sensor {done['state']}")
        progress = self.api.xcom(dag_id, run_id, task_id)
        trigger = ti.get("trigger") or {}
        return (f"state deferred (trigger {trigger.get('id')} {trigger.get('classpath', '').rsplit('.', 1)[-1]}) "
                f"for {advanced_at - deferred_at:.0f} s, polled by the triggerer ({polls} ECM requests), "
                f"no worker slot held; the dialer finished the campaign ({sum(moved.values())} moves) -> "
                f"sensor success {time.monotonic() - advanced_at:.0f} s later on try {done['try_number']}, complete="
                f"{progress['complete']}, {progress['total']} contacts, outcomes {progress['outcomes']}")

    def crash(self, label: str, campaign_id: str, rejects: str) -> str:
        """SIGKILL the worker running a 20,000-contact ECM upload; the other worker's retry finishes it."""
        dag_id, task_id = "distributed_crash_upload", "upload"
        self.sandbox.call("POST", "/reset")
        self.sandbox.call("PUT", "/config", json={"dial_rate": CRASH_DIAL_RATE})
        source = self.d.shared / f"contacts-{label}.csv"
        expected, bad_rows = write_contacts(source, prefix="+442071" if label == "idle" else "+442072")
        rejects_dir = Path(rejects.removeprefix("file://").rstrip("/"))  # the upload creates it
        held_before = sum(self.sandbox.ecm_phones(campaign_id).values())
        self.sandbox.call("POST", "/faults", json={"action": "delay", "vendor": "expertflow", "method": "POST",
                                                   "path": "/umm/ecm/callback/insertCallback$", "delay": ECM_DELAY,
                                                   "count": None})
        requests_before = self.sandbox.ecm_requests()
        conf = {"conn_id": "expertflow_ecm_default", "campaign_id": campaign_id, "source": str(source),
                "rejects_path": rejects}
        run_id = self.api.trigger(dag_id, conf)
        ti = wait_for("try 1 running on a worker", lambda: (t := self.api.task_instance(dag_id, run_id, task_id))
                      ["state"] == "running" and t["hostname"] and t, 300)
        victim = ti["hostname"]
        if victim not in WORKERS:
            raise RuntimeError(f"try 1 runs on {victim!r}, not one of the workers {WORKERS}")
        wait_for(f"{KILL_AFTER} contacts sent", lambda: self.sandbox.ecm_requests() - requests_before >= KILL_AFTER,
                 600, interval=0.2)
        in_tree = ti.get("pid") in {p.pid for p in self.d.procs.tree(victim)}
        killed = self.d.procs.kill(victim)
        killed_at = datetime.now(timezone.utc).isoformat()
        self.sandbox.call("DELETE", "/faults")  # the retry runs at full speed
        at_kill = sum(self.sandbox.ecm_phones(campaign_id).values()) - held_before
        wait_for("try 2 running", lambda: (t := self.api.task_instance(dag_id, run_id, task_id))["try_number"] == 2
                 and t["state"] in ("running", "success"), 600, interval=1)
        dialled = self.dialled(campaign_id, set(expected))
        state = self.api.wait_run(dag_id, run_id, 900)
        tries = {t["try_number"]: t for t in self.api.tries(dag_id, run_id, task_id)}
        last = self.api.task_instance(dag_id, run_id, task_id)
        tries[last["try_number"]] = last
        self.d.start_worker(victim)  # back to two workers for the next check
        if state != "success" or last["try_number"] != 2 or last["state"] != "success":
            raise RuntimeError(f"run {state}; task try {last['try_number']} {last['state']}")
        first, second = tries[1], tries[2]
        problems = []
        if first["state"] != "failed" or first["hostname"] != victim:
            problems.append(f"try 1: {first['state']} on {first['hostname']}")
        if second["hostname"] in (None, victim):
            problems.append(f"try 2 ran on {second['hostname']}, not the other worker")
        result = self.api.xcom(dag_id, run_id, task_id)
        held = self.sandbox.ecm_phones(campaign_id)
        ours = {phone: held[phone] for phone in expected if held[phone]}
        twice, missing = sum(1 for n in ours.values() if n > 1), len(expected) - len(ours)
        if twice or missing or not result["accepted"] == sum(ours.values()) == len(expected):
            problems.append(f"dialer holds {sum(ours.values())} of {len(expected)} ({twice} twice, {missing} "
                            f"missing), accepted {result['accepted']}")
        if not result.get("resumed_from_row"):
            problems.append("try 2 did not resume from a checkpoint")
        files = sorted(p for p in rejects_dir.rglob("*") if p.is_file())
        rows = read_reject_rows(files[0]) if len(files) == 1 else []
        if len(files) != 1 or rows != bad_rows or result["rejected"] != len(bad_rows) \
                or not str(result["rejects_path"]).endswith(files[0].name):
            problems.append(f"rejects: {len(files)} files {[str(f) for f in files]}, {len(rows)} rows "
                            f"(expected {len(bad_rows)} in one file), XCom rejects_path {result['rejects_path']}")
        if problems:
            raise RuntimeError("; ".join(problems))
        where = rejects.replace(str(self.d.shared), "<shared>")
        return (f"SIGKILL of {victim} ({len(killed)} processes{', the task among them' if in_tree else ''}) at "
                f"{at_kill:,} contacts stored; try 1 failed {_seconds(killed_at, first.get('end_date'))} later "
                f"(heartbeat timeout {HEARTBEAT_TIMEOUT} s); try 2 on {second['hostname']} resumed at row "
                f"{result['resumed_from_row']:,} and ran {_seconds(second.get('start_date'), second.get('end_date'))}"
                + (f", {dialled:,} of the {at_kill:,} stored already being called when it started" if dialled else "")
                + f"; {result['total']:,} rows: {result['accepted']:,} accepted = {len(ours):,} at the dialer, "
                f"0 twice, 0 missing; {result['rejected']} rejects, each once, in 1 file in {where}")

    def dialled(self, campaign_id: str, phones: set[str]) -> int:
        """How many of these contacts of the ECM campaign the dialer has called at least once."""
        return sum(1 for c in self.sandbox.call("GET", "/state/expertflow")["callbacks"]
                   if str(c["campaignId"]) == campaign_id and c["phone1"] in phones and c["attemptNumber"])


def _seconds(start: str | None, end: str | None) -> str:
    """The time from one ISO timestamp to another, as "N s" ("?" when either is missing)."""
    if not start or not end:
        return "?"
    delta = datetime.fromisoformat(end.replace("Z", "+00:00")) - datetime.fromisoformat(start.replace("Z", "+00:00"))
    return f"{delta.total_seconds():.0f} s"


def write_contacts(path: Path, prefix: str) -> tuple[list[str], list[int]]:
    """A CSV of CRASH_ROWS contacts; (the phones ECM should hold, the data-row numbers of the bad rows)."""
    phones, bad = [], []
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["external_id", "phone", "timezone"])
        for n in range(1, CRASH_ROWS + 1):
            phone = f"{prefix}{n:06d}"
            if n % BAD_EVERY == 0:
                phone, _ = "12", bad.append(n)
            else:
                phones.append(phone)
            writer.writerow([f"dc-{n}", phone, "Europe/London"])
    return phones, bad


def read_reject_rows(path: Path) -> list[int]:
    """The data-row numbers in a rejects file, in file order."""
    with path.open(newline="") as handle:
        return [int(row["row"]) for row in csv.DictReader(handle)]


def run(keep: bool) -> tuple[list[tuple[str, bool, str]], dict[str, str], float, Path]:
    """Start the deployment, run every check, stop everything; (results, versions, seconds, home)."""
    started = time.monotonic()
    home = Path(tempfile.mkdtemp(prefix="dialers-distributed-"))
    home.chmod(0o755)  # PostgreSQL runs as the postgres user
    deployment = Deployment(home)
    results: list[tuple[str, bool, str]] = []

    def check(name: str, body: Callable[[], Any]) -> None:
        print(f"== {name}", flush=True)
        begun = time.monotonic()
        try:
            outcome = body()
        except Exception as exc:  # noqa: BLE001 - one FAIL line per check, then the next check
            outcome = [(name, False, f"{type(exc).__name__}: {exc}")]
        if not isinstance(outcome, list):
            outcome = [(name, True, f"{outcome} ({time.monotonic() - begun:.0f} s)")]
        for line in outcome:
            results.append(line)
            print(f"{'PASS' if line[1] else 'FAIL'} {line[0]}: {line[2]}", flush=True)

    def stop(signum: int, _: Any) -> None:
        raise SystemExit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGHUP):  # Ctrl-C raises KeyboardInterrupt: the same cleanup
        signal.signal(signum, stop)
    try:
        print(f"== starting the deployment in {home}", flush=True)

        def deploy() -> str:
            deployment.start_postgres()
            deployment.start_redis()
            deployment.start_sandbox()
            deployment.start_airflow()
            return (f"PostgreSQL {deployment.versions['PostgreSQL']} :{deployment.ports['postgres']}, Redis "
                    f"{deployment.versions['Redis']} :{deployment.ports['redis']}, Airflow "
                    f"{deployment.versions['Airflow']} CeleryExecutor (celery {deployment.versions['celery']}): "
                    f"api-server :{deployment.ports['api']}, scheduler, dag-processor, triggerer, workers "
                    f"{' and '.join(WORKERS)}; sandbox :{deployment.ports['sandbox']}")

        check("deployment", deploy)
        if results[-1][1]:
            checks = Checks(deployment)
            check("example DAGs", checks.example_dags)
            check("deferrable sensor in the triggerer", checks.deferred_sensor)
            check("crash into an idle campaign (ECM 2, paused)",
                  lambda: checks.crash("idle", "2", f"{deployment.shared}/rejects-idle/"))
            check(f"crash into a dialling campaign (ECM 1, running, {CRASH_DIAL_RATE:.0f} contacts/s)",
                  lambda: checks.crash("dialling", "1", f"file://{deployment.shared}/rejects-dialling/"))
    finally:
        print("== stopping every process started (by process id)", flush=True)
        deployment.procs.stop_all()
        ok = all(passed for _, passed, _ in results)
        if ok and not keep:
            shutil.rmtree(home, ignore_errors=True)
        else:
            print(f"   logs kept in {deployment.logs}")
    return results, deployment.versions, time.monotonic() - started, home


def record(results: list[tuple[str, bool, str]], versions: dict[str, str], seconds: float) -> None:
    """Replace the recorded run in docs/distributed-check.md with this one."""
    text = DOC.read_text()
    head, _, rest = text.partition("<!-- run:start -->")
    _, _, tail = rest.partition("<!-- run:end -->")
    lines = [f"{'PASS' if passed else 'FAIL'} {name}: {figures}" for name, passed, figures in results]
    block = (f"<!-- run:start -->\n`./scripts/distributed-check.sh --record` on "
             f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, "
             + ", ".join(f"{k} {v}" for k, v in versions.items())
             + f"; {seconds / 60:.1f} minutes in all.\n\n```text\n" + "\n".join(lines) + "\n```\n<!-- run:end -->")
    DOC.write_text(head + block + tail)


def main() -> int:
    args = set(sys.argv[1:])
    unknown = args - {"--keep", "--record"}
    if unknown:
        print(f"unknown arguments {sorted(unknown)}; use --keep and/or --record", file=sys.stderr)
        return 2
    results, versions, seconds, _ = run("--keep" in args)
    print("== summary")
    for name, passed, figures in results:
        print(f"{'PASS' if passed else 'FAIL'} {name}: {figures}")
    failed = sum(1 for _, passed, _ in results if not passed)
    print(f"{len(results) - failed} of {len(results)} checks passed in {seconds / 60:.1f} minutes")
    if "--record" in args:
        record(results, versions, seconds)
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
