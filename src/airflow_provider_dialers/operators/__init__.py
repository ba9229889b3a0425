"""Vendor-neutral dialer operators: they call the hook's capabilities, never a vendor by name.

``from airflow_provider_dialers.operators import UploadContactsOperator`` and so on. The classes are
loaded on first use, so a DAG file importing one operator does not load the others' modules.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_OPERATORS = {
    "CreateCampaignOperator": "campaign",
    "SetCampaignStatusOperator": "campaign",
    "UploadContactsOperator": "upload",
    "AddCallbacksOperator": "upload",
    "DncOperator": "dnc",
    "GlobalEmergencyOperator": "emergency",
}

__all__ = sorted(_OPERATORS)

if TYPE_CHECKING:
    from airflow_provider_dialers.operators.campaign import CreateCampaignOperator, SetCampaignStatusOperator
    from airflow_provider_dialers.operators.dnc import DncOperator
    from airflow_provider_dialers.operators.emergency import GlobalEmergencyOperator
    from airflow_provider_dialers.operators.upload import AddCallbacksOperator, UploadContactsOperator


def __getattr__(name: str) -> Any:
    if name not in _OPERATORS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f"{__name__}.{_OPERATORS[name]}")
    return getattr(module, name)
