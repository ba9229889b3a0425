"""The emergency interlock: while a global emergency stop recorded by GlobalEmergencyOperator is on for
a connection, starting a campaign is refused before anything is sent, unless overridden; the state is
readable from DAG code; a native stop is recorded before the dialer is told."""

from __future__ import annotations

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_dialers.errors import DialerEmergencyActiveError, DialerTransientError
from airflow_provider_dialers.hooks.maxcontact import MaxContactHook
from airflow_provider_dialers.operators import SetCampaignStatusOperator
from airflow_provider_dialers.operators.emergency import emergency_state
from tests.support import run_emergency as run

# Every sandbox test here runs under each readings profile (the references' silent points read
# one way, then the other: docs/readings.md).
pytestmark = pytest.mark.readings_profiles

ECM = "expertflow_ecm_default"
ECM_PAUSED = "2"  # seeded paused


def resume(campaign_id: str, **kwargs) -> dict:
    return SetCampaignStatusOperator(task_id="resume", dialer_conn_id=ECM, campaign_id=campaign_id,
                                     status="running", **kwargs).execute({})


def status_requests(sandbox_client) -> list[dict]:
    return [r for r in sandbox_client.requests(vendor="expertflow") if "ause" in r["path"] or "esume" in r["path"]
            or "UpdateStatus" in r["path"]]


def test_a_resume_during_an_emergency_is_refused_before_anything_is_sent(sandbox, sandbox_client, variables):
    assert emergency_state(ECM) is None
    stopped = run(ECM, True)["paused"]
    state = emergency_state(ECM)
    assert state is not None and state["mode"] == "emulated" and state["stopped"] == stopped
    sandbox_client.clear_requests()
    with pytest.raises(DialerEmergencyActiveError, match="global emergency stop is on for connection") as caught:
        resume(ECM_PAUSED)
    assert isinstance(caught.value, AirflowFailException)  # no retry will start it either
    assert status_requests(sandbox_client) == []  # nothing was sent
    run(ECM, False)
    assert emergency_state(ECM) is None
    assert resume(ECM_PAUSED) == {"campaign_id": ECM_PAUSED, "status": "running"}


def test_override_emergency_starts_the_campaign_anyway_and_pausing_is_always_allowed(sandbox, variables):
    run(ECM, True)
    assert resume(ECM_PAUSED, override_emergency=True)["status"] == "running"
    paused = SetCampaignStatusOperator(task_id="pause", dialer_conn_id=ECM, campaign_id=ECM_PAUSED,
                                       status="paused").execute({})
    assert paused["status"] == "paused"


def test_a_native_stop_is_on_even_when_nothing_was_running(sandbox, variables):
    run("maxcontact_default", True)
    run("maxcontact_default", False)
    run("maxcontact_default", True)  # nothing runs any more: still an emergency
    assert emergency_state("maxcontact_default") is not None


def test_a_native_stop_is_recorded_before_the_dialer_is_told(sandbox, variables, monkeypatch):
    """A task killed right after the dialer's enable still leaves what it stopped recorded."""
    running = {c["id"] for c in MaxContactHook().list_campaigns() if c["running"]}
    assert running
    original = MaxContactHook.set_global_emergency

    def enable_then_die(self, enabled, **kwargs):
        original(self, enabled, **kwargs)
        raise DialerTransientError("worker killed", vendor="MaxContact", may_have_been_processed=True)

    monkeypatch.setattr(MaxContactHook, "set_global_emergency", enable_then_die)
    with pytest.raises(DialerTransientError):
        run("maxcontact_default", True)
    state = emergency_state("maxcontact_default")
    assert state is not None and set(state["stopped"]) == running and state["mode"] == "native"
