"""MaxContact's vendor-neutral capabilities over real HTTP against the sandbox, and its campaign mapping."""

from __future__ import annotations

import pytest

from airflow_provider_dialers.capabilities import (
    CallbackRow,
    ContactRow,
    UploadOptions,
)
from airflow_provider_dialers.contacts import parse_callback, parse_contact
from airflow_provider_dialers.hooks.base import (
    DialerNotSupportedError,
    DialerValidationError,
)
from airflow_provider_dialers.hooks.maxcontact import CampaignStatus, CampaignType, MaxContactHook
from airflow_provider_dialers.vendors.maxcontact import records as mapping

#: Every sandbox test runs under both readings profiles: the reference's silent points read one way,
#: then the other (docs/readings.md).
pytestmark = pytest.mark.readings_profiles

HOOK_CLASS = MaxContactHook  # the ``hook`` fixture (conftest.py)
CAMPAIGNS = "/webservices/services/management/campaigns"
MANAGEMENT = "/webservices/services/management"
SPEC = {"CampaignName": "Autumn Renewals", "Type": "Progressive", "CallerId": "01614960001",
        "Description": "created by a test", "NotReadyWaitTime": "5", "HoursPerWorkingDay": 7.5}


def management_calls(sandbox_client, method: str | None = None, path: str = MANAGEMENT) -> list[dict]:
    """Management API requests in the sandbox's log (the token login excluded)."""
    return [r for r in sandbox_client.requests(vendor="maxcontact", path=path)
            if method is None or r["method"] == method]


def status_of(mc, campaign_id: str | int) -> CampaignStatus:
    return CampaignStatus(mc.campaigns.rows[int(campaign_id)]["Status"])


def ready_to_run(hook: MaxContactHook, campaign_id: str) -> None:
    """A new campaign needs a list before it can run (leads are imported into lists elsewhere)."""
    hook.associate_list_with_campaign(int(campaign_id), 3)


# --------------------------------------------------------------------------------------------
# Campaigns: create, find, list, status
# --------------------------------------------------------------------------------------------


def test_create_campaign_sends_the_mapped_entity_and_returns_its_id(hook, mc):
    campaign_id = hook.create_campaign(SPEC)

    stored = mc.campaigns.rows[int(campaign_id)]
    assert campaign_id == str(stored["Id"])
    assert stored["CampaignName"] == "Autumn Renewals"
    assert stored["Type"] == CampaignType.PROGRESSIVE  # the appendix description became its ID
    assert stored["NotReadyWaitTime"] == 5  # templated text became the entity's int
    assert stored["Status"] == CampaignStatus.NOT_RUNNING


def test_find_campaign_matches_the_exact_name_only(hook):
    created = hook.create_campaign(SPEC)

    assert hook.find_campaign("Autumn Renewals") == created
    assert hook.find_campaign("Debt Recovery") == "2"
    assert hook.find_campaign("autumn renewals") is None
    assert hook.find_campaign("Autumn") is None


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"CampaignName": None}, "CampaignName", "is required"),
        ({"CampaignName": "  "}, "CampaignName", "is required"),
        ({"Type": None}, "Type", "is required"),
        ({"Type": "Robocall"}, "Type", "0 Predictive, 1 Progressive"),
        ({"Type": 9}, "Type", "not one of the reference's values"),
        ({"Type": True}, "Type", "not one of the reference's values"),
        ({"MaxLines": 10}, "MaxLines", "only to Bridge and IVR"),
        ({"Type": "IVR", "NotReadyWaitTime": 5}, "NotReadyWaitTime", "only to Predictive and Progressive"),
        ({"ProgressiveThreshold": 3}, "ProgressiveThreshold", "DegradeToProgressive true"),
        ({"HoursPerWorkingDay": "a day"}, "HoursPerWorkingDay", "non-negative number"),
        ({"DefaultListId": "list one"}, "DefaultListId", "whole number"),
        ({"DefaultListId": -1}, "DefaultListId", "must not be negative"),
        ({"AutoRecord": "maybe"}, "AutoRecord", "true or false"),
        ({"CallerId": 1614960001}, "CallerId", "must be text"),
        ({"ZipTone": "Trumpet"}, "ZipTone", "1 Wav File"),
        ({"Status": 1}, "Status", "set by MaxContact"),
        ({"Id": 7}, "Id", "set by MaxContact"),
        ({"Dialer": "x"}, "Dialer", "not a field of MaxContact's Campaign entity"),
    ],
)
def test_create_campaign_refuses_an_invalid_spec_before_sending(hook, sandbox_client, change, field, reason):
    spec = {**SPEC, **change}
    with pytest.raises(DialerValidationError) as info:
        hook.create_campaign(spec)

    assert info.value.field == field
    assert reason in info.value.reason
    assert info.value.vendor == "MaxContact"
    assert management_calls(sandbox_client) == []


def test_create_campaign_accepts_the_appendix_forms():
    campaign = mapping.campaign_from_spec({"CampaignName": " IVR survey ", "Type": "ivr", "MaxLines": "12",
                                           "ZipTone": "Wav File", "ZipToneBeep": "OldMacDonald",
                                           "IsBlended": "TRUE", "TargetDropPercent": "2.5"})

    assert campaign == {"CampaignName": "IVR survey", "Type": CampaignType.IVR, "MaxLines": 12, "ZipTone": 1,
                        "ZipToneBeep": 9, "IsBlended": True, "TargetDropPercent": 2.5}


def test_required_campaign_fields_are_declared_for_the_operator():
    assert MaxContactHook.required_campaign_fields == ("CampaignName", "Type")
    assert MaxContactHook.campaign_name_field == "CampaignName"


def test_create_campaign_whose_answer_is_lost_finds_it_instead_of_duplicating(hook, mc, sandbox_client):
    sandbox_client.add_fault(vendor="maxcontact", action="reset", after_processing=True, method="POST",
                             path=f"{CAMPAIGNS}$")

    campaign_id = hook.create_campaign(SPEC)

    named = [c for c in mc.campaigns.rows.values() if c["CampaignName"] == "Autumn Renewals"]
    assert [str(c["Id"]) for c in named] == [campaign_id]
    assert len(management_calls(sandbox_client, "POST", f"{CAMPAIGNS}$")) == 1  # never re-sent


def test_create_campaign_lost_before_processing_still_fails(hook, mc, sandbox_client):
    from airflow_provider_dialers.hooks.base import DialerTransientError

    sandbox_client.add_fault(vendor="maxcontact", action="reset", method="POST", path=f"{CAMPAIGNS}$")

    with pytest.raises(DialerTransientError):
        hook.create_campaign(SPEC)
    assert not [c for c in mc.campaigns.rows.values() if c["CampaignName"] == "Autumn Renewals"]


def test_list_campaigns_reports_the_appendix_status_descriptions(hook):
    summaries = hook.list_campaigns()

    assert [(c["id"], c["status"]) for c in summaries] == [
        ("1", "Running"), ("2", "Paused"), ("3", "Not Running"), ("4", "Running"), ("5", "Flushed"),
    ]
    assert summaries[1]["name"] == "Debt Recovery"


def test_set_campaign_status_runs_and_pauses_a_campaign(hook, mc):
    hook.set_campaign_status("1", "paused")
    assert status_of(mc, 1) is CampaignStatus.PAUSED

    hook.set_campaign_status("1", "running")
    assert status_of(mc, 1) is CampaignStatus.RUNNING


def test_set_campaign_status_resent_after_a_lost_answer_lands_once(hook, mc, sandbox_client):
    hook.set_campaign_status("1", "running")  # the hook learns the value's form (reading mc_patch_value)
    sandbox_client.add_fault(vendor="maxcontact", action="reset", after_processing=True,
                             path=f"{CAMPAIGNS}/2/status")

    hook.set_campaign_status("2", "running")

    assert status_of(mc, 2) is CampaignStatus.RUNNING
    assert len(management_calls(sandbox_client, "PATCH", f"{CAMPAIGNS}/2/status")) == 2


@pytest.mark.parametrize(("campaign_id", "status", "field"),
                         [("1", "stopped", "status"), ("1", "Running", "status"),
                          ("one", "paused", "campaign_id")])
def test_set_campaign_status_refuses_bad_input_before_sending(hook, sandbox_client, campaign_id, status,
                                                              field):
    with pytest.raises(DialerValidationError) as info:
        hook.set_campaign_status(campaign_id, status)
    assert info.value.field == field
    assert management_calls(sandbox_client) == []


# --------------------------------------------------------------------------------------------
# Progress
# --------------------------------------------------------------------------------------------


def test_progress_of_a_created_campaign_becomes_complete_once_dialled_out(hook, sandbox_client):
    campaign_id = hook.create_campaign(SPEC)
    ready_to_run(hook, campaign_id)
    hook.set_campaign_status(campaign_id, "running")

    running = hook.get_campaign_progress(campaign_id)
    assert (running.complete, running.status) == (False, "Running")

    sandbox_client.advance(vendor="maxcontact")
    done = hook.get_campaign_progress(campaign_id)

    assert (done.complete, done.status) == (True, "Not Running")
    assert done.to_dict() == {"campaign_id": campaign_id, "complete": True, "status": "Not Running",
                              "total": None, "pending": None, "outcomes": {},
                              "detail": mapping.PROGRESS_DETAIL}
    assert "no per-lead outcomes" in done.detail and "stopped the campaign" in done.detail


@pytest.mark.parametrize(("campaign_id", "status", "complete"),
                         [("1", "Running", False), ("2", "Paused", False), ("3", "Not Running", True),
                          ("5", "Flushed", True)])
def test_progress_is_complete_only_when_the_campaign_dials_nothing_more(hook, campaign_id, status, complete):
    progress = hook.get_campaign_progress(campaign_id)
    assert (progress.status, progress.complete) == (status, complete)


def test_progress_costs_one_request_whatever_the_campaign_size(hook, mc, sandbox_client):
    def requests_for_one_call(leads: int) -> int:
        campaign_id = hook.create_campaign({**SPEC, "CampaignName": f"Size {leads}"})
        mc.leads_left[int(campaign_id)] = leads  # as if a list of that size had been imported
        ready_to_run(hook, campaign_id)
        hook.set_campaign_status(campaign_id, "running")
        sandbox_client.clear_requests()
        assert not hook.get_campaign_progress(campaign_id).complete
        return len(management_calls(sandbox_client))

    assert requests_for_one_call(10) == requests_for_one_call(300) == 1


# --------------------------------------------------------------------------------------------
# Global emergency (native)
# --------------------------------------------------------------------------------------------


def test_global_emergency_enable_reports_the_campaigns_it_stopped(hook, mc):
    result = hook.set_global_emergency(True)

    assert result == {"enabled": True, "campaigns_stopped": ["1", "4"], "campaigns_restarted": []}
    assert mc.global_emergency is True
    assert [status_of(mc, cid) for cid in (1, 2, 4)] == [
        CampaignStatus.NOT_RUNNING, CampaignStatus.PAUSED, CampaignStatus.NOT_RUNNING]


def test_global_emergency_disable_reports_the_campaigns_it_restarted(hook, mc):
    hook.set_global_emergency(True)
    again = hook.set_global_emergency(True)

    result = hook.set_global_emergency(False)

    assert again == {"enabled": True, "campaigns_stopped": [], "campaigns_restarted": []}
    assert result == {"enabled": False, "campaigns_stopped": [], "campaigns_restarted": ["1", "4"],
                      "campaigns_not_restarted": []}
    assert mc.global_emergency is False
    assert [status_of(mc, cid) for cid in (1, 2, 3, 4)] == [
        CampaignStatus.RUNNING, CampaignStatus.PAUSED, CampaignStatus.NOT_RUNNING, CampaignStatus.RUNNING]


# --------------------------------------------------------------------------------------------
# What the Management API cannot do
# --------------------------------------------------------------------------------------------

CONTACT = {"external_id": "crm-1", "phones": ["01614960123"], "timezone": "Europe/London"}
CALLBACK = {**CONTACT, "callback_at": "2031-01-05T10:00:00+00:00"}


@pytest.mark.parametrize(
    ("call", "lacks"),
    [
        (lambda h: h.upload_contacts("1", [ContactRow(1, parse_contact(CONTACT))], options=UploadOptions()),
         "leads are imported into Lists outside it"),
        (lambda h: h.add_callbacks("1", [CallbackRow(1, parse_callback(CALLBACK))], options=UploadOptions()),
         "no callback endpoint"),
        (lambda h: h.add_dnc(["01614960123"]), "cannot edit do-not-call lists"),
        (lambda h: h.remove_dnc(["01614960123"]), "cannot edit do-not-call lists"),
        (lambda h: h.list_dnc(), "cannot read do-not-call lists"),
        (lambda h: h.get_contact_state("1", "crm-1"), "cannot read leads or their outcomes"),
    ],
    ids=["upload_contacts", "add_callbacks", "add_dnc", "remove_dnc", "list_dnc", "get_contact_state"],
)
def test_unsupported_capabilities_say_what_the_management_api_lacks(hook, sandbox_client, call, lacks):
    with pytest.raises(DialerNotSupportedError) as info:
        call(hook)

    assert info.value.vendor == "MaxContact"
    assert str(info.value).startswith("MaxContact: cannot ")
    assert "manages campaigns, lists, teams, users and skills only" in str(info.value)
    assert lacks in str(info.value)
    assert sandbox_client.requests(vendor="maxcontact") == []  # refused without a login or a call
