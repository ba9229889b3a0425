"""MaxContact sandbox validation: the appendix tables, request bodies and the documented entities.

One field table per documented entity drives validation, defaults and PUT semantics; a body that
breaks a rule is refused as "Invalid Parameters" (:func:`~.answers.invalid`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Request

from airflow_provider_dialers.sandbox.core import read_json_object
from airflow_provider_dialers.sandbox.maxcontact.answers import invalid

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


# --------------------------------------------------------------------------------------------
# Request bodies
# --------------------------------------------------------------------------------------------


async def json_object(request: Request) -> dict[str, Any]:
    """The request's JSON object body, or the "Invalid Parameters" refusal."""
    return await read_json_object(request, invalid)


def is_int(value: Any) -> bool:
    """Whether ``value`` is an integer (``True``/``False`` are not)."""
    return isinstance(value, int) and not isinstance(value, bool)


def body_int(body: Mapping[str, Any], name: str) -> int:
    """The required integer field ``name`` of a body."""
    value = body.get(name)
    if not is_int(value):
        raise invalid(f"{name} is required and must be an integer")
    return value


def body_bool(body: Mapping[str, Any], name: str) -> bool:
    """The required boolean field ``name`` of a body."""
    value = body.get(name)
    if not isinstance(value, bool):
        raise invalid(f"{name} is required and must be true or false")
    return value


def appendix_choice(body: Mapping[str, Any], name: str, table: Mapping[int, str], reading: str) -> int:
    """An appendix value as the server reads it (reading ``mc_patch_value``; silent in the
    reference, whose field is "string" with no form named): ``id``, the ID (a number or its digits,
    as an int parser takes it); ``name``, the enum member's name, any case, no spaces ("NotRunning",
    as an enum parser takes it); ``description``, the appendix's description, any case ("Not Running",
    as a lookup of the appendix table takes it). Anything else is "Invalid Parameters"."""
    value = body.get(name)
    text = value.strip() if isinstance(value, str) else None
    for ident, description in table.items():
        if reading == "id" and (value == ident if is_int(value) else text == str(ident)):
            return ident
        if reading == "name" and text is not None and text.lower() == description.replace(" ", "").lower():
            return ident
        if reading == "description" and text is not None and " ".join(text.split()).lower() == description.lower():
            return ident
    choices = ", ".join(f"{ident} {description}" for ident, description in table.items())
    raise invalid(f"{name} {value!r} is not one of: {choices} (given as its {reading})")


# --------------------------------------------------------------------------------------------
# Entities: one field table per documented entity drives validation, defaults and PUT semantics
# --------------------------------------------------------------------------------------------

_DEFAULTS = {"str": None, "int": 0, "bool": False, "decimal": 0.0, "datetime": None}
_INT_MAX = 2**31 - 1


@dataclass(frozen=True)
class Field:
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
            raise invalid(f"{name} must be of type {self.kind}")
        if self.choices is not None and value not in self.choices:
            options = ", ".join(f"{i} {d}" for i, d in self.choices.items())
            raise invalid(f"{name} {value!r} is not one of: {options}")
        if self.kind in ("int", "decimal") and not self.limits[0] <= value <= self.limits[1]:
            raise invalid(f"{name} must be between {self.limits[0]:g} and {self.limits[1]:g}")
        return value


def _is_iso_datetime(value: Any) -> bool:
    try:
        datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return True


_KIND_CHECKS: dict[str, Callable[[Any], bool]] = {
    "str": lambda v: isinstance(v, str),
    "int": is_int,
    "bool": lambda v: isinstance(v, bool),
    "decimal": lambda v: is_int(v) or isinstance(v, float),
    "datetime": _is_iso_datetime,
}


# Silent in the reference: entities carry no Active flag although every entity has an
# activity-status endpoint; the sandbox shows ``Active`` on lists, teams and users too, so the
# change is observable. Active and UseMaxCallbackDays survive a PUT that leaves them out.
_ACTIVE = Field("bool", default=True, keep_when_omitted=True)

CAMPAIGN_FIELDS: dict[str, Field] = {
    "CampaignName": Field("str", required=True, unique=True),
    "Active": _ACTIVE,
    "Description": Field("str"),
    "CallerId": Field("str"),
    "Type": Field("int", choices=CAMPAIGN_TYPES),
    "MaxLines": Field("int"),
    "DegradeToProgressive": Field("bool"),
    "ProgressiveThreshold": Field("int"),
    "TargetDropPercent": Field("decimal", limits=(0, 100)),
    "IsBlended": Field("bool"),
    "AutoRecord": Field("bool"),
    "DefaultListId": Field("int", references="lists"),
    "HoursPerWorkingDay": Field("decimal", limits=(0, 24)),
    "DefaultPhoneType": Field("int"),
    "TeleParamPlanId": Field("int"),
    "SchedulePlanId": Field("int"),
    "ZipTone": Field("int", choices=ZIP_TONES),
    "ZipToneBeep": Field("int", choices=ZIP_TONE_BEEPS),
    "ZipToneWav": Field("str"),
    "NotReadyWaitTime": Field("int"),
    # Changed only through PATCH .../status (and the dialler); a new campaign is Not Running.
    "Status": Field("int", read_only=True),
}
LIST_FIELDS: dict[str, Field] = {
    "ListName": Field("str", required=True, unique=True),
    "Description": Field("str"),
    "ListType": Field("int", choices=LIST_TYPES),
    "CallerIdEnabled": Field("bool"),
    "CallerId": Field("str"),
    "MaxCallbackDays": Field("int"),
    "UseMaxCallbackDays": Field("bool", keep_when_omitted=True),  # documented: omitted -> preserved
    "MaxCallbackDate": Field("datetime"),
    "FetchWeight": Field("int"),
    "AlertsEnabled": Field("bool"),
    "ScriptingEnabled": Field("bool"),
    "ScriptProvider": Field("int"),
    "ScriptId": Field("int"),
    "Script": Field("str"),
    "RecallPlanId": Field("int"),
    "CallingTimePlanId": Field("int"),
    "ResultCodePlanId": Field("int"),
    "IvrPlanId": Field("int"),
    "AnswerMachinePlanId": Field("int"),
    "DoNotCallPlanId": Field("int"),
    "SchedulePlanId": Field("int"),
    "Active": _ACTIVE,
}
TEAM_FIELDS: dict[str, Field] = {
    "TenantId": Field("int"),
    "TeamName": Field("str", required=True, unique=True),
    "PrimarySupervisorId": Field("int", references="users"),
    "MaxCallbacksPerDay": Field("int"),
    "ServiceTime": Field("int"),
    "HoursPerWorkingDay": Field("decimal", limits=(0, 24)),
    "WellBeingDeckId": Field("int"),
    "Active": _ACTIVE,
}
USER_FIELDS: dict[str, Field] = {
    "FirstName": Field("str"),
    "LastName": Field("str"),
    "Login": Field("str", required=True, unique=True),
    "RolePlanId": Field("int"),
    "UseRTC": Field("bool"),
    "Extension": Field("str"),
    "AutoLogon": Field("int"),
    "TeamId": Field("int", references="teams"),
    "AgentCapacityPlanId": Field("int"),
    "SSOActive": Field("bool"),
    # Documented: required on create and update, omitted when getting a user.
    "Password": Field("str", required=True, write_only=True),
    "Active": _ACTIVE,
}


class Table:
    """The rows of one entity, keyed by ``Id``."""

    def __init__(self, entity: str, fields: dict[str, Field]) -> None:
        self.entity, self.fields = entity, fields
        self.rows: dict[int, dict[str, Any]] = {}

    def get(self, row_id: int) -> dict[str, Any]:
        row = self.rows.get(row_id)
        if row is None:
            raise invalid(f"{self.entity} {row_id} does not exist")
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
            raise invalid(f"Id {body['Id']!r} in the body does not match {self.entity} {row_id} of the URL")
        row: dict[str, Any] = {"Id": row_id}
        for name, field in self.fields.items():
            given = body.get(name)
            if field.read_only:
                row[name] = previous[name] if previous else field.initial()
            elif field.required and given in (None, ""):
                raise invalid(f"{name} is required")
            elif given is not None:
                row[name] = field.checked(name, given)
            elif previous and field.keep_when_omitted:
                row[name] = previous[name]
            else:
                row[name] = field.initial()
        return row

