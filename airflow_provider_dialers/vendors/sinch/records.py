"""Contacts and callbacks -> Sinch OBI *customers*, and the OBI's answers -> vendor-neutral results.

No HTTP here. A :class:`~airflow_provider_dialers.contacts.Contact` becomes the body of one item of
``POST /RI/obi/campaigns/{campaignId}/customers/list``::

    {"externalId": "crm-17", "numbers": "+15551230017;+15551230018",
     "attributes": [{"name": "name", "value": "Ann"}], "timeZone": "America/Chicago",
     "date": "2026-12-01T16:00:00Z"}

checked against the OBI's documented limits first (:class:`ContactError` names the model's field).
The other direction turns a per-item answer into a :class:`RowOutcome`, a customer into a
:class:`ContactState` and a campaign's counters into a :class:`CampaignProgress`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import Enum
from typing import Any

import pendulum

from airflow_provider_dialers.capabilities import CampaignProgress, ContactState, RowOutcome, RowStatus
from airflow_provider_dialers.contacts import Callback, Contact, ContactError, dedupe_key
from airflow_provider_dialers.vendors.sinch.wire import GUID, CustomerItemResult

#: "Customer can have up-to 3 numbers" (the reference, ``numbers``).
MAX_NUMBERS = 3
#: The reference gives no number format; the sandbox and this mapping take 5-15 digits with an
#: optional leading + (the E.164 length), so a number the dialer cannot dial is refused up front.
PHONE_NUMBER = re.compile(r"\+?\d{5,15}")
#: "attributes Phone1, Phone2 and Phone3 are created based on numbers": an attribute of that name
#: would be silently replaced, so it is refused (case-insensitively: the server's rule is unknown).
RESERVED_ATTRIBUTES = frozenset({"phone1", "phone2", "phone3"})
#: Agent (user) ids are GUIDs, id32 or id36.
AGENT_ID = GUID
#: The OBI's error texts start with the field it refused: "Invalid numbers: '+number;'".
_VENDOR_FIELD = re.compile(r"Invalid (\w+)")
#: OBI customer field -> the contact model's field, to name the field of a vendor rejection.
_MODEL_FIELDS = {"numbers": "phones", "externalId": "external_id", "timeZone": "timezone",
                 "attributes": "attributes", "agentId": "agent"}
#: ``date`` of a customer the dialer will never call again, as the reference's examples show.
NEVER_AGAIN_YEAR = 9999


# --------------------------------------------------------------------------------------------
# Contact / callback -> customer
# --------------------------------------------------------------------------------------------


def customer_from_contact(contact: Contact) -> dict[str, Any]:
    """The OBI customer for ``contact``; raises :class:`ContactError` naming the field over a limit.

    ``externalId`` is the contact's ``external_id`` or, when it has none, the key derived from
    the row (:func:`~airflow_provider_dialers.contacts.dedupe_key`): a retried upload re-sends
    the same key, and the OBI refuses it as "not unique" instead of calling the person twice.
    """
    customer: dict[str, Any] = {
        "externalId": dedupe_key(contact),
        "numbers": ";".join(_checked_numbers(contact.phones)),
        "attributes": _attribute_array(contact.attributes),
    }
    if contact.timezone:
        customer["timeZone"] = contact.timezone
    if contact.dial_at is not None:
        customer["date"] = utc_text(contact.dial_at)
    return customer


def customer_from_callback(callback: Callback) -> dict[str, Any]:
    """The OBI customer for a callback: the contact, ``date`` = ``callback_at`` (it replaces any
    ``dial_at``) and ``agentId`` = ``agent`` (a Sinch user id, so the call goes to that agent)."""
    customer = customer_from_contact(callback.contact)
    customer["date"] = utc_text(callback.callback_at)
    if callback.agent:
        if not AGENT_ID.fullmatch(callback.agent):
            raise ContactError("agent", f"must be a Sinch user id (an id32 or id36 GUID), got {callback.agent[:40]!r}")
        customer["agentId"] = callback.agent
    return customer


def utc_text(moment: datetime) -> str:
    """An aware time in the OBI's UTC form, ``2026-12-01T16:00:00Z``."""
    return pendulum.instance(moment).in_timezone("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def _checked_numbers(phones: Sequence[str]) -> Sequence[str]:
    if len(phones) > MAX_NUMBERS:
        raise ContactError("phones", f"a Sinch customer has at most {MAX_NUMBERS} numbers, got {len(phones)}")
    for index, number in enumerate(phones):
        if not PHONE_NUMBER.fullmatch(number):
            raise ContactError(f"phones[{index}]", f"must be 5-15 digits with an optional leading +: {number!r}")
    return phones


def _attribute_array(attributes: Mapping[str, str]) -> list[dict[str, str]]:
    """The schema's array of ``{name, value}`` (not the examples' ``{"attribute": [...]}`` wrapper)."""
    for name in attributes:
        if name.lower() in RESERVED_ATTRIBUTES:
            raise ContactError(f"attributes.{name}", "is reserved: Sinch sets Phone1-Phone3 from the phones")
    return [{"name": name, "value": value} for name, value in attributes.items()]


# --------------------------------------------------------------------------------------------
# The OBI's per-item answers -> RowOutcome
# --------------------------------------------------------------------------------------------


def outcome_from_item(
    row: int,
    item: CustomerItemResult,
    *,
    replayed: bool,
    payload: Mapping[str, Any],
    time_field: str = "dial_at",
) -> RowOutcome:
    """One row's outcome from its item of ``POST .../customers/list``.

    201 is accepted (with the customer id). "Value is not unique" on ``externalId`` is a duplicate,
    except when ``replayed`` (the request was re-sent after an attempt the server may have
    processed): then the customer found is this row's own, added by that attempt, so it counts
    accepted. Anything else is rejected with the OBI's text, naming the model's field where the
    text names the OBI's (``numbers`` -> ``phones``; ``date`` -> ``time_field``).
    """
    if item.created:
        return RowOutcome(row, RowStatus.ACCEPTED, vendor_id=item.customer_id, payload=payload)
    if item.duplicate:
        if replayed:
            return RowOutcome(row, RowStatus.ACCEPTED, payload=payload)
        return RowOutcome(row, RowStatus.DUPLICATE, field="external_id", reason=item.error,
                          vendor_code=str(item.status_code), payload=payload)
    if item.validated_only:  # only with stopProcessIfInvalidEntriesFound, which uploads never set
        return RowOutcome.rejected(row, None, "valid, but the dialer stopped processing the list", "200")
    return RowOutcome.rejected(row, _model_field(item.error, time_field), item.error or "refused",
                               str(item.status_code))


def duplicate_in_batch(row: int, external_id: str, first_row: int) -> RowOutcome:
    """A row repeating the ``externalId`` of an earlier row of the same batch (not sent: the OBI
    would refuse it as not unique, and a replayed request would then wrongly count it accepted)."""
    return RowOutcome(row, RowStatus.DUPLICATE, field="external_id",
                      reason=f"externalId {external_id!r} is the same as row {first_row}'s")


def _model_field(error: str | None, time_field: str) -> str | None:
    match = _VENDOR_FIELD.match(error or "")
    if match is None:
        return None
    vendor_field = match.group(1)
    return time_field if vendor_field == "date" else _MODEL_FIELDS.get(vendor_field, vendor_field)


# --------------------------------------------------------------------------------------------
# Customers -> ContactState
# --------------------------------------------------------------------------------------------


class CustomerResult(str, Enum):
    """A Sinch customer's ``result``: its outcome in the campaign (empty: not handled yet).

    Names from the reference (``SUCCESS``, ``REFUSAL``, ``MAXCALLS``, ``DIALING``,
    ``AGENT_REJECTED``) and the retried call outcomes (``BUSY``, ``NOANSWER``).
    """

    NOT_HANDLED = ""
    DIALING = "DIALING"
    BUSY = "BUSY"
    NOANSWER = "NOANSWER"
    AGENT_REJECTED = "AGENT_REJECTED"
    SUCCESS = "SUCCESS"
    REFUSAL = "REFUSAL"
    MAXCALLS = "MAXCALLS"


#: Results after which the dialer does not call the customer again: handled (SUCCESS, REFUSAL) or
#: out of attempts (MAXCALLS; only raising the campaign's RetryCount would call them again).
TERMINAL_RESULTS = frozenset({CustomerResult.SUCCESS, CustomerResult.REFUSAL, CustomerResult.MAXCALLS})
#: Customer fields kept in a ContactState's history, as the OBI names them.
HISTORY_FIELDS = ("id", "externalId", "numbers", "callResult", "classifier", "lastBNumber", "date",
                  "modificationDate", "agentId")


def contact_state(contact_ref: str, customer: Mapping[str, Any]) -> ContactState:
    """A customer as a :class:`ContactState`: its result's name (``NOT_HANDLED`` for the empty
    result) and whether it is terminal. A result this module does not know is terminal when the
    customer's ``date`` is the OBI's "never again" (year 9999)."""
    raw = customer.get("result") or ""
    try:
        result = CustomerResult(raw)
        state, terminal = result.name, result in TERMINAL_RESULTS
    except ValueError:
        state, terminal = raw, str(customer.get("date", "")).startswith(str(NEVER_AGAIN_YEAR))
    return ContactState(
        contact_ref=contact_ref,
        state=state,
        terminal=terminal,
        attempts=customer.get("callCount"),
        history={name: customer[name] for name in HISTORY_FIELDS if customer.get(name) is not None},
    )


# --------------------------------------------------------------------------------------------
# Campaign counters -> CampaignProgress
# --------------------------------------------------------------------------------------------

#: Campaign statuses in which the dialer calls nobody (besides Passive and Handled).
STOPPED_STATUSES = frozenset({"Expired", "Invalid", "Deleted", "Quota"})


def campaign_progress(
    campaign_id: str, campaign: Mapping[str, Any], result_statistics: Sequence[Mapping[str, Any]]
) -> CampaignProgress:
    """Progress from ``GET /campaigns/{id}`` and ``GET .../customerResultStatistics``.

    ``pending`` = ``notHandled`` - ``maxCalls`` - ``filtered``: customers the dialer may still
    call (``notHandled`` also counts the MAXCALLS and filtered ones, which it will not).
    Complete means the campaign has customers and none pending; without those counters, the
    campaign's own word: ``status`` Handled or ``dialerStatus`` COMPLETED. A Handled campaign with
    customers added since is not complete (it dials them only once activated again).
    """
    status = campaign.get("status")
    total, pending = campaign.get("total"), _pending(campaign)
    if total is None or pending is None:
        complete = status == "Handled" or campaign.get("dialerStatus") == "COMPLETED"
    else:
        complete = total > 0 and pending == 0
    return CampaignProgress(
        campaign_id=campaign_id,
        complete=complete,
        status=status,
        total=total,
        pending=pending,
        outcomes=_outcome_counts(result_statistics),
        detail=None if complete else _why_not_dialing(status, pending),
    )


def _pending(campaign: Mapping[str, Any]) -> int | None:
    if campaign.get("notHandled") is None:
        return None
    return max(0, campaign["notHandled"] - campaign.get("maxCalls", 0) - campaign.get("filtered", 0))


def _outcome_counts(result_statistics: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Customers per result (``NOT_HANDLED`` for the empty one), summed over callResult/classifier."""
    counts: dict[str, int] = {}
    for group in result_statistics:
        raw = group.get("result") or ""
        name = CustomerResult(raw).name if raw in CustomerResult._value2member_map_ else raw
        counts[name] = counts.get(name, 0) + int(group.get("count") or 0)
    return counts


def _why_not_dialing(status: str | None, pending: int | None) -> str | None:
    """Why pending customers are not being called, when the status says so."""
    if not pending:
        return "no customers yet" if pending == 0 else None
    if status == "Passive":
        return f"{pending} customers wait until the campaign is Active"
    if status == "Handled":
        return f"{pending} customers were added after the campaign was handled: activate it to dial them"
    if status in STOPPED_STATUSES:
        return f"the campaign is {status}: the dialer will not call its {pending} pending customers"
    return None
