"""R4 Secret hygiene: the whole demo, Airflow and this package logging at DEBUG, leaves no secret anywhere.

Every example DAG runs with ``airflow dags test`` (the demo's plan, emergency stop on and off) against the
in-process sandbox, then one more run whose dialers echo secrets in their error answers (fault
injection), so exception texts are exercised. Searched afterwards, for every secret used: each run's
stdout/stderr, every file under AIRFLOW_HOME/logs, the rejects files, the whole SQLite metadata DB
(XComs, rendered template fields, Variables, the log table... as a dump of every table, and as raw
bytes). Secrets: the sandbox users' passwords and API key, their Base64 forms (MaxContact's password,
Sinch's ``login:password``) and every token, refresh token and session id the sandbox issued during the
run. The sandbox's request log shows that no URL (path or query string) carried any of them.
"""

from __future__ import annotations

import base64
import json
import os
import re
import sqlite3
import subprocess
import sys
import traceback
from pathlib import Path
from urllib.parse import parse_qsl, unquote_plus

import pytest

from airflow_provider_dialers.hooks import dialer_hook_class
from airflow_provider_dialers.hooks.base import DialerError, RetryPolicy
from airflow_provider_dialers.sandbox.core import DEFAULT_CREDENTIALS

ROOT = Path(__file__).resolve().parent.parent
DAGS_FOLDER = ROOT / "example_dags"
DIAL_RATE = 200.0  # the demo's rate
#: The only lines allowed to show a secret: `airflow dags test` runs the task's supervisor in process,
#: and its comms channel logs every message at DEBUG, MaskSecret(value=...) included (Airflow's real
#: supervisor logs "Received message from task runner (body omitted)" for those). They are counted
#: and reported, and each secret must appear in one: that proves it was registered with the masker.
AIRFLOW_MASK_ECHO = re.compile(r"\[debug\s*\] Sending request\s+loc=supervisor\.py:\d+ msg=MaskSecret\(")
#: Query-string keys that would carry a credential.
CREDENTIAL_KEYS = {"password", "passwd", "pwd", "token", "access_token", "refresh_token", "sessionid",
                   "session_id", "api_key", "apikey", "x-api-key", "key", "secret", "authorization", "data"}


def _demo_runs():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from demo import demo_runs
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    return demo_runs()


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def static_secrets() -> dict[str, str]:
    """name -> value: the configured secrets and their Base64 forms (what the hooks derive)."""
    found = {}
    for vendor, creds in DEFAULT_CREDENTIALS.items():
        found[f"{vendor} password"] = creds["password"]
        found[f"{vendor} password base64"] = _b64(creds["password"])
        found[f"{vendor} login:password base64"] = _b64(f"{creds['login']}:{creds['password']}")
        if "api_key" in creds:
            found[f"{vendor} api key"] = creds["api_key"]
    return found


def vendor_secrets(vendor: str) -> list[str]:
    """The configured secrets one vendor's hook uses: its password, and the forms it sends."""
    creds = DEFAULT_CREDENTIALS[vendor]
    derived = {"maxcontact": [_b64(creds["password"])],
               "sinch": [_b64(f"{creds['login']}:{creds['password']}"), creds.get("api_key", "")]}
    return [creds["password"], *derived.get(vendor, [])]


def echo_faults() -> list[dict]:
    """Error answers that echo the configured secrets back, one rule per vendor (until cleared)."""
    creds = DEFAULT_CREDENTIALS
    sinch_basic = _b64(f"{creds['sinch']['login']}:{creds['sinch']['password']}")

    def body(text: str) -> str:
        return json.dumps({"error": text, "message": text, "Message": text, "statusCode": 400})

    return [
        {"vendor": "expertflow", "path": "/umm/ecm/campaign$", "status": 400,
         "body": body(f"rejected for admin/{creds['expertflow']['password']}")},
        {"vendor": "maxcontact", "path": "/management/campaigns", "status": 400,
         "body": body(f"TokenKey refused; Authorization {_b64(creds['maxcontact']['password'])} "
                      f"({creds['maxcontact']['password']})")},
        {"vendor": "sinch", "path": "/campaigns", "status": 400,
         "body": body(f"Basic {sinch_basic} with x-api-key {creds['sinch']['api_key']} refused")},
        {"vendor": "ameyo", "status": 500, "content_type": "text/html",
         "body": f"<html><body>login failed: password={creds['ameyo']['password']}</body></html>"},
    ]


def _airflow() -> str:
    return str(Path(sys.executable).parent / "airflow")


def _dump_db(path: Path) -> tuple[str, dict[str, int]]:
    """The whole metadata DB as SQL text, and the row counts of the tables the brief names."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        dump = "\n".join(con.iterdump())
        rows = {table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 (fixed names)
                for table in ("xcom", "rendered_task_instance_fields", "variable", "log")}
        xcoms = [r[0] for r in con.execute("SELECT value FROM xcom")]
        rendered = [r[0] for r in con.execute("SELECT rendered_fields FROM rendered_task_instance_fields")]
    finally:
        con.close()
    extra = "\n".join(str(v) for v in [*xcoms, *rendered])
    return dump + "\n" + extra, rows


def test_no_secret_anywhere_after_the_whole_demo_at_debug(sandbox, sandbox_client, tmp_path, reliability_report):
    home = tmp_path / "airflow-home"
    home.mkdir()
    outputs = tmp_path / "out"
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "DEBUG",  # Airflow's and (by inheritance) this package's loggers
        "TZ": "UTC",
        **sandbox.connection_env(),
    }
    migrate = subprocess.run([_airflow(), "db", "migrate"], env=env, capture_output=True, text=True, timeout=300,
                             check=False)
    assert migrate.returncode == 0, migrate.stdout[-3000:] + migrate.stderr[-2000:]
    sandbox_client.configure(dial_rate=DIAL_RATE)

    texts: dict[str, str] = {"db migrate": migrate.stdout + migrate.stderr}
    overrides = {  # keep the demo's Params, but write rejects under tmp and keep the callbacks' wait short
        "dialer_upload_contacts": {"rejects_path": str(outputs / "upload.rejects.csv")},
        "dialer_multi_vendor_fanout": {"rejects_dir": str(outputs / "fanout")},
        "dialer_campaign_lifecycle": {"rejects_path": str(outputs / "lifecycle.rejects.csv"),
                                      "callback_delay_seconds": 5},
    }
    runs = [(run.name, run.dag_id, {**run.conf, **overrides.get(run.dag_id, {})}) for run in _demo_runs()]
    assert {dag_id for _, dag_id, _ in runs} == {p.stem for p in DAGS_FOLDER.glob("dialer_*.py")}
    assert [name for name, _, _ in runs].count("dialer_global_emergency-enable") == 1

    def dags_test(name: str, dag_id: str, conf: dict) -> subprocess.CompletedProcess:
        command = [_airflow(), "dags", "test", dag_id] + (["--conf", json.dumps(conf)] if conf else [])
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
        texts[f"{name} stdout"], texts[f"{name} stderr"] = result.stdout, result.stderr
        return result

    for name, dag_id, conf in runs:
        result = dags_test(name, dag_id, conf)
        assert result.returncode == 0, (name, result.stdout[-4000:] + result.stderr[-2000:])

    # Exception texts: the dialers now answer errors that echo the secrets back. Every check fails.
    for rule in echo_faults():
        sandbox_client.add_fault(count=None, **rule)
    failed = dags_test("connections_check-echoing-errors", "dialer_connections_check", {})
    sandbox_client.clear_faults()
    assert failed.returncode != 0
    failing_output = failed.stdout + failed.stderr
    for conn_id in ("expertflow_ecm_default", "maxcontact_default", "sinch_obi_default", "ameyo_default"):
        assert f"RuntimeError: {conn_id}: " in failing_output, conn_id  # each task failed with its reason...
    assert failing_output.count("***") >= 4  # ...and the echoed secrets were redacted out of the reasons

    # DEBUG really was on, for Airflow and for this package
    everything = "\n".join(texts.values())
    assert re.search(r"\[debug\s*\].*\[airflow\.task\.hooks\.airflow_provider_dialers\.vendors\.", everything)

    # -- what to search ----------------------------------------------------------------------------------
    for path in sorted(p for p in home.joinpath("logs").rglob("*") if p.is_file()):
        texts[f"log file {path.relative_to(home)}"] = path.read_text(errors="replace")
    for path in sorted(p for p in outputs.rglob("*") if p.is_file()):
        texts[f"output file {path.name}"] = path.read_text(errors="replace")
    db_text, db_rows = _dump_db(home / "airflow.db")
    texts["metadata DB (every table)"] = db_text
    for suffix in ("", "-wal", "-journal"):
        raw = home / f"airflow.db{suffix}"
        if raw.exists():
            texts[f"metadata DB raw bytes {raw.name}"] = raw.read_bytes().decode("latin-1")
    assert db_rows["xcom"] > 0 and db_rows["rendered_task_instance_fields"] > 0, db_rows

    issued = sandbox.core.issued_secrets()
    assert all(issued[vendor] for vendor in ("expertflow", "maxcontact", "ameyo")), issued  # Sinch: Basic auth
    ecm = sandbox.core.vendors["expertflow"]
    assert ecm.refresh_tokens and set(ecm.refresh_tokens) <= set(issued["expertflow"])
    secrets = dict(static_secrets())
    for vendor, values in issued.items():
        for n, value in enumerate(values):
            secrets[f"{vendor} issued #{n}"] = value
    assert len(set(secrets.values())) == len(secrets)

    # -- search --------------------------------------------------------------------------------------------
    hits: list[str] = []
    echo_lines = 0
    echoed: set[str] = set()
    searched_bytes = 0
    for source, text in texts.items():
        searched_bytes += len(text.encode("utf-8", "replace"))
        for line in text.splitlines():
            found = [name for name, value in secrets.items() if value in line]
            if not found:
                continue
            if AIRFLOW_MASK_ECHO.search(line):
                echo_lines += 1
                echoed.update(found)
                continue
            hits.extend(f"{source}: {name}: {line[:300]}" for name in found)
    assert hits == [], "\n".join(hits[:50])
    # every secret that was in use reached Airflow's masker (the echo of each MaskSecret shows it)
    in_use = {name for name, value in secrets.items()
              if " issued " in name or value in {DEFAULT_CREDENTIALS[v]["password"] for v in DEFAULT_CREDENTIALS}
              or name in {"sinch api key", "maxcontact password base64", "sinch login:password base64"}}
    assert in_use - echoed == set()

    # -- URLs ---------------------------------------------------------------------------------------------
    log = sandbox.core.request_log()
    url_hits = [(r["method"], r["path"], r["query"]) for r in log
                if any(value in unquote_plus(f"{r['path']}?{r['query']}") for value in secrets.values())]
    assert url_hits == []
    credential_params = [(r["path"], key) for r in log for key, _ in parse_qsl(r["query"])
                         if key.lower() in CREDENTIAL_KEYS]
    assert credential_params == []
    ameyo = [r for r in log if r["vendor"] == "ameyo"]
    # Ameyo's commands (its login among them) go as a form body: not one carried a query string
    assert ameyo and all(r["query"] == "" and r["method"] == "POST" for r in ameyo)
    ameyo_logins = sandbox_client.stats()["logins"]["ameyo"]
    assert ameyo_logins > 0

    reliability_report(
        "R4 secret hygiene (demo at DEBUG)",
        dag_runs=len(runs) + 1, sources=len(texts), bytes_searched=searched_bytes,
        secrets_searched=len(secrets), issued_credentials=sum(len(v) for v in issued.values()), hits=len(hits),
        airflow_mask_echo_lines=echo_lines, xcoms=db_rows["xcom"],
        rendered_fields=db_rows["rendered_task_instance_fields"], requests=len(log), url_hits=len(url_hits),
        ameyo_logins_in_body=ameyo_logins,
    )


# -- exception texts over every vendor, with the secrets only known after login ------------------------------

VENDOR_CONN = {"expertflow": "expertflow_ecm_default", "maxcontact": "maxcontact_default",
               "sinch": "sinch_obi_default", "ameyo": "ameyo_default"}
CONN_TYPE = {"expertflow": "expertflow_ecm", "maxcontact": "maxcontact", "sinch": "sinch_obi", "ameyo": "ameyo"}


def test_error_answers_echoing_live_tokens_never_reach_an_exception_text_or_a_log(sandbox, sandbox_client, caplog,
                                                                                 reliability_report):
    """After a login, each dialer answers an error that echoes every secret of the moment: the live token /
    session id, the refresh token, the password and its Base64 forms. The exception's text, repr,
    ``vendor_message`` and formatted traceback, and every log record (DEBUG), hold none of them."""
    import logging

    caplog.set_level(logging.DEBUG)
    quick = RetryPolicy(backoff_initial=0.01, backoff_max=0.05)
    checked = 0
    for vendor, conn_id in VENDOR_CONN.items():
        hook = dialer_hook_class(CONN_TYPE[vendor])(conn_id, retry_policy=quick)
        hook.list_campaigns()  # logs in (Sinch: Basic auth, nothing issued)
        live = [*sandbox.core.issued_secrets()[vendor], *vendor_secrets(vendor)]
        echo = " ".join(live)
        sandbox_client.add_fault(vendor=vendor, status=400, count=None,
                                 body=json.dumps({"error": echo, "message": echo, "Message": echo, "statusCode": 400}))
        try:
            with pytest.raises(DialerError) as caught:
                # Ameyo lists campaigns from its login answer: read its leads instead (one command)
                hook.get_leads_for_campaign(1) if vendor == "ameyo" else hook.list_campaigns()
        finally:
            sandbox_client.clear_faults()
            hook.close()
        exc = caught.value
        text = "\n".join([str(exc), repr(exc), str(getattr(exc, "vendor_message", "")),
                          "".join(traceback.format_exception(exc))])
        assert "***" in text, (vendor, text)  # the echo did reach the message, redacted
        leaked = [value for value in live if value in text]
        assert leaked == [], (vendor, leaked, text)
        checked += len(live)
    records = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    every = [*sandbox.core.issued_secrets()["expertflow"], *sandbox.core.issued_secrets()["ameyo"],
             *sandbox.core.issued_secrets()["maxcontact"], *static_secrets().values()]
    assert [value for value in every if value in records] == []
    reliability_report("R4 exception texts (echoed secrets)", vendors=len(VENDOR_CONN), secrets_echoed=checked,
                       hits=0, log_records=len(caplog.records))
