"""CampaignCompletionSensor and ContactStateSensor over real HTTP against the sandbox: poke and
reschedule modes, deferral (trigger and serialised kwargs), execute_complete, poll cost."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from airflow.sdk import PokeReturnValue
from airflow.sdk.exceptions import (
    AirflowFailException,
    AirflowRescheduleException,
    AirflowSensorTimeout,
    AirflowSkipException,
    TaskDeferred,
)

from airflow_provider_dialers.capabilities import ContactRow, UploadOptions
from airflow_provider_dialers.contacts import parse_contact
from airflow_provider_dialers.hooks.base import DialerNotSupportedError, DialerRequestError
from airflow_provider_dialers.hooks.expertflow import ExpertflowEcmHook
from airflow_provider_dialers.hooks.sinch import SinchObiHook
from airflow_provider_dialers.sensors import CampaignCompletionSensor, ContactStateSensor
from airflow_provider_dialers.sensors.base import DialerSensorError, DialerSensorFailure
from airflow_provider_dialers.triggers import CampaignCompletionTrigger, ContactStateTrigger

ECM, SINCH, MAXCONTACT = "expertflow_ecm_default", "sinch_obi_default", "maxcontact_default"
WELCOME = "1"  # ECM: running, 5 pending contacts; advancing settles them (3 CONNECTED, 1 DNC_LISTED, 1 RETRIES_COMPLETED)
CONNECTED_PHONE = "+15550100101"
DNC_PHONE = "03001234567"
SINCH_ACTIVE = "62718C7889CC44F7B944C1A6F6BE9B7F"  # Active, customers 1001-1006 not handled yet
SINCH_PASSIVE = "8A7C98EAF1164F2FAA93B98EECB95D76"  # Passive: nobody is called
WELCOME_OUTCOMES = {"CONNECTED": 3, "DNC_LISTED": 1, "RETRIES_COMPLETED": 1}
#: ECM: one login and 5 getList?max=1 per poke; Sinch: GET campaign + customerResultStatistics.
REQUESTS_PER_POKE = {"expertflow": 1 + 5, "sinch": 2}


class FakeTI:
    """What reschedule mode reads from the task instance."""

    def get_first_reschedule_date(self, context: Any) -> datetime | None:
        return None


def completion(**kwargs: Any) -> CampaignCompletionSensor:
    return CampaignCompletionSensor(task_id="wait", **({"dialer_conn_id": ECM, "campaign_id": WELCOME} | kwargs))


def contact_sensor(contact: str, **kwargs: Any) -> ContactStateSensor:
    return ContactStateSensor(task_id="wait_contact", contact=contact,
                              **({"dialer_conn_id": ECM, "campaign_id": WELCOME} | kwargs))


def deferral(sensor) -> TaskDeferred:
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute({})
    return deferred.value


# -- CampaignCompletionSensor: poke and reschedule --------------------------------------------------------


def test_poke_is_false_until_the_campaign_completes_then_returns_the_outcome_counts(sandbox_client):
    sensor = completion(deferrable=False)
    assert sensor.poke({}) is False
    sandbox_client.advance(vendor="expertflow")
    done = sensor.poke({})
    assert isinstance(done, PokeReturnValue) and done.is_done
    assert done.xcom_value["complete"] is True and done.xcom_value["outcomes"] == WELCOME_OUTCOMES


def test_poke_mode_returns_the_progress_as_xcom_and_times_out_when_incomplete(sandbox_client):
    with pytest.raises(AirflowSensorTimeout):
        completion(mode="poke", timeout=0, poke_interval=0, deferrable=False).execute({})
    sandbox_client.advance(vendor="sinch")
    progress = completion(dialer_conn_id=SINCH, campaign_id=SINCH_ACTIVE, mode="poke", deferrable=False).execute({})
    assert (progress["campaign_id"], progress["complete"], progress["status"]) == (SINCH_ACTIVE, True, "Handled")
    assert sum(progress["outcomes"].values()) == 6


def test_reschedule_mode_frees_the_slot_until_the_campaign_completes(sandbox_client):
    sensor = completion(mode="reschedule", poke_interval=30, deferrable=False)
    with pytest.raises(AirflowRescheduleException) as rescheduled:
        sensor.execute({"ti": FakeTI()})
    assert rescheduled.value.reschedule_date > datetime.now(timezone.utc)
    sandbox_client.advance(vendor="expertflow")
    assert sensor.execute({"ti": FakeTI()})["outcomes"] == WELCOME_OUTCOMES


def test_each_poke_closes_its_hook(sandbox, sandbox_client):
    """A fresh hook per poke, closed afterwards: ECM logs in once per poke and keeps no session."""
    sensor = completion(deferrable=False)
    for _ in range(3):
        assert sensor.poke({}) is False
    assert sandbox_client.stats()["logins"]["expertflow"] == 3


# -- CampaignCompletionSensor: deferrable ------------------------------------------------------------------


def test_deferrable_defers_to_the_completion_trigger_with_json_safe_kwargs(sandbox):
    sensor = completion(deferrable=True, poke_interval=15, timeout=600, max_consecutive_errors=5,
                        retry_policy={"max_attempts": 2})
    before = time.time()
    deferred = deferral(sensor)
    after = time.time()
    assert isinstance(deferred.trigger, CampaignCompletionTrigger)
    assert deferred.method_name == "execute_complete"
    classpath, kwargs = deferred.trigger.serialize()
    assert classpath == "airflow_provider_dialers.triggers.campaign.CampaignCompletionTrigger"
    assert json.loads(json.dumps(kwargs)) == kwargs
    deadline = kwargs.pop("deadline")
    assert before + 600 <= deadline <= after + 600  # absolute: epoch seconds, from the sensor's timeout
    assert kwargs == {"dialer_conn_id": ECM, "campaign_id": WELCOME, "poll_interval": 15.0,
                      "max_consecutive_errors": 5, "retry_policy": {"max_attempts": 2}}
    # Airflow's own deferral timeout is only a backstop, later than the trigger's deadline.
    assert deferred.timeout > timedelta(seconds=600)


def test_deferrable_finishes_without_deferring_when_already_complete(sandbox_client):
    sandbox_client.advance(vendor="expertflow")
    progress = completion(deferrable=True).execute({})
    assert progress["complete"] is True and progress["outcomes"] == WELCOME_OUTCOMES


def test_deferrable_still_defers_when_the_first_check_fails_transiently(sandbox_client):
    sandbox_client.add_fault(vendor="sinch", path="customerResultStatistics", status=503, count=1)
    sensor = completion(dialer_conn_id=SINCH, campaign_id=SINCH_ACTIVE, deferrable=True,
                        retry_policy={"max_attempts": 1})
    assert isinstance(deferral(sensor).trigger, CampaignCompletionTrigger)


def test_deferrable_default_comes_from_the_operators_config(monkeypatch):
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "True")
    assert completion().deferrable is True
    assert completion(deferrable=False).deferrable is False
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "False")
    assert completion().deferrable is False


def test_execute_complete_returns_the_result_of_a_success_event():
    result = {"campaign_id": "1", "complete": True, "outcomes": {"CONNECTED": 5}}
    assert completion().execute_complete({}, {"status": "success", "message": "done", "result": result}) == result


@pytest.mark.parametrize(("event", "error", "message"), [
    ({"status": "failure", "message": "contact reached failure state DNC_LISTED"}, DialerSensorFailure,
     "failure state DNC_LISTED"),
    ({"status": "timeout", "message": "the deadline passed; last seen: 3 of 5 pending"}, AirflowSensorTimeout,
     "3 of 5 pending"),
    ({"status": "error", "message": "gave up after 3 consecutive transient errors"}, DialerSensorError,
     "gave up after 3"),
    ({"status": "finished"}, DialerSensorError, "unexpected trigger event"),
    (None, DialerSensorError, "unexpected trigger event None"),
])
def test_execute_complete_raises_on_anything_but_success(event, error, message):
    with pytest.raises(error, match=message):
        completion().execute_complete({}, event)


def test_a_failure_event_fails_without_retries():
    assert issubclass(DialerSensorFailure, AirflowFailException)
    assert not issubclass(DialerSensorError, AirflowFailException)


# -- ContactStateSensor --------------------------------------------------------------------------------------


def test_contact_sensor_waits_for_a_target_state_and_returns_state_and_history(sandbox_client):
    sensor = contact_sensor(CONNECTED_PHONE, target_states=["connected"], deferrable=False)
    assert sensor.poke({}) is False
    sandbox_client.advance(vendor="expertflow")
    state = sensor.execute({})
    assert (state["contact_ref"], state["state"], state["terminal"], state["attempts"]) == (
        CONNECTED_PHONE, "CONNECTED", True, 1)
    assert state["history"]["numberToCall"] == CONNECTED_PHONE


def test_contact_sensor_fails_at_once_on_a_failure_state(sandbox_client):
    sandbox_client.advance(vendor="expertflow")
    sensor = contact_sensor(DNC_PHONE, target_states=["CONNECTED"], failure_states=["dnc_listed"],
                            mode="poke", timeout=3600, deferrable=False)
    with pytest.raises(DialerSensorFailure, match="reached failure state DNC_LISTED"):
        sensor.execute({})


@pytest.mark.parametrize("deferrable", [False, True], ids=["poke", "deferrable"])
def test_soft_fail_turns_a_failure_state_into_a_skip(sandbox_client, deferrable):
    sandbox_client.advance(vendor="expertflow")
    sensor = contact_sensor(DNC_PHONE, failure_states=["DNC_LISTED"], soft_fail=True, deferrable=deferrable)
    with pytest.raises(AirflowSkipException) as skipped:
        sensor.execute({})
    assert "failure state DNC_LISTED" in f"{skipped.value} {skipped.value.__cause__}"


def test_contact_sensor_fails_on_a_final_state_it_does_not_wait_for_unless_told_to_wait(sandbox_client):
    sandbox_client.advance(vendor="expertflow")
    with pytest.raises(DialerSensorFailure, match="ended in DNC_LISTED, a final state that is not one of"):
        contact_sensor(DNC_PHONE, target_states=["CONNECTED"], deferrable=False).poke({})
    assert contact_sensor(DNC_PHONE, target_states=["CONNECTED"], fail_on_other_terminal=False,
                          deferrable=False).poke({}) is False


def test_contact_sensor_without_targets_succeeds_on_any_final_state(sandbox_client):
    sensor = contact_sensor(DNC_PHONE, deferrable=False)
    assert sensor.poke({}) is False
    sandbox_client.advance(vendor="expertflow")
    assert sensor.poke({}).xcom_value["state"] == "DNC_LISTED"


def test_contact_sensor_unknown_contact_is_a_clear_error(sandbox):
    with pytest.raises(DialerRequestError, match="no contact with phone or callback id '\\+19990000000'"):
        contact_sensor("+19990000000", deferrable=False).execute({})


def test_contact_sensor_on_a_dialer_that_cannot_read_contacts(sandbox):
    with pytest.raises(DialerNotSupportedError, match="cannot report a contact's state"):
        contact_sensor("crm-1", dialer_conn_id=MAXCONTACT, campaign_id="1", deferrable=False).poke({})


def test_contact_sensor_refuses_a_state_both_awaited_and_failing(sandbox):
    with pytest.raises(ValueError, match="both target_states and failure_states"):
        contact_sensor(CONNECTED_PHONE, target_states="CONNECTED", failure_states="connected",
                       deferrable=False).poke({})


def test_contact_sensor_defers_to_the_contact_trigger(sandbox):
    sensor = contact_sensor(CONNECTED_PHONE, target_states=["connected"], failure_states=["dnc_listed", "dangling"],
                            deferrable=True, poke_interval=20, timeout=900)
    deferred = deferral(sensor)
    assert isinstance(deferred.trigger, ContactStateTrigger)
    classpath, kwargs = deferred.trigger.serialize()
    assert classpath == "airflow_provider_dialers.triggers.contact.ContactStateTrigger"
    assert json.loads(json.dumps(kwargs)) == kwargs
    assert {k: kwargs[k] for k in ("campaign_id", "contact", "target_states", "failure_states", "poll_interval")} == {
        "campaign_id": WELCOME, "contact": CONNECTED_PHONE, "target_states": ["CONNECTED"],
        "failure_states": ["DNC_LISTED", "DANGLING"], "poll_interval": 20.0}


def test_contact_sensor_deferrable_returns_at_once_when_already_there(sandbox_client):
    sandbox_client.advance(vendor="expertflow")
    state = contact_sensor(CONNECTED_PHONE, target_states=["CONNECTED"], deferrable=True).execute({})
    assert state["state"] == "CONNECTED"


def test_templated_fields():
    assert set(CampaignCompletionSensor.template_fields) == {"dialer_conn_id", "campaign_id"}
    assert set(ContactStateSensor.template_fields) == {"dialer_conn_id", "campaign_id", "contact", "target_states",
                                                       "failure_states"}


# -- poll cost: the same requests per poke at 100 and at 3,100 contacts --------------------------------------


def requests_per_poke(sandbox_client, vendor: str, sensor: CampaignCompletionSensor) -> int:
    sandbox_client.clear_requests()
    assert sensor.poke({}) is False
    return len(sandbox_client.requests(vendor=vendor))


def test_ecm_poke_costs_the_same_requests_at_100_and_3100_contacts(sandbox_client):
    with ExpertflowEcmHook(ECM) as hook:
        campaign_id = hook.create_campaign({
            "name": "Poll cost", "startTime": "08:00", "endTime": "20:00", "strategyId": 1, "type": 0,
            "ciscoCampaignId": "5001", "weekDays": [1, 2, 3, 4, 5], "enabled": True})
        sensor = completion(campaign_id=campaign_id, deferrable=False)
        hook.upload_bulk_callers([{"phone1": f"+1555400{n:04d}"} for n in range(100)], int(campaign_id))
        small = requests_per_poke(sandbox_client, "expertflow", sensor)
        hook.upload_bulk_callers([{"phone1": f"+1555500{n:04d}"} for n in range(3000)], int(campaign_id))
        large = requests_per_poke(sandbox_client, "expertflow", sensor)
    assert small == large == REQUESTS_PER_POKE["expertflow"]
    assert sensor.build_trigger(0).poll_once().result["total"] == 3100


def test_sinch_poke_costs_the_same_requests_at_100_and_3100_contacts(sandbox_client):
    def rows(start: int, count: int) -> list[ContactRow]:
        return [ContactRow(n, parse_contact({"phones": [f"+3584060{n:05d}"]})) for n in range(start, start + count)]

    sensor = completion(dialer_conn_id=SINCH, campaign_id=SINCH_PASSIVE, deferrable=False)
    with SinchObiHook(SINCH) as hook:
        hook.upload_contacts(SINCH_PASSIVE, rows(0, 96), options=UploadOptions())  # + 4 seeded = 100
        small = requests_per_poke(sandbox_client, "sinch", sensor)
        for start in range(96, 3096, hook.upload_batch_size):
            hook.upload_contacts(SINCH_PASSIVE, rows(start, hook.upload_batch_size), options=UploadOptions())
        large = requests_per_poke(sandbox_client, "sinch", sensor)
    assert small == large == REQUESTS_PER_POKE["sinch"]
    assert sensor.build_trigger(0).poll_once().result["total"] == 3100
