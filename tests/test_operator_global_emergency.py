"""GlobalEmergencyOperator over real HTTP against the sandbox: native (MaxContact), emulated (ECM 13.3,
ECM 13.2, Sinch), and Ameyo's clear refusal.

Variables: outside a running task, Airflow 3's ``Variable.set`` needs the task supervisor, so most
tests swap the operator module's ``Variable`` for an in-memory stand-in (JSON round trip, as the
metadata DB stores text). ``test_real_variable_carries_the_stop_across_dag_runs`` runs the operator
for real, in two DAG runs of ``dag.test()`` in a child process with its own AIRFLOW_HOME (metadata DB
migrated once), so the Airflow Variable path is covered too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from airflow_provider_dialers.hooks import get_dialer_hook
from airflow_provider_dialers.hooks.base import DialerError, DialerNotSupportedError, DialerValidationError
from airflow_provider_dialers.operators.emergency import GlobalEmergencyOperator, emergency_variable_key
from tests.support import run_emergency as run

# Every sandbox test here runs under each readings profile (the references' silent points read
# one way, then the other: docs/readings.md).
pytestmark = pytest.mark.readings_profiles

SINCH_RUNNING = "62718C7889CC44F7B944C1A6F6BE9B7F"  # seeded Active
SINCH_PAUSED = "8A7C98EAF1164F2FAA93B98EECB95D76"  # seeded Passive
SINCH_HANDLED = "E49625CFDF58E311B764005056A7012B"  # seeded Handled (finished)


# Campaign statuses read straight from each vendor's sandbox state.
def ecm_statuses(sandbox) -> dict[str, str]:
    words = {"1": "running", "0": "paused"}
    return {c["id"]: words[c["status"]] for c in sandbox.client.state("expertflow")["campaigns"]}


def sinch_statuses(sandbox) -> dict[str, str]:
    return {cid: c["status"] for cid, c in sandbox.client.state("sinch")["campaigns"].items()}


def maxcontact_statuses(sandbox) -> dict[str, int]:
    return {c["Id"]: c["Status"] for c in sandbox.client.state("maxcontact")["campaigns"]}


# connection, ECM release (None: not ECM), statuses reader, the seeded running ids, the running word
EMULATED = {
    "ecm-13.3": ("expertflow_ecm_default", "13.3", ecm_statuses, ["1", "3"], "running"),
    "ecm-13.2": ("expertflow_ecm_132", "13.2", ecm_statuses, ["1", "3"], "running"),
    "sinch": ("sinch_obi_default", None, sinch_statuses, [SINCH_RUNNING], "Active"),
}


@pytest.fixture(params=sorted(EMULATED))
def emulated(request, sandbox):
    conn_id, release, read, running, running_word = EMULATED[request.param]
    if release:
        sandbox.core.vendors["expertflow"].release = release
    return conn_id, lambda: read(sandbox), running, running_word


# --------------------------------------------------------------------------------------------
# Native: MaxContact's Global Emergency
# --------------------------------------------------------------------------------------------


def test_native_emergency_stops_every_campaign_and_reports_them(sandbox, variables):
    result = run("maxcontact_default", True)

    assert result == {"mode": "native", "enabled": True, "paused": ["1", "4"], "resumed": []}
    assert sandbox.client.state("maxcontact")["global_emergency"] is True
    assert maxcontact_statuses(sandbox) == {1: 0, 2: 2, 3: 0, 4: 0, 5: 3}
    record = variables.record("maxcontact_default")  # what it stopped outlives this DAG run
    assert (record["paused"], record["mode"]) == (["1", "4"], "native") and record["at"]


@pytest.mark.parametrize("disable_reading", ["restart_stopped", "flag_only"])
def test_native_emergency_disable_restarts_what_it_stopped(sandbox, variables, capsys, disable_reading):
    # flag_only: the server's "disable" only ends the mode; the recorded campaigns are restarted by the
    # hook, from the record a fresh hook (a later DAG run) gets from the Variable.
    sandbox.client.configure(readings={"mc_emergency_disable": disable_reading})
    run("maxcontact_default", True)

    result = run("maxcontact_default", False)

    assert result == {"mode": "native", "enabled": False, "paused": [], "resumed": ["1", "4"]}
    assert sandbox.client.state("maxcontact")["global_emergency"] is False
    assert maxcontact_statuses(sandbox) == {1: 1, 2: 2, 3: 0, 4: 1, 5: 3}  # 2 was paused before: still paused
    assert variables.record("maxcontact_default") is None
    assert "global emergency disabled: stopped [], restarted ['1', '4']" in capsys.readouterr().out
    restarts = [r for r in sandbox.client.requests(vendor="maxcontact", path="/status$")
                if r["method"] == "PATCH" and r["status"] == 200]  # (a refused value form is learnt, then resent)
    assert len(restarts) == (2 if disable_reading == "flag_only" else 0)


def test_native_emergency_disable_leaves_a_campaign_changed_during_it(sandbox, variables):
    sandbox.client.configure(readings={"mc_emergency_disable": "flag_only"})
    run("maxcontact_default", True)
    with get_dialer_hook("maxcontact_default") as hook:
        hook.update_campaign_status(4, 2)  # someone pauses campaign 4 during the emergency

    assert run("maxcontact_default", False)["resumed"] == ["1"]
    assert maxcontact_statuses(sandbox) == {1: 1, 2: 2, 3: 0, 4: 2, 5: 3}


def test_native_emergency_restart_refused_stays_recorded_for_a_retry(sandbox, variables):
    sandbox.client.configure(readings={"mc_emergency_disable": "flag_only"})
    run("maxcontact_default", True)
    sandbox.client.add_fault(vendor="maxcontact", method="PATCH", path="/campaigns/4/status$", status=200,
                             body='{"Success": false, "Data": null, "ResponseCode": "Error", '
                                  '"ResponseDetail": "Campaign 4 is locked"}')

    with pytest.raises(DialerError, match=r"could not restart campaigns \['4'\]"):
        run("maxcontact_default", False)

    assert maxcontact_statuses(sandbox)[1] == 1
    assert variables.record("maxcontact_default")["paused"] == ["4"]
    assert run("maxcontact_default", False)["resumed"] == ["4"]  # the retry restarts it
    assert maxcontact_statuses(sandbox)[4] == 1 and variables.record("maxcontact_default") is None


# --------------------------------------------------------------------------------------------
# Emulated: ECM 13.3, ECM 13.2, Sinch
# --------------------------------------------------------------------------------------------


def test_emulated_emergency_pauses_running_campaigns_and_resumes_exactly_those(emulated, variables):
    conn_id, statuses, running, running_word = emulated
    before = statuses()

    stopped = run(conn_id, True)

    assert stopped == {"mode": "emulated", "enabled": True, "paused": running, "resumed": []}
    assert running_word not in statuses().values()
    assert variables.record(conn_id)["paused"] == running
    assert variables.record(conn_id)["at"]

    resumed = run(conn_id, False)

    assert resumed == {"mode": "emulated", "enabled": False, "paused": [], "resumed": running}
    assert statuses() == before  # a campaign paused before the emergency stays paused
    assert variables.record(conn_id) is None


def test_enabling_twice_keeps_the_first_list(emulated, variables):
    conn_id, statuses, running, _ = emulated
    before = statuses()
    run(conn_id, True)

    again = run(conn_id, True)

    assert again["paused"] == []
    assert variables.record(conn_id)["paused"] == running
    assert run(conn_id, False)["resumed"] == running
    assert statuses() == before


def test_a_campaign_restarted_during_the_emergency_is_added_by_a_second_enable(sandbox, variables):
    before = ecm_statuses(sandbox)
    run("expertflow_ecm_default", True)
    first = variables.record("expertflow_ecm_default")
    with get_dialer_hook("expertflow_ecm_default") as hook:
        hook.set_campaign_status("2", "running")  # someone starts a campaign during the emergency

    assert run("expertflow_ecm_default", True)["paused"] == ["2"]
    assert variables.record("expertflow_ecm_default") == {"paused": ["1", "3", "2"], "at": first["at"],
                                                          "mode": "emulated"}
    assert run("expertflow_ecm_default", False)["resumed"] == ["1", "3", "2"]
    assert ecm_statuses(sandbox) == {**before, "2": "running"}


def test_disable_without_a_recorded_stop_changes_nothing(sandbox, variables):
    before = sinch_statuses(sandbox)

    result = run("sinch_obi_default", False)

    assert result == {"mode": "emulated", "enabled": False, "paused": [], "resumed": []}
    assert sinch_statuses(sandbox) == before
    assert not [r for r in sandbox.client.requests(vendor="sinch") if r["method"] == "PUT"]


def test_a_campaign_that_cannot_be_paused_fails_the_task_after_pausing_the_others(sandbox, variables):
    sandbox.core.vendors["sinch"].campaigns[SINCH_HANDLED].status = "Active"
    sandbox.client.add_fault(vendor="sinch", method="PUT", path=f"/campaigns/{SINCH_RUNNING}/status",
                             status=500)

    with pytest.raises(DialerError, match=f"could not pause campaigns \\['{SINCH_RUNNING}'\\]"):
        run("sinch_obi_default", True)

    statuses = sinch_statuses(sandbox)
    assert (statuses[SINCH_RUNNING], statuses[SINCH_HANDLED]) == ("Active", "Passive")
    # recorded before pausing: whatever this attempt or its retry pauses is resumed later
    assert variables.record("sinch_obi_default")["paused"] == [SINCH_RUNNING, SINCH_HANDLED]
    assert run("sinch_obi_default", True)["paused"] == [SINCH_RUNNING]  # the retry finishes the job
    assert sinch_statuses(sandbox)[SINCH_RUNNING] == "Passive"


def test_a_campaign_that_cannot_be_resumed_stays_recorded_for_a_retry(sandbox, variables):
    run("expertflow_ecm_default", True)
    key = emergency_variable_key("expertflow_ecm_default")
    recorded = variables.record("expertflow_ecm_default")
    variables.set(key, {**recorded, "paused": ["1", "99", "3"]}, serialize_json=True)  # 99: deleted since

    with pytest.raises(DialerError, match=r"could not resume campaigns \['99'\]"):
        run("expertflow_ecm_default", False)

    assert (ecm_statuses(sandbox)["1"], ecm_statuses(sandbox)["3"]) == ("running", "running")
    assert variables.record("expertflow_ecm_default")["paused"] == ["99"]


def test_each_connection_has_its_own_record(sandbox, variables):
    sandbox.core.vendors["expertflow"].release = "13.3"
    run("expertflow_ecm_default", True)
    run("sinch_obi_default", True)

    assert run("sinch_obi_default", False)["resumed"] == [SINCH_RUNNING]
    assert variables.record("expertflow_ecm_default")["paused"] == ["1", "3"]
    assert set(ecm_statuses(sandbox).values()) == {"paused"}


# --------------------------------------------------------------------------------------------
# Ameyo, parameters
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("enabled", [True, False])
def test_ameyo_can_neither_and_says_so(sandbox, variables, enabled):
    with pytest.raises(DialerNotSupportedError) as info:
        run("ameyo_default", enabled)

    assert info.value.vendor == "Ameyo"
    assert "no global emergency endpoint and no way to pause campaigns" in str(info.value)
    assert "cannot tell which campaigns are running" in str(info.value)
    assert variables.values == {}


def test_a_hook_without_a_campaign_status_capability_cannot_emulate(sandbox, variables, monkeypatch):
    from airflow_provider_dialers.capabilities import DialerCapabilities
    from airflow_provider_dialers.hooks.expertflow import ExpertflowEcmHook

    monkeypatch.setattr(ExpertflowEcmHook, "set_campaign_status", DialerCapabilities.set_campaign_status)

    with pytest.raises(DialerNotSupportedError, match="no way to pause campaigns to emulate one$"):
        run("expertflow_ecm_default", True)
    assert ecm_statuses(sandbox) == {"1": "running", "2": "paused", "3": "running"}


@pytest.mark.parametrize(("given", "expected"),
                         [("true", True), (" False ", False), ("1", True), ("off", False)])
def test_enabled_accepts_rendered_template_text(sandbox, variables, given, expected):
    assert run("maxcontact_default", given)["enabled"] is expected


def test_enabled_refuses_anything_else(sandbox, variables):
    with pytest.raises(DialerValidationError, match="enabled: must be true or false"):
        run("maxcontact_default", "maybe")
    assert sandbox.client.requests(vendor="maxcontact") == []


def test_connection_and_enabled_are_templated():
    assert set(GlobalEmergencyOperator.template_fields) == {"dialer_conn_id", "enabled"}


# --------------------------------------------------------------------------------------------
# The real Airflow Variable, across two DAG runs
# --------------------------------------------------------------------------------------------

DAG_FILE = '''
import json

import pendulum
from airflow.sdk import DAG

from airflow_provider_dialers.hooks import get_dialer_hook
from airflow_provider_dialers.operators.emergency import GlobalEmergencyOperator, emergency_variable_key


CONN_ID = "expertflow_ecm_default"
DAGS = {}
for enabled in (True, False):
    with DAG(f"emergency_{enabled}", schedule=None, start_date=pendulum.datetime(2024, 1, 1)) as dag:
        GlobalEmergencyOperator(task_id="emergency", dialer_conn_id=CONN_ID, enabled=enabled)
    DAGS[enabled] = dag

if __name__ == "__main__":
    from airflow.models.variable import Variable
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    for enabled in (True, False):
        run = DAGS[enabled].test()
        with create_session() as session:
            xcom = session.query(XComModel).filter_by(
                dag_id=run.dag_id, run_id=run.run_id, task_id="emergency", key="return_value").one().value
        with get_dialer_hook(CONN_ID) as hook:
            statuses = {c["id"]: c["status"] for c in hook.list_campaigns()}
        variable = Variable.get(emergency_variable_key(CONN_ID), default_var=None)
        print("RESULT " + json.dumps({"state": str(run.state), "xcom": xcom, "statuses": statuses,
                                      "variable": json.loads(variable) if variable else None}))
'''


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("emergency-airflow-home")
    dags = home / "dags"
    dags.mkdir()
    (dags / "emergency_dags.py").write_text(textwrap.dedent(DAG_FILE))
    env = {**os.environ, "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    airflow = str(Path(sys.executable).parent / "airflow")
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    return env


def test_real_variable_carries_the_stop_across_dag_runs(sandbox, airflow_home):
    env = {**airflow_home, **sandbox.connection_env()}
    dag_file = Path(env["AIRFLOW__CORE__DAGS_FOLDER"]) / "emergency_dags.py"

    done = subprocess.run([sys.executable, str(dag_file)], env=env, capture_output=True, text=True,
                          timeout=300, check=False)

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = [line.removeprefix("RESULT ") for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    on, off = [json.loads(result) for result in results]
    assert on["xcom"] == {"mode": "emulated", "enabled": True, "paused": ["1", "3"], "resumed": []}
    assert on["statuses"] == {"1": "Paused", "2": "Paused", "3": "Paused"}
    assert on["variable"]["paused"] == ["1", "3"]
    assert off["xcom"] == {"mode": "emulated", "enabled": False, "paused": [], "resumed": ["1", "3"]}
    assert off["statuses"] == {"1": "Running", "2": "Paused", "3": "Running"}
    assert off["variable"] is None
    assert on["state"] == off["state"] == "success"
