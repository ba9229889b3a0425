"""The Ameyo sandbox's dialing simulation, observed through the documented read commands."""

from __future__ import annotations

from airflow_provider_dialers.hooks.ameyo import AmeyoHook

HOOK_CLASS = AmeyoHook  # the ``hook`` fixture (conftest.py)


def outcomes(hook: AmeyoHook, campaign_id: int) -> dict[int, tuple[str, int]]:
    return {c.customer_id: (c.status, c.attempts)
            for c in hook.iter_contacts(campaign_id, other_columns=("status", "attempts"))}


def is_complete(hook: AmeyoHook, campaign_id: int) -> bool:
    """What a completion sensor checks: every customer of an enabled lead is CONNECTED or has used
    its lead's maxAttempt."""
    max_attempt = {lead.lead_id: lead.max_attempt for lead in hook.get_leads_for_campaign(campaign_id)}
    contacts = hook.iter_contacts(
        campaign_id, choose_enabled_leads=True, other_columns=("status", "attempts")
    )
    return all(c.status == "CONNECTED" or c.attempts >= max_attempt[c.lead_id] for c in contacts)


def test_dialing_moves_customers_of_running_campaigns_to_final_outcomes(hook, sandbox_client):
    assert not is_complete(hook, 1)
    assert sandbox_client.advance(contacts=3, vendor="ameyo") == {"ameyo": 3}
    first_round = outcomes(hook, 1)
    assert sum(attempts for _, attempts in first_round.values()) == 5 + 3  # 12458 started with 5
    sandbox_client.advance(vendor="ameyo")
    assert is_complete(hook, 1) and is_complete(hook, 5)
    final = outcomes(hook, 1)
    assert final[12462] == ("NOT_TRIED", 0)  # lead 35 is disabled
    assert outcomes(hook, 10) == {12480: ("NOT_TRIED", 0)}  # inbound campaign: not running
    assert sandbox_client.advance(vendor="ameyo") == {"ameyo": 0}  # nothing left to dial


def test_dialing_stops_at_the_leads_max_attempt(hook, sandbox, sandbox_client):
    sandbox.core.vendors["ameyo"].leads[51]["maxAttempt"] = 1
    sandbox_client.advance(vendor="ameyo")
    assert {attempts for _, attempts in outcomes(hook, 5).values()} == {1}
    assert is_complete(hook, 5)


def test_connected_customers_carry_their_history(hook, sandbox_client):
    sandbox_client.advance(vendor="ameyo")
    columns = ("status", "attempts", "disposition", "last_status_1", "last_dialed_number_1")
    connected = [c for c in hook.get_contacts(1, choose_enabled_leads=True, other_columns=columns)
                 if c.status == "CONNECTED"]
    assert connected
    for contact in connected:
        assert contact.extra_data["LAST_STATUS_1"] == "CONNECTED"
        assert contact.extra_data["DISPOSITION"] in ("Sale", "Not Interested", "Foreign Language")
        assert contact.num_outbound_connected == 1
        assert contact.extra_data["LAST_DIALED_NUMBER_1"] == contact.customer_data["phone1"]


def test_dialing_is_deterministic(hook, sandbox, sandbox_client):
    sandbox_client.advance(vendor="ameyo")
    first = outcomes(hook, 1)
    sandbox_client.reset()
    sandbox_client.advance(vendor="ameyo")
    assert outcomes(hook, 1) == first


def test_uploaded_customers_are_dialed_and_churned_customers_dialed_again(hook, sandbox_client):
    [result] = hook.upload_customer_records(1, 39, [{"phone1": "9876543210"}])
    sandbox_client.advance(vendor="ameyo")
    status, attempts = outcomes(hook, 1)[result.customer_id]
    assert attempts >= 1
    hook.upload_customer_records(1, 39, [{"phone1": "9876543210"}], status="NOT_TRIED")
    assert outcomes(hook, 1)[result.customer_id] == ("NOT_TRIED", 0)
    assert not is_complete(hook, 1)
    sandbox_client.advance(vendor="ameyo")
    assert is_complete(hook, 1)
