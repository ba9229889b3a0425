"""Ameyo's wire format: the command form, the answers' types and the parsers of both. No HTTP.

Every Ameyo command is one form POST (``application/x-www-form-urlencoded``) to
``/ameyowebaccess/command`` with two fields: ``command`` (the command id, e.g. ``getContacts``)
and ``data`` (the command's parameters as JSON text). The reference shows them in the query
string; the hook never does that, because the login's password would land in access logs.

Ameyo answers errors in the body with HTTP 200, in three shapes (``{"result": "Failed.",
"comment": [code, args...]}``, ``{"status": "error", "reason": ...}`` and ``{"message": ...,
"type": "ProcessingException"}``), sometimes as ``text/plain`` holding JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, NamedTuple
from urllib.parse import quote_plus

COMMAND_PATH = "/ameyowebaccess/command"
#: The table alias Ameyo expects in front of ``otherColumns`` names of getContacts.
CUSTOMER_TABLE_ALIAS = "__campaign_customer_table_alias__"
DEFAULT_TERMINAL = "127.0.0.1"
#: Ameyo's date-time form for callBackTime/validityTime (the reference: "2017-05-31 15:30:00").
AMEYO_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
#: The reference (4.2): "The session will be automatically timed out after 3 minute of inactivity."
DEFAULT_SESSION_TIMEOUT = 180.0
#: getContacts columns a campaign's progress needs (aliased STATUS, ATTEMPTS).
PROGRESS_COLUMNS = ("status", "attempts")
#: Where the reference is silent, ambiguous or contradicts itself: the switches this client handles
#: whichever way a server reads them (docs/readings.md; the sandbox plays each reading). The
#: connection extra ``readings`` (``{"ameyo_limit_offset": "m_comma_n"}``) may fix one.
SESSION_TIMEOUT = "ameyo_session_timeout"
LIMIT_OFFSET = "ameyo_limit_offset"
DEAD_SESSION_SIGNAL = "ameyo_dead_session_signal"
CALLBACK_RESULT = "ameyo_callback_result"
READINGS: Mapping[str, tuple[str, ...]] = {
    SESSION_TIMEOUT: ("given_ms", "absent", "seconds"),
    LIMIT_OFFSET: ("limit_n_offset_m", "m_comma_n", "ignored"),
    DEAD_SESSION_SIGNAL: ("documented_200", "http_403", "redirect_302", "other_200_text"),
    CALLBACK_RESULT: ("message_on_failure", "message_always", "no_failure_signal"),
}
#: getContacts columns a campaign's listing (iter_contact_states) needs; ``last_dialed`` stands in for
#: the answer's Last Dialed where a server leaves that field out.
LISTING_COLUMNS = PROGRESS_COLUMNS + ("last_dialed",)
#: getContacts columns read for one contact's state; all of them land in ContactState.history.
STATE_COLUMNS = PROGRESS_COLUMNS + (
    "disposition", "churn_count", "last_dialed_time", "last_connected_time", "last_user_id",
) + tuple(f"{prefix}_{n}" for prefix in ("last_status", "last_disposition", "last_dialed_number",
                                         "last_dialed_time") for n in range(1, 5))


# --------------------------------------------------------------------------------------------
# Result types and parsed structures
# --------------------------------------------------------------------------------------------


class AmeyoResultType(str, Enum):
    """``resultTypeString`` of one uploaded record (uploadContacts, uploadContactAndAddCallback)."""

    ADDED = "ADDED"
    UPDATED = "UPDATED"
    MIGRATED = "MIGRATED"
    UPDATED_AND_MIGRATED = "UPDATED_AND_MIGRATED"
    DUPLICATE_NOT_ADDED = "DUPLICATE_NOT_ADDED"
    NOT_MIGRATED = "NOT_MIGRATED"
    INVALID_RECORD_FAILED = "INVALID_RECORD_FAILED"
    ADD_FAILED = "ADD_FAILED"
    UPDATE_FAILED = "UPDATE_FAILED"
    MIGRATE_FAILED = "MIGRATE_FAILED"
    UPDATE_AND_MIGRATE_FAILED = "UPDATE_AND_MIGRATE_FAILED"
    INVALID_CONFIGURATION = "INVALID_CONFIGURATION"
    PREPROCESSING_INVALID_LENGTH = "PREPROCESSING_INVALID_LENGTH"
    PREPROCESSOR_NOT_NULLABLE_COLUMN_GIVEN_NULL = "PREPROCESSOR_NOT_NULLABLE_COLUMN_GIVEN_NULL"


#: The record is stored in Ameyo as sent.
SUCCESSFUL_RESULT_TYPES: frozenset[AmeyoResultType] = frozenset(
    {
        AmeyoResultType.ADDED,
        AmeyoResultType.UPDATED,
        AmeyoResultType.MIGRATED,
        AmeyoResultType.UPDATED_AND_MIGRATED,
    }
)
#: The record was not stored as sent. DUPLICATE_NOT_ADDED is here: the phone already exists and
#: nothing was changed (send ``update_customer=True`` to update it instead).
FAILED_RESULT_TYPES: frozenset[AmeyoResultType] = frozenset(set(AmeyoResultType) - SUCCESSFUL_RESULT_TYPES)


class AmeyoCallStatus(str, Enum):
    """A customer's ``status`` column: the outcome of its last call attempt (reference 4.6.3), or
    NOT_TRIED for a customer not dialed yet (getContacts leaves the column out while it is null)."""

    NOT_TRIED = "NOT_TRIED"
    BUSY = "BUSY"
    NO_ANSWER = "NO_ANSWER"
    CONNECTED = "CONNECTED"
    CALL_DROP = "CALL_DROP"
    CALL_HANGUP = "CALL_HANGUP"
    AMD = "AMD"
    ATTEMPT_FAILED = "ATTEMPT_FAILED"
    TRANSFERRED_TO_CAMPAIGN = "TRANSFERRED_TO_CAMPAIGN"
    CALL_NOT_PICKED = "CALL_NOT_PICKED"
    NUMBER_FAILURE = "NUMBER_FAILURE"
    NUMBER_TEMP_FAILURE = "NUMBER_TEMP_FAILURE"
    PROVIDER_FAILURE = "PROVIDER_FAILURE"
    PROVIDER_TEMP_FAILURE = "PROVIDER_TEMP_FAILURE"
    SYSTEM_ERROR = "SYSTEM_ERROR"
    FAILED = "FAILED"
    SIT_INTERCEPT = "SIT_INTERCEPT"
    SIT_VACANT = "SIT_VACANT"
    SIT_NOCIRCUIT = "SIT_NOCIRCUIT"
    SIT_REORDER = "SIT_REORDER"


#: Statuses after which dialing the customer again cannot change the outcome: the call reached an
#: agent (CONNECTED) or another campaign, or the reference calls the number's failure permanent
#: (does not exist, unassigned, changed or disconnected). Any other status is final only once the
#: customer's attempts reach its lead's ``maxAttempt``.
TERMINAL_CALL_STATUSES: frozenset[AmeyoCallStatus] = frozenset(
    {
        AmeyoCallStatus.CONNECTED,
        AmeyoCallStatus.TRANSFERRED_TO_CAMPAIGN,
        AmeyoCallStatus.NUMBER_FAILURE,
        AmeyoCallStatus.SIT_VACANT,
        AmeyoCallStatus.SIT_INTERCEPT,
    }
)



class CommandAnswer(NamedTuple):
    """A command's decoded answer, and whether the command was re-sent after an attempt the server
    may have processed (``DialerHook.request``'s ``dialer_replayed``)."""

    body: Any
    replayed: bool


@dataclass(frozen=True)
class AmeyoRecordResult:
    """What Ameyo did with one record of an upload, at the record's position in the request.

    ``result_type`` is an :class:`AmeyoResultType` or, for a value this provider does not know,
    the raw string (counted as not succeeded). ``exception`` is Ameyo's ``[code, args...]``.
    """

    index: int
    result_type: AmeyoResultType | str
    customer_id: int | None
    inserted: bool
    exception: tuple[Any, ...] = ()
    crm_integrated: bool = False
    crm_success: bool = False
    crm_result_type: str | None = None
    #: uploadContactAndAddCallback only: the callback Ameyo scheduled for the record.
    callback_id: str | None = None
    callback_time: str | None = None
    message: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.result_type in SUCCESSFUL_RESULT_TYPES and not self.exception


@dataclass(frozen=True)
class AmeyoCampaignInfo:
    """A campaign the Customer Manager user is logged in to (login's ``campaignInfos``)."""

    campaign_id: int
    name: str
    campaign_type: str


@dataclass(frozen=True)
class AmeyoLoginInfo:
    """What Ameyo said at login, minus the session id (which stays inside the auth)."""

    user_id: str | None
    user_type: str | None
    terminal_info: str | None
    campaigns: tuple[AmeyoCampaignInfo, ...]
    session_timeout: float  # seconds of inactivity before the session dies (180 when not given)
    max_phone_length: int | None


@dataclass(frozen=True)
class AmeyoSessionStatus:
    """ping-session's answer."""

    alive: bool
    server_time: datetime | None


@dataclass(frozen=True)
class AmeyoContact:
    """A customer (Ameyo's word for a contact) of a campaign, as getContacts returns it.

    ``extra_data`` holds the requested ``otherColumns`` under their aliases; columns that are
    null in Ameyo's database are absent. The reference (4.6.3) also lists Date Modified, Last
    Dialed, Last Status and Last Disposition among a customer's answer fields: kept as answered
    (times as the server writes them, in its own zone), None when absent.
    """

    customer_id: int
    campaign_id: int | None
    lead_id: int | None
    customer_data: dict[str, Any]
    extra_data: dict[str, Any]
    num_inbound_attempted: int = 0
    num_inbound_connected: int = 0
    num_outbound_attempted: int = 0
    num_outbound_connected: int = 0
    date_modified: Any = None
    last_dialed: Any = None
    last_status: str | None = None
    last_disposition: str | None = None

    @property
    def status(self) -> str | None:
        """The ``status`` column, when requested with the default alias ``STATUS``."""
        return self.extra_data.get("STATUS")

    @property
    def attempts(self) -> int | None:
        """The ``attempts`` column, when requested with the default alias ``ATTEMPTS``."""
        return _int_or_none(self.extra_data.get("ATTEMPTS"))


@dataclass(frozen=True)
class AmeyoLead:
    """A lead (Ameyo's contact list inside a campaign), as getLeadsForCampaign returns it."""

    lead_id: int
    campaign_id: int
    priority: int | None
    weightage: int | None
    enabled: bool
    max_attempt: int | None
    churn_count: int | None
    fetch_order_ascending: bool | None


@dataclass(frozen=True)
class AmeyoCallback:
    """A scheduled callback, as addCallback returns it (``callBackTime`` as the server formats it)."""

    callback_id: str | None
    campaign_id: int | None
    callback_time: str | None
    self_callback: bool
    user_id: str | None
    phone: str | None
    customer_id: int | None


@dataclass(frozen=True)
class CustomerCallback:
    """One record of uploadContactAndAddCallback: a customer record plus its callback.

    :param customer_record: column name -> value (``phone1`` is required by Ameyo).
    :param callback_time: when the callback is attempted, server local time (not nullable).
    :param is_self_callback: the callback is for ``user_id`` personally.
    :param user_id: the agent the callback is routed to.
    :param callback_phone: the number to call back (Ameyo's default: ``phone1``).
    :param customer_id: schedule for this existing customer instead of the uploaded one.
    :param status: target status of the customer after the upload (churns it with update).
    """

    customer_record: Mapping[str, Any]
    callback_time: datetime | str
    is_self_callback: bool = False
    user_id: str | None = None
    callback_phone: str | None = None
    customer_id: int | None = None
    status: str | None = None

    def to_ameyo(self) -> dict[str, Any]:
        callback: dict[str, Any] = {
            "callBackTime": format_ameyo_time(self.callback_time),
            "isSelfCallBack": self.is_self_callback,
        }
        optional = {
            "userId": self.user_id,
            "callBackPhone": self.callback_phone,
            "customerId": self.customer_id,
            "status": self.status,
        }
        callback.update({key: value for key, value in optional.items() if value is not None})
        return {"customerRecord": dict(self.customer_record), "callbackRecord": callback}


# --------------------------------------------------------------------------------------------
# Parsing helpers
# --------------------------------------------------------------------------------------------


def format_ameyo_time(value: datetime | str) -> str:
    """``YYYY-MM-DD HH:MM:SS`` (server local time); an aware datetime gets its zone name appended,
    as in the reference's ``"2010-04-13 22:30:00 IST"``. Strings are sent as given."""
    if isinstance(value, str):
        return value
    text = value.strftime(AMEYO_TIME_FORMAT)
    return f"{text} {value.tzname()}" if value.tzinfo is not None else text


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _bool(value: Any) -> bool:
    """Ameyo sends booleans as JSON booleans or as "true"/"false" strings."""
    if value is True or value is False:
        return value
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _clean_comment(value: Any) -> Any:
    # The reference's error examples carry stray escaped quotes ("...sessionid\\"); strip them.
    return value.strip().strip('\\"').strip() if isinstance(value, str) else value


def _is_failed(body: Mapping[str, Any]) -> bool:
    return str(body.get("result", "")).rstrip(".").lower() == "failed"


def vendor_error(body: Any) -> tuple[str | None, str] | None:
    """``(vendor code, vendor message)`` if ``body`` is one of Ameyo's error shapes, else None."""
    if not isinstance(body, dict):
        return None
    if _is_failed(body):
        comment = body.get("comment")
        parts = [_clean_comment(part) for part in (comment if isinstance(comment, list) else [comment])]
        code = str(parts[0]) if parts and parts[0] is not None else None
        args = ", ".join(str(part) for part in parts[1:])
        return code, f"{code}: {args}" if args else str(code)
    if str(body.get("status", "")).lower() == "error":
        return None, str(body.get("reason") or body.get("details") or "error")
    if "exception" in str(body.get("type", "")).lower():
        return str(body["type"]), str(body.get("message") or body["type"])
    return None


def is_session_error(body: Any) -> bool:
    """Whether an error body says the session is gone, in the reference's words ("Invalid session Id:
    ...", ``LogoutRemoterProcessorHelper.invalid.sessionid``) or in any other naming the session
    (``...session.not.found``, "Session expired"): switch ``ameyo_dead_session_signal``. A
    ``Failed.`` answer is judged by its code alone, since its arguments can echo the request's data."""
    error = vendor_error(body)
    if error is None:
        return False
    text = error[0] if _is_failed(body) else error[1]
    return "session" in str(text).lower()


def is_rejection_status(status: int) -> bool:
    """HTTP statuses by which a server (or a login filter in front of it) refuses a dead session
    instead of the reference's 200 bodies: 401, 403, or a redirect to a login page."""
    return status in (401, 403) or 300 <= status < 400


def is_invalid_session_body(text: str) -> bool:
    """Whether an HTTP 200 body says the session is gone: ``null``, an HTML (login) page, an error body
    naming the session (:func:`is_session_error`), or a plain-text answer naming it."""
    stripped = text.strip()
    lowered = stripped.lower()
    if stripped == "null" or lowered.startswith(("<!doctype html", "<html")):
        return True
    if "session" not in lowered:
        return False  # cheap test first: a large getContacts answer is not parsed twice
    try:
        body = json.loads(stripped)
    except ValueError:
        return True  # not JSON, so no answer to a command: a text such as "Session expired"
    return is_session_error(body)


#: ``resultTypeString`` -> its type, looked up without calling the enum (once per uploaded record).
_RESULT_TYPE_OF_TEXT: dict[str, AmeyoResultType] = {member.value: member for member in AmeyoResultType}


def _record_result(index: int, raw: Mapping[str, Any]) -> AmeyoRecordResult:
    """One record of an upload answer. Accepts both answers' spellings (``inserted`` /
    ``Inserted`` / ``isInserted``, ``crmResultTypeString`` / ``crmTypeString``)."""
    text = raw.get("resultTypeString")
    result_type: AmeyoResultType | str | None = _RESULT_TYPE_OF_TEXT.get(text) if isinstance(text, str) else None
    if result_type is None:
        try:
            result_type = AmeyoResultType(text)
        except ValueError:
            result_type = str(text)
    inserted = False
    for key in ("inserted", "isInserted", "Inserted"):
        if key in raw:
            inserted = raw[key]
            break
    exception = raw.get("exception")
    return AmeyoRecordResult(
        index=index,
        result_type=result_type,
        customer_id=_int_or_none(raw.get("customerId")),
        inserted=_bool(inserted),
        exception=tuple(_clean_comment(e) for e in exception) if isinstance(exception, list) else (),
        crm_integrated=_bool(raw.get("crmIntegrated")),
        crm_success=_bool(raw.get("crmSuccess")),
        crm_result_type=raw.get("crmResultTypeString") or raw.get("crmTypeString"),
        callback_id=None if raw.get("id") is None else str(raw["id"]),
        callback_time=raw.get("callbackTime") or raw.get("callBackTime"),
        message=raw.get("message"),
    )


def _contact(raw: Mapping[str, Any]) -> AmeyoContact:
    return AmeyoContact(
        customer_id=int(raw["customerId"]),
        campaign_id=_int_or_none(raw.get("campaignId", raw.get("processId"))),
        lead_id=_int_or_none(raw.get("leadId")),
        customer_data=dict(raw.get("customerData") or {}),
        extra_data=dict(raw.get("extraData") or {}),
        num_inbound_attempted=_int_or_none(raw.get("numInboundAttempted")) or 0,
        num_inbound_connected=_int_or_none(raw.get("numInboundConnected")) or 0,
        num_outbound_attempted=_int_or_none(raw.get("numOutboundAttempted")) or 0,
        num_outbound_connected=_int_or_none(raw.get("numOutboundConnected")) or 0,
        date_modified=_field(raw, "dateModified", "date_modified"),
        last_dialed=_field(raw, "lastDialed", "last_dialed"),
        last_status=_field(raw, "lastStatus", "last_status"),
        last_disposition=_field(raw, "lastDisposition", "last_disposition"),
    )


def _field(raw: Mapping[str, Any], *names: str) -> Any:
    """The first of ``names`` the answer carries (the reference names these fields in prose only)."""
    return next((raw[name] for name in names if raw.get(name) not in (None, "")), None)


def _lead(raw: Mapping[str, Any]) -> AmeyoLead:
    order = raw.get("fetchOrderDetails")
    first_order = order[0] if isinstance(order, list) and order and isinstance(order[0], dict) else {}
    ascending = first_order.get("ascending")
    return AmeyoLead(
        lead_id=int(raw.get("leadId", raw.get("id"))),
        campaign_id=int(raw["campaignId"]),
        priority=_int_or_none(raw.get("priority")),
        weightage=_int_or_none(raw.get("weightage")),
        enabled=_bool(raw.get("enabled")),
        max_attempt=_int_or_none(raw.get("maxAttempt")),
        churn_count=_int_or_none(raw.get("churnCount")),
        fetch_order_ascending=None if ascending is None else _bool(ascending),
    )


def _callback(raw: Mapping[str, Any]) -> AmeyoCallback:
    properties = raw.get("callBackProperties") or {}
    if isinstance(properties, list):  # the answer wraps the request's map in a list
        properties = properties[0] if properties and isinstance(properties[0], dict) else {}
    return AmeyoCallback(
        callback_id=None if raw.get("id") is None else str(raw["id"]),
        campaign_id=_int_or_none(raw.get("campaignId")),
        callback_time=raw.get("callBackTime"),
        self_callback=_bool(raw.get("selfCallback", raw.get("isSelfCallback"))),
        user_id=raw.get("userId"),
        phone=raw.get("phone") or properties.get("phone"),
        customer_id=_int_or_none(raw.get("customerId", properties.get("customerId"))),
    )


def session_timeout_seconds(value: Any, reading: str | None = None) -> tuple[float, str]:
    """Login's ``sessionTimeout`` in seconds, and how the answer gave it (switch
    ``ameyo_session_timeout``). The reference's example is 180000 with no unit, and its list of
    login answers leaves the field out: absent or not positive, the reference's 3 minutes apply. A
    value below 1000 is taken as seconds (no session lives under a second), unless the connection's
    ``readings`` extra says ``given_ms`` or ``seconds``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = 0.0
    if not number > 0 or number == float("inf"):
        return DEFAULT_SESSION_TIMEOUT, "absent"
    form = reading if reading in ("given_ms", "seconds") else "seconds" if number < 1000 else "given_ms"
    return (number if form == "seconds" else number / 1000), form


def _login_info(body: Mapping[str, Any], session_timeout: float = DEFAULT_SESSION_TIMEOUT) -> AmeyoLoginInfo:
    campaigns = tuple(
        AmeyoCampaignInfo(
            int(c["campaignId"]), str(c.get("campaignName", "")), str(c.get("campaignType", ""))
        )
        for c in body.get("campaignInfos") or []
        if isinstance(c, dict) and "campaignId" in c
    )
    return AmeyoLoginInfo(
        user_id=body.get("userId"),
        user_type=body.get("userType"),
        terminal_info=body.get("terminalInfo"),
        campaigns=campaigns,
        session_timeout=session_timeout,
        max_phone_length=_int_or_none(body.get("maxPhoneLengthAllowed")),
    )


def other_columns_map(columns: Mapping[str, str] | Iterable[str]) -> dict[str, str]:
    """getContacts ``otherColumns``: column -> alias. Names without a table alias get Ameyo's
    customer-table alias; a plain list of column names is aliased by the upper-cased name
    (``["status"]`` -> ``{"__campaign_customer_table_alias__.status": "STATUS"}``)."""
    pairs = columns.items() if isinstance(columns, Mapping) else ((c, c.upper()) for c in columns)
    return {(name if "." in name else f"{CUSTOMER_TABLE_ALIAS}.{name}"): alias for name, alias in pairs}


#: MySQL's "no limit" for an offset alone (its manual's largest row count).
_NO_LIMIT = 18446744073709551615


def limit_offset(limit: int | None, offset: int, form: str | None = None) -> str | None:
    """getContacts ``limitOffset`` (the reference names the field "LimitOffset" under "Other Filter
    String" without giving its form; switch ``ameyo_limit_offset``): SQL's ``LIMIT n OFFSET m``
    (PostgreSQL, the database Ameyo ships with: the default), or for ``form="m_comma_n"`` MySQL's
    ``m,n`` (a server that writes ``LIMIT`` in front of the field)."""
    if limit is None and not offset:
        return None
    if form == "m_comma_n":
        return f"{int(offset)},{_NO_LIMIT if limit is None else int(limit)}"
    parts = [f"LIMIT {int(limit)}"] if limit is not None else []
    if offset:
        parts.append(f"OFFSET {int(offset)}")
    return " ".join(parts)


def upload_contacts_data(
    campaign_id: int,
    lead_id: int,
    customer_records: Sequence[Mapping[str, Any]],
    *,
    update_customer: bool,
    migrate_customer: bool = False,
    status: str | None = None,
    num_attempts: int | None = None,
) -> dict[str, Any]:
    """uploadContacts' ``data`` (see :meth:`.AmeyoApi.upload_customer_records`)."""
    data: dict[str, Any] = {
        "campaignId": int(campaign_id),
        "leadId": int(lead_id),
        "properties": {"update.customer": update_customer, "migrate.customer": migrate_customer},
        "customerRecords": [dict(record) for record in customer_records],
    }
    if status is not None:
        data["Status"] = status
    if num_attempts is not None:
        data["numAttempts"] = str(num_attempts)
    return data


# --------------------------------------------------------------------------------------------
# The command form
# --------------------------------------------------------------------------------------------


def _json(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
_FORM_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~"
#: ASCII -> its form encoding, as ``quote_plus`` writes it (safe characters stay as they are).
_FORM_TABLE = {code: ("+" if code == 32 else f"%{code:02X}") for code in range(128) if chr(code) not in _FORM_SAFE}
#: The ASCII characters encoded as ``%XX``, but for ``%`` (replaced first) and ``+`` (before " " -> "+").
_FORM_ESCAPED = tuple((chr(code), text) for code, text in _FORM_TABLE.items() if chr(code) not in "% +")
_ENCODED_CLOSING_BRACE = b"%7D"
_ENCODED_EMPTY_OBJECT = b"%7B%7D"


def form_quote(text: str) -> str:
    """``quote_plus(text)``; ASCII text by one ``str.replace`` per character it holds that is encoded
    (quote_plus loops in Python over every byte, and ``str.translate`` with ``_FORM_TABLE`` looks up
    every character: milliseconds per 200-record upload). ``%`` goes first and " " -> "+" last, so no
    replacement is encoded again (they write only ``%``, hex digits and ``+``)."""
    if not text.isascii():
        return quote_plus(text)
    text = text.replace("%", "%25")
    for char, encoded in _FORM_ESCAPED:
        if char in text:
            text = text.replace(char, encoded)
    return text.replace("+", "%2B").replace(" ", "+")


def command_form(command: str, data: Mapping[str, Any]) -> bytes:
    """A command's form body, ``command=...&data=<JSON>``, encoded."""
    return f"command={form_quote(command)}&data={form_quote(_json(dict(data)))}".encode("ascii")

