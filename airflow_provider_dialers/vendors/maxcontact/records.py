"""MaxContact: campaign spec -> *Campaign* entity, and Campaign entities -> capability results.

MaxContact's Management API (document version 1.3) manages campaigns, lists, teams, users and
skills; it takes no leads (they are imported into *Lists* outside this API) and reports no per-lead
outcome. So, unlike the other vendors' records, there is no contact or callback record here: what
this module maps is the *Campaign* entity (checked against the reference before anything is sent)
and the Campaign ``Status`` (appendix 2) the capability layer reports. No HTTP.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from airflow_provider_dialers.capabilities import CampaignProgress, CampaignStatusWord
from airflow_provider_dialers.errors import DialerValidationError
from airflow_provider_dialers.vendors.maxcontact.wire import (
    AppendixEnum,
    Campaign,
    CampaignStatus,
    CampaignType,
    ZipTone,
    ZipToneBeep,
)

VENDOR = "MaxContact"

#: The capability's status words -> the Appendix 2 status that carries them out.
STATUS_FOR_WORD: Mapping[str, CampaignStatus] = {
    "running": CampaignStatus.RUNNING,
    "paused": CampaignStatus.PAUSED,
}

#: Statuses in which a campaign dials nothing until someone starts it again: the only "complete"
#: the Management API can show. Not Running is where a campaign goes when its leads run out (and
#: after a manual stop: the API cannot tell the two apart). Flushed (the dialler's loaded records
#: discarded) counts too: nothing more will be dialled, so a sensor waiting on it would wait
#: forever. Paused does not: a paused campaign is meant to resume.
COMPLETE_STATUSES = frozenset({CampaignStatus.NOT_RUNNING, CampaignStatus.FLUSHED})

PROGRESS_DETAIL = (
    "MaxContact's Management API reports only the campaign's Status: 'complete' means Not Running "
    "(or Flushed), which looks the same whether the leads ran out, someone stopped the campaign or "
    "it was never started; it gives no per-lead outcomes, so total, pending and outcomes are unknown."
)

#: The campaign fields MaxContact needs to create one: a name (unique) and a dialling strategy.
REQUIRED_CAMPAIGN_FIELDS = ("CampaignName", "Type")

# The Campaign entity's fields as the reference types them. Id and Status are the server's: a new
# campaign's Status is Not Running and changes only through the status endpoint.
_STRING_FIELDS = frozenset({"CampaignName", "Description", "CallerId", "ZipToneWav"})
_BOOLEAN_FIELDS = frozenset({"Active", "DegradeToProgressive", "IsBlended", "AutoRecord"})
_INTEGER_FIELDS = frozenset({"MaxLines", "ProgressiveThreshold", "DefaultListId", "DefaultPhoneType",
                             "TeleParamPlanId", "SchedulePlanId", "NotReadyWaitTime"})
_DECIMAL_FIELDS = frozenset({"TargetDropPercent", "HoursPerWorkingDay"})
_APPENDIX_FIELDS: Mapping[str, type[AppendixEnum]] = {
    "Type": CampaignType, "ZipTone": ZipTone, "ZipToneBeep": ZipToneBeep,
}
_SERVER_FIELDS = frozenset({"Id", "Status"})
CAMPAIGN_FIELDS = _STRING_FIELDS | _BOOLEAN_FIELDS | _INTEGER_FIELDS | _DECIMAL_FIELDS | set(_APPENDIX_FIELDS)

# The reference's notes on Create Campaign: these fields are applied only to some types; the server
# silently ignores them otherwise, so a value there would be lost without a word.
_DIALLING_TYPES = (CampaignType.PREDICTIVE, CampaignType.PROGRESSIVE)
_LINE_TYPES = (CampaignType.BRIDGE, CampaignType.IVR)


def _invalid(field_name: str, reason: str) -> DialerValidationError:
    return DialerValidationError(field_name, reason, vendor=VENDOR)


# --------------------------------------------------------------------------------------------
# Campaign spec -> Campaign entity
# --------------------------------------------------------------------------------------------


def campaign_from_spec(spec: Mapping[str, Any]) -> Campaign:
    """The *Campaign* entity to create from ``spec`` (the reference's field names), validated.

    Values may come from templates, so numbers and booleans are also accepted as text ("12",
    "true"); appendix fields take the ID or the description ("Progressive", "IVR", "Wav File").
    Raises :class:`DialerValidationError` naming the first field that is missing or invalid.
    """
    if not isinstance(spec, Mapping):
        raise _invalid("campaign", f"must be a dict of Campaign fields, got {type(spec).__name__}")
    for name in REQUIRED_CAMPAIGN_FIELDS:
        if spec.get(name) is None or (isinstance(spec[name], str) and not spec[name].strip()):
            raise _invalid(name, "is required to create a MaxContact campaign")
    campaign: dict[str, Any] = {name: _field_value(name, value) for name, value in spec.items()}
    _check_type_specific_fields(campaign)
    return campaign  # type: ignore[return-value]


def _field_value(name: str, value: Any) -> Any:
    if name in _SERVER_FIELDS:
        raise _invalid(name, "is set by MaxContact (a new campaign is Not Running; use the status endpoint)")
    if name not in CAMPAIGN_FIELDS:
        known = ", ".join(sorted(CAMPAIGN_FIELDS))
        raise _invalid(name, f"is not a field of MaxContact's Campaign entity (known: {known})")
    if name in _APPENDIX_FIELDS:
        return _appendix_id(name, value, _APPENDIX_FIELDS[name])
    return _FIELD_CONVERTERS[name](name, value)


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _invalid(name, f"must be text, got {type(value).__name__}")
    text = value.strip()
    if name == "CampaignName" and not text:
        raise _invalid(name, "must not be empty")
    return text


def _boolean(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise _invalid(name, f"must be true or false, got {value!r}")


def _integer(name: str, value: Any) -> int:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool):
        raise _invalid(name, f"must be a whole number, got {value!r}")
    if value < 0:
        raise _invalid(name, f"must not be negative, got {value}")
    return value


def _decimal(name: str, value: Any) -> float:
    number = None
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        try:
            number = float(value)
        except ValueError:
            pass
    if number is None or not math.isfinite(number) or number < 0:
        raise _invalid(name, f"must be a non-negative number, got {value!r}")
    return number


_FIELD_CONVERTERS: Mapping[str, Callable[[str, Any], Any]] = {
    **dict.fromkeys(_STRING_FIELDS, _text), **dict.fromkeys(_BOOLEAN_FIELDS, _boolean),
    **dict.fromkeys(_INTEGER_FIELDS, _integer), **dict.fromkeys(_DECIMAL_FIELDS, _decimal),
}


def _appendix_id(name: str, value: Any, table: type[AppendixEnum]) -> int:
    """An appendix value as its ID; the reference's ID or description are both accepted."""
    member = table.from_vendor(value.strip() if isinstance(value, str) else value)
    if member is None:
        choices = ", ".join(f"{m.value} {m.description}" for m in table)
        raise _invalid(name, f"{value!r} is not one of the reference's values: {choices}")
    return int(member)


def _check_type_specific_fields(campaign: Mapping[str, Any]) -> None:
    """Refuse values the server would silently drop for this campaign Type (reference notes)."""
    kind = CampaignType(campaign["Type"])
    if campaign.get("MaxLines") and kind not in _LINE_TYPES:
        raise _invalid("MaxLines", f"applies only to Bridge and IVR campaigns, not {kind.description}")
    if campaign.get("NotReadyWaitTime") and kind not in _DIALLING_TYPES:
        raise _invalid("NotReadyWaitTime",
                       f"applies only to Predictive and Progressive campaigns, not {kind.description}")
    degrades = kind in _DIALLING_TYPES and campaign.get("DegradeToProgressive")
    if campaign.get("ProgressiveThreshold") and not degrades:
        raise _invalid("ProgressiveThreshold",
                       "applies only to Predictive and Progressive campaigns with DegradeToProgressive true")


# --------------------------------------------------------------------------------------------
# Campaign entities -> capability results
# --------------------------------------------------------------------------------------------


def status_description(value: Any) -> str:
    """A campaign ``Status`` as its Appendix 2 description ("Not Running"), or as given if unknown."""
    status = CampaignStatus.from_vendor(value)
    return status.description if status is not None else str(value)


def campaign_number(campaign_id: str | int) -> int:
    """A campaign id as MaxContact's integer ``Id`` (capability ids are text)."""
    text = str(campaign_id).strip()
    if not text.isdigit():
        raise _invalid("campaign_id", f"a MaxContact campaign Id is a whole number, got {campaign_id!r}")
    return int(text)


def status_for_word(word: CampaignStatusWord | str) -> CampaignStatus:
    """The Appendix 2 status for a capability status word (``running`` / ``paused``)."""
    try:
        return STATUS_FOR_WORD[word]
    except (KeyError, TypeError):
        raise _invalid("status", f"must be one of {sorted(STATUS_FOR_WORD)}, got {word!r}") from None


def campaign_progress(campaign_id: str, campaign: Campaign) -> CampaignProgress:
    """Progress from a Campaign entity: complete when its Status is in :data:`COMPLETE_STATUSES`."""
    status = CampaignStatus.from_vendor(campaign.get("Status"))
    return CampaignProgress(
        campaign_id=campaign_id,
        complete=status in COMPLETE_STATUSES,
        status=status_description(campaign.get("Status")),
        detail=PROGRESS_DETAIL,
    )


def running_campaign_ids(campaigns: Iterable[Campaign]) -> set[str]:
    """The ids of the campaigns whose Status is Running."""
    return {str(c["Id"]) for c in campaigns
            if CampaignStatus.from_vendor(c.get("Status")) is CampaignStatus.RUNNING}


def emergency_changes(enabled: bool, before: Iterable[Campaign], after: Iterable[Campaign]) -> dict[str, Any]:
    """What MaxContact's own global emergency did, from the campaigns read before and after it:
    ``campaigns_stopped`` (Running before, not after) and ``campaigns_restarted`` (the reverse)."""
    running_before, running_after = running_campaign_ids(before), running_campaign_ids(after)
    return {
        "enabled": enabled,
        "campaigns_stopped": sorted(running_before - running_after, key=int),
        "campaigns_restarted": sorted(running_after - running_before, key=int),
    }


def left_stopped(recorded: Iterable[str], campaigns: Iterable[Campaign]) -> list[str]:
    """The recorded campaigns still Not Running: stopped by the emergency and not restarted when it
    ended. A recorded campaign now Paused, Flushed or gone was changed by someone since: left as it is."""
    status_by_id = {str(c.get("Id")): CampaignStatus.from_vendor(c.get("Status")) for c in campaigns}
    return [cid for cid in recorded if status_by_id.get(str(cid)) is CampaignStatus.NOT_RUNNING]
