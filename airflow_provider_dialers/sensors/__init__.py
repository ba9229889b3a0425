"""Vendor-neutral dialer sensors: wait for a campaign to complete, or a contact to reach a state.

``from airflow_provider_dialers.sensors import CampaignCompletionSensor, ContactStateSensor``. Both
poke on a worker (``mode="poke"`` / ``"reschedule"``) or defer to a trigger (``deferrable=True``,
default from ``[operators] default_deferrable``). The classes are loaded on first use, so a DAG
file importing one sensor does not load the others' modules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_dialers._lazy import lazy_exports

_SENSORS = {
    "CampaignCompletionSensor": "campaign",
    "ContactStateSensor": "contact",
}

__all__ = ["CampaignCompletionSensor", "ContactStateSensor"]

if TYPE_CHECKING:
    from airflow_provider_dialers.sensors.campaign import CampaignCompletionSensor
    from airflow_provider_dialers.sensors.contact import ContactStateSensor


__getattr__ = lazy_exports(__name__, _SENSORS)
