"""Simulated MaxContact Management API (document version 1.3), served under ``/webservices``.

The reference is the spec. Where it is silent, this module decides (each decision is marked
"Silent in the reference" and listed in the README's vendor section):

* refusals are ManagementActionResponses with ``Success: false``: ``Invalid Parameters`` (bad or
  missing fields, unknown ids) with HTTP 400, ``Error`` (a valid request the system cannot carry
  out now, such as starting an inactive campaign) with HTTP 200;
* a missing, unknown or expired ``TokenKey`` cookie, and a wrong login, get HTTP 401 with the
  web framework's ``{"Message": ...}`` body;
* answers are JSON when the ``Accept`` header asks for it, XML otherwise (as the reference says).

The appendix tables are repeated here rather than imported from the hook on purpose: the sandbox
is an independent reading of the reference, so a misreading in the hook cannot hide itself.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from airflow_provider_dialers.sandbox.core import VendorSandbox, read_json_object

MANAGEMENT_PATH = "/webservices/services/management"
TOKEN_PATH = "/webservices/services/apitoken/login/{login}"
TOKEN_COOKIE = "TokenKey"
# ASP.NET Web API's standard text for a refused credential (silent in the reference).
UNAUTHORIZED_MESSAGE = "Authorization has been denied for this request."

# Appendix 1 to 5.
CAMPAIGN_TYPES = {0: "Predictive", 1: "Progressive", 2: "Preview", 3: "IVR", 4: "Bridge", 5: "Ping",
                  6: "Inbound", 7: "Coach", 8: "Interaction"}
CAMPAIGN_STATUSES = {0: "Not Running", 1: "Running", 2: "Paused", 3: "Flushed"}
ZIP_TONES = {0: "Beep", 1: "Wav File", 2: "None"}
ZIP_TONE_BEEPS = {0: "High", 1: "Low", 2: "HiLo", 3: "LoHi", 4: "HiLoHi", 5: "LoHiLo", 6: "Twinkle",
                  7: "Beethoven", 8: "Bingo", 9: "OldMacDonald", 10: "Mary"}
LIST_TYPES = {0: "Follow Campaign", 1: "Preview", 2: "Acd"}
PREDICTIVE, PROGRESSIVE, PREVIEW, IVR, BRIDGE = range(5)
NOT_RUNNING, RUNNING, PAUSED, FLUSHED = range(4)

#: Leads the sandbox pretends each campaign created through the API was loaded with: the
#: Management API cannot upload leads, so this stands in for an import done elsewhere.
NEW_CAMPAIGN_LEADS = 10
#: Simulated call outcomes, recorded per campaign (never visible through the Management API).
OUTCOMES = ("Sale", "No Sale", "No Answer", "Busy", "Answer Machine", "Callback")
OUTCOME_WEIGHTS = (2, 3, 4, 1, 3, 1)


# --------------------------------------------------------------------------------------------
# Answers: JSON or XML, and refusals in the documented shapes
# --------------------------------------------------------------------------------------------


def _envelope(success: bool, data: Any, code: str, detail: str) -> dict[str, Any]:
    """The reference's ManagementActionResponse."""
    return {"Success": success, "Data": data, "ResponseCode": code, "ResponseDetail": detail}


class _Reply(JSONResponse):
    """A vendor answer, rendered as XML by :class:`_NegotiatedRoute` unless the client asked for JSON."""

    def __init__(
        self, payload: dict[str, Any], status_code: int = 200, root: str = "ManagementActionResponse",
        item: str = "Item",
    ) -> None:
        super().__init__(payload, status_code)
        self.payload, self.root, self.item = payload, root, item

    def as_xml(self) -> Response:
        element = _xml_element(self.root, self.payload, self.item)
        text = '<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(element, encoding="unicode")
        return Response(text, status_code=self.status_code, media_type="application/xml")


def _xml_element(tag: str, value: Any, item: str) -> ET.Element:
    element = ET.Element(tag)
    if isinstance(value, dict):
        element.extend(_xml_element(key, child, item) for key, child in value.items())
    elif isinstance(value, list):
        element.extend(_xml_element(item, child, item) for child in value)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)
    return element


def _ok(data: Any, detail: str = "OK", item: str = "Item") -> _Reply:
    return _Reply(_envelope(True, data, "Success", detail), item=item)


class _Refusal(Exception):
    """Raised by handlers; :class:`_NegotiatedRoute` answers it as a ManagementActionResponse."""

    def __init__(self, status_code: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status_code, self.code, self.detail = status_code, code, detail

    def reply(self) -> _Reply:
        return _Reply(_envelope(False, None, self.code, self.detail), self.status_code)


class _Unauthorized(_Refusal):
    def __init__(self) -> None:
        super().__init__(401, "Unauthorized", UNAUTHORIZED_MESSAGE)

    def reply(self) -> _Reply:
        return _Reply({"Message": self.detail}, 401, root="Error")


def _invalid(detail: str) -> _Refusal:
    return _Refusal(400, "Invalid Parameters", detail)


def _error(detail: str) -> _Refusal:
    return _Refusal(200, "Error", detail)


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "").lower()


class _NegotiatedRoute(APIRoute):
    """Turns refusals into answers and serves XML to clients that did not ask for JSON."""

    def get_route_handler(self) -> Callable[[Request], Any]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                response = await handler(request)
            except _Refusal as refusal:
                response = refusal.reply()
            if isinstance(response, _Reply) and not _wants_json(request):
                return response.as_xml()
            return response

        return answer


# --------------------------------------------------------------------------------------------
# Request bodies
# --------------------------------------------------------------------------------------------


async def _json_object(request: Request) -> dict[str, Any]:
    return await read_json_object(request, _invalid)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _body_int(body: Mapping[str, Any], name: str) -> int:
    value = body.get(name)
    if not _is_int(value):
        raise _invalid(f"{name} is required and must be an integer")
    return value


def _body_bool(body: Mapping[str, Any], name: str) -> bool:
    value = body.get(name)
    if not isinstance(value, bool):
        raise _invalid(f"{name} is required and must be true or false")
    return value


def _appendix_choice(body: Mapping[str, Any], name: str, table: Mapping[int, str]) -> int:
    """An appendix value given as its ID (number or digits) or its description, any case/spacing.

    Silent in the reference: the field is "string" with no form named, so every form is accepted.
    """
    value = body.get(name)
    if isinstance(value, str):
        key = re.sub(r"\s", "", value).lower()
        for ident, description in table.items():
            if key in (str(ident), description.replace(" ", "").lower()):
                return ident
    elif _is_int(value) and value in table:
        return value
    choices = ", ".join(f"{ident} {description}" for ident, description in table.items())
    raise _invalid(f"{name} {value!r} is not one of: {choices}")


# --------------------------------------------------------------------------------------------
# Entities: one field table per documented entity drives validation, defaults and PUT semantics
# --------------------------------------------------------------------------------------------

_DEFAULTS = {"str": None, "int": 0, "bool": False, "decimal": 0.0, "datetime": None}
_INT_MAX = 2**31 - 1


@dataclass(frozen=True)
class _Field:
    kind: str  # str | int | bool | decimal | datetime
    required: bool = False
    choices: Mapping[int, str] | None = None  # an appendix table
    limits: tuple[float, float] = (0, _INT_MAX)  # for int and decimal
    default: Any = None  # None: the kind's default
    unique: bool = False  # a duplicate answers "Error"
    references: str | None = None  # table of the referenced id (0: none)
    keep_when_omitted: bool = False  # PUT without it keeps the stored value
    read_only: bool = False  # set by the server only; the body's value is ignored
    write_only: bool = False  # accepted, never answered

    def initial(self) -> Any:
        return _DEFAULTS[self.kind] if self.default is None else self.default

    def checked(self, name: str, value: Any) -> Any:
        """``value`` if it fits the field, else the "Invalid Parameters" refusal naming the field."""
        if not _KIND_CHECKS[self.kind](value):
            raise _invalid(f"{name} must be of type {self.kind}")
        if self.choices is not None and value not in self.choices:
            options = ", ".join(f"{i} {d}" for i, d in self.choices.items())
            raise _invalid(f"{name} {value!r} is not one of: {options}")
        if self.kind in ("int", "decimal") and not self.limits[0] <= value <= self.limits[1]:
            raise _invalid(f"{name} must be between {self.limits[0]:g} and {self.limits[1]:g}")
        return value


def _is_iso_datetime(value: Any) -> bool:
    try:
        datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return True


_KIND_CHECKS: dict[str, Callable[[Any], bool]] = {
    "str": lambda v: isinstance(v, str),
    "int": _is_int,
    "bool": lambda v: isinstance(v, bool),
    "decimal": lambda v: _is_int(v) or isinstance(v, float),
    "datetime": _is_iso_datetime,
}


# Silent in the reference: entities carry no Active flag although every entity has an
# activity-status endpoint; the sandbox shows ``Active`` on lists, teams and users too, so the
# change is observable. Active and UseMaxCallbackDays survive a PUT that leaves them out.
_ACTIVE = _Field("bool", default=True, keep_when_omitted=True)

CAMPAIGN_FIELDS: dict[str, _Field] = {
    "CampaignName": _Field("str", required=True, unique=True),
    "Active": _ACTIVE,
    "Description": _Field("str"),
    "CallerId": _Field("str"),
    "Type": _Field("int", choices=CAMPAIGN_TYPES),
    "MaxLines": _Field("int"),
    "DegradeToProgressive": _Field("bool"),
    "ProgressiveThreshold": _Field("int"),
    "TargetDropPercent": _Field("decimal", limits=(0, 100)),
    "IsBlended": _Field("bool"),
    "AutoRecord": _Field("bool"),
    "DefaultListId": _Field("int", references="lists"),
    "HoursPerWorkingDay": _Field("decimal", limits=(0, 24)),
    "DefaultPhoneType": _Field("int"),
    "TeleParamPlanId": _Field("int"),
    "SchedulePlanId": _Field("int"),
    "ZipTone": _Field("int", choices=ZIP_TONES),
    "ZipToneBeep": _Field("int", choices=ZIP_TONE_BEEPS),
    "ZipToneWav": _Field("str"),
    "NotReadyWaitTime": _Field("int"),
    # Changed only through PATCH .../status (and the dialler); a new campaign is Not Running.
    "Status": _Field("int", read_only=True),
}
LIST_FIELDS: dict[str, _Field] = {
    "ListName": _Field("str", required=True, unique=True),
    "Description": _Field("str"),
    "ListType": _Field("int", choices=LIST_TYPES),
    "CallerIdEnabled": _Field("bool"),
    "CallerId": _Field("str"),
    "MaxCallbackDays": _Field("int"),
    "UseMaxCallbackDays": _Field("bool", keep_when_omitted=True),  # documented: omitted -> preserved
    "MaxCallbackDate": _Field("datetime"),
    "FetchWeight": _Field("int"),
    "AlertsEnabled": _Field("bool"),
    "ScriptingEnabled": _Field("bool"),
    "ScriptProvider": _Field("int"),
    "ScriptId": _Field("int"),
    "Script": _Field("str"),
    "RecallPlanId": _Field("int"),
    "CallingTimePlanId": _Field("int"),
    "ResultCodePlanId": _Field("int"),
    "IvrPlanId": _Field("int"),
    "AnswerMachinePlanId": _Field("int"),
    "DoNotCallPlanId": _Field("int"),
    "SchedulePlanId": _Field("int"),
    "Active": _ACTIVE,
}
TEAM_FIELDS: dict[str, _Field] = {
    "TenantId": _Field("int"),
    "TeamName": _Field("str", required=True, unique=True),
    "PrimarySupervisorId": _Field("int", references="users"),
    "MaxCallbacksPerDay": _Field("int"),
    "ServiceTime": _Field("int"),
    "HoursPerWorkingDay": _Field("decimal", limits=(0, 24)),
    "WellBeingDeckId": _Field("int"),
    "Active": _ACTIVE,
}
USER_FIELDS: dict[str, _Field] = {
    "FirstName": _Field("str"),
    "LastName": _Field("str"),
    "Login": _Field("str", required=True, unique=True),
    "RolePlanId": _Field("int"),
    "UseRTC": _Field("bool"),
    "Extension": _Field("str"),
    "AutoLogon": _Field("int"),
    "TeamId": _Field("int", references="teams"),
    "AgentCapacityPlanId": _Field("int"),
    "SSOActive": _Field("bool"),
    # Documented: required on create and update, omitted when getting a user.
    "Password": _Field("str", required=True, write_only=True),
    "Active": _ACTIVE,
}


class _Table:
    """The rows of one entity, keyed by ``Id``."""

    def __init__(self, entity: str, fields: dict[str, _Field]) -> None:
        self.entity, self.fields = entity, fields
        self.rows: dict[int, dict[str, Any]] = {}

    def get(self, row_id: int) -> dict[str, Any]:
        row = self.rows.get(row_id)
        if row is None:
            raise _invalid(f"{self.entity} {row_id} does not exist")
        return row

    def public(self, row: Mapping[str, Any]) -> dict[str, Any]:
        return {name: value for name, value in row.items()
                if name == "Id" or not self.fields[name].write_only}

    def all_public(self) -> list[dict[str, Any]]:
        return [self.public(row) for _, row in sorted(self.rows.items())]

    def normalized(self, body: Mapping[str, Any], previous: Mapping[str, Any] | None) -> dict[str, Any]:
        """A full row from a create (``previous`` None) or PUT body: PUT replaces the entity, so
        omitted fields take their defaults unless they are kept (silent in the reference, which
        calls the body "a single entity" and only promises UseMaxCallbackDays is preserved)."""
        row_id = previous["Id"] if previous else max(self.rows, default=0) + 1
        if previous and body.get("Id") not in (None, 0, row_id):
            raise _invalid(f"Id {body['Id']!r} in the body does not match {self.entity} {row_id} of the URL")
        row: dict[str, Any] = {"Id": row_id}
        for name, field in self.fields.items():
            given = body.get(name)
            if field.read_only:
                row[name] = previous[name] if previous else field.initial()
            elif field.required and given in (None, ""):
                raise _invalid(f"{name} is required")
            elif given is not None:
                row[name] = field.checked(name, given)
            elif previous and field.keep_when_omitted:
                row[name] = previous[name]
            else:
                row[name] = field.initial()
        return row


# --------------------------------------------------------------------------------------------
# The vendor
# --------------------------------------------------------------------------------------------


class MaxContactSandbox(VendorSandbox):
    """MaxContact's Token API and Management API, with campaigns, lists, teams, users and skills."""

    name = "maxcontact"
    path_prefix = "/webservices"

    # -- state -----------------------------------------------------------------------------------
    def seed_state(self) -> None:
        self.campaigns = _Table("Campaign", CAMPAIGN_FIELDS)
        self.lists = _Table("List", LIST_FIELDS)
        self.teams = _Table("Team", TEAM_FIELDS)
        self.users = _Table("User", USER_FIELDS)
        self.tables = {
            "campaigns": self.campaigns, "lists": self.lists, "teams": self.teams, "users": self.users,
        }
        self.campaign_lists: dict[int, set[int]] = {}
        self.campaign_teams: dict[int, set[int]] = {}
        # The dial simulation's stand-in for leads (the Management API cannot see them).
        self.leads_left: dict[int, int] = {}
        self.outcomes: dict[int, Counter[str]] = {}
        # Silent in the reference: skills are listed only in the Manager Portal; a fixed catalogue.
        self.skills = {1: "Renewals", 2: "Collections", 3: "Spanish", 4: "Complaints"}
        self.user_skills: dict[int, dict[int, int]] = {2: {1: 7}, 3: {2: 5}}  # user -> skill -> proficiency
        self.global_emergency = False
        self.emergency_stopped: set[int] = set()

        for values in (
            {"ListName": "Spring Renewals 2025", "Description": "Home policies renewing in April",
             "ListType": 0, "CallerIdEnabled": True, "CallerId": "01614960000", "MaxCallbackDays": 7,
             "UseMaxCallbackDays": True, "FetchWeight": 10},
            {"ListName": "Lapsed Customers", "ListType": 1, "MaxCallbackDays": 3, "FetchWeight": 5},
            {"ListName": "Survey Sample Q2", "ListType": 0, "FetchWeight": 1},
            {"ListName": "Callback Queue", "ListType": 2, "MaxCallbackDays": 1, "UseMaxCallbackDays": True},
        ):
            self._seed(self.lists, values)
        for values in (
            {"TenantId": 1, "TeamName": "Renewals", "PrimarySupervisorId": 1, "MaxCallbacksPerDay": 50,
             "ServiceTime": 20, "HoursPerWorkingDay": 7.5},
            {"TenantId": 1, "TeamName": "Collections", "PrimarySupervisorId": 1, "MaxCallbacksPerDay": 30,
             "ServiceTime": 30, "HoursPerWorkingDay": 8.0},
        ):
            self._seed(self.teams, values)
        agents = [("Sam", "Supervisor", 1), ("Alex", "Agent", 1), ("Jo", "Agent", 2),
                  ("Pat", "Newstarter", 0)]
        for index, (first, last, team) in enumerate(agents, start=1):
            login = f"{first}.{last}".lower()
            self._seed(self.users, {"FirstName": first, "LastName": last, "Login": login, "TeamId": team,
                                    "RolePlanId": 2 if index == 1 else 1, "Extension": f"20{index:02d}",
                                    "Password": f"{login}-sandbox"})
        # (campaign, status, lists, teams, leads): two running, one paused, one ready, one retired.
        for values, status, lists, teams, leads in (
            ({"CampaignName": "Spring Renewals", "Type": PROGRESSIVE, "CallerId": "01614960000",
              "DefaultListId": 1, "NotReadyWaitTime": 5, "HoursPerWorkingDay": 7.5}, RUNNING, {1}, {1}, 40),
            ({"CampaignName": "Debt Recovery", "Type": PREDICTIVE, "DegradeToProgressive": True,
              "ProgressiveThreshold": 3, "TargetDropPercent": 3.0, "DefaultListId": 2}, PAUSED, {2}, {2}, 25),
            ({"CampaignName": "Customer Survey IVR", "Type": IVR, "MaxLines": 10, "DefaultListId": 3},
             NOT_RUNNING, {3}, set(), 15),
            ({"CampaignName": "Callback Sweep", "Type": PROGRESSIVE, "DefaultListId": 4},
             RUNNING, {4}, {1}, 6),
            ({"CampaignName": "Winter Promo 2024", "Type": PREVIEW, "Active": False}, FLUSHED, set(), set(), 0),
        ):
            campaign = self._seed(self.campaigns, values)
            campaign["Status"] = status
            self.campaign_lists[campaign["Id"]], self.campaign_teams[campaign["Id"]] = lists, teams
            self.leads_left[campaign["Id"]] = leads
            self.outcomes[campaign["Id"]] = Counter()

    @staticmethod
    def _seed(table: _Table, values: Mapping[str, Any]) -> dict[str, Any]:
        row = table.normalized(values, None)
        table.rows[row["Id"]] = row
        return row

    def snapshot(self) -> dict[str, Any]:
        campaigns = [
            {**campaign, "lists": sorted(self.campaign_lists[cid]), "teams": sorted(self.campaign_teams[cid]),
             "leads_left": self.leads_left[cid], "outcomes": dict(self.outcomes[cid])}
            for cid, campaign in sorted(self.campaigns.rows.items())
        ]
        users = [
            {**user, "skills": {str(skill): level
                                for skill, level in sorted(self.user_skills.get(user["Id"], {}).items())}}
            for user in self.users.all_public()
        ]
        return {
            "campaigns": campaigns,
            "lists": self.lists.all_public(),
            "teams": self.teams.all_public(),
            "users": users,
            "skills": {str(skill): name for skill, name in self.skills.items()},
            "global_emergency": self.global_emergency,
            "emergency_stopped": sorted(self.emergency_stopped),
        }

    # -- dialling ----------------------------------------------------------------------------------
    def dial(self, contacts: int) -> int:
        """Settle up to ``contacts`` leads of Running campaigns, one per campaign in turn (by Id);
        a Running campaign without leads left goes back to Not Running: that is "complete"."""
        settled = 0
        while settled < contacts:
            dialling = [cid for cid, c in sorted(self.campaigns.rows.items())
                        if c["Status"] == RUNNING and self.leads_left[cid] > 0]
            if not dialling:
                break
            for cid in dialling[: contacts - settled]:
                self.leads_left[cid] -= 1
                self.outcomes[cid][self.rng.choices(OUTCOMES, OUTCOME_WEIGHTS)[0]] += 1
                settled += 1
        for cid, campaign in self.campaigns.rows.items():
            if campaign["Status"] == RUNNING and self.leads_left[cid] == 0:
                campaign["Status"] = NOT_RUNNING
        return settled

    # -- rules ---------------------------------------------------------------------------------------
    def _save(
        self, table: _Table, body: Mapping[str, Any], previous: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """Validate and store a created (``previous`` None) or replaced row."""
        row = table.normalized(body, previous)
        for name, field in table.fields.items():
            target = self.tables.get(field.references or "")
            if target is not None and row[name] and row[name] not in target.rows:
                raise _invalid(f"{name} {row[name]}: {target.entity} does not exist")
            if field.unique and any(
                str(other[name]).casefold() == str(row[name]).casefold()
                for other_id, other in table.rows.items() if other_id != row["Id"]
            ):
                raise _error(f"A {table.entity} with {name} {row[name]!r} already exists")
        if table is self.campaigns:
            self._apply_campaign_rules(row)
            if previous is None:
                self.campaign_lists[row["Id"]], self.campaign_teams[row["Id"]] = set(), set()
                self.leads_left[row["Id"]] = NEW_CAMPAIGN_LEADS
                self.outcomes[row["Id"]] = Counter()
        table.rows[row["Id"]] = row
        return row

    @staticmethod
    def _apply_campaign_rules(campaign: dict[str, Any]) -> None:
        """The reference's notes: MaxLines applies to Bridge and IVR, NotReadyWaitTime to Predictive
        and Progressive, ProgressiveThreshold to those with DegradeToProgressive. Silent on what
        "not applied" returns: the sandbox stores 0. An inactive campaign cannot keep running."""
        kind = campaign["Type"]
        if kind not in (IVR, BRIDGE):
            campaign["MaxLines"] = 0
        if kind not in (PREDICTIVE, PROGRESSIVE):
            campaign["NotReadyWaitTime"] = 0
        if kind not in (PREDICTIVE, PROGRESSIVE) or not campaign["DegradeToProgressive"]:
            campaign["ProgressiveThreshold"] = 0
        if not campaign["Active"] and campaign["Status"] == RUNNING:
            campaign["Status"] = NOT_RUNNING

    def _set_campaign_status(self, campaign: dict[str, Any], status: int) -> None:
        # Silent in the reference: the conditions a real dialler puts on starting a campaign.
        if status == RUNNING:
            if not campaign["Active"]:
                raise _error(f"Campaign {campaign['Id']} is not active")
            if self.global_emergency:
                raise _error("Global emergency mode is enabled; campaigns cannot be started")
            if not self.campaign_lists[campaign["Id"]]:
                raise _error(f"Campaign {campaign['Id']} has no lists associated")
        campaign["Status"] = status
        self.emergency_stopped.discard(campaign["Id"])  # an explicit choice outlives the emergency

    def _set_global_emergency(self, enabled: bool) -> int:
        """Enable: stop every Running campaign and remember it. Disable: restart those still
        stopped and active ("revert the system back to normal"). Repeating either changes nothing."""
        if enabled == self.global_emergency:
            return 0
        self.global_emergency = enabled
        if enabled:
            self.emergency_stopped = {cid for cid, c in self.campaigns.rows.items() if c["Status"] == RUNNING}
            targets, status = self.emergency_stopped, NOT_RUNNING
        else:
            rows = self.campaigns.rows
            targets = {cid for cid in self.emergency_stopped
                       if rows[cid]["Status"] == NOT_RUNNING and rows[cid]["Active"]}
            status = RUNNING
            self.emergency_stopped = set()
        for cid in targets:
            self.campaigns.rows[cid]["Status"] = status
        return len(targets)

    def _skill_reply(self, body: Mapping[str, Any], associate: bool) -> _Reply:
        """The SkillUserResult (shape silent in the reference): the ManagementActionResponse's
        status fields plus ``SkillId`` and ``UserIds``. All or nothing: any bad id refuses all."""
        skill_id, user_ids = body.get("SkillId"), body.get("UserIds")
        problem = None
        if not _is_int(skill_id) or skill_id not in self.skills:
            problem = f"SkillId {skill_id!r} is not a skill"
        elif not isinstance(user_ids, list) or not user_ids or not all(_is_int(u) for u in user_ids):
            problem = "UserIds must be a non-empty array of integers"
        elif unknown := sorted(set(user_ids) - set(self.users.rows)):
            problem = f"Users {unknown} do not exist"
        elif associate and not (_is_int(body.get("Proficiency")) and 1 <= body["Proficiency"] <= 10):
            problem = "Proficiency must be an integer from 1 to 10"
        if problem:
            payload = {"Success": False, "ResponseCode": "Invalid Parameters", "ResponseDetail": problem,
                       "SkillId": skill_id, "UserIds": user_ids}
            return _Reply(payload, 400, root="SkillUserResult", item="int")
        for user_id in user_ids:
            skills = self.user_skills.setdefault(user_id, {})
            if associate:
                skills[skill_id] = body["Proficiency"]
            else:
                skills.pop(skill_id, None)
        verb = "associated with" if associate else "disassociated from"
        payload = {"Success": True, "ResponseCode": "Success",
                   "ResponseDetail": f"Skill {skill_id} {verb} {len(user_ids)} users",
                   "SkillId": skill_id, "UserIds": user_ids}
        return _Reply(payload, root="SkillUserResult", item="int")

    # -- HTTP ------------------------------------------------------------------------------------------
    async def _require_token(self, request: Request) -> None:
        if self.credentials.check(self.name, request.cookies.get(TOKEN_COOKIE)) is None:
            raise _Unauthorized()

    def build_router(self) -> APIRouter:
        router = APIRouter(route_class=_NegotiatedRoute, tags=["MaxContact"])

        @router.get(TOKEN_PATH)
        async def token(login: str, request: Request) -> Response:
            if not self._password_matches(login, request.headers.get("authorization", "")):
                self.credentials.failed_logins[self.name] += 1
                raise _Unauthorized()
            key = self.credentials.issue(self.name, login, ttl=self.config.maxcontact_token_ttl)
            return _Reply({TOKEN_COOKIE: key}, root="TokenResponse")

        management = APIRouter(prefix=MANAGEMENT_PATH, route_class=_NegotiatedRoute,
                               dependencies=[Depends(self._require_token)])
        for plural in self.tables:
            self._entity_routes(management, plural)
        self._campaign_routes(management)
        self._activity_route(management, "PUT", "lists", "activitystatus", answer_entity=False)
        self._activity_route(management, "PUT", "teams", "activitystatus", answer_entity=False)
        self._activity_route(management, "PATCH", "users", "activitystatus", answer_entity=True)
        self._link_routes(management, "teams", "users", "UserId", self._add_team_user, self._remove_team_user)

        @management.put("/users/skills")
        async def associate_skill(request: Request) -> Response:
            return self._skill_reply(await _json_object(request), associate=True)

        @management.delete("/users/skills")
        async def disassociate_skill(request: Request) -> Response:
            return self._skill_reply(await _json_object(request), associate=False)

        @management.post("/globalemergency/enable")
        async def enable_emergency() -> Response:
            stopped = self._set_global_emergency(True)
            return _ok(None, f"Global emergency enabled; {stopped} campaigns stopped")

        @management.post("/globalemergency/disable")
        async def disable_emergency() -> Response:
            restarted = self._set_global_emergency(False)
            return _ok(None, f"Global emergency disabled; {restarted} campaigns restarted")

        router.include_router(management)
        return router

    def _password_matches(self, login: str, authorization: str) -> bool:
        """The Token API's check: the header is the password's Base64, with no scheme prefix."""
        try:
            password = base64.b64decode(authorization.strip(), validate=True).decode("ascii")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return login == self.user["login"] and hmac.compare_digest(password, self.user["password"])

    def _entity_routes(self, router: APIRouter, plural: str) -> None:
        """Get all, get one, create (POST) and update (PUT) of one entity."""
        # Tables are looked up per request: reset() replaces them, the routes stay.

        @router.get(f"/{plural}", name=f"get_{plural}")
        async def get_all() -> Response:
            table = self.tables[plural]
            return _ok(table.all_public(), item=table.entity)

        @router.get(f"/{plural}/{{row_id:int}}", name=f"get_{plural}_one")
        async def get_one(row_id: int) -> Response:
            table = self.tables[plural]
            return _ok(table.public(table.get(row_id)))

        @router.post(f"/{plural}", name=f"create_{plural}")
        async def create(request: Request) -> Response:
            table = self.tables[plural]
            row = self._save(table, await _json_object(request), None)
            return _ok(table.public(row), f"{table.entity} {row['Id']} created")

        @router.put(f"/{plural}/{{row_id:int}}", name=f"update_{plural}")
        async def update(row_id: int, request: Request) -> Response:
            table = self.tables[plural]
            row = self._save(table, await _json_object(request), table.get(row_id))
            return _ok(table.public(row), f"{table.entity} {row_id} updated")

    def _activity_route(
        self, router: APIRouter, method: str, plural: str, suffix: str, *, answer_entity: bool
    ) -> None:
        """Activate/deactivate: answers the entity, or the new flag ("the updated activity status")."""

        async def set_activity(row_id: int, request: Request) -> Response:
            table = self.tables[plural]
            row = table.get(row_id)
            row["Active"] = _body_bool(await _json_object(request), "Active")
            if table is self.campaigns:
                self._apply_campaign_rules(row)
            return _ok(table.public(row) if answer_entity else row["Active"])

        router.add_api_route(f"/{plural}/{{row_id:int}}/{suffix}", set_activity, methods=[method],
                             name=f"{plural}_{suffix}")

    def _link_routes(
        self, router: APIRouter, owners: str, members: str, key: str,
        link: Callable[[int, int], None], unlink: Callable[[int, int], None],
    ) -> None:
        """Associate (PUT) and disassociate (DELETE, id in the body) a member with an owner.
        Silent in the reference: both are idempotent (repeating one is not an error)."""

        async def change(row_id: int, request: Request) -> Response:
            owner_table, member_table = self.tables[owners], self.tables[members]
            owner = owner_table.get(row_id)
            member = member_table.get(_body_int(await _json_object(request), key))
            associate = request.method == "PUT"
            (link if associate else unlink)(owner["Id"], member["Id"])
            verb = "associated with" if associate else "disassociated from"
            return _ok(None, f"{member_table.entity} {member['Id']} {verb} {owner_table.entity} {row_id}")

        router.add_api_route(f"/{owners}/{{row_id:int}}/{members}", change, methods=["PUT", "DELETE"],
                             name=f"{owners}_{members}")

    def _add_team_user(self, team_id: int, user_id: int) -> None:
        # A user has one TeamId (User entity): associating moves the user to this team.
        self.users.rows[user_id]["TeamId"] = team_id

    def _remove_team_user(self, team_id: int, user_id: int) -> None:
        user = self.users.rows[user_id]
        if user["TeamId"] == team_id:
            user["TeamId"] = 0

    def _campaign_routes(self, router: APIRouter) -> None:
        self._activity_route(router, "PATCH", "campaigns", "activityStatus", answer_entity=True)
        self._link_routes(router, "campaigns", "lists", "ListId",
                          lambda c, m: self.campaign_lists[c].add(m),
                          lambda c, m: self.campaign_lists[c].discard(m))
        self._link_routes(router, "campaigns", "teams", "TeamId",
                          lambda c, m: self.campaign_teams[c].add(m),
                          lambda c, m: self.campaign_teams[c].discard(m))

        @router.patch("/campaigns/{row_id:int}/status")
        async def set_status(row_id: int, request: Request) -> Response:
            campaign = self.campaigns.get(row_id)
            status = _appendix_choice(await _json_object(request), "CampaignStatus", CAMPAIGN_STATUSES)
            self._set_campaign_status(campaign, status)
            return _ok(campaign["Status"], f"Campaign {row_id} is {CAMPAIGN_STATUSES[status]}")

        @router.patch("/campaigns/{row_id:int}/type")
        async def set_type(row_id: int, request: Request) -> Response:
            campaign = self.campaigns.get(row_id)
            campaign["Type"] = _appendix_choice(await _json_object(request), "CampaignType", CAMPAIGN_TYPES)
            self._apply_campaign_rules(campaign)
            return _ok(campaign["Type"], f"Campaign {row_id} is {CAMPAIGN_TYPES[campaign['Type']]}")


__all__ = ["MaxContactSandbox"]
