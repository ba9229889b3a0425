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
from datetime import datetime, timezone
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


# --------------------------------------------------------------------------------------------
# Readings: where the reference is silent and a faithful server may answer either way
# (docs/readings.md; the sandbox plays every choice)
# --------------------------------------------------------------------------------------------

PATCH_REPLY, PATCH_VALUE = "mc_patch_reply", "mc_patch_value"
EMERGENCY_DISABLE, TOKEN_EXPIRY, TOKEN_ANSWER = "mc_emergency_disable", "mc_token_expiry", "mc_token_answer"
READINGS: dict[str, tuple[str, ...]] = {
    PATCH_REPLY: ("bare_value", "campaign_object", "null"),
    PATCH_VALUE: ("id", "name", "description"),
    EMERGENCY_DISABLE: ("restart_stopped", "flag_only"),
    TOKEN_EXPIRY: ("http_401", "http_403", "success_false"),
    TOKEN_ANSWER: ("token_key", "envelope", "string"),
}


def appendix_forms(member: AppendixEnum) -> dict[str, str]:
    """The forms an appendix value may take in a PATCH body (reading ``mc_patch_value``), in the order
    they are tried: the ID as a string ("0": an int parser and an enum parser both take it), the enum
    name ("NotRunning"), the appendix's description ("Not Running")."""
    return {"id": str(int(member)), "name": member.description.replace(" ", ""), "description": member.description}


def patched_value(data: Any, field: str, entity_field: str) -> tuple[Any, str]:
    """What a status or type PATCH answered (reading ``mc_patch_reply``) and the shape it came in:
    the bare value, the updated campaign (``{Id, CampaignStatus: "Running", Status: 1}``: the named
    field, else the entity's), or null. A campaign object naming neither value gives None."""
    if isinstance(data, dict):
        return data.get(field, data.get(entity_field)), "campaign_object"
    return data, "null" if data is None else "bare_value"


def token_from_answer(payload: Any) -> tuple[str | None, str]:
    """The ``TokenKey`` of a Token API answer and its shape (reading ``mc_token_answer``): top level
    ``{TokenKey}``, a ManagementActionResponse whose Data holds it (or is it), or the bare token."""
    if isinstance(payload, str):
        return payload or None, "string"
    if not isinstance(payload, dict):
        return None, "token_key"
    if TOKEN_COOKIE in payload or not is_management_response(payload):
        token = payload.get(TOKEN_COOKIE)
        return (token if isinstance(token, str) and token else None), "token_key"
    data = payload.get("Data")
    token = data.get(TOKEN_COOKIE) if isinstance(data, dict) else data
    return (token if isinstance(token, str) and token else None), "envelope"


#: Keys an answer's expiry may go by (compared without case or underscores): a duration in seconds
#: (``expires_in``), or a time (``Expiry``, ``ExpiresOn``: ISO 8601, or Unix seconds or milliseconds).
_DURATION_KEYS = frozenset({"expiresin", "expiryseconds", "lifetime", "ttl"})
_TIME_KEYS = frozenset({"expiry", "expires", "expireson", "expiresat", "expirydate", "expirytime",
                        "expiration", "expirationdate", "tokenexpiry", "validuntil"})
#: Longest lifetime believed: anything longer is more likely a misread unit or time zone.
_MAX_LIFETIME = 7 * 24 * 3600.0


def token_lifetime(payload: Any, server_now: float) -> float | None:
    """Seconds the token of a Token API answer lives, when the answer says (top level or under Data):
    a duration, or a time less ``server_now`` (when the answer came). A time without an offset is
    read as UTC. None when the answer carries no believable expiry."""
    if not isinstance(payload, dict):
        return None
    data = payload.get("Data")
    for source in (payload, data) if isinstance(data, dict) else (payload,):
        for key, value in source.items():
            name = str(key).replace("_", "").lower()
            seconds = None
            if name in _DURATION_KEYS:
                seconds = _number(value)
            elif name in _TIME_KEYS:
                seconds = _instant(value)
                seconds = None if seconds is None else seconds - server_now
            if seconds is not None and 0 < seconds <= _MAX_LIFETIME:
                return seconds
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and re.fullmatch(r"\s*\d+(\.\d+)?\s*", value):
        value = float(value)
    return float(value) if isinstance(value, (int, float)) else None


def _instant(value: Any) -> float | None:
    """A point in time as Unix seconds: Unix seconds or milliseconds, or ISO 8601 (no offset: UTC)."""
    number = _number(value)
    if number is not None:
        return number / 1000 if number > 1e12 else number
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


#: Words by which a 403 or a ``Success: false`` answer says the token itself is refused (reading
#: ``mc_token_expiry``), as opposed to a refusal of the request (rights, ids, values, state).
_TOKEN_REFUSED = re.compile(
    r"token|expired|session|unauthori[sz]ed|not authenticated|authentication|log ?in again"
    r"|authorization has been denied",
    re.IGNORECASE,
)


def says_token_refused(text: str) -> bool:
    """Whether a refusal's text says the credential (not the request) is what was refused."""
    return bool(_TOKEN_REFUSED.search(text))
