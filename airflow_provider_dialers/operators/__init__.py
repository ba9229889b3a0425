"""Vendor-neutral dialer operators: they call the hook's capabilities, never a vendor by name.

``from airflow_provider_dialers.operators import UploadContactsOperator`` and so on. The classes are
loaded on first use, so a DAG file importing one operator does not load the others' modules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_dialers._lazy import lazy_exports

_OPERATORS = {
    "CreateCampaignOperator": "campaign",
    "SetCampaignStatusOperator": "campaign",
    "UploadContactsOperator": "upload",
    "AddCallbacksOperator": "upload",
    "DncOperator": "dnc",
    "GlobalEmergencyOperator": "emergency",
    "ExportContactOutcomesOperator": "export",
}

__all__ = [
    "AddCallbacksOperator",
    "CreateCampaignOperator",
    "DncOperator",
    "ExportContactOutcomesOperator",
    "GlobalEmergencyOperator",
    "SetCampaignStatusOperator",
    "UploadContactsOperator",
]

if TYPE_CHECKING:
    from airflow_provider_dialers.operators.campaign import CreateCampaignOperator, SetCampaignStatusOperator
    from airflow_provider_dialers.operators.dnc import DncOperator
    from airflow_provider_dialers.operators.emergency import GlobalEmergencyOperator
    from airflow_provider_dialers.operators.export import ExportContactOutcomesOperator
    from airflow_provider_dialers.operators.upload import AddCallbacksOperator, UploadContactsOperator


__getattr__ = lazy_exports(__name__, _OPERATORS)
