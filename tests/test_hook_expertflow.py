"""ExpertflowEcmHook over real HTTP against the sandbox: every method, auth lifecycle, retries, errors."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from airflow_provider_dialers.hooks.base import (
    DialerAuthError,
    DialerError,
    DialerNotSupportedError,
    DialerRequestError,
    DialerResponseError,
    DialerTransientError,
    redact,
)
from airflow_provider_dialers.hooks.expertflow import (
    Channel,
    EcmBearerAuth,
    EcmPreferenceSettings,
    ExpertflowEcmHook,
    RequestState,
)
from airflow_provider_dialers.sandbox.core import DEFAULT_CREDENTIALS
from tests.support import FAST

HOOK_CLASS = ExpertflowEcmHook  # the ``hook`` fixture (conftest.py), on expertflow_ecm_default
PASSWORD = DEFAULT_CREDENTIALS["expertflow"]["password"]
WELCOME, SALES, COLLECTIONS = 1, 2, 3  # seeded campaigns: running, paused, disabled
DEFAULT_STRATEGY, SINGLE_STRATEGY = 1, 2
DNC_LISTED_PHONE = "03001234567"  # a seeded Welcome contact whose number is on the seeded DNC list


def make_hook(conn_id: str = "expertflow_ecm_default") -> ExpertflowEcmHook:
    return ExpertflowEcmHook(conn_id, retry_policy=FAST)


@pytest.fixture
def hook_132(sandbox) -> Iterator[ExpertflowEcmHook]:
    with make_hook("expertflow_ecm_132") as ecm_hook:
        yield ecm_hook


def requests_to(client, path: str, method: str | None = None) -> list[dict]:
    return [r for r in client.requests(vendor="expertflow", path=path) if method in (None, r["method"])]


def new_campaign(hook: ExpertflowEcmHook, **overrides: Any) -> dict[str, Any]:
    fields = {"name": "Renewals", "cisco_campaign_id": "5001", "strategy_id": DEFAULT_STRATEGY,
              "start_time": "08:00", "end_time": "20:00", "week_days": [1, 2, 3, 4, 5]}
    return hook.create_ecm_campaign(**{**fields, **overrides})


def contact_with(hook: ExpertflowEcmHook, phone1: str) -> dict[str, Any]:
    return hook.get_callbacks(phone1=phone1)["callbackData"][0]


def reset_after_processing(client, path: str) -> None:
    """The next matching request is processed, then its connection is reset before the answer."""
    client.add_fault(vendor="expertflow", path=path, action="reset", after_processing=True)


def states(hook: ExpertflowEcmHook, campaign_id: int) -> dict[int, int]:
    """requestState -> number of contacts, read through getList."""
    found: dict[int, int] = {}
    for callback in hook.iter_callbacks(campaign_id, page_size=2):
        found[callback["requestState"]] = found.get(callback["requestState"], 0) + 1
    return found


class _ScriptedRng(random.Random):
    """Every call fails with one call result: makes the retry path deterministic to assert on."""

    def __init__(self, call_result: int) -> None:
        super().__init__(0)
        self.call_result = call_result

    def random(self) -> float:
        return 0.99  # above the connect probability: not connected

    def choice(self, seq: Any) -> Any:
        return self.call_result


# -- auth lifecycle ------------------------------------------------------------------------------


def test_one_login_serves_many_calls(hook, sandbox_client):
    hook.get_campaigns()
    hook.list_strategies()
    hook.list_dnc_contacts()
    hook.count_callbacks(WELCOME)
    assert hook.login_count == 1
    assert sandbox_client.stats()["logins"]["expertflow"] == 1
    logins = requests_to(sandbox_client, "/umm/api/login")
    assert [(r["method"], r["status"]) for r in logins] == [("GET", 200)]  # GET with a body, as documented


def test_login_details_carry_license_and_no_token(hook, sandbox_client):
    details = hook.get_login_details()
    assert details["license"] == "valid" and details["userDetails"]["username"] == "admin"
    assert not {"token", "refresh_token", "expires_in"} & set(details)
    hook.get_login_details()
    assert sandbox_client.stats()["logins"]["expertflow"] == 1  # reuses the login


def test_expired_token_is_renewed_by_exactly_one_login(hook, sandbox_client):
    hook.get_campaigns()
    sandbox_client.expire_credentials("expertflow")
    assert len(hook.get_campaigns()) == 3
    assert hook.login_count == 2
    assert [r["status"] for r in requests_to(sandbox_client, "/umm/ecm/campaign$")] == [200, 401, 200]


def test_token_past_expires_in_is_renewed_before_the_call(hook, sandbox_client, ecm):
    hook.get_campaigns()
    credential = hook.auth._credential
    hook.auth._credential = type(credential)(credential.value, expires_at=0.0)  # its deadline has passed
    hook.get_campaigns()
    assert hook.login_count == 2
    assert 401 not in [r["status"] for r in requests_to(sandbox_client, "/umm/ecm/campaign$")]


def test_token_lifetime_comes_from_expires_in(hook, sandbox_client):
    sandbox_client.configure(ecm_token_ttl=120)
    hook.get_campaigns()
    remaining = hook.auth._credential.expires_at - time.monotonic()
    assert 100 < remaining <= 108  # 120 s minus a margin of a tenth of the lifetime (12 s)


@pytest.mark.parametrize("expires_in", [None, "", "soon", 0, -5, float("nan")])
def test_unknown_or_meaningless_expires_in_means_until_refused(expires_in):
    assert EcmBearerAuth.deadline(expires_in) is None


@pytest.mark.parametrize("expires_in, usable_for", [(5, 4.5), (36000, 35970)])
def test_short_lifetime_keeps_most_of_it_and_long_one_a_30s_margin(expires_in, usable_for):
    before = time.monotonic()
    deadline = EcmBearerAuth.deadline(expires_in)
    assert before + usable_for <= deadline <= time.monotonic() + usable_for


def test_tokens_are_registered_as_secrets(hook, ecm):
    hook.get_campaigns()
    token, refresh_token = hook.auth._credential.value, ecm.refresh_tokens[-1]
    assert redact(f"a {token} b {refresh_token}") == "a *** b ***"


def test_wrong_password_is_an_auth_error_without_secrets(sandbox_client, make_connection):
    conn_id = make_connection("ecm_wrong", "expertflow_ecm", password="wrong-pass-123")
    with pytest.raises(DialerAuthError) as info, make_hook(conn_id) as bad:
        bad.get_campaigns()
    text = str(info.value)
    assert "login refused (HTTP 401)" in text and "ecm_wrong" in text
    assert "wrong-pass-123" not in text and PASSWORD not in text
    assert sandbox_client.stats()["failed_logins"]["expertflow"] == 1
    assert len(requests_to(sandbox_client, "/umm/api/login")) == 1  # a refused login is not retried


def test_missing_password_fails_before_any_request(sandbox_client, make_connection):
    conn_id = make_connection("ecm_nopass", "expertflow_ecm", password="")
    with pytest.raises(DialerAuthError, match="needs a login and a password"), make_hook(conn_id) as bad:
        bad.get_campaigns()
    assert requests_to(sandbox_client, "/umm/") == []


def test_fresh_token_refused_again_fails_clearly(hook, sandbox_client):
    sandbox_client.add_fault(vendor="expertflow", path="/umm/ecm/campaign$", status=401, count=None,
                             body='{"status":401,"error":"Unauthorized","message":"Invalid token"}')
    with pytest.raises(DialerAuthError, match="rejected a freshly obtained credential"):
        hook.get_campaigns()
    assert hook.login_count == 1 + hook.auth.max_renewals  # bounded: logins succeed, calls never do


def test_a_token_that_expires_in_flight_right_after_its_login_is_renewed_again(hook, sandbox_client):
    """Short token lifetimes under load: a fresh token may already be refused when its call lands;
    while logins succeed, the call is tried with another fresh one (bounded)."""
    sandbox_client.add_fault(vendor="expertflow", path="/umm/ecm/campaign$", status=401, count=2,
                             body='{"status":401,"error":"Unauthorized","message":"Token expired"}')
    assert len(hook.get_campaigns()) == 3
    assert hook.login_count == 3


def test_login_retried_through_503(hook, sandbox_client):
    sandbox_client.add_fault(vendor="expertflow", path="/umm/api/login", status=503, count=2)
    assert len(hook.get_campaigns()) == 3
    assert [r["status"] for r in requests_to(sandbox_client, "/umm/api/login")] == [503, 503, 200]


@pytest.mark.parametrize(
    "body, content_type, message",
    [
        ('{"license": "valid", "valid": true}', "application/json", "holds no token"),
        ('{"token": "abc-123-xyz", "token_type": "MAC"}', "application/json", "unsupported token_type"),
        ("<html><body>Login</body></html>", "text/html", "HTML page"),
    ],
)
def test_unusable_login_answer_is_a_response_error(hook, sandbox_client, body, content_type, message):
    sandbox_client.add_fault(vendor="expertflow", path="/umm/api/login", status=200, body=body,
                             content_type=content_type)
    with pytest.raises(DialerResponseError, match=message):
        hook.get_campaigns()


def test_test_connection_ok_wrong_password_and_unreachable(sandbox, make_connection):
    ok, message = make_hook().test_connection()
    assert ok and "3 campaigns (ECM release 13.3)" in message
    wrong_password = make_connection("ecm_bad", "expertflow_ecm", password="wrong-pass-123")
    ok, message = make_hook(wrong_password).test_connection()
    assert not ok and message.startswith("Authentication failed") and "login refused" in message
    assert "wrong-pass-123" not in message and PASSWORD not in message
    unreachable = make_connection("ecm_down", "expertflow_ecm", host="http://127.0.0.1:9")
    ok, message = make_hook(unreachable).test_connection()
    assert not ok and "unreachable" in message


def test_constructing_the_hook_touches_nothing():
    ecm_hook = ExpertflowEcmHook("no_such_connection")
    assert ecm_hook._conn is None and ecm_hook._session is None and ecm_hook._auth is None
    assert ExpertflowEcmHook().conn_id == "expertflow_ecm_default"


def test_unknown_api_version_is_refused(sandbox, make_connection):
    conn_id = make_connection("ecm_v14", "expertflow_ecm", extra={"api_version": "14.0"})
    with pytest.raises(DialerError, match="supported releases are 13.2, 13.3"):
        make_hook(conn_id).pause_campaign(WELCOME)


# -- campaigns -------------------------------------------------------------------------------------


def test_list_and_find_campaigns(hook):
    campaigns = hook.get_campaigns()
    assert [c["name"] for c in campaigns] == ["Welcome IVR", "Sales Agent", "Collections"]
    welcome = campaigns[0]
    assert welcome["status"] == "1" and welcome["startTime"] == welcome["startTIme"]
    assert welcome["weekDays"] == welcome["weekdays"]
    assert hook.get_campaign(crm_campaign_id="crm_sales")["id"] == "2"
    assert hook.get_campaign(SALES)["name"] == "Sales Agent"
    assert hook.get_campaign(99) is None


def test_get_cisco_campaigns(hook):
    cisco = hook.get_cisco_campaigns()
    assert [c["ciscoCampaignId"] for c in cisco] == ["5001", "5002", "5003"]
    assert cisco[0]["ciscoCampaignName"] == "IVR_based"


def test_create_campaign_answers_201_on_13_3(hook, sandbox_client, ecm):
    campaign = new_campaign(hook, crm_campaign_id="crm_renewals", description="Q3", sms_template="Hi")
    assert campaign["name"] == "Renewals" and campaign["ciscoCampaignName"] == "IVR_based"
    assert campaign["weekDays"] == "1,2,3,4,5" and campaign["startTime"] == "08:00"
    assert requests_to(sandbox_client, "createCampaign")[-1]["status"] == 201
    assert ecm.campaigns[int(campaign["id"])]["crmCampaignId"] == "crm_renewals"


def test_create_campaign_accepts_200_of_13_2(hook_132, sandbox_client, ecm):
    ecm.release = "13.2"
    campaign = new_campaign(hook_132)
    assert requests_to(sandbox_client, "createCampaign")[-1]["status"] == 200
    assert int(campaign["id"]) in ecm.campaigns


def test_validation_error_carries_vendor_message_and_is_not_retried(hook, sandbox_client, ecm):
    with pytest.raises(DialerRequestError) as info:
        new_campaign(hook, week_days="0,7")
    error = info.value
    assert error.status_code == 400 and error.vendor_code == "Bad Request"
    assert "weekDays" in error.vendor_message and "weekDays" in str(error)
    assert len(requests_to(sandbox_client, "createCampaign")) == 1
    assert len(ecm.campaigns) == 3


def test_create_campaign_with_unknown_strategy_is_not_found(hook):
    with pytest.raises(DialerRequestError, match="Strategy not found with id 99") as info:
        new_campaign(hook, strategy_id=99)
    assert info.value.status_code == 404


def test_create_campaign_by_skill_group(hook, ecm):
    campaign = hook.create_campaign_by_skill_group(
        name="Agent_Camp", skill_group="Sales_SG", strategy_id=SINGLE_STRATEGY, start_time="00:00",
        end_time="23:30", week_days="0,1,2,3,6", dialer_type="PREDICTIVE", crm_campaign_id="1122",
    )
    assert campaign["ciscoCampaignId"] == "5002" and campaign["skillGroup"] == "Sales_SG"
    assert campaign["dialerType"] == "PREDICTIVE" and campaign["type"] == "1"
    assert ecm.campaigns[int(campaign["id"])]["crmCampaignId"] == "1122"
    with pytest.raises(DialerRequestError, match="No Cisco campaign found for skill group Nope_SG"):
        hook.create_campaign_by_skill_group(name="x", skill_group="Nope_SG", strategy_id=1,
                                            start_time="00:00", end_time="01:00", week_days=[0])


def test_update_campaign_by_id_and_by_crm_id(hook, ecm):
    updated = hook.update_campaign({"name": "Welcome IVR v2", "endTime": "21:00"}, WELCOME)
    assert updated["name"] == "Welcome IVR v2" and updated["endTime"] == "21:00"
    hook.update_campaign({"startTime": "07:30"}, crm_campaign_id="crm_sales")
    assert ecm.campaigns[SALES]["startTIme"] == "07:30"
    with pytest.raises(DialerRequestError, match="Campaign not found with id 42") as info:
        hook.update_campaign({"name": "x"}, 42)
    assert info.value.status_code == 404


def test_campaign_must_be_named_exactly_once(hook, sandbox_client):
    with pytest.raises(DialerError, match="exactly one of campaign_id or crm_campaign_id"):
        hook.pause_campaign()
    with pytest.raises(DialerError, match="exactly one"):
        hook.delete_campaign(1, crm_campaign_id="crm_welcome")
    assert requests_to(sandbox_client, "/umm/ecm/") == []


def test_delete_campaign_takes_its_contacts(hook, ecm):
    assert hook.delete_campaign(WELCOME) == "Campaign with id 1 successfully deleted"
    hook.delete_campaign(crm_campaign_id="crm_sales")
    assert list(ecm.campaigns) == [COLLECTIONS]
    assert ecm.callbacks == {}
    with pytest.raises(DialerRequestError, match="Campaign not found"):
        hook.delete_campaign(WELCOME)


def test_pause_and_resume_on_13_3_use_campaign_update_status(hook, sandbox_client, ecm):
    assert hook.pause_campaign(WELCOME) == "Campaign with id 1 successfully paused"
    assert ecm.campaigns[WELCOME]["status"] == "0"
    assert hook.resume_campaign(crm_campaign_id="crm_welcome") == "Campaign with id 1 successfully resumed"
    assert hook.get_campaign(WELCOME)["status"] == "1"
    paths = [r["path"] for r in requests_to(sandbox_client, "/umm/ecm/campaign/")]
    assert paths == ["/umm/ecm/campaign/campaignUpdateStatus"] * 2


def test_pause_and_resume_on_13_2_use_pause_and_resume(hook_132, sandbox_client, ecm):
    hook_132.pause_campaign(WELCOME)
    assert ecm.campaigns[WELCOME]["status"] == "0"
    hook_132.resume_campaign(crm_campaign_id="crm_welcome")
    assert ecm.campaigns[WELCOME]["status"] == "1"
    sent = [(r["path"], r["query"]) for r in requests_to(sandbox_client, "/umm/ecm/campaign/")]
    assert sent == [("/umm/ecm/campaign/pause", "id=1"),
                    ("/umm/ecm/campaign/resume", "crmCampaignId=crm_welcome")]


THIRTEEN_THREE_ONLY: list[tuple[str, Callable[[ExpertflowEcmHook], Any]]] = [
    ("contact/update", lambda h: h.update_dnc_contact(1, name="x")),
    ("callStrategy/updateName", lambda h: h.update_strategy_name(1, "x")),
    ("callStrategy/delete", lambda h: h.delete_strategy(1)),
    ("Get Strategy Attempts", lambda h: h.get_strategy_attempts(1)),
    ("callStrategyAttempt/update", lambda h: h.update_strategy_attempt(1, 1, name="x")),
    ("callStrategyAttempt/delete", lambda h: h.delete_strategy_attempt(1)),
    ("callStrategyAttempt/updateOrder", lambda h: h.update_attempt_order({1: 1})),
    ("preferenceSettings", lambda h: h.get_preference_settings()),
    ("preferenceSettings/save", lambda h: h.save_preference_settings(EcmPreferenceSettings())),
    ("preferenceSettings/update", lambda h: h.update_preference_settings(1, EcmPreferenceSettings())),
    ("preferenceSettings/delete", lambda h: h.delete_preference_settings(1)),
]


@pytest.mark.parametrize("endpoint, call", THIRTEEN_THREE_ONLY, ids=[e for e, _ in THIRTEEN_THREE_ONLY])
def test_13_3_only_endpoints_are_not_supported_on_13_2(hook_132, sandbox_client, endpoint, call):
    with pytest.raises(DialerNotSupportedError) as info:
        call(hook_132)
    assert endpoint in str(info.value) and "release 13.2" in str(info.value) and "13.3" in str(info.value)
    assert requests_to(sandbox_client, "/umm/") == []


# -- DNC -------------------------------------------------------------------------------------------


def test_dnc_list_add_update_delete(hook, sandbox_client, ecm):
    assert [c["primaryNumber"] for c in hook.list_dnc_contacts()] == [DNC_LISTED_PHONE, "+15550999999"]
    added = hook.add_dnc_contact("+15551230000", name="Eve")
    assert added["primaryNumber"] == "+15551230000" and added["name"] == "Eve"
    updated = hook.update_dnc_contact(added["id"], name="Eve Adams")
    assert updated["name"] == "Eve Adams" and ecm.dnc[added["id"]]["primaryNumber"] == "+15551230000"
    assert hook.delete_dnc_contact(added["id"]) == ""  # 13.3: 204 No Content
    assert requests_to(sandbox_client, "contact/delete")[-1]["status"] == 204
    assert added["id"] not in ecm.dnc
    with pytest.raises(DialerRequestError, match="DNC contact not found") as info:
        hook.delete_dnc_contact(added["id"])
    assert info.value.status_code == 404


def test_dnc_delete_on_13_2_answers_200_with_text(hook_132, sandbox_client, ecm):
    ecm.release = "13.2"
    assert hook_132.delete_dnc_contact(1) == "Contact deleted"
    assert requests_to(sandbox_client, "contact/delete")[-1]["status"] == 200


def test_dnc_add_without_number_is_refused(hook):
    with pytest.raises(DialerRequestError, match="primaryNumber is required"):
        hook.add_dnc_contact("")


def test_upload_dnc_csv_from_rows_and_from_text(hook, ecm):
    assert hook.upload_dnc_csv([("+15557770001", "Ann"), "+15557770002"]) == "File is uploading."
    hook.upload_dnc_csv("+15557770003,Bo\n+15557770004,\n")
    numbers = {entry["primaryNumber"]: entry["name"] for entry in ecm.dnc.values()}
    assert numbers["+15557770001"] == "Ann" and numbers["+15557770002"] is None
    assert numbers["+15557770003"] == "Bo" and "+15557770004" in numbers
    with pytest.raises(DialerRequestError, match="no contacts"):
        hook.upload_dnc_csv("")


# -- campaign contacts -----------------------------------------------------------------------------


def test_insert_callback_with_every_field(hook, ecm):
    when = datetime(2030, 1, 2, 9, 30, 0)
    status = hook.insert_callback("+15554440001", campaign_id=SALES, other_phones=["+15554440002", "5555"],
                                  duplicate_callbacks="allow", dial_time=when,
                                  business_params={1: "ACC-9", 12: "x" * 255})
    assert status == "callback data saved"
    contact = list(ecm.callbacks.values())[-1]
    assert contact["campaignId"] == SALES and contact["requestState"] == RequestState.PENDING
    assert (contact["phone2"], contact["phone3"], contact["phone4"]) == ("+15554440002", "5555", None)
    assert contact["dialTime"] == "2030-01-02 09:30:00"
    assert contact["businessParam1"] == "ACC-9" and len(contact["businessParam12"]) == 255


def test_insert_callback_by_crm_id_with_positional_business_params(hook, ecm):
    hook.insert_callback("+15554440003", crm_campaign_id="crm_sales", business_params=["a", None, "c"])
    contact = list(ecm.callbacks.values())[-1]
    assert contact["campaignId"] == SALES
    assert [contact[f"businessParam{n}"] for n in (1, 2, 3)] == ["a", None, "c"]


def test_duplicate_pending_contact_is_discarded_or_allowed(hook, ecm):
    before = len(ecm.callbacks)
    assert hook.insert_callback("+15550100101", campaign_id=WELCOME) == "duplicate callback discarded"
    assert len(ecm.callbacks) == before
    status = hook.insert_callback("+15550100101", campaign_id=WELCOME, duplicate_callbacks="allow")
    assert status == "callback data saved"
    assert len(ecm.callbacks) == before + 1


def test_insert_callback_on_13_2_answers_plain_text(hook_132, ecm):
    ecm.release = "13.2"
    assert hook_132.insert_callback("+15554440009", campaign_id=WELCOME) == "callback data saved"


@pytest.mark.parametrize(
    "kwargs, status, message",
    [
        ({"phone1": "123"}, 400, "phone1 must have 4 to 15 characters"),
        ({"phone1": "+12345678901234x"}, 400, "phone1 must have 4 to 15 characters"),
        ({"phone1": "+1234", "other_phones": ["12"]}, 400, "phone2 must have 4 to 15"),
        ({"phone1": "+1234", "business_params": ["y" * 256]}, 400, "businessParam1 is longer than 255"),
        ({"phone1": "+1234", "dial_time": "tomorrow"}, 400, "dialTime must be formatted"),
        ({"phone1": "+1234", "campaign_id": 77}, 404, "Campaign not found with id 77"),
        ({"phone1": "+1234", "campaign_id": None, "crm_campaign_id": "nope"}, 404, "crmCampaignId nope"),
    ],
)
def test_insert_callback_validation(hook, sandbox_client, ecm, kwargs, status, message):
    before = len(ecm.callbacks)
    with pytest.raises(DialerRequestError, match=message) as info:
        hook.insert_callback(**{"campaign_id": WELCOME, "duplicate_callbacks": "allow", **kwargs})
    assert info.value.status_code == status
    assert len(ecm.callbacks) == before
    assert len(requests_to(sandbox_client, "insertCallback")) == 1


def test_insert_callback_refuses_bad_arguments_before_sending(hook, sandbox_client):
    with pytest.raises(DialerError, match="'allow' or 'discard'"):
        hook.insert_callback("+1234", campaign_id=WELCOME,
                             duplicate_callbacks="maybe")  # type: ignore[arg-type]
    with pytest.raises(DialerError, match="at most 5 phones"):
        hook.insert_callback("+1234", campaign_id=WELCOME, other_phones=["5555"] * 5)
    with pytest.raises(DialerError, match="numbered 1..12, not 13"):
        hook.insert_callback("+1234", campaign_id=WELCOME, business_params={13: "x"})
    assert requests_to(sandbox_client, "/umm/ecm/") == []


def test_upload_bulk_callers_sends_a_get_with_a_multipart_file(hook, sandbox_client, ecm):
    contacts = [
        {"phone1": "+15556660001", "businessParam1": "A-1", "dialTime": datetime(2030, 5, 6, 7, 8, 9)},
        {"phone1": "+15556660002", "phone5": "+15556669999", "businessParam12": "Z"},
    ]
    assert hook.upload_bulk_callers(contacts, SALES) == "File is uploaded"
    assert requests_to(sandbox_client, "uploadBulkCaller")[-1]["method"] == "GET"
    added = [c for c in ecm.callbacks.values() if c["phone1"].startswith("+1555666")]
    assert [(c["campaignId"], c["businessParam1"], c["dialTime"]) for c in added] == [
        (SALES, "A-1", "2030-05-06 07:08:09"), (SALES, None, None)]
    assert added[1]["phone5"] == "+15556669999" and added[1]["businessParam12"] == "Z"
    hook.upload_bulk_callers("+15556660003,,,,,B-3\n", crm_campaign_id="crm_sales")
    assert list(ecm.callbacks.values())[-1]["businessParam1"] == "B-3"


def test_upload_bulk_callers_with_a_bad_row_adds_nothing(hook, ecm):
    before = len(ecm.callbacks)
    with pytest.raises(DialerRequestError, match="line 2: phone1 must have 4 to 15 characters"):
        hook.upload_bulk_callers([{"phone1": "+15556660001"}, {"phone1": "12"}], WELCOME)
    assert len(ecm.callbacks) == before
    with pytest.raises(DialerError, match=r"unknown fields \['phone_1'\]"):
        hook.upload_bulk_callers([{"phone_1": "+15556660001"}], WELCOME)


def test_get_callbacks_pages_filters_and_totals(hook, sandbox_client):
    first = hook.get_callbacks(WELCOME, page=0, max_results=2)
    second = hook.get_callbacks(WELCOME, page=1, max_results=2)
    assert first["total"] == second["total"] == 5
    assert [c["id"] for c in first["callbackData"]] == [1, 2]
    assert [c["id"] for c in second["callbackData"]] == [3, 4]
    assert hook.get_callbacks(phone1="+15550100103")["callbackData"][0]["id"] == 3
    assert hook.get_callbacks(phone2="+15550200104")["callbackData"][0]["id"] == 4
    assert hook.get_callbacks(number_to_call="+15550100102")["total"] == 1
    assert hook.get_callbacks(SALES, request_status=RequestState.PENDING)["total"] == 3
    assert hook.get_callbacks(request_status=RequestState.ALL)["total"] == 8
    assert "requestStatus=0" in requests_to(sandbox_client, "getList")[-2]["query"]


def test_count_callbacks_reads_total_with_max_1(hook, sandbox_client):
    assert hook.count_callbacks(WELCOME, request_status=RequestState.PENDING) == 5
    assert hook.count_callbacks(request_status=RequestState.CONNECTED) == 0
    assert hook.count_callbacks() == 8
    assert all("max=1" in r["query"] for r in requests_to(sandbox_client, "getList"))


def test_iter_callbacks_walks_every_page(hook, sandbox_client):
    assert [c["id"] for c in hook.iter_callbacks(page_size=3)] == list(range(1, 9))
    assert len(requests_to(sandbox_client, "getList")) == 3
    assert list(hook.iter_callbacks(COLLECTIONS)) == []


# -- strategies and attempts -----------------------------------------------------------------------


def test_strategies_list_create_rename_delete(hook, ecm):
    strategies = hook.list_strategies()
    assert [s["name"] for s in strategies] == ["default", "single attempt"]
    assert [a["attemptNumber"] for a in strategies[0]["callAttempts"]] == [1, 2, 3]
    created = hook.create_strategy("Evening")
    assert created == {"id": 3, "name": "Evening"}
    assert hook.update_strategy_name(created["id"], "Late evening") == "Success"
    assert ecm.strategies[3]["name"] == "Late evening"
    assert hook.delete_strategy(created["id"]) == "Success"
    assert 3 not in ecm.strategies
    with pytest.raises(DialerRequestError, match="used by campaign"):
        hook.delete_strategy(DEFAULT_STRATEGY)


def test_strategy_attempts_create_read_update_reorder_delete(hook, ecm):
    strategy_id = hook.create_strategy("Two step")["id"]
    first = hook.create_strategy_attempt(strategy_id, name="Call", phone=1, attempt_number=1,
                                         retry_map=[{"call_result": 2, "attempt_number": 2, "delay": 10}])
    second = hook.create_strategy_attempt(strategy_id, name="Text", phone=2, attempt_number=2,
                                          channel=Channel.SMS)
    assert first["csId"] == strategy_id and first["phone"] == "1" and first["retryMap"][0]["call_result"] == 2
    assert second["channel"] == 1
    assert [a["id"] for a in hook.get_strategy_attempts(strategy_id)] == [first["id"], second["id"]]
    assert len(ecm.attempts) == 6  # the read did not create anything

    updated = hook.update_strategy_attempt(second["id"], strategy_id, name="SMS reminder", phone=3)
    assert (updated["name"], updated["phone"], updated["csAttempt"]) == ("SMS reminder", "3", second["id"])
    assert hook.update_attempt_order({second["id"]: 1, first["id"]: 2}) == "Success"
    assert [a["id"] for a in hook.get_strategy_attempts(strategy_id)] == [second["id"], first["id"]]
    assert hook.delete_strategy_attempt(first["id"]) == "Success"
    assert first["id"] not in ecm.attempts
    with pytest.raises(DialerRequestError, match="Strategy attempt not found"):
        hook.update_attempt_order({first["id"]: 1})


def test_create_attempt_validation(hook):
    with pytest.raises(DialerRequestError, match="phone must be 1 to 5"):
        hook.create_strategy_attempt(DEFAULT_STRATEGY, name="x", phone=6, attempt_number=4)
    with pytest.raises(DialerRequestError, match="Strategy not found with id 50"):
        hook.create_strategy_attempt(50, name="x", phone=1, attempt_number=1)


# -- preference settings ---------------------------------------------------------------------------


def test_preference_settings_get_save_update_delete(hook, ecm):
    stored_password = f"db-{uuid.uuid4().hex}"
    ecm.preferences[1]["password"] = stored_password
    settings = hook.get_preference_settings()
    assert settings["campaignBatchSize"] == 22 and settings["Domain"] == "ECMDOMAIN"
    assert redact(stored_password) == "***"  # a password in an answer is a secret

    sent_password = f"db-{uuid.uuid4().hex}"
    saved = hook.save_preference_settings(EcmPreferenceSettings(file_path="/in", db_username="u",
                                                                db_password=sent_password, db_domain="D"))
    assert saved["campaignBatchSize"] == 10 and saved["ivrBatchSize"] == 10  # documented defaults
    assert redact(sent_password) == "***"
    assert sent_password not in repr(EcmPreferenceSettings(db_password=sent_password))

    updated = hook.update_preference_settings(saved["id"], EcmPreferenceSettings(ivr_batch_size=40))
    assert updated["ivrBatchSize"] == 40 and updated["filePath"] == "/in"
    assert hook.delete_preference_settings(saved["id"]) == "Success"
    hook.delete_preference_settings(1)
    with pytest.raises(DialerRequestError, match="No preference settings saved") as info:
        hook.get_preference_settings()
    assert info.value.status_code == 404


def test_preference_batch_size_must_be_positive(hook):
    with pytest.raises(DialerRequestError, match="campaignBatchSize must be a positive integer"):
        hook.save_preference_settings(EcmPreferenceSettings(campaign_batch_size=0))


# -- dialing simulation ------------------------------------------------------------------------------


def test_running_campaign_completes_and_paused_one_waits(hook, sandbox_client):
    sandbox_client.advance(vendor="expertflow")
    welcome = states(hook, WELCOME)
    assert not set(welcome) & {RequestState.PENDING, RequestState.SENT_TO_DIALER, RequestState.NOT_CONNECTED}
    assert sum(welcome.values()) == 5 and welcome[RequestState.DNC_LISTED] == 1
    assert hook.count_callbacks(SALES, request_status=RequestState.PENDING) == 3  # paused: not dialed

    hook.resume_campaign(SALES)
    sandbox_client.advance(vendor="expertflow")
    assert hook.count_callbacks(SALES, request_status=RequestState.PENDING) == 0
    assert set(states(hook, SALES)) <= {RequestState.CONNECTED, RequestState.RETRIES_COMPLETED}


def test_each_move_is_one_observable_step(hook, sandbox_client):
    assert sandbox_client.advance(contacts=1, vendor="expertflow") == {"expertflow": 1}
    assert hook.count_callbacks(WELCOME, request_status=RequestState.SENT_TO_DIALER) == 1
    assert hook.get_callbacks(WELCOME, max_results=1)["callbackData"][0]["attemptNumber"] == 1


def test_simulation_is_deterministic(sandbox, hook, sandbox_client):
    def outcomes(ecm_hook: ExpertflowEcmHook) -> list[tuple[int, int, int]]:
        contacts = ecm_hook.iter_callbacks(WELCOME)
        return [(c["requestState"], c["callResult"], c["attemptNumber"]) for c in contacts]

    sandbox_client.advance(vendor="expertflow")
    first = outcomes(hook)
    sandbox_client.reset()
    sandbox_client.advance(vendor="expertflow")
    with make_hook() as again:
        assert outcomes(again) == first


def test_unanswered_contact_follows_the_strategy_then_completes(hook, sandbox_client, ecm):
    ecm.rng = _ScriptedRng(call_result=2)  # every call: no answer
    hook.resume_campaign(SALES)
    sandbox_client.advance(vendor="expertflow")
    contact = contact_with(hook, "+15550100101")  # default strategy: 3 attempts
    assert contact["requestState"] == RequestState.RETRIES_COMPLETED and contact["attemptNumber"] == 3
    assert contact["numberToCall"] == contact["phone2"]  # the third attempt dials phone 2
    single = hook.get_callbacks(SALES, max_results=1)["callbackData"][0]  # single-attempt strategy
    assert single["requestState"] == RequestState.RETRIES_COMPLETED and single["attemptNumber"] == 1


def test_call_result_without_a_retry_rule_completes_at_once(hook, sandbox_client, ecm):
    ecm.rng = _ScriptedRng(call_result=3)  # customer abandoned: no retryMap entry
    sandbox_client.advance(vendor="expertflow")
    contact = contact_with(hook, "+15550100101")
    assert contact["requestState"] == RequestState.RETRIES_COMPLETED and contact["attemptNumber"] == 1


def test_contact_waits_for_its_dial_time(hook, sandbox_client):
    hook.insert_callback("+15558880001", campaign_id=WELCOME, dial_time=datetime.now() + timedelta(days=1))
    hook.insert_callback("+15558880002", campaign_id=WELCOME, dial_time=datetime.now() - timedelta(minutes=1))
    sandbox_client.advance(vendor="expertflow")
    assert contact_with(hook, "+15558880001")["requestState"] == RequestState.PENDING
    assert contact_with(hook, "+15558880002")["requestState"] != RequestState.PENDING


def test_sms_attempt_closes_the_contact(hook, sandbox_client):
    strategy_id = hook.create_strategy("SMS only")["id"]
    hook.create_strategy_attempt(strategy_id, name="Text", phone=1, attempt_number=1, channel=Channel.SMS)
    campaign = new_campaign(hook, strategy_id=strategy_id)
    hook.insert_callback("+15559990001", campaign_id=int(campaign["id"]))
    sandbox_client.advance(vendor="expertflow")
    assert hook.count_callbacks(int(campaign["id"]), request_status=RequestState.SMS_SENT_AND_CLOSED) == 1


def test_disabled_campaign_does_not_dial(hook, sandbox_client):
    hook.insert_callback("+15551110001", campaign_id=COLLECTIONS)
    sandbox_client.advance(vendor="expertflow")
    assert hook.count_callbacks(COLLECTIONS, request_status=RequestState.PENDING) == 1


# -- retries and transport errors --------------------------------------------------------------------


def test_503s_are_retried_then_succeed(hook, sandbox_client):
    sandbox_client.add_fault(vendor="expertflow", path="/umm/ecm/campaign$", status=503, count=2)
    assert len(hook.get_campaigns()) == 3
    assert [r["status"] for r in requests_to(sandbox_client, "/umm/ecm/campaign$")] == [503, 503, 200]


def test_connection_reset_on_a_read_is_recovered(hook, sandbox_client):
    hook.get_campaigns()
    sandbox_client.add_fault(vendor="expertflow", path="getList", action="reset")
    assert hook.count_callbacks(WELCOME) == 5
    assert len(requests_to(sandbox_client, "getList")) == 2


def test_reset_after_processing_a_create_is_not_resent(hook, sandbox_client, ecm):
    hook.get_campaigns()
    reset_after_processing(sandbox_client, "createCampaign")
    with pytest.raises(DialerTransientError, match="may have processed") as info:
        new_campaign(hook)
    assert info.value.may_have_been_processed is True
    assert len(requests_to(sandbox_client, "createCampaign")) == 1
    assert [c["name"] for c in ecm.campaigns.values()].count("Renewals") == 1  # processed exactly once


def test_reset_after_processing_an_allow_insert_is_not_resent(hook, sandbox_client, ecm):
    hook.get_campaigns()
    before = len(ecm.callbacks)
    reset_after_processing(sandbox_client, "insertCallback")
    with pytest.raises(DialerTransientError) as info:
        hook.insert_callback("+15552220001", campaign_id=WELCOME, duplicate_callbacks="allow")
    assert info.value.may_have_been_processed is True
    assert len(requests_to(sandbox_client, "insertCallback")) == 1
    assert len(ecm.callbacks) == before + 1


def test_reset_after_processing_a_discard_insert_is_resent_and_deduplicated(hook, sandbox_client, ecm):
    hook.get_campaigns()
    before = len(ecm.callbacks)
    reset_after_processing(sandbox_client, "insertCallback")
    assert hook.insert_callback("+15552220002", campaign_id=WELCOME) == "duplicate callback discarded"
    assert len(requests_to(sandbox_client, "insertCallback")) == 2
    assert len(ecm.callbacks) == before + 1  # the contact is in the campaign once


def test_reset_after_processing_an_update_is_resent(hook, sandbox_client, ecm):
    hook.get_campaigns()
    reset_after_processing(sandbox_client, "campaignUpdateStatus")
    assert hook.pause_campaign(WELCOME) == "Campaign with id 1 successfully paused"
    assert len(requests_to(sandbox_client, "campaignUpdateStatus")) == 2
    assert ecm.campaigns[WELCOME]["status"] == "0"


# -- malformed answers -------------------------------------------------------------------------------

MALFORMED = [
    ("<html><body>502 Bad Gateway</body></html>", "text/html", "an HTML page"),
    ("null", "application/json", "the literal null"),
    ('{"callbackData": [{"id": 1', "application/json", "unparseable text"),
    ('{"total": 3}', "application/json", "expected callbackData and total"),
    ('[{"id": 1}]', "application/json", "expected a JSON object"),
]


@pytest.mark.parametrize("body, content_type, message", MALFORMED,
                         ids=["html", "null", "truncated", "no-data", "array"])
def test_malformed_callback_list_is_a_response_error(hook, sandbox_client, body, content_type, message):
    hook.get_campaigns()
    sandbox_client.add_fault(vendor="expertflow", path="getList", status=200, body=body,
                             content_type=content_type)
    with pytest.raises(DialerResponseError, match=message):
        hook.count_callbacks(WELCOME)


@pytest.mark.parametrize("body", ["<html><body>Login</body></html>", "null", "[1]", '{"statusString": "ok'])
def test_malformed_confirmation_is_a_response_error(hook, sandbox_client, body):
    hook.get_campaigns()
    sandbox_client.add_fault(vendor="expertflow", path="campaignUpdateStatus", status=200, body=body,
                             content_type="text/html")
    with pytest.raises(DialerResponseError, match="campaignUpdateStatus"):
        hook.pause_campaign(WELCOME)


def test_object_where_a_list_is_documented_is_a_response_error(hook, sandbox_client):
    hook.get_campaigns()
    sandbox_client.add_fault(vendor="expertflow", path="/umm/ecm/callStrategy$", status=200, body='{"id": 1}')
    with pytest.raises(DialerResponseError, match="expected a JSON array"):
        hook.list_strategies()


def test_error_answer_that_is_not_json_still_fails_clearly(hook, sandbox_client):
    hook.get_campaigns()
    sandbox_client.add_fault(vendor="expertflow", path="/umm/ecm/contact$", status=500,
                             body="<html>Internal error</html>", content_type="text/html")
    with pytest.raises(DialerRequestError, match="HTTP 500") as info:
        hook.list_dnc_contacts()
    assert info.value.status_code == 500 and info.value.vendor_code is None
