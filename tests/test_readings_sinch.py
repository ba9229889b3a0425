"""The Sinch OBI hook against servers that read the reference's silent points the other way
(docs/readings.md): each test sets the sandbox to a non-default reading and runs the hook path that
broke under it, over real HTTP. The hook detects the reading and remembers it for its life, or the
connection extra ``readings`` fixes it."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_dialers.capabilities import ContactRow, UploadOptions
from airflow_provider_dialers.contacts import parse_contact
from airflow_provider_dialers.errors import DialerRequestError
from airflow_provider_dialers.hooks.sinch import SinchObiHook
from airflow_provider_dialers.vendors.sinch import records
from tests.support import FAST

HOOK_CLASS = SinchObiHook  # the ``hook`` fixture (conftest.py)
ACTIVE = "62718C7889CC44F7B944C1A6F6BE9B7F"  # "Spring Renewals", Active, customers 1001-1006
PASSIVE = "8A7C98EAF1164F2FAA93B98EECB95D76"  # "Test Campaign", Passive, customers 2001-2004
HANDLED = "E49625CFDF58E311B764005056A7012B"  # "Training campaign", Handled: SUCCESS, REFUSAL, MAXCALLS
SKIP = UploadOptions()


def contact_rows(*contacts: dict[str, Any]) -> list[ContactRow]:
    return [ContactRow(row, parse_contact(raw)) for row, raw in enumerate(contacts, start=1)]


def person(n: int, **fields: Any) -> dict[str, Any]:
    return {"phones": [f"+3584050{n:05d}"], **fields}


def sent(sandbox_client, path: str) -> list[tuple[str, int]]:
    """(method, status) of each request to the Sinch paths matching ``path``."""
    return [(r["method"], r["status"]) for r in sandbox_client.requests(vendor="sinch", path=path)]


def hook_with_readings(make_connection, readings: dict[str, str]) -> SinchObiHook:
    conn_id = make_connection("sinch_readings", "sinch_obi", extra={"readings": readings})
    return SinchObiHook(conn_id, retry_policy=FAST)


def test_the_hook_knows_every_switch_the_sandbox_plays_with_the_same_choices(sandbox):
    played = {reading.name: reading.choices for reading in sandbox.core.vendors["sinch"].readings}
    assert dict(SinchObiHook.known_readings) == played
    assert len(played) >= 4 and all(name.startswith("sinch_") for name in played)


# -- sinch_attributes_form ------------------------------------------------------------------------------


def test_wrapper_only_attributes_an_upload_switches_to_the_wrapper_and_keeps_it(hook, obi, sandbox_client):
    sandbox_client.configure(readings={"sinch_attributes_form": "wrapper_only"})
    rows = contact_rows(person(1, external_id="w1", attributes={"name": "Ann"}), person(2, external_id="w2"))

    outcomes = hook.upload_contacts(PASSIVE, rows, options=SKIP)

    assert [o.status.value for o in outcomes] == ["accepted", "accepted"]
    added = {c.external_id: c for c in obi.campaigns[PASSIVE].customers.values()}
    assert {"name": "name", "value": "Ann"} in added["w1"].attributes  # nothing dropped
    # The schema's array was refused whole (nothing added), then the same batch went as the wrapper.
    assert sent(sandbox_client, "/customers/list$") == [("POST", 400), ("POST", 200)]
    assert hook.reading("sinch_attributes_form") == "wrapper_only"

    hook.upload_contacts(PASSIVE, contact_rows(person(3, external_id="w3", attributes={"tier": "gold"})),
                         options=SKIP)
    assert sent(sandbox_client, "/customers/list$")[2:] == [("POST", 200)]  # remembered: no second 400
    assert hook.add_customer(PASSIVE, numbers=["+358405999999"], attributes={"City": "Oulu"})
    assert sent(sandbox_client, "/customers$") == [("POST", 201)]


def test_wrapper_only_attributes_a_single_add_customer_switches_too(hook, obi, sandbox_client):
    sandbox_client.configure(readings={"sinch_attributes_form": "wrapper_only"})

    customer_id = hook.add_customer(PASSIVE, external_id="s1", numbers="+358405000001",
                                    attributes={"First Name": "Aino"})

    assert {"name": "First Name", "value": "Aino"} in obi.campaigns[PASSIVE].customers[customer_id].attributes
    assert sent(sandbox_client, "/customers$") == [("POST", 400), ("POST", 201)]


def test_the_readings_extra_sends_the_wrapper_from_the_first_request(make_connection, sandbox_client):
    sandbox_client.configure(readings={"sinch_attributes_form": "wrapper_only"})
    with hook_with_readings(make_connection, {"sinch_attributes_form": "wrapper_only"}) as configured:
        rows = contact_rows(person(1, attributes={"a": "b"}))
        outcomes = configured.upload_contacts(PASSIVE, rows, options=SKIP)
    assert outcomes[0].status.value == "accepted"
    assert sent(sandbox_client, "/customers/list$") == [("POST", 200)]


def test_a_400_about_something_else_is_raised_as_the_server_words_it(hook, sandbox_client):
    with pytest.raises(DialerRequestError, match="Invalid numbers"):
        hook.add_customer(PASSIVE, attributes={"City": "Oulu"})  # no numbers, no Phone1
    assert [status for _, status in sent(sandbox_client, "/customers$")] == [400]  # not about attributes
    assert hook.reading("sinch_attributes_form") is None

    sandbox_client.configure(readings={"sinch_attributes_form": "wrapper_only"})
    sandbox_client.clear_requests()
    with pytest.raises(DialerRequestError, match="Invalid numbers"):
        hook.add_customer(PASSIVE, attributes={"City": "Oulu"})
    # The array was refused first; the wrapper bound, and the server then named the real problem.
    assert [status for _, status in sent(sandbox_client, "/customers$")] == [400, 400]
    assert hook.reading("sinch_attributes_form") == "wrapper_only"


# -- sinch_status_body ----------------------------------------------------------------------------------


def test_json_only_status_pause_and_resume_work_and_the_form_is_remembered(hook, obi, sandbox_client):
    sandbox_client.configure(readings={"sinch_status_body": "application_json"})

    hook.set_campaign_status(PASSIVE, "running")
    assert obi.campaigns[PASSIVE].status == "Active"
    hook.set_campaign_status(PASSIVE, "paused")
    assert obi.campaigns[PASSIVE].status == "Passive"

    # text/plain was refused with 415 once (not processed), then JSON is sent straight away.
    assert sent(sandbox_client, "/status$") == [("PUT", 415), ("PUT", 204), ("PUT", 204)]
    assert hook.reading("sinch_status_body") == "application_json"


def test_the_readings_extra_sends_json_status_from_the_first_request(make_connection, obi, sandbox_client):
    sandbox_client.configure(readings={"sinch_status_body": "application_json"})
    with hook_with_readings(make_connection, {"sinch_status_body": "application_json"}) as configured:
        configured.update_campaign_status(PASSIVE, "Active")
    assert obi.campaigns[PASSIVE].status == "Active"
    assert sent(sandbox_client, "/status$") == [("PUT", 204)]


# -- sinch_page_limit -----------------------------------------------------------------------------------


def test_capped_pages_every_customer_is_read_and_a_late_match_is_found(hook, sandbox_client):
    sandbox_client.configure(readings={"sinch_page_limit": "capped"})
    # 60 customers whose numbers contain +3584060, then the one whose number it is.
    many = [{"phones": [f"+3584060{n:04d}"], "external_id": f"m{n}"} for n in range(60)]
    hook.upload_contacts(PASSIVE, contact_rows(*many, {"phones": ["+3584060"], "external_id": "target"}),
                         options=SKIP)

    assert len(list(hook.iter_customers(PASSIVE))) == 4 + 61
    assert hook.reading("sinch_page_limit") == "capped"

    state = hook.get_contact_state(PASSIVE, "+3584060")  # the 61st of 61 matches of *+3584060*
    assert state.history["externalId"] == "target"


def test_capped_pages_a_fresh_hook_confirms_a_short_page_once_then_knows(hook, sandbox_client):
    sandbox_client.configure(readings={"sinch_page_limit": "capped"})
    hook.upload_contacts(PASSIVE, contact_rows(*(person(n) for n in range(70))), options=SKIP)
    sandbox_client.clear_requests()

    assert len(list(hook.iter_customers(PASSIVE))) == 74  # 50, then 24: 2 requests
    assert len(list(hook.iter_customers(PASSIVE))) == 74  # the cap is known: 24 < 50 ends it
    assert len(sent(sandbox_client, "/customers$")) == 4


def test_honoured_limits_a_full_page_proves_it_and_short_pages_end_at_once(hook, sandbox_client):
    hook.upload_contacts(PASSIVE, contact_rows(*(person(n) for n in range(130))), options=SKIP)
    sandbox_client.clear_requests()

    assert len(list(hook.iter_customers(PASSIVE))) == 134  # 100, then 34
    assert hook.reading("sinch_page_limit") == "honoured"
    assert len(sent(sandbox_client, "/customers$")) == 2
    assert hook.get_contact_state(PASSIVE, "2001").state == "NOT_HANDLED"  # one page of one


# -- sinch_not_handled_scope ----------------------------------------------------------------------------


def test_not_handled_excluding_maxcalls_a_campaign_with_pending_customers_is_not_complete(
    hook, sandbox_client
):
    sandbox_client.configure(readings={"sinch_not_handled_scope": "excludes"})
    hook.upload_contacts(HANDLED, contact_rows(person(1)), options=SKIP)  # next to its MAXCALLS customer

    counters = hook.get_campaign(HANDLED)
    names = ("total", "handled", "notHandled", "maxCalls")
    assert tuple(counters[name] for name in names) == (4, 2, 1, 1)
    progress = hook.get_campaign_progress(HANDLED)

    assert (progress.complete, progress.pending) == (False, 1)
    assert hook.reading("sinch_not_handled_scope") == "excludes"


def test_not_handled_excluding_maxcalls_pending_follows_the_dialling_to_completion(hook, obi, sandbox_client):
    sandbox_client.configure(readings={"sinch_not_handled_scope": "excludes"})
    obi.campaigns[PASSIVE].retry_count = 0  # one BUSY or NOANSWER is MAXCALLS: some are bound to be
    hook.set_campaign_status(PASSIVE, "running")
    for _ in range(100):
        sandbox_client.advance(contacts=1, vendor="sinch")
        progress = hook.get_campaign_progress(PASSIVE)
        not_final = sum(count for result, count in progress.outcomes.items()
                        if result not in {"SUCCESS", "REFUSAL", "MAXCALLS"})
        assert (progress.pending, progress.complete) == (not_final, not_final == 0), progress.outcomes
        if progress.complete:
            break
    assert progress.complete and progress.outcomes.get("MAXCALLS")


@pytest.mark.parametrize(
    ("counters", "scope"),
    [
        ({"total": 4, "handled": 2, "notHandled": 2, "maxCalls": 1, "filtered": 0}, "includes"),
        ({"total": 4, "handled": 2, "notHandled": 1, "maxCalls": 1, "filtered": 0}, "excludes"),
        ({"total": 4, "handled": 2, "notHandled": 2, "maxCalls": 0, "filtered": 0}, None),  # either
        ({"total": 9, "handled": 2, "notHandled": 2, "maxCalls": 1, "filtered": 0}, None),  # neither
    ],
)
def test_the_scope_is_told_from_the_counters_only_when_they_decide_it(counters, scope):
    assert records.not_handled_scope_of(counters) == scope


def test_when_the_counters_do_not_decide_pending_comes_from_the_result_statistics():
    odd = {"status": "Active", "total": 9, "handled": 2, "notHandled": 2, "maxCalls": 1, "filtered": 0}
    statistics = [{"result": "SUCCESS", "count": 2}, {"result": "MAXCALLS", "count": 1},
                  {"result": "", "count": 3}, {"result": "BUSY", "count": 1}]
    progress = records.campaign_progress("c", odd, statistics, not_handled_scope=None)
    assert (progress.complete, progress.pending) == (False, 4)


# -- sinch_created_id_form ------------------------------------------------------------------------------


def test_a_created_id_answered_as_a_json_object_is_read(hook, obi, sandbox_client):
    sandbox_client.configure(readings={"sinch_created_id_form": "json_object"})

    customer_id = hook.add_customer(PASSIVE, external_id="j1", numbers="+358405000001")

    assert obi.campaigns[PASSIVE].customers[customer_id].external_id == "j1"
    assert sent(sandbox_client, "/customers$") == [("POST", 201)]
