"""MaxContact's names at their historical import path (``hooks.maxcontact``), for existing DAG code.

The vendor lives in :mod:`airflow_provider_dialers.vendors.maxcontact` (wire types in ``wire``,
the Token API auth in ``auth``, the endpoints in ``api``, the capabilities in ``hook``); these
are the same objects. The paths and headers (and ``MaxContactApi``) are importable here too,
outside ``__all__``.
"""

from __future__ import annotations

from airflow_provider_dialers.vendors.maxcontact.api import MaxContactApi as MaxContactApi
from airflow_provider_dialers.vendors.maxcontact.auth import MaxContactTokenAuth
from airflow_provider_dialers.vendors.maxcontact.hook import MaxContactHook
from airflow_provider_dialers.vendors.maxcontact.wire import (
    JSON_HEADERS as JSON_HEADERS,
)
from airflow_provider_dialers.vendors.maxcontact.wire import (
    MANAGEMENT_PATH as MANAGEMENT_PATH,
)
from airflow_provider_dialers.vendors.maxcontact.wire import (
    TOKEN_COOKIE as TOKEN_COOKIE,
)
from airflow_provider_dialers.vendors.maxcontact.wire import (
    TOKEN_LOGIN_PATH as TOKEN_LOGIN_PATH,
)
from airflow_provider_dialers.vendors.maxcontact.wire import (
    AppendixEnum,
    Campaign,
    CampaignStatus,
    CampaignType,
    LeadList,
    SkillUserResult,
    Team,
    User,
    ZipTone,
    ZipToneBeep,
)

__all__ = [
    "AppendixEnum",
    "Campaign",
    "CampaignStatus",
    "CampaignType",
    "LeadList",
    "MaxContactHook",
    "MaxContactTokenAuth",
    "SkillUserResult",
    "Team",
    "User",
    "ZipTone",
    "ZipToneBeep",
]
