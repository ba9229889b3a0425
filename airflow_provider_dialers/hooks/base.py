"""The base hook's names at their historical import path (``hooks.base``), for existing DAG code.

The mechanism lives in :mod:`airflow_provider_dialers.common`, the errors in
:mod:`airflow_provider_dialers.errors`; these are the same objects.
"""

from __future__ import annotations

from airflow_provider_dialers.capabilities import CampaignSummary, DialerCapabilities
from airflow_provider_dialers.common.auth import Credential, CredentialAuth
from airflow_provider_dialers.common.hook import DialerHook
from airflow_provider_dialers.common.responses import describe_body
from airflow_provider_dialers.common.retry import TRANSIENT_STATUSES, parse_retry_after
from airflow_provider_dialers.errors import (
    REDACTED,
    DialerAuthError,
    DialerConfigurationError,
    DialerEmergencyActiveError,
    DialerError,
    DialerNotSupportedError,
    DialerPermanentError,
    DialerRequestError,
    DialerResponseError,
    DialerTLSError,
    DialerTransientError,
    DialerValidationError,
    redact,
    register_secret,
)
from airflow_provider_dialers.retry_policy import RetryPolicy

__all__ = [
    "REDACTED",
    "TRANSIENT_STATUSES",
    "CampaignSummary",
    "Credential",
    "CredentialAuth",
    "DialerAuthError",
    "DialerCapabilities",
    "DialerConfigurationError",
    "DialerEmergencyActiveError",
    "DialerError",
    "DialerHook",
    "DialerNotSupportedError",
    "DialerPermanentError",
    "DialerRequestError",
    "DialerResponseError",
    "DialerTLSError",
    "DialerTransientError",
    "DialerValidationError",
    "RetryPolicy",
    "describe_body",
    "parse_retry_after",
    "redact",
    "register_secret",
]
