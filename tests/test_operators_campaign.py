"""CreateCampaignOperator, SetCampaignStatusOperator and DncOperator over real HTTP against the sandbox."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_dialers.hooks.base import DialerNotSupportedError, DialerValidationError
from airflow_provider_dialers.operators.campaign import CreateCampaignOperator, SetCampaignStatusOperator
from airflow_provider_dialers.operators.dnc import DncOperator

# Every sandbox test here runs under each readings profile (the references' silent points read
# one way, then the other: docs/readings.md).
pytestmark = pytest.mark.readings_profiles

ECM_CAMPAIGN = {
    "name": "Winter Renewals", "startTime": "09:00", "endTime": "20:00", "strategyId": 1, "type": 0,
    "ciscoCampaignId": "5001", "weekDays": "1,2,3,4,5", "enabled": True,
}
MAXCONTACT_CAMPAIGN = {"CampaignName": "Winter Renewals", "Type": 1, "Description": "renewals"}


class FakeTI:
    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


def run(operator) -> tuple[Any, FakeTI]:
    ti = FakeTI()
    return operator.execute({"ti": ti}), ti


def ecm_campaigns(sandbox) -> dict[str, dict]:
    state = sandbox.client.state("expertflow")["campaigns"]
    items = state.values() if isinstance(state, dict) else state
    return {str(c["id"]): c for c in items}


@pytest.mark.parametrize(("conn_id", "spec", "vendor"), [
    ("expertflow_ecm_default", ECM_CAMPAIGN, "expertflow"),
    ("expertflow_ecm_132", ECM_CAMPAIGN, "expertflow"),
    ("maxcontact_default", MAXCONTACT_CAMPAIGN, "maxcontact"),
])
def test_create_campaign_then_a_retry_reuses_it(sandbox, conn_id, spec, vendor):
    before = len(sandbox.client.state(vendor)["campaigns"])
    campaign_id, ti = run(CreateCampaignOperator(task_id="create", dialer_conn_id=conn_id, campaign=spec))
    assert ti.xcom["created"] is True and campaign_id
    again, ti = run(CreateCampaignOperator(task_id="create", dialer_conn_id=conn_id, campaign=spec))
    assert again == campaign_id and ti.xcom["created"] is False
    assert len(sandbox.client.state(vendor)["campaigns"]) == before + 1  # exactly one created


def test_create_campaign_if_exists_fail(sandbox):
    run(CreateCampaignOperator(task_id="c", dialer_conn_id="expertflow_ecm_default", campaign=ECM_CAMPAIGN))
    with pytest.raises(DialerValidationError, match="already exists"):
        run(CreateCampaignOperator(task_id="c", dialer_conn_id="expertflow_ecm_default", campaign=ECM_CAMPAIGN,
                                   if_exists="fail"))


@pytest.mark.parametrize(("missing", "conn_id", "spec"), [
    ("strategyId", "expertflow_ecm_default", ECM_CAMPAIGN),
    ("Type", "maxcontact_default", MAXCONTACT_CAMPAIGN),
])
def test_create_campaign_names_a_missing_required_field_and_sends_nothing(sandbox, missing, conn_id, spec):
    incomplete = {k: v for k, v in spec.items() if k != missing}
    sandbox.client.clear_requests()
    with pytest.raises(DialerValidationError) as info:
        run(CreateCampaignOperator(task_id="c", dialer_conn_id=conn_id, campaign=incomplete))
    assert info.value.field == missing
    assert not [r for r in sandbox.client.requests() if r["method"] == "POST" and "ampaign" in r["path"]]


def test_create_campaign_without_a_name_is_refused(sandbox):
    with pytest.raises(DialerValidationError, match="name is required"):
        run(CreateCampaignOperator(task_id="c", dialer_conn_id="expertflow_ecm_default",
                                   campaign={k: v for k, v in ECM_CAMPAIGN.items() if k != "name"}))


@pytest.mark.parametrize("conn_id", ["sinch_obi_default", "ameyo_default"])
def test_create_campaign_is_not_supported_by_sinch_and_ameyo(sandbox, conn_id):
    with pytest.raises(DialerNotSupportedError, match="cannot create campaigns"):
        run(CreateCampaignOperator(task_id="c", dialer_conn_id=conn_id, campaign={"name": "New one"}))


def _status_of(sandbox, conn_id: str, campaign_id: str) -> str:
    from airflow_provider_dialers.hooks import get_dialer_hook

    with get_dialer_hook(conn_id) as hook:
        return next(c["status"] for c in hook.list_campaigns() if c["id"] == campaign_id)


@pytest.mark.parametrize(("conn_id", "campaign_id", "paused", "running"), [
    ("expertflow_ecm_default", "1", "Paused", "Running"),
    ("expertflow_ecm_132", "1", "Paused", "Running"),
    ("maxcontact_default", "1", "Paused", "Running"),
    ("sinch_obi_default", "8A7C98EAF1164F2FAA93B98EECB95D76", "Passive", "Active"),
])
def test_set_campaign_status_pauses_and_resumes(sandbox, conn_id, campaign_id, paused, running):
    result, _ = run(SetCampaignStatusOperator(task_id="s", dialer_conn_id=conn_id, campaign_id=campaign_id,
                                              status="paused"))
    assert result == {"campaign_id": campaign_id, "status": "paused"}
    assert _status_of(sandbox, conn_id, campaign_id) == paused
    run(SetCampaignStatusOperator(task_id="s", dialer_conn_id=conn_id, campaign_id=campaign_id, status="running"))
    assert _status_of(sandbox, conn_id, campaign_id) == running


def test_set_campaign_status_refuses_an_unknown_status_and_ameyo(sandbox):
    with pytest.raises(DialerValidationError, match="status"):
        run(SetCampaignStatusOperator(task_id="s", dialer_conn_id="sinch_obi_default", campaign_id="x",
                                      status="stopped"))
    with pytest.raises(DialerNotSupportedError, match="Ameyo"):
        run(SetCampaignStatusOperator(task_id="s", dialer_conn_id="ameyo_default", campaign_id="1"))


def dnc_numbers(sandbox) -> set[str]:
    state = sandbox.client.state("expertflow")
    entries = state["dnc"].values() if isinstance(state["dnc"], dict) else state["dnc"]
    return {e["primaryNumber"] for e in entries}


def test_dnc_add_remove_and_source(sandbox, tmp_path):
    before = dnc_numbers(sandbox)
    source = tmp_path / "optouts.csv"
    source.write_text("contact-number,optional-name\n0300 111 2222,Ann\n0300-333-4444,Bob\nnot-a-number\n")
    result, _ = run(DncOperator(task_id="d", dialer_conn_id="expertflow_ecm_default",
                                add=["03005550001", "03005550001"], source=str(source)))
    assert result["added"] == 3 and result["invalid"] == 1
    assert result["invalid_numbers"][0]["line"] == 4 and "letters" in result["invalid_numbers"][0]["reason"]
    assert dnc_numbers(sandbox) == before | {"03005550001", "03001112222", "03003334444"}
    again, _ = run(DncOperator(task_id="d", dialer_conn_id="expertflow_ecm_default", add="03005550001"))
    assert again["added"] == 0 and again["already_present"] == 1
    removed, _ = run(DncOperator(task_id="d", dialer_conn_id="expertflow_ecm_default",
                                 remove="03005550001;03009999999"))
    assert removed["removed"] == 1 and removed["not_found"] == 1
    assert "03005550001" not in dnc_numbers(sandbox)


@pytest.mark.parametrize("conn_id", ["maxcontact_default", "sinch_obi_default", "ameyo_default"])
def test_dnc_is_not_supported_elsewhere(sandbox, conn_id):
    with pytest.raises(DialerNotSupportedError, match="DNC"):
        run(DncOperator(task_id="d", dialer_conn_id=conn_id, add=["5551234"]))


def test_dnc_needs_something_to_do(sandbox):
    with pytest.raises(ValueError, match="needs numbers"):
        run(DncOperator(task_id="d", dialer_conn_id="expertflow_ecm_default"))


def test_unsupported_can_be_skipped_instead_of_failed(sandbox):
    from airflow.sdk.exceptions import AirflowSkipException

    with pytest.raises(AirflowSkipException, match="skipped: MaxContact: cannot manage a DNC list"):
        run(DncOperator(task_id="d", dialer_conn_id="maxcontact_default", add=["5551234"], on_unsupported="skip"))
    with pytest.raises(ValueError, match="on_unsupported"):
        DncOperator(task_id="d", dialer_conn_id="maxcontact_default", add=["5551234"], on_unsupported="ignore")
