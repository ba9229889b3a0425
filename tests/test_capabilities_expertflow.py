"""ExpertFlow ECM capabilities over real HTTP against the sandbox, asserting on the sandbox's state, under
every readings profile."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_dialers.capabilities import CallbackRow, ContactRow, RowStatus, UploadOptions
from airflow_provider_dialers.contacts import parse_callback, parse_contact
from airflow_provider_dialers.hooks.base import (
    DialerNotSupportedError,
    DialerRequestError,
    DialerValidationError,
)
from airflow_provider_dialers.hooks.expertflow import (
    CAMPAIGN_REQUIRED_FIELDS,
    TERMINAL_STATES,
    ExpertflowEcmHook,
    RequestState,
)
from airflow_provider_dialers.vendors.expertflow.records import EcmContactMapping
from tests.support import FAST

#: Each test runs under both readings profiles (docs/readings.md): the sandbox reads every silent
#: point of the references the first way, then the second.
pytestmark = pytest.mark.readings_profiles

VENDOR = "ExpertFlow ECM"
WELCOME, SALES = "1", "2"  # seeded: Welcome IVR runs (5 pending contacts), Sales Agent is paused
SINGLE_ATTEMPT_STRATEGY = 2
SEEDED_PENDING_PHONE = "+15550100101"  # phone1 of a seeded, pending Welcome contact
SEEDED_DNC_NUMBER = "03001234567"
FUTURE = "2031-03-04T15:30:00+00:00"
INSERT = "insertCallback"
SKIP = UploadOptions()

#: ECM release of each connection; the sandbox answers as that release.
RELEASES = {"expertflow_ecm_default": "13.3", "expertflow_ecm_132": "13.2"}


@pytest.fixture(params=sorted(RELEASES))
def hook(request, ecm) -> Iterator[ExpertflowEcmHook]:
    """A hook on each connection (13.3 and 13.2), the sandbox answering as that release."""
    ecm.release = RELEASES[request.param]
    with ExpertflowEcmHook(request.param, retry_policy=FAST) as ecm_hook:
        yield ecm_hook


@pytest.fixture
def hook_133(ecm) -> Iterator[ExpertflowEcmHook]:
    with ExpertflowEcmHook("expertflow_ecm_default", retry_policy=FAST) as ecm_hook:
        yield ecm_hook


def contact_rows(*raw: dict[str, Any]) -> list[ContactRow]:
    return [ContactRow(number, parse_contact(item)) for number, item in enumerate(raw, start=1)]


def phone_rows(count: int, prefix: str = "+1555777") -> list[ContactRow]:
    return contact_rows(*({"phones": [f"{prefix}{n:04d}"]} for n in range(count)))


def callbacks_of(ecm: Any, campaign_id: str) -> list[dict[str, Any]]:
    return [c for c in ecm.callbacks.values() if c["campaignId"] == int(campaign_id)]


def inserts(sandbox_client) -> list[dict[str, Any]]:
    return sandbox_client.requests(vendor="expertflow", path=INSERT)


def statuses(outcomes) -> list[str]:
    return [outcome.status.value for outcome in sorted(outcomes, key=lambda o: o.row)]


def campaign_spec(**overrides: Any) -> dict[str, Any]:
    spec = {"name": "Renewals", "startTime": "08:00", "endTime": "20:00",
            "strategyId": SINGLE_ATTEMPT_STRATEGY, "type": 0, "ciscoCampaignId": "5001",
            "weekDays": [1, 2, 3, 4, 5], "enabled": True,
            "description": "renewal calls", "crmCampaignId": "crm_renewals"}
    spec.update(overrides)
    return {key: value for key, value in spec.items() if value is not None}


# -- campaigns ---------------------------------------------------------------------------------------


def test_create_campaign_sends_the_spec_and_returns_the_new_id(hook, ecm):
    campaign_id = hook.create_campaign(campaign_spec(weekDays="1,3", type="1"))
    stored = ecm.campaigns[int(campaign_id)]
    assert isinstance(campaign_id, str)
    assert (stored["name"], stored["startTIme"], stored["endTime"], stored["weekdays"], stored["type"]) == (
        "Renewals", "08:00", "20:00", "1,3", "1")
    assert (stored["strategyId"], stored["crmCampaignId"], stored["description"]) == ("2", "crm_renewals",
                                                                                      "renewal calls")
    assert hook.find_campaign("Renewals") == campaign_id


@pytest.mark.parametrize("field", CAMPAIGN_REQUIRED_FIELDS)
def test_create_campaign_refuses_a_spec_missing_a_required_field(hook_133, sandbox_client, field):
    with pytest.raises(DialerValidationError) as caught:
        hook_133.create_campaign({k: v for k, v in campaign_spec().items() if k != field})
    assert caught.value.field == field and VENDOR in str(caught.value)
    assert sandbox_client.requests(vendor="expertflow", path="createCampaign") == []


@pytest.mark.parametrize(("field", "value"), [
    ("type", 2), ("type", True), ("weekDays", "0,7"), ("weekDays", []), ("weekDays", [1, 1]),
    ("startTime", "25:00"), ("endTime", "8am"), ("enabled", "yes"), ("strategyId", "abc"),
    ("name", 12), ("ciscoCampaignId", 5.5), ("status", "1"), ("crmCampaignId", 7),
])
def test_create_campaign_refuses_a_bad_field_before_sending(hook_133, sandbox_client, field, value):
    with pytest.raises(DialerValidationError) as caught:
        hook_133.create_campaign(campaign_spec(**{field: value}))
    assert caught.value.field == field
    assert sandbox_client.requests(vendor="expertflow", path="createCampaign") == []


def test_create_campaign_whose_answer_is_lost_is_found_by_name(hook_133, ecm, sandbox_client):
    sandbox_client.add_fault(vendor="expertflow", action="reset", after_processing=True,
                             path="createCampaign")
    campaign_id = hook_133.create_campaign(campaign_spec())
    assert [c["id"] for c in ecm.campaigns.values() if c["name"] == "Renewals"] == [campaign_id]


def test_find_campaign_matches_the_exact_name(hook, ecm):
    assert hook.find_campaign("Sales Agent") == SALES
    assert hook.find_campaign("sales agent") is None
    hook.create_campaign(campaign_spec(name="Sales Agent", crmCampaignId=None))
    with pytest.raises(DialerValidationError, match="2 campaigns are named .Sales Agent."):
        hook.find_campaign("Sales Agent")


def test_set_campaign_status_pauses_and_resumes(hook, ecm):
    hook.set_campaign_status(WELCOME, "paused")
    hook.set_campaign_status(SALES, "running")
    assert (ecm.campaigns[1]["status"], ecm.campaigns[2]["status"]) == ("0", "1")
    assert {c["id"]: c["status"] for c in hook.list_campaigns()}[WELCOME] == "Paused"
    with pytest.raises(DialerValidationError, match="status"):
        hook.set_campaign_status(WELCOME, "stopped")  # type: ignore[arg-type]


# -- upload_contacts ---------------------------------------------------------------------------------


def test_upload_maps_phones_attributes_and_dial_time(sandbox, ecm, make_connection):
    ecm.release = "13.3"
    conn_id = make_connection("ecm_chicago", "expertflow_ecm", extra={"timezone": "America/Chicago"})
    rows = contact_rows({"external_id": "crm-17", "phones": ["+1 555 010-9001", "+15550109002"],
                         "dial_at": FUTURE, "attributes": {"name": "Ann", "businessParam12": "gold"}})
    options = UploadOptions(attribute_map={"name": "businessParam1", "external_id": "businessParam2"})
    with ExpertflowEcmHook(conn_id, retry_policy=FAST) as ecm_hook:
        outcomes = ecm_hook.upload_contacts(SALES, rows, options=options)
    assert statuses(outcomes) == ["accepted"]
    [stored] = [c for c in callbacks_of(ecm, SALES) if c["phone1"] == "+15550109001"]
    sent = ("phone2", "businessParam1", "businessParam2", "businessParam12")
    assert [stored[key] for key in sent] == ["+15550109002", "Ann", "crm-17", "gold"]
    assert stored["dialTime"] == "2031-03-04 09:30:00"  # 15:30 UTC in the server's zone (CST)
    assert stored["requestState"] == RequestState.PENDING


def test_external_id_is_not_sent_without_a_mapping(hook, ecm):
    outcomes = hook.upload_contacts(SALES, contact_rows({"external_id": "crm-18", "phone": "+15550109003"}),
                                    options=SKIP)
    [stored] = [c for c in callbacks_of(ecm, SALES) if c["phone1"] == "+15550109003"]
    assert statuses(outcomes) == ["accepted"]
    assert all(stored[f"businessParam{n}"] is None for n in range(1, 13))


def test_bad_rows_are_rejected_naming_the_field_while_good_rows_land(hook, ecm, sandbox_client):
    rows = contact_rows(
        {"phones": ["+15550108001"], "attributes": {"name": "Good"}},
        {"phones": [f"+1555010800{n}" for n in range(2, 8)]},  # six numbers
        {"phones": ["+15550108002", "123"]},  # phone2 too short
        {"phones": ["+1555010800212345"]},  # 17 characters
        {"phones": ["+15550108003"], "attributes": {"colour": "red"}},  # not mapped
        {"phones": ["+15550108004"], "attributes": {"name": "x" * 256}},
        {"phones": ["+15550108005"], "attributes": {"name": "Ann", "businessParam1": "clash"}},
        {"phones": ["+15550108006"], "attributes": {"businessParam3": "kept"}},
    )
    options = UploadOptions(attribute_map={"name": "businessParam1"})
    outcomes = hook.upload_contacts(WELCOME, rows, options=options)
    by_row = {outcome.row: outcome for outcome in outcomes}
    assert len(outcomes) == len(rows)
    assert [by_row[n].field for n in range(2, 8)] == [
        "phones", "phones[1]", "phones[0]", "attributes.colour", "attributes.name",
        "attributes.businessParam1"]
    assert all(by_row[n].status is RowStatus.REJECTED and by_row[n].reason for n in range(2, 8))
    assert "at most 5 numbers" in by_row[2].reason
    assert (by_row[1].status, by_row[8].status) == (RowStatus.ACCEPTED, RowStatus.ACCEPTED)
    landed = {c["phone1"]: c for c in callbacks_of(ecm, WELCOME)}
    assert landed["+15550108001"]["businessParam1"] == "Good"
    assert landed["+15550108006"]["businessParam3"] == "kept"
    assert not {"+15550108002", "+15550108003", "+15550108004", "+15550108005"} & set(landed)
    assert len(inserts(sandbox_client)) == 2  # refused rows are never sent


def test_a_row_ecm_refuses_is_rejected_with_its_message(hook_133, ecm, sandbox_client):
    refusal = {"status": 400, "error": "Bad Request",
               "message": "businessParam1 is longer than the CRM allows"}
    sandbox_client.add_fault(vendor="expertflow", path=INSERT, status=400, body=json.dumps(refusal))
    rows = contact_rows({"phone": "+15550107001", "attributes": {"plan": "x"}}, {"phone": "+15550107002"})
    options = UploadOptions(attribute_map={"plan": "businessParam1"})
    outcomes = hook_133.upload_contacts(SALES, rows, options=options)
    first, second = sorted(outcomes, key=lambda o: o.row)
    assert (first.status, first.field) == (RowStatus.REJECTED, "attributes.plan")
    assert first.vendor_code == "Bad Request"
    assert first.reason == refusal["message"]
    assert second.status is RowStatus.ACCEPTED
    assert [c["phone1"] for c in callbacks_of(ecm, SALES)][-1] == "+15550107002"


def test_an_unknown_campaign_fails_the_batch(hook_133):
    with pytest.raises(DialerRequestError) as caught:
        hook_133.upload_contacts("99", phone_rows(2), options=SKIP)
    assert caught.value.status_code == 404
    with pytest.raises(DialerValidationError, match="campaign_id"):
        hook_133.upload_contacts("Sales", phone_rows(1), options=SKIP)


def test_a_bad_attribute_map_refuses_the_upload_before_sending(hook_133, sandbox_client):
    for attribute_map in ({"name": "businessParam13"}, {"a": "businessParam1", "b": "businessParam1"}):
        with pytest.raises(DialerValidationError) as caught:
            hook_133.upload_contacts(SALES, phone_rows(1), options=UploadOptions(attribute_map=attribute_map))
        assert caught.value.field == "attribute_map"
    assert inserts(sandbox_client) == []


def test_dry_run_sends_nothing_and_reports_each_payload(hook, ecm, sandbox_client):
    before = len(ecm.callbacks)
    rows = contact_rows({"phones": ["+15550106001", "+15550106002"], "dial_at": FUTURE},
                        {"phones": ["12"]})
    outcomes = hook.upload_contacts(SALES, rows, options=UploadOptions(dry_run=True))
    good, bad = sorted(outcomes, key=lambda o: o.row)
    assert good.status is RowStatus.ACCEPTED
    assert good.payload == {"campaignId": 2, "phone1": "+15550106001", "phone2": "+15550106002",
                            "duplicateCallbacks": "discard", "dialTime": "2031-03-04 15:30:00"}
    assert (bad.status, bad.field) == (RowStatus.REJECTED, "phones[0]")
    assert inserts(sandbox_client) == [] and len(ecm.callbacks) == before


def test_on_duplicate_skip_reports_a_pending_phone_as_duplicate(hook, ecm):
    rows = contact_rows({"phone": SEEDED_PENDING_PHONE}, {"phone": "+15550105001"})
    outcomes = hook.upload_contacts(WELCOME, rows, options=SKIP)
    assert statuses(outcomes) == ["duplicate", "accepted"]
    assert [c["phone1"] for c in callbacks_of(ecm, WELCOME)].count(SEEDED_PENDING_PHONE) == 1


def test_on_duplicate_update_is_not_supported(hook, sandbox_client):
    for capability in (hook.upload_contacts, hook.add_callbacks):
        with pytest.raises(DialerNotSupportedError, match=f"{VENDOR}: .*on_duplicate='update'"):
            capability(SALES, [], options=UploadOptions(on_duplicate="update"))
    assert inserts(sandbox_client) == []


def test_the_same_batch_sent_twice_leaves_each_contact_once(hook, ecm):
    rows = phone_rows(5)
    assert statuses(hook.upload_contacts(SALES, rows, options=SKIP)) == ["accepted"] * 5
    assert statuses(hook.upload_contacts(SALES, rows, options=SKIP)) == ["duplicate"] * 5
    phones = [c["phone1"] for c in callbacks_of(ecm, SALES)]
    assert sorted(p for p in phones if p.startswith("+1555777")) == [f"+1555777{n:04d}" for n in range(5)]


def test_a_row_whose_answer_is_lost_is_looked_up_not_resent_and_counted_accepted(hook, ecm, sandbox_client):
    """ECM's "discard" covers only pending contacts: a campaign dialling between the lost answer and a
    re-send would store the contact again, so the hook looks it up by phone instead of re-sending."""
    sandbox_client.add_fault(vendor="expertflow", action="reset", after_processing=True, path=INSERT)
    outcomes = hook.upload_contacts(SALES, phone_rows(3), options=SKIP)
    assert statuses(outcomes) == ["accepted"] * 3
    assert len(inserts(sandbox_client)) == 3  # the first row was processed, its answer lost: found, not re-sent
    assert sandbox_client.requests(vendor="expertflow", path="getList")
    phones = [c["phone1"] for c in callbacks_of(ecm, SALES)]
    assert all(phones.count(f"+1555777{n:04d}") == 1 for n in range(3))


# -- add_callbacks -----------------------------------------------------------------------------------


def test_add_callbacks_dials_at_the_callback_time_and_refuses_agents(hook, ecm, sandbox_client):
    rows = [CallbackRow(1, parse_callback({"phone": "+15550104001", "callback_at": FUTURE,
                                           "attributes": {"businessParam1": "ring back"}})),
            CallbackRow(2, parse_callback({"phone": "+15550104002", "callback_at": FUTURE,
                                           "agent": "agent7"})),
            CallbackRow(3, parse_callback({"phone": "+15550104003", "callback_at": FUTURE,
                                           "dial_at": "2031-03-05T10:00:00+00:00"}))]
    outcomes = sorted(hook.add_callbacks(SALES, rows, options=SKIP), key=lambda o: o.row)
    assert [(o.status.value, o.field) for o in outcomes] == [
        ("accepted", None), ("rejected", "agent"), ("rejected", "dial_at")]
    assert "no agent field" in outcomes[1].reason
    [stored] = [c for c in callbacks_of(ecm, SALES) if c["phone1"] == "+15550104001"]
    assert (stored["dialTime"], stored["businessParam1"]) == ("2031-03-04 15:30:00", "ring back")
    assert len(inserts(sandbox_client)) == 1


# -- DNC ---------------------------------------------------------------------------------------------


def test_add_dnc_saves_new_numbers_and_skips_listed_ones(hook, ecm):
    result = hook.add_dnc(["+1 (555) 010-0777", SEEDED_DNC_NUMBER, "+15550100777"])
    assert result.to_dict() == {"added": ["+15550100777"], "removed": [],
                                "already_present": [SEEDED_DNC_NUMBER], "not_found": []}
    numbers = [entry["primaryNumber"] for entry in ecm.dnc.values()]
    assert numbers.count("+15550100777") == 1 and numbers.count(SEEDED_DNC_NUMBER) == 1
    assert {"+15550100777", SEEDED_DNC_NUMBER, "+15550999999"} == hook.list_dnc()


def test_add_dnc_whose_answer_is_lost_is_not_listed_twice(hook_133, ecm, sandbox_client):
    sandbox_client.add_fault(vendor="expertflow", action="reset", after_processing=True, path="contact/save")
    assert hook_133.add_dnc(["+15550100778"]).added == ["+15550100778"]
    assert [e["primaryNumber"] for e in ecm.dnc.values()].count("+15550100778") == 1


def test_remove_dnc_deletes_every_entry_of_a_number(hook, ecm):
    ecm._add_dnc({"primaryNumber": "+15550999999", "name": "listed twice"})
    result = hook.remove_dnc(["+15550999999", "+15550100779"])
    assert (list(result.removed), list(result.not_found)) == (["+15550999999"], ["+15550100779"])
    assert [entry["primaryNumber"] for entry in ecm.dnc.values()] == [SEEDED_DNC_NUMBER]


def test_dnc_refuses_an_invalid_number_before_sending(hook_133, sandbox_client):
    with pytest.raises(DialerValidationError) as caught:
        hook_133.add_dnc(["+15550100780", "call me"])
    assert caught.value.field == "numbers[1]"
    assert sandbox_client.requests(vendor="expertflow", path="contact") == []


# -- not supported -----------------------------------------------------------------------------------


def test_global_emergency_is_not_supported(hook, sandbox_client):
    for enabled in (True, False):
        expected = f"^{VENDOR}: cannot toggle a global emergency: ECM has"
        with pytest.raises(DialerNotSupportedError, match=expected):
            hook.set_global_emergency(enabled)
    assert sandbox_client.requests(vendor="expertflow", path="/ecm/") == []


# -- progress and contact state ----------------------------------------------------------------------


def test_progress_completes_when_no_contact_is_in_flight(hook, sandbox_client):
    campaign_id = hook.create_campaign(campaign_spec())
    empty = hook.get_campaign_progress(campaign_id)
    assert (empty.complete, empty.total, empty.pending, empty.detail) == (False, 0, 0, "no contacts yet")
    hook.upload_contacts(campaign_id, phone_rows(4), options=SKIP)
    before = hook.get_campaign_progress(campaign_id)
    assert (before.complete, before.total, before.pending) == (False, 4, 4)
    assert before.detail == "in flight: PENDING 4"
    sandbox_client.advance(vendor="expertflow")
    after = hook.get_campaign_progress(campaign_id)
    assert (after.complete, after.total, after.pending) == (True, 4, 0)
    outcomes = hook.get_outcome_counts(campaign_id)
    assert sum(outcomes.values()) == 4
    assert all(RequestState[name] in TERMINAL_STATES for name, count in outcomes.items() if count)


def test_progress_is_incomplete_while_a_retry_is_due(hook, ecm):
    campaign_id = hook.create_campaign(campaign_spec())
    hook.upload_contacts(campaign_id, phone_rows(2), options=SKIP)
    awaiting_retry, connected = callbacks_of(ecm, campaign_id)
    awaiting_retry["requestState"] = RequestState.NOT_CONNECTED  # the strategy will dial it again
    connected["requestState"] = RequestState.CONNECTED
    progress = hook.get_campaign_progress(campaign_id)
    # Only the first in-flight state with contacts is counted: pending is exact only when it holds them all.
    assert (progress.complete, progress.total, progress.pending) == (False, 2, None)
    assert progress.detail.startswith("in flight: NOT_CONNECTED 1")


def test_progress_costs_the_same_requests_whatever_the_campaign_size(hook, sandbox_client, readings_profile):
    # The hook's first getList learns the server's page numbering (reading ecm_page_base): under
    # "second" pages count from 1, page 0 is refused, and the page is asked again as 1, once per hook.
    hook.count_callbacks()
    assert len(sandbox_client.requests(vendor="expertflow", path="getList")) == (
        2 if readings_profile == "second" else 1)
    sandbox_client.configure(readings={"ecm_bulk_processing": "stored"})  # the files below are stored at once
    costs = []
    for size in (10, 300):
        campaign_id = hook.create_campaign(campaign_spec(name=f"Size {size}", crmCampaignId=None))
        contacts = [{"phone1": f"+1555{size:03d}{n:05d}"} for n in range(size)]
        hook.upload_bulk_callers(contacts, int(campaign_id))
        since = sandbox_client.requests(vendor="expertflow")[-1]["seq"]
        assert hook.get_campaign_progress(campaign_id).total == size
        costs.append(len(sandbox_client.requests(vendor="expertflow", since=since)))
    assert costs[0] == costs[1] == 2  # every contact, then Pending (which has them): see get_campaign_progress


def test_contact_state_by_phone_and_by_callback_id(hook, ecm, sandbox_client):
    pending = hook.get_contact_state(WELCOME, SEEDED_PENDING_PHONE)
    assert (pending.state, pending.terminal, pending.attempts) == ("PENDING", False, 0)
    assert pending.history["phone1"] == SEEDED_PENDING_PHONE and "callResult" in pending.history
    by_second_phone = hook.get_contact_state(WELCOME, "+15550200102")
    assert by_second_phone.history["phone1"] == "+15550100102"
    sandbox_client.advance(vendor="expertflow")
    dnc_id = next(c["id"] for c in callbacks_of(ecm, WELCOME) if c["phone1"] == SEEDED_DNC_NUMBER)
    listed = hook.get_contact_state(WELCOME, str(dnc_id))
    assert (listed.state, listed.terminal) == ("DNC_LISTED", True)
    settled = hook.get_contact_state(WELCOME, SEEDED_PENDING_PHONE)
    assert settled.terminal and settled.attempts >= 1
    with pytest.raises(DialerRequestError, match="no contact"):
        hook.get_contact_state(WELCOME, "+19990000000")


# -- mapping (no HTTP) -------------------------------------------------------------------------------


def test_vendor_field_names_are_reported_the_model_way():
    mapping = EcmContactMapping({"name": "businessParam4", "external_id": "businessParam5"}, "UTC")
    ecm_fields = ("phone1", "phone5", "dialTime", "businessParam4", "businessParam5", "businessParam6")
    assert [mapping.model_field(f) for f in ecm_fields] == [
        "phones[0]", "phones[4]", "dial_at", "attributes.name", "external_id", "attributes.businessParam6"]
    outcome = mapping.refusal_outcome(7, None, "dialTime must be formatted yyyy-MM-dd HH:mm:ss")
    assert (outcome.row, outcome.field, outcome.status) == (7, "dial_at", RowStatus.REJECTED)
    assert mapping.refusal_outcome(8, None, "Campaign not found").field is None


def test_a_row_whose_answer_is_lost_before_it_landed_is_sent_again(hook, ecm, sandbox_client):
    sandbox_client.add_fault(vendor="expertflow", action="reset", path=INSERT)  # reset before processing
    outcomes = hook.upload_contacts(SALES, phone_rows(2), options=SKIP)
    assert statuses(outcomes) == ["accepted"] * 2
    assert len(inserts(sandbox_client)) == 3  # looked up, not there: sent again
    phones = [c["phone1"] for c in callbacks_of(ecm, SALES)]
    assert all(phones.count(f"+1555777{n:04d}") == 1 for n in range(2))


def test_an_attribute_ecm_has_no_field_for_fails_the_upload_before_anything_is_sent(sandbox, sandbox_client):
    """Configuration, not data: 300 rows carrying an unmapped attribute fail once, before the first
    request, naming the fix; the same upload with the attribute mapped goes through."""
    from airflow.sdk.exceptions import AirflowFailException

    from airflow_provider_dialers.errors import DialerConfigurationError
    from airflow_provider_dialers.operators import UploadContactsOperator

    rows = [{"external_id": f"attr-{n}", "phone": f"+1555888{n:04d}", "name": f"Person {n}", "plan": "gold"}
            for n in range(300)]

    def upload(**kwargs):
        return UploadContactsOperator(task_id="upload", dialer_conn_id="expertflow_ecm_default", campaign_id=SALES,
                                      contacts=rows, **kwargs).execute({})

    with pytest.raises(DialerConfigurationError, match=r"attributes ECM has no field for: \['name', 'plan'\]") \
            as caught:
        upload()
    assert isinstance(caught.value, AirflowFailException)
    assert "attribute_map={'name': 'businessParam1', 'plan': 'businessParam2'}" in str(caught.value)
    assert inserts(sandbox_client) == []
    result = upload(attribute_map={"name": "businessParam1", "plan": "businessParam2"})
    assert (result["accepted"], result["rejected"]) == (300, 0)
