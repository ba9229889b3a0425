"""CampaignCompletionTrigger and ContactStateTrigger: serialisation, and run() collected with asyncio
over real HTTP against the sandbox (success, failure state, deadline, transient errors, event loop)."""

from __future__ import annotations

import asyncio
import importlib
import json
import time
from typing import Any

import pytest

from airflow_provider_dialers.triggers import CampaignCompletionTrigger, ContactStateTrigger
from airflow_provider_dialers.triggers.base import DialerPollingTrigger, PollOutcome

# Every sandbox test here runs under each readings profile (the references' silent points read
# one way, then the other: docs/readings.md).
pytestmark = pytest.mark.readings_profiles

ECM, SINCH = "expertflow_ecm_default", "sinch_obi_default"
WELCOME = "1"  # ECM: running, 5 pending contacts; advancing settles them (3 CONNECTED, 1 DNC_LISTED, 1 RETRIES_COMPLETED)
CONNECTED_PHONE = "+15550100101"  # a Welcome contact the seeded dialer connects
DNC_PHONE = "03001234567"  # a Welcome contact on the DNC list: it ends DNC_LISTED
SINCH_HANDLED = "E49625CFDF58E311B764005056A7012B"  # complete: SUCCESS, REFUSAL, MAXCALLS
NO_RETRIES = {"max_attempts": 1}  # each check sends each request once: a 503 is a transient error at once
LATER = 3600.0


def collect(trigger: DialerPollingTrigger) -> list[dict[str, Any]]:
    """Every event the trigger yields, run to its end (it must return after its one event)."""

    async def run() -> list[dict[str, Any]]:
        return [event.payload async for event in trigger.run()]

    return asyncio.run(run())


def campaign_trigger(conn_id: str = ECM, campaign_id: str = WELCOME, **overrides: Any) -> CampaignCompletionTrigger:
    kwargs: dict[str, Any] = {"deadline": time.time() + LATER, "poll_interval": 0.01} | overrides
    return CampaignCompletionTrigger(dialer_conn_id=conn_id, campaign_id=campaign_id, **kwargs)


def contact_trigger(contact: str, **overrides: Any) -> ContactStateTrigger:
    kwargs: dict[str, Any] = {"deadline": time.time() + LATER, "poll_interval": 0.01} | overrides
    return ContactStateTrigger(dialer_conn_id=ECM, campaign_id=WELCOME, contact=contact, **kwargs)


def reconstruct(trigger: DialerPollingTrigger) -> DialerPollingTrigger:
    """What the triggerer does: the classpath imported, the kwargs (through JSON) passed back."""
    classpath, kwargs = trigger.serialize()
    module, _, name = classpath.rpartition(".")
    return getattr(importlib.import_module(module), name)(**json.loads(json.dumps(kwargs)))


# -- serialisation ----------------------------------------------------------------------------------------


def test_campaign_trigger_serialises_to_its_classpath_and_json_safe_kwargs():
    trigger = CampaignCompletionTrigger(dialer_conn_id=ECM, campaign_id=7, deadline=1_900_000_000.5,
                                        poll_interval=30, max_consecutive_errors=4, retry_policy=NO_RETRIES)
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_dialers.triggers.campaign.CampaignCompletionTrigger"
    assert kwargs == {"dialer_conn_id": ECM, "campaign_id": "7", "deadline": 1_900_000_000.5,
                      "poll_interval": 30.0, "max_consecutive_errors": 4, "retry_policy": NO_RETRIES}
    again = reconstruct(trigger)
    assert type(again) is CampaignCompletionTrigger and again.serialize() == trigger.serialize()


def test_contact_trigger_serialises_normalised_states():
    trigger = ContactStateTrigger(dialer_conn_id=ECM, campaign_id=WELCOME, contact=CONNECTED_PHONE,
                                  target_states=["connected", " Connected "], failure_states="dnc_listed, dangling",
                                  fail_on_other_terminal=False, deadline=1_900_000_000)
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_dialers.triggers.contact.ContactStateTrigger"
    assert kwargs["target_states"] == ["CONNECTED"]
    assert kwargs["failure_states"] == ["DNC_LISTED", "DANGLING"]
    assert (kwargs["contact"], kwargs["fail_on_other_terminal"], kwargs["retry_policy"]) == (CONNECTED_PHONE, False, None)
    assert reconstruct(trigger).serialize() == trigger.serialize()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"retry_policy": {"max_attempt": 1}}, "unknown keys \\['max_attempt'\\]"),
    ({"max_consecutive_errors": 0}, "at least 1"),
    ({"poll_interval": -1}, ">= 0"),
])
def test_bad_trigger_arguments_are_refused_when_built(kwargs, message):
    with pytest.raises(ValueError, match=message):
        campaign_trigger(**kwargs)


def test_a_state_both_awaited_and_failing_is_refused():
    with pytest.raises(ValueError, match="CONNECTED"):
        contact_trigger(CONNECTED_PHONE, target_states=["CONNECTED"], failure_states=["connected"])


# -- run(): one event ---------------------------------------------------------------------------------------


def test_complete_campaign_yields_one_success_event_with_outcome_counts(sandbox_client):
    sandbox_client.advance(vendor="expertflow")
    events = collect(campaign_trigger())
    assert len(events) == 1
    event = events[0]
    assert event["status"] == "success" and "campaign 1 is complete" in event["message"]
    result = event["result"]
    assert (result["complete"], result["total"], result["pending"]) == (True, 5, 0)
    assert result["outcomes"] == {"CONNECTED": 3, "DNC_LISTED": 1, "RETRIES_COMPLETED": 1}  # ECM's get_outcome_counts


def test_polls_until_the_campaign_completes(sandbox_client):
    polls: list[PollOutcome] = []

    class AdvancingAfterFirstPoll(CampaignCompletionTrigger):
        def poll_once(self) -> PollOutcome:
            outcome = super().poll_once()
            polls.append(outcome)
            if len(polls) == 1:
                sandbox_client.advance(vendor="sinch")  # the dialer works between two polls
            return outcome

    trigger = AdvancingAfterFirstPoll(dialer_conn_id=SINCH, campaign_id="62718C7889CC44F7B944C1A6F6BE9B7F",
                                      deadline=time.time() + LATER, poll_interval=0.01)
    events = collect(trigger)
    assert [p.status for p in polls] == [None, "success"]
    assert "6 of 6 pending" in polls[0].message
    assert [e["status"] for e in events] == ["success"]
    assert sum(events[0]["result"]["outcomes"].values()) == 6


def test_contact_in_a_failure_state_yields_a_failure_event(sandbox_client):
    sandbox_client.advance(vendor="expertflow")
    events = collect(contact_trigger(DNC_PHONE, target_states=["connected"], failure_states=["dnc_listed"]))
    assert len(events) == 1
    assert events[0]["status"] == "failure"
    assert "reached failure state DNC_LISTED" in events[0]["message"]
    assert events[0]["result"]["state"] == "DNC_LISTED" and events[0]["result"]["history"]["phone1"] == DNC_PHONE


def test_contact_reaching_a_target_state_yields_its_state_and_history(sandbox_client):
    sandbox_client.advance(vendor="expertflow")
    [event] = collect(contact_trigger(CONNECTED_PHONE, target_states=["CONNECTED"]))
    assert event["status"] == "success"
    assert (event["result"]["state"], event["result"]["terminal"], event["result"]["attempts"]) == ("CONNECTED", True, 1)
    assert event["result"]["history"]["numberToCall"] == CONNECTED_PHONE


def test_deadline_passed_yields_a_timeout_event_with_the_last_progress(sandbox):
    events = collect(campaign_trigger(deadline=time.time() - 1))
    assert len(events) == 1
    assert events[0]["status"] == "timeout"
    assert "deadline passed" in events[0]["message"] and "5 of 5 pending" in events[0]["message"]
    assert events[0]["result"]["pending"] == 5


def test_transient_errors_are_tolerated_then_the_poll_recovers(sandbox_client):
    sandbox_client.add_fault(vendor="sinch", path="customerResultStatistics", status=503, count=2)
    events = collect(campaign_trigger(SINCH, SINCH_HANDLED, retry_policy=NO_RETRIES, max_consecutive_errors=3))
    assert [e["status"] for e in events] == ["success"]
    assert events[0]["result"]["outcomes"] == {"SUCCESS": 1, "REFUSAL": 1, "MAXCALLS": 1}
    answered = [r["status"] for r in sandbox_client.requests(vendor="sinch", path="customerResultStatistics")]
    assert answered == [503, 503, 200]  # three polls: two failed, the third succeeded


def test_too_many_consecutive_transient_errors_yield_an_error_event(sandbox_client):
    sandbox_client.add_fault(vendor="sinch", path="customerResultStatistics", status=503, count=3)
    events = collect(campaign_trigger(SINCH, SINCH_HANDLED, retry_policy=NO_RETRIES, max_consecutive_errors=3))
    assert len(events) == 1
    event = events[0]
    assert (event["status"], event["error_type"]) == ("error", "DialerTransientError")
    assert "gave up after 3 consecutive transient errors" in event["message"] and "HTTP 503" in event["message"]
    assert len(sandbox_client.requests(vendor="sinch", path="customerResultStatistics")) == 3


def test_a_non_transient_error_ends_the_wait_at_once(sandbox_client):
    events = collect(contact_trigger("+19990000000"))
    assert len(events) == 1
    assert (events[0]["status"], events[0]["error_type"]) == ("error", "DialerRequestError")
    assert "no contact with phone or callback id '+19990000000'" in events[0]["message"]
    logins = [r for r in sandbox_client.requests(vendor="expertflow", path="login|token") if r["status"] == 200]
    assert len(logins) == 1  # one check only: waiting longer cannot make the contact exist


def test_a_poll_does_not_block_the_event_loop(sandbox, sandbox_client):
    """Another coroutine keeps running while a poll waits on a slow dialer (the answer is held)."""
    sandbox_client.add_fault(action="delay", delay=0.5, vendor="sinch", path="customerResultStatistics")

    def slow_request_seen() -> bool:
        return any("customerResultStatistics" in record.path for record in list(sandbox.core.requests))

    async def run() -> tuple[list[dict[str, Any]], int]:
        trigger = campaign_trigger(SINCH, SINCH_HANDLED)
        events: list[dict[str, Any]] = []

        async def consume() -> None:
            events.extend([event.payload async for event in trigger.run()])

        task = asyncio.create_task(consume())
        ticks_while_the_dialer_answers = 0
        while not task.done():
            if slow_request_seen():
                ticks_while_the_dialer_answers += 1
            await asyncio.sleep(0.01)
        await task
        return events, ticks_while_the_dialer_answers

    events, ticks = asyncio.run(run())
    assert [e["status"] for e in events] == ["success"]
    assert ticks >= 1  # a blocking poll would freeze the loop until the event was yielded


def test_an_error_a_retry_cannot_fix_is_marked_permanent_and_the_sensor_fails_without_retries(make_connection):
    conn_id = make_connection("ecm_wrong_password", "expertflow_ecm", password="wrong-password-1")
    (event,) = collect(campaign_trigger(conn_id))
    assert (event["status"], event["error_type"], event["permanent"]) == ("error", "DialerAuthError", True)
    (request_error,) = collect(contact_trigger("+19990000000"))
    assert request_error["permanent"] is False  # an unknown contact may yet be uploaded: retries apply

    from airflow.sdk.exceptions import AirflowFailException

    from airflow_provider_dialers.sensors import CampaignCompletionSensor
    from airflow_provider_dialers.sensors.base import DialerSensorError

    sensor = CampaignCompletionSensor(task_id="wait", dialer_conn_id=conn_id, campaign_id=WELCOME)
    with pytest.raises(AirflowFailException, match="login refused"):
        sensor.execute_complete({}, event)
    with pytest.raises(DialerSensorError) as retried:
        sensor.execute_complete({}, request_error)
    assert not isinstance(retried.value, AirflowFailException)
