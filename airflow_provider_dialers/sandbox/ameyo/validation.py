"""The reference's validation rules and error shapes, for the simulated Ameyo Customer Manager API.

Every refusal is an HTTP 200 answer: a command raises :class:`Failed` (the reference's
``{"result": "Failed.", "comment": [code, args...]}``), and an unknown session gets the
command's own invalid-session shape (:func:`invalid_session`). Where the reference is silent
the choices are marked "Sandbox decision".
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

TABLE_ALIAS = "__campaign_customer_table_alias__"
#: getContacts "otherColumns" the reference documents (4.6.2).
OTHER_COLUMNS = frozenset(
    {"attempts", "last_dialed", "status", "last_churn_1", "last_churn_2", "disposition", "last_churn_date",
     "churn_count", "last_user_id", "num_inbound_attempted", "num_outbound_attempted",
     "num_inbound_connected", "num_outbound_connected", "last_connected_time", "last_dialed_time"}
    | {f"{prefix}_{n}" for prefix in ("last_status", "last_disposition", "last_user_id", "last_dialed_number",
                                      "last_dialed_time") for n in range(1, 5)}
)
#: Call statuses of the reference (4.6.3), plus NOT_TRIED (a customer not dialed yet).
STATUSES = frozenset(
    {"NOT_TRIED", "BUSY", "NO_ANSWER", "CONNECTED", "CALL_DROP", "CALL_HANGUP", "AMD", "ATTEMPT_FAILED",
     "TRANSFERRED_TO_CAMPAIGN", "CALL_NOT_PICKED", "NUMBER_FAILURE", "NUMBER_TEMP_FAILURE",
     "PROVIDER_FAILURE", "PROVIDER_TEMP_FAILURE", "SYSTEM_ERROR", "FAILED", "SIT_INTERCEPT", "SIT_VACANT",
     "SIT_NOCIRCUIT", "SIT_REORDER"}
)
MAX_PHONE_LENGTH = 20  # login's maxPhoneLengthAllowed
MIN_PHONE_LENGTH = 4  # Sandbox decision: the reference gives no lower bound
SUCCESS_TYPES = frozenset({"ADDED", "UPDATED", "MIGRATED", "UPDATED_AND_MIGRATED"})


class Failed(Exception):
    """A command refused with the reference's ``{"result": "Failed.", "comment": [code, args...]}``."""

    def __init__(self, code: str, *args: Any) -> None:
        super().__init__(code)
        self.comment = [code, *args]


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _bool(value: Any) -> bool:
    return value.strip().lower() == "true" if isinstance(value, str) else bool(value)


def parse_ameyo_time(text: Any) -> datetime | None:
    """``YYYY-MM-DD HH:MM:SS`` with an optional zone word (``... IST``), or the reference's
    space-less ``2016-08-2716:23:00``."""
    if not isinstance(text, str):
        return None
    match = re.fullmatch(r"\s*(\d{4}-\d{2}-\d{2})\s*(\d{2}:\d{2}:\d{2})(?:\s+[A-Za-z+\-:0-9]+)?\s*", text)
    if not match:
        return None
    try:
        return datetime.strptime(f"{match[1]} {match[2]}", "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None


def format_answer_time(moment: datetime) -> str:
    """The answers' form: ``Mar 3, 2015 1:07:26 PM``."""
    return f"{moment:%b} {moment.day}, {moment.year} {int(moment.strftime('%I'))}:{moment:%M:%S %p}"


def answer_date(stored: str | None) -> str | None:
    """A stored ``YYYY-MM-DD HH:MM:SS`` in the answers' form; None stays None."""
    moment = parse_ameyo_time(stored) if stored else None
    return None if moment is None else format_answer_time(moment)


def _phone_problem(column: str, value: Any) -> tuple[str, list[Any]] | None:
    """(resultTypeString, exception) for an unusable phone column, None when it is fine."""
    text = "" if value is None else str(value).strip()
    if not text:
        return "PREPROCESSOR_NOT_NULLABLE_COLUMN_GIVEN_NULL", [
            "CustomerManager.Column.name.cannot.be.missing.empty", column]
    digits = text.removeprefix("+")
    if not digits.isdigit():
        return "INVALID_RECORD_FAILED", ["CustomerManager.Phone.number.is.invalid", column]
    if not MIN_PHONE_LENGTH <= len(digits) <= MAX_PHONE_LENGTH:
        return "PREPROCESSING_INVALID_LENGTH", [
            "CustomerManager.Phone.number.does.not.have.valid.length", len(digits)]
    return None


def record_problem(record: Any) -> tuple[str, list[Any]] | None:
    """Validation of one customer record: phone1 is not nullable; every phoneN needs 4..20 digits."""
    if not isinstance(record, dict):
        return "INVALID_RECORD_FAILED", ["CustomerManager.customer.record.is.invalid"]
    columns = ["phone1"] + sorted(c for c in record if re.fullmatch(r"phone\d+", c) and c != "phone1")
    for column in columns:
        if column == "phone1" or record.get(column) not in (None, ""):
            problem = _phone_problem(column, record.get(column))
            if problem:
                return problem
    return None


def parse_other_columns(value: Any) -> dict[str, str]:
    """getContacts ``otherColumns`` -> {column: alias}. The reference's example is a list holding
    ``key: value`` pairs (not JSON); accepted forms: a map, a list of one-entry maps, a list of
    column names (aliased by themselves)."""
    if value is None:
        return {}
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, list):
        pairs = []
        for item in value:
            pairs.extend(item.items() if isinstance(item, dict) else [(item, item)])
    else:
        raise Failed("CustomerManager.invalid.otherColumns", str(value))
    columns = {}
    for name, alias in pairs:
        column = str(name).split(".")[-1]
        if column not in OTHER_COLUMNS:
            raise Failed("CustomerManager.invalid.column", str(name))
        columns[column] = str(alias)
    return columns


def parse_limit_offset(value: Any, reading: str = "limit_n_offset_m") -> tuple[int | None, int]:
    """``limitOffset`` as (limit, offset), as the server reads it (switch ``ameyo_limit_offset``):
    ``limit_n_offset_m``: a number (a limit) or ``LIMIT n [OFFSET m]`` / ``OFFSET m`` (PostgreSQL);
    ``m_comma_n``: a number or ``m,n`` (MySQL's ``LIMIT m,n``; the SQL words are refused);
    ``ignored``: the field is not read at all (no limit)."""
    if reading == "ignored" or value is None or value == "":
        return None, 0
    if isinstance(value, int) and value >= 0:
        return value, 0
    if reading == "m_comma_n":
        match = re.fullmatch(r"\s*(?:(\d+)\s*,\s*)?(\d+)\s*", str(value))
        if not match:
            raise Failed("CustomerManager.invalid.limitOffset", str(value))
        return int(match[2]), int(match[1] or 0)
    match = re.fullmatch(r"\s*(?:(?:limit\s+)?(\d+))?\s*(?:offset\s+(\d+))?\s*", str(value), re.IGNORECASE)
    if not match or not (match[1] or match[2]):
        raise Failed("CustomerManager.invalid.limitOffset", str(value))
    return (int(match[1]) if match[1] else None), int(match[2] or 0)


def require_properties(data: dict[str, Any]) -> dict[str, Any]:
    """The command's ``properties`` map (not nullable)."""
    properties = data.get("properties")
    if not isinstance(properties, dict):  # "This field is not Nullable"
        raise Failed("CustomerManager.properties.cannot.be.null")
    return properties


def target_status(value: Any) -> str | None:
    """A target call status of the reference (4.6.3), None when not given."""
    if value in (None, ""):
        return None
    if value not in STATUSES:
        raise Failed("CustomerManager.invalid.status", value)
    return str(value)


def invalid_session(command: str, session_id: str) -> dict[str, Any]:
    """Each documented command has its own invalid-session shape (4.4.5, 4.5.6, 4.6.6)."""
    text = f"Invalid session Id: {session_id}"
    if command == "ping-session":
        return {"status": "error", "reason": text, "details": text}
    if command == "logout":
        return {"message": text, "type": "ProcessingException", "isPopulated": True}
    return {"result": "Failed.",
            "comment": ["LogoutRemoterProcessorHelper.invalid.sessionid", session_id]}
