"""MaxContact's wire types: the Management API's entities, appendix tables, paths and answer fields.

What the reference (document version 1.3) puts on the wire, with no HTTP: the *Campaign*, *List*,
*Team*, *User* and *SkillUserResult* entities, the appendix ID tables (campaign types and
statuses, zip tones), the Token API and Management API paths, the JSON headers, and how a refused
*ManagementActionResponse* ``{Success, Data, ResponseCode, ResponseDetail}`` names its reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from enum import IntEnum
from typing import TYPE_CHECKING, Any, TypedDict

if TYPE_CHECKING:
    from typing_extensions import Self

TOKEN_LOGIN_PATH = "/webservices/services/apitoken/login/{login}"
MANAGEMENT_PATH = "/webservices/services/management"
#: The API answers XML unless both headers ask for JSON (reference, "Responses").
JSON_HEADERS = {"Accept": "application/json", "Content-Type": "application/json"}
TOKEN_COOKIE = "TokenKey"


# --------------------------------------------------------------------------------------------
# Appendix tables
# --------------------------------------------------------------------------------------------


class AppendixEnum(IntEnum):
    """An ID table of the reference's appendix (members compare equal to the plain ints)."""

    @classmethod
    def from_vendor(cls, value: Any) -> Self | None:
        """The member for an ID (int or digits) or a description ("Not Running", "NotRunning")."""
        if isinstance(value, bool):
            return None
        if isinstance(value, str):
            key = re.sub(r"[\s_-]", "", value).lower()
            if not key.isdigit():
                return next((m for m in cls if m.name.replace("_", "").lower() == key), None)
            value = int(key)
        if isinstance(value, int) and value in cls._value2member_map_:
            return cls(value)
        return None

    @property
    def description(self) -> str:
        """The appendix's description: ``NOT_RUNNING`` -> "Not Running" (``IVR`` stays "IVR")."""
        return self.name if self.name == "IVR" else self.name.replace("_", " ").title()


class CampaignStatus(AppendixEnum):
    """Appendix 2, Campaign Statuses: what MaxContact calls a campaign's ``Status``."""

    NOT_RUNNING = 0
    RUNNING = 1
    PAUSED = 2
    FLUSHED = 3


class CampaignType(AppendixEnum):
    """Appendix 1, Campaign Types: what MaxContact calls a campaign's ``Type`` (dialling strategy)."""

    PREDICTIVE = 0
    PROGRESSIVE = 1
    PREVIEW = 2
    IVR = 3
    BRIDGE = 4
    PING = 5
    INBOUND = 6
    COACH = 7
    INTERACTION = 8


class ZipTone(AppendixEnum):
    """Appendix 3, Zip Tone Styles: a campaign's ``ZipTone`` (the tone an agent hears on connect)."""

    BEEP = 0
    WAV_FILE = 1
    NONE = 2


class ZipToneBeep(AppendixEnum):
    """Appendix 4, Zip Tone Beep Styles: a campaign's ``ZipToneBeep``."""

    HIGH = 0
    LOW = 1
    HILO = 2
    LOHI = 3
    HILOHI = 4
    LOHILO = 5
    TWINKLE = 6
    BEETHOVEN = 7
    BINGO = 8
    OLD_MAC_DONALD = 9
    MARY = 10


# --------------------------------------------------------------------------------------------
# Entities
# --------------------------------------------------------------------------------------------


class Campaign(TypedDict, total=False):
    """MaxContact's *Campaign* entity.

    ``Type`` holds a :class:`CampaignType` ID, ``Status`` a :class:`CampaignStatus` ID.
    """

    Id: int
    CampaignName: str
    Active: bool
    Description: str
    CallerId: str
    Type: int
    MaxLines: int
    DegradeToProgressive: bool
    ProgressiveThreshold: int
    TargetDropPercent: float
    IsBlended: bool
    AutoRecord: bool
    DefaultListId: int
    HoursPerWorkingDay: float
    DefaultPhoneType: int
    TeleParamPlanId: int
    SchedulePlanId: int
    ZipTone: int
    ZipToneBeep: int
    ZipToneWav: str
    NotReadyWaitTime: int
    Status: int


class LeadList(TypedDict, total=False):
    """MaxContact's *List* entity: a list of leads (imported outside this API) dialled by campaigns."""

    Id: int
    ListName: str
    Description: str
    ListType: int
    CallerIdEnabled: bool
    CallerId: str
    MaxCallbackDays: int
    UseMaxCallbackDays: bool
    MaxCallbackDate: str
    FetchWeight: int
    AlertsEnabled: bool
    ScriptingEnabled: bool
    ScriptProvider: int
    ScriptId: int
    Script: str
    RecallPlanId: int
    CallingTimePlanId: int
    ResultCodePlanId: int
    IvrPlanId: int
    AnswerMachinePlanId: int
    DoNotCallPlanId: int
    SchedulePlanId: int


class Team(TypedDict, total=False):
    """MaxContact's *Team* entity: a group of agents that campaigns are associated with."""

    Id: int
    TenantId: int
    TeamName: str
    PrimarySupervisorId: int
    MaxCallbacksPerDay: int
    ServiceTime: int
    HoursPerWorkingDay: float
    WellBeingDeckId: int


class User(TypedDict, total=False):
    """MaxContact's *User* entity (often an agent). ``Password`` is sent on create/update only."""

    Id: int
    FirstName: str
    LastName: str
    Login: str
    RolePlanId: int
    UseRTC: bool
    Extension: str
    AutoLogon: int
    TeamId: int
    AgentCapacityPlanId: int
    SSOActive: bool
    Password: str


class SkillUserResult(TypedDict, total=False):
    """MaxContact's *SkillUserResult*. The reference gives no shape; this provider (and its
    sandbox) use the ManagementActionResponse's status fields plus the skill and the user ids."""

    Success: bool
    ResponseCode: str
    ResponseDetail: str
    SkillId: int
    UserIds: list[int]


# --------------------------------------------------------------------------------------------
# Answers
# --------------------------------------------------------------------------------------------


def is_management_response(payload: Any) -> bool:
    """Whether a decoded answer is a ManagementActionResponse (an object with a boolean ``Success``)."""
    return isinstance(payload, dict) and isinstance(payload.get("Success"), bool)


def response_code_and_detail(payload: Mapping[str, Any]) -> tuple[str | None, str]:
    """A refused ManagementActionResponse's ``ResponseCode`` and ``ResponseDetail``."""
    code, detail = payload.get("ResponseCode"), payload.get("ResponseDetail")
    return (None if code is None else str(code)), ("" if detail is None else str(detail))


def refusal_from_text(text: str) -> tuple[str | None, str] | None:
    """A refused answer's code and detail: a ManagementActionResponse's, or the web framework's
    ``{Message}`` (no code); None when the body is neither."""
    try:
        payload = json.loads(text)
    except ValueError:
        payload = None
    if isinstance(payload, dict) and ("ResponseCode" in payload or "ResponseDetail" in payload):
        return response_code_and_detail(payload)
    if isinstance(payload, dict) and isinstance(payload.get("Message"), str):
        return None, payload["Message"]
    return None
