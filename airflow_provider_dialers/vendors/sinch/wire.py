"""Sinch OBI wire types: the constants, paths, body shapes and answer shapes of the OBI v1.

No HTTP here: query parameters in the OBI's spelling, new customers in its JSON shape, and the
per-item answer of ``POST .../customers/list`` (``{"statusCode", "id"?, "error"?}``) as
:class:`CustomerListResult`. The endpoints that send and read these are in ``api.py``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Literal, TypedDict
from urllib.parse import quote

from typing_extensions import Unpack  # typing.Unpack for **kwargs is Python 3.12+

from airflow_provider_dialers.errors import DialerNotSupportedError, DialerResponseError

#: The human name used in error messages (the hook's ``vendor_name``).
VENDOR_NAME = "Sinch Contact Center OBI"
API_ROOT = "/RI/obi"
JSON = "application/json"
#: What the reference asks POSTs that return a created id to accept (the id comes back as text/html).
CREATED_ID_MEDIA_TYPE = "text/html"

#: "any fields" searchable on ``GET /campaigns`` (values may hold * and ?, id fields excepted).
CAMPAIGN_SEARCH_FIELDS = frozenset({
    "name", "dialerId", "dialerName", "dialingMode", "status", "dialerStatus", "queueId", "queueName",
    "customIvrNumber", "total", "handled", "maxCalls", "filtered", "timeZone",
})
#: "any fields" searchable on ``GET /campaigns/{campaignId}/customers``.
CUSTOMER_SEARCH_FIELDS = frozenset({
    "externalId", "numbers", "result", "callResult", "classifier", "callCount", "lastBNumber",
    "dialingMode", "previewTime", "priority", "timeZone",
})
#: The only values ``PUT /campaigns/{campaignId}/status`` accepts.
SETTABLE_CAMPAIGN_STATUSES = ("Active", "Passive")
#: The reference's recommended maximum of customers per ``POST .../customers/list``.
RECOMMENDED_LIST_SIZE = 100
#: The capability interface's campaign states -> the OBI's settable statuses.
CAMPAIGN_STATUS_BY_WORD = {"running": "Active", "paused": "Passive"}
#: ``limit``'s documented default: a full page this large shows the server honours the limit asked.
DEFAULT_PAGE_SIZE = 100
#: A short page at least this long may be a server's cap, not the end (``sinch_page_limit``): it is
#: confirmed with one more request. No list API caps pages below it, so shorter pages end a listing.
SMALLEST_PLAUSIBLE_CAP = 10
#: Accept of a POST that returns a created id: the reference's text/html first; a JSON-only resource
#: answers ``{"id": ...}`` instead of a 406 (``sinch_created_id_form``).
CREATED_ID_ACCEPT = "text/html, application/json;q=0.9, */*;q=0.1"

# Where the reference is silent or contradicts itself (docs/readings.md): the switches of the
# connection extra ``readings`` and the readings a server may take (the sandbox's names too).
ATTRIBUTES_FORM, STATUS_BODY, PAGE_LIMIT, NOT_HANDLED_SCOPE, CREATED_ID_FORM = (
    "sinch_attributes_form", "sinch_status_body", "sinch_page_limit", "sinch_not_handled_scope",
    "sinch_created_id_form",
)
READINGS: dict[str, tuple[str, ...]] = {
    ATTRIBUTES_FORM: ("array_accepted", "wrapper_only"),
    STATUS_BODY: ("text_plain", "application_json"),
    PAGE_LIMIT: ("honoured", "capped"),
    NOT_HANDLED_SCOPE: ("includes", "excludes"),
    CREATED_ID_FORM: ("text_html_id", "json_object"),
}
#: A refusal naming the customers' ``attributes`` (a binding that wants the examples' wrapper).
_ATTRIBUTES_NAMED = re.compile(r"\battributes\b", re.IGNORECASE)

#: An id32 or id36 GUID (campaign, customer, queue, dialer and user ids).
GUID = re.compile(r"[0-9A-Fa-f]{32}|[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}")

DateLike = datetime | date | str
SearchValue = str | int


# --------------------------------------------------------------------------------------------
# Value conversions shared by the endpoints (api.py)
# --------------------------------------------------------------------------------------------


def format_datetime(value: DateLike) -> str:
    """The OBI's UTC form (``2020-06-29T12:00:00Z``); naive datetimes are taken as UTC, strings pass."""
    if isinstance(value, str):
        return value
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond // 1000:03d}"
    return text + "Z"


def attribute_list(value: Any) -> list[dict[str, str]]:
    """Customer attributes as the schema's array of ``{name, value}``, from any form seen.

    Accepts the schema's array, the reference examples' wrapper ``{"attribute": [...]}`` (whose
    inner value may be a single object when there is one attribute) and, for callers, a plain
    ``{name: value}`` mapping. Raises ``ValueError`` on anything else.
    """
    if value is None:
        return []
    if isinstance(value, Mapping):
        if set(value) == {"attribute"}:
            inner = value["attribute"]
            return attribute_list(inner if isinstance(inner, list) else [inner])
        return [{"name": str(name), "value": _text(item)} for name, item in value.items()]
    if isinstance(value, (list, tuple)):
        attributes = []
        for item in value:
            if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
                raise ValueError(f"an attribute must be an object with a string 'name', got {item!r:.80}")
            attributes.append({"name": item["name"], "value": _text(item.get("value"))})
        return attributes
    raise ValueError(f"attributes must be a list of {{name, value}} objects, got {type(value).__name__}")


def with_attribute_form(customer: dict[str, Any], wrapped: bool) -> dict[str, Any]:
    """``customer`` (normalised) with its attributes as the schema's array, or ``wrapped`` as the
    reference examples' ``{"attribute": [...]}``."""
    if not wrapped or not isinstance(customer.get("attributes"), list):
        return customer
    return {**customer, "attributes": {"attribute": customer["attributes"]}}


def refuses_attribute_array(status_code: int | None, message: str | None) -> bool:
    """Whether a whole-request refusal is a binding that cannot read ``attributes`` as an array."""
    return status_code == 400 and bool(_ATTRIBUTES_NAMED.search(message or ""))


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def query_params(**params: Any) -> dict[str, str]:
    """Query parameters in the OBI's spelling: None dropped, booleans lower-case, dates in UTC."""
    query = {}
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            query[name] = "true" if value else "false"
        elif isinstance(value, (datetime, date)):
            query[name] = format_datetime(value)
        elif isinstance(value, (list, tuple)):
            query[name] = ",".join(str(item) for item in value)
        else:
            query[name] = str(value)
    return query


def search_fields(filters: Mapping[str, SearchValue] | None, allowed: frozenset[str], endpoint: str) -> dict:
    """The "any fields" filters of a list endpoint, refusing fields the endpoint cannot search."""
    filters = dict(filters or {})
    unknown = sorted(set(filters) - allowed)
    if unknown:
        raise DialerNotSupportedError(
            f"{endpoint} cannot search by {unknown}; searchable fields are {sorted(allowed)}",
            vendor=VENDOR_NAME,
        )
    return filters


def path_segment(value: str) -> str:
    """One path segment, quoted so an id can never change the path it is sent to."""
    return quote(str(value), safe="")


# --------------------------------------------------------------------------------------------
# New customers and the per-item answer of POST .../customers/list
# --------------------------------------------------------------------------------------------


class CustomerFields(TypedDict, total=False):
    """A new customer's fields, as :func:`customer_record` and ``SinchObiHook.add_customer`` take them.

    :param numbers: up to 3 phone numbers in priority order (a list, or the ``;``-separated
        string). Without numbers the attributes must hold ``Phone1`` (and optionally
        ``Phone2``/``Phone3``); with numbers, those attributes are ignored by the dialer.
    :param external_id: your id for the customer, unique in the campaign. Give one: it makes a
        re-sent create harmless (the dialer answers "Value is not unique" instead of calling the
        person twice). Without it the dialer generates one.
    :param attributes: ``{name: value}`` or a list of ``{"name", "value"}`` objects.
    :param call_date: the customer's ``date``: when the dialer may call them (UTC).
    """

    numbers: str | Sequence[str] | None
    external_id: str | None
    attributes: Mapping[str, str] | Sequence[Mapping[str, str]] | None
    call_date: DateLike | None
    agent_id: str | None
    dialing_mode: Literal["PREVIEW", "PREDICTIVE"] | None
    preview_time: int | None
    priority: int | None
    time_zone: str | None


_CUSTOMER_FIELD_NAMES = {
    "external_id": "externalId", "numbers": "numbers", "attributes": "attributes", "call_date": "date",
    "agent_id": "agentId", "dialing_mode": "dialingMode", "preview_time": "previewTime", "priority": "priority",
    "time_zone": "timeZone",
}


def customer_record(**fields: Unpack[CustomerFields]) -> dict[str, Any]:
    """A new customer in the OBI's JSON shape, for :meth:`SinchObiHook.add_customers` (fields:
    :class:`CustomerFields`)."""
    return normalise_customer({wire: fields.get(name) for name, wire in _CUSTOMER_FIELD_NAMES.items()})


def normalise_customer(customer: Mapping[str, Any]) -> dict[str, Any]:
    """A customer mapping (OBI field names) ready to send: Nones dropped, numbers ``;``-joined,
    attributes in the schema's array form, ``date`` in UTC."""
    body = {key: value for key, value in customer.items() if value is not None}
    numbers = body.get("numbers")
    if isinstance(numbers, (list, tuple)):
        body["numbers"] = ";".join(str(number) for number in numbers)
    if "attributes" in body:
        try:
            body["attributes"] = attribute_list(body["attributes"])
        except ValueError as exc:
            raise DialerNotSupportedError(
                f"customer attributes: {exc}", vendor=VENDOR_NAME
            ) from None
    if "date" in body:
        body["date"] = format_datetime(body["date"])
    return body


@dataclass(frozen=True)
class CustomerItemResult:
    """The dialer's answer for one customer of ``POST .../customers/list``, in input order.

    ``status_code`` is 201 (validated and created), 200 (valid, but nothing was created because
    ``stopProcessIfInvalidEntriesFound`` was set and another item was invalid) or an error code.
    """

    index: int
    status_code: int
    customer_id: str | None
    error: str | None
    external_id: str | None

    @property
    def created(self) -> bool:
        return self.status_code == 201

    @property
    def validated_only(self) -> bool:
        return self.status_code == 200

    @property
    def failed(self) -> bool:
        return self.status_code not in (200, 201)

    @property
    def duplicate(self) -> bool:
        """The externalId already exists in the campaign (also how a re-sent create answers)."""
        return self.failed and "not unique" in (self.error or "").lower()


@dataclass(frozen=True)
class CustomerListResult:
    """Every item's outcome of one ``POST .../customers/list``, to account for row by row."""

    items: tuple[CustomerItemResult, ...]
    #: The request was re-sent after an attempt the server may have processed (see
    #: ``DialerHook.request``): a "not unique" item may then be that attempt's own customer.
    replayed: bool = False

    @property
    def created(self) -> list[CustomerItemResult]:
        return [item for item in self.items if item.created]

    @property
    def failed(self) -> list[CustomerItemResult]:
        return [item for item in self.items if item.failed]

    @property
    def stopped(self) -> bool:
        """Nothing was added because some items were invalid (stopProcessIfInvalidEntriesFound)."""
        return any(item.validated_only for item in self.items)


# --------------------------------------------------------------------------------------------
# Answers: customers as read, and the items of POST .../customers/list
# --------------------------------------------------------------------------------------------


def parse_customer(customer: Any, what: str) -> dict[str, Any]:
    """A customer as read, with ``attributes`` normalised to the schema's array form."""
    if not isinstance(customer, dict):
        raise DialerResponseError(f"{what}: a customer is not a JSON object", vendor=VENDOR_NAME)
    try:
        attributes = attribute_list(customer.get("attributes"))
    except ValueError as exc:
        raise DialerResponseError(
            f"{what}: unreadable customer attributes ({exc})", vendor=VENDOR_NAME
        ) from None
    return {**customer, "attributes": attributes}


def customer_list_result(
    answer: list[Any], sent: list[dict[str, Any]], what: str, *, replayed: bool
) -> CustomerListResult:
    """Pair each answered item of ``POST .../customers/list`` with the customer sent at its position."""
    if len(answer) != len(sent):
        raise DialerResponseError(
            f"{what}: {len(answer)} results for {len(sent)} customers; cannot tell which were added",
            vendor=VENDOR_NAME,
        )
    items = []
    for index, (item, body) in enumerate(zip(answer, sent)):
        status = item.get("statusCode") if isinstance(item, dict) else None
        if not isinstance(status, (int, float)) or isinstance(status, bool):
            raise DialerResponseError(
                f"{what}: item {index} has no numeric statusCode", vendor=VENDOR_NAME
            )
        items.append(
            CustomerItemResult(
                index=index,
                status_code=int(status),
                customer_id=item.get("id"),
                error=item.get("error"),
                external_id=body.get("externalId"),
            )
        )
    return CustomerListResult(items=tuple(items), replayed=replayed)
