"""MaxContact against a server that reads each silent point of the reference the other way (the
readings of docs/readings.md): over real HTTP, the sandbox set to the non-default reading, through
the hook and capability paths that broke on such a server."""

from __future__ import annotations

import time
from typing import Any

import pytest

from airflow_provider_dialers.hooks.base import DialerAuthError, DialerRequestError
from airflow_provider_dialers.hooks.maxcontact import CampaignStatus, CampaignType, MaxContactHook
from airflow_provider_dialers.operators.campaign import SetCampaignStatusOperator
from airflow_provider_dialers.operators.emergency import GlobalEmergencyOperator
from tests.support import FAST

HOOK_CLASS = MaxContactHook  # the ``hook`` fixture (conftest.py)
MANAGEMENT = "/webservices/services/management"
CAMPAIGNS = f"{MANAGEMENT}/campaigns"


def calls(sandbox_client, method: str, path: str) -> list[dict[str, Any]]:
    return [r for r in sandbox_client.requests(vendor="maxcontact", path=path) if r["method"] == method]


def statuses(mc) -> dict[int, int]:
    return {cid: c["Status"] for cid, c in mc.campaigns.rows.items()}


# --------------------------------------------------------------------------------------------
# mc_patch_reply: the Data of PATCH campaigns/{id}/status and /type
# --------------------------------------------------------------------------------------------


def test_set_campaign_status_operator_succeeds_when_the_patch_answers_the_campaign(sandbox, sandbox_client, mc):
    sandbox_client.configure(readings={"mc_patch_reply": "campaign_object"})

    result = SetCampaignStatusOperator(task_id="run", dialer_conn_id="maxcontact_default", campaign_id="2",
                                       status="running").execute({})

    assert result == {"campaign_id": "2", "status": "running"}
    assert mc.campaigns.rows[2]["Status"] == CampaignStatus.RUNNING


def test_update_campaign_type_and_status_read_the_campaign_object(hook, sandbox_client, mc):
    sandbox_client.configure(readings={"mc_patch_reply": "campaign_object"})

    assert hook.update_campaign_type(3, CampaignType.BRIDGE) is CampaignType.BRIDGE
    assert hook.update_campaign_status(3, CampaignStatus.RUNNING) is CampaignStatus.RUNNING
    assert (mc.campaigns.rows[3]["Type"], mc.campaigns.rows[3]["Status"]) == (4, 1)
    assert hook.reading("mc_patch_reply") == "campaign_object"
    assert calls(sandbox_client, "GET", f"{CAMPAIGNS}/3$") == []  # the object says it: nothing read back


def test_a_null_patch_answer_is_confirmed_by_reading_the_campaign(hook, sandbox_client, mc):
    sandbox_client.configure(readings={"mc_patch_reply": "null"})

    assert hook.update_campaign_status(2, CampaignStatus.NOT_RUNNING) is CampaignStatus.NOT_RUNNING
    assert hook.update_campaign_type(2, CampaignType.PREVIEW) is CampaignType.PREVIEW

    assert [r["method"] for r in sandbox_client.requests(vendor="maxcontact", path=f"{CAMPAIGNS}/2")] == [
        "PATCH", "GET", "PATCH", "GET"]
    assert (mc.campaigns.rows[2]["Status"], mc.campaigns.rows[2]["Type"]) == (0, 2)


# --------------------------------------------------------------------------------------------
# mc_patch_value: the body's value, as the appendix ID, its enum name or its description
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reading", ["name", "description"])
def test_set_campaign_status_works_on_a_server_that_reads_names(hook, sandbox_client, mc, reading):
    sandbox_client.configure(readings={"mc_patch_value": reading})

    hook.set_campaign_status("1", "paused")
    hook.set_campaign_status("3", "running")
    assert hook.update_campaign_status(4, CampaignStatus.NOT_RUNNING) is CampaignStatus.NOT_RUNNING
    assert hook.update_campaign_type(3, CampaignType.BRIDGE) is CampaignType.BRIDGE

    assert {cid: statuses(mc)[cid] for cid in (1, 3, 4)} == {1: 2, 3: 1, 4: 0}
    assert mc.campaigns.rows[3]["Type"] == CampaignType.BRIDGE
    assert hook.reading("mc_patch_value") == reading  # learnt from "Not Running", which only one form fits
    sandbox_client.clear_requests()
    hook.set_campaign_status("4", "running")
    assert len(calls(sandbox_client, "PATCH", f"{CAMPAIGNS}/4/status$")) == 1  # the learnt form goes first


def test_a_configured_form_is_the_only_one_sent(sandbox, sandbox_client, make_connection, mc):
    sandbox_client.configure(readings={"mc_patch_value": "description"})
    conn_id = make_connection("mc_descriptions", "maxcontact", extra={"readings": {"mc_patch_value": "description"}})

    with MaxContactHook(conn_id, retry_policy=FAST) as hook:
        hook.update_campaign_status(1, CampaignStatus.NOT_RUNNING)

    assert [r["status"] for r in calls(sandbox_client, "PATCH", f"{CAMPAIGNS}/1/status$")] == [200]
    assert statuses(mc)[1] == CampaignStatus.NOT_RUNNING


def test_a_refusal_that_is_not_about_the_form_is_not_retried_in_other_forms(hook, sandbox_client, mc):
    sandbox_client.configure(readings={"mc_patch_value": "name"})
    hook.set_campaign_status("2", "running")  # learns the form
    sandbox_client.clear_requests()

    with pytest.raises(DialerRequestError, match="Campaign 5 is not active") as info:
        hook.set_campaign_status("5", "running")

    assert (info.value.status_code, info.value.vendor_code) == (200, "Error")
    assert len(calls(sandbox_client, "PATCH", f"{CAMPAIGNS}/5/status$")) == 1


# --------------------------------------------------------------------------------------------
# mc_emergency_disable: "revert the system back to normal" restarts the stopped campaigns, or not
# --------------------------------------------------------------------------------------------


def test_emergency_operator_restores_exactly_what_it_stopped_on_a_flag_only_server(sandbox, mc, variables):
    sandbox.client.configure(readings={"mc_emergency_disable": "flag_only"})
    before = statuses(mc)

    def operator(enabled: bool) -> dict[str, Any]:  # each in its own task run, with its own hook
        return GlobalEmergencyOperator(task_id="stop", dialer_conn_id="maxcontact_default", enabled=enabled).execute({})

    assert operator(True)["paused"] == ["1", "4"]
    assert operator(False) == {"mode": "native", "enabled": False, "paused": [], "resumed": ["1", "4"]}
    assert statuses(mc) == before  # campaign 2, paused before the emergency, stays paused
    assert mc.global_emergency is False


def test_the_hook_restarts_the_recorded_campaigns_the_server_left_stopped(sandbox, sandbox_client, mc):
    sandbox_client.configure(readings={"mc_emergency_disable": "flag_only"})
    with MaxContactHook(retry_policy=FAST) as first:
        stopped = first.set_global_emergency(True)["campaigns_stopped"]

    with MaxContactHook(retry_policy=FAST) as later:
        result = later.set_global_emergency(False, stopped=stopped)
        assert later.reading("mc_emergency_disable") == "flag_only"

    assert result == {"enabled": False, "campaigns_stopped": [], "campaigns_restarted": ["1", "4"],
                      "campaigns_not_restarted": []}
    assert statuses(mc) == {1: 1, 2: 2, 3: 0, 4: 1, 5: 3}


# --------------------------------------------------------------------------------------------
# mc_token_expiry: an expired token answered 401, 403 or Success: false
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("reading", "status"), [("http_403", 403), ("success_false", 200)])
def test_an_expired_token_is_renewed_once_whatever_the_signal(hook, sandbox_client, reading, status):
    sandbox_client.configure(readings={"mc_token_expiry": reading})
    hook.get_campaigns()
    assert sandbox_client.expire_credentials("maxcontact") == 1

    assert len(hook.get_campaigns()) == 5

    assert hook.login_count == 2
    assert [r["status"] for r in calls(sandbox_client, "GET", f"{CAMPAIGNS}$")] == [200, status, 200]
    assert hook.reading("mc_token_expiry") == reading


@pytest.mark.parametrize("reading", ["http_403", "success_false"])
def test_a_token_refused_again_after_the_relogin_is_an_auth_error(hook, sandbox_client, reading):
    sandbox_client.configure(readings={"mc_token_expiry": reading})
    hook.get_campaigns()
    sandbox_client.configure(maxcontact_token_ttl=0.001)  # every new token is dead on arrival
    sandbox_client.expire_credentials("maxcontact")

    with pytest.raises(DialerAuthError, match="rejected a freshly obtained credential"):
        hook.get_lists()
    assert hook.login_count == 1 + hook.auth.max_renewals  # each fresh token tried once, then final


def test_other_refusals_are_not_taken_for_an_expired_token(hook, sandbox_client):
    sandbox_client.configure(readings={"mc_token_expiry": "success_false"})
    with pytest.raises(DialerRequestError, match="Campaign 5 is not active"):
        hook.update_campaign_status(5, CampaignStatus.RUNNING)
    sandbox_client.add_fault(vendor="maxcontact", path=f"{CAMPAIGNS}$", status=403,
                             body='{"Message": "The user has no rights to the management API."}')
    with pytest.raises(DialerRequestError, match="no rights") as info:
        hook.get_campaigns()
    assert info.value.status_code == 403
    assert hook.login_count == 1


def test_a_configured_http_403_reading_takes_any_403_for_an_expired_token(sandbox, sandbox_client, make_connection):
    conn_id = make_connection("mc_403", "maxcontact", extra={"readings": {"mc_token_expiry": "http_403"}})
    with MaxContactHook(conn_id, retry_policy=FAST) as hook:
        hook.get_teams()
        sandbox_client.add_fault(vendor="maxcontact", path=f"{CAMPAIGNS}$", status=403, body='{"Message": "Forbidden"}')
        assert len(hook.get_campaigns()) == 5
        assert hook.login_count == 2


# --------------------------------------------------------------------------------------------
# mc_token_answer: {TokenKey}, an envelope whose Data holds it (and its expiry), or the bare token
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reading", ["envelope", "string"])
def test_the_token_is_found_in_every_answer_shape(hook, sandbox_client, reading):
    sandbox_client.configure(readings={"mc_token_answer": reading})

    assert len(hook.get_campaigns()) == 5
    assert hook.reading("mc_token_answer") == reading
    assert [r["status"] for r in sandbox_client.requests(vendor="maxcontact")] == [200, 200]


def test_the_expiry_of_an_envelope_answer_renews_the_token_before_it_ends(hook, sandbox_client):
    sandbox_client.configure(readings={"mc_token_answer": "envelope"}, maxcontact_token_ttl=3)
    hook.get_teams()
    credential, _ = hook.auth.current()
    assert credential.expires_at is not None and credential.expires_at - time.monotonic() < 3

    time.sleep(max(0.0, credential.expires_at - time.monotonic()) + 0.05)
    hook.get_teams()

    assert hook.login_count == 2  # renewed before the server's expiry: no call was refused
    assert [r["status"] for r in sandbox_client.requests(vendor="maxcontact")] == [200] * 4
