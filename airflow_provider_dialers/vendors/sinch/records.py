"""Contacts and callbacks -> Sinch OBI *customers*, and the OBI's answers -> vendor-neutral results.

No HTTP here. A :class:`~airflow_provider_dialers.contacts.Contact` becomes the body of one item of
``POST /RI/obi/campaigns/{campaignId}/customers/list``::

    {"externalId": "crm-17", "numbers": "+15551230017;+15551230018",
     "attributes": [{"name": "name", "value": "Ann"}], "timeZone": "America/Chicago",
     "date": "2026-12-01T16:00:00Z"}

checked against the OBI's documented limits first (:class:`ContactError` names the model's field).
The other direction turns a per-item answer into a :class:`RowOutcome`, a customer into a
:class:`ContactState` (or, listed, a :class:`ContactRecord`) and a campaign's counters into a
:class:`CampaignProgress`.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from enum import Enum
from typing import Any

import pendulum

from airflow_provider_dialers import answer_times
from airflow_provider_dialers.capabilities import (
    CampaignProgress,
    ContactRecord,
    ContactState,
    RowOutcome,
    RowStatus,
)
from airflow_provider_dialers.contacts import Callback, Contact, ContactError, dedupe_key, format_server_time
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
        customer["date"] = utc_text(contact.dial_at, "dial_at")
    return customer


def customer_from_callback(callback: Callback) -> dict[str, Any]:
    """The OBI customer for a callback: the contact, ``date`` = ``callback_at`` (it replaces any
    ``dial_at``) and ``agentId`` = ``agent`` (a Sinch user id, so the call goes to that agent)."""
    customer = customer_from_contact(callback.contact)
    customer["date"] = utc_text(callback.callback_at, "callback_at")
    if callback.agent:
        if not AGENT_ID.fullmatch(callback.agent):
            raise ContactError("agent", f"must be a Sinch user id (an id32 or id36 GUID), got {callback.agent[:40]!r}")
        customer["agentId"] = callback.agent
    return customer


def utc_text(moment: datetime, field_name: str = "dial_at") -> str:
    """An aware time in the OBI's UTC form, ``2026-12-01T16:00:00Z``.

    :param moment: the time (``dial_at``, ``callback_at``).
    :param field_name: the model field a :class:`ContactError` names when the time has no UTC form
        (out of the calendar's range), so the row is rejected, not the upload.
    """
    return format_server_time(pendulum.instance(moment), "UTC", "%Y-%m-%dT%H:%M:%SZ", field_name=field_name)


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


def state_of(customer: Mapping[str, Any]) -> tuple[str, bool]:
    """(the customer's state word, whether it is terminal): its result's name (``NOT_HANDLED`` for
    the empty result). A result this module does not know is its own word, terminal when the
    customer's ``date`` is the OBI's "never again" (year 9999). The one rule behind
    :func:`contact_state` and :func:`contact_record`."""
    raw = customer.get("result") or ""
    try:
        result = CustomerResult(raw)
    except ValueError:
        return raw, str(customer.get("date", "")).startswith(str(NEVER_AGAIN_YEAR))
    return result.name, result in TERMINAL_RESULTS


def finished_before(customer: Mapping[str, Any], cutoff: datetime) -> bool:
    """Whether the dialer is done with a customer (terminal by :func:`state_of`) and its
    ``modificationDate`` (the OBI's last change) is older than ``cutoff``: such a customer may be
    loaded again (``recontact_after``). An unknown or unreadable time is never old enough.

    :param customer: the customer as the OBI answers it.
    :param cutoff: an aware time; changes before it are old enough.
    """
    if not state_of(customer)[1]:
        return False
    changed = utc_iso(customer.get("modificationDate"))
    return changed is not None and pendulum.parse(changed) < cutoff


def contact_state(contact_ref: str, customer: Mapping[str, Any]) -> ContactState:
    """A customer as a :class:`ContactState` (state and terminal: :func:`state_of`)."""
    state, terminal = state_of(customer)
    return ContactState(
        contact_ref=contact_ref,
        state=state,
        terminal=terminal,
        attempts=customer.get("callCount"),
        history={name: customer[name] for name in HISTORY_FIELDS if customer.get(name) is not None},
    )


# --------------------------------------------------------------------------------------------
# Customers as listed -> ContactRecord (iter_contact_states)
# --------------------------------------------------------------------------------------------

#: Results a customer never leaves (handled). A server-side ``result=`` search by them loses nobody
#: while the campaign dials; by any other result (not handled, DIALING, BUSY, NOANSWER, or MAXCALLS,
#: which a raised RetryCount reopens) customers leave the matches between two pages, the offsets
#: of the next page shift back, and some are never listed: those are filtered client-side.
SETTLED_RESULTS = frozenset({CustomerResult.SUCCESS, CustomerResult.REFUSAL})
#: How many of the last customer ids a listing remembers to drop one listed twice (see RecentIds).
RECENT_IDS = 1000


def contact_record(customer: Mapping[str, Any]) -> ContactRecord:
    """A listed customer as a :class:`ContactRecord`: ``contact_ref`` its id, ``phone`` the first
    of its ``numbers``, ``state``/``terminal`` as :func:`state_of` (the same as
    :func:`contact_state`), ``attempts`` its ``callCount``, ``last_result`` its ``callResult``,
    ``last_change`` its ``modificationDate`` in UTC."""
    state, terminal = state_of(customer)
    external_id = customer.get("externalId")
    return ContactRecord(
        contact_ref=str(customer.get("id") or ""),
        external_id=None if external_id in (None, "") else str(external_id),
        phone=first_number(customer),
        state=state,
        terminal=terminal,
        attempts=customer.get("callCount"),
        last_result=customer.get("callResult") or None,
        last_change=utc_iso(customer.get("modificationDate")),
    )


def first_number(customer: Mapping[str, Any]) -> str | None:
    """The first of a customer's ``;``-separated ``numbers`` as stored; without numbers, its
    ``Phone1`` attribute ("attributes Phone1, Phone2 and Phone3 are created based on numbers")."""
    numbers = [number.strip() for number in str(customer.get("numbers") or "").split(";")]
    if numbers[0]:
        return numbers[0]
    phones = (a.get("value") for a in customer.get("attributes") or () if str(a.get("name")).lower() == "phone1")
    return next((str(value) for value in phones if value), None)


def utc_iso(value: Any) -> str | None:
    """An OBI time (``2020-09-29T12:58:28.393Z``; one without an offset is UTC, as the reference's
    times are) as ISO 8601 in UTC; None when absent or unreadable."""
    return answer_times.utc_iso(value or None)


def wanted_states(states: Collection[str] | None) -> frozenset[str] | None:
    """The state words asked for, upper-cased (``""``, the OBI's own empty result, is
    ``NOT_HANDLED``); None: every state."""
    if states is None:
        return None
    if isinstance(states, str):
        states = (states,)
    return frozenset(str(word).strip().upper() or CustomerResult.NOT_HANDLED.name for word in states)


def result_searches(wanted: frozenset[str] | None) -> list[dict[str, str]]:
    """The listings that find the customers in ``wanted``: one server-side ``result=`` search per
    state when every state asked for is settled (:data:`SETTLED_RESULTS`), else one listing of
    the whole campaign (``{}``), filtered client-side."""
    settled = {result.name: result.value for result in SETTLED_RESULTS}
    if wanted and wanted <= settled.keys():
        return [{"result": settled[word]} for word in sorted(wanted)]
    return [{}]


class RecentIds:
    """The last ``size`` customer ids a listing yielded, to drop a customer listed twice.

    Offset paging lists a customer twice when customers join the listing before the offset between
    two page requests (added to the campaign where the server's order puts them, or newly matching
    a ``result=`` search): the next page then starts that many places back. Remembering the last
    ``size`` ids covers a shift of up to ``size`` customers between two requests, in memory that
    does not grow with the campaign.
    """

    def __init__(self, size: int = RECENT_IDS) -> None:
        self._order: deque[str] = deque(maxlen=size)
        self._ids: set[str] = set()

    def first_sighting(self, customer_id: str) -> bool:
        """Remember ``customer_id``; False if it is among the last ``size`` remembered."""
        if customer_id in self._ids:
            return False
        if len(self._order) == self._order.maxlen:
            self._ids.discard(self._order[0])
        self._order.append(customer_id)
        self._ids.add(customer_id)
        return True


# --------------------------------------------------------------------------------------------
# Campaign counters -> CampaignProgress
# --------------------------------------------------------------------------------------------

#: Campaign statuses in which the dialer calls nobody (besides Passive and Handled).
STOPPED_STATUSES = frozenset({"Expired", "Invalid", "Deleted", "Quota"})


def campaign_progress(
    campaign_id: str,
    campaign: Mapping[str, Any],
    result_statistics: Sequence[Mapping[str, Any]],
    *,
    not_handled_scope: str | None = None,
) -> CampaignProgress:
    """Progress from ``GET /campaigns/{id}`` and ``GET .../customerResultStatistics``.

    ``pending``: customers the dialer may still call. The reference does not say whether
    ``notHandled`` counts the MAXCALLS and filtered customers, which it will not call
    (``not_handled_scope``, switch ``sinch_not_handled_scope``): ``includes`` gives
    ``notHandled - maxCalls - filtered``, ``excludes`` gives ``notHandled``. Unknown (None), the
    counters tell it when they can (:func:`not_handled_scope_of`); when they cannot, the customers
    whose ``result`` is not final in ``result_statistics`` are counted instead (``includes`` when
    there are no statistics either).
    Complete means the campaign has customers and none pending; without those counters, the
    campaign's own word: ``status`` Handled or ``dialerStatus`` COMPLETED. A Handled campaign with
    customers added since is not complete (it dials them only once activated again).
    """
    status = campaign.get("status")
    total = campaign.get("total")
    pending = _pending(campaign, not_handled_scope or not_handled_scope_of(campaign), result_statistics)
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


def not_handled_scope_of(campaign: Mapping[str, Any]) -> str | None:
    """``includes`` when ``handled + notHandled == total``, ``excludes`` when ``handled + notHandled
    + maxCalls + filtered == total``; None when the counters cannot tell (no MAXCALLS or filtered
    customers: both hold, and both readings give the same pending) or neither holds."""
    counters = [campaign.get(name) for name in ("total", "handled", "notHandled")]
    others = (campaign.get("maxCalls") or 0) + (campaign.get("filtered") or 0)
    if any(not isinstance(value, int) for value in counters) or others == 0:
        return None
    total, handled, not_handled = counters
    if handled + not_handled == total:
        return "includes"
    return "excludes" if handled + not_handled + others == total else None


def _pending(
    campaign: Mapping[str, Any], scope: str | None, result_statistics: Sequence[Mapping[str, Any]]
) -> int | None:
    not_handled = campaign.get("notHandled")
    if not_handled is None:
        return None
    others = (campaign.get("maxCalls") or 0) + (campaign.get("filtered") or 0)
    if scope == "excludes":
        return max(0, not_handled)
    if scope is None and others and result_statistics:
        # The counters do not tell: count the customers whose result is not final.
        return sum(int(group.get("count") or 0) for group in result_statistics
                   if (group.get("result") or "") not in TERMINAL_RESULTS)
    return max(0, not_handled - others)  # includes (also the last resort: no statistics to count)


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
