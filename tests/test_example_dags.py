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
        env=env, capture_output=True, text=True, timeout=300, check=False,
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
        env={**airflow_env, **sandbox.connection_env()}, capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    (summary,) = [line for line in result.stdout.splitlines() if line.startswith("DEMO-SUMMARY upload:")]
    assert summary.endswith(
        "{'total': 13, 'accepted': 4, 'rejected': 8, 'duplicates': 1, 'skipped_dnc': 0, 'skipped_window': 0}")
    rejects = (tmp_path / "rejects.csv").read_text()
    assert rejects.count("\n") == 9  # a header and the 8 rejected rows
    assert sandbox.client.stats()["requests"].get(vendor)


# -- issue 4: the lifecycle, fan-out, emergency and follow-up DAGs -----------------------------------

ECM_CONN = "expertflow_ecm_default"
SINCH_SPRING_RENEWALS = "62718C7889CC44F7B944C1A6F6BE9B7F"


def _dags_test(dag_id: str, env: dict[str, str], conf: dict | None = None) -> tuple[subprocess.CompletedProcess, list[str]]:
    """``airflow dags test`` one DAG; its result and its DEMO-SUMMARY lines (marker stripped)."""
    import json

    command = [_airflow(), "dags", "test", dag_id] + (["--conf", json.dumps(conf)] if conf else [])
    result = subprocess.run(command, check=False, env=env, capture_output=True, text=True, timeout=300)
    summary = [line.removeprefix("DEMO-SUMMARY ") for line in result.stdout.splitlines()
               if line.startswith("DEMO-SUMMARY ")]
    return result, summary


def _failure_output(result: subprocess.CompletedProcess) -> str:
    return result.stdout[-6000:] + result.stderr[-2000:]


def _deferred_tasks(output: str) -> list[str]:
    """Task ids that went DEFERRED, in a ``dags test`` output whose trigger then completed."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from demo import deferrals
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    return [task_id for task_id, _ in deferrals(output)]


def test_campaign_lifecycle_dag_runs_an_ecm_campaign_end_to_end(sandbox, airflow_env, tmp_path):
    import ast
    from collections import Counter

    from airflow_provider_dialers.hooks.expertflow import TERMINAL_STATES, RequestState

    sandbox.client.configure(dial_rate=100)
    rejects = tmp_path / "lifecycle.rejects.csv"
    conf = {"campaign_name": "Lifecycle test", "rejects_path": str(rejects), "callback_delay_seconds": 12}
    result, summary = _dags_test("dialer_campaign_lifecycle", {**airflow_env, **sandbox.connection_env()}, conf)
    assert result.returncode == 0, _failure_output(result)

    ecm = sandbox.core.vendors["expertflow"]
    (campaign,) = [c for c in ecm.campaigns.values() if c["name"] == "Lifecycle test"]
    assert f"campaign 'Lifecycle test': id {campaign['id']} (created)" in summary
    assert campaign["status"] == "1"  # paused while loading, then resumed
    assert "contacts: 10 rows, 6 accepted, 4 rejected, 0 duplicates" in summary[1]
    assert "callbacks: 2 scheduled, 0 rejected, 0 duplicates" in summary
    assert "complete: True, 8 contacts, 0 in flight" in summary
    # the reported outcomes are the sandbox's: every contact settled, counted by its final state
    contacts = [c for c in ecm.callbacks.values() if c["campaignId"] == int(campaign["id"])]
    assert len(contacts) == 8
    assert all(RequestState(c["requestState"]) in TERMINAL_STATES for c in contacts)
    expected = Counter(RequestState(c["requestState"]).name for c in contacts)
    (outcomes,) = [line.removeprefix("outcomes: ") for line in summary if line.startswith("outcomes: ")]
    assert ast.literal_eval(outcomes) == dict(expected)
    callbacks = {c["phone1"]: c for c in contacts if c["dialTime"]}
    assert set(callbacks) == {"+15550600101", "+15550600102"}
    assert {c["businessParam1"] for c in callbacks.values()} == {"Kim", "Lee"}
    assert rejects.read_text().count("\n") == 5  # a header and the 4 bad rows
    # the callbacks were due after the first check: the sensor waited in the triggerer
    assert _deferred_tasks(result.stdout) == ["wait_for_completion"]


def test_global_emergency_dag_stops_then_restores_exactly_what_it_stopped(sandbox, airflow_env):
    from airflow_provider_dialers.hooks import get_dialer_hook

    conn_ids = ("maxcontact_default", ECM_CONN, "sinch_obi_default")

    def running() -> dict[str, set[str]]:
        states = {}
        for conn_id in conn_ids:
            with get_dialer_hook(conn_id) as hook:
                states[conn_id] = {c["id"] for c in hook.list_campaigns() if c["running"]}
        return states

    def statuses() -> dict[str, dict[str, str]]:
        states = {}
        for conn_id in conn_ids:
            with get_dialer_hook(conn_id) as hook:
                states[conn_id] = {c["id"]: c["status"] for c in hook.list_campaigns()}
        return states

    before, running_before = statuses(), running()
    assert all(running_before.values())  # every dialer has a running campaign to stop
    env = {**airflow_env, **sandbox.connection_env()}

    result, summary = _dags_test("dialer_global_emergency", env, {"enabled": True})
    assert result.returncode == 0, _failure_output(result)
    assert running() == {conn_id: set() for conn_id in conn_ids}
    assert statuses()[ECM_CONN]["2"] == before[ECM_CONN]["2"] == "Paused"  # paused before: untouched
    for conn_id in conn_ids:
        (line,) = [line for line in summary if line.startswith(conn_id)]
        assert "emergency stop on; stopped" in line and all(repr(cid) in line for cid in running_before[conn_id])
    assert "(native)" in next(line for line in summary if line.startswith("maxcontact_default"))

    result, summary = _dags_test("dialer_global_emergency", env, {"enabled": False})
    assert result.returncode == 0, _failure_output(result)
    assert statuses() == before
    for conn_id in conn_ids:
        (line,) = [line for line in summary if line.startswith(conn_id)]
        assert "emergency stop off; restored" in line and all(repr(cid) in line for cid in running_before[conn_id])


def test_fanout_dag_sends_one_file_to_every_dialer_and_skips_what_cannot_take_it(sandbox, airflow_env, tmp_path):
    conf = {"rejects_dir": str(tmp_path / "rejects")}
    result, summary = _dags_test("dialer_multi_vendor_fanout", {**airflow_env, **sandbox.connection_env()}, conf)
    assert result.returncode == 0, _failure_output(result)
    counts = "{'total': 13, 'accepted': 4, 'rejected': 8, 'duplicates': 1, 'skipped_dnc': 0, 'skipped_window': 0}"
    assert summary == [
        f"expertflow_ecm_default (campaign 2): {counts}",
        "maxcontact_default (campaign 1): skipped (its API cannot take contacts)",
        f"sinch_obi_default (campaign 8A7C98EAF1164F2FAA93B98EECB95D76): {counts}",
        f"ameyo_default (campaign 1): {counts}",
    ]
    assert sorted(path.name for path in (tmp_path / "rejects").iterdir()) == [
        f"{conn_id}.rejects.csv" for conn_id in ("ameyo_default", "expertflow_ecm_default", "sinch_obi_default")]
    ecm = sandbox.core.vendors["expertflow"]
    assert sum(1 for c in ecm.callbacks.values() if c["campaignId"] == 2) == 3 + 4  # seeded + accepted


def _set_ecm_contact_state(sandbox, phone: str, state: int, attempts: int) -> None:
    """Settle a seeded contact of ECM campaign 1 by hand (the sandbox does not dial in tests)."""
    ecm = sandbox.core.vendors["expertflow"]
    (contact,) = [c for c in ecm.callbacks.values() if c["phone1"] == phone and c["campaignId"] == 1]
    contact.update(requestState=state, attemptNumber=attempts)


def _sinch_customers(sandbox, external_id: str) -> list:
    campaign = sandbox.core.vendors["sinch"].campaigns[SINCH_SPRING_RENEWALS]
    return [c for c in campaign.customers.values() if c.external_id == external_id]


def test_followup_dag_calls_back_on_the_fallback_dialer_when_retries_are_exhausted(sandbox, airflow_env):
    from airflow_provider_dialers.hooks.expertflow import RequestState

    _set_ecm_contact_state(sandbox, "+15550100102", RequestState.RETRIES_COMPLETED, 3)
    result, summary = _dags_test("dialer_contact_followup", {**airflow_env, **sandbox.connection_env()},
                                 {"contact": "+15550100102"})
    assert result.returncode == 0, _failure_output(result)
    assert summary[0] == "contact +15550100102 on expertflow_ecm_default: RETRIES_COMPLETED after 3 attempts"
    assert summary[1] == (f"callback on sinch_obi_default campaign {SINCH_SPRING_RENEWALS}: "
                          "1 scheduled, 0 already scheduled, 0 rejected")
    (customer,) = _sinch_customers(sandbox, "followup-1-15550100102")
    assert customer.numbers == ["+15550100102", "+15550200102"]  # the ECM contact's phone1 and phone2


def test_followup_dag_ends_when_the_contact_was_reached(sandbox, airflow_env):
    from airflow_provider_dialers.hooks.expertflow import RequestState

    _set_ecm_contact_state(sandbox, "+15550100101", RequestState.CONNECTED, 1)
    result, summary = _dags_test("dialer_contact_followup", {**airflow_env, **sandbox.connection_env()})
    assert result.returncode == 0, _failure_output(result)
    assert summary == ["contact +15550100101 on expertflow_ecm_default: CONNECTED after 1 attempts",
                       "reached (CONNECTED): no follow-up needed"]
    assert not _sinch_customers(sandbox, "followup-1-15550100101")
    assert _deferred_tasks(result.stdout) == []  # already final: the sensor did not defer


def test_followup_dag_fails_at_once_on_a_failure_state(sandbox, airflow_env):
    from airflow_provider_dialers.hooks.expertflow import RequestState

    _set_ecm_contact_state(sandbox, "03001234567", RequestState.DNC_LISTED, 0)
    result, summary = _dags_test("dialer_contact_followup", {**airflow_env, **sandbox.connection_env()},
                                 {"contact": "03001234567"})
    assert result.returncode != 0
    assert "reached failure state DNC_LISTED" in result.stdout
    assert summary == []
    assert not _sinch_customers(sandbox, "followup-1-03001234567")
