"""The vendor-neutral upload engine behind UploadContactsOperator and AddCallbacksOperator.

``sources`` streams rows (list, CSV, JSON Lines), ``guards`` holds the DNC scrub and the calling
window, ``rejects`` writes the rejects and dry-run files, ``accounting`` counts rows into buckets,
``checkpoint`` keeps progress in ``task_state_store`` and ``engine`` runs an upload.
"""

from __future__ import annotations

from airflow_provider_dialers.uploads.engine import (
    CALLBACKS,
    CONTACTS,
    CapabilityContractError,
    UploadKind,
    UploadRejectedError,
    UploadSettings,
    run_upload,
)
from airflow_provider_dialers.uploads.guards import CallingWindow

__all__ = [
    "CALLBACKS",
    "CONTACTS",
    "CallingWindow",
    "CapabilityContractError",
    "UploadKind",
    "UploadRejectedError",
    "UploadSettings",
    "run_upload",
]
