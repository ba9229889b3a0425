"""Plain helpers and constants shared by test modules (fixtures live in tests/conftest.py)."""

from __future__ import annotations

from typing import Any

from airflow_provider_dialers.retry_policy import RetryPolicy

#: Retries that wait hundredths of a second, not seconds: for hooks built by the tests.
FAST = RetryPolicy(backoff_initial=0.01, backoff_max=0.05)


def first_phones(sandbox: Any, vendor: str, campaign_id: str) -> list[str]:
    """The first phone of every contact the sandbox holds for the campaign, in insertion order (one
    entry per contact), read through the sandbox's admin API."""
    state = sandbox.client.state(vendor)
    if vendor == "expertflow":
        return [c["phone1"] for c in state["callbacks"] if str(c["campaignId"]) == campaign_id]
    if vendor == "sinch":
        return [c["numbers"].split(";")[0] for c in state["campaigns"][campaign_id]["customers"]]
    return [c["customerData"]["phone1"] for c in state["customers"] if str(c["campaignId"]) == campaign_id]


def run_emergency(conn_id: str, enabled: bool | str) -> dict[str, Any]:
    """One GlobalEmergencyOperator task run: a fresh operator (as each DAG run has), a minimal context."""
    from airflow_provider_dialers.operators.emergency import GlobalEmergencyOperator

    return GlobalEmergencyOperator(task_id="emergency", dialer_conn_id=conn_id, enabled=enabled).execute({})
