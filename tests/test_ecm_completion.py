"""ExpertFlow ECM's completion check (``get_campaign_progress``) over real HTTP against the sandbox:
what it counts, in which order, what it costs, and that it never calls a campaign complete while a
contact is in flight, even when contacts change state while the states are being counted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_dialers.hooks.expertflow import (
    IN_FLIGHT_STATES,
    TERMINAL_COUNT_ORDER,
    TERMINAL_STATES,
    ExpertflowEcmHook,
    RequestState,
)
from airflow_provider_dialers.triggers import CampaignCompletionTrigger
from bench import p3_poll

ECM = "expertflow_ecm_default"
#: The ``hook`` fixture (conftest.py): an ECM hook on ECM, with the hook's own default retry policy.
HOOK_CLASS = ExpertflowEcmHook
HOOK_CONN_ID = ECM
HOOK_RETRY_POLICY = None
#: Counting every contact, each in-flight state, each terminal state, every contact again.
COMPLETE_CHECK = 1 + len(IN_FLIGHT_STATES) + len(TERMINAL_COUNT_ORDER) + 1


def campaign_in_states(sandbox, ecm, *states: RequestState) -> str:
    """A campaign with one contact per state given."""
    campaign_id = p3_poll.seed_ecm_campaign(sandbox.core, len(states))
    for callback, state in zip(callbacks_of(ecm, campaign_id), states):
        callback["requestState"] = int(state)
    return campaign_id


def callbacks_of(ecm: Any, campaign_id: str) -> list[dict[str, Any]]:
    return [c for c in ecm.callbacks.values() if c["campaignId"] == int(campaign_id)]


def getlist_statuses(sandbox_client, since: int) -> list[int | None]:
    """The ``requestStatus`` of each getList since ``since`` (None: every contact)."""
    statuses = []
    for record in sandbox_client.requests(vendor="expertflow", path="getList", since=since):
        params = dict(pair.split("=", 1) for pair in record["query"].split("&") if pair)
        status = int(params["requestStatus"])
        statuses.append(None if status == RequestState.ALL else status)
    return statuses


def last_seq(sandbox_client) -> int:
    records = sandbox_client.requests()
    return records[-1]["seq"] if records else 0


def test_the_count_orders_cover_every_state_once():
    assert set(IN_FLIGHT_STATES) | set(TERMINAL_COUNT_ORDER) | {RequestState.ALL} == set(RequestState)
    assert frozenset(TERMINAL_COUNT_ORDER) == TERMINAL_STATES and len(TERMINAL_COUNT_ORDER) == len(TERMINAL_STATES)
    # A terminal contact may still move Dangling -> Connected/RetriesCompleted and SMSSentAndClosed ->
    # SMSResponded: the state moved to is counted first, so a moving contact is never counted twice.
    position = {state: n for n, state in enumerate(TERMINAL_COUNT_ORDER)}
    for earlier, later in ((RequestState.CONNECTED, RequestState.DANGLING),
                           (RequestState.RETRIES_COMPLETED, RequestState.DANGLING),
                           (RequestState.SMS_RESPONDED, RequestState.SMS_SENT_AND_CLOSED)):
        assert position[earlier] < position[later]


def test_an_empty_campaign_is_not_complete_and_costs_one_request(sandbox, sandbox_client, hook):
    campaign_id = p3_poll.seed_ecm_campaign(sandbox.core, 0)
    since = last_seq(sandbox_client)
    progress = hook.get_campaign_progress(campaign_id)
    assert (progress.complete, progress.total, progress.pending, progress.detail) == (False, 0, 0, "no contacts yet")
    assert getlist_statuses(sandbox_client, since) == [None]


@pytest.mark.parametrize("in_flight", IN_FLIGHT_STATES, ids=lambda state: state.name)
def test_one_contact_in_any_in_flight_state_keeps_the_campaign_incomplete(sandbox, ecm, hook, in_flight):
    campaign_id = campaign_in_states(sandbox, ecm, RequestState.CONNECTED, RequestState.DNC_LISTED, in_flight)
    progress = hook.get_campaign_progress(campaign_id)
    assert (progress.complete, progress.total) == (False, 3)
    assert progress.detail.startswith(f"in flight: {in_flight.name} 1")
    assert progress.pending is None  # only one in-flight state was counted: the exact figure is unknown


def test_a_contact_in_the_last_in_flight_state_asked_is_found(sandbox, ecm, hook, sandbox_client):
    last = IN_FLIGHT_STATES[-1]
    campaign_id = campaign_in_states(sandbox, ecm, RequestState.CONNECTED, last)
    since = last_seq(sandbox_client)
    assert hook.get_campaign_progress(campaign_id).complete is False
    assert getlist_statuses(sandbox_client, since) == [None, *IN_FLIGHT_STATES]


def test_pending_is_exact_when_one_state_holds_every_contact(sandbox, hook, sandbox_client):
    campaign_id = p3_poll.seed_ecm_campaign(sandbox.core, 7)
    since = last_seq(sandbox_client)
    progress = hook.get_campaign_progress(campaign_id)
    assert (progress.complete, progress.total, progress.pending, progress.detail) == (False, 7, 7, "in flight: PENDING 7")
    assert getlist_statuses(sandbox_client, since) == [None, RequestState.PENDING]


def test_the_state_that_had_contacts_last_time_is_asked_first(sandbox, ecm, hook, sandbox_client):
    campaign_id = campaign_in_states(sandbox, ecm, RequestState.NOT_CONNECTED, RequestState.CONNECTED)
    since = last_seq(sandbox_client)
    hook.get_campaign_progress(campaign_id)
    first = getlist_statuses(sandbox_client, since)
    since = last_seq(sandbox_client)
    hook.get_campaign_progress(campaign_id)
    assert first == [None, RequestState.PENDING, RequestState.SENT_TO_DIALER, RequestState.NOT_CONNECTED]
    assert getlist_statuses(sandbox_client, since) == [None, RequestState.NOT_CONNECTED]


def test_complete_once_every_contact_is_terminal_with_the_counts_by_outcome(sandbox, ecm, hook, sandbox_client):
    campaign_id = campaign_in_states(sandbox, ecm, *TERMINAL_COUNT_ORDER, RequestState.CONNECTED)
    since = last_seq(sandbox_client)
    progress = hook.get_campaign_progress(campaign_id)
    assert (progress.complete, progress.total, progress.pending, progress.detail) == (True, 7, 0, None)
    assert progress.outcomes == {state.name: 2 if state is RequestState.CONNECTED else 1
                                 for state in TERMINAL_COUNT_ORDER}
    assert getlist_statuses(sandbox_client, since) == [None, *IN_FLIGHT_STATES, *TERMINAL_COUNT_ORDER, None]
    assert len(getlist_statuses(sandbox_client, since)) == COMPLETE_CHECK


def test_a_contact_in_a_state_the_reference_does_not_number_is_never_settled(sandbox, ecm, hook):
    campaign_id = campaign_in_states(sandbox, ecm, RequestState.CONNECTED, RequestState.CONNECTED)
    callbacks_of(ecm, campaign_id)[1]["requestState"] = 10
    progress = hook.get_campaign_progress(campaign_id)
    assert (progress.complete, progress.total, progress.pending) == (False, 2, 1)
    assert "1 of 2 contacts in no terminal state" in progress.detail


def moving_a_contact_between_reads(hook: ExpertflowEcmHook, after: RequestState, move: Callable[[], None]) -> None:
    """Run ``move()`` right after the hook has counted the contacts in state ``after`` (once)."""
    count_callbacks = hook.count_callbacks
    moved = []

    def counting(campaign_id: int | None = None, *, request_status: RequestState | int = RequestState.ALL) -> int:
        count = count_callbacks(campaign_id, request_status=request_status)
        if request_status == after and not moved:
            move()
            moved.append(True)
        return count

    hook.count_callbacks = counting  # type: ignore[method-assign]


def test_a_retry_moving_back_to_a_state_already_counted_does_not_end_the_wait(sandbox, ecm, hook):
    """Pending is counted (0), then the Not Connected contact goes back to Pending for its retry
    before Not Connected is counted: every in-flight count reads 0, yet the contact is in flight.
    The terminal counts, read after, do not add up to the total: not complete."""
    campaign_id = campaign_in_states(sandbox, ecm, RequestState.CONNECTED, RequestState.NOT_CONNECTED)
    retried = callbacks_of(ecm, campaign_id)[1]
    moving_a_contact_between_reads(hook, RequestState.PENDING,
                                   lambda: retried.update(requestState=int(RequestState.PENDING)))
    progress = hook.get_campaign_progress(campaign_id)
    assert (progress.complete, progress.total, progress.pending) == (False, 2, 1)
    assert progress.outcomes == {"CONNECTED": 1}
    assert hook.get_campaign_progress(campaign_id).detail.startswith("in flight: PENDING 1")


def test_a_contact_added_while_the_terminal_states_are_counted_is_not_missed(sandbox, ecm, hook):
    campaign_id = campaign_in_states(sandbox, ecm, RequestState.CONNECTED)
    campaign = ecm.campaigns[int(campaign_id)]
    moving_a_contact_between_reads(
        hook, TERMINAL_COUNT_ORDER[-1],
        lambda: ecm._add_callback(campaign, ecm._callback_fields({"phone1": "+15550009999"})))
    progress = hook.get_campaign_progress(campaign_id)
    assert (progress.complete, progress.total, progress.pending) == (False, 2, 1)


def test_the_completion_trigger_reads_no_further_outcome_counts(sandbox, ecm, sandbox_client):
    """The terminal counts that prove completion are the result's outcomes: no get_outcome_counts."""
    campaign_id = campaign_in_states(sandbox, ecm, RequestState.CONNECTED, RequestState.DANGLING)
    trigger = CampaignCompletionTrigger(dialer_conn_id=ECM, campaign_id=campaign_id, deadline=0)
    since = last_seq(sandbox_client)
    outcome = trigger.poll_once()
    assert outcome.status == "success"
    assert outcome.result["outcomes"] == {"CONNECTED": 1, "DANGLING": 1}
    assert len(getlist_statuses(sandbox_client, since)) == COMPLETE_CHECK
