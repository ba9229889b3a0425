"""Contacts and callbacks -> ExpertFlow ECM *campaign contacts*, and ECM's answers -> row outcomes.

No HTTP here. A :class:`~airflow_provider_dialers.contacts.Contact` becomes the fields of one
``POST /umm/ecm/callback/insertCallback`` (ECM calls a campaign contact a *callback*)::

    {"phone1": "+15551230017", "phone2": "+15551230018",
     "businessParam1": "Ann", "businessParam2": "crm-17", "dialTime": "2026-12-01 16:00:00"}

checked first against the limits both ECM references document (:class:`ContactError` names the
contact model's field: ``phones[5]``, ``attributes.name``, ``dial_at``):

* ``phones`` -> ``phone1``..``phone5``: at most 5 numbers, each 4 to 15 characters including ``+``;
* ``attributes`` -> ``businessParam1``..``businessParam12`` through an *attribute map*
  (attribute name -> ``businessParamN``); without a map only attributes already named
  ``businessParamN`` are accepted. Any other attribute refuses the row: ECM has no other place for
  custom data, and dropping it silently would lose it. Values are at most 255 characters;
* ``dial_at`` -> ``dialTime``, ``yyyy-MM-dd HH:mm:ss`` in the ECM *server's* time zone (ECM's times
  carry no offset);
* ``external_id``: ECM's contact has no such field; it is sent only when the attribute map maps the
  key ``external_id`` to a ``businessParamN``.

The capabilities' other inputs are checked here too: a campaign spec (createCampaign's fields),
campaign ids and DNC numbers (:class:`DialerValidationError` names the field).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from datetime import time as clock_time
from itertools import pairwise
from typing import Any

from airflow_provider_dialers import answer_times
from airflow_provider_dialers.capabilities import ContactRecord, RowOutcome, RowStatus
from airflow_provider_dialers.contacts import (
    Callback,
    Contact,
    ContactError,
    PhoneOptions,
    canonical_phone,
    format_server_time,
    normalise_phone,
)
from airflow_provider_dialers.errors import DialerResponseError, DialerValidationError
from airflow_provider_dialers.vendors.expertflow.wire import (
    BUSINESS_PARAM_MAX_LENGTH,
    CAMPAIGN_OPTIONAL_FIELDS,
    CAMPAIGN_REQUIRED_FIELDS,
    CLOCK_TIME,
    DIAL_TIME_FORMAT,
    DUPLICATE_MARKERS,
    FINAL_STATES,
    PHONE_FIELDS,
    PHONE_MAX_LENGTH,
    PHONE_MIN_LENGTH,
    TERMINAL_STATES,
    VENDOR,
    CallResult,
    CampaignId,
    CampaignType,
    EcmCampaignContact,
    RequestState,
)

#: The attribute-map key that sends the contact's ``external_id`` to a business param.
EXTERNAL_ID_KEY = "external_id"
#: insertCallback's answer when the contact was stored: "callback data saved" (both references).
SAVED_MARKER = "saved"

_BUSINESS_PARAM = re.compile(r"businessParam(1[0-2]|[1-9])")
#: ECM's error texts name the refused field: "phone2 must have 4 to 15 characters (including +)".
_VENDOR_FIELD = re.compile(r"\b(phone[1-5]|businessParam(?:1[0-2]|[1-9])|dialTime)\b")


def business_param_number(name: str) -> int | None:
    """``3`` for ``"businessParam3"``; None for anything that is not businessParam1..12."""
    match = _BUSINESS_PARAM.fullmatch(name)
    return int(match.group(1)) if match else None


def parse_attribute_map(raw: Mapping[str, str] | None) -> dict[str, int]:
    """Attribute name -> business param number, from ``{"name": "businessParam1", ...}``.

    Raises :class:`ContactError` on field ``attribute_map`` for a target that is not
    businessParam1..12 or two attributes sent to the same param (a configuration error: the
    caller refuses the whole upload rather than every row).
    """
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ContactError("attribute_map",
                           f"must map attribute names to businessParamN, got {type(raw).__name__}")
    numbers: dict[str, int] = {}
    taken: dict[int, str] = {}
    for attribute, target in raw.items():
        number = business_param_number(str(target).strip())
        if number is None:
            raise ContactError("attribute_map", f"{attribute!r} -> {target!r}: ECM has businessParam1..12")
        if number in taken:
            raise ContactError("attribute_map",
                               f"{taken[number]!r} and {attribute!r} both go to businessParam{number}")
        taken[number] = str(attribute)
        numbers[str(attribute)] = number
    return numbers


def listed_number(value: object) -> str:
    """A DNC entry's ``primaryNumber`` as contacts' phones are written (punctuation stripped), so
    both compare equal; an entry that is no phone number at all is kept as ECM stores it."""
    try:
        return normalise_phone(value, "primaryNumber", PhoneOptions())
    except ContactError:
        return str(value).strip()


def dnc_number_key(number: str, default_region: str | None) -> str:
    """How DNC numbers compare: E.164 with ``default_region`` where it places them (``2125550101`` and
    ``+1 212 555 0101`` are one number in ``US``), else as written.

    :param number: a number as :func:`listed_number` or :func:`dnc_numbers` writes it.
    :param default_region: ISO 3166 region of numbers written without a country code, or None.
    """
    return canonical_phone(number, default_region) or number


def dnc_entries_by_number(entries: Iterable[Mapping[str, Any]], default_region: str | None) -> dict[str, list[Any]]:
    """The DNC contacts (``GET /umm/ecm/contact``) grouped by :func:`dnc_number_key`.

    :param entries: the DNC contacts as ECM answers them (``id``, ``primaryNumber``).
    :param default_region: ISO 3166 region of numbers written without a country code, or None.
    """
    grouped: dict[str, list[Any]] = {}
    for entry in entries:
        grouped.setdefault(dnc_number_key(listed_number(entry.get("primaryNumber")), default_region), []).append(entry)
    return grouped


class EcmContactMapping:
    """Maps the contacts and callbacks of one upload to ECM campaign contacts.

    :param attribute_map: attribute name -> ``businessParamN`` (see the module docstring).
    :param server_timezone: the ECM server's IANA zone, for ``dialTime``.
    """

    def __init__(self, attribute_map: Mapping[str, str] | None, server_timezone: str) -> None:
        self.attribute_numbers = parse_attribute_map(attribute_map)
        self.server_timezone = server_timezone

    # -- contact -> ECM ------------------------------------------------------------------------
    def campaign_contact(self, contact: Contact) -> EcmCampaignContact:
        """The ECM campaign contact for ``contact``; :class:`ContactError` names the field over a limit."""
        dial_time = None if contact.dial_at is None else format_server_time(
            contact.dial_at, self.server_timezone, DIAL_TIME_FORMAT)
        return EcmCampaignContact(_checked_phones(contact.phones), self._business_params(contact), dial_time)

    def callback_contact(self, callback: Callback) -> EcmCampaignContact:
        """The campaign contact for a callback: dialled at ``callback_at`` (server time).

        ECM's insertCallback has no agent field, so a callback reserved for an agent is refused
        (field ``agent``) rather than dialled to whoever is free.
        """
        if callback.agent:
            raise ContactError("agent", "ECM's insertCallback has no agent field: a callback cannot be "
                                        "reserved for an agent through the ECM API")
        contact = callback.contact
        if contact.dial_at is not None and contact.dial_at != callback.callback_at:
            raise ContactError("dial_at", "a callback is dialled at callback_at; leave dial_at empty")
        record = self.campaign_contact(contact)
        dial_time = format_server_time(callback.callback_at, self.server_timezone, DIAL_TIME_FORMAT,
                                       field_name="callback_at")
        return EcmCampaignContact(record.phones, record.business_params, dial_time)

    def _business_params(self, contact: Contact) -> dict[int, str]:
        values = dict(contact.attributes)
        if contact.external_id is not None and EXTERNAL_ID_KEY in self.attribute_numbers:
            values[EXTERNAL_ID_KEY] = contact.external_id
        params: dict[int, str] = {}
        filled_by: dict[int, str] = {}
        for name, value in values.items():
            field = self._model_field_of(name)
            number = self._param_number(name, field)
            if number in filled_by:
                raise ContactError(field,
                                   f"goes to businessParam{number}, which {filled_by[number]} already fills")
            if len(value) > BUSINESS_PARAM_MAX_LENGTH:
                raise ContactError(field, f"is longer than {BUSINESS_PARAM_MAX_LENGTH} characters "
                                          "(ECM's businessParam limit)")
            params[number] = value
            filled_by[number] = field
        return params

    def unstorable(self, attributes: Iterable[str]) -> list[str]:
        """The attribute names ECM has no field for: neither mapped by ``attribute_map`` nor named
        ``businessParamN`` (the upload refuses them before sending anything)."""
        return sorted(name for name in attributes
                      if name not in self.attribute_numbers and business_param_number(name) is None)

    def _param_number(self, name: str, field: str) -> int:
        number = self.attribute_numbers.get(name) or business_param_number(name)
        if number is None:
            raise ContactError(field, "ECM keeps custom data only in businessParam1..12: map this attribute "
                                      "with attribute_map (or name it businessParamN)")
        return number

    @staticmethod
    def _model_field_of(name: str) -> str:
        return EXTERNAL_ID_KEY if name == EXTERNAL_ID_KEY else f"attributes.{name}"

    # -- ECM -> outcome ------------------------------------------------------------------------------
    def model_field(self, ecm_field: str) -> str:
        """The contact model's name for an ECM field: phone2 -> ``phones[1]``, dialTime -> ``dial_at``,
        businessParam1 -> ``attributes.<the attribute mapped to it>``."""
        if ecm_field in PHONE_FIELDS:
            return f"phones[{PHONE_FIELDS.index(ecm_field)}]"
        if ecm_field == "dialTime":
            return "dial_at"
        number = business_param_number(ecm_field)
        attribute = next((name for name, n in self.attribute_numbers.items() if n == number), ecm_field)
        return self._model_field_of(attribute)

    def refusal_outcome(self, row: int, vendor_code: str | None, vendor_message: str) -> RowOutcome:
        """A row ECM refused (HTTP 4xx): the field its message names, in the model's words."""
        match = _VENDOR_FIELD.search(vendor_message)
        field = self.model_field(match.group(1)) if match else None
        return RowOutcome.rejected(row, field, vendor_message, vendor_code)


def is_duplicate_answer(answer: str) -> bool:
    """Whether an insertCallback answer says phone1 is already pending, so the contact was not added
    again: the references show no such answer (reading ``ecm_discard_answer``), and servers word it
    "duplicate callback discarded", "... already exists ...", as a 2xx sentence or a 4xx message."""
    lowered = answer.lower()
    return any(marker in lowered for marker in DUPLICATE_MARKERS)


def insert_outcome(row: int, answer: str, *, replayed: bool, payload: Mapping[str, object]) -> RowOutcome:
    """The outcome of an insertCallback ECM answered (``statusString``, the plain sentence, or the
    message of a 4xx refusing a duplicate).

    An answer naming a duplicate (:func:`is_duplicate_answer`) means phone1 was already Pending in
    the campaign. When the request was re-sent after an attempt the server may have processed
    (``replayed``), that pending contact is the first attempt's own: the row counts as accepted,
    not duplicate. "callback data saved" (the references' answer) is accepted. Any other answer
    raises :class:`DialerResponseError`: counting an unknown sentence ("maintenance", an error text
    sent with 200) as stored would be a silent success.
    """
    lowered = answer.lower()
    if is_duplicate_answer(answer):
        if replayed:
            return RowOutcome(row, RowStatus.ACCEPTED, payload=payload)
        reason = f"ECM: {answer} (phone1 is already pending in the campaign)"
        return RowOutcome(row, RowStatus.DUPLICATE, reason=reason, payload=payload)
    if SAVED_MARKER in lowered:
        return RowOutcome(row, RowStatus.ACCEPTED, payload=payload)
    raise DialerResponseError(
        f"insertCallback answered {answer[:120]!r}, neither 'callback data saved' nor a discarded "
        "duplicate: cannot tell whether the contact was stored",
        vendor=VENDOR,
    )


def ignored_filter(rows: Sequence[Mapping[str, Any]], filters: Mapping[str, Any]) -> str | None:
    """The first getList filter that a returned row does not match (``"campaignId=1, a row has 2"``),
    or None when every row matches.

    A server reading the filters from elsewhere than they were sent (reading
    ``ecm_getlist_filters``) ignores them silently and answers every contact: counts, progress and
    contact lookups would then be about other people. Values compare by their digits (ids come as
    2 or "2", phones with or without "+"); a row without the field cannot be checked.
    """
    wanted = {field: filters[field] for field in ("campaignId", "numberToCall", *PHONE_FIELDS)
              if filters.get(field) is not None}
    if filters.get("requestStatus") not in (None, int(RequestState.ALL)):
        wanted["requestState"] = filters["requestStatus"]
    for row in rows:
        for field, value in wanted.items():
            if field in row and _digits(row[field]) != _digits(value):
                return f"{field}={value}, a row has {row[field]!r}"
    return None


def _digits(value: object) -> str:
    return re.sub(r"\D", "", "" if value is None else str(value))


def _checked_phones(phones: tuple[str, ...]) -> tuple[str, ...]:
    if len(phones) > len(PHONE_FIELDS):
        raise ContactError("phones", f"ECM takes at most {len(PHONE_FIELDS)} numbers (phone1..phone5), "
                                     f"got {len(phones)}")
    for index, phone in enumerate(phones):
        if not PHONE_MIN_LENGTH <= len(phone) <= PHONE_MAX_LENGTH:
            raise ContactError(f"phones[{index}]", f"ECM takes {PHONE_MIN_LENGTH} to {PHONE_MAX_LENGTH} "
                                                   f"characters including '+', got {len(phone)} ({phone!r})")
    return phones


# -- capability inputs --------------------------------------------------------------------------


def invalid(field_name: str, reason: str) -> DialerValidationError:
    """The error for a capability input ECM cannot take, naming the field."""
    return DialerValidationError(field_name, reason, vendor=VENDOR)


def create_campaign_arguments(spec: Mapping[str, Any]) -> dict[str, Any]:
    """createCampaign's spec checked field by field, as ``ExpertflowEcmHook.create_ecm_campaign``
    arguments; :class:`DialerValidationError` names the first field that is missing or wrong."""
    if not isinstance(spec, Mapping):
        raise invalid("campaign", f"must be a dict of createCampaign fields, got {type(spec).__name__}")
    known = (*CAMPAIGN_REQUIRED_FIELDS, *CAMPAIGN_OPTIONAL_FIELDS)
    for name in spec:
        if name not in known:
            raise invalid(str(name), f"is not a createCampaign field; known: {', '.join(known)}")
    for name in CAMPAIGN_REQUIRED_FIELDS:
        if spec.get(name) is None or (isinstance(spec[name], str) and not spec[name].strip()):
            raise invalid(name, "is required by createCampaign")
    return {
        "name": _spec_text(spec, "name"),
        "start_time": _spec_clock(spec, "startTime"),
        "end_time": _spec_clock(spec, "endTime"),
        "strategy_id": _spec_number(spec, "strategyId"),
        "campaign_type": _spec_campaign_type(spec["type"]),
        "cisco_campaign_id": _spec_cisco_id(spec["ciscoCampaignId"]),
        "week_days": _spec_week_days(spec["weekDays"]),
        "enabled": _spec_enabled(spec["enabled"]),
        "description": _spec_text(spec, "description", optional=True),
        "crm_campaign_id": _spec_text(spec, "crmCampaignId", optional=True),
        "sms_template": _spec_text(spec, "smsTemplate", optional=True),
    }


def _spec_text(spec: Mapping[str, Any], name: str, *, optional: bool = False) -> str | None:
    value = spec.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise invalid(name, f"must be text, got {type(value).__name__}")
    return value


def _spec_clock(spec: Mapping[str, Any], name: str) -> str:
    value = spec[name]
    text = value.strftime("%H:%M") if isinstance(value, clock_time) else value
    if not isinstance(text, str) or not CLOCK_TIME.fullmatch(text.strip()):
        raise invalid(name, f"must be a time of day HH:MM (00:00 to 23:59), got {value!r}")
    return text.strip()


def _spec_number(spec: Mapping[str, Any], name: str) -> int:
    value = spec[name]
    is_number = isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit())
    if isinstance(value, bool) or not is_number:
        raise invalid(name, f"must be an ECM id (a whole number), got {value!r}")
    return int(value)


def _spec_campaign_type(value: Any) -> CampaignType:
    text = "" if isinstance(value, bool) else str(value).strip()  # True is no campaign type
    try:
        return CampaignType(int(text))
    except ValueError:
        raise invalid("type", f"must be 0 (IVR), 1 (Agent) or -1 (None), got {value!r}") from None


def _spec_cisco_id(value: Any) -> str | int:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise invalid("ciscoCampaignId", f"must be the Cisco campaign's id, got {value!r}")
    return value


def _spec_week_days(value: Any) -> str:
    """weekDays as "0,1,2" or a list of days 0 (Sunday) .. 6, at least one, each once."""
    items = value.split(",") if isinstance(value, str) else value
    is_list = isinstance(items, Sequence) and not isinstance(items, (str, bytes))
    days = [_week_day(item) for item in items] if is_list else []
    if not days or None in days or len(set(days)) != len(days):
        raise invalid("weekDays", f"must list days 0 (Sunday) to 6 (Saturday), each once, got {value!r}")
    return ",".join(str(day) for day in days)


def _week_day(item: Any) -> int | None:
    """A day 0..6 from an int or digit text; None for anything else."""
    if isinstance(item, bool) or not isinstance(item, (int, str)) or not str(item).strip().isdigit():
        return None
    day = int(str(item).strip())
    return day if 0 <= day <= 6 else None


def _spec_enabled(value: Any) -> bool:
    if not isinstance(value, bool):
        raise invalid("enabled", f"must be true or false, got {value!r}")
    return value


def ecm_id(campaign_id: CampaignId) -> int:
    """An ECM campaign id (a whole number, often given as text) as the API takes it."""
    text = str(campaign_id).strip()
    if isinstance(campaign_id, bool) or not text.isdigit():
        raise invalid("campaign_id", f"ECM campaign ids are whole numbers, got {campaign_id!r}")
    return int(text)


def dnc_numbers(numbers: Sequence[str]) -> list[str]:
    """The numbers written as contact phones are (punctuation stripped), each once, in order."""
    if isinstance(numbers, str):
        raise invalid("numbers", "must be a list of numbers, not one text")
    unique: dict[str, None] = {}
    for index, raw in enumerate(numbers):
        try:
            unique[normalise_phone(raw, f"numbers[{index}]", PhoneOptions())] = None
        except ContactError as exc:
            raise invalid(exc.field, exc.reason) from None
    return list(unique)


# -- campaign contacts as getList answers them -> states and records ----------------------------------


def callback_state(callback: Mapping[str, Any]) -> tuple[str, bool]:
    """A campaign contact's state word, its ``requestState``'s :class:`RequestState` name
    (``UNKNOWN (n)`` for a number the reference does not list), and whether it is terminal
    (:data:`TERMINAL_STATES`: ECM does nothing more with it; the rule of get_campaign_progress)."""
    try:
        state = RequestState(int(callback["requestState"]))
    except (TypeError, ValueError, KeyError):
        return f"UNKNOWN ({callback.get('requestState')})", False
    return state.name, state in TERMINAL_STATES


def callback_attempts(callback: Mapping[str, Any]) -> int | None:
    """The calls made to a campaign contact so far: its ``attemptNumber`` (None when absent)."""
    value = callback.get("attemptNumber")
    try:
        return None if value is None or isinstance(value, bool) else int(value)
    except (TypeError, ValueError):
        return None


def contact_record(callback: Mapping[str, Any], server_timezone: str) -> ContactRecord:
    """A campaign contact as getList answers it, as a :class:`ContactRecord`.

    ``contact_ref`` is its callback ``id``; ``external_id`` None (ECM keeps none: an upload may have
    put one in a businessParam, which only its attribute map names); ``phone`` its ``phone1``;
    ``state``/``terminal`` as :func:`callback_state` (what get_contact_state reports); ``attempts``
    its ``attemptNumber``; ``last_result`` its ``callResult`` by :class:`CallResult` name (None
    before its first call); ``last_change`` its ``lastStatusUpdateTime``, else (never changed since
    it was uploaded) its ``requestTime``, in UTC (:func:`utc_time`).
    """
    state, terminal = callback_state(callback)
    attempts = callback_attempts(callback)
    phone = callback.get("phone1")
    return ContactRecord(
        contact_ref=str(callback.get("id", "")),
        external_id=None,
        phone=None if phone in (None, "") else str(phone),
        state=state,
        terminal=terminal,
        attempts=attempts,
        last_result=None if not attempts else call_result_word(callback.get("callResult")),
        last_change=utc_time(callback.get("lastStatusUpdateTime") or callback.get("requestTime"), server_timezone),
    )


def call_result_word(value: Any) -> str | None:
    """``callResult`` by its :class:`CallResult` name (``NO_ANSWER``); a number the reference does
    not name as its text; None when absent."""
    if value in (None, ""):
        return None
    try:
        return CallResult(int(value)).name
    except (TypeError, ValueError):
        return str(value)


def utc_time(value: Any, server_timezone: str) -> str | None:
    """An ECM time as ISO 8601 in UTC, or None when absent or unreadable. ``requestTime`` carries
    ``Z`` ("2019-07-31T12:53:34Z"); a time without an offset ("2019-11-12 15:10:20", as ``dialTime``
    is written) is the server's local time; a number is epoch seconds, or milliseconds (Java's)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value / 1000 if value > 1e11 else value, timezone.utc).isoformat()
        except (ValueError, OverflowError, OSError):
            return None
    return answer_times.utc_iso(value, server_timezone)


def wanted_states(states: Collection[str] | None) -> frozenset[RequestState] | None:
    """The :class:`RequestState` s named by ``states`` (their names, any case, ``_`` or space
    between words: ``not connected``); None: every state. An unknown word raises
    ``DialerValidationError("states")`` naming the known ones."""
    if states is None:
        return None
    if isinstance(states, str):
        states = (states,)
    known = {state.name: state for state in RequestState if state is not RequestState.ALL}
    wanted = set()
    for word in states:
        name = re.sub(r"[\s-]+", "_", str(word).strip()).upper()
        if name not in known:
            raise invalid("states", f"{word!r} is not an ECM request state; known: {', '.join(known)}")
        wanted.add(known[name])
    return frozenset(wanted)


def state_listings(wanted: frozenset[RequestState] | None) -> tuple[RequestState, ...]:
    """The ``requestStatus`` of each getList walk that finds the contacts in ``wanted``: one walk per
    state when every state asked for is final (:data:`FINAL_STATES`), else one walk over every
    contact (``ALL``), filtered client-side. A walk over a state contacts leave (Pending, Not
    Connected...) would skip contacts while the campaign dials: each contact leaving it moves the
    later pages one row forward, past a contact not read yet. The walk over every contact only
    gains (new uploads), and a final state too."""
    if wanted is not None and wanted <= FINAL_STATES:
        return tuple(sorted(wanted))
    return (RequestState.ALL,)


class NewRows:
    """Which rows of one getList walk it has not given yet (by ``id``), in memory flat in the size
    of the listing while the server lists by ascending id.

    getList names no order, and a walk's listing gains contacts between two page reads (uploads, or
    contacts entering the state walked): a page can then start with rows the page before ended
    with. While the server lists by ascending id (a database's natural order, and the sandbox's),
    the highest id given and the previous page's ids tell them: only rows above that id are new, and
    rows not above it were on the previous page. A page out of that order (ids not rising, or an old
    id not on the previous page) means the server lists otherwise: the walk then remembers every id
    given from there on (a set, starting with the previous page's), growing with the listing.
    """

    def __init__(self) -> None:
        self._high: int | None = None
        self._previous: set[int] = set()
        self._given: set[str] | None = None  # set once the server is found not listing by ascending id

    def __call__(self, rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        ids = [row.get("id") for row in rows]
        if self._given is None:
            numbers = [_whole_number(row_id) for row_id in ids if row_id is not None]
            if None not in numbers and self._by_ascending_id(numbers):
                high = self._high
                self._previous = set(numbers)
                self._high = max([*numbers, *([] if high is None else [high])], default=None)
                return [row for row, row_id in zip(rows, ids) if row_id is None or high is None or int(row_id) > high]
            self._given = {str(number) for number in self._previous}
        fresh = [row for row, row_id in zip(rows, ids) if row_id is None or str(row_id) not in self._given]
        self._given.update(str(row_id) for row_id in ids if row_id is not None)
        return fresh

    def _by_ascending_id(self, numbers: list[int]) -> bool:
        rising = all(a < b for a, b in pairwise(numbers))
        return rising and all(self._high is None or n > self._high or n in self._previous for n in numbers)


def _whole_number(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return int(value) if isinstance(value, str) and value.strip().isdigit() else None


__all__ = [
    "EcmContactMapping",
    "NewRows",
    "callback_attempts",
    "callback_state",
    "contact_record",
    "create_campaign_arguments",
    "dnc_entries_by_number",
    "dnc_number_key",
    "dnc_numbers",
    "ecm_id",
    "ignored_filter",
    "insert_outcome",
    "invalid",
    "is_duplicate_answer",
    "listed_number",
    "parse_attribute_map",
    "state_listings",
    "utc_time",
    "wanted_states",
]
