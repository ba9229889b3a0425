"""Ameyo Customer Manager API hook, at its historical import path.

The code lives in :mod:`airflow_provider_dialers.vendors.ameyo` (``wire``, ``records``, ``auth``,
``api``, ``hook``); these are the same objects.
"""

from __future__ import annotations

from airflow_provider_dialers.vendors.ameyo.api import AmeyoApi
from airflow_provider_dialers.vendors.ameyo.auth import AmeyoSession, AmeyoSessionAuth
from airflow_provider_dialers.vendors.ameyo.hook import AmeyoHook
from airflow_provider_dialers.vendors.ameyo.records import call_status, is_settled
from airflow_provider_dialers.vendors.ameyo.wire import (
    AMEYO_TIME_FORMAT,
    COMMAND_PATH,
    CUSTOMER_TABLE_ALIAS,
    DEFAULT_TERMINAL,
    FAILED_RESULT_TYPES,
    FORM_CONTENT_TYPE,
    PROGRESS_COLUMNS,
    STATE_COLUMNS,
    SUCCESSFUL_RESULT_TYPES,
    TERMINAL_CALL_STATUSES,
    AmeyoCallback,
    AmeyoCallStatus,
    AmeyoCampaignInfo,
    AmeyoContact,
    AmeyoLead,
    AmeyoLoginInfo,
    AmeyoRecordResult,
    AmeyoResultType,
    AmeyoSessionStatus,
    CommandAnswer,
    CustomerCallback,
    command_form,
    form_quote,
    format_ameyo_time,
    is_invalid_session_body,
    limit_offset,
    other_columns_map,
    upload_contacts_data,
    vendor_error,
)

__all__ = [
    "AMEYO_TIME_FORMAT",
    "COMMAND_PATH",
    "CUSTOMER_TABLE_ALIAS",
    "DEFAULT_TERMINAL",
    "FAILED_RESULT_TYPES",
    "FORM_CONTENT_TYPE",
    "PROGRESS_COLUMNS",
    "STATE_COLUMNS",
    "SUCCESSFUL_RESULT_TYPES",
    "TERMINAL_CALL_STATUSES",
    "AmeyoApi",
    "AmeyoCallStatus",
    "AmeyoCallback",
    "AmeyoCampaignInfo",
    "AmeyoContact",
    "AmeyoHook",
    "AmeyoLead",
    "AmeyoLoginInfo",
    "AmeyoRecordResult",
    "AmeyoResultType",
    "AmeyoSession",
    "AmeyoSessionAuth",
    "AmeyoSessionStatus",
    "CommandAnswer",
    "CustomerCallback",
    "call_status",
    "command_form",
    "form_quote",
    "format_ameyo_time",
    "is_invalid_session_body",
    "is_settled",
    "limit_offset",
    "other_columns_map",
    "upload_contacts_data",
    "vendor_error",
]
