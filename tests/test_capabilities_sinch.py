"""Sinch OBI capabilities over real HTTP against the sandbox, asserting on the sandbox's state."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_dialers.capabilities import (
    CallbackRow,
    ContactRow,
    RowStatus,
    UploadOptions,
)
from airflow_provider_dialers.contacts import dedupe_key, parse_callback, parse_contact
from airflow_provider_dialers.hooks.base import (
    DialerNotSupportedError,
    DialerRequestError,
    DialerValidationError,
)
from airflow_provider_dialers.hooks.sinch import CustomerItemResult, SinchObiHook
from airflow_provider_dialers.vendors.sinch.records import (
    TERMINAL_RESULTS,
    CustomerResult,
    campaign_progress,
    contact_state,
    outcome_from_item,
)

pytestmark = pytest.mark.readings_profiles  # every test under the sandbox's first and second readings

HOOK_CLASS = SinchObiHook  # the ``hook`` fixture (conftest.py)
VENDOR = SinchObiHook.vendor_name
ACTIVE = "62718C7889CC44F7B944C1A6F6BE9B7F"  # "Spring Renewals", Active, customers 1001-1006
PASSIVE = "8A7C98EAF1164F2FAA93B98EECB95D76"  # "Test Campaign", Passive, customers 2001-2004
HANDLED = "E49625CFDF58E311B764005056A7012B"  # "Training campaign", Handled: SUCCESS, REFUSAL, MAXCALLS
AGENT = "21A144F1824E4C768868D10201608E2E"
SKIP = UploadOptions()


def contact_rows(*contacts: dict[str, Any]) -> list[ContactRow]:
    return [ContactRow(row, parse_contact(raw)) for row, raw in enumerate(contacts, start=1)]


def callback_rows(*callbacks: dict[str, Any]) -> list[CallbackRow]:
    return [CallbackRow(row, parse_callback(raw)) for row, raw in enumerate(callbacks, start=1)]


def person(n: int, **fields: Any) -> dict[str, Any]:
    return {"phones": [f"+3584050{n:05d}"], **fields}


def customers_by_external_id(obi, campaign_id: str) -> dict[str, Any]:
    return {c.external_id: c for c in obi.campaigns[campaign_id].customers.values()}


def external_id_counts(obi, campaign_id: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for customer in obi.campaigns[campaign_id].customers.values():
        counts[customer.external_id] = counts.get(customer.external_id, 0) + 1
    return counts


def statuses(outcomes) -> list[str]:
    return [outcome.status.value for outcome in outcomes]


def list_requests(sandbox_client) -> list[dict]:
    return sandbox_client.requests(vendor="sinch", path="/customers/list$")


def list_statuses(sandbox_client) -> list[int]:
    return [request["status"] for request in list_requests(sandbox_client)]


def sent_as_the_server_binds(readings_profile: str, *statuses: int) -> list[int]:
    """The statuses of a hook's first ``customers/list`` POSTs: under the second readings the server
    binds only the wrapper (sinch_attributes_form), so the schema's array is refused whole (400,
    nothing added) once before the same customers go wrapped."""
    return [400, *statuses] if readings_profile == "second" else list(statuses)


# -- campaigns --------------------------------------------------------------------------------------


def test_find_campaign_returns_the_exact_name_only(hook):
    assert hook.find_campaign("Spring Renewals") == ACTIVE
    assert hook.find_campaign("spring renewals") is None  # the OBI search ignores case; names do not
    assert hook.find_campaign("Spring*") is None  # * is a pattern to the OBI, a character here
    assert hook.find_campaign("No such campaign") is None


def test_find_campaign_refuses_to_guess_between_two_campaigns_of_one_name(hook, obi):
    obi.campaigns[PASSIVE].name = "Spring Renewals"
    with pytest.raises(DialerValidationError, match="2 campaigns are called 'Spring Renewals'") as ambiguous:
        hook.find_campaign("Spring Renewals")
    assert ambiguous.value.field == "name"


def test_set_campaign_status_runs_and_pauses(hook, obi):
    hook.set_campaign_status(PASSIVE, "running")
    assert (obi.campaigns[PASSIVE].status, obi.campaigns[PASSIVE].dialer_status) == ("Active", "OPEN")
    hook.set_campaign_status(PASSIVE, "paused")
    assert (obi.campaigns[PASSIVE].status, obi.campaigns[PASSIVE].dialer_status) == ("Passive", "PASSIVE")


def test_set_campaign_status_refuses_other_words_without_calling(hook, obi, sandbox_client):
    with pytest.raises(DialerValidationError, match="status"):
        hook.set_campaign_status(PASSIVE, "Active")  # type: ignore[arg-type]
    assert sandbox_client.requests(vendor="sinch") == []


def test_list_campaigns_summarises_every_campaign(hook):
    summaries = {c["id"]: c for c in hook.list_campaigns()}
    assert summaries[ACTIVE] == {"id": ACTIVE, "name": "Spring Renewals", "status": "Active", "running": True}
    assert summaries[HANDLED]["status"] == "Handled" and summaries[HANDLED]["running"] is False
    assert len(summaries) == 3


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda h: h.create_campaign({"name": "New"}), "create campaigns"),
        (lambda h: h.add_dnc(["+358401234501"]), "do-not-call"),
        (lambda h: h.remove_dnc(["+358401234501"]), "do-not-call"),
        (lambda h: h.list_dnc(), "do-not-call"),
        (lambda h: h.set_global_emergency(True), "global emergency"),
        (lambda h: h.upload_contacts(ACTIVE, contact_rows(person(1)), options=UploadOptions(on_duplicate="update")),
         "changes a customer"),
        (lambda h: h.add_callbacks(PASSIVE, [], options=UploadOptions(on_duplicate="update")), "changes a customer"),
    ],
)
def test_unsupported_capabilities_name_the_vendor_and_send_nothing(hook, sandbox_client, call, words):
    with pytest.raises(DialerNotSupportedError, match=words) as refused:
        call(hook)
    assert refused.value.vendor == VENDOR
    assert str(refused.value).startswith(f"{VENDOR}: cannot ")
    assert sandbox_client.requests(vendor="sinch") == []


# -- upload_contacts ----------------------------------------------------------------------------------


def test_upload_contacts_adds_mapped_customers(hook, obi):
    rows = contact_rows(
        {"external_id": "crm-17", "phones": ["+1 555 123 0017", "5551230018"], "timezone": "America/Chicago",
         "dial_at": "2030-06-01T10:00:00-05:00", "attributes": {"name": "Ann", "tier": "gold"}},
        person(2, attributes={"name": "Bob"}),
    )

    outcomes = hook.upload_contacts(PASSIVE, rows, options=SKIP)

    assert statuses(outcomes) == ["accepted", "accepted"]
    added = customers_by_external_id(obi, PASSIVE)
    ann = added["crm-17"]
    assert outcomes[0].vendor_id == ann.id
    assert ann.numbers == ["+15551230017", "5551230018"]
    assert ann.time_zone == "America/Chicago"
    assert ann.date.isoformat() == "2030-06-01T15:00:00+00:00"  # dial_at sent in UTC
    assert {a["name"]: a["value"] for a in ann.attributes} == {
        "name": "Ann", "tier": "gold", "Phone1": "+15551230017", "Phone2": "5551230018"}
    # A row without external_id gets the key derived from it, so a retry re-sends the same one.
    bob_key = dedupe_key(rows[1].contact)
    assert bob_key.startswith("row-") and added[bob_key].numbers == ["+358405000002"]
    assert outcomes[1].payload["externalId"] == bob_key


@pytest.mark.parametrize(
    ("bad", "field", "words"),
    [
        ({"phones": ["5550001", "5550002", "5550003", "5550004"]}, "phones", "at most 3"),
        ({"phones": ["5550001", "1234"]}, "phones[1]", "5-15 digits"),
        ({"phones": ["+1234567890123456"]}, "phones[0]", "5-15 digits"),
        ({"phone": "5550001", "attributes": {"phone2": "5550009"}}, "attributes.phone2", "reserved"),
    ],
)
def test_a_row_over_the_obi_limits_is_rejected_with_its_field_while_good_rows_land(
    hook, obi, sandbox_client, readings_profile, bad, field, words
):
    outcomes = hook.upload_contacts(PASSIVE, contact_rows(person(1), bad, person(3)), options=SKIP)

    assert statuses(outcomes) == ["accepted", "rejected", "accepted"]
    assert (outcomes[1].row, outcomes[1].field) == (2, field)
    assert words in outcomes[1].reason
    assert len(obi.campaigns[PASSIVE].customers) == 4 + 2
    assert list_statuses(sandbox_client) == sent_as_the_server_binds(readings_profile, 200)


def test_a_row_the_obi_refuses_is_rejected_with_its_text_and_the_models_field(hook, sandbox_client):
    answer = ('[{"statusCode": 201, "id": "0CED774B58EB4CDCBEE697232C22761B"},'
              ' {"statusCode": 400, "error": "Invalid date: \'2030-13-01\'"}]')
    sandbox_client.add_fault(vendor="sinch", status=200, body=answer, path="/customers/list$")

    outcomes = hook.upload_contacts(PASSIVE, contact_rows(person(1), person(2)), options=SKIP)

    assert outcomes[0].status is RowStatus.ACCEPTED
    assert outcomes[0].vendor_id == "0CED774B58EB4CDCBEE697232C22761B"
    rejected = outcomes[1]
    assert (rejected.status, rejected.field, rejected.vendor_code) == (RowStatus.REJECTED, "dial_at", "400")
    assert rejected.reason == "Invalid date: '2030-13-01'"


def test_dry_run_sends_nothing_and_reports_each_payload(hook, obi, sandbox_client):
    rows = contact_rows(person(1, external_id="d1", timezone="Europe/Helsinki"),
                        {"phones": ["5550001", "5550002", "5550003", "5550004"]})

    outcomes = hook.upload_contacts(PASSIVE, rows, options=UploadOptions(dry_run=True))

    assert sandbox_client.requests(vendor="sinch") == []
    assert len(obi.campaigns[PASSIVE].customers) == 4
    assert statuses(outcomes) == ["accepted", "rejected"]
    assert outcomes[0].payload == {"externalId": "d1", "numbers": "+358405000001", "attributes": [],
                                   "timeZone": "Europe/Helsinki"}
    assert outcomes[1].field == "phones"


def test_on_duplicate_skip_leaves_an_existing_customer_untouched(hook, obi):
    before = customers_by_external_id(obi, ACTIVE)["1001"].numbers

    outcomes = hook.upload_contacts(ACTIVE, contact_rows(person(1, external_id="1001"), person(2)), options=SKIP)

    assert statuses(outcomes) == ["duplicate", "accepted"]
    assert outcomes[0].field == "external_id" and "not unique" in outcomes[0].reason
    assert customers_by_external_id(obi, ACTIVE)["1001"].numbers == before
    assert external_id_counts(obi, ACTIVE)["1001"] == 1


def test_a_repeated_external_id_within_one_batch_is_one_customer_and_one_duplicate(hook, obi):
    rows = contact_rows(person(1, external_id="twice"), person(2, external_id="twice"), person(3))

    outcomes = hook.upload_contacts(PASSIVE, rows, options=SKIP)

    assert statuses(outcomes) == ["accepted", "duplicate", "accepted"]
    assert "row 1" in outcomes[1].reason
    assert external_id_counts(obi, PASSIVE)["twice"] == 1
    assert customers_by_external_id(obi, PASSIVE)["twice"].numbers == ["+358405000001"]


def test_the_same_batch_sent_again_after_a_crash_leaves_each_contact_once(hook, obi):
    rows = contact_rows(person(1, external_id="r1"), person(2), person(3, attributes={"name": "Cy"}))

    first = hook.upload_contacts(PASSIVE, rows, options=SKIP)
    retry = hook.upload_contacts(PASSIVE, rows, options=SKIP)  # a retried task re-sends its batch

    assert statuses(first) == ["accepted"] * 3
    assert statuses(retry) == ["duplicate"] * 3
    counts = external_id_counts(obi, PASSIVE)
    assert [counts[dedupe_key(row.contact)] for row in rows] == [1, 1, 1]
    assert len(counts) == 4 + 3


def test_a_batch_reset_after_processing_is_resent_and_counted_accepted(
    hook, obi, sandbox_client, readings_profile
):
    sandbox_client.add_fault(vendor="sinch", action="reset", after_processing=True, path="/customers/list$")
    rows = contact_rows(person(1, external_id="lost-1"), person(2), {"phones": ["1234"]})

    outcomes = hook.upload_contacts(PASSIVE, rows, options=SKIP)

    # Processed, answer lost (no status), re-sent; under the second readings what was processed was
    # the refusal of the array, so the re-sent array is refused again before the wrapper goes.
    assert list_statuses(sandbox_client) == [None, *sent_as_the_server_binds(readings_profile, 200)]
    assert statuses(outcomes) == ["accepted", "accepted", "rejected"]
    counts = external_id_counts(obi, PASSIVE)
    assert counts["lost-1"] == 1 and counts[dedupe_key(rows[1].contact)] == 1
    assert len(counts) == 4 + 2


def test_upload_batch_size_is_the_references_recommended_maximum(hook):
    assert hook.upload_batch_size == 100


# -- add_callbacks ----------------------------------------------------------------------------------


def test_add_callbacks_adds_customers_due_at_the_callback_time_for_the_agent(hook, obi):
    rows = callback_rows(
        {**person(1, external_id="cb-1", timezone="Europe/Berlin"), "callback_at": "2030-06-01T09:30:00",
         "agent": AGENT},
        {**person(2, external_id="cb-2"), "callback_at": "2030-06-02T08:00:00Z"},
        {**person(3, external_id="cb-3"), "callback_at": "2030-06-02T08:00:00Z", "agent": "kathy"},
    )

    outcomes = hook.add_callbacks(PASSIVE, rows, options=SKIP)

    assert statuses(outcomes) == ["accepted", "accepted", "rejected"]
    assert (outcomes[2].field, outcomes[2].row) == ("agent", 3)
    added = customers_by_external_id(obi, PASSIVE)
    assert added["cb-1"].date.isoformat() == "2030-06-01T07:30:00+00:00"  # Berlin summer time, in UTC
    assert added["cb-1"].agent_id == AGENT
    assert (added["cb-2"].date.isoformat(), added["cb-2"].agent_id) == ("2030-06-02T08:00:00+00:00", None)
    assert "cb-3" not in added


def test_a_callback_for_a_customer_the_campaign_has_is_a_duplicate(hook, obi):
    rows = callback_rows({**person(1, external_id="2001"), "callback_at": "2030-06-02T08:00:00Z"})

    outcomes = hook.add_callbacks(PASSIVE, rows, options=SKIP)

    assert statuses(outcomes) == ["duplicate"]
    assert external_id_counts(obi, PASSIVE)["2001"] == 1


def test_callbacks_dry_run_and_retry_after_reset(hook, obi, sandbox_client):
    rows = callback_rows({**person(1), "callback_at": "2030-06-02T08:00:00Z", "agent": AGENT})

    dry = hook.add_callbacks(PASSIVE, rows, options=UploadOptions(dry_run=True))
    assert sandbox_client.requests(vendor="sinch") == []
    assert dry[0].payload["date"] == "2030-06-02T08:00:00Z" and dry[0].payload["agentId"] == AGENT

    sandbox_client.add_fault(vendor="sinch", action="reset", after_processing=True, path="/customers/list$")
    assert statuses(hook.add_callbacks(PASSIVE, rows, options=SKIP)) == ["accepted"]
    assert external_id_counts(obi, PASSIVE)[dry[0].payload["externalId"]] == 1


# -- get_campaign_progress ----------------------------------------------------------------------------


def test_progress_of_a_campaign_dialled_to_completion(hook, sandbox_client):
    before = hook.get_campaign_progress(ACTIVE)
    assert (before.complete, before.status, before.total, before.pending) == (False, "Active", 6, 6)
    assert before.outcomes == {"NOT_HANDLED": 6}

    sandbox_client.advance(vendor="sinch")

    after = hook.get_campaign_progress(ACTIVE)
    assert (after.complete, after.status, after.pending, after.detail) == (True, "Handled", 0, None)
    assert sum(after.outcomes.values()) == 6
    assert set(after.outcomes) <= {"SUCCESS", "REFUSAL", "MAXCALLS"}
    assert after.to_dict()["campaign_id"] == ACTIVE


def test_progress_of_a_handled_campaign_with_customers_added_since_is_not_complete(hook, obi):
    assert hook.get_campaign_progress(HANDLED).complete is True
    assert hook.get_campaign_progress(HANDLED).outcomes == {"SUCCESS": 1, "REFUSAL": 1, "MAXCALLS": 1}

    hook.upload_contacts(HANDLED, contact_rows(person(1)), options=SKIP)

    progress = hook.get_campaign_progress(HANDLED)
    assert (progress.complete, progress.status, progress.pending) == (False, "Handled", 1)
    assert "activate it" in progress.detail


def test_progress_of_a_passive_campaign_says_why_it_is_not_dialling(hook):
    progress = hook.get_campaign_progress(PASSIVE)
    assert (progress.complete, progress.pending) == (False, 4)
    assert "wait until the campaign is Active" in progress.detail


def test_progress_costs_the_same_requests_whatever_the_campaign_size(hook, sandbox_client):
    def requests_for_one_progress_call() -> int:
        sandbox_client.clear_requests()
        hook.get_campaign_progress(PASSIVE)
        return len(sandbox_client.requests(vendor="sinch"))

    hook.upload_contacts(PASSIVE, contact_rows(*(person(n) for n in range(10))), options=SKIP)
    small = requests_for_one_progress_call()
    for start in range(10, 300, 100):
        batch = contact_rows(*(person(n) for n in range(start, min(start + 100, 300))))
        hook.upload_contacts(PASSIVE, batch, options=SKIP)
    large = requests_for_one_progress_call()

    assert hook.get_campaign_progress(PASSIVE).total == 4 + 300
    assert small == large == 2


# -- get_contact_state --------------------------------------------------------------------------------


def test_contact_state_by_external_id_customer_id_and_number(hook, obi):
    bob = customers_by_external_id(obi, ACTIVE)["1002"]
    id36 = f"{bob.id[:8]}-{bob.id[8:12]}-{bob.id[12:16]}-{bob.id[16:20]}-{bob.id[20:]}".lower()

    for ref in ("1002", bob.id, id36, "+358401234512", "+358 40 1234502"):
        state = hook.get_contact_state(ACTIVE, ref)
        assert (state.state, state.terminal, state.attempts) == ("NOT_HANDLED", False, 0), ref
        assert state.history["id"] == bob.id and state.contact_ref == ref


def test_contact_state_follows_the_customers_result_to_a_terminal_one(hook, sandbox_client):
    sandbox_client.advance(contacts=1, vendor="sinch")
    dialing = [hook.get_contact_state(ACTIVE, str(ref)) for ref in range(1001, 1007)]
    assert [s.state for s in dialing].count("DIALING") == 1

    sandbox_client.advance(vendor="sinch")

    for ref in range(1001, 1007):
        state = hook.get_contact_state(ACTIVE, str(ref))
        assert state.terminal and state.state in {"SUCCESS", "REFUSAL", "MAXCALLS"}
        assert 1 <= state.attempts <= 4
        assert {"callResult", "modificationDate", "lastBNumber"} <= set(state.history)


def test_contact_state_of_a_handled_campaigns_customers(hook):
    assert hook.get_contact_state(HANDLED, "7").to_dict() | {"history": None} == {
        "contact_ref": "7", "state": "SUCCESS", "terminal": True, "attempts": 1, "history": None}
    maxcalls = hook.get_contact_state(HANDLED, "11")
    assert (maxcalls.state, maxcalls.terminal, maxcalls.attempts) == ("MAXCALLS", True, 4)
    assert maxcalls.history["callResult"] == "NOANSWER"


def test_contact_state_of_an_unknown_or_ambiguous_reference(hook, obi):
    with pytest.raises(DialerRequestError, match="no customer") as missing:
        hook.get_contact_state(ACTIVE, "100*")  # exact: the OBI's pattern would match 1001-1006
    assert missing.value.status_code == 404
    with pytest.raises(DialerRequestError, match="no customer"):
        hook.get_contact_state(ACTIVE, "0" * 32)

    hook.upload_contacts(ACTIVE, contact_rows({"phone": "+358401234501", "external_id": "again"}), options=SKIP)
    with pytest.raises(DialerValidationError, match="2 customers have number"):
        hook.get_contact_state(ACTIVE, "+358401234501")


# -- mapping units (what the sandbox cannot produce) ---------------------------------------------------


def test_every_terminal_result_is_a_known_result():
    assert TERMINAL_RESULTS == {CustomerResult.SUCCESS, CustomerResult.REFUSAL, CustomerResult.MAXCALLS}


def test_an_unknown_result_is_terminal_only_when_the_obi_will_never_call_again():
    never = contact_state("x", {"result": "DO_NOT_CALL", "date": "9999-12-31T23:59:59Z"})
    later = contact_state("x", {"result": "CALLBACK", "date": "2030-01-01T00:00:00Z"})
    assert (never.state, never.terminal) == ("DO_NOT_CALL", True)
    assert (later.state, later.terminal) == ("CALLBACK", False)


def test_progress_without_counters_falls_back_to_the_campaign_status():
    assert campaign_progress("c", {"status": "Handled"}, []).complete is True
    assert campaign_progress("c", {"status": "Active", "dialerStatus": "COMPLETED"}, []).complete is True
    assert campaign_progress("c", {"status": "Active", "dialerStatus": "OPEN"}, []).complete is False
    expired = campaign_progress("c", {"status": "Expired", "total": 3, "notHandled": 2, "maxCalls": 1}, [])
    assert (expired.complete, expired.pending) == (False, 1)
    assert "Expired" in expired.detail


def test_a_replayed_not_unique_answer_is_the_rows_own_customer():
    item = CustomerItemResult(0, 400, None, "Invalid externalId: k : Value is not unique", "k")
    assert outcome_from_item(1, item, replayed=True, payload={}).status is RowStatus.ACCEPTED
    assert outcome_from_item(1, item, replayed=False, payload={}).status is RowStatus.DUPLICATE
