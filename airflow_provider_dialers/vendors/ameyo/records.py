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

import re
from collections.abc import Mapping
from typing import Any

import pendulum

from airflow_provider_dialers.capabilities import RowOutcome, RowStatus
from airflow_provider_dialers.contacts import Contact, ContactError, format_server_time
from airflow_provider_dialers.errors import DialerTransientError
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
    field = f"attributes.{name}"
    if not _COLUMN_NAME.fullmatch(name):
        raise ContactError(field, "is not a valid Ameyo column name (a letter, then letters, digits or _; "
                                  "at most 63 characters)")
    # SQL column names ignore case: "Phone1" would overwrite the phone1 column.
    if _PHONE_COLUMN.fullmatch(name) or name.lower() in (EXTERNAL_ID_COLUMN, TIMEZONE_COLUMN):
        raise ContactError(field, f"clashes with the column Ameyo uses for the contact's "
                                  f"{'phones' if _PHONE_COLUMN.fullmatch(name) else name.lower()}")


def callback_time(moment: pendulum.DateTime, server_timezone: str) -> str:
    """``callBackTime``: the aware time as the server's wall clock (``YYYY-MM-DD HH:MM:SS``)."""
    return format_server_time(moment, server_timezone)


def customer_callback(
    contact: Contact,
    moment: pendulum.DateTime,
    server_timezone: str,
    *,
    agent: str | None = None,
    customer_id: int | None = None,
) -> CustomerCallback:
    """One uploadContactAndAddCallback record: the customer record and a callback at ``moment`` on the
    contact's first phone, routed to ``agent`` (Ameyo ``userId``) when given, never a self callback."""
    record = customer_record(contact)
    return CustomerCallback(
        customer_record=record,
        callback_time=callback_time(moment, server_timezone),
        is_self_callback=False,
        user_id=agent,
        callback_phone=record[phone_column(0)],
        customer_id=customer_id,
    )


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
    return record_rejection(row, result)


def callback_outcome(row: int, result: AmeyoRecordResult, *, time_field: str,
                     vendor_id: str | None = None) -> RowOutcome:
    """What one uploadContactAndAddCallback record became: accepted when its callback was scheduled.

    The customer part may be ``DUPLICATE_NOT_ADDED`` (the customer exists and is left as is): the
    callback is still scheduled for it (or its number), which is what the row asked for. A callback
    Ameyo could not schedule comes back with a ``message`` and rejects the row under ``time_field``.
    """
    if not result.succeeded and result.result_type != DUPLICATE:
        return record_rejection(row, result)
    if result.message:
        return RowOutcome.rejected(row, time_field, f"Ameyo did not schedule the callback: {result.message}",
                                   vendor_code=result.message.split(",")[0].strip())
    customer_id = None if result.customer_id is None else str(result.customer_id)
    return RowOutcome(row, RowStatus.ACCEPTED, vendor_id=vendor_id or customer_id)


def record_rejection(row: int, result: AmeyoRecordResult) -> RowOutcome:
    """A record Ameyo refused: the field its exception names (``phone1`` -> ``phones[0]``), the
    result type and exception as the reason, the exception's code (else the result type) as code."""
    code = str(result.exception[0]) if result.exception else str(result.result_type)
    detail = ", ".join(str(part) for part in result.exception) or "no detail"
    columns = [str(part) for part in result.exception[1:] if isinstance(part, str)]
    field = next((model_field(column) for column in columns), None)
    return RowOutcome.rejected(row, field, f"Ameyo {result.result_type}: {detail}", vendor_code=code)


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


def _unconfirmed_callback_reason(error: DialerTransientError) -> str:
    if error.may_have_been_processed:
        return ("Ameyo's answer was lost, so the callback may or may not be scheduled; not re-sent because "
                "a re-send schedules a second call (check the customer in Ameyo before sending it again): "
                f"{error}")
    return f"the callback was not scheduled (Ameyo could not be reached): {error}"
