"""Ameyo's capabilities over real HTTP against the sandbox, asserting on the sandbox's state; and
the Ameyo mapping (contact -> customer record, answers -> RowOutcome) on its own."""

from __future__ import annotations

import json
from typing import Any

import pendulum
import pytest

from airflow_provider_dialers.capabilities import CallbackRow, ContactRow, RowStatus, UploadOptions
from airflow_provider_dialers.contacts import ContactError, parse_callback, parse_contact
from airflow_provider_dialers.hooks.ameyo import (
    COMMAND_PATH,
    AmeyoHook,
    AmeyoRecordResult,
    AmeyoResultType,
    is_settled,
)
from airflow_provider_dialers.hooks.base import (
    DialerNotSupportedError,
    DialerRequestError,
    DialerValidationError,
)
from airflow_provider_dialers.vendors.ameyo import records as mapping
from tests.support import FAST

HOOK_CLASS = AmeyoHook  # the ``hook`` fixture (conftest.py)
#: Every sandbox test runs under both readings profiles (docs/readings.md): the second reads
#: ``limitOffset`` as MySQL's ``m,n``, leaves ``sessionTimeout`` out of the login answer, refuses a
#: dead session with HTTP 403 and puts a ``message`` on every callback answer.
pytestmark = pytest.mark.readings_profiles
CAMPAIGN = "1"  # MoviStarSurvey: leads 1, 21, 39 enabled (maxAttempt 10), 35 disabled
EMPTY_LEAD = 39
SKIP = UploadOptions(lead_id=EMPTY_LEAD, on_duplicate="skip")
UPDATE = UploadOptions(lead_id=EMPTY_LEAD, on_duplicate="update")
DRY_RUN = UploadOptions(lead_id=EMPTY_LEAD, dry_run=True)
DIAL_AT = "2031-03-01T10:00:00-06:00"  # 16:00 UTC, 21:30 in Asia/Kolkata


def contact_rows(*contacts: dict[str, Any]) -> list[ContactRow]:
    return [ContactRow(number, parse_contact(raw)) for number, raw in enumerate(contacts, start=1)]


def callback_rows(*callbacks: dict[str, Any]) -> list[CallbackRow]:
    return [CallbackRow(number, parse_callback(raw)) for number, raw in enumerate(callbacks, start=1)]


def numbered(count: int, start: int = 0) -> list[ContactRow]:
    return contact_rows(*({"phones": [f"77700{start + i:05d}"]} for i in range(count)))


def by_row(outcomes) -> dict[int, Any]:
    assert len({o.row for o in outcomes}) == len(outcomes)
    return {o.row: o for o in outcomes}


def customers_with(ameyo, phone: str) -> list[dict[str, Any]]:
    return [c for c in ameyo.customers.values() if c["customerData"].get("phone1") == phone]


def the_customer(ameyo, phone: str) -> dict[str, Any]:
    [customer] = customers_with(ameyo, phone)
    return customer


def requests_during(sandbox_client, action) -> tuple[Any, int]:
    """``action()``'s result and how many Ameyo requests it made."""
    before = sandbox_client.requests(vendor="ameyo")
    seq = before[-1]["seq"] if before else 0
    result = action()
    return result, len(sandbox_client.requests(vendor="ameyo", since=seq))


# -- campaigns -------------------------------------------------------------------------------------


def test_find_campaign_by_name_from_the_login(hook):
    assert hook.find_campaign("MOSL_Frenchise") == "5"
    assert hook.find_campaign("mosl_frenchise") is None
    assert {c["id"] for c in hook.list_campaigns()} == {"1", "5", "10"}


@pytest.mark.parametrize(
    ("call", "lacks"),
    [
        (lambda h: h.create_campaign({"name": "x"}), "no command that creates one"),
        (lambda h: h.set_campaign_status("1", "paused"), "starts or stops a campaign"),
        (lambda h: h.add_dnc(["5551230001"]), "do-not-call"),
        (lambda h: h.remove_dnc(["5551230001"]), "do-not-call"),
        (lambda h: h.list_dnc(), "do-not-call"),
        (lambda h: h.set_global_emergency(True), "no emergency stop"),
    ],
)
def test_unsupported_capabilities_name_the_vendor_and_send_nothing(hook, sandbox_client, call, lacks):
    with pytest.raises(DialerNotSupportedError) as err:
        call(hook)
    assert err.value.vendor == "Ameyo"
    assert str(err.value).startswith("Ameyo: cannot ") and lacks in str(err.value)
    assert sandbox_client.requests(vendor="ameyo") == []


# -- upload_contacts --------------------------------------------------------------------------------


def test_upload_maps_every_field_to_the_customer_record(hook, ameyo):
    rows = contact_rows(
        {"external_id": "crm-1", "phones": ["5551230001", "+445551230002", "5551230003"],
         "timezone": "America/Chicago", "attributes": {"name": "Ann", "plan": "gold"}},
        {"phone": "5551230009"},
    )
    outcomes = by_row(hook.upload_contacts(CAMPAIGN, rows, options=SKIP))
    assert {o.status for o in outcomes.values()} == {RowStatus.ACCEPTED}
    ann = the_customer(ameyo, "5551230001")
    assert (ann["campaignId"], ann["leadId"]) == (1, EMPTY_LEAD)
    assert ann["customerData"] == {"phone1": "5551230001", "phone2": "+445551230002", "phone3": "5551230003",
                                   "external_id": "crm-1", "timezone": "America/Chicago",
                                   "name": "Ann", "plan": "gold"}
    assert outcomes[1].vendor_id == str(ann["customerId"])
    assert the_customer(ameyo, "5551230009")["customerData"] == {"phone1": "5551230009"}


def test_upload_needs_a_lead_and_a_numeric_campaign_before_sending(hook, sandbox_client):
    with pytest.raises(DialerValidationError) as err:
        hook.upload_contacts(CAMPAIGN, numbered(1), options=UploadOptions())
    assert (err.value.field, err.value.vendor) == ("lead_id", "Ameyo")
    with pytest.raises(DialerValidationError) as err:
        hook.upload_contacts("MoviStarSurvey", numbered(1), options=SKIP)
    assert err.value.field == "campaign_id"
    assert sandbox_client.requests(vendor="ameyo") == []


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"phones": ["5551230001", "5551230002", "5551230003", "5551230004"]}, "phones"),
        ({"phones": ["5551230001", "123"]}, "phones[1]"),
        ({"phones": ["1" * 21]}, "phones[0]"),
        ({"phone": "5551230001", "attributes": {"Phone2": "5551230002"}}, "attributes.Phone2"),
        ({"phone": "5551230001", "attributes": {"EXTERNAL_ID": "x"}}, "attributes.EXTERNAL_ID"),
        ({"phone": "5551230001", "attributes": {"timezone": "UTC"}}, "attributes.timezone"),
        ({"phone": "5551230001", "attributes": {"first name": "Ann"}}, "attributes.first name"),
        ({"phone": "5551230001", "attributes": {"x" * 64: "long"}}, "attributes." + "x" * 64),
    ],
)
def test_a_bad_field_rejects_its_row_unsent_while_the_good_row_lands(hook, ameyo, bad, field):
    rows = contact_rows({"phone": "5550001111"}, bad)
    outcomes = by_row(hook.upload_contacts(CAMPAIGN, rows, options=SKIP))
    assert outcomes[1].status is RowStatus.ACCEPTED
    assert (outcomes[2].status, outcomes[2].field) == (RowStatus.REJECTED, field)
    assert outcomes[2].reason
    assert len(customers_with(ameyo, "5550001111")) == 1
    assert customers_with(ameyo, "5551230001") == [] and customers_with(ameyo, "1" * 21) == []


def test_records_the_vendor_refuses_are_rejected_with_its_code_and_field(hook, sandbox_client):
    hook.login()
    refusal = {"beanResponse": [
        {"inserted": True, "customerId": 17821, "resultTypeString": "ADDED"},
        {"Inserted": False, "resultTypeString": "PREPROCESSOR_NOT_NULLABLE_COLUMN_GIVEN_NULL",
         "exception": ["CustomerManager.Column.name.cannot.be.missing.empty\\\"", "phone1\\\""]},
    ]}
    sandbox_client.add_fault(vendor="ameyo", status=200, body=json.dumps(refusal))
    outcomes = by_row(hook.upload_contacts(CAMPAIGN, numbered(2), options=SKIP))
    assert (outcomes[1].status, outcomes[1].vendor_id) == (RowStatus.ACCEPTED, "17821")
    rejected = outcomes[2]
    assert (rejected.status, rejected.field) == (RowStatus.REJECTED, "phones[0]")
    assert rejected.vendor_code == "CustomerManager.Column.name.cannot.be.missing.empty"
    assert "PREPROCESSOR_NOT_NULLABLE_COLUMN_GIVEN_NULL" in rejected.reason


def test_dry_run_sends_nothing_and_reports_the_payloads(hook, sandbox_client, ameyo):
    rows = contact_rows({"phone": "5551230001", "attributes": {"name": "Ann"}},
                        {"phone": "5551230002", "dial_at": DIAL_AT},
                        {"phones": ["5551230003", "12"]})
    customers_before = len(ameyo.customers)
    outcomes = by_row(hook.upload_contacts(CAMPAIGN, rows, options=DRY_RUN))
    assert sandbox_client.requests(vendor="ameyo") == []
    assert len(ameyo.customers) == customers_before and ameyo.callbacks == {}
    assert outcomes[1].payload == {"phone1": "5551230001", "name": "Ann"}
    assert outcomes[2].payload == {  # the two commands a real run sends; the id is Ameyo's to give
        "uploadContacts": {"phone1": "5551230002"},
        "uploadContactAndAddCallback": {
            "customerRecord": {"phone1": "5551230002"},
            "callbackRecord": {"callBackTime": "2031-03-01 16:00:00", "isSelfCallBack": False,
                               "callBackPhone": "5551230002", "customerId": "<customerId from uploadContacts>"},
        },
    }
    assert (outcomes[3].status, outcomes[3].field) == (RowStatus.REJECTED, "phones[1]")


def test_on_duplicate_skip_leaves_an_existing_customer_untouched(hook, ameyo):
    existing = the_customer(ameyo, "9810000001")  # Asha, lead 1
    rows = contact_rows({"phone": "9810000001", "attributes": {"name": "Changed"}}, {"phone": "5551230001"})
    outcomes = by_row(hook.upload_contacts(CAMPAIGN, rows, options=SKIP))
    assert (outcomes[1].status, outcomes[1].vendor_code) == (RowStatus.DUPLICATE, "DUPLICATE_NOT_ADDED")
    assert outcomes[1].vendor_id == str(existing["customerId"])
    assert outcomes[2].status is RowStatus.ACCEPTED
    assert the_customer(ameyo, "9810000001")["customerData"]["name"] == "Asha"


def test_on_duplicate_update_overwrites_the_existing_customer(hook, ameyo):
    rows = contact_rows({"phone": "9810000001", "attributes": {"name": "Changed"}})
    [outcome] = hook.upload_contacts(CAMPAIGN, rows, options=UPDATE)
    assert outcome.status is RowStatus.ACCEPTED
    customer = the_customer(ameyo, "9810000001")
    assert customer["customerData"]["name"] == "Changed"
    assert customer["leadId"] == 1  # updated where it is, not migrated


@pytest.mark.parametrize("options", [SKIP, UPDATE], ids=["skip", "update"])
def test_the_same_batch_sent_twice_leaves_each_contact_once(hook, ameyo, options):
    rows = numbered(5)
    first = hook.upload_contacts(CAMPAIGN, rows, options=options)
    second = hook.upload_contacts(CAMPAIGN, rows, options=options)  # a task retry after a crash
    assert {o.status for o in first} == {RowStatus.ACCEPTED}
    expected = RowStatus.DUPLICATE if options.on_duplicate == "skip" else RowStatus.ACCEPTED
    assert {o.status for o in second} == {expected}
    for item in rows:
        assert len(customers_with(ameyo, item.contact.phones[0])) == 1


@pytest.mark.parametrize("options", [SKIP, UPDATE], ids=["skip", "update"])
def test_a_batch_whose_answer_is_lost_is_resent_and_counted_accepted(hook, sandbox_client, ameyo, options):
    hook.login()
    rows = numbered(3)
    sandbox_client.add_fault(vendor="ameyo", action="reset", after_processing=True, path=COMMAND_PATH)
    outcomes, sent = requests_during(sandbox_client,
                                     lambda: hook.upload_contacts(CAMPAIGN, rows, options=options))
    assert sent == 2  # the lost attempt (processed) and its re-send
    assert {o.status for o in outcomes} == {RowStatus.ACCEPTED}
    for item in rows:
        assert len(customers_with(ameyo, item.contact.phones[0])) == 1


def test_dial_at_schedules_a_callback_in_the_servers_time_zone(sandbox, make_connection, ameyo):
    conn_id = make_connection("ameyo_kolkata", "ameyo", extra={"timezone": "Asia/Kolkata"})
    rows = contact_rows({"phone": "5551230001", "dial_at": DIAL_AT}, {"phone": "5551230002"})
    with AmeyoHook(conn_id, retry_policy=FAST) as hook:
        outcomes = by_row(hook.upload_contacts(CAMPAIGN, rows, options=SKIP))
    assert {o.status for o in outcomes.values()} == {RowStatus.ACCEPTED}
    timed = the_customer(ameyo, "5551230001")
    [callback] = ameyo.callbacks.values()
    assert callback["callBackTime"] == "Mar 1, 2031 9:30:00 PM"  # 10:00 in Chicago
    assert (callback["customerId"], callback["phone"]) == (timed["customerId"], "5551230001")
    assert outcomes[1].vendor_id == str(timed["customerId"])
    assert timed["customerData"] == {"phone1": "5551230001"}


def test_skip_schedules_no_dial_time_for_an_existing_customer(hook, ameyo):
    rows = contact_rows({"phone": "9810000001", "dial_at": DIAL_AT})
    [outcome] = hook.upload_contacts(CAMPAIGN, rows, options=SKIP)
    assert outcome.status is RowStatus.DUPLICATE
    assert ameyo.callbacks == {}


def test_update_reschedules_an_existing_customer_at_its_dial_time(hook, ameyo):
    [outcome] = hook.upload_contacts(CAMPAIGN, contact_rows({"phone": "9810000001", "dial_at": DIAL_AT}),
                                     options=UPDATE)
    assert outcome.status is RowStatus.ACCEPTED
    [callback] = ameyo.callbacks.values()
    assert callback["customerId"] == the_customer(ameyo, "9810000001")["customerId"]


# -- add_callbacks ----------------------------------------------------------------------------------


def test_add_callbacks_uploads_the_customer_and_routes_the_callback(hook, ameyo):
    rows = callback_rows(
        {"phones": ["5551230001", "5551230002"], "callback_at": DIAL_AT, "agent": "agent7",
         "attributes": {"name": "Ann"}},
        {"phone": "5551230003", "callback_at": "2031-03-01T09:00:00Z"},
    )
    outcomes = by_row(hook.add_callbacks(CAMPAIGN, rows, options=UPDATE))
    assert {o.status for o in outcomes.values()} == {RowStatus.ACCEPTED}
    ann = the_customer(ameyo, "5551230001")
    assert (ann["leadId"], ann["customerData"]["name"]) == (EMPTY_LEAD, "Ann")
    callbacks = {c["phone"]: c for c in ameyo.callbacks.values()}
    assert callbacks["5551230001"]["callBackTime"] == "Mar 1, 2031 4:00:00 PM"
    assert (callbacks["5551230001"]["userId"], callbacks["5551230001"]["selfCallback"]) == ("agent7", False)
    assert callbacks["5551230001"]["customerId"] == ann["customerId"]
    assert callbacks["5551230003"]["userId"] is None


def test_add_callbacks_skip_keeps_the_customer_and_still_schedules(hook, ameyo):
    rows = callback_rows({"phone": "9810000001", "callback_at": DIAL_AT, "attributes": {"name": "Changed"}})
    [outcome] = hook.add_callbacks(CAMPAIGN, rows, options=SKIP)
    assert outcome.status is RowStatus.ACCEPTED
    assert the_customer(ameyo, "9810000001")["customerData"]["name"] == "Asha"
    assert [c["phone"] for c in ameyo.callbacks.values()] == ["9810000001"]


def test_add_callbacks_rejects_bad_rows_unsent_and_honours_dry_run(hook, sandbox_client, ameyo):
    rows = callback_rows({"phone": "5551230001", "callback_at": DIAL_AT, "agent": "agent7"},
                         {"phones": ["5551230002", "1"], "callback_at": DIAL_AT})
    planned = by_row(hook.add_callbacks(CAMPAIGN, rows, options=DRY_RUN))
    assert sandbox_client.requests(vendor="ameyo") == [] and ameyo.callbacks == {}
    assert planned[1].payload["callbackRecord"] == {
        "callBackTime": "2031-03-01 16:00:00", "isSelfCallBack": False, "userId": "agent7",
        "callBackPhone": "5551230001"}
    assert (planned[2].status, planned[2].field) == (RowStatus.REJECTED, "phones[1]")
    outcomes = by_row(hook.add_callbacks(CAMPAIGN, rows, options=SKIP))
    assert outcomes[1].status is RowStatus.ACCEPTED and outcomes[2].field == "phones[1]"
    assert [c["phone"] for c in ameyo.callbacks.values()] == ["5551230001"]
    with pytest.raises(DialerValidationError, match="lead_id"):
        hook.add_callbacks(CAMPAIGN, rows, options=UploadOptions())


def test_a_lost_callback_answer_is_not_resent_and_its_rows_are_rejected(hook, sandbox_client, ameyo):
    hook.login()
    rows = callback_rows({"phone": "5551230001", "callback_at": DIAL_AT},
                         {"phone": "5551230002", "callback_at": DIAL_AT})
    sandbox_client.add_fault(vendor="ameyo", action="reset", after_processing=True, path=COMMAND_PATH)
    outcomes, sent = requests_during(sandbox_client,
                                     lambda: hook.add_callbacks(CAMPAIGN, rows, options=UPDATE))
    assert sent == 1
    assert len(ameyo.callbacks) == 2  # processed once, never twice
    for outcome in outcomes:
        assert (outcome.status, outcome.field, outcome.vendor_code) == (
            RowStatus.REJECTED, "callback_at", "CALLBACK_UNCONFIRMED")
        assert "may or may not be scheduled" in outcome.reason


# -- progress and contact state -------------------------------------------------------------------


def enabled_customers(ameyo, campaign: int) -> list[dict[str, Any]]:
    return [c for c in ameyo.customers.values()
            if c["campaignId"] == campaign and ameyo.leads[c["leadId"]]["enabled"]]


def test_progress_counts_statuses_and_completes_once_dialing_settles(hook, sandbox_client, ameyo):
    hook.upload_contacts(CAMPAIGN, numbered(6), options=SKIP)
    progress = hook.get_campaign_progress(CAMPAIGN)
    assert progress.total == len(enabled_customers(ameyo, 1)) == 10  # 4 seeded + 6; lead 35 is disabled
    assert (progress.complete, progress.pending) == (False, 10)
    assert progress.outcomes == {"NOT_TRIED": 9, "BUSY": 1}
    sandbox_client.advance(vendor="ameyo")
    progress = hook.get_campaign_progress(CAMPAIGN)
    assert (progress.complete, progress.pending, progress.total) == (True, 0, 10)
    statuses = [c["columns"]["status"] for c in enabled_customers(ameyo, 1)]
    assert progress.outcomes == {status: statuses.count(status) for status in set(statuses)}


def test_progress_counts_a_customer_at_max_attempts_as_settled(hook, ameyo):
    # Campaign 5's lead 51 has maxAttempt 3.
    ivy, omar = (ameyo.customers[customer_id]["columns"] for customer_id in (12470, 12471))
    ivy.update(status="CONNECTED", attempts=1)
    omar.update(status="NO_ANSWER", attempts=2)
    assert hook.get_campaign_progress("5").pending == 1
    omar["attempts"] = 3
    progress = hook.get_campaign_progress("5")
    assert (progress.complete, progress.outcomes) == (True, {"CONNECTED": 1, "NO_ANSWER": 1})


def paging_form_probes(sandbox_client) -> int:
    """Commands a hook's first paged getContacts costs beyond its pages: none when the server reads
    ``limitOffset`` as ``LIMIT n OFFSET m`` (the form sent first); one refused attempt when it reads
    MySQL's ``m,n`` (the second profile), after which the hook sends that form."""
    reading = {r["name"]: r["value"] for r in sandbox_client.readings()}["ameyo_limit_offset"]
    return {"limit_n_offset_m": 0, "m_comma_n": 1}[reading]


def test_progress_costs_the_same_requests_for_10_and_300_contacts(hook, sandbox_client):
    hook.upload_contacts(CAMPAIGN, numbered(10), options=SKIP)
    hook.login()
    small, small_requests = requests_during(sandbox_client, lambda: hook.get_campaign_progress(CAMPAIGN))
    hook.upload_contacts(CAMPAIGN, numbered(145, start=10), options=SKIP)
    hook.upload_contacts(CAMPAIGN, numbered(145, start=155), options=SKIP)
    large, large_requests = requests_during(sandbox_client, lambda: hook.get_campaign_progress(CAMPAIGN))
    assert (small.total, large.total) == (14, 304)
    # getLeadsForCampaign + one getContacts page (the first read also finds the paging form)
    assert small_requests - paging_form_probes(sandbox_client) == large_requests == 2


def test_progress_pages_through_large_campaigns(hook, sandbox_client, monkeypatch):
    hook.upload_contacts(CAMPAIGN, numbered(200), options=SKIP)
    hook.upload_contacts(CAMPAIGN, numbered(100, start=200), options=SKIP)
    monkeypatch.setattr(AmeyoHook, "contacts_page_size", 100)
    hook.login()
    progress, sent = requests_during(sandbox_client, lambda: hook.get_campaign_progress(CAMPAIGN))
    assert progress.total == 304
    assert sent == 2 + 304 // 100 + paging_form_probes(sandbox_client)
    again, sent = requests_during(sandbox_client, lambda: hook.get_campaign_progress(CAMPAIGN))
    assert (again.total, sent) == (304, 2 + 304 // 100)  # the form is remembered


@pytest.mark.parametrize("ref", ["12458", "0458681166572"])
def test_contact_state_by_customer_id_or_phone(hook, ref):
    state = hook.get_contact_state(CAMPAIGN, ref)
    assert (state.state, state.attempts, state.terminal) == ("BUSY", 5, False)  # maxAttempt is 10
    assert state.history["STATUS"] == "BUSY" and state.contact_ref == ref


def test_contact_state_by_external_id_and_after_dialing(hook, sandbox_client, ameyo):
    hook.upload_contacts("5", contact_rows({"external_id": "crm-9", "phone": "5551230009"}),
                         options=UploadOptions(lead_id=51))
    fresh = hook.get_contact_state("5", "crm-9")
    assert (fresh.state, fresh.terminal, fresh.attempts) == ("NOT_TRIED", False, 0)
    sandbox_client.advance(vendor="ameyo")
    settled = hook.get_contact_state("5", "crm-9")
    columns = the_customer(ameyo, "5551230009")["columns"]
    assert (settled.state, settled.attempts) == (columns["status"], columns["attempts"])
    assert settled.terminal and (settled.state == "CONNECTED" or settled.attempts == 3)
    assert settled.history["LAST_STATUS_1"] == columns["last_status_1"]


def test_contact_state_of_an_unknown_contact_is_an_error(hook):
    with pytest.raises(DialerRequestError, match="no customer '999999' in campaign 1"):
        hook.get_contact_state(CAMPAIGN, "999999")


# -- the mapping on its own --------------------------------------------------------------------------


def result(result_type: str, *, customer_id: int | None = 7, exception: tuple = (), message=None,
           callback_time: str | None = None, callback_id: str | None = None):
    return AmeyoRecordResult(0, AmeyoResultType(result_type), customer_id, result_type == "ADDED",
                             exception=exception, message=message, callback_time=callback_time,
                             callback_id=callback_id)


def test_upload_outcome_reads_a_replayed_duplicate_as_accepted():
    duplicate = result("DUPLICATE_NOT_ADDED")
    assert mapping.upload_outcome(3, duplicate, replayed=False).status is RowStatus.DUPLICATE
    assert mapping.upload_outcome(3, duplicate, replayed=True).status is RowStatus.ACCEPTED
    refused = mapping.upload_outcome(3, result("PREPROCESSING_INVALID_LENGTH", customer_id=None, exception=(
        "CustomerManager.Phone.number.does.not.have.valid.length", 13)), replayed=True)
    assert (refused.status, refused.field, refused.vendor_code) == (
        RowStatus.REJECTED, None, "CustomerManager.Phone.number.does.not.have.valid.length")


def test_callback_outcome_rejects_an_unscheduled_callback_under_the_time_field():
    unscheduled = result("ADDED", message="CustomerManager.invalid.callBackTime, x")
    outcome = mapping.callback_outcome(2, unscheduled, time_field="dial_at")
    assert (outcome.status, outcome.field, outcome.vendor_code) == (
        RowStatus.REJECTED, "dial_at", "CustomerManager.invalid.callBackTime")
    silent = mapping.callback_outcome(2, result("ADDED"), time_field="dial_at")  # no id, no time, no message
    assert (silent.status, silent.vendor_code) == (RowStatus.REJECTED, "CALLBACK_NOT_SCHEDULED")
    scheduled = "Mar 3, 2015 11:29:34 AM"  # the reference's success: id null, callbackTime set
    existing = mapping.callback_outcome(2, result("DUPLICATE_NOT_ADDED", callback_time=scheduled),
                                        time_field="dial_at")
    assert existing.status is RowStatus.ACCEPTED
    chatty = result("ADDED", callback_id="d431-54f54717-cm-2", message="Callback scheduled successfully")
    assert mapping.callback_outcome(2, chatty, time_field="dial_at").status is RowStatus.ACCEPTED
    strict = mapping.callback_outcome(2, chatty, time_field="dial_at", reading="message_on_failure")
    assert strict.status is RowStatus.REJECTED  # the connection said a message means a failure


@pytest.mark.parametrize(("column", "field"), [("phone1", "phones[0]"), ("phone3", "phones[2]"),
                                                ("external_id", "external_id"), ("plan", "attributes.plan")])
def test_model_field_names_columns_the_models_way(column, field):
    assert mapping.model_field(column) == field


def test_settled_means_terminal_status_or_attempts_used_up():
    assert is_settled("CONNECTED", 1, 10) and is_settled("NUMBER_FAILURE", 1, 10)
    assert is_settled("BUSY", 10, 10) and not is_settled("BUSY", 9, 10)
    assert not is_settled("NOT_TRIED", 0, None)


def test_callback_time_is_the_servers_wall_clock():
    moment = pendulum.parse(DIAL_AT)
    assert mapping.callback_time(moment, "Asia/Kolkata") == "2031-03-01 21:30:00"
    with pytest.raises(ContactError) as err:
        mapping.customer_callback(parse_contact({"phones": ["1" * 22]}), moment, "UTC")
    assert err.value.field == "phones[0]"
