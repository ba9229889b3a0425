"""ExpertFlow ECM's names at their historical import path (``hooks.expertflow``), for existing DAG code.

The vendor lives in :mod:`airflow_provider_dialers.vendors.expertflow` (``wire``, ``records``,
``auth``, ``api``, ``hook``); these are the same objects. Names this module defined or imported
before the split but left out of ``__all__`` are re-exported explicitly (``X as X``).
"""

from __future__ import annotations

from airflow_provider_dialers.vendors.expertflow.auth import EcmBearerAuth
from airflow_provider_dialers.vendors.expertflow.hook import ExpertflowEcmHook
from airflow_provider_dialers.vendors.expertflow.records import (
    EcmContactMapping as EcmContactMapping,
)
from airflow_provider_dialers.vendors.expertflow.records import (
    insert_outcome as insert_outcome,
)
from airflow_provider_dialers.vendors.expertflow.records import (
    listed_number as listed_number,
)
from airflow_provider_dialers.vendors.expertflow.wire import (
    ATTEMPT as ATTEMPT,
)
from airflow_provider_dialers.vendors.expertflow.wire import (
    BULK_CALLER_COLUMNS,
    CAMPAIGN_REQUIRED_FIELDS,
    IN_FLIGHT_STATES,
    TERMINAL_COUNT_ORDER,
    TERMINAL_STATES,
    CampaignType,
    Channel,
    EcmPreferenceSettings,
    RequestState,
)
from airflow_provider_dialers.vendors.expertflow.wire import (
    BUSINESS_PARAM_FIELDS as BUSINESS_PARAM_FIELDS,
)
from airflow_provider_dialers.vendors.expertflow.wire import (
    CALLBACK as CALLBACK,
)
from airflow_provider_dialers.vendors.expertflow.wire import (
    CAMPAIGN as CAMPAIGN,
)
from airflow_provider_dialers.vendors.expertflow.wire import (
    CAMPAIGN_OPTIONAL_FIELDS as CAMPAIGN_OPTIONAL_FIELDS,
)
from airflow_provider_dialers.vendors.expertflow.wire import (
    CLOCK_TIME as CLOCK_TIME,
)
from airflow_provider_dialers.vendors.expertflow.wire import (
    CONTACT_LOOKUP_PAGE as CONTACT_LOOKUP_PAGE,
)
from airflow_provider_dialers.vendors.expertflow.wire import (
    DEFAULT_RELEASE as DEFAULT_RELEASE,
)
from airflow_provider_dialers.vendors.expertflow.wire import (
    DNC as DNC,
)
from airflow_provider_dialers.vendors.expertflow.wire import (
    FIRST_PAGE as FIRST_PAGE,
)
from airflow_provider_dialers.vendors.expertflow.wire import (
    LOGIN_PATH as LOGIN_PATH,
)
from airflow_provider_dialers.vendors.expertflow.wire import (
    LOGIN_REFUSED_STATUSES as LOGIN_REFUSED_STATUSES,
)
from airflow_provider_dialers.vendors.expertflow.wire import (
    MESSAGE_KEYS as MESSAGE_KEYS,
)
from airflow_provider_dialers.vendors.expertflow.wire import (
    PHONE_FIELDS as PHONE_FIELDS,
)
from airflow_provider_dialers.vendors.expertflow.wire import (
    PHONE_MAX_LENGTH as PHONE_MAX_LENGTH,
)
from airflow_provider_dialers.vendors.expertflow.wire import (
    PHONE_MIN_LENGTH as PHONE_MIN_LENGTH,
)
from airflow_provider_dialers.vendors.expertflow.wire import (
    PREFERENCES as PREFERENCES,
)
from airflow_provider_dialers.vendors.expertflow.wire import (
    RELEASES as RELEASES,
)
from airflow_provider_dialers.vendors.expertflow.wire import (
    STRATEGY as STRATEGY,
)
from airflow_provider_dialers.vendors.expertflow.wire import (
    TOKEN_KEYS as TOKEN_KEYS,
)
from airflow_provider_dialers.vendors.expertflow.wire import (
    VENDOR as VENDOR,
)
from airflow_provider_dialers.vendors.expertflow.wire import (
    CampaignId as CampaignId,
)
from airflow_provider_dialers.vendors.expertflow.wire import (
    DuplicateCallbacks as DuplicateCallbacks,
)
from airflow_provider_dialers.vendors.expertflow.wire import (
    EcmCampaignContact as EcmCampaignContact,
)

__all__ = [
    "BULK_CALLER_COLUMNS",
    "CAMPAIGN_REQUIRED_FIELDS",
    "IN_FLIGHT_STATES",
    "TERMINAL_COUNT_ORDER",
    "TERMINAL_STATES",
    "CampaignType",
    "Channel",
    "EcmBearerAuth",
    "EcmPreferenceSettings",
    "ExpertflowEcmHook",
    "RequestState",
]
