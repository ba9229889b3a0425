"""Ameyo Customer Manager API hook (``POST /ameyowebaccess/command``).

Every Ameyo command is one form POST (``application/x-www-form-urlencoded``) to
``/ameyowebaccess/command`` with two fields: ``command`` (the command id, e.g. ``getContacts``)
and ``data`` (the command's parameters as JSON text). The reference shows them in the query
string; this hook never does that, because the login's password would land in access logs.

Ameyo answers errors in the body with HTTP 200, in three shapes (``{"result": "Failed.",
"comment": [code, args...]}``, ``{"status": "error", "reason": ...}`` and ``{"message": ...,
"type": "ProcessingException"}``), sometimes as ``text/plain`` holding JSON.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from enum import Enum
from typing import Any, ClassVar, NamedTuple, TypeVar, cast
from urllib.parse import quote_plus

import requests

from airflow_provider_dialers.capabilities import (
    CallbackRow,
    CampaignProgress,
    CampaignStatusWord,
    ContactRow,
    ContactState,
    DncResult,
    RowOutcome,
    RowStatus,
    UploadOptions,
)
from airflow_provider_dialers.contacts import ContactError
from airflow_provider_dialers.hooks.base import (
    CampaignSummary,
    Credential,
    CredentialAuth,
    DialerAuthError,
    DialerError,
    DialerHook,
    DialerRequestError,
    DialerResponseError,
    DialerTransientError,
    DialerValidationError,
    register_secret,
)
from airflow_provider_dialers.mappings import ameyo as mapping

COMMAND_PATH = "/ameyowebaccess/command"
#: The table alias Ameyo expects in front of ``otherColumns`` names of getContacts.
CUSTOMER_TABLE_ALIAS = "__campaign_customer_table_alias__"
DEFAULT_TERMINAL = "127.0.0.1"
#: Ameyo's date-time form for callBackTime/validityTime (the reference: "2017-05-31 15:30:00").
AMEYO_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_INVALID_SESSION_MARKERS = ("invalid session id", "invalid.sessionid")
#: getContacts columns a campaign's progress needs (aliased STATUS, ATTEMPTS).
PROGRESS_COLUMNS = ("status", "attempts")
#: getContacts columns read for one contact's state; all of them land in ContactState.history.
STATE_COLUMNS = PROGRESS_COLUMNS + (
    "disposition", "churn_count", "last_dialed_time", "last_connected_time", "last_user_id",
) + tuple(f"{prefix}_{n}" for prefix in ("last_status", "last_disposition", "last_dialed_number",
                                         "last_dialed_time") for n in range(1, 5))
_Row = TypeVar("_Row", ContactRow, CallbackRow)


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


_TERMINAL_STATUS_NAMES = frozenset(status.value for status in TERMINAL_CALL_STATUSES)


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
    session_timeout: float | None  # seconds of inactivity before the session dies
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
    null in Ameyo's database are absent.
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
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _clean_comment(value: Any) -> Any:
    # The reference's error examples carry stray escaped quotes ("...sessionid\\"); strip them.
    return value.strip().strip('\\"').strip() if isinstance(value, str) else value


def vendor_error(body: Any) -> tuple[str | None, str] | None:
    """``(vendor code, vendor message)`` if ``body`` is one of Ameyo's error shapes, else None."""
    if not isinstance(body, dict):
        return None
    if str(body.get("result", "")).rstrip(".").lower() == "failed":
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


def is_invalid_session_body(text: str) -> bool:
    """Whether an HTTP 200 body says the session is gone: ``null``, an HTML (login) page, or one of
    the documented invalid-session errors of ping-session, logout and getContacts."""
    stripped = text.strip()
    lowered = stripped.lower()
    if stripped == "null" or lowered.startswith(("<!doctype html", "<html")):
        return True
    if not any(marker in lowered for marker in _INVALID_SESSION_MARKERS):
        return False  # cheap test first: a large getContacts answer is not parsed twice
    try:
        error = vendor_error(json.loads(stripped))
    except ValueError:
        return False
    return error is not None and any(marker in error[1].lower() for marker in _INVALID_SESSION_MARKERS)


def _utf8(response: requests.Response) -> requests.Response:
    # JSON is UTF-8, but requests decodes text/plain without a charset as ISO-8859-1 ("REGIÃ“N").
    if "charset" not in response.headers.get("Content-Type", "").lower():
        response.encoding = "utf-8"
    return response


def _record_result(index: int, raw: Mapping[str, Any]) -> AmeyoRecordResult:
    """One record of an upload answer. Accepts both answers' spellings (``inserted`` /
    ``Inserted`` / ``isInserted``, ``crmResultTypeString`` / ``crmTypeString``)."""
    text = raw.get("resultTypeString")
    try:
        result_type: AmeyoResultType | str = AmeyoResultType(text)
    except ValueError:
        result_type = str(text)
    inserted = next((raw[k] for k in ("inserted", "isInserted", "Inserted") if k in raw), False)
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
    )


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


def _login_info(body: Mapping[str, Any]) -> AmeyoLoginInfo:
    campaigns = tuple(
        AmeyoCampaignInfo(
            int(c["campaignId"]), str(c.get("campaignName", "")), str(c.get("campaignType", ""))
        )
        for c in body.get("campaignInfos") or []
        if isinstance(c, dict) and "campaignId" in c
    )
    timeout_ms = _int_or_none(body.get("sessionTimeout"))
    return AmeyoLoginInfo(
        user_id=body.get("userId"),
        user_type=body.get("userType"),
        terminal_info=body.get("terminalInfo"),
        campaigns=campaigns,
        session_timeout=timeout_ms / 1000 if timeout_ms and timeout_ms > 0 else None,
        max_phone_length=_int_or_none(body.get("maxPhoneLengthAllowed")),
    )


def other_columns_map(columns: Mapping[str, str] | Iterable[str]) -> dict[str, str]:
    """getContacts ``otherColumns``: column -> alias. Names without a table alias get Ameyo's
    customer-table alias; a plain list of column names is aliased by the upper-cased name
    (``["status"]`` -> ``{"__campaign_customer_table_alias__.status": "STATUS"}``)."""
    pairs = columns.items() if isinstance(columns, Mapping) else ((c, c.upper()) for c in columns)
    return {(name if "." in name else f"{CUSTOMER_TABLE_ALIAS}.{name}"): alias for name, alias in pairs}


def limit_offset(limit: int | None, offset: int) -> str | None:
    """getContacts ``limitOffset`` as SQL's ``LIMIT n OFFSET m`` (the reference names the field
    "LimitOffset" under "Other Filter String" without giving its form)."""
    parts = [f"LIMIT {int(limit)}"] if limit is not None else []
    if offset:
        parts.append(f"OFFSET {int(offset)}")
    return " ".join(parts) or None


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
    """uploadContacts' ``data`` (see :meth:`AmeyoHook.upload_customer_records`)."""
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


def call_status(contact: AmeyoContact) -> str:
    """The customer's call status: the ``STATUS`` column, NOT_TRIED while it is null (not dialed)."""
    return str(contact.status or AmeyoCallStatus.NOT_TRIED.value)


def is_settled(status: str, attempts: int | None, max_attempt: int | None) -> bool:
    """Whether Ameyo is done with a customer: a terminal status, or its lead's ``maxAttempt`` used up."""
    if status in _TERMINAL_STATUS_NAMES:
        return True
    return attempts is not None and max_attempt is not None and attempts >= max_attempt


def _unconfirmed_callback_reason(error: DialerTransientError) -> str:
    if error.may_have_been_processed:
        return ("Ameyo's answer was lost, so the callback may or may not be scheduled; not re-sent because "
                "a re-send schedules a second call (check the customer in Ameyo before sending it again): "
                f"{error}")
    return f"the callback was not scheduled (Ameyo could not be reached): {error}"


# --------------------------------------------------------------------------------------------
# Auth
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AmeyoSession(Credential):
    """An Ameyo session id, its inactivity timeout and what the login said."""

    idle_timeout: float | None = None
    info: AmeyoLoginInfo | None = field(default=None, compare=False)


class AmeyoSessionAuth(CredentialAuth):
    """Ameyo's session: ``command=login`` returns a ``sessionId`` that every later command carries
    inside its ``data`` JSON. Sessions die after ``sessionTimeout`` ms of inactivity (3 minutes by
    the reference), so every successful call pushes the local deadline forward, and an idle
    session is replaced before it can die. A dead session answers HTTP 200 with an error body,
    ``null`` or an HTML page (:meth:`is_rejected`); the base then logs in once and resends.
    """

    hook: AmeyoHook

    def login(self) -> AmeyoSession:
        hook = self.hook
        conn = hook.connection
        data = {"userId": conn.login, "password": conn.password, "terminal": hook.terminal}
        if hook.client_type:
            data["clientType"] = hook.client_type
        body = hook.send_command("login", data, retry_safe=True, authenticated=False)
        session_id = body.get("sessionId") if isinstance(body, dict) else None
        if session_id:
            register_secret(session_id, "ameyo_session_id")  # before anything can echo it
        error = vendor_error(body)
        if body is None or error is not None:
            reason = "null" if error is None else error[1]
            raise DialerAuthError(
                f"login refused for user {conn.login!r} (the server answered {reason}); check the "
                "connection's login (user id), password, and that the user has the Customer Manager role",
                vendor=hook.vendor_name,
            )
        if not isinstance(body, dict) or not session_id:
            raise DialerResponseError("login answered without a sessionId", vendor=hook.vendor_name)
        info = _login_info(body)
        return AmeyoSession(str(session_id), self._deadline(info.session_timeout), info.session_timeout, info)

    def apply(self, request: requests.PreparedRequest, credential: Credential) -> None:
        # The form ends with the encoded JSON's closing brace: the session id goes just before it,
        # without decoding and re-encoding a body that can hold hundreds of customer records.
        body = request.body if isinstance(request.body, bytes) else str(request.body or "").encode()
        if not body.endswith(_ENCODED_CLOSING_BRACE):
            raise DialerError("an Ameyo command body must end with its JSON data", vendor=self.hook.vendor_name)
        separator = "" if body.endswith(_ENCODED_EMPTY_OBJECT) else ","
        tail = f'{separator}"sessionId":{json.dumps(credential.value)}}}'
        request.body = body[: -len(_ENCODED_CLOSING_BRACE)] + form_quote(tail).encode("ascii")
        request.headers["Content-Length"] = str(len(request.body))

    def is_rejected(self, response: requests.Response) -> bool:
        if response.status_code == 401:
            return True
        return response.status_code == 200 and is_invalid_session_body(_utf8(response).text)

    def touch(self, generation: int) -> None:
        with self._lock:
            cred = self._credential
            if generation == self._generation and isinstance(cred, AmeyoSession) and cred.idle_timeout:
                self._credential = replace(cred, expires_at=self._deadline(cred.idle_timeout))

    def logout(self, credential: Credential) -> None:
        self.hook.end_session(credential.value)

    def take(self) -> Credential | None:
        """Remove and return the live credential (for an explicit logout)."""
        with self._lock:
            cred, self._credential = self._credential, None
            return cred

    def _deadline(self, idle_timeout: float | None) -> float | None:
        if not idle_timeout:
            return None  # unknown timeout: use the session until the server rejects it
        # Renew expiry_margin early, but never spend more than half of a short timeout on margin.
        return time.monotonic() + max(idle_timeout - self.expiry_margin, idle_timeout / 2)


def _json(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
_FORM_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~"
#: ASCII -> its form encoding, as ``quote_plus`` writes it (safe characters stay as they are).
_FORM_TABLE = {code: ("+" if code == 32 else f"%{code:02X}") for code in range(128) if chr(code) not in _FORM_SAFE}
_ENCODED_CLOSING_BRACE = b"%7D"
_ENCODED_EMPTY_OBJECT = b"%7B%7D"


def form_quote(text: str) -> str:
    """``quote_plus(text)``; ASCII text through one ``str.translate`` (quote_plus loops in Python
    over every byte, which a profile showed costing milliseconds per 200-record upload)."""
    return text.translate(_FORM_TABLE) if text.isascii() else quote_plus(text)


def command_form(command: str, data: Mapping[str, Any]) -> bytes:
    """A command's form body, ``command=...&data=<JSON>``, encoded."""
    return f"command={form_quote(command)}&data={form_quote(_json(dict(data)))}".encode("ascii")


# --------------------------------------------------------------------------------------------
# Hook
# --------------------------------------------------------------------------------------------


class AmeyoHook(DialerHook):
    """Ameyo "Customer Manager API" hook (Ameyo IPCC, ``/ameyowebaccess/command``).

    Ameyo's vocabulary: the API user is a *Customer Manager*; a *campaign* holds *leads*
    (contact lists, each with ``maxAttempt`` and an enabled flag); a lead holds *customers*
    (contacts, keyed by ``phone1`` and identified by ``customerId``); a *callback* is a call
    scheduled for a customer or a number.

    Connection: host = server base URL (``http://10.0.0.5:8888``), login = user id, password;
    extras ``terminal`` (login's terminal, default ``127.0.0.1``) and ``client_type`` (login's
    ``clientType``, optional).
    """

    conn_type = "ameyo"
    default_conn_name = "ameyo_default"
    hook_name = "Ameyo Customer Manager"
    vendor_name: ClassVar[str] = "Ameyo"
    extra_fields: ClassVar[tuple[str, ...]] = ("verify", "timeout", "terminal", "client_type")

    @property
    def terminal(self) -> str:
        return str(self.extra("terminal", DEFAULT_TERMINAL))

    @property
    def client_type(self) -> str | None:
        value = self.extra("client_type")
        return None if value is None else str(value)

    def build_auth(self) -> AmeyoSessionAuth:
        return AmeyoSessionAuth(self)

    @property
    def auth(self) -> AmeyoSessionAuth:  # narrowed for type checkers
        return super().auth  # type: ignore[return-value]

    # -- transport -----------------------------------------------------------------------------
    def send_command(
        self, command: str, data: Mapping[str, Any], *, retry_safe: bool, authenticated: bool = True
    ) -> Any:
        """POST one command as a form (never in the query string) and decode its JSON answer.

        Returns the decoded body as is (``None`` for ``null``); :meth:`call` also checks it.
        """
        return self._exchange(command, data, retry_safe=retry_safe, authenticated=authenticated).body

    def call(self, command: str, data: Mapping[str, Any], *, retry_safe: bool) -> Any:
        """An authenticated command whose error bodies (HTTP 200) become DialerRequestError."""
        return self.call_answer(command, data, retry_safe=retry_safe).body

    def call_answer(self, command: str, data: Mapping[str, Any], *, retry_safe: bool) -> CommandAnswer:
        """:meth:`call`, also telling whether the command was re-sent after an attempt the server may
        have processed (``replayed``): a duplicate in such an answer can be that attempt's own record."""
        answer = self._exchange(command, data, retry_safe=retry_safe)
        error = vendor_error(answer.body)
        if error is not None:
            raise self.request_error(f"command={command}", 200, *error)
        return answer  # body never None: the auth treats a null answer as a lost session

    def _exchange(
        self, command: str, data: Mapping[str, Any], *, retry_safe: bool, authenticated: bool = True
    ) -> CommandAnswer:
        if authenticated and "sessionId" in data:
            raise DialerError("the session id of an authenticated command is the auth's to add",
                              vendor=self.vendor_name)
        response = self.request(
            "POST",
            COMMAND_PATH,
            retry_safe=retry_safe,
            authenticated=authenticated,
            data=command_form(command, data),
            headers={"Content-Type": FORM_CONTENT_TYPE},
        )
        # null is a documented answer here (a refused login); call() and the auth interpret it.
        body = self.parse_json(_utf8(response), f"command={command}", allow_null=True)
        return CommandAnswer(body, bool(getattr(response, "dialer_replayed", False)))

    def parse_error(self, response: requests.Response) -> tuple[str | None, str]:
        """Ameyo's ``{"result": "Failed.", "comment": [code, args...]}`` (or another documented error body)."""
        try:
            error = vendor_error(json.loads(_utf8(response).text))
        except ValueError:
            error = None
        return error if error is not None else super().parse_error(response)

    def _records(self, body: Any, command: str) -> list[Mapping[str, Any]]:
        """The record list of an answer: a bare list or ``{"beanResponse": [...]}``."""
        records = body.get("beanResponse") if isinstance(body, dict) else body
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise DialerResponseError(
                f"command={command}: expected a list of records, got {type(records).__name__}",
                vendor=self.vendor_name,
            )
        return records

    def _upload_results(self, body: Any, command: str, sent: int) -> list[AmeyoRecordResult]:
        records = self._records(body, command)
        if len(records) != sent:
            # The answer is positional: with a different count no row can be accounted for.
            raise DialerResponseError(
                f"command={command}: {len(records)} results for {sent} records sent; the upload was "
                "processed but its rows cannot be matched (check the campaign in Ameyo)",
                vendor=self.vendor_name,
            )
        return [_record_result(index, raw) for index, raw in enumerate(records)]

    # -- session commands ---------------------------------------------------------------------------
    def login(self) -> AmeyoLoginInfo:
        """``command=login``: log in (or reuse the live session) and return what the login said.

        The session id itself stays inside the auth and is masked everywhere.

        Retry-safe: yes (a repeated login only opens a session that times out unused).
        """
        credential, _ = self.auth.current()
        return cast(AmeyoSession, credential).info  # type: ignore[return-value]  # login() always sets it

    def ping_session(self) -> AmeyoSessionStatus:
        """``command=ping-session``: whether the session is alive, and the server's clock.

        A dead session is replaced first (one re-login), so this also keeps the session warm.

        Retry-safe: yes (read-only).
        """
        body = self.call("ping-session", {"sessionPushSeqNo": "0", "sessionpushseqno": "0"}, retry_safe=True)
        if not isinstance(body, dict) or "alive" not in body:
            raise DialerResponseError("command=ping-session: answer without 'alive'", vendor=self.vendor_name)
        millis = _int_or_none(body.get("serverTime"))
        server_time = datetime.fromtimestamp(millis / 1000, tz=timezone.utc) if millis is not None else None
        return AmeyoSessionStatus(alive=_bool(body["alive"]), server_time=server_time)

    def logout(self) -> bool:
        """``command=logout``: end the hook's session. True if a session was ended, False if there
        was none. The next command logs in again. (``close()`` logs out too, without raising.)

        Retry-safe: yes (a session already gone counts as ended).
        """
        credential = self.auth.take()
        if credential is None:
            return False
        self.end_session(credential.value)
        return True

    def end_session(self, session_id: str) -> None:
        """Send ``command=logout`` for ``session_id``, unauthenticated: logging in again only to log
        out would be absurd. A session the server no longer knows is already ended."""
        body = self.send_command("logout", {"sessionId": session_id}, retry_safe=True, authenticated=False)
        error = vendor_error(body)
        if error is not None and not any(m in error[1].lower() for m in _INVALID_SESSION_MARKERS):
            raise self.request_error("command=logout", 200, *error)

    # -- customers ----------------------------------------------------------------------------------
    def get_contacts(
        self,
        campaign_id: int,
        *,
        customer_ids: Iterable[int | str] | None = None,
        lead_ids: Iterable[int | str] | None = None,
        choose_enabled_leads: bool = False,
        other_columns: Mapping[str, str] | Iterable[str] | None = None,
        order_by: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[AmeyoContact]:
        """``command=getContacts``: the customers of a campaign matching the criteria.

        :param customer_ids: only these customers (default: all).
        :param lead_ids: only these leads; each must belong to the campaign
            (else ``CustomerManager.lead.not.in.camp.11``).
        :param choose_enabled_leads: only customers of enabled leads.
        :param other_columns: extra customer-table columns to return in ``extra_data``
            (``["status", "attempts"]`` or ``{"status": "STATUS"}``; see :func:`other_columns_map`).
        :param order_by: ``orderBy``, e.g. ``"customer_id"`` or ``"attempts DESC"``.
        :param limit: at most this many customers; ``offset`` skips the first ones
            (sent as ``limitOffset: "LIMIT n OFFSET m"``).

        Retry-safe: yes (read-only).
        """
        data: dict[str, Any] = {"campaignId": int(campaign_id), "chooseEnabledLeads": choose_enabled_leads}
        if customer_ids is not None:
            data["customerIds"] = [str(c) for c in customer_ids]
        if lead_ids is not None:
            data["leadIds"] = [str(lead) for lead in lead_ids]
        if other_columns is not None:
            data["otherColumns"] = other_columns_map(other_columns)
        if order_by:
            data["orderBy"] = order_by
        paging = limit_offset(limit, offset)
        if paging:
            data["limitOffset"] = paging
        body = self.call("getContacts", data, retry_safe=True)
        return [_contact(raw) for raw in self._records(body, "getContacts")]

    def iter_contacts(
        self, campaign_id: int, *, page_size: int = 500, **criteria: Any
    ) -> Iterator[AmeyoContact]:
        """All customers matching ``criteria`` (see :meth:`get_contacts`), fetched ``page_size`` at a
        time ordered by ``customer_id`` so pages neither overlap nor skip.

        Each command asks for one customer more than the page keeps: that look-ahead customer says
        whether another page follows (it comes again as the next page's first). ``n`` customers
        thus cost ``ceil(n / page_size)`` commands (one when there are none), with no final empty
        page when ``n`` is a multiple of ``page_size``.

        Retry-safe: yes (read-only).
        """
        offset = 0
        while True:
            page = self.get_contacts(
                campaign_id, order_by="customer_id", limit=page_size + 1, offset=offset, **criteria
            )
            yield from page[:page_size]
            if len(page) <= page_size:
                return
            offset += page_size

    def upload_customer_records(
        self,
        campaign_id: int,
        lead_id: int,
        customer_records: Sequence[Mapping[str, Any]],
        *,
        update_customer: bool = True,
        migrate_customer: bool = False,
        status: str | None = None,
        num_attempts: int | None = None,
    ) -> list[AmeyoRecordResult]:
        """``command=uploadContacts``: add customers to a lead; one result per record, in order.

        :param customer_records: column -> value maps (``phone1`` required; ``phone2``, ``name``...).
        :param update_customer: ``update.customer``: a record whose ``phone1`` already exists in the
            campaign updates that customer (UPDATED) instead of being refused (DUPLICATE_NOT_ADDED).
        :param migrate_customer: ``migrate.customer``: move an existing customer to ``lead_id``.
        :param status: ``Status`` to set (e.g. ``NOT_TRIED``). Left unset, new customers start
            NOT_TRIED and existing ones keep theirs; setting it on an update churns the customer
            (it is dialed again), so only set it on purpose.
        :param num_attempts: ``numAttempts`` to set along with ``status``.

        Per-record failures (invalid phone length, missing phone1, duplicates) are results, not
        errors; a whole-request refusal (lead not in campaign) raises DialerRequestError.

        Retry-safe: only with ``update_customer=True``: a re-send after a lost answer finds the
        rows by ``phone1`` and updates them (UPDATED) instead of duplicating them. Without it a
        re-send would report the rows of the lost attempt as DUPLICATE_NOT_ADDED, hiding that
        they were added, so it is not re-sent (:meth:`upload_contacts` re-sends it, reading such
        a duplicate in a replayed answer as the lost attempt's own row).
        """
        data = upload_contacts_data(campaign_id, lead_id, customer_records, update_customer=update_customer,
                                    migrate_customer=migrate_customer, status=status,
                                    num_attempts=num_attempts)
        results, _ = self._send_upload("uploadContacts", data, len(customer_records),
                                       retry_safe=update_customer)
        return results

    def _send_upload(
        self, command: str, data: Mapping[str, Any], sent: int, *, retry_safe: bool
    ) -> tuple[list[AmeyoRecordResult], bool]:
        """Send an upload command: its per-record results, and whether the answer is a replay's."""
        answer = self.call_answer(command, data, retry_safe=retry_safe)
        return self._upload_results(answer.body, command, sent), answer.replayed

    def upload_contact_and_add_callback(
        self,
        campaign_id: int,
        lead_id: int,
        records: Sequence[CustomerCallback],
        *,
        update_customer: bool = True,
        migrate_customer: bool = False,
        validity_time: datetime | str | None = None,
    ) -> list[AmeyoRecordResult]:
        """``command=uploadContactAndAddCallback``: upload (or update) customers and schedule a
        callback for each; one result per record, in order, with ``callback_id``/``callback_time``.

        :param validity_time: ``validityTime``: after it the customers are not dialed.

        Retry-safe: no (every send schedules the callbacks again, even when the customers are
        only updated).
        """
        data: dict[str, Any] = {
            "campaignId": int(campaign_id),
            "leadId": int(lead_id),
            "customerAndCallbackRecords": [record.to_ameyo() for record in records],
            "properties": {"update.customer": update_customer, "migrate.customer": migrate_customer},
        }
        if validity_time is not None:
            data["validityTime"] = format_ameyo_time(validity_time)
        body = self.call("uploadContactAndAddCallback", data, retry_safe=False)
        return self._upload_results(body, "uploadContactAndAddCallback", len(records))

    # -- leads and callbacks ---------------------------------------------------------------------
    def get_leads_for_campaign(self, campaign_id: int) -> list[AmeyoLead]:
        """``command=getLeadsForCampaign``: the campaign's leads with priority, enabled flag,
        ``maxAttempt`` and churn count.

        Retry-safe: yes (read-only).
        """
        body = self.call("getLeadsForCampaign", {"campaignId": int(campaign_id)}, retry_safe=True)
        return [_lead(raw) for raw in self._records(body, "getLeadsForCampaign")]

    def add_callback(
        self,
        campaign_id: int,
        callback_time: datetime | str,
        *,
        customer_id: int | None = None,
        phone: str | None = None,
        is_self_callback: bool = False,
        user_id: str | None = None,
        callback_handler_type: str | None = None,
    ) -> AmeyoCallback:
        """``command=addCallback``: schedule a callback for a customer (``customer_id``) and/or a
        number (``phone``; Ameyo's default is the customer's phone1).

        :param callback_time: when to call, server local time (``YYYY-MM-DD HH:MM:SS``).
        :param callback_handler_type: e.g. ``voice.campaign.callback.handler`` (default: none).

        Retry-safe: no (a re-send schedules a second callback: the customer would be called twice).
        """
        targets = (("customerId", customer_id), ("phone", phone))
        properties = {key: str(value) for key, value in targets if value}
        data: dict[str, Any] = {
            "campaignId": int(campaign_id),
            "callBackTime": format_ameyo_time(callback_time),
            "isSelfCallBack": is_self_callback,
            "callBackProperties": properties,
        }
        if user_id is not None:
            data["userId"] = user_id
        if callback_handler_type is not None:
            data["callBackHandlerType"] = callback_handler_type
        body = self.call("addCallback", data, retry_safe=False)
        records = self._records(body, "addCallback")
        if not records:
            raise DialerResponseError("command=addCallback: empty beanResponse", vendor=self.vendor_name)
        return _callback(records[0])

    # -- capabilities (vendor-neutral; see capabilities.DialerCapabilities) -------------------------
    #: Records per upload command. The reference sets no maximum, but commands are synchronous and
    #: the login answer's ``commandTimeout`` is 20 s: 200 records finish well within it.
    upload_batch_size: ClassVar[int] = 200
    #: getContacts page size for progress and contact lookups. The reference sets no maximum
    #: ("LimitOffset - Default - Null - No limit"): one command could return a whole campaign. Pages
    #: are kept anyway: a command must finish within the login answer's ``commandTimeout`` (20 s in
    #: the reference), and each answer is buffered and parsed whole, in a worker or in the triggerer
    #: next to every other trigger. 10 000 customers are about 3 MB with only a phone (the sandbox's
    #: customers), several times that with real customer data; a check reads ceil(n / 10 000) pages.
    contacts_page_size: ClassVar[int] = 10_000

    def list_campaigns(self) -> list[CampaignSummary]:
        """The campaigns the Customer Manager user is logged in to, from the login answer.

        Ameyo's API has no command listing campaigns or their state: ``status`` is the campaign's
        type (e.g. "Outbound Voice Campaign") and ``running`` is None.
        """
        return [
            CampaignSummary(id=str(c.campaign_id), name=c.name, status=c.campaign_type, running=None)
            for c in self.login().campaigns
        ]

    def find_campaign(self, name: str) -> str | None:
        """The id of the campaign called ``name`` among those the Customer Manager is logged in to."""
        return next((c["id"] for c in self.list_campaigns() if c["name"] == name), None)

    def create_campaign(self, spec: Mapping[str, Any]) -> str:
        raise self.not_supported("create campaigns",
                                 "the Customer Manager API has no command that creates one")

    def set_campaign_status(self, campaign_id: str, status: CampaignStatusWord) -> None:
        raise self.not_supported("pause or resume campaigns",
                                 "the Customer Manager API has no command that starts or stops a campaign")

    def add_dnc(self, numbers: Sequence[str]) -> DncResult:
        raise self.not_supported("manage a DNC list", "the Customer Manager API has no do-not-call commands")

    def remove_dnc(self, numbers: Sequence[str]) -> DncResult:
        raise self.not_supported("manage a DNC list", "the Customer Manager API has no do-not-call commands")

    def list_dnc(self) -> set[str]:
        raise self.not_supported("read a DNC list", "the Customer Manager API has no do-not-call commands")

    def set_global_emergency(self, enabled: bool) -> dict[str, Any]:
        raise self.not_supported(
            "toggle a global emergency",
            "the Customer Manager API has no emergency stop and cannot pause campaigns, so none can be "
            "emulated",
        )

    def upload_contacts(
        self, campaign_id: str, rows: Sequence[ContactRow], *, options: UploadOptions
    ) -> list[RowOutcome]:
        """Upload one batch of contacts as *customers* of the lead ``options.lead_id``.

        Every row goes through uploadContacts, ``update.customer`` on for ``on_duplicate="update"``
        (UPDATED), off for ``"skip"`` (DUPLICATE_NOT_ADDED: a duplicate). Ameyo dedupes customers by
        ``phone1``, so the command is re-sent after a lost answer; a duplicate in the replayed answer
        is the lost attempt's own row and counts as accepted. A stored row with ``dial_at`` then gets
        its callback at that time (:meth:`_schedule_dial_times`), so Ameyo dials it then.
        """
        campaign, lead = self._upload_target(campaign_id, options)
        mapped, outcomes = self._map_rows(rows, lambda item: mapping.customer_record(item.contact))
        if options.dry_run:
            return outcomes + [
                RowOutcome(item.row, RowStatus.ACCEPTED, payload=self._planned_upload(item, record))
                for item, record in mapped
            ]
        if not mapped:
            return outcomes
        data = upload_contacts_data(campaign, lead, [record for _, record in mapped],
                                    update_customer=options.on_duplicate == "update")
        results, replayed = self._send_upload("uploadContacts", data, len(mapped), retry_safe=True)
        stored = [(item, mapping.upload_outcome(item.row, result, replayed=replayed))
                  for (item, _), result in zip(mapped, results)]
        return outcomes + self._schedule_dial_times(campaign, lead, stored)

    def add_callbacks(
        self, campaign_id: str, rows: Sequence[CallbackRow], *, options: UploadOptions
    ) -> list[RowOutcome]:
        """Schedule one batch of callbacks with uploadContactAndAddCallback into ``options.lead_id``:
        the customer is uploaded (``on_duplicate="update"``) or left as it is (``"skip"``), and a
        callback is scheduled at ``callback_at`` on its first phone, for ``agent`` when given.

        Not re-sent after a lost answer: every send schedules the callbacks again.
        """
        campaign, lead = self._upload_target(campaign_id, options)
        server_timezone = self.server_timezone
        mapped, outcomes = self._map_rows(rows, lambda item: mapping.customer_callback(
            item.callback.contact, item.callback.callback_at, server_timezone, agent=item.callback.agent))
        if options.dry_run:
            return outcomes + [RowOutcome(item.row, RowStatus.ACCEPTED, payload=record.to_ameyo())
                               for item, record in mapped]
        if not mapped:
            return outcomes
        records = [(item.row, record) for item, record in mapped]
        return outcomes + self._send_callbacks(campaign, lead, records, time_field="callback_at",
                                               update_customer=options.on_duplicate == "update")

    def get_campaign_progress(self, campaign_id: str) -> CampaignProgress:
        """Counts by call status of the customers of the campaign's enabled leads.

        Ameyo keeps no campaign counters: this reads every such customer's ``status`` and
        ``attempts`` with getContacts, :attr:`contacts_page_size` at a time, plus the leads'
        ``maxAttempt`` (getLeadsForCampaign): 1 + ceil(customers / page size) commands, at least 2.
        Complete when every customer is settled (:func:`is_settled`).
        """
        campaign = self._campaign_number(campaign_id)
        max_attempts = {lead.lead_id: lead.max_attempt for lead in self.get_leads_for_campaign(campaign)}
        outcomes: Counter[str] = Counter()
        pending = 0
        for contact in self.iter_contacts(campaign, page_size=self.contacts_page_size,
                                          choose_enabled_leads=True, other_columns=PROGRESS_COLUMNS):
            status = call_status(contact)
            outcomes[status] += 1
            pending += not is_settled(status, contact.attempts, max_attempts.get(contact.lead_id))
        return CampaignProgress(
            campaign_id=str(campaign),
            complete=pending == 0,
            total=sum(outcomes.values()),
            pending=pending,
            outcomes=dict(outcomes),
            detail="counted from the customers of enabled leads; Ameyo's API does not tell whether the "
                   "campaign is running",
        )

    def get_contact_state(self, campaign_id: str, contact_ref: str) -> ContactState:
        """A customer's call status, by ``customerId`` (digits), ``phone1`` or the ``external_id``
        column. A customerId is tried first (one getContacts); otherwise the campaign's customers are
        read page by page. ``terminal``: a status in :data:`TERMINAL_CALL_STATUSES`, or attempts at
        the lead's ``maxAttempt``. ``history``: the getContacts columns of :data:`STATE_COLUMNS`.
        """
        campaign = self._campaign_number(campaign_id)
        ref = str(contact_ref).strip()
        contact = self._find_contact(campaign, ref)
        leads = self.get_leads_for_campaign(campaign)
        lead = next((lead for lead in leads if lead.lead_id == contact.lead_id), None)
        status = call_status(contact)
        return ContactState(
            contact_ref=ref,
            state=status,
            terminal=is_settled(status, contact.attempts, lead.max_attempt if lead else None),
            attempts=contact.attempts,
            history=dict(contact.extra_data),
        )

    # -- capability helpers ----------------------------------------------------------------------
    def _campaign_number(self, campaign_id: str | int) -> int:
        try:
            return int(str(campaign_id).strip())
        except ValueError:
            raise DialerValidationError("campaign_id", f"Ameyo campaign ids are numbers, got {campaign_id!r}",
                                        vendor=self.vendor_name) from None

    def _upload_target(self, campaign_id: str, options: UploadOptions) -> tuple[int, int]:
        """(campaign, lead) of an upload, checked before anything is sent."""
        campaign = self._campaign_number(campaign_id)
        if options.lead_id is None:
            raise DialerValidationError("lead_id", "Ameyo uploads go into a lead: give lead_id",
                                        vendor=self.vendor_name)
        return campaign, int(options.lead_id)

    @staticmethod
    def _map_rows(
        rows: Sequence[_Row], build: Callable[[_Row], Any]
    ) -> tuple[list[tuple[_Row, Any]], list[RowOutcome]]:
        """Each row's Ameyo record, and the rows the mapping refuses as rejected (never sent)."""
        mapped, rejected = [], []
        for item in rows:
            try:
                mapped.append((item, build(item)))
            except ContactError as error:
                rejected.append(RowOutcome.rejected(item.row, error.field, error.reason))
        return mapped, rejected

    def _planned_upload(self, item: ContactRow, record: dict[str, str]) -> dict[str, Any]:
        """A dry run's payload: the customer record, with the callback record for a row with ``dial_at``."""
        dial_at = item.contact.dial_at
        if dial_at is None:
            return record
        return mapping.customer_callback(item.contact, dial_at, self.server_timezone).to_ameyo()

    def _schedule_dial_times(
        self, campaign: int, lead: int, stored: Sequence[tuple[ContactRow, RowOutcome]]
    ) -> list[RowOutcome]:
        """The upload's outcomes, once each stored row with ``dial_at`` has its callback at that time.

        The callbacks are a second command (uploadContactAndAddCallback addressed by the customerId
        just stored, ``update.customer`` off so the record is left as it is) rather than the upload
        itself: that command, given a customer that already exists, still schedules a callback on its
        number, which ``on_duplicate="skip"`` must not do; and uploadContacts alone can be re-sent.
        """
        timed = [index for index, (item, outcome) in enumerate(stored)
                 if item.contact.dial_at is not None and outcome.status is RowStatus.ACCEPTED]
        server_timezone = self.server_timezone
        records = []
        for index in timed:
            item, outcome = stored[index]
            record = mapping.customer_callback(item.contact, item.contact.dial_at, server_timezone,
                                               customer_id=_int_or_none(outcome.vendor_id))
            records.append((item.row, record))
        outcomes = [outcome for _, outcome in stored]
        scheduled = self._send_callbacks(campaign, lead, records, update_customer=False, time_field="dial_at")
        for index, outcome in zip(timed, scheduled):
            outcomes[index] = outcome
        return outcomes

    def _send_callbacks(
        self, campaign: int, lead: int, records: Sequence[tuple[int, CustomerCallback]], *,
        update_customer: bool, time_field: str,
    ) -> list[RowOutcome]:
        """uploadContactAndAddCallback for (row, record) pairs; one outcome per pair, in order.

        The command is never re-sent after a lost answer (a re-send schedules a second callback and
        the person is called twice): its rows are rejected instead, with the reason, for a person to
        check in Ameyo before sending them again.
        """
        if not records:
            return []
        try:
            results = self.upload_contact_and_add_callback(campaign, lead, [record for _, record in records],
                                                           update_customer=update_customer)
        except DialerTransientError as error:
            reason = _unconfirmed_callback_reason(error)
            return [RowOutcome.rejected(row, time_field, reason, vendor_code="CALLBACK_UNCONFIRMED")
                    for row, _ in records]
        return [mapping.callback_outcome(row, result, time_field=time_field)
                for (row, _), result in zip(records, results)]

    def _find_contact(self, campaign: int, ref: str) -> AmeyoContact:
        if ref.isdigit():
            found = self.get_contacts(campaign, customer_ids=[ref], other_columns=STATE_COLUMNS)
            if found:
                return found[0]
        identities = ("phone1", mapping.EXTERNAL_ID_COLUMN)
        contacts = self.iter_contacts(campaign, page_size=self.contacts_page_size,
                                      other_columns=STATE_COLUMNS)
        for contact in contacts:
            if ref in (contact.customer_data.get(column) for column in identities):
                return contact
        raise DialerRequestError(
            f"no customer {ref!r} in campaign {campaign} (looked up as customerId, phone1 and external_id)",
            vendor=self.vendor_name,
        )

    # -- Test button ----------------------------------------------------------------------------------
    def _test_connection_call(self) -> str:
        info = self.login()
        if not self.ping_session().alive:
            raise DialerAuthError("the new session is not alive (ping-session)", vendor=self.vendor_name)
        return f"logged in as {info.user_id} ({info.user_type}); {len(info.campaigns)} campaigns"
