"""AmeyoHook over real HTTP against the sandbox: every command, the session lifecycle, retries,
error shapes and malformed answers."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import datetime

import pytest

from airflow_provider_dialers.hooks.ameyo import (
    AmeyoHook,
    AmeyoResultType,
    AmeyoSession,
    CustomerCallback,
    is_invalid_session_body,
    vendor_error,
)
from airflow_provider_dialers.hooks.base import (
    DialerAuthError,
    DialerRequestError,
    DialerResponseError,
    DialerTransientError,
)
from airflow_provider_dialers.sandbox.core import DEFAULT_CREDENTIALS
from tests.support import FAST

HOOK_CLASS = AmeyoHook  # the ``hook`` fixture (conftest.py)
PASSWORD = DEFAULT_CREDENTIALS["ameyo"]["password"]
STATUS_COLUMNS = ("status", "attempts")


def log_since(sandbox_client, seq: int = 0) -> list[dict]:
    return sandbox_client.requests(vendor="ameyo", since=seq)


def last_seq(sandbox_client) -> int:
    entries = log_since(sandbox_client)
    return entries[-1]["seq"] if entries else 0


def session_id(hook: AmeyoHook) -> str:
    credential, _ = hook.auth.current()
    return credential.value


# -- connection and construction -------------------------------------------------------------------


def test_init_touches_neither_network_nor_connection(sandbox_client):
    hook = AmeyoHook(conn_id="not_defined_anywhere")
    assert hook.conn_id == "not_defined_anywhere"
    assert hook.login_count == 0
    assert log_since(sandbox_client) == []


def test_extras_terminal_and_client_type(sandbox, make_connection):
    conn_id = make_connection("ameyo_plain", "ameyo", extra={"terminal": "", "client_type": ""})
    plain = AmeyoHook(conn_id)
    assert (plain.terminal, plain.client_type) == ("127.0.0.1", None)
    configured = AmeyoHook(make_connection("ameyo_term", "ameyo", extra={"terminal": "10.1.2.3"}))
    assert configured.login().terminal_info == "10.1.2.3"
    configured.close()


# -- session commands --------------------------------------------------------------------------------


def test_login_returns_login_info_without_session_id(hook, sandbox_client):
    info = hook.login()
    assert [c.campaign_id for c in info.campaigns] == [1, 5, 10]
    assert info.campaigns[0].name == "MoviStarSurvey"
    assert (info.user_type, info.session_timeout, info.max_phone_length) == ("CustomerManager", 180.0, 20)
    assert session_id(hook) not in repr(info)
    assert sandbox_client.stats()["active_credentials"]["ameyo"] == 1


def test_commands_are_form_posts_with_empty_query_string(hook, sandbox_client):
    hook.login()
    hook.get_leads_for_campaign(1)
    entries = log_since(sandbox_client)
    assert len(entries) == 2
    for entry in entries:
        assert (entry["method"], entry["path"], entry["query"]) == ("POST", "/ameyowebaccess/command", "")


def test_ping_session(hook):
    status = hook.ping_session()
    assert status.alive is True
    assert status.server_time is not None and status.server_time.tzinfo is not None


def test_logout_ends_the_session_and_next_call_logs_in_again(hook, sandbox_client):
    hook.login()
    assert hook.logout() is True
    assert sandbox_client.stats()["active_credentials"]["ameyo"] == 0
    assert hook.logout() is False  # nothing left to end
    hook.get_leads_for_campaign(1)
    assert sandbox_client.stats()["logins"]["ameyo"] == 2


def test_logout_of_an_already_dead_session_is_not_an_error(hook, sandbox_client):
    hook.login()
    sandbox_client.expire_credentials("ameyo")
    assert hook.logout() is True
    # Logging out sends the old session once, and never logs in just to log out.
    assert sandbox_client.stats()["logins"]["ameyo"] == 1


def test_close_logs_out(sandbox, sandbox_client):
    hook = AmeyoHook(retry_policy=FAST)
    hook.login()
    hook.close()
    assert sandbox_client.stats()["active_credentials"]["ameyo"] == 0


# -- getContacts -------------------------------------------------------------------------------------


def test_get_contacts_of_a_campaign_with_status_columns(hook):
    contacts = hook.get_contacts(1, other_columns=STATUS_COLUMNS)
    assert [c.customer_id for c in contacts] == [12458, 12459, 12460, 12461, 12462]
    first = contacts[0]
    # Served as text/plain without a charset: still decoded as UTF-8.
    assert first.customer_data == {"region": "REGIÓN 4", "login": "504089", "phone1": "0458681166572"}
    assert (first.status, first.attempts, first.lead_id, first.campaign_id) == ("BUSY", 5, 1, 1)
    assert first.num_outbound_attempted == 5


def test_get_contacts_filters(hook):
    by_lead = hook.get_contacts(1, lead_ids=[21])
    assert {c.customer_id for c in by_lead} == {12460, 12461}
    by_id = hook.get_contacts(1, customer_ids=[12459, "12461"])
    assert {c.customer_id for c in by_id} == {12459, 12461}
    enabled = hook.get_contacts(1, choose_enabled_leads=True)
    assert 12462 not in {c.customer_id for c in enabled}  # lead 35 is disabled


def test_get_contacts_other_columns_with_own_aliases_omit_nulls(hook):
    [contact] = hook.get_contacts(1, customer_ids=[12459], other_columns={"status": "S", "disposition": "D"})
    assert contact.extra_data == {"S": "NOT_TRIED"}  # disposition is null: absent, as documented


def test_get_contacts_order_and_paging(hook, sandbox_client):
    descending = hook.get_contacts(1, order_by="customer_id DESC", limit=2, offset=1)
    assert [c.customer_id for c in descending] == [12461, 12460]
    seq = last_seq(sandbox_client)
    paged = list(hook.iter_contacts(1, page_size=2))
    assert [c.customer_id for c in paged] == [12458, 12459, 12460, 12461, 12462]
    assert len(log_since(sandbox_client, seq)) == 3  # pages of 2, 2 and 1


def test_get_contacts_lead_not_in_campaign(hook):
    with pytest.raises(DialerRequestError) as err:
        hook.get_contacts(1, lead_ids=[51])
    assert err.value.vendor_code == "CustomerManager.lead.not.in.camp.11"
    assert err.value.status_code == 200
    assert "51" in err.value.vendor_message


def test_get_contacts_unknown_campaign_and_column(hook):
    with pytest.raises(DialerRequestError) as err:
        hook.get_contacts(99)
    assert err.value.vendor_code == "CustomerManager.invalid.campaign.id"
    with pytest.raises(DialerRequestError) as err:
        hook.get_contacts(1, other_columns=["no_such_column"])
    assert err.value.vendor_code == "CustomerManager.invalid.column"


def test_sandbox_accepts_the_references_list_form_of_other_columns(hook):
    body = hook.call(
        "getContacts",
        {"campaignId": 1, "customerIds": ["12458"],
         "otherColumns": [{"__campaign_customer_table_alias__.attempts": "ATTEMPTS"}]},
        retry_safe=True,
    )
    assert body["beanResponse"][0]["extraData"] == {"ATTEMPTS": 5}
    assert body["result"] == "Success."


# -- uploadContacts ------------------------------------------------------------------------------------


def test_upload_contacts_results_per_record(hook, ameyo):
    results = hook.upload_customer_records(
        1, 39, [{"phone1": "9876543210", "name": "New"}, {"phone1": "12"}, {"name": "no phone"},
                {"phone1": "98765432109876543210123"}, {"phone1": "98-76"}],
    )
    assert [r.index for r in results] == [0, 1, 2, 3, 4]
    assert [r.result_type for r in results] == [
        AmeyoResultType.ADDED,
        AmeyoResultType.PREPROCESSING_INVALID_LENGTH,
        AmeyoResultType.PREPROCESSOR_NOT_NULLABLE_COLUMN_GIVEN_NULL,
        AmeyoResultType.PREPROCESSING_INVALID_LENGTH,
        AmeyoResultType.INVALID_RECORD_FAILED,
    ]
    assert [r.succeeded for r in results] == [True, False, False, False, False]
    assert results[1].exception == ("CustomerManager.Phone.number.does.not.have.valid.length", 2)
    assert results[2].exception == ("CustomerManager.Column.name.cannot.be.missing.empty", "phone1")
    added = ameyo.customers[results[0].customer_id]
    assert (added["leadId"], added["customerData"]["name"]) == (39, "New")
    assert added["columns"]["status"] == "NOT_TRIED"
    assert len(ameyo.customers) == 9  # 8 seeded + 1


def test_upload_contacts_dedupes_by_phone1(hook, ameyo):
    existing = {"phone1": "9810000001", "name": "Asha K"}
    [updated] = hook.upload_customer_records(1, 1, [existing])
    assert (updated.result_type, updated.customer_id) == (AmeyoResultType.UPDATED, 12459)
    assert ameyo.customers[12459]["customerData"]["name"] == "Asha K"
    [duplicate] = hook.upload_customer_records(1, 1, [existing], update_customer=False)
    assert duplicate.result_type == AmeyoResultType.DUPLICATE_NOT_ADDED and not duplicate.succeeded
    [migrated] = hook.upload_customer_records(1, 21, [existing], update_customer=False, migrate_customer=True)
    assert migrated.result_type == AmeyoResultType.MIGRATED
    [both] = hook.upload_customer_records(1, 39, [existing], migrate_customer=True)
    assert both.result_type == AmeyoResultType.UPDATED_AND_MIGRATED
    assert ameyo.customers[12459]["leadId"] == 39
    assert len(ameyo.customers) == 8


def test_upload_contacts_status_churns_only_when_asked(hook, ameyo):
    hook.upload_customer_records(1, 1, [{"phone1": "0458681166572"}])
    assert ameyo.customers[12458]["columns"]["status"] == "BUSY"  # no Status sent: left alone
    hook.upload_customer_records(1, 1, [{"phone1": "0458681166572"}], status="NOT_TRIED", num_attempts=0)
    columns = ameyo.customers[12458]["columns"]
    assert (columns["status"], columns["attempts"], columns["churn_count"], columns["last_churn_1"]) == (
        "NOT_TRIED", 0, 1, "BUSY")


def test_upload_contacts_whole_request_refusals(hook):
    with pytest.raises(DialerRequestError) as err:
        hook.upload_customer_records(1, 51, [{"phone1": "9876543210"}])
    assert err.value.vendor_code == "CustomerManager.lead.not.in.camp.11"
    with pytest.raises(DialerRequestError) as err:
        hook.upload_customer_records(1, 39, [{"phone1": "9876543210"}], status="MAYBE")
    assert err.value.vendor_code == "CustomerManager.invalid.status"


def test_upload_answers_in_the_references_exact_form_are_parsed(hook, sandbox_client):
    """The reference's 4.7.6 example: "Inserted" capitalised and stray escaped quotes."""
    hook.login()
    body = ('{"beanResponse":[{"Inserted":false,"exception":["CustomerManager.Column.name.cannot.be.missing.'
            'empty\\\\","phone1\\\\"],"resultTypeString":"PREPROCESSOR_NOT_NULLABLE_COLUMN_GIVEN_NULL",'
            '"crmIntegrated":false,"crmSuccess":false},{"inserted":true,"customerId":17821,'
            '"resultTypeString":"ADDED","crmIntegrated":true,"crmSuccess":true,'
            '"crmResultTypeString":"ADDED"}]}')
    sandbox_client.add_fault(vendor="ameyo", status=200, body=body)
    missing, added = hook.upload_customer_records(1, 39, [{"name": "x"}, {"phone1": "9876543210"}])
    assert missing.exception == ("CustomerManager.Column.name.cannot.be.missing.empty", "phone1")
    assert not missing.inserted
    assert (added.customer_id, added.crm_integrated, added.crm_result_type) == (17821, True, "ADDED")


def test_upload_result_count_mismatch_is_a_response_error(hook, sandbox_client):
    hook.login()
    sandbox_client.add_fault(vendor="ameyo", status=200, body='{"beanResponse":[]}')
    with pytest.raises(DialerResponseError, match="0 results for 1 records"):
        hook.upload_customer_records(1, 39, [{"phone1": "9876543210"}])


# -- uploadContactAndAddCallback ----------------------------------------------------------------------------


def test_upload_contact_and_add_callback(hook, ameyo):
    results = hook.upload_contact_and_add_callback(
        1, 39,
        [
            CustomerCallback({"phone1": "9765432100"}, datetime(2030, 5, 31, 15, 30), user_id="agent"),
            CustomerCallback({"phone1": "9810000002"}, "2030-05-31 16:00:00", customer_id=12461),
            CustomerCallback({"phone1": "9765432199"}, ""),
        ],
        validity_time=datetime(2030, 6, 30, 22, 30),
    )
    added, for_other, no_time = results
    assert added.result_type == AmeyoResultType.ADDED and added.callback_id
    callback = ameyo.callbacks[added.callback_id]
    assert (callback["customerId"], callback["phone"]) == (added.customer_id, "9765432100")
    assert callback["userId"] == "agent"
    assert callback["callBackTime"] == added.callback_time == "May 31, 2030 3:30:00 PM"
    assert ameyo.customers[added.customer_id]["validityTime"] == "2030-06-30 22:30:00"
    assert for_other.result_type == AmeyoResultType.UPDATED
    assert ameyo.callbacks[for_other.callback_id]["customerId"] == 12461  # the given customerId wins
    assert no_time.callback_id is None and "callBackTime.cannot.be.null" in no_time.message
    assert len(ameyo.callbacks) == 2


# -- getLeadsForCampaign and addCallback ---------------------------------------------------------------------


def test_get_leads_for_campaign(hook):
    leads = hook.get_leads_for_campaign(1)
    assert [lead.lead_id for lead in leads] == [1, 35, 21, 39]
    disabled = leads[1]
    assert (disabled.enabled, disabled.max_attempt, disabled.campaign_id) == (False, 10, 1)
    assert leads[0].fetch_order_ascending is False
    with pytest.raises(DialerRequestError) as err:
        hook.get_leads_for_campaign(42)
    assert err.value.vendor_code == "CustomerManager.invalid.campaign.id"


def test_add_callback_for_a_customer_and_for_a_number(hook, ameyo):
    for_customer = hook.add_callback(1, "2030-05-31 15:30:00", customer_id=12459, user_id="agent",
                                     callback_handler_type="voice.campaign.callback.handler")
    assert (for_customer.customer_id, for_customer.phone) == (12459, "9810000001")
    assert for_customer.user_id == "agent"
    assert for_customer.callback_time == "May 31, 2030 3:30:00 PM"
    stored = ameyo.callbacks[for_customer.callback_id]
    assert stored["callBackHandlerType"] == "voice.campaign.callback.handler"
    for_number = hook.add_callback(5, datetime(2030, 1, 2, 9, 0), phone="5555056887", is_self_callback=True)
    assert (for_number.customer_id, for_number.phone, for_number.self_callback) == (None, "5555056887", True)
    assert len(ameyo.callbacks) == 2


def test_add_callback_refusals(hook):
    with pytest.raises(DialerRequestError) as err:
        hook.add_callback(1, "2030-05-31 15:30:00", customer_id=12470)  # a customer of campaign 5
    assert err.value.vendor_code == "CustomerManager.customer.not.found"
    with pytest.raises(DialerRequestError) as err:
        hook.add_callback(1, "tomorrow", phone="5555056887")
    assert err.value.vendor_code == "CustomerManager.invalid.callBackTime"


# -- auth lifecycle ------------------------------------------------------------------------------------------


def test_one_login_for_many_calls(hook, sandbox_client):
    hook.ping_session()
    hook.get_leads_for_campaign(1)
    hook.get_contacts(1)
    hook.add_callback(1, "2030-01-01 10:00:00", phone="5555056887")
    assert sandbox_client.stats()["logins"]["ameyo"] == 1
    assert hook.login_count == 1


@pytest.mark.parametrize("call", [
    lambda h: h.ping_session(),  # {"status": "error", ...}
    lambda h: h.get_contacts(1),  # {"result": "Failed.", "comment": ["LogoutRemoterProcessorHelper..."]}
    lambda h: h.upload_customer_records(1, 39, [{"phone1": "9876543210"}], update_customer=False),  # not retry-safe
])
def test_expired_session_is_renewed_once_and_the_call_succeeds(hook, sandbox_client, call):
    hook.login()
    old = session_id(hook)
    assert sandbox_client.expire_credentials("ameyo") == 1
    call(hook)
    assert sandbox_client.stats()["logins"]["ameyo"] == 2
    assert hook.login_count == 2
    assert session_id(hook) != old


def test_every_successful_call_pushes_the_idle_deadline(hook):
    hook.login()
    first = hook.auth.current()[0]
    assert isinstance(first, AmeyoSession) and first.idle_timeout == 180.0
    hook.get_leads_for_campaign(1)
    assert hook.auth.current()[0].expires_at > first.expires_at


def test_an_idle_session_is_replaced_before_it_is_used(hook, sandbox_client):
    hook.login()
    credential, _ = hook.auth.current()
    hook.auth._credential = replace(credential, expires_at=time.monotonic() - 1)  # as if idle too long
    seq = last_seq(sandbox_client)
    hook.get_leads_for_campaign(1)
    assert hook.login_count == 2
    assert len(log_since(sandbox_client, seq)) == 2  # login + the call: no rejected attempt


def test_wrong_password_is_a_clear_auth_error_without_secrets(sandbox_client, make_connection):
    hook = AmeyoHook(make_connection("ameyo_bad", "ameyo", password="wrong-pass-123"), retry_policy=FAST)
    with pytest.raises(DialerAuthError) as err:
        hook.get_contacts(1)
    text = str(err.value)
    assert "login refused" in text and "customer-manager" in text
    assert "wrong-pass-123" not in text and PASSWORD not in text
    assert sandbox_client.stats()["failed_logins"]["ameyo"] == 1
    assert len(log_since(sandbox_client)) == 1  # a refused login is not retried


def test_a_fresh_session_rejected_again_is_an_auth_error(hook, sandbox_client):
    sandbox_client.configure(ameyo_session_timeout=0.000001)  # every session dies at once
    with pytest.raises(DialerAuthError, match="rejected a freshly obtained credential") as err:
        hook.get_leads_for_campaign(1)
    assert sandbox_client.stats()["logins"]["ameyo"] == 1 + hook.auth.max_renewals  # a bounded few re-logins
    assert "-ses-" not in str(err.value)


def test_session_ids_in_error_texts_are_redacted(hook, sandbox_client):
    sid = session_id(hook)
    for status in (500, 200):
        comment = ["CustomerManager.internal.error", f"session {sid}"]
        body = json.dumps({"result": "Failed.", "comment": comment})
        sandbox_client.add_fault(vendor="ameyo", status=status, body=body)
        with pytest.raises(DialerRequestError) as err:
            hook.get_leads_for_campaign(1)
        assert err.value.status_code == status
        assert err.value.vendor_code == "CustomerManager.internal.error"
        assert sid not in str(err.value) and sid not in err.value.vendor_message
        assert "***" in err.value.vendor_message


# -- test_connection -----------------------------------------------------------------------------------------


def test_test_connection_ok(hook, sandbox_client):
    ok, message = hook.test_connection()
    assert ok is True
    assert "3 campaigns" in message and "customer-manager" in message
    assert sandbox_client.stats()["active_credentials"]["ameyo"] == 0  # logged out afterwards


def test_test_connection_wrong_password(sandbox, make_connection):
    hook = AmeyoHook(make_connection("ameyo_bad", "ameyo", password="wrong-pass-123"), retry_policy=FAST)
    ok, message = hook.test_connection()
    assert ok is False
    assert message.startswith("Authentication failed") and "login refused" in message
    assert "wrong-pass-123" not in message and PASSWORD not in message


def test_test_connection_unreachable_host(sandbox, make_connection):
    hook = AmeyoHook(make_connection("ameyo_down", "ameyo", host="http://127.0.0.1:9"), retry_policy=FAST)
    ok, message = hook.test_connection()
    assert ok is False
    assert message.startswith("Server unreachable")
    assert PASSWORD not in message


# -- retries -------------------------------------------------------------------------------------------------


def test_503s_are_retried_then_succeed(hook, sandbox_client):
    hook.login()
    seq = last_seq(sandbox_client)
    sandbox_client.add_fault(vendor="ameyo", status=503, count=2)
    assert len(hook.get_leads_for_campaign(1)) == 4
    assert [e["status"] for e in log_since(sandbox_client, seq)] == [503, 503, 200]


def test_connection_reset_on_a_read_is_retried(hook, sandbox_client):
    hook.login()
    seq = last_seq(sandbox_client)
    sandbox_client.add_fault(vendor="ameyo", action="reset")
    assert hook.ping_session().alive
    assert len(log_since(sandbox_client, seq)) == 2


def test_reset_after_processing_an_add_callback_is_not_resent(hook, sandbox_client, ameyo):
    hook.login()
    seq = last_seq(sandbox_client)
    sandbox_client.add_fault(vendor="ameyo", action="reset", after_processing=True)
    with pytest.raises(DialerTransientError) as err:
        hook.add_callback(1, "2030-01-01 10:00:00", phone="5555056887")
    assert err.value.may_have_been_processed is True
    assert len(log_since(sandbox_client, seq)) == 1
    assert len(ameyo.callbacks) == 1  # processed once: the caller must reconcile, not resend


def test_upload_without_update_is_not_resent_after_a_lost_answer(hook, sandbox_client, ameyo):
    hook.login()
    seq = last_seq(sandbox_client)
    sandbox_client.add_fault(vendor="ameyo", action="reset", after_processing=True)
    with pytest.raises(DialerTransientError) as err:
        hook.upload_customer_records(1, 39, [{"phone1": "9876543210"}], update_customer=False)
    assert err.value.may_have_been_processed is True
    assert len(log_since(sandbox_client, seq)) == 1


def test_upload_with_update_is_resent_and_updates_instead_of_duplicating(hook, sandbox_client, ameyo):
    hook.login()
    seq = last_seq(sandbox_client)
    sandbox_client.add_fault(vendor="ameyo", action="reset", after_processing=True)
    [result] = hook.upload_customer_records(1, 39, [{"phone1": "9876543210"}])
    assert result.result_type == AmeyoResultType.UPDATED  # the lost first send had added it
    assert len(log_since(sandbox_client, seq)) == 2
    assert [c["customerData"]["phone1"] for c in ameyo.customers.values()].count("9876543210") == 1


def test_no_retry_on_400(hook, sandbox_client):
    hook.login()
    seq = last_seq(sandbox_client)
    sandbox_client.add_fault(vendor="ameyo", status=400, body='{"error":"bad request"}')
    with pytest.raises(DialerRequestError) as err:
        hook.get_leads_for_campaign(1)
    assert err.value.status_code == 400
    assert len(log_since(sandbox_client, seq)) == 1


# -- malformed answers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("body,content_type", [
    ("<html><body>Session expired</body></html>", "text/html"),
    ("null", "text/plain"),
])
def test_html_or_null_answer_means_session_lost_and_is_recovered(hook, sandbox_client, body, content_type):
    hook.login()
    sandbox_client.add_fault(vendor="ameyo", status=200, body=body, content_type=content_type)
    assert len(hook.get_leads_for_campaign(1)) == 4
    assert sandbox_client.stats()["logins"]["ameyo"] == 2


@pytest.mark.parametrize("body,content_type,match", [
    ('{"beanResponse":[{"customerId":1', "application/json", "unparseable text"),
    ('<?xml version="1.0"?><result/>', "application/xml", "XML"),
    ('{"unexpected":"shape"}', "application/json", "expected a list of records"),
])
def test_unreadable_answers_are_response_errors(hook, sandbox_client, body, content_type, match):
    hook.login()
    sandbox_client.add_fault(vendor="ameyo", status=200, body=body, content_type=content_type)
    with pytest.raises(DialerResponseError, match=match):
        hook.get_contacts(1)


def test_html_answer_to_login_is_a_response_error(hook, sandbox_client):
    sandbox_client.add_fault(
        vendor="ameyo", status=200, body="<html>maintenance</html>", content_type="text/html"
    )
    with pytest.raises(DialerResponseError, match="HTML page"):
        hook.login()


def test_ping_answer_without_alive_is_a_response_error(hook, sandbox_client):
    hook.login()
    sandbox_client.add_fault(vendor="ameyo", status=200, body='{"serverTime":1}')
    with pytest.raises(DialerResponseError, match="alive"):
        hook.ping_session()


# -- the documented error bodies -----------------------------------------------------------------------------


@pytest.mark.parametrize("body", [
    '{"status":"error","reason":"Invalid session Id: d547-54f428e8-ses-CustomerManager-3207-2",'
    '"details":"Invalid session Id: d547-54f428e8-ses-CustomerManager-3207-2"}',
    '{"message":"Invalid session Id: d547-54f428e8-ses-CustomerManager-3207-1","type":"ProcessingException",'
    '"isPopulated":true}',
    '{"result":"Failed.","comment":["LogoutRemoterProcessorHelper.invalid.sessionid\\\\",'
    '"d865-54eabe17-ses-CustomerManager-9839-9\\\\"]}',
    "null",
    "<!DOCTYPE html><html><body>login</body></html>",
])
def test_documented_invalid_session_bodies_are_recognised(body):
    assert is_invalid_session_body(body)


@pytest.mark.parametrize("body", [
    '{"result":"Failed.","comment":["CustomerManager.lead.not.in.camp.11",2,1]}',
    '{"beanResponse":[{"customerData":{"note":"Invalid session Id: said the customer"}}],'
    '"result":"Success."}',
    "{}",
    "",
])
def test_other_bodies_are_not_invalid_session(body):
    assert not is_invalid_session_body(body)


def test_vendor_error_shapes():
    lead_error = {"result": "Failed.", "comment": ["CustomerManager.lead.not.in.camp.11\\", 2, 1]}
    assert vendor_error(lead_error) == (
        "CustomerManager.lead.not.in.camp.11", "CustomerManager.lead.not.in.camp.11: 2, 1")
    assert vendor_error({"status": "error", "reason": "boom"}) == (None, "boom")
    assert vendor_error({"message": "m", "type": "ProcessingException"}) == ("ProcessingException", "m")
    assert vendor_error({"result": "Success.", "beanResponse": []}) is None
    assert vendor_error([]) is None


def test_session_timed_out_by_server_inactivity_is_recovered(hook, sandbox_client):
    sandbox_client.configure(ameyo_session_timeout=0.3)  # the server drops sessions idle for 0.3 s
    hook.login()
    credential, _ = hook.auth.current()
    # The hook would renew proactively; pretend the server dropped it earlier than it advertised.
    hook.auth._credential = replace(credential, expires_at=time.monotonic() + 3600)
    time.sleep(0.5)  # idle past the server's timeout (a wait, not a timing assertion)
    seq = last_seq(sandbox_client)
    assert hook.get_leads_for_campaign(1)
    assert hook.login_count == 2
    # the call with the dead session, the re-login, the call again
    assert len(log_since(sandbox_client, seq)) == 3


# -- the command form (encoded once; the session id added without re-encoding) ---------------------------


@pytest.mark.parametrize("text", ['{"a":"b c","n":[1,2]}', "plain", "é ü/?&=+%", "~-_.!*'()", ""])
def test_form_quote_encodes_as_quote_plus_does(text):
    from urllib.parse import quote_plus

    from airflow_provider_dialers.hooks.ameyo import form_quote

    assert form_quote(text) == quote_plus(text)


@pytest.mark.parametrize("data", [{}, {"campaignId": 1, "name": "Zoë & co"}])
def test_the_session_id_is_added_to_the_encoded_command_data(data):
    from urllib.parse import parse_qsl

    import requests

    from airflow_provider_dialers.hooks.ameyo import AmeyoSessionAuth, command_form
    from airflow_provider_dialers.hooks.base import Credential

    request = requests.Request("POST", "http://x/ameyowebaccess/command", data=command_form("getX", data)).prepare()
    AmeyoSessionAuth.apply(object.__new__(AmeyoSessionAuth), request, Credential("s-1"))
    form = dict(parse_qsl(request.body.decode()))
    assert form["command"] == "getX"
    assert json.loads(form["data"]) == {**data, "sessionId": "s-1"}
    assert request.headers["Content-Length"] == str(len(request.body))
