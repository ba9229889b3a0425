"""Ameyo: contact / callback -> *customer record* (and *callback record*), and Ameyo's per-record
answers -> :class:`~airflow_provider_dialers.capabilities.RowOutcome`, and a customer's call status
-> settled or not (for progress and contact state). No HTTP.

A customer record is Ameyo's column map of one customer (reference 4.7.1: "a map containing the
column name vs value. Eg- phone1, phone2, phone3, op_code_id, account_no"). The contact model maps
to it as follows:

* ``phones`` -> ``phone1``, ``phone2``, ``phone3`` (at most :data:`MAX_PHONES`; each
  :data:`MIN_PHONE_DIGITS`..:data:`MAX_PHONE_DIGITS` digits, an optional leading ``+``).
  Ameyo identifies a customer of a campaign by ``phone1``: it is the dedupe key.
* ``external_id`` -> column ``external_id``; ``timezone`` -> column ``timezone`` (both only when set).
* ``attributes`` -> one column each, under the attribute's name.
* ``dial_at`` / ``callback_at`` -> a callback record's ``callBackTime``, in the *server's* local
  time (Ameyo's times carry no offset).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

import pendulum

from airflow_provider_dialers.capabilities import ContactRecord, RowOutcome, RowStatus
from airflow_provider_dialers.contacts import Contact, ContactError, format_server_time
from airflow_provider_dialers.errors import DialerTransientError, DialerValidationError
from airflow_provider_dialers.vendors.ameyo.wire import (
    TERMINAL_CALL_STATUSES,
    AmeyoCallStatus,
    AmeyoContact,
    AmeyoRecordResult,
    CustomerCallback,
)

#: The reference names phone1, phone2, phone3 as a customer record's phone columns.
MAX_PHONES = 3
#: Login's ``maxPhoneLengthAllowed`` is 20 in the reference; it gives no lower bound, 4 is plausible
#: (no dialable number is shorter) and what the sandbox enforces.
MIN_PHONE_DIGITS = 4
MAX_PHONE_DIGITS = 20
EXTERNAL_ID_COLUMN = "external_id"
TIMEZONE_COLUMN = "timezone"
#: Ameyo keeps customer records in an SQL table: a column is a plain identifier (PostgreSQL: <= 63).
_COLUMN_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,62}")
_PHONE_COLUMN = re.compile(r"phone(\d+)", re.IGNORECASE)
#: The result type of a record whose phone1 is already a customer of the campaign (nothing stored).
DUPLICATE = "DUPLICATE_NOT_ADDED"
#: A dry run's ``customerId`` in the callback record of a row with ``dial_at``: the real run sends the
#: id uploadContacts answers for the customer, which only Ameyo can give.
DRY_RUN_CUSTOMER_ID = "<customerId from uploadContacts>"
#: The commands a contact with ``dial_at`` is sent in, as the keys of its payload.
UPLOAD_COMMAND = "uploadContacts"
CALLBACK_COMMAND = "uploadContactAndAddCallback"
#: :data:`TERMINAL_CALL_STATUSES` as getContacts' ``STATUS`` column spells them.
_TERMINAL_STATUS_NAMES = frozenset(status.value for status in TERMINAL_CALL_STATUSES)


def phone_column(index: int) -> str:
    """``phone1`` for the contact's first phone (``phones[0]``)."""
    return f"phone{index + 1}"


def customer_record(contact: Contact) -> dict[str, str]:
    """The contact as an Ameyo customer record; :class:`ContactError` names the offending field."""
    record = _phone_columns(contact.phones)
    if contact.external_id is not None:
        record[EXTERNAL_ID_COLUMN] = contact.external_id
    if contact.timezone is not None:
        record[TIMEZONE_COLUMN] = contact.timezone
    for name, value in contact.attributes.items():
        _check_attribute_name(name)
        record[name] = value
    return record


def _phone_columns(phones: tuple[str, ...]) -> dict[str, str]:
    if len(phones) > MAX_PHONES:
        raise ContactError("phones", f"Ameyo takes at most {MAX_PHONES} numbers (phone1..phone{MAX_PHONES}), "
                                     f"got {len(phones)}")
    for index, phone in enumerate(phones):
        digits = len(phone.lstrip("+"))
        if not MIN_PHONE_DIGITS <= digits <= MAX_PHONE_DIGITS:
            limits = f"{MIN_PHONE_DIGITS} to {MAX_PHONE_DIGITS} digits"
            raise ContactError(f"phones[{index}]", f"must have {limits} for Ameyo, got {digits}")
    return {phone_column(index): phone for index, phone in enumerate(phones)}


def _check_attribute_name(name: str) -> None:
    problem = _attribute_name_problem(name)
    if problem is not None:
        raise ContactError(f"attributes.{name}", problem)


@functools.lru_cache(maxsize=1024)
def _attribute_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be an attribute's column, or None (asked for every row, with few names)."""
    if not _COLUMN_NAME.fullmatch(name):
        return "is not a valid Ameyo column name (a letter, then letters, digits or _; at most 63 characters)"
    # SQL column names ignore case: "Phone1" would overwrite the phone1 column.
    if _PHONE_COLUMN.fullmatch(name) or name.lower() in (EXTERNAL_ID_COLUMN, TIMEZONE_COLUMN):
        return (f"clashes with the column Ameyo uses for the contact's "
                f"{'phones' if _PHONE_COLUMN.fullmatch(name) else name.lower()}")
    return None


def callback_time(moment: pendulum.DateTime, server_timezone: str, time_field: str = "dial_at") -> str:
    """``callBackTime``: the aware time as the server's wall clock (``YYYY-MM-DD HH:MM:SS``).

    :param moment: the time (aware).
    :param server_timezone: the Ameyo server's IANA zone (the connection extra ``timezone``).
    :param time_field: the model field a :class:`ContactError` names when the time cannot be written.
    """
    return format_server_time(moment, server_timezone, field_name=time_field)


def customer_callback(
    contact: Contact,
    moment: pendulum.DateTime,
    server_timezone: str,
    *,
    agent: str | None = None,
    customer_id: int | None = None,
    time_field: str = "dial_at",
) -> CustomerCallback:
    """One uploadContactAndAddCallback record: the customer record and a callback at ``moment`` on the
    contact's first phone, routed to ``agent`` (Ameyo ``userId``) when given, never a self callback.

    :param customer_id: the existing customer the callback is for (``customerId``).
    :param time_field: the model field of ``moment`` (``dial_at``, ``callback_at``), for errors.
    """
    record = customer_record(contact)
    return CustomerCallback(
        customer_record=record,
        callback_time=callback_time(moment, server_timezone, time_field),
        is_self_callback=False,
        user_id=agent,
        callback_phone=record[phone_column(0)],
        customer_id=customer_id,
    )


def dial_time_payload(customer: Mapping[str, Any], callback: CustomerCallback, *, dry_run: bool = False
                      ) -> dict[str, Any]:
    """The payload of a contact with ``dial_at``, which is sent in two commands: its customer record in
    uploadContacts, then its callback, addressed by ``customerId``, in uploadContactAndAddCallback.

    :param customer: the customer record sent in uploadContacts.
    :param callback: the callback record (with the ``customerId`` uploadContacts answered).
    :param dry_run: nothing was uploaded, so ``customerId`` is :data:`DRY_RUN_CUSTOMER_ID`.
    """
    sent = callback.to_ameyo()
    if dry_run:
        sent["callbackRecord"]["customerId"] = DRY_RUN_CUSTOMER_ID
    return {UPLOAD_COMMAND: dict(customer), CALLBACK_COMMAND: sent}


# --------------------------------------------------------------------------------------------
# Answers -> outcomes
# --------------------------------------------------------------------------------------------


def upload_outcome(row: int, result: AmeyoRecordResult, *, replayed: bool,
                   payload: Mapping[str, Any] | None = None) -> RowOutcome:
    """What one uploadContacts record became.

    ``DUPLICATE_NOT_ADDED`` (``phone1`` already in the campaign, ``update.customer`` off) is a
    duplicate, except in an answer to a re-sent request (``replayed``): there it is the lost first
    attempt's own row, so it counts as accepted.
    """
    vendor_id = None if result.customer_id is None else str(result.customer_id)
    if result.succeeded or (result.result_type == DUPLICATE and replayed):
        return RowOutcome(row, RowStatus.ACCEPTED, vendor_id=vendor_id, payload=payload)
    if result.result_type == DUPLICATE:
        return RowOutcome(row, RowStatus.DUPLICATE, reason="phone1 is already a customer of the campaign",
                          vendor_code=DUPLICATE, vendor_id=vendor_id, payload=payload)
    return record_rejection(row, result, payload)


def callback_outcome(row: int, result: AmeyoRecordResult, *, time_field: str,
                     vendor_id: str | None = None, reading: str | None = None,
                     payload: Mapping[str, Any] | None = None) -> RowOutcome:
    """What one uploadContactAndAddCallback record became: accepted when its callback was scheduled.

    The customer part may be ``DUPLICATE_NOT_ADDED`` (the customer exists and is left as is): the
    callback is still scheduled for it (or its number), which is what the row asked for.

    Switch ``ameyo_callback_result``: the reference shows only a success (``callbackTime`` set, ``id``
    and ``message`` null) and never a failure. A callback counts as scheduled when the answer gives it
    an id or a time; ``message`` is only the reason when it was not (servers that fill it on success
    too, or that leave it null on failure, are read right). ``reading="message_on_failure"`` (the
    connection's ``readings`` extra) also takes any message as a failure. An unscheduled callback
    rejects the row under ``time_field``.
    """
    if not result.succeeded and result.result_type != DUPLICATE:
        return record_rejection(row, result, payload)
    scheduled = result.callback_id is not None or result.callback_time is not None
    if not scheduled or (reading == "message_on_failure" and result.message):
        reason = result.message or "the answer carries neither a callback id nor a callback time"
        code = result.message.split(",")[0].strip() if result.message else "CALLBACK_NOT_SCHEDULED"
        return RowOutcome(row, RowStatus.REJECTED, field=time_field, reason=f"Ameyo did not schedule the "
                          f"callback: {reason}", vendor_code=code, payload=payload)
    customer_id = None if result.customer_id is None else str(result.customer_id)
    return RowOutcome(row, RowStatus.ACCEPTED, vendor_id=vendor_id or customer_id, payload=payload)


def record_rejection(row: int, result: AmeyoRecordResult, payload: Mapping[str, Any] | None = None
                     ) -> RowOutcome:
    """A record Ameyo refused: the field its exception names (``phone1`` -> ``phones[0]``), the
    result type and exception as the reason, the exception's code (else the result type) as code."""
    code = str(result.exception[0]) if result.exception else str(result.result_type)
    detail = ", ".join(str(part) for part in result.exception) or "no detail"
    columns = [str(part) for part in result.exception[1:] if isinstance(part, str)]
    field = next((model_field(column) for column in columns), None)
    return RowOutcome(row, RowStatus.REJECTED, field=field, reason=f"Ameyo {result.result_type}: {detail}",
                      vendor_code=code, payload=payload)


def model_field(column: str) -> str:
    """The contact model's name for an Ameyo column: ``phone2`` -> ``phones[1]``, ``name`` ->
    ``attributes.name``."""
    phone = _PHONE_COLUMN.fullmatch(column)
    if phone:
        return f"phones[{int(phone[1]) - 1}]"
    if column in (EXTERNAL_ID_COLUMN, TIMEZONE_COLUMN):
        return column
    return f"attributes.{column}"


# --------------------------------------------------------------------------------------------
# Call statuses -> progress and contact state
# --------------------------------------------------------------------------------------------


def call_status(contact: AmeyoContact) -> str:
    """The customer's call status: the ``STATUS`` column, NOT_TRIED while it is null (not dialed)."""
    return str(contact.status or AmeyoCallStatus.NOT_TRIED.value)


def is_settled(status: str, attempts: int | None, max_attempt: int | None) -> bool:
    """Whether Ameyo is done with a customer: a terminal status, or its lead's ``maxAttempt`` used up."""
    if status in _TERMINAL_STATUS_NAMES:
        return True
    return attempts is not None and max_attempt is not None and attempts >= max_attempt


def state_of(contact: AmeyoContact, max_attempt: int | None) -> tuple[str, bool]:
    """A customer's call status (:func:`call_status`) and whether Ameyo is done with it
    (:func:`is_settled`, given its lead's ``maxAttempt``): the one rule of progress, contact state
    and the campaign listing."""
    status = call_status(contact)
    return status, is_settled(status, contact.attempts, max_attempt)


def wanted_statuses(states: Collection[str] | None) -> frozenset[str] | None:
    """The call statuses ``states`` names (any case; a single word may be given as a string); None:
    every status. A word that is not one of the reference's statuses (4.6.3, and NOT_TRIED) raises
    ``DialerValidationError("states")`` naming them, before anything is sent."""
    if states is None:
        return None
    words = {str(word).strip().upper() for word in ((states,) if isinstance(states, str) else states)}
    known = {status.value for status in AmeyoCallStatus}
    unknown = sorted(words - known)
    if unknown:
        raise DialerValidationError("states", f"not Ameyo call statuses: {', '.join(unknown)} (known: "
                                              f"{', '.join(sorted(known))})", vendor="Ameyo")
    return frozenset(words)


def contact_record(contact: AmeyoContact, max_attempt: int | None, server_timezone: str) -> ContactRecord:
    """A customer as getContacts answers it, as a :class:`ContactRecord`.

    ``contact_ref`` its ``customerId``; ``external_id`` the ``external_id`` column our uploads write
    (None without it: Ameyo itself keeps no external id); ``phone`` its ``phone1`` as stored;
    ``state``/``terminal`` as :func:`state_of` (the same as contact state and progress); ``attempts``
    its ``attempts`` column; ``last_result`` its Last Status (else its status once dialled: the
    ``status`` column is the last call's outcome); ``last_change`` the latest of Date Modified and
    Last Dialed (the answer's fields, else the ``last_dialed`` column), in UTC (:func:`answer_time`).
    """
    state, terminal = state_of(contact, max_attempt)
    data = contact.customer_data
    dialled = state if contact.attempts and state != AmeyoCallStatus.NOT_TRIED.value else None
    changes = [answer_time(value, server_timezone) for value in
               (contact.date_modified, contact.last_dialed or contact.extra_data.get("LAST_DIALED"))]
    last_change = max((moment for moment in changes if moment is not None), default=None)
    return ContactRecord(
        contact_ref=str(contact.customer_id),
        external_id=_text(data.get(EXTERNAL_ID_COLUMN)),
        phone=_text(data.get(phone_column(0))),
        state=state,
        terminal=terminal,
        attempts=contact.attempts,
        last_result=_text(contact.last_status) or dialled,
        last_change=None if last_change is None else last_change.isoformat(),
    )


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


#: Naive time forms in Ameyo answers, in the server's zone: Java's (Gson's) ``Mar 3, 2015 11:29:34 AM``,
#: the only answer time the reference shows (4.8.5), and SQL's ``2015-03-03 11:29:34[.123]`` (columns).
_ANSWER_TIME_FORMATS = ("%b %d, %Y %I:%M:%S %p", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f")


def answer_time(value: Any, server_timezone: str) -> pendulum.DateTime | None:
    """:func:`read_answer_time`, remembered: a campaign's contacts share their times to the second
    (a bulk load stamps thousands alike), and reading one costs ~80 us."""
    if isinstance(value, (str, int, float)):
        return _remembered_answer_time(value, server_timezone)
    return read_answer_time(value, server_timezone)


@functools.lru_cache(maxsize=4096)
def _remembered_answer_time(value: str | float, server_timezone: str) -> pendulum.DateTime | None:
    return read_answer_time(value, server_timezone)


def read_answer_time(value: Any, server_timezone: str) -> pendulum.DateTime | None:
    """A time of an Ameyo answer in UTC, or None when absent or unreadable. The reference gives no
    form for Date Modified or Last Dialed: a form of :data:`_ANSWER_TIME_FORMATS` (the server's local
    time, ``server_timezone``), ISO 8601 (with an offset, else local), or a number of epoch
    milliseconds (Java's; seconds below 10^11)."""
    if value in (None, "") or isinstance(value, bool):
        return None
    text = str(value).strip().replace("\u202f", " ")  # newer JDKs put a narrow space before AM/PM
    if isinstance(value, (int, float)) or text.isdigit():
        number = float(text)
        try:
            return pendulum.from_timestamp(number / 1000 if number > 1e11 else number)
        except (ValueError, OverflowError, OSError):
            return None
    for form in _ANSWER_TIME_FORMATS:
        try:
            return pendulum.instance(datetime.strptime(text, form), tz=server_timezone).in_timezone("UTC")
        except ValueError:
            continue
    try:
        moment = pendulum.parse(text, tz=server_timezone)
    except (ValueError, pendulum.parsing.exceptions.ParserError):
        return None
    return moment.in_timezone("UTC") if isinstance(moment, datetime) else None


def _unconfirmed_callback_reason(error: DialerTransientError) -> str:
    if error.may_have_been_processed:
        return ("Ameyo's answer was lost, so the callback may or may not be scheduled; not re-sent because "
                "a re-send schedules a second call (check the customer in Ameyo before sending it again): "
                f"{error}")
    return f"the callback was not scheduled (Ameyo could not be reached): {error}"
