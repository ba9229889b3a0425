"""MaxContactHook over real HTTP against the sandbox: every method, auth lifecycle, retries, errors."""

from __future__ import annotations

import base64
import http.server
import json
import threading
import time

import pytest
import requests

from airflow_provider_dialers.common.auth import Credential
from airflow_provider_dialers.errors import DialerConfigurationError
from airflow_provider_dialers.hooks.base import (
    DialerAuthError,
    DialerRequestError,
    DialerResponseError,
    DialerTransientError,
    redact,
)
from airflow_provider_dialers.hooks.maxcontact import CampaignStatus, CampaignType, MaxContactHook
from airflow_provider_dialers.sandbox.core import DEFAULT_CREDENTIALS
from airflow_provider_dialers.sandbox.maxcontact import NEW_CAMPAIGN_LEADS
from airflow_provider_dialers.vendors.maxcontact import auth as maxcontact_auth
from tests.support import FAST

HOOK_CLASS = MaxContactHook  # the ``hook`` fixture (conftest.py)
PASSWORD = DEFAULT_CREDENTIALS["maxcontact"]["password"]
WRONG_PASSWORD = "wrong-pass-123"
CAMPAIGNS = "/webservices/services/management/campaigns"


def logged(sandbox_client, method: str, path: str) -> list[dict]:
    return [r for r in sandbox_client.requests(vendor="maxcontact", path=path) if r["method"] == method]


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# --------------------------------------------------------------------------------------------
# Campaigns
# --------------------------------------------------------------------------------------------


def test_get_campaigns_returns_the_seeded_campaigns(hook):
    campaigns = hook.get_campaigns()
    assert [c["CampaignName"] for c in campaigns] == [
        "Spring Renewals", "Debt Recovery", "Customer Survey IVR", "Callback Sweep", "Winter Promo 2024",
    ]
    assert {c["Status"] for c in campaigns} == {0, 1, 2, 3}


def test_get_campaign_returns_one_campaign(hook):
    campaign = hook.get_campaign(2)
    assert campaign["CampaignName"] == "Debt Recovery"
    assert campaign["Status"] == CampaignStatus.PAUSED
    assert campaign["Type"] == CampaignType.PREDICTIVE


def test_unknown_campaign_is_a_request_error_and_not_retried(hook, sandbox_client):
    with pytest.raises(DialerRequestError) as info:
        hook.get_campaign(99)
    assert info.value.status_code == 400
    assert info.value.vendor_code == "Invalid Parameters"
    assert info.value.vendor_message == "Campaign 99 does not exist"
    assert len(logged(sandbox_client, "GET", f"{CAMPAIGNS}/99$")) == 1


def test_create_campaign(hook, mc):
    created = hook.create_campaign_entity(
        {"CampaignName": "Summer Upsell", "Type": CampaignType.PROGRESSIVE, "MaxLines": 12,
         "NotReadyWaitTime": 4, "Description": "July cross-sell"}
    )
    assert created["Id"] == 6
    assert created["Status"] == CampaignStatus.NOT_RUNNING
    assert created["MaxLines"] == 0  # the reference applies MaxLines to Bridge and IVR only
    assert created["NotReadyWaitTime"] == 4
    assert mc.campaigns.rows[6]["Description"] == "July cross-sell"
    assert mc.leads_left[6] == NEW_CAMPAIGN_LEADS


def test_create_campaign_without_name_is_invalid_parameters(hook, mc):
    with pytest.raises(DialerRequestError) as info:
        hook.create_campaign_entity({"Description": "no name"})
    assert info.value.vendor_code == "Invalid Parameters"
    assert "CampaignName is required" in str(info.value)
    assert len(mc.campaigns.rows) == 5


def test_create_campaign_with_duplicate_name_is_an_error_answered_with_http_200(hook, mc):
    with pytest.raises(DialerRequestError) as info:
        hook.create_campaign_entity({"CampaignName": "spring renewals"})
    assert info.value.status_code == 200
    assert info.value.vendor_code == "Error"
    assert "already exists" in info.value.vendor_message
    assert len(mc.campaigns.rows) == 5


def test_update_campaign_replaces_the_entity_but_keeps_status_and_active(hook, mc):
    campaign = hook.get_campaign(1)
    campaign["Description"] = "Renewals, second wave"
    del campaign["CallerId"]
    del campaign["Active"]
    updated = hook.update_campaign(1, campaign)
    assert updated["Description"] == "Renewals, second wave"
    assert updated["CallerId"] is None  # PUT replaces the entity: an omitted field takes its default
    assert updated["Status"] == CampaignStatus.RUNNING
    assert mc.campaigns.rows[1]["Active"] is True


def test_update_campaign_with_mismatched_id_is_invalid_parameters(hook):
    with pytest.raises(DialerRequestError, match="does not match") as info:
        hook.update_campaign(1, {"Id": 2, "CampaignName": "Spring Renewals"})
    assert info.value.vendor_code == "Invalid Parameters"


def test_update_campaign_with_invalid_zip_tone_is_invalid_parameters(hook, mc):
    with pytest.raises(DialerRequestError, match="ZipTone 7 is not one of") as info:
        hook.update_campaign(1, {"CampaignName": "Spring Renewals", "ZipTone": 7})
    assert info.value.vendor_code == "Invalid Parameters"
    assert mc.campaigns.rows[1]["CallerId"] == "01614960000"  # nothing changed


def test_update_campaign_activity_status_deactivates_and_stops_a_running_campaign(hook, mc):
    campaign = hook.update_campaign_activity_status(1, False)
    assert campaign["Active"] is False
    assert campaign["Status"] == CampaignStatus.NOT_RUNNING
    assert mc.campaigns.rows[1]["Active"] is False
    assert hook.update_campaign_activity_status(1, True)["Active"] is True


def test_update_campaign_status_starts_a_campaign(hook, mc, sandbox_client):
    assert hook.update_campaign_status(3, CampaignStatus.RUNNING) is CampaignStatus.RUNNING
    assert mc.campaigns.rows[3]["Status"] == 1
    assert hook.update_campaign_status(3, 2) is CampaignStatus.PAUSED
    assert hook.get_campaign(3)["Status"] == CampaignStatus.PAUSED


def test_update_campaign_status_refuses_unknown_status(hook, mc):
    with pytest.raises(DialerRequestError, match="CampaignStatus '9' is not one of") as info:
        hook.update_campaign_status(3, 9)
    assert info.value.vendor_code == "Invalid Parameters"
    assert mc.campaigns.rows[3]["Status"] == 0


def test_starting_an_inactive_campaign_is_an_error(hook, mc):
    with pytest.raises(DialerRequestError, match="Campaign 5 is not active") as info:
        hook.update_campaign_status(5, CampaignStatus.RUNNING)
    assert (info.value.status_code, info.value.vendor_code) == (200, "Error")
    assert mc.campaigns.rows[5]["Status"] == CampaignStatus.FLUSHED


def test_update_campaign_type_applies_the_types_rules(hook, mc):
    assert hook.update_campaign_type(3, CampaignType.PREDICTIVE) is CampaignType.PREDICTIVE
    assert mc.campaigns.rows[3]["Type"] == 0
    assert mc.campaigns.rows[3]["MaxLines"] == 0  # MaxLines applies to Bridge and IVR only
    with pytest.raises(DialerRequestError, match="CampaignType '42' is not one of"):
        hook.update_campaign_type(3, 42)


def test_associate_and_disassociate_list_with_campaign(hook, mc):
    hook.associate_list_with_campaign(3, 2)
    hook.associate_list_with_campaign(3, 2)  # repeating it changes nothing
    assert mc.campaign_lists[3] == {2, 3}
    hook.disassociate_list_from_campaign(3, 3)
    hook.disassociate_list_from_campaign(3, 2)
    assert mc.campaign_lists[3] == set()
    with pytest.raises(DialerRequestError, match="has no lists associated"):
        hook.update_campaign_status(3, CampaignStatus.RUNNING)


def test_associate_unknown_list_is_invalid_parameters(hook, mc):
    with pytest.raises(DialerRequestError, match="List 42 does not exist") as info:
        hook.associate_list_with_campaign(3, 42)
    assert info.value.vendor_code == "Invalid Parameters"
    assert mc.campaign_lists[3] == {3}


def test_associate_and_disassociate_team_with_campaign(hook, mc, sandbox_client):
    hook.associate_team_with_campaign(3, 2)
    assert mc.campaign_teams[3] == {2}
    hook.disassociate_team_from_campaign(3, 2)
    assert mc.campaign_teams[3] == set()
    assert len(logged(sandbox_client, "DELETE", f"{CAMPAIGNS}/3/teams$")) == 1
    with pytest.raises(DialerRequestError, match="Campaign 77 does not exist"):
        hook.associate_team_with_campaign(77, 1)


# --------------------------------------------------------------------------------------------
# Lists
# --------------------------------------------------------------------------------------------


def test_get_lists_and_get_list(hook):
    assert [lst["ListName"] for lst in hook.get_lists()] == [
        "Spring Renewals 2025", "Lapsed Customers", "Survey Sample Q2", "Callback Queue",
    ]
    assert hook.get_list(1)["UseMaxCallbackDays"] is True
    with pytest.raises(DialerRequestError, match="List 9 does not exist"):
        hook.get_list(9)


def test_create_list(hook, mc):
    created = hook.create_list(
        {"ListName": "Autumn Leads", "ListType": 1, "MaxCallbackDate": "2025-10-31T18:00:00"}
    )
    assert created["Id"] == 5
    assert mc.lists.rows[5]["ListType"] == 1
    with pytest.raises(DialerRequestError, match="ListType 5 is not one of"):
        hook.create_list({"ListName": "Bad type", "ListType": 5})
    with pytest.raises(DialerRequestError, match="MaxCallbackDate"):
        hook.create_list({"ListName": "Bad date", "MaxCallbackDate": "next tuesday"})
    assert len(mc.lists.rows) == 5


def test_update_list_keeps_use_max_callback_days_when_omitted(hook, mc):
    lead_list = hook.get_list(1)
    del lead_list["UseMaxCallbackDays"]
    lead_list["MaxCallbackDays"] = 14
    updated = hook.update_list(1, lead_list)
    assert updated["UseMaxCallbackDays"] is True
    assert updated["MaxCallbackDays"] == 14
    assert hook.update_list(1, {**lead_list, "UseMaxCallbackDays": False})["UseMaxCallbackDays"] is False
    assert mc.lists.rows[1]["UseMaxCallbackDays"] is False


def test_update_list_activity_status(hook, mc):
    assert hook.update_list_activity_status(2, False) is False
    assert mc.lists.rows[2]["Active"] is False
    assert hook.update_list_activity_status(2, True) is True


# --------------------------------------------------------------------------------------------
# Teams
# --------------------------------------------------------------------------------------------


def test_get_teams_and_get_team(hook):
    assert [team["TeamName"] for team in hook.get_teams()] == ["Renewals", "Collections"]
    assert hook.get_team(2)["PrimarySupervisorId"] == 1


def test_create_and_update_team(hook, mc):
    created = hook.create_team({"TeamName": "Retention", "PrimarySupervisorId": 1, "HoursPerWorkingDay": 7.0})
    assert created["Id"] == 3
    updated = hook.update_team(3, {**created, "MaxCallbacksPerDay": 25})
    assert updated["MaxCallbacksPerDay"] == 25
    assert mc.teams.rows[3]["MaxCallbacksPerDay"] == 25
    with pytest.raises(DialerRequestError, match="PrimarySupervisorId 99: User does not exist"):
        hook.update_team(3, {**created, "PrimarySupervisorId": 99})


def test_update_team_activity_status(hook, mc):
    assert hook.update_team_activity_status(1, False) is False
    assert mc.teams.rows[1]["Active"] is False


def test_associate_and_disassociate_user_with_team(hook, mc):
    hook.associate_user_with_team(2, 4)
    assert mc.users.rows[4]["TeamId"] == 2
    hook.disassociate_user_from_team(1, 4)  # not in team 1: nothing to remove
    assert mc.users.rows[4]["TeamId"] == 2
    hook.disassociate_user_from_team(2, 4)
    assert mc.users.rows[4]["TeamId"] == 0
    with pytest.raises(DialerRequestError, match="User 40 does not exist"):
        hook.associate_user_with_team(2, 40)


# --------------------------------------------------------------------------------------------
# Users and skills
# --------------------------------------------------------------------------------------------


def test_get_users_and_get_user_never_carry_a_password(hook):
    users = hook.get_users()
    assert [u["Login"] for u in users] == ["sam.supervisor", "alex.agent", "jo.agent", "pat.newstarter"]
    assert all("Password" not in u for u in users)
    assert "Password" not in hook.get_user(2)


def test_create_user_registers_the_password_and_never_gets_it_back(hook, mc, sandbox_client):
    password = "Agent-Pass-2025!"
    created = hook.create_user({"FirstName": "Kim", "LastName": "Lee", "Login": "kim.lee", "TeamId": 2,
                                "Password": password})
    assert created["Id"] == 5 and "Password" not in created
    assert mc.users.rows[5]["Password"] == password
    assert redact(f"text with {password}") == "text with ***"
    assert password not in str(sandbox_client.state("maxcontact"))


def test_create_user_without_password_is_invalid_parameters(hook, mc):
    with pytest.raises(DialerRequestError, match="Password is required") as info:
        hook.create_user({"Login": "no.password"})
    assert info.value.vendor_code == "Invalid Parameters"
    assert len(mc.users.rows) == 4


def test_update_user_and_activity_status(hook, mc):
    user = hook.get_user(4)
    updated = hook.update_user(4, {**user, "Extension": "2999", "Password": "New-Pass-4242"})
    assert updated["Extension"] == "2999" and "Password" not in updated
    assert mc.users.rows[4]["Password"] == "New-Pass-4242"
    deactivated = hook.update_user_activity_status(4, False)
    assert deactivated["Active"] is False and deactivated["Id"] == 4
    with pytest.raises(DialerRequestError, match="Login 'alex.agent' already exists"):
        hook.update_user(4, {**user, "Login": "alex.agent", "Password": "New-Pass-4242"})


def test_associate_and_disassociate_skill_with_users(hook, mc):
    result = hook.associate_skill_with_users(3, 8, [2, 4])
    assert result["Success"] is True and result["SkillId"] == 3 and result["UserIds"] == [2, 4]
    assert mc.user_skills[2] == {1: 7, 3: 8} and mc.user_skills[4] == {3: 8}
    result = hook.disassociate_skill_from_users(3, [2])
    assert result["ResponseCode"] == "Success"
    assert mc.user_skills[2] == {1: 7} and mc.user_skills[4] == {3: 8}


@pytest.mark.parametrize(
    ("skill", "proficiency", "users", "detail"),
    [
        (1, 11, [2], "Proficiency must be an integer from 1 to 10"),
        (1, 0, [2], "Proficiency must be an integer from 1 to 10"),
        (99, 5, [2], "SkillId 99 is not a skill"),
        (1, 5, [2, 77], "Users [77] do not exist"),
    ],
)
def test_associate_skill_validation(hook, mc, skill, proficiency, users, detail):
    with pytest.raises(DialerRequestError) as info:
        hook.associate_skill_with_users(skill, proficiency, users)
    assert (info.value.status_code, info.value.vendor_code, info.value.vendor_message) == (
        400, "Invalid Parameters", detail,
    )
    assert mc.user_skills[2] == {1: 7}  # all or nothing


# --------------------------------------------------------------------------------------------
# Global emergency and the dial simulation
# --------------------------------------------------------------------------------------------


def test_global_emergency_stops_running_campaigns_and_disable_restores_them(hook, mc):
    hook.enable_global_emergency()
    hook.enable_global_emergency()  # repeating it must not forget which campaigns it stopped
    assert mc.global_emergency is True
    assert [c["Status"] for c in hook.get_campaigns()] == [0, 2, 0, 0, 3]
    with pytest.raises(DialerRequestError, match="Global emergency mode is enabled"):
        hook.update_campaign_status(3, CampaignStatus.RUNNING)
    hook.disable_global_emergency()
    assert mc.global_emergency is False
    assert [c["Status"] for c in hook.get_campaigns()] == [1, 2, 0, 1, 3]


def test_running_campaigns_complete_through_the_dial_simulation(hook, mc, sandbox_client):
    # Campaigns 1 (40 leads) and 4 (6 leads) are running; dialling alternates between them.
    assert sandbox_client.advance(12, vendor="maxcontact") == {"maxcontact": 12}
    assert hook.get_campaign(4)["Status"] == CampaignStatus.NOT_RUNNING
    assert hook.get_campaign(1)["Status"] == CampaignStatus.RUNNING
    assert mc.leads_left[1] == 34
    assert sum(mc.outcomes[4].values()) == 6
    sandbox_client.advance()
    assert hook.get_campaign(1)["Status"] == CampaignStatus.NOT_RUNNING


def test_a_created_campaign_can_be_run_to_completion(hook, mc, sandbox_client):
    campaign = hook.create_campaign_entity({"CampaignName": "Flash Sale", "Type": CampaignType.PREVIEW})
    hook.associate_list_with_campaign(campaign["Id"], 2)
    hook.update_campaign_status(campaign["Id"], CampaignStatus.RUNNING)
    sandbox_client.advance()
    assert hook.get_campaign(campaign["Id"])["Status"] == CampaignStatus.NOT_RUNNING
    assert mc.leads_left[campaign["Id"]] == 0


# --------------------------------------------------------------------------------------------
# Auth lifecycle
# --------------------------------------------------------------------------------------------


def test_one_login_serves_many_calls(hook, sandbox_client):
    hook.get_campaigns()
    hook.get_lists()
    hook.get_teams()
    hook.get_user(1)
    assert hook.login_count == 1
    assert sandbox_client.stats()["logins"]["maxcontact"] == 1


def test_login_sends_base64_password_header_and_token_cookie(hook, sandbox_client):
    hook.get_campaigns()
    log = sandbox_client.requests(vendor="maxcontact")
    assert [r["path"] for r in log] == [
        "/webservices/services/apitoken/login/api-user", "/webservices/services/management/campaigns",
    ]
    for secret in (PASSWORD, b64(PASSWORD)):
        assert all(secret not in r["path"] + r["query"] for r in log)
    stale = {"Cookie": "TokenKey=old"}
    prepared = requests.Request("GET", "http://example.invalid/", headers=stale).prepare()
    credential, _ = hook.auth.current()
    hook.auth.apply(prepared, credential)
    assert prepared.headers["Cookie"] == f"TokenKey={credential.value}"
    assert redact(credential.value) == "***" and redact(b64(PASSWORD)) == "***"


def test_expired_token_causes_exactly_one_relogin(hook, sandbox_client):
    hook.get_campaigns()
    assert sandbox_client.expire_credentials("maxcontact") == 1
    assert len(hook.get_campaigns()) == 5
    assert hook.login_count == 2
    assert sandbox_client.stats()["logins"]["maxcontact"] == 2
    assert [r["status"] for r in logged(sandbox_client, "GET", f"{CAMPAIGNS}$")] == [200, 401, 200]


def test_a_token_without_a_stated_lifetime_is_renewed_after_the_conservative_default(hook):
    hook.get_campaigns()  # the sandbox's default token answer states no expiry
    credential, _ = hook.auth.current()
    assert credential.expires_at is not None
    assert 0 < credential.expires_at - time.monotonic() <= maxcontact_auth.DEFAULT_TOKEN_LIFETIME


def test_the_token_is_renewed_before_the_configured_lifetime_ends(make_connection, sandbox_client):
    conn_id = make_connection("maxcontact_short_tokens", "maxcontact", extra={"token_lifetime": "0.3"})
    with MaxContactHook(conn_id, retry_policy=FAST) as hook:
        hook.get_teams()
        credential, _ = hook.auth.current()
        time.sleep(max(0.0, credential.expires_at - time.monotonic()) + 0.05)
        hook.get_teams()
        assert hook.login_count == 2
    assert [r["status"] for r in sandbox_client.requests(vendor="maxcontact")] == [200] * 4  # none refused


@pytest.mark.parametrize("lifetime", ["soon", "0", -5, "inf"])
def test_a_bad_token_lifetime_is_refused_before_anything_is_sent(make_connection, sandbox_client, lifetime):
    conn_id = make_connection("maxcontact_bad_lifetime", "maxcontact", extra={"token_lifetime": lifetime})
    with pytest.raises(DialerConfigurationError, match="'token_lifetime' must be a positive number of seconds"):
        MaxContactHook(conn_id, retry_policy=FAST).get_teams()
    assert sandbox_client.requests(vendor="maxcontact") == []


class _AffinityServer(http.server.BaseHTTPRequestHandler):
    """A MaxContact behind a load balancer: the token answer sets an affinity cookie, and a
    management call answers the Cookie header it got (as the campaigns' Data)."""

    def do_GET(self) -> None:
        if "/apitoken/login/" in self.path:
            body, cookie = {"TokenKey": "token-1"}, "ARRAffinity=node-7; Path=/"
        else:
            body, cookie = {"Success": True, "Data": [self.headers.get("Cookie")]}, None
        data = json.dumps(body).encode()
        self.send_response(200)
        if cookie:
            self.send_header("Set-Cookie", cookie)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def test_the_servers_cookies_travel_with_the_token(make_connection):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _AffinityServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        conn_id = make_connection("maxcontact_affinity", "maxcontact",
                                  host=f"http://127.0.0.1:{server.server_address[1]}")
        with MaxContactHook(conn_id, retry_policy=FAST) as hook:
            cookies = hook.get_campaigns() + hook.get_campaigns()  # the call that logs in, and a later one
    finally:
        server.shutdown()
    assert [sorted(part.strip() for part in cookie.split(";")) for cookie in cookies] == [
        ["ARRAffinity=node-7", "TokenKey=token-1"]] * 2


def test_apply_replaces_an_older_token_and_keeps_other_cookies(hook):
    prepared = requests.Request("GET", "http://example.invalid/",
                                headers={"Cookie": "TokenKey=old; ARRAffinity=node-7"}).prepare()
    hook.auth.apply(prepared, Credential("new"))
    assert prepared.headers["Cookie"] == "ARRAffinity=node-7; TokenKey=new"


def test_token_rejected_again_after_relogin_is_an_auth_error(hook, sandbox_client):
    hook.get_campaigns()
    sandbox_client.add_fault(vendor="maxcontact", path="/management/", status=401, count=None,
                             body='{"Message": "Authorization has been denied for this request."}')
    with pytest.raises(DialerAuthError, match="rejected a freshly obtained credential"):
        hook.get_lists()
    assert hook.login_count == 1 + hook.auth.max_renewals  # the first token (still in use), then bounded


def test_wrong_password_is_a_clear_auth_error_without_secrets(make_connection, sandbox_client):
    conn_id = make_connection("maxcontact_bad", "maxcontact", password=WRONG_PASSWORD)
    hook = MaxContactHook(conn_id, retry_policy=FAST)
    with pytest.raises(DialerAuthError) as info:
        hook.get_campaigns()
    message = str(info.value)
    assert "refused login 'api-user' with HTTP 401" in message
    for secret in (WRONG_PASSWORD, PASSWORD, b64(WRONG_PASSWORD), b64(PASSWORD)):
        assert secret not in message
    assert sandbox_client.stats()["failed_logins"]["maxcontact"] == 1
    assert len(sandbox_client.requests(vendor="maxcontact")) == 1  # a refused login is not retried


def test_basic_prefixed_password_header_is_refused(sandbox):
    # The reference's form is the bare Base64 password; "Basic <b64>" must not log in.
    response = requests.get(
        f"{sandbox.url}/webservices/services/apitoken/login/api-user",
        headers={"Authorization": f"Basic {b64(PASSWORD)}", "Accept": "application/json"},
        timeout=5,
    )
    assert response.status_code == 401


def test_non_ascii_password_is_refused_before_sending(make_connection, sandbox_client):
    conn_id = make_connection("maxcontact_unicode", "maxcontact", password="pässwörd-123")
    with pytest.raises(DialerAuthError, match="non-ASCII") as info:
        MaxContactHook(conn_id, retry_policy=FAST).get_campaigns()
    assert "pässwörd-123" not in str(info.value)
    assert sandbox_client.requests(vendor="maxcontact") == []


def test_missing_password_is_an_auth_error(make_connection):
    conn_id = make_connection("maxcontact_nopass", "maxcontact", password=None)
    with pytest.raises(DialerAuthError, match="needs a login and a password"):
        MaxContactHook(conn_id, retry_policy=FAST).get_campaigns()


def test_token_answer_without_token_key_is_an_auth_error(hook, sandbox_client):
    sandbox_client.add_fault(vendor="maxcontact", path="/apitoken/", status=200, body='{"TokenKey": null}')
    with pytest.raises(DialerAuthError, match="issued no TokenKey"):
        hook.get_campaigns()


def test_token_answer_as_html_is_a_response_error(hook, sandbox_client):
    sandbox_client.add_fault(vendor="maxcontact", path="/apitoken/", status=200,
                             body="<html><body>Maintenance</body></html>", content_type="text/html")
    with pytest.raises(DialerResponseError, match="HTML page"):
        hook.get_campaigns()


def test_test_connection_ok(sandbox):
    ok, message = MaxContactHook(retry_policy=FAST).test_connection()
    assert ok, message
    assert "5 campaigns visible" in message


def test_test_connection_with_wrong_password(make_connection):
    conn_id = make_connection("maxcontact_bad_tc", "maxcontact", password=WRONG_PASSWORD)
    ok, message = MaxContactHook(conn_id, retry_policy=FAST).test_connection()
    assert not ok
    assert message.startswith("Authentication failed")
    assert "check the connection's login and password" in message
    assert WRONG_PASSWORD not in message and b64(WRONG_PASSWORD) not in message


def test_test_connection_with_unreachable_host(make_connection):
    conn_id = make_connection("maxcontact_down", "maxcontact", host="http://127.0.0.1:9")
    ok, message = MaxContactHook(conn_id, retry_policy=FAST).test_connection()
    assert not ok
    assert message.startswith("Server unreachable")
    assert PASSWORD not in message


# --------------------------------------------------------------------------------------------
# Retries
# --------------------------------------------------------------------------------------------


def test_503s_are_retried_then_succeed(hook, sandbox_client):
    hook.get_teams()
    sandbox_client.add_fault(vendor="maxcontact", path=f"{CAMPAIGNS}$", status=503, count=2)
    assert len(hook.get_campaigns()) == 5
    assert [r["status"] for r in logged(sandbox_client, "GET", f"{CAMPAIGNS}$")] == [503, 503, 200]


def test_503_on_a_create_is_retried_because_it_was_not_processed(hook, mc, sandbox_client):
    sandbox_client.add_fault(vendor="maxcontact", path=f"{CAMPAIGNS}$", method="POST", status=503, count=1)
    hook.create_campaign_entity({"CampaignName": "Retry Me"})
    assert [c["CampaignName"] for c in mc.campaigns.rows.values()].count("Retry Me") == 1
    assert len(logged(sandbox_client, "POST", f"{CAMPAIGNS}$")) == 2


def test_connection_reset_is_recovered_on_a_retry_safe_call(hook, sandbox_client):
    hook.get_teams()
    sandbox_client.add_fault(vendor="maxcontact", path=f"{CAMPAIGNS}/2$", action="reset", count=1)
    assert hook.get_campaign(2)["Id"] == 2
    assert len(logged(sandbox_client, "GET", f"{CAMPAIGNS}/2$")) == 2


def test_reset_after_processing_a_retry_safe_update_is_resent(hook, mc, sandbox_client):
    campaign = hook.get_campaign(3)
    sandbox_client.add_fault(vendor="maxcontact", path=f"{CAMPAIGNS}/3$", method="PUT", action="reset",
                             after_processing=True, count=1)
    updated = hook.update_campaign(3, {**campaign, "Description": "twice is fine"})
    assert updated["Description"] == "twice is fine"
    assert len(logged(sandbox_client, "PUT", f"{CAMPAIGNS}/3$")) == 2


def test_reset_after_processing_a_create_is_not_resent(hook, mc, sandbox_client):
    hook.get_teams()
    sandbox_client.add_fault(vendor="maxcontact", path=f"{CAMPAIGNS}$", method="POST", action="reset",
                             after_processing=True, count=1)
    with pytest.raises(DialerTransientError) as info:
        hook.create_campaign_entity({"CampaignName": "Exactly Once"})
    assert info.value.may_have_been_processed is True
    assert len(logged(sandbox_client, "POST", f"{CAMPAIGNS}$")) == 1
    assert [c["CampaignName"] for c in mc.campaigns.rows.values()].count("Exactly Once") == 1


def test_persistent_503_gives_up_with_a_transient_error(hook, sandbox_client):
    sandbox_client.add_fault(vendor="maxcontact", path=f"{CAMPAIGNS}$", status=503, count=None)
    with pytest.raises(DialerTransientError, match="gave up after 5 attempts") as info:
        hook.get_campaigns()
    assert info.value.may_have_been_processed is False


# --------------------------------------------------------------------------------------------
# Malformed and unexpected answers
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ("<html><body>Gateway error</body></html>", "text/html", "HTML page"),
        ("null", "application/json", "the literal null"),
        ('{"Success": true, "Data": [{"Id": 1', "application/json", "unparseable"),
        ('<?xml version="1.0"?><ManagementActionResponse><Success>true</Success></ManagementActionResponse>',
         "application/xml", "XML"),
        ('{"Items": []}', "application/json", "ManagementActionResponse"),
        ('{"Success": true, "Data": "campaigns"}', "application/json", "expected list Data, got str"),
    ],
)
def test_malformed_answers_are_response_errors(hook, sandbox_client, body, content_type, expected):
    hook.get_teams()
    sandbox_client.add_fault(vendor="maxcontact", path=f"{CAMPAIGNS}$", status=200, body=body,
                             content_type=content_type)
    with pytest.raises(DialerResponseError, match=expected):
        hook.get_campaigns()
    assert hook.login_count == 1


def test_unknown_status_in_answer_is_a_response_error(hook, sandbox_client):
    hook.get_teams()
    sandbox_client.add_fault(vendor="maxcontact", path=f"{CAMPAIGNS}/3/status$", status=200,
                             body='{"Success": true, "Data": 17, "ResponseCode": "Success"}')
    with pytest.raises(DialerResponseError, match="17 is not a CampaignStatus"):
        hook.update_campaign_status(3, CampaignStatus.PAUSED)


def test_status_given_by_description_in_answer_is_understood(hook, sandbox_client):
    hook.get_teams()
    sandbox_client.add_fault(vendor="maxcontact", path=f"{CAMPAIGNS}/3/status$", status=200,
                             body='{"Success": true, "Data": "Not Running", "ResponseCode": "Success"}')
    assert hook.update_campaign_status(3, CampaignStatus.NOT_RUNNING) is CampaignStatus.NOT_RUNNING


@pytest.mark.parametrize(
    ("status", "body", "code", "message"),
    [
        (500, '{"Success": false, "Data": null, "ResponseCode": "Error", '
              '"ResponseDetail": "Database timeout"}', "Error", "Database timeout"),
        (403, '{"Message": "The user has no rights to the management API."}', None,
         "The user has no rights to the management API."),
        (404, "<html><body>Not found</body></html>", None, "<html><body>Not found</body></html>"),
    ],
)
def test_refused_answers_are_request_errors_with_the_vendor_text(
    hook, sandbox_client, status, body, code, message
):
    hook.get_teams()
    sandbox_client.add_fault(vendor="maxcontact", path=f"{CAMPAIGNS}$", status=status, body=body)
    with pytest.raises(DialerRequestError) as info:
        hook.get_campaigns()
    error = info.value
    assert (error.status_code, error.vendor_code, error.vendor_message) == (status, code, message)
    assert len(logged(sandbox_client, "GET", f"{CAMPAIGNS}$")) == 1


def test_init_touches_neither_network_nor_connection(sandbox_client):
    hook = MaxContactHook("maxcontact_does_not_exist")
    assert hook.login_count == 0
    assert sandbox_client.requests(vendor="maxcontact") == []
