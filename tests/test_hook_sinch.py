"""SinchObiHook over real HTTP against the sandbox: every method, auth, retries, error paths."""

from __future__ import annotations

import base64
from datetime import date, datetime, timezone

import pytest
import requests

from airflow_provider_dialers.hooks.base import (
    DialerAuthError,
    DialerNotSupportedError,
    DialerRequestError,
    DialerResponseError,
    DialerTransientError,
)
from airflow_provider_dialers.hooks.sinch import (
    CustomerListResult,
    SinchObiHook,
    attribute_list,
    customer_record,
    format_datetime,
)
from airflow_provider_dialers.sandbox.core import DEFAULT_CREDENTIALS
from tests.support import FAST

pytestmark = pytest.mark.readings_profiles  # every test under the sandbox's first and second readings

HOOK_CLASS = SinchObiHook  # the ``hook`` fixture (conftest.py)
ACTIVE = "62718C7889CC44F7B944C1A6F6BE9B7F"  # "Spring Renewals", Active, 6 customers
PASSIVE = "8A7C98EAF1164F2FAA93B98EECB95D76"  # "Test Campaign", Passive, 4 customers
HANDLED = "E49625CFDF58E311B764005056A7012B"  # "Training campaign", Handled, with statistics
TEST_QUEUE = "63AA93F493A54C5A8597FCFA670B2382"
AGENT = "21A144F1824E4C768868D10201608E2E"
CREDS = DEFAULT_CREDENTIALS["sinch"]


def as_id36(id32: str) -> str:
    return f"{id32[:8]}-{id32[8:12]}-{id32[12:16]}-{id32[16:20]}-{id32[20:]}".lower()


def vendor_requests(sandbox_client, path: str | None = None) -> list[dict]:
    return sandbox_client.requests(vendor="sinch", path=path)


# -- campaigns --------------------------------------------------------------------------------


def test_list_campaigns_returns_seeded_campaigns_with_counters(hook, obi):
    campaigns = {c["id"]: c for c in hook.get_campaigns()}

    assert set(campaigns) == set(obi.campaigns)
    active = campaigns[ACTIVE]
    assert (active["name"], active["status"], active["dialerStatus"]) == ("Spring Renewals", "Active", "OPEN")
    assert (active["total"], active["handled"], active["notHandled"], active["callable"]) == (6, 0, 6, 6)
    assert campaigns[HANDLED]["maxCalls"] == 1
    assert "stats" not in active


def test_list_campaigns_searches_any_fields_with_patterns_ids_and_dates(hook, sandbox_client):
    assert [c["id"] for c in hook.get_campaigns(filters={"name": "spring*"})] == [ACTIVE]
    assert [c["id"] for c in hook.get_campaigns(filters={"status": "Pass?ve"})] == [PASSIVE]
    by_queue = hook.get_campaigns(filters={"queueId": as_id36(TEST_QUEUE), "total": 4})
    assert [c["id"] for c in by_queue] == [PASSIVE]
    registered_late = hook.get_campaigns(registered_after=datetime(2024, 2, 15, tzinfo=timezone.utc))
    assert {c["id"] for c in registered_late} == {ACTIVE, PASSIVE}
    started = hook.get_campaigns(start_date_after=date(2024, 1, 1), start_date_before="2025-01-01T00:00:00Z")
    assert [c["id"] for c in started] == [PASSIVE]

    query = vendor_requests(sandbox_client)[-1]["query"]
    assert "startDate=2024-01-01T00%3A00%3A00Z" in query and "startDateEnd=2025-01-01" in query


def test_list_campaigns_refuses_an_unsearchable_field_without_calling(hook, sandbox_client):
    with pytest.raises(DialerNotSupportedError, match="cannot search by \\['colour'\\]"):
        hook.get_campaigns(filters={"colour": "blue"})
    assert vendor_requests(sandbox_client) == []


def test_list_campaigns_with_statistics_total_daily_and_agents(hook, sandbox_client):
    with_stats = {c["id"]: c for c in hook.get_campaigns(statistics=True)}
    total = with_stats[HANDLED]["stats"]["total"]
    assert (total["numberOfCalls"], total["numberOfHandledCustomers"], total["numberOfAgents"]) == (6, 2, 1)
    assert "stats" not in with_stats[ACTIVE]  # never active: no statistics

    # statisticsDate and agentId imply statistics=true (the reference requires it with them).
    on_seed_day = {c["id"]: c for c in hook.get_campaigns(statistics_date=date(2024, 3, 1))}
    assert set(on_seed_day[HANDLED]["stats"]) == {"daily"}
    assert "statistics=true" in vendor_requests(sandbox_client)[-1]["query"]

    assert [c["id"] for c in hook.get_campaigns(agent_ids=[AGENT])] == [HANDLED]
    assert hook.get_campaigns(agent_ids=["38FFAEA3C2B54CD6BCFBCCF2006C0800"]) == []


def test_get_campaign_and_unknown_or_malformed_ids(hook):
    assert hook.get_campaign(PASSIVE)["abandonRate"] == 1.0
    assert hook.get_campaign(as_id36(PASSIVE))["id"] == PASSIVE

    with pytest.raises(DialerRequestError) as missing:
        hook.get_campaign("0" * 32)
    assert (missing.value.status_code, missing.value.vendor_code) == (404, "404")
    assert missing.value.vendor_message == f"Campaign not found: {'0' * 32}"

    with pytest.raises(DialerRequestError) as malformed:
        hook.get_campaign("Spring Renewals")
    assert malformed.value.status_code == 400
    assert malformed.value.vendor_message == (
        "Invalid campaignId: Spring Renewals : must be an id32 or id36 GUID")

    # A path-like id is sent as one quoted segment: it cannot reach GET /statistics.
    with pytest.raises(DialerRequestError) as not_found:
        hook.get_campaign("../statistics")
    assert not_found.value.status_code == 404


def test_update_campaign_replaces_every_setting(hook, obi):
    hook.update_campaign(
        PASSIVE,
        name="Autumn Winback",
        dialing_mode="PROGRESSIVE",
        queue_id=TEST_QUEUE,
        remarks="moved to progressive",
        end_date=datetime(2031, 1, 1, 12, 30, tzinfo=timezone.utc),
    )

    campaign = obi.campaigns[PASSIVE]
    assert (campaign.name, campaign.dialing_mode, campaign.remarks) == (
        "Autumn Winback", "PROGRESSIVE", "moved to progressive")
    assert campaign.end_date == datetime(2031, 1, 1, 12, 30, tzinfo=timezone.utc)
    # "Provide all properties since all fields are updated": what was left out is cleared.
    assert (campaign.time_zone, campaign.abandon_rate, campaign.start_date) == (None, None, None)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"queue_id": "F" * 32}, "Invalid queueId"),
        ({"abandon_rate": 2.5}, "Invalid abandonRate: 2.5 : must be a number between 0.0 and 2.0"),
        ({"name": " "}, "Invalid name"),
    ],
)
def test_update_campaign_validation_errors_are_request_errors(hook, obi, sandbox_client, changes, message):
    settings = {"name": "X", "dialing_mode": "PREDICTIVE", "queue_id": TEST_QUEUE, **changes}
    with pytest.raises(DialerRequestError) as refused:
        hook.update_campaign(PASSIVE, **settings)
    assert refused.value.status_code == 400
    assert refused.value.vendor_message.startswith(message)
    assert obi.campaigns[PASSIVE].name == "Test Campaign"
    assert len(vendor_requests(sandbox_client)) == 1  # a 400 is never retried


def test_set_campaign_status_starts_and_stops_a_campaign(hook, obi):
    hook.update_campaign_status(PASSIVE, "Active")
    assert (obi.campaigns[PASSIVE].status, obi.campaigns[PASSIVE].dialer_status) == ("Active", "OPEN")
    hook.update_campaign_status(PASSIVE, "passive")
    assert (obi.campaigns[PASSIVE].status, obi.campaigns[PASSIVE].dialer_status) == ("Passive", "PASSIVE")


def test_set_campaign_status_refuses_other_states_without_calling(hook, sandbox_client):
    with pytest.raises(DialerNotSupportedError, match="Active or Passive"):
        hook.update_campaign_status(ACTIVE, "Handled")  # type: ignore[arg-type]
    assert vendor_requests(sandbox_client) == []


def test_customer_result_statistics_group_results(hook):
    groups = hook.get_customer_result_statistics(HANDLED)
    assert sorted(groups, key=lambda g: g["result"]) == [
        {"result": "MAXCALLS", "callResult": "NOANSWER", "count": 1},
        {"result": "REFUSAL", "callResult": "REFUSAL", "classifier": "Refusal", "count": 1},
        {"result": "SUCCESS", "callResult": "SUCCESS", "classifier": "Offer accepted", "count": 1},
    ]
    assert hook.get_customer_result_statistics(ACTIVE) == [{"result": "", "count": 6}]


# -- customers --------------------------------------------------------------------------------


def test_list_customers_pages_filters_and_normalises_attributes(hook, obi):
    page = hook.list_customers(ACTIVE, offset=2, limit=3)
    assert [c["externalId"] for c in page] == ["1003", "1004", "1005"]
    # The server sends the examples' {"attribute": [...]} wrapper; the hook returns the schema's array.
    assert {"name": "Phone1", "value": "+358401234503"} in page[0]["attributes"]

    assert [c["externalId"] for c in hook.list_customers(ACTIVE, filters={"numbers": "*12"})] == ["1002"]
    by_attribute = hook.list_customers(ACTIVE, attribute_name="first name", attribute_value="k*")
    assert [c["externalId"] for c in by_attribute] == ["1001", "1004", "1005"]
    handled = hook.list_customers(
        HANDLED, filters={"result": "SUCCESS"}, include_script=True, agent_ids=[AGENT])
    assert [c["externalId"] for c in handled] == ["7"]
    assert handled[0]["script"]["name"] == "Tennis Sales Script"
    assert hook.list_customers(ACTIVE, modified_after=datetime(2030, 1, 1)) == []
    assert len(obi.campaigns[ACTIVE].customers) == 6


def test_list_customers_refuses_attribute_value_without_name(hook, sandbox_client):
    with pytest.raises(DialerNotSupportedError, match="attributeName"):
        hook.list_customers(ACTIVE, attribute_value="gold")
    assert vendor_requests(sandbox_client) == []


def test_iter_customers_reads_every_page(hook, sandbox_client):
    customers = list(hook.iter_customers(ACTIVE, page_size=4))
    assert [c["externalId"] for c in customers] == ["1001", "1002", "1003", "1004", "1005", "1006"]
    assert len(vendor_requests(sandbox_client, path="/customers$")) == 2


def test_add_customer_returns_the_created_id(hook, obi):
    customer_id = hook.add_customer(
        ACTIVE,
        numbers=["+358409999001", "+358409999002"],
        external_id="crm-42",
        attributes={"First Name": "Aino", "Phone1": "+358400000000"},
        call_date=datetime(2024, 5, 1, 9, 0, tzinfo=timezone.utc),
        priority=5,
    )

    stored = obi.campaigns[ACTIVE].customers[customer_id]
    assert (stored.external_id, stored.priority) == ("crm-42", 5)
    assert stored.numbers == ["+358409999001", "+358409999002"]
    # Given numbers replace the Phone attributes, as the reference says.
    assert {"name": "Phone1", "value": "+358409999001"} in stored.attributes
    assert {"name": "Phone1", "value": "+358400000000"} not in stored.attributes
    fetched = hook.get_customer(ACTIVE, customer_id)
    assert fetched["externalId"] == "crm-42" and fetched["result"] == ""
    assert {"name": "First Name", "value": "Aino"} in fetched["attributes"]


def test_add_customer_with_phone_attributes_only_and_generated_external_id(hook, obi):
    customer_id = hook.add_customer(PASSIVE, attributes=[{"name": "Phone1", "value": "+4930555000"}])
    stored = obi.campaigns[PASSIVE].customers[customer_id]
    assert stored.numbers == ["+4930555000"] and stored.external_id


@pytest.mark.parametrize(
    ("customer", "message"),
    [
        ({"numbers": "+number;"}, "Invalid numbers: '+number;'"),
        ({"numbers": ["+35840100001", "+35840100002", "+35840100003", "+35840100004"]}, "Invalid numbers"),
        ({"attributes": {"City": "Oulu"}}, "Invalid numbers: ''"),
        ({"numbers": "+35840100001", "external_id": "1001"},
         "Invalid externalId: 1001 : Value is not unique"),
    ],
)
def test_add_customer_validation_errors_carry_the_vendor_message(
    hook, obi, sandbox_client, readings_profile, customer, message
):
    with pytest.raises(DialerRequestError) as refused:
        hook.add_customer(ACTIVE, **customer)
    assert refused.value.status_code == 400 and refused.value.vendor_code == "400"
    assert refused.value.vendor_message.startswith(message)
    assert len(obi.campaigns[ACTIVE].customers) == 6
    # Under the second readings (sinch_attributes_form wrapper_only) an array of attributes is
    # refused whole first; the same customer then goes wrapped and gets the refusal above.
    wrapped_again = readings_profile == "second" and "attributes" in customer
    assert [r["status"] for r in vendor_requests(sandbox_client)] == [400] * (2 if wrapped_again else 1)


def test_add_customer_to_unknown_campaign(hook):
    with pytest.raises(DialerRequestError) as missing:
        hook.add_customer("A" * 32, numbers="+35840100001")
    assert missing.value.status_code == 404


def test_add_customers_accounts_for_every_item(hook, obi):
    result = hook.add_customers(
        ACTIVE,
        [
            customer_record(numbers="+52145200;", external_id="L1"),
            {"externalId": "L2", "numbers": "+number;"},
            # The reference examples' attribute wrapper is accepted from callers too.
            {"externalId": "L3", "attributes": {"attribute": [{"name": "Phone1", "value": "+52145203"}]}},
            {"externalId": "1001", "numbers": "+52145204"},
            {"externalId": "L1", "numbers": "+52145205"},
        ],
    )

    assert isinstance(result, CustomerListResult)
    assert [item.status_code for item in result.items] == [201, 400, 201, 400, 400]
    assert [item.external_id for item in result.failed] == ["L2", "1001", "L1"]
    assert [item.duplicate for item in result.failed] == [False, True, True]
    assert result.items[1].error == "Invalid numbers: '+number;'"
    assert not result.stopped
    stored = obi.campaigns[ACTIVE].customers
    assert {item.customer_id for item in result.created} <= set(stored)
    assert stored[result.items[2].customer_id].numbers == ["+52145203"]
    assert len(stored) == 8


def test_add_customers_stop_process_if_invalid_adds_nothing(hook, obi, sandbox_client):
    result = hook.add_customers(
        ACTIVE,
        [{"externalId": "S1", "numbers": "+52145200"}, {"externalId": "1001", "numbers": "+52145201"},
         {"externalId": "S2", "numbers": "+52145202"}],
        stop_if_invalid=True,
    )

    assert [item.status_code for item in result.items] == [200, 400, 200]
    assert result.stopped and result.created == []
    assert result.items[1].error == "Invalid externalId: 1001 : Value is not unique"
    assert len(obi.campaigns[ACTIVE].customers) == 6
    assert "stopProcessIfInvalidEntriesFound=true" in vendor_requests(sandbox_client)[-1]["query"]


def test_add_customers_with_nothing_to_add_sends_nothing(hook, sandbox_client):
    assert hook.add_customers(ACTIVE, []).items == ()
    assert vendor_requests(sandbox_client) == []


def test_get_and_delete_customer(hook, obi):
    customer_id = next(iter(obi.campaigns[ACTIVE].customers))
    assert hook.get_customer(ACTIVE, customer_id)["externalId"] == "1001"

    assert hook.delete_customer(ACTIVE, customer_id) is True
    assert customer_id not in obi.campaigns[ACTIVE].customers
    with pytest.raises(DialerRequestError) as gone:
        hook.delete_customer(ACTIVE, customer_id)
    assert gone.value.status_code == 404 and "Customer not found" in gone.value.vendor_message
    assert hook.delete_customer(ACTIVE, customer_id, missing_ok=True) is False
    with pytest.raises(DialerRequestError):
        hook.get_customer(ACTIVE, customer_id)


# -- statistics and the dialing simulation ----------------------------------------------------------


def test_get_statistics_filters_by_day_campaign_and_agent(hook):
    rows = hook.get_statistics(start_date=date(2024, 3, 1), end_date=date(2024, 3, 1))
    by_agent = {row["agentId"]: row for row in rows}
    assert set(by_agent) == {AGENT, None}  # None: calls the dialer ended without an agent
    assert by_agent[AGENT]["agentName"] == "Smith, Kathy"
    assert (by_agent[AGENT]["numberOfSuccessfulCalls"], by_agent[AGENT]["numberOfRefusalCalls"]) == (2, 1)
    assert by_agent[None]["numberOfCalls"] == 4

    assert hook.get_statistics(start_date=date(2024, 3, 2)) == []
    only_agent = hook.get_statistics(campaign_id=as_id36(HANDLED), agent_id=AGENT)
    assert [(r["campaignName"], r["agentId"]) for r in only_agent] == [("Training campaign", AGENT)]
    with pytest.raises(DialerRequestError, match="Invalid campaignId"):
        hook.get_statistics(campaign_id="Training*")  # id fields take no patterns


def test_dialing_moves_customers_through_dialing_to_final_results(hook, sandbox_client):
    sandbox_client.advance(contacts=1, vendor="sinch")
    assert {"result": "DIALING", "count": 1} in hook.get_customer_result_statistics(ACTIVE)
    assert hook.get_campaign(ACTIVE)["callable"] == 5

    sandbox_client.advance(vendor="sinch")

    campaign = hook.get_campaign(ACTIVE)
    assert (campaign["status"], campaign["dialerStatus"]) == ("Handled", "COMPLETED")
    assert campaign["callable"] == 0
    assert campaign["handled"] + campaign["maxCalls"] == campaign["total"] == 6
    customers = hook.list_customers(ACTIVE)
    assert all(c["result"] in {"SUCCESS", "REFUSAL", "MAXCALLS"} for c in customers)
    assert all(1 <= c["callCount"] <= 4 for c in customers)  # RetryCount 3: at most 4 attempts
    assert sum(g["count"] for g in hook.get_customer_result_statistics(ACTIVE)) == 6
    today = hook.get_statistics(start_date=datetime.now(timezone.utc).date(), campaign_id=ACTIVE)
    assert sum(r["numberOfCalls"] for r in today) == sum(c["callCount"] for c in customers)
    # A Passive campaign does not dial.
    assert hook.get_campaign(PASSIVE)["callable"] == 4


def test_activating_a_campaign_dials_it_to_completion(hook, sandbox_client):
    hook.update_campaign_status(PASSIVE, "Active")
    sandbox_client.advance(vendor="sinch")
    assert hook.get_campaign(PASSIVE)["status"] == "Handled"

    # New customers wait until the campaign is activated again.
    hook.add_customer(PASSIVE, numbers="+4930123456799", external_id="late")
    sandbox_client.advance(vendor="sinch")
    assert hook.get_campaign(PASSIVE)["callable"] == 1
    hook.update_campaign_status(PASSIVE, "Active")
    sandbox_client.advance(vendor="sinch")
    assert hook.get_campaign(PASSIVE)["notHandled"] == hook.get_campaign(PASSIVE)["maxCalls"]


# -- auth -------------------------------------------------------------------------------------------


def test_basic_auth_builds_one_credential_for_every_call(hook, obi, sandbox_client):
    hook.get_campaigns()
    hook.get_campaign(ACTIVE)
    hook.list_customers(ACTIVE)
    hook.get_statistics()

    assert hook.login_count == 1
    assert obi.authenticated_requests == 4  # every call carried valid Basic auth
    stats = sandbox_client.stats()
    assert "sinch" not in stats["logins"]  # Basic has no login round trip to count
    assert stats["failed_logins"].get("sinch") is None


def test_expiring_sandbox_credentials_does_not_affect_basic_auth(hook, sandbox_client):
    hook.get_campaigns()
    assert sandbox_client.expire_credentials("sinch") == 0  # nothing issued, nothing to expire
    assert hook.get_campaign(ACTIVE)["id"] == ACTIVE
    assert hook.login_count == 1


def test_wrong_password_fails_at_once_without_leaking_secrets(sandbox, sandbox_client, make_connection):
    conn_id = make_connection("sinch_wrong_pw", "sinch_obi", password="wrong-pass-123")
    wrong = SinchObiHook(conn_id, retry_policy=FAST)

    with pytest.raises(DialerAuthError) as refused:
        wrong.get_campaigns()

    text = str(refused.value)
    assert "HTTP 401" in text and "login, password" in text
    for secret in ("wrong-pass-123", CREDS["password"], CREDS["api_key"],
                   base64.b64encode(f"{CREDS['login']}:wrong-pass-123".encode()).decode()):
        assert secret not in text
    assert len(vendor_requests(sandbox_client)) == 1  # a 401 is final: not re-sent, no re-login
    assert sandbox_client.stats()["failed_logins"]["sinch"] == 1


def test_wrong_api_key_is_an_auth_error_without_the_key(sandbox, sandbox_client, make_connection):
    conn_id = make_connection("sinch_wrong_key", "sinch_obi", extra={"api_key": "not-the-key-456"})
    with pytest.raises(DialerAuthError) as refused:
        SinchObiHook(conn_id, retry_policy=FAST).get_campaigns()
    assert "HTTP 403" in str(refused.value) and "api_key" in str(refused.value)
    assert "not-the-key-456" not in str(refused.value)
    assert len(vendor_requests(sandbox_client)) == 1


def test_api_key_required_by_the_gateway(hook, sandbox_client, make_connection):
    sandbox_client.configure(sinch_require_api_key=True)
    assert hook.get_campaigns()  # the default connection carries the key

    conn_id = make_connection("sinch_no_key", "sinch_obi", extra={"api_key": None})
    with pytest.raises(DialerAuthError, match="HTTP 403"):
        SinchObiHook(conn_id, retry_policy=FAST).get_campaigns()


def test_missing_password_fails_before_any_request(sandbox, sandbox_client, make_connection):
    conn_id = make_connection("sinch_no_pw", "sinch_obi", password=None)
    with pytest.raises(DialerAuthError, match="login and password"):
        SinchObiHook(conn_id, retry_policy=FAST).get_campaigns()
    assert vendor_requests(sandbox_client) == []


def test_test_connection_ok_wrong_password_and_unreachable(sandbox, make_connection):
    ok, message = SinchObiHook(retry_policy=FAST).test_connection()
    assert ok and "3 campaigns" in message

    bad = make_connection("sinch_bad", "sinch_obi", password="wrong-pass-123")
    ok, message = SinchObiHook(bad, retry_policy=FAST).test_connection()
    assert not ok and message.startswith("Authentication failed") and "wrong-pass-123" not in message

    gone = make_connection("sinch_gone", "sinch_obi", host="http://127.0.0.1:9")
    ok, message = SinchObiHook(gone, retry_policy=FAST).test_connection()
    assert not ok and message.startswith("Server unreachable")


# -- retries ----------------------------------------------------------------------------------------


def test_injected_503s_are_retried_until_success(hook, sandbox_client):
    sandbox_client.add_fault(vendor="sinch", status=503, count=2)
    assert len(hook.get_campaigns()) == 3
    assert [r["status"] for r in vendor_requests(sandbox_client)] == [503, 503, 200]


def test_connection_reset_is_recovered_on_a_retry_safe_call(hook, sandbox_client):
    sandbox_client.add_fault(vendor="sinch", action="reset", path="/customers$")
    assert len(hook.list_customers(ACTIVE)) == 6
    assert len(vendor_requests(sandbox_client)) == 2


def test_reset_after_processing_a_create_without_external_id_is_not_resent(hook, obi, sandbox_client):
    sandbox_client.add_fault(vendor="sinch", action="reset", after_processing=True, method="POST")

    with pytest.raises(DialerTransientError) as lost:
        hook.add_customer(ACTIVE, numbers="+35840777777")

    assert lost.value.may_have_been_processed is True
    assert len(vendor_requests(sandbox_client, path="/customers$")) == 1
    assert len(obi.campaigns[ACTIVE].customers) == 7  # it was processed: the caller must reconcile


def test_reset_after_processing_a_list_with_external_ids_is_resent_safely(hook, obi, sandbox_client):
    sandbox_client.add_fault(vendor="sinch", action="reset", after_processing=True, method="POST")

    result = hook.add_customers(ACTIVE, [{"externalId": "R1", "numbers": "+358401"}])

    assert len(vendor_requests(sandbox_client, path="/list$")) == 2
    assert result.items[0].duplicate  # the re-send found the first attempt's customer
    assert [c.external_id for c in obi.campaigns[ACTIVE].customers.values()].count("R1") == 1


def test_a_502_on_a_non_retry_safe_create_is_not_resent(hook, sandbox_client):
    sandbox_client.add_fault(vendor="sinch", status=502, method="POST")
    with pytest.raises(DialerTransientError) as lost:
        hook.add_customers(ACTIVE, [{"numbers": "+358401"}])
    assert lost.value.may_have_been_processed is True
    assert len(vendor_requests(sandbox_client)) == 1


def test_persistent_503_gives_up_with_a_transient_error(hook, sandbox_client):
    sandbox_client.add_fault(vendor="sinch", status=503, count=None)
    with pytest.raises(DialerTransientError) as unavailable:
        hook.get_campaign(ACTIVE)
    assert unavailable.value.may_have_been_processed is False
    assert len(vendor_requests(sandbox_client)) == FAST.max_attempts


# -- malformed answers ------------------------------------------------------------------------------

MALFORMED = [
    pytest.param("<html><body>Gateway login</body></html>", "text/html", "an HTML page", id="html"),
    pytest.param("null", "application/json", "the literal null", id="null"),
    pytest.param('[{"id": "62718C78', "application/json", "unparseable text", id="truncated"),
]


@pytest.mark.parametrize(("body", "content_type", "described"), MALFORMED)
@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda h: h.get_campaigns(), id="get_campaigns"),
        pytest.param(lambda h: h.get_campaign(ACTIVE), id="get_campaign"),
        pytest.param(lambda h: h.list_customers(ACTIVE), id="list_customers"),
        pytest.param(lambda h: h.add_customers(ACTIVE, [{"externalId": "M1", "numbers": "+358401"}]),
                     id="add_customers"),
    ],
)
def test_malformed_answers_are_response_errors(hook, sandbox_client, call, body, content_type, described):
    sandbox_client.add_fault(vendor="sinch", status=200, body=body, content_type=content_type)
    with pytest.raises(DialerResponseError, match=described):
        call(hook)


def test_an_object_where_a_list_is_documented_is_a_response_error(hook, sandbox_client):
    sandbox_client.add_fault(vendor="sinch", status=200, body='{"error": "?"}')
    with pytest.raises(DialerResponseError, match="expected a JSON array"):
        hook.get_statistics()


def test_a_created_answer_without_an_id_is_a_response_error(hook, sandbox_client):
    sandbox_client.add_fault(
        vendor="sinch", status=201, body="<html>Created</html>", content_type="text/html")
    with pytest.raises(DialerResponseError, match="created customer's id"):
        hook.add_customer(ACTIVE, numbers="+358401", external_id="H1")


def test_a_list_answer_that_does_not_match_the_items_sent_is_a_response_error(hook, sandbox_client):
    sandbox_client.add_fault(vendor="sinch", status=200, body='[{"statusCode": 201, "id": "X"}]')
    with pytest.raises(DialerResponseError, match="1 results for 2 customers"):
        hook.add_customers(
            ACTIVE, [{"externalId": "A", "numbers": "+358401"}, {"externalId": "B", "numbers": "+358402"}])


def test_an_error_answer_that_is_not_json_is_described(hook, sandbox_client):
    sandbox_client.add_fault(
        vendor="sinch", status=500, body="<html>Internal Error</html>", content_type="text/html")
    with pytest.raises(DialerRequestError) as failed:
        hook.get_campaign(ACTIVE)
    assert failed.value.status_code == 500 and failed.value.vendor_code is None
    assert "an HTML page" in str(failed.value)


# -- pure helpers -------------------------------------------------------------------------------------


def test_created_id_falls_back_to_the_location_header(hook):
    response = requests.Response()
    response.status_code, response._content = 201, b""
    response.headers["Location"] = f"http://obi/RI/obi/campaigns/{ACTIVE}/customers/{PASSIVE}"
    assert hook._created_id(response) == PASSIVE


def test_attribute_list_reads_every_documented_form():
    schema = [{"name": "City", "value": "Oulu"}]
    assert attribute_list(schema) == schema
    assert attribute_list({"attribute": schema}) == schema
    assert attribute_list({"attribute": {"name": "City", "value": "Oulu"}}) == schema  # one-item wrapper
    assert attribute_list({"City": "Oulu"}) == schema
    with pytest.raises(ValueError):
        attribute_list("City=Oulu")


def test_format_datetime_sends_utc():
    helsinki = datetime(2024, 6, 1, 15, 0, tzinfo=timezone.utc).astimezone()
    assert format_datetime(helsinki) == "2024-06-01T15:00:00Z"
    assert format_datetime(date(2024, 6, 1)) == "2024-06-01T00:00:00Z"
    assert format_datetime(datetime(2024, 6, 1, 0, 0, 0, 250000)) == "2024-06-01T00:00:00.250Z"
