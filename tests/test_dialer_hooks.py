"""What every dialer hook shares: lookup by connection type, list_campaigns, the Test button."""

from __future__ import annotations

import pytest

from airflow_provider_dialers.get_provider_info import get_provider_info
from airflow_provider_dialers.hooks import DIALER_HOOKS, dialer_hook_class, get_dialer_hook
from airflow_provider_dialers.hooks.base import DialerHook

CONN_IDS = ["expertflow_ecm_default", "expertflow_ecm_132", "maxcontact_default", "sinch_obi_default", "ameyo_default"]


def test_registry_matches_the_provider_info():
    registered = {c["connection-type"]: c["hook-class-name"] for c in get_provider_info()["connection-types"]}
    assert registered == DIALER_HOOKS
    for conn_type in DIALER_HOOKS:
        assert issubclass(dialer_hook_class(conn_type), DialerHook)


def test_unknown_connection_type_is_refused_clearly():
    with pytest.raises(ValueError, match="'http' is not a dialer"):
        dialer_hook_class("http")


@pytest.mark.parametrize("conn_id", CONN_IDS)
def test_test_connection_ok_for_every_sandbox_connection(sandbox, conn_id):
    with get_dialer_hook(conn_id) as hook:
        ok, message = hook.test_connection()
    assert ok, message


@pytest.mark.parametrize("conn_id", CONN_IDS)
def test_test_connection_fails_clearly_with_a_wrong_password(sandbox, make_connection, conn_id):
    conn_type = get_dialer_hook(conn_id).conn_type
    bad = make_connection(f"{conn_id}_bad", conn_type, password="definitely-wrong-9")
    ok, message = get_dialer_hook(bad).test_connection()
    assert not ok
    assert "Authentication failed" in message
    assert "definitely-wrong-9" not in message


def _seeded_campaigns(state: dict, vendor: str) -> set[str]:
    """Campaign ids in a vendor's sandbox snapshot (each vendor names its collections its own way)."""
    campaigns = state["campaigns"]
    items = campaigns.values() if isinstance(campaigns, dict) else campaigns
    key = {"expertflow": "id", "maxcontact": "Id", "sinch": "id", "ameyo": "campaignId"}[vendor]
    return {str(c[key]) for c in items}


@pytest.mark.parametrize(
    ("conn_id", "vendor"),
    [("expertflow_ecm_default", "expertflow"), ("maxcontact_default", "maxcontact"),
     ("sinch_obi_default", "sinch"), ("ameyo_default", "ameyo")],
)
def test_list_campaigns_reports_the_sandbox_campaigns(sandbox, conn_id, vendor):
    with get_dialer_hook(conn_id) as hook:
        campaigns = hook.list_campaigns()
    assert campaigns and all(set(c) == {"id", "name", "status", "running"} for c in campaigns)
    assert all(c["name"] and c["status"] for c in campaigns)
    running = {c["id"]: c["running"] for c in campaigns}
    expected_running = {"expertflow": {"1": True, "2": False}, "maxcontact": {"2": False},
                        "sinch": {"8A7C98EAF1164F2FAA93B98EECB95D76": False}, "ameyo": {"1": None}}[vendor]
    assert {k: running[k] for k in expected_running} == expected_running
    assert {c["id"] for c in campaigns} <= _seeded_campaigns(sandbox.client.state(vendor), vendor)
