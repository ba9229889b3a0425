"""Dialer triggers: they poll a vendor-neutral capability in the triggerer, without blocking it.

``from airflow_provider_dialers.triggers import CampaignCompletionTrigger`` and so on. The sensors
defer to them; the polling loop is written once, in :mod:`airflow_provider_dialers.triggers.base`.
The classes are loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_dialers._lazy import lazy_exports

_TRIGGERS = {
    "CampaignCompletionTrigger": "campaign",
    "ContactStateTrigger": "contact",
    "DialerPollingTrigger": "base",
}

__all__ = ["CampaignCompletionTrigger", "ContactStateTrigger", "DialerPollingTrigger"]

if TYPE_CHECKING:
    from airflow_provider_dialers.triggers.base import DialerPollingTrigger
    from airflow_provider_dialers.triggers.campaign import CampaignCompletionTrigger
    from airflow_provider_dialers.triggers.contact import ContactStateTrigger


__getattr__ = lazy_exports(__name__, _TRIGGERS)
