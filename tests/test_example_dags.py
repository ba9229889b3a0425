"""Example DAGs: import cleanly with no network access, and run end to end against the sandbox."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DAGS_FOLDER = ROOT / "example_dags"


def test_example_dags_import_without_errors_or_network(monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    def no_network(*args, **kwargs):
        raise AssertionError(f"network access at DAG parse time: {args}")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    bag = DagBag(dag_folder=str(DAGS_FOLDER))
    assert bag.import_errors == {}
    assert "dialer_connections_check" in bag.dag_ids
    for dag in bag.dags.values():
        assert dag.doc_md and "dialers" in dag.tags


@pytest.fixture(scope="module")
def airflow_env(tmp_path_factory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("airflow-home")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    subprocess.run([_airflow(), "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    return env


def _airflow() -> str:
    return str(Path(sys.executable).parent / "airflow")


def test_connections_check_dag_lists_every_vendors_campaigns(sandbox, airflow_env):
    env = {**airflow_env, **sandbox.connection_env()}
    result = subprocess.run(
        [_airflow(), "dags", "test", "dialer_connections_check"],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    summary = [line for line in result.stdout.splitlines() if line.startswith("DEMO-SUMMARY")]
    for conn_id in ("expertflow_ecm_default", "maxcontact_default", "sinch_obi_default", "ameyo_default"):
        assert any(conn_id in line and "campaigns" in line for line in summary), summary
    # the seeded campaigns of every vendor are printed
    assert len(summary) > 8
    logins = sandbox.client.stats()["logins"]
    assert set(logins) >= {"expertflow", "maxcontact", "ameyo"}  # Sinch uses Basic auth: no login call


@pytest.mark.parametrize(("conn_id", "vendor", "campaign_id"), [
    ("expertflow_ecm_default", "expertflow", "1"),
    ("sinch_obi_default", "sinch", "62718C7889CC44F7B944C1A6F6BE9B7F"),
    ("ameyo_default", "ameyo", "1"),
])
def test_the_upload_dag_gives_the_same_accounting_on_every_dialer(sandbox, airflow_env, tmp_path, conn_id, vendor,
                                                                   campaign_id):
    import json

    conf = {"conn_id": conn_id, "campaign_id": campaign_id, "rejects_path": str(tmp_path / "rejects.csv")}
    result = subprocess.run(
        [_airflow(), "dags", "test", "dialer_upload_contacts", "--conf", json.dumps(conf)],
        env={**airflow_env, **sandbox.connection_env()}, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    (summary,) = [line for line in result.stdout.splitlines() if line.startswith("DEMO-SUMMARY upload:")]
    assert summary.endswith(
        "{'total': 13, 'accepted': 4, 'rejected': 8, 'duplicates': 1, 'skipped_dnc': 0, 'skipped_window': 0}")
    rejects = (tmp_path / "rejects.csv").read_text()
    assert rejects.count("\n") == 9  # a header and the 8 rejected rows
    assert sandbox.client.stats()["requests"].get(vendor)
