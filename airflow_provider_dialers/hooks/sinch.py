"""Sinch Contact Center OBI at its historical import path, for existing DAG code.

The vendor lives in :mod:`airflow_provider_dialers.vendors.sinch` (``wire``, ``records``, ``auth``,
``api``, ``hook``); these are the same objects.
"""

from __future__ import annotations

from airflow_provider_dialers.vendors.sinch.api import SinchObiApi
from airflow_provider_dialers.vendors.sinch.auth import SinchBasicAuth
from airflow_provider_dialers.vendors.sinch.hook import SinchObiHook
from airflow_provider_dialers.vendors.sinch.records import (
    campaign_progress,
    contact_state,
    customer_from_callback,
    customer_from_contact,
    duplicate_in_batch,
    outcome_from_item,
)
from airflow_provider_dialers.vendors.sinch.wire import (
    API_ROOT,
    CAMPAIGN_SEARCH_FIELDS,
    CAMPAIGN_STATUS_BY_WORD,
    CREATED_ID_MEDIA_TYPE,
    CUSTOMER_SEARCH_FIELDS,
    JSON,
    RECOMMENDED_LIST_SIZE,
    SETTABLE_CAMPAIGN_STATUSES,
    CustomerItemResult,
    CustomerListResult,
    DateLike,
    SearchValue,
    attribute_list,
    customer_record,
    format_datetime,
    normalise_customer,
)

__all__ = [
    "API_ROOT",
    "CAMPAIGN_SEARCH_FIELDS",
    "CAMPAIGN_STATUS_BY_WORD",
    "CREATED_ID_MEDIA_TYPE",
    "CUSTOMER_SEARCH_FIELDS",
    "JSON",
    "RECOMMENDED_LIST_SIZE",
    "SETTABLE_CAMPAIGN_STATUSES",
    "CustomerItemResult",
    "CustomerListResult",
    "DateLike",
    "SearchValue",
    "SinchBasicAuth",
    "SinchObiApi",
    "SinchObiHook",
    "attribute_list",
    "campaign_progress",
    "contact_state",
    "customer_from_callback",
    "customer_from_contact",
    "customer_record",
    "duplicate_in_batch",
    "format_datetime",
    "normalise_customer",
    "outcome_from_item",
]
