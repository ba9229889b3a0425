"""Sinch OBI ``iter_contact_states``: every customer of a campaign, streamed page by page, over real
HTTP against the sandbox (under both readings profiles: pages honoured or capped at 50), and the
upload engine using it to never load a contact twice."""

from __future__ import annotations

from datetime import timedelta
from itertools import islice
from pathlib import Path
from typing import Any

import pendulum
import pytest

from airflow_provider_dialers.capabilities import ContactRecord
from airflow_provider_dialers.hooks.base import DialerRequestError
from airflow_provider_dialers.hooks.sinch import SinchObiHook
from airflow_provider_dialers.operators import UploadContactsOperator
from airflow_provider_dialers.vendors.sinch.records import CustomerResult, RecentIds, contact_record
from airflow_provider_dialers.vendors.sinch.wire import customer_record

pytestmark = pytest.mark.readings_profiles  # every sandbox test under the first and second readings

HOOK_CLASS = SinchObiHook  # the ``hook`` fixture (conftest.py)
ACTIVE = "62718C7889CC44F7B944C1A6F6BE9B7F"  # "Spring Renewals", Active, customers 1001-1006
PASSIVE = "8A7C98EAF1164F2FAA93B98EECB95D76"  # "Test Campaign", Passive, customers 2001-2004
SIZE = 250  # 2.5 pages of 100, 5 of a capped server's 50


def fill(hook: SinchObiHook, campaign_id: str, total: int = SIZE) -> None:
    """Add customers ``st-<n>`` until the campaign holds ``total`` (100 a request)."""
    have = len(list(hook.iter_customers(campaign_id)))
    people = [customer_record(external_id=f"st-{n}", numbers=[f"+35840600{n:04d}", f"+35840700{n:04d}"])
              for n in range(have, total)]
    for start in range(0, len(people), 100):
        assert not hook.add_customers(campaign_id, people[start:start + 100]).failed


def sandbox_customers(sandbox_client, campaign_id: str) -> list[dict[str, Any]]:
    return sandbox_client.state("sinch")["campaigns"][campaign_id]["customers"]


def expected_record(customer: dict[str, Any]) -> ContactRecord:
    """What the listing must say of a customer the sandbox holds, read from its own state."""
    result = customer.get("result") or ""
    state = CustomerResult(result).name
    return ContactRecord(
        contact_ref=customer["id"], external_id=customer["externalId"], phone=customer["numbers"].split(";")[0],
        state=state, terminal=state in {"SUCCESS", "REFUSAL", "MAXCALLS"}, attempts=customer.get("callCount"),
        last_result=customer.get("callResult"),
        last_change=pendulum.parse(customer["modificationDate"]).in_timezone("UTC").isoformat(),
    )


def listing_requests(sandbox_client, since: int = 0) -> list[dict[str, Any]]:
    return [r for r in sandbox_client.requests(vendor="sinch", path="/customers$", since=since) if r["method"] == "GET"]


def last_seq(sandbox_client) -> int:
    return max((r["seq"] for r in sandbox_client.requests()), default=0)


# -- the listing --------------------------------------------------------------------------------------


def test_lists_every_customer_once_as_the_sandbox_holds_it_pending_and_dialled(hook, sandbox_client):
    fill(hook, ACTIVE)
    sandbox_client.advance(120, vendor="sinch")  # some called (settled or retried), most not yet

    records = list(hook.iter_contact_states(ACTIVE))

    held = sandbox_customers(sandbox_client, ACTIVE)
    assert len(held) == SIZE
    assert sorted(records, key=lambda r: r.contact_ref) == sorted(map(expected_record, held),
                                                                    key=lambda r: r.contact_ref)
    assert len({r.contact_ref for r in records}) == SIZE  # each once
    states = {r.state for r in records}
    assert "NOT_HANDLED" in states and states & {"SUCCESS", "REFUSAL", "BUSY", "NOANSWER", "DIALING"}
    assert {r.terminal for r in records} == {True, False}
    assert all(r.last_change and r.last_change.endswith("+00:00") for r in records)


def test_cost_is_one_request_per_page_of_the_servers_size(hook, sandbox_client, readings_profile):
    fill(hook, PASSIVE)
    since = last_seq(sandbox_client)

    assert sum(1 for _ in hook.iter_contact_states(PASSIVE)) == SIZE

    pages = listing_requests(sandbox_client, since)
    # 100 a page: 100, 100, 50 (a short page after a full one ends it); capped at 50: 5 full pages of
    # the 50 served, then the empty page that ends them.
    assert len(pages) == (3 if readings_profile == "first" else 6)
    assert all("limit=100" in r["query"] for r in pages)


def test_the_iteration_is_lazy_one_page_for_the_first_record(hook, sandbox_client):
    fill(hook, PASSIVE)
    since = last_seq(sandbox_client)

    listing = hook.iter_contact_states(PASSIVE)
    assert listing_requests(sandbox_client, since) == []  # nothing before the first record is asked for
    first = next(listing)
    assert first.contact_ref and first.state == "NOT_HANDLED"
    assert len(listing_requests(sandbox_client, since)) == 1
    listing.close()


def test_every_customer_once_while_the_campaign_dials_between_pages(hook, sandbox_client):
    fill(hook, ACTIVE)
    sandbox_client.advance(100, vendor="sinch")
    seen: list[str] = []
    for index, record in enumerate(hook.iter_contact_states(ACTIVE)):
        seen.append(record.contact_ref)
        if index % 50 == 49:  # at each page boundary (50 or 100), the dialer moves on
            sandbox_client.advance(60, vendor="sinch")

    assert sorted(seen) == sorted(c["id"] for c in sandbox_customers(sandbox_client, ACTIVE))


def test_a_settled_state_listed_while_customers_join_it_misses_and_repeats_nobody(hook, sandbox_client, obi):
    fill(hook, ACTIVE, 600)
    sandbox_client.advance(1000, vendor="sinch")  # some 200 SUCCESS: several pages of the search
    before = {c["id"] for c in sandbox_customers(sandbox_client, ACTIVE) if c.get("result") == "SUCCESS"}
    # Customers early in the list that ran out of attempts; called again (a raised RetryCount: the
    # sandbox has no retry delay, so only these come back) and reached, they join the search before
    # the offset while it pages, and the next page starts as many places back.
    called_again = iter([c for c in obi.campaigns[ACTIVE].customers.values() if c.result == "MAXCALLS"])
    seen: list[str] = []
    for index, record in enumerate(hook.iter_contact_states(ACTIVE, states=["success"])):
        assert record.state == "SUCCESS" and record.terminal
        seen.append(record.contact_ref)
        if index % 50 == 49:  # at each page boundary (of 50 or 100)
            for customer in islice(called_again, 3):
                customer.result = customer.call_result = "SUCCESS"

    assert len(seen) == len(set(seen))  # nobody twice, though the offsets shifted
    assert before <= set(seen)  # nobody who was SUCCESS from the start is missed


# -- the states filter, and agreement with get_contact_state -----------------------------------------


def test_states_filter_any_case_settled_results_searched_on_the_server(hook, sandbox_client):
    fill(hook, ACTIVE)
    sandbox_client.advance(400, vendor="sinch")
    by_state: dict[str, set[str]] = {}
    for record in map(expected_record, sandbox_customers(sandbox_client, ACTIVE)):
        by_state.setdefault(record.state, set()).add(record.contact_ref)
    assert {"SUCCESS", "REFUSAL", "NOT_HANDLED"} <= set(by_state)

    since = last_seq(sandbox_client)
    settled = {r.contact_ref for r in hook.iter_contact_states(ACTIVE, states=["Success", "REFUSAL"])}
    assert settled == by_state["SUCCESS"] | by_state["REFUSAL"]
    queries = [r["query"] for r in listing_requests(sandbox_client, since)]
    assert queries and all("result=SUCCESS" in q or "result=REFUSAL" in q for q in queries)

    since = last_seq(sandbox_client)
    waiting = {r.contact_ref for r in hook.iter_contact_states(ACTIVE, states=["not_handled", "maxcalls"])}
    assert waiting == by_state["NOT_HANDLED"] | by_state.get("MAXCALLS", set())
    assert all("result=" not in r["query"] for r in listing_requests(sandbox_client, since))  # client-side
    assert {r.contact_ref for r in hook.iter_contact_states(ACTIVE, states=[""])} == by_state["NOT_HANDLED"]

    since = last_seq(sandbox_client)
    assert list(hook.iter_contact_states(ACTIVE, states=[])) == []
    assert listing_requests(sandbox_client, since) == []  # nothing asked for: nothing requested


def test_terminal_and_attempts_agree_with_get_contact_state(hook, sandbox_client):
    fill(hook, ACTIVE, 60)
    sandbox_client.advance(150, vendor="sinch")

    records = list(hook.iter_contact_states(ACTIVE))
    sample = {r.state: r for r in records}.values()  # one customer of each state
    assert len(sample) >= 3
    for record in sample:
        state = hook.get_contact_state(ACTIVE, record.external_id)
        assert (state.contact_ref, state.state, state.terminal, state.attempts) == (
            record.external_id, record.state, record.terminal, record.attempts)
        assert state.history["id"] == record.contact_ref
        assert state.history.get("callResult") == record.last_result


def test_an_unknown_campaign_is_the_obis_404(hook):
    with pytest.raises(DialerRequestError) as refused:
        next(hook.iter_contact_states("0" * 32))
    assert refused.value.status_code == 404


# -- the upload engine on Sinch ----------------------------------------------------------------------


def upload(source: Path, **arguments: Any) -> dict[str, Any]:
    return UploadContactsOperator(task_id="upload", dialer_conn_id="sinch_obi_default", campaign_id=ACTIVE,
                                  source=str(source), batch_size=10, max_concurrency=1, **arguments).execute({})


def uploads_sent(sandbox_client, since: int) -> list[dict[str, Any]]:
    return [r for r in sandbox_client.requests(vendor="sinch", path="/customers(/list)?$", since=since)
            if r["method"] == "POST"]


@pytest.mark.usefixtures("fast_dialer_hooks")
def test_loading_a_file_again_after_the_campaign_dialled_it_sends_nothing(sandbox_client, tmp_path):
    source = tmp_path / "contacts.csv"
    source.write_text("external_id,phone,timezone\n" + "".join(
        f"again-{n},+35840800{n:04d},Europe/Helsinki\n" for n in range(40)))
    first = upload(source)
    assert (first["accepted"], first["sent"]) == (40, 40)
    sandbox_client.advance(vendor="sinch")  # the dialer calls them all, to the end
    held = [c for c in sandbox_customers(sandbox_client, ACTIVE) if c["externalId"].startswith("again-")]
    assert len(held) == 40 and all(c["result"] in {"SUCCESS", "REFUSAL", "MAXCALLS"} for c in held)

    since = last_seq(sandbox_client)
    again = upload(source)

    assert (again["accepted"], again["duplicates"], again["sent"]) == (0, 40, 0)
    assert uploads_sent(sandbox_client, since) == []  # nobody sent, so nobody called twice

    # recontact_after=0: the engine no longer holds them back and sends all 40; the OBI keeps an
    # externalId unique in the campaign, handled customers included, so it refuses every one, and the
    # hook deletes each handled customer and adds it again (tests/test_recontact.py).
    since = last_seq(sandbox_client)
    recontact = upload(source, recontact_after=timedelta(0))
    answered = [r["status"] for r in uploads_sent(sandbox_client, since)]
    assert recontact["sent"] == 40 and answered.count(200) == 8  # 4 refused, 4 added again (+ one 400
    # that learns wrapper_only)
    assert (recontact["accepted"], recontact["duplicates"]) == (40, 0)
    again_held = [c for c in sandbox_customers(sandbox_client, ACTIVE) if c["externalId"].startswith("again-")]
    assert len(again_held) == 40 and all(c["result"] == "" for c in again_held)


# -- without a server ----------------------------------------------------------------------------------


def test_a_customer_listed_twice_because_the_offsets_shifted_is_yielded_once(monkeypatch):
    hook = SinchObiHook("sinch_obi_default")
    customers = [{"id": f"{n:032X}", "externalId": f"x{n}", "numbers": f"+3584000{n:04d}", "result": "SUCCESS"}
                 for n in range(250)]
    served: list[int] = []

    def list_customers(campaign_id, *, offset, limit, **search):
        served.append(offset)
        if len(served) == 2:  # three customers join before the offset between two pages
            customers[:0] = [{**customers[0], "id": f"{900 + n:032X}"} for n in range(3)]
        return customers[offset:offset + limit]

    monkeypatch.setattr(hook, "list_customers", list_customers)
    monkeypatch.setattr(hook, "reading", lambda name: "honoured")
    refs = [r.contact_ref for r in hook.iter_contact_states("C", states=["SUCCESS"])]

    assert len(refs) == len(set(refs)) == 250  # the three repeated at the page boundary are dropped
    assert served == [0, 100, 200]


def test_recent_ids_forget_the_oldest_beyond_their_size():
    recent = RecentIds(3)
    assert [recent.first_sighting(i) for i in "abca"] == [True, True, True, False]
    assert [recent.first_sighting(i) for i in "dacd"] == [True, True, False, False]  # d pushed a out


def test_a_record_from_a_customer_as_the_reference_shows_one():
    record = contact_record({
        "id": "5C7A1B1A001848B7A86000E10E3B9D5B", "externalId": "10", "numbers": "0215428754;0215428755",
        "result": "SUCCESS", "callResult": "SUCCESS", "date": "9999-12-31T23:59:59Z", "callCount": 2,
        "modificationDate": "2020-09-29T12:58:28.393Z",
    })
    assert record.to_dict() == {
        "contact_ref": "5C7A1B1A001848B7A86000E10E3B9D5B", "external_id": "10", "phone": "0215428754",
        "state": "SUCCESS", "terminal": True, "attempts": 2, "last_result": "SUCCESS",
        "last_change": "2020-09-29T12:58:28.393000+00:00",
    }
    unknown = contact_record({"id": "A" * 32, "externalId": "", "numbers": "", "result": "FILTERED",
                              "date": "9999-12-31T23:59:59Z", "modificationDate": "2020-09-29 12:58:28",
                              "attributes": [{"name": "Phone1", "value": "0215428754"}]})
    assert (unknown.external_id, unknown.phone, unknown.state, unknown.terminal, unknown.last_change) == (
        None, "0215428754", "FILTERED", True, "2020-09-29T12:58:28+00:00")
