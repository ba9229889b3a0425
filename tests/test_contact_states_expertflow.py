"""ExpertFlow ECM ``iter_contact_states``: every campaign contact (callback) of a campaign, streamed
page by page from ``callback/getList``, over real HTTP against the sandbox (under both readings
profiles: pages from 0 with query filters, pages from 1 with body filters; and every other reading
of those switches), and the upload engine using it to never load a contact twice."""

from __future__ import annotations

import time

from datetime import timedelta
from pathlib import Path
from typing import Any

import pendulum
import pytest

from airflow_provider_dialers.capabilities import ContactRecord
from airflow_provider_dialers.hooks.base import DialerValidationError
from airflow_provider_dialers.hooks.expertflow import TERMINAL_STATES, ExpertflowEcmHook, RequestState
from airflow_provider_dialers.operators import UploadContactsOperator
from airflow_provider_dialers.vendors.expertflow.records import NewRows, contact_record
from tests.support import FAST

pytestmark = pytest.mark.readings_profiles  # every sandbox test under the first and second readings

HOOK_CLASS = ExpertflowEcmHook  # the ``hook`` fixture (conftest.py), on ECM 13.3
WELCOME = "1"  # seeded: "Welcome IVR", running, callbacks 1-5 (one phone on the DNC list)
COLLECTIONS = "3"  # seeded, no contacts
PAGE = ExpertflowEcmHook.contact_page_size  # 500
SIZE = 1250  # 2.5 pages
CALL_RESULTS = {0: "CONNECTED", 1: "BUSY", 2: "NO_ANSWER", 3: "CUSTOMER_ABANDONED", 4: "DIALER_ABANDONED",
                5: "OTHERS_NOT_CONNECTED"}  # the reference's numbering (retryMap), 0 the provider's reading


def fill(hook: ExpertflowEcmHook, total: int = SIZE, campaign_id: str = WELCOME) -> None:
    """Add contacts with phones ``+1555040nnnn`` until the campaign holds ``total`` (one bulk file)."""
    have = hook.count_callbacks(int(campaign_id))
    hook.upload_bulk_callers([{"phone1": f"+1555040{n:04d}"} for n in range(have, total)], campaign_id)
    stored_by = time.monotonic() + 5  # reading ecm_bulk_processing "queued" stores the file after answering
    while hook.count_callbacks(int(campaign_id)) < total and time.monotonic() < stored_by:
        time.sleep(0.1)


def dial_then_fill(hook: ExpertflowEcmHook, sandbox_client, dialled: int, moves: int, total: int) -> None:
    """``dialled`` contacts, dialled ``moves`` steps (settled, retried, in flight), then new pending
    ones up to ``total`` (the simulation moves contacts in id order, so the new ones stay pending)."""
    fill(hook, dialled)
    sandbox_client.advance(moves, vendor="expertflow")
    fill(hook, total)


def held_callbacks(sandbox_client, campaign_id: str = WELCOME) -> list[dict[str, Any]]:
    return [c for c in sandbox_client.state("expertflow")["callbacks"] if str(c["campaignId"]) == campaign_id]


def expected_record(callback: dict[str, Any]) -> ContactRecord:
    """What the listing must say of a contact the sandbox holds, read from its own state."""
    state = RequestState(callback["requestState"])
    attempts = callback["attemptNumber"]
    changed = callback["lastStatusUpdateTime"] or callback["requestTime"]
    return ContactRecord(
        contact_ref=str(callback["id"]), external_id=None, phone=callback["phone1"], state=state.name,
        terminal=state in TERMINAL_STATES, attempts=attempts,
        last_result=CALL_RESULTS.get(callback["callResult"]) if attempts else None,
        last_change=pendulum.parse(changed).in_timezone("UTC").isoformat(),
    )


def getlist(sandbox_client, since: int = 0) -> list[dict[str, Any]]:
    """Every getList the sandbox received since ``since``, with its query parameters parsed."""
    found = sandbox_client.requests(vendor="expertflow", path="callback/getList", since=since)
    return [{**r, "params": dict(p.split("=", 1) for p in r["query"].split("&") if p)} for r in found]


def last_seq(sandbox_client) -> int:
    return max((r["seq"] for r in sandbox_client.requests()), default=0)


def read_as(sandbox_client, **readings: str) -> None:
    sandbox_client.configure(readings=readings)


# -- the listing --------------------------------------------------------------------------------------


def test_lists_every_contact_once_as_the_sandbox_holds_it_pending_and_dialled(hook, sandbox_client):
    dial_then_fill(hook, sandbox_client, 600, 1500, SIZE)

    records = list(hook.iter_contact_states(WELCOME))

    held = held_callbacks(sandbox_client)
    assert len(held) == SIZE
    assert sorted(records, key=lambda r: int(r.contact_ref)) == sorted(map(expected_record, held),
                                                                         key=lambda r: int(r.contact_ref))
    assert len({r.contact_ref for r in records}) == SIZE  # each once
    states = {r.state for r in records}
    assert {"PENDING", "CONNECTED", "DNC_LISTED"} <= states and states & {"NOT_CONNECTED", "SENT_TO_DIALER"}
    assert {r.terminal for r in records} == {True, False}
    assert {r.last_result for r in records} >= {None, "CONNECTED"} and any(
        r.last_result in {"BUSY", "NO_ANSWER"} for r in records)
    assert all(r.last_change and r.last_change.endswith("+00:00") for r in records)


def fresh_hook() -> ExpertflowEcmHook:
    """A hook that has learnt nothing of the server yet (its page numbering)."""
    return ExpertflowEcmHook(retry_policy=FAST)


def test_cost_is_one_request_per_500_contacts(hook, sandbox_client, readings_profile):
    fill(hook)
    hook = fresh_hook()
    since = last_seq(sandbox_client)

    assert sum(1 for _ in hook.iter_contact_states(WELCOME)) == SIZE

    pages = getlist(sandbox_client, since)
    # 500, 500, 250: the third page reaches ``total`` and ends the walk. Pages counted from 1: page 0
    # is refused first (400), which the hook learns.
    assert [r["status"] for r in pages] == ([200] * 3 if readings_profile == "first" else [400, 200, 200, 200])
    assert all(r["params"]["max"] == str(PAGE) and r["params"]["requestStatus"] == "-1" for r in pages)
    since = last_seq(sandbox_client)
    assert sum(1 for _ in hook.iter_contact_states(WELCOME)) == SIZE
    assert len(getlist(sandbox_client, since)) == 3  # learnt: no refused page the second time


def test_the_iteration_is_lazy_one_page_for_the_first_record(hook, sandbox_client, readings_profile):
    fill(hook)
    hook = fresh_hook()
    since = last_seq(sandbox_client)

    listing = hook.iter_contact_states(WELCOME)
    assert getlist(sandbox_client, since) == []  # nothing before the first record is asked for
    first = next(listing)
    assert (first.contact_ref, first.state) == ("1", "PENDING")
    asked = getlist(sandbox_client, since)
    first_page = "0" if readings_profile == "first" else "1"
    assert [(r["params"]["page"], r["status"]) for r in asked] == (
        [("0", 200)] if readings_profile == "first" else [("0", 400), ("1", 200)])  # page 0 refused: from 1
    assert asked[-1]["params"]["page"] == first_page
    listing.close()


def test_every_contact_once_while_the_campaign_dials_and_grows_between_pages(hook, sandbox_client):
    fill(hook)
    sandbox_client.advance(300, vendor="expertflow")
    seen: list[str] = []
    for index, record in enumerate(hook.iter_contact_states(WELCOME)):
        seen.append(record.contact_ref)
        if index % PAGE == PAGE - 1:  # at each page boundary the dialer moves on, and contacts arrive
            sandbox_client.advance(400, vendor="expertflow")
            fill(hook, hook.count_callbacks(int(WELCOME)) + 7)

    assert len(seen) == len(set(seen)) == SIZE + 14
    assert sorted(seen, key=int) == [str(c["id"]) for c in held_callbacks(sandbox_client)]


def test_a_final_state_listed_while_the_campaign_dials_misses_and_repeats_nobody(hook, sandbox_client):
    fill(hook, 400)
    sandbox_client.advance(500, vendor="expertflow")
    hook.contact_page_size = 20  # many pages, so contacts join the state before many page boundaries
    before = {str(c["id"]) for c in held_callbacks(sandbox_client) if c["requestState"] == RequestState.CONNECTED}
    since = last_seq(sandbox_client)
    seen: list[str] = []
    for index, record in enumerate(hook.iter_contact_states(WELCOME, states=["connected"])):
        assert record.state == "CONNECTED" and record.terminal
        seen.append(record.contact_ref)
        if index % 10 == 9:  # contacts earlier in the list connect meanwhile: later pages start further back
            sandbox_client.advance(40, vendor="expertflow")

    assert len(seen) == len(set(seen))  # nobody twice, though the pages shifted
    assert before <= set(seen)  # nobody who was connected from the start is missed
    assert {r["params"]["requestStatus"] for r in getlist(sandbox_client, since)} == {"2"}  # server-side


# -- the states filter, and agreement with get_contact_state -----------------------------------------


def test_states_filter_any_case_final_states_on_the_server_others_here(hook, sandbox_client):
    dial_then_fill(hook, sandbox_client, 60, 150, 120)
    by_state: dict[str, set[str]] = {}
    for record in map(expected_record, held_callbacks(sandbox_client)):
        by_state.setdefault(record.state, set()).add(record.contact_ref)
    assert {"PENDING", "CONNECTED", "DNC_LISTED"} <= set(by_state)

    since = last_seq(sandbox_client)
    final = {r.contact_ref for r in hook.iter_contact_states(WELCOME, states=["Connected", "dnc_listed"])}
    assert final == by_state["CONNECTED"] | by_state["DNC_LISTED"]
    assert sorted(r["params"]["requestStatus"] for r in getlist(sandbox_client, since)) == ["2", "7"]

    since = last_seq(sandbox_client)
    moving = {r.contact_ref for r in hook.iter_contact_states(WELCOME, states=("pending", "Not Connected"))}
    assert moving == by_state["PENDING"] | by_state.get("NOT_CONNECTED", set())
    assert {r["params"]["requestStatus"] for r in getlist(sandbox_client, since)} == {"-1"}  # client-side

    since = last_seq(sandbox_client)
    assert list(hook.iter_contact_states(WELCOME, states=[])) == []
    assert getlist(sandbox_client, since) == []  # nothing asked for: nothing requested
    with pytest.raises(DialerValidationError, match="'Dialled' is not an ECM request state"):
        hook.iter_contact_states(WELCOME, states=["Dialled"])  # refused at the call, before any request


def test_terminal_attempts_and_results_agree_with_get_contact_state(hook, sandbox_client):
    dial_then_fill(hook, sandbox_client, 60, 150, 70)

    records = list(hook.iter_contact_states(WELCOME))
    sample = {r.state: r for r in records}.values()  # one contact of each state
    assert len(sample) >= 4
    for record in sample:
        state = hook.get_contact_state(WELCOME, record.phone)
        assert (state.state, state.terminal, state.attempts) == (record.state, record.terminal, record.attempts)
        assert str(state.history["id"]) == record.contact_ref
        result = state.history["callResult"]
        assert record.last_result == (CALL_RESULTS[result] if result is not None and state.attempts else None)


def test_an_empty_or_unknown_campaign_lists_nothing_and_a_bad_id_is_refused(hook):
    assert list(hook.iter_contact_states(COLLECTIONS)) == []
    assert list(hook.iter_contact_states("999")) == []  # getList answers total 0 for an unknown campaign
    with pytest.raises(DialerValidationError, match="campaign_id"):
        hook.iter_contact_states("Welcome IVR")


def test_release_13_2_lists_the_same_contacts(hook, ecm, sandbox_client):
    fill(hook, 12)
    ecm.release = "13.2"
    with ExpertflowEcmHook("expertflow_ecm_132", retry_policy=FAST) as hook_132:
        records = list(hook_132.iter_contact_states(WELCOME))
    assert records == list(map(expected_record, held_callbacks(sandbox_client)))


@pytest.mark.parametrize("page_base", ["0", "1", "1_clamps_0"])
@pytest.mark.parametrize("filters", ["query", "body"])
def test_every_reading_of_paging_and_filters_lists_each_contact_once(hook, sandbox_client, page_base, filters):
    read_as(sandbox_client, ecm_page_base=page_base, ecm_getlist_filters=filters)
    fill(hook, 23)
    fill(hook, 4, campaign_id="2")  # another campaign's contacts, which a server ignoring the filters would mix in
    sandbox_client.advance(30, vendor="expertflow")
    hook.contact_page_size = 5  # 4.6 pages

    records = list(hook.iter_contact_states(WELCOME))

    assert sorted(records, key=lambda r: int(r.contact_ref)) == list(map(expected_record, held_callbacks(sandbox_client)))
    assert hook.reading("ecm_page_base") == ("0" if page_base == "0" else "1")  # learnt on the way
    connected = [r for r in records if r.state == "CONNECTED"]
    assert list(hook.iter_contact_states(WELCOME, states=["CONNECTED"])) == connected


# -- the upload engine on ECM --------------------------------------------------------------------------


def upload(source: Path, **arguments: Any) -> dict[str, Any]:
    return UploadContactsOperator(task_id="upload", dialer_conn_id="expertflow_ecm_default", campaign_id=WELCOME,
                                  source=str(source), batch_size=10, max_concurrency=1, **arguments).execute({})


def uploads_sent(sandbox_client, since: int) -> list[dict[str, Any]]:
    return sandbox_client.requests(vendor="expertflow", path="insertCallback|uploadBulkCaller", since=since)


@pytest.mark.usefixtures("fast_dialer_hooks")
def test_loading_a_file_again_after_the_campaign_dialled_it_sends_nothing(sandbox_client, tmp_path):
    source = tmp_path / "contacts.csv"
    phones = [f"+1212555{n:04d}" for n in range(40)]
    source.write_text("external_id,phone,timezone\n" + "".join(
        f"again-{n},{phone},America/New_York\n" for n, phone in enumerate(phones)))
    first = upload(source)
    assert (first["accepted"], first["sent"]) == (40, 40)
    sandbox_client.advance(vendor="expertflow")  # the dialer calls them all, to the end
    held = [c for c in held_callbacks(sandbox_client) if c["phone1"] in phones]
    assert len(held) == 40 and all(RequestState(c["requestState"]) in TERMINAL_STATES for c in held)

    since = last_seq(sandbox_client)
    again = upload(source)

    # ECM's own check (duplicateCallbacks=discard) covers only contacts still Pending: without the
    # listing, all 40 would be loaded and called again.
    assert (again["accepted"], again["duplicates"], again["sent"]) == (0, 40, 0)
    assert uploads_sent(sandbox_client, since) == []  # nobody sent, so nobody called twice

    # recontact_after=0: the engine no longer holds back contacts ECM is done with; all 40 are loaded again.
    since = last_seq(sandbox_client)
    recontact = upload(source, recontact_after=timedelta(0))
    assert (recontact["accepted"], recontact["duplicates"], recontact["sent"]) == (40, 0, 40)
    assert len(uploads_sent(sandbox_client, since)) == 40
    assert sorted(c["phone1"] for c in held_callbacks(sandbox_client) if c["phone1"] in phones) == sorted(phones * 2)


# -- without a server ----------------------------------------------------------------------------------


def rows(*ids: int) -> list[dict[str, int]]:
    return [{"id": number} for number in ids]


def ids(answer: list[dict[str, Any]]) -> list[Any]:
    return [row["id"] for row in answer]


def test_rows_a_page_repeats_because_contacts_joined_before_it_are_dropped():
    new_rows = NewRows()
    assert ids(new_rows(rows(1, 2, 4, 5))) == [1, 2, 4, 5]
    assert ids(new_rows(rows(4, 5, 7, 9))) == [7, 9]  # 3 joined before the boundary: 4 and 5 again
    assert ids(new_rows(rows(9, 10, 11))) == [10, 11]
    assert new_rows._given is None  # listed by ascending id: only the highest id and one page kept


def test_a_server_listing_in_another_order_makes_the_walk_remember_every_id():
    new_rows = NewRows()
    assert ids(new_rows(rows(9, 3, 7))) == [9, 3, 7]  # not by ascending id
    assert ids(new_rows(rows(7, 2, 8))) == [2, 8]
    assert ids(new_rows(rows(3, 9, 1))) == [1]
    assert ids(new_rows([{"id": None}, {"id": None}])) == [None, None]  # no id: nothing to tell, given


def test_a_record_from_a_contact_as_the_reference_shows_one():
    record = contact_record({  # the getList example of both references (business params left out)
        "id": 2, "attemptId": 3, "attemptNumber": 3, "dialTime": "2019-11-12 15:10:20", "campaignId": 0,
        "phone1": "string", "phone2": "string", "callResult": 0, "channel": 0, "ciscoCampaignId": 123412,
        "lastStatusUpdateTime": None, "numberToCall": 1393, "requestState": 1,
        "requestTime": "2019-07-31T12:53:34Z", "responseTimeout": None,
    }, "Europe/London")
    assert record.to_dict() == {
        "contact_ref": "2", "external_id": None, "phone": "string", "state": "SENT_TO_DIALER", "terminal": False,
        "attempts": 3, "last_result": "CONNECTED", "last_change": "2019-07-31T12:53:34+00:00",
    }
    later = contact_record({"id": "7", "attemptNumber": "1", "callResult": 2, "phone1": "+15550100101",
                            "requestState": 4, "lastStatusUpdateTime": "2024-07-01 10:00:00"}, "Europe/London")
    assert (later.state, later.terminal, later.attempts, later.last_result, later.last_change) == (
        "RETRIES_COMPLETED", True, 1, "NO_ANSWER", "2024-07-01T09:00:00+00:00")  # no offset: the server's zone
    fresh = contact_record({"id": 8, "attemptNumber": 0, "callResult": 0, "phone1": "", "requestState": 42}, "UTC")
    assert (fresh.state, fresh.terminal, fresh.phone, fresh.last_result, fresh.last_change) == (
        "UNKNOWN (42)", False, None, None, None)
