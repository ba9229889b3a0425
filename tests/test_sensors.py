"""CampaignCompletionSensor and ContactStateSensor over real HTTP against the sandbox: poke and
reschedule modes, deferral (trigger and serialised kwargs), execute_complete, poll cost."""

from __future__ import annotations

import json
import math
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

from airflow_provider_dialers.hooks.ameyo import AmeyoHook
from airflow_provider_dialers.hooks.base import DialerNotSupportedError, DialerRequestError
from airflow_provider_dialers.sensors import CampaignCompletionSensor, ContactStateSensor
from airflow_provider_dialers.sensors.base import DialerSensorError, DialerSensorFailure
from airflow_provider_dialers.triggers import CampaignCompletionTrigger, ContactStateTrigger
from bench import p3_poll

# Every sandbox test here runs under each readings profile (the references' silent points read
# one way, then the other: docs/readings.md).
pytestmark = pytest.mark.readings_profiles

ECM, SINCH, MAXCONTACT = "expertflow_ecm_default", "sinch_obi_default", "maxcontact_default"
WELCOME = "1"  # ECM: running, 5 pending contacts; advancing settles them (3 CONNECTED, 1 DNC_LISTED, 1 RETRIES_COMPLETED)
CONNECTED_PHONE = "+15550100101"
DNC_PHONE = "03001234567"
SINCH_ACTIVE = "62718C7889CC44F7B944C1A6F6BE9B7F"  # Active, customers 1001-1006 not handled yet
SINCH_PASSIVE = "8A7C98EAF1164F2FAA93B98EECB95D76"  # Passive: nobody is called
WELCOME_OUTCOMES = {"CONNECTED": 3, "DNC_LISTED": 1, "RETRIES_COMPLETED": 1}
AMEYO, AMEYO_CAMPAIGN = "ameyo_default", "5"  # two customers not dialled yet; advancing settles them


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


def test_a_poke_on_its_own_uses_a_fresh_hook_and_closes_it(sandbox, sandbox_client):
    """Outside execute nothing would close a kept hook: each poke logs in, and logs out (Ameyo)."""
    sensor = completion(deferrable=False)
    for _ in range(3):
        assert sensor.poke({}) is False
    assert sandbox_client.stats()["logins"]["expertflow"] == 3
    assert completion(dialer_conn_id=AMEYO, campaign_id=AMEYO_CAMPAIGN, deferrable=False).poke({}) is False
    assert sandbox_client.stats()["active_credentials"]["ameyo"] == 0


class PokesCounted(CampaignCompletionSensor):
    """Counts its pokes; the dialer settles every contact just before poke number ``settle_at``."""

    def __init__(self, *, settle: Any, settle_at: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settle, self.settle_at, self.pokes = settle, settle_at, 0

    def poke(self, context: Any) -> PokeReturnValue | bool:
        self.pokes += 1
        if self.pokes == self.settle_at:
            self.settle()
        return super().poke(context)


@pytest.mark.parametrize(("vendor", "conn_id", "campaign_id"), [
    ("ameyo", AMEYO, AMEYO_CAMPAIGN), ("expertflow", ECM, WELCOME)])
def test_poke_mode_logs_in_once_for_all_its_pokes_and_closes_the_hook_at_the_end(
        sandbox_client, vendor, conn_id, campaign_id):
    sensor = PokesCounted(task_id="wait", dialer_conn_id=conn_id, campaign_id=campaign_id, mode="poke",
                          poke_interval=0, timeout=3600, deferrable=False, settle_at=4,
                          settle=lambda: sandbox_client.advance(vendor=vendor))
    progress = sensor.execute({})
    assert progress["complete"] is True and sensor.pokes == 4
    stats = sandbox_client.stats()
    assert stats["logins"][vendor] == 1  # one login for the four pokes
    assert stats["active_credentials"]["ameyo"] == 0  # Ameyo's session ended with execute
    assert sensor._polling_trigger is None


def test_a_poke_that_fails_drops_the_kept_hook_and_the_next_poke_logs_in_again(sandbox_client):
    sandbox_client.add_fault(vendor="expertflow", path="getList", status=503, count=1)
    sensor = PokesCounted(task_id="wait", mode="poke", poke_interval=0, timeout=3600, deferrable=False,
                          silent_fail=True, retry_policy={"max_attempts": 1}, settle_at=3,
                          settle=lambda: sandbox_client.advance(vendor="expertflow"),
                          dialer_conn_id=ECM, campaign_id=WELCOME)
    assert sensor.execute({})["complete"] is True and sensor.pokes == 3
    assert sandbox_client.stats()["logins"]["expertflow"] == 2  # the poke after the failure starts afresh


@pytest.mark.parametrize("mode", ["reschedule", "deferrable"])
def test_the_hook_is_closed_when_execute_hands_over(sandbox_client, mode):
    """Reschedule and deferral end execute after one poke: Ameyo's session is logged out first."""
    kwargs = {"mode": "reschedule", "deferrable": False} if mode == "reschedule" else {"deferrable": True}
    sensor = completion(dialer_conn_id=AMEYO, campaign_id=AMEYO_CAMPAIGN, poke_interval=30, **kwargs)
    with pytest.raises((AirflowRescheduleException, TaskDeferred)):
        sensor.execute({"ti": FakeTI()})
    stats = sandbox_client.stats()
    assert (stats["logins"]["ameyo"], stats["active_credentials"]["ameyo"]) == (1, 0)


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


# -- poll cost: requests per poke at 100 and at 100,000 contacts (bench/p3_poll.py prints the same) -------
#: Requests for one poke with a fresh hook (a reschedule-mode poke, or a run's first poke: login and
#: Ameyo's logout included) and with the hook a run keeps (poke mode, the deferred trigger).
#: ECM while running: every contact, then Pending (the first in-flight state asked, which has them).
ECM_RUNNING_POKE = {"fresh": 1 + 2, "kept": 2}
#: ECM on the poke that finds it complete: every contact, the 4 in-flight states, the 6 terminal
#: states (the outcome counts), every contact again. No documented call needs fewer (see
#: ExpertflowEcmHook.get_campaign_progress): getList counts one requestStatus at a time.
ECM_COMPLETE_POKE = {"fresh": 1 + 12, "kept": 12}
#: Sinch: GET the campaign (its counters) and customerResultStatistics; HTTP Basic, no login.
SINCH_POKE = {"fresh": 2, "kept": 2}
SMALL, LARGE = 100, 100_000


def ameyo_poke(contacts: int) -> dict[str, int]:
    """Ameyo: getLeadsForCampaign and ceil(n / page size) getContacts pages (+ login and logout when fresh)."""
    pages = math.ceil(contacts / AmeyoHook.contacts_page_size)
    return {"fresh": 1 + 1 + pages + 1, "kept": 1 + pages}


def poke_costs(costs: dict[str, int], state: str) -> dict[str, int]:
    return {"fresh": costs[state], "kept": costs[f"{state}_kept_hook"]}


#: Requests a fresh hook spends learning how the server reads a silent point (docs/readings.md), per
#: profile: ECM's second reading refuses a GET login (405, then POST) and page=0 (400, then page=1);
#: Ameyo's refuses the first limitOffset form. A kept hook learns once and spends nothing more.
LEARNING = {"first": {}, "second": {"expertflow": 2, "ameyo": 1}}


def _learnt(costs: dict[str, int], vendor: str, profile: str) -> dict[str, int]:
    return {**costs, "fresh": costs["fresh"] + LEARNING[profile].get(vendor, 0)}


@pytest.mark.parametrize("vendor", ["expertflow", "sinch"])
def test_ecm_and_sinch_pokes_cost_the_same_few_requests_at_100_and_100000_contacts(sandbox, vendor,
                                                                                   readings_profile):
    small = p3_poll.measure_vendor(sandbox.core, vendor, SMALL)
    large = p3_poll.measure_vendor(sandbox.core, vendor, LARGE)
    running, complete = {"expertflow": (ECM_RUNNING_POKE, ECM_COMPLETE_POKE), "sinch": (SINCH_POKE, SINCH_POKE)}[vendor]
    for state, expected in (("running", running), ("complete", complete)):
        expected = _learnt(expected, vendor, readings_profile)
        assert poke_costs(small, state) == poke_costs(large, state) == expected, state
    assert max(small["running"] - LEARNING[readings_profile].get(vendor, 0), small["running_kept_hook"]) \
        <= p3_poll.TARGET_REQUESTS


@pytest.mark.one_profile  # 100,000 seeded customers: the paging cost is the subject, and a second
# profile changes only the fresh hook's one learning request (test_ameyo_pages_are_ceil... covers it)
def test_ameyo_pokes_grow_by_one_request_per_page_of_the_largest_size(sandbox, readings_profile):
    small = p3_poll.measure_vendor(sandbox.core, "ameyo", SMALL)
    large = p3_poll.measure_vendor(sandbox.core, "ameyo", LARGE)
    for state in ("running", "complete"):
        assert ameyo_poke(SMALL) == {"fresh": 4, "kept": 2} and ameyo_poke(LARGE) == {"fresh": 13, "kept": 11}
        assert poke_costs(small, state) == _learnt(ameyo_poke(SMALL), "ameyo", readings_profile)
        assert poke_costs(large, state) == _learnt(ameyo_poke(LARGE), "ameyo", readings_profile)


def test_ameyo_pages_are_ceil_of_customers_over_page_size(sandbox, monkeypatch):
    """No empty page after a full one: 300 customers in pages of 100 are 3 getContacts, not 4."""
    monkeypatch.setattr(AmeyoHook, "contacts_page_size", 100)
    costs = {}
    for contacts in (0, 99, 100, 101, 300):
        campaign_id = p3_poll.seed_ameyo_campaign(sandbox.core, contacts)
        with p3_poll.kept_hook_polls("ameyo", campaign_id) as trigger:
            trigger.poll_once()
            outcome, costs[contacts] = p3_poll.requests_during(sandbox.core, "ameyo", trigger.poll_once)
        assert outcome.result["total"] == contacts
    assert costs == {0: 1 + 1, 99: 1 + 1, 100: 1 + 1, 101: 1 + 2, 300: 1 + 3}
