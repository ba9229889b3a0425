"""Sinch Contact Center: the Restful Outbound Campaign Interface (OBI) v1, base path ``/RI/obi``.

Auth is HTTP Basic with an *API user* (an ordinary Sinch Contact Center user marked as an API
user; its rights limit which campaigns it sees) on every call, plus an ``x-api-key`` header when
the connection's ``api_key`` extra is set (cloud gateways require it). There is no login round
trip and nothing to renew: a 401 is final.

Vendor vocabulary: a *campaign* runs on a *dialer* and routes calls to a *queue*; the people it
calls are *customers* (``externalId``, up to three ``numbers``, ``attributes``); a customer's
``result`` is its outcome in the campaign (``SUCCESS``, ``REFUSAL``, ``MAXCALLS`` ...), the last
call's outcome is its ``callResult``, and ``classifier`` is the agent's wrap-up classification.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, ClassVar, Literal, TypeVar
from urllib.parse import quote

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
from airflow_provider_dialers.contacts import ContactError, PhoneOptions, normalise_phone
from airflow_provider_dialers.hooks.base import (
    CampaignSummary,
    Credential,
    CredentialAuth,
    DialerAuthError,
    DialerError,
    DialerHook,
    DialerNotSupportedError,
    DialerRequestError,
    DialerResponseError,
    DialerValidationError,
    describe_body,
    register_secret,
)
from airflow_provider_dialers.mappings.sinch import (
    campaign_progress,
    contact_state,
    customer_from_callback,
    customer_from_contact,
    duplicate_in_batch,
    outcome_from_item,
)

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

_GUID = re.compile(r"[0-9A-Fa-f]{32}|[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}")

DateLike = datetime | date | str
SearchValue = str | int
_Item = TypeVar("_Item")  # a contact or a callback, as mapped by mappings.sinch


# --------------------------------------------------------------------------------------------
# Value conversions shared by the methods below
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


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _query(**params: Any) -> dict[str, str]:
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


def _search_fields(filters: Mapping[str, SearchValue] | None, allowed: frozenset[str], endpoint: str) -> dict:
    """The "any fields" filters of a list endpoint, refusing fields the endpoint cannot search."""
    filters = dict(filters or {})
    unknown = sorted(set(filters) - allowed)
    if unknown:
        raise DialerNotSupportedError(
            f"{endpoint} cannot search by {unknown}; searchable fields are {sorted(allowed)}",
            vendor=SinchObiHook.vendor_name,
        )
    return filters


def _segment(value: str) -> str:
    """One path segment, quoted so an id can never change the path it is sent to."""
    return quote(str(value), safe="")


# --------------------------------------------------------------------------------------------
# New customers and the per-item answer of POST .../customers/list
# --------------------------------------------------------------------------------------------


def customer_record(
    *,
    numbers: str | Sequence[str] | None = None,
    external_id: str | None = None,
    attributes: Mapping[str, str] | Sequence[Mapping[str, str]] | None = None,
    call_date: DateLike | None = None,
    agent_id: str | None = None,
    dialing_mode: Literal["PREVIEW", "PREDICTIVE"] | None = None,
    preview_time: int | None = None,
    priority: int | None = None,
    time_zone: str | None = None,
) -> dict[str, Any]:
    """A new customer in the OBI's JSON shape, for :meth:`SinchObiHook.add_customers`.

    :param numbers: up to 3 phone numbers in priority order (a list, or the ``;``-separated
        string). Without numbers the attributes must hold ``Phone1`` (and optionally
        ``Phone2``/``Phone3``); with numbers, those attributes are ignored by the dialer.
    :param external_id: your id for the customer, unique in the campaign. Give one: it makes a
        re-sent create harmless (the dialer answers "Value is not unique" instead of calling the
        person twice). Without it the dialer generates one.
    :param attributes: ``{name: value}`` or a list of ``{"name", "value"}`` objects.
    :param call_date: the customer's ``date``: when the dialer may call them (UTC).
    """
    return normalise_customer({
        "externalId": external_id,
        "numbers": numbers,
        "attributes": attributes,
        "date": call_date,
        "agentId": agent_id,
        "dialingMode": dialing_mode,
        "previewTime": preview_time,
        "priority": priority,
        "timeZone": time_zone,
    })


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
                f"customer attributes: {exc}", vendor=SinchObiHook.vendor_name
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
# Auth and hook
# --------------------------------------------------------------------------------------------


class SinchBasicAuth(CredentialAuth):
    """HTTP Basic with the connection's API user on every call, plus ``x-api-key`` when configured.

    "Logging in" only builds the header (no round trip), once per hook. A 401 means the login or
    password is wrong: re-sending the same header cannot help, so the rejection is final.
    """

    reauthenticate: ClassVar[bool] = False

    def __init__(self, hook: DialerHook) -> None:
        super().__init__(hook)
        self._api_key: str | None = None

    def login(self) -> Credential:
        conn = self.hook.connection
        if not conn.login or not conn.password:
            raise DialerAuthError(
                f"connection {self.hook.conn_id!r} needs the API user's login and password (HTTP Basic)",
                vendor=self.hook.vendor_name,
            )
        token = base64.b64encode(f"{conn.login}:{conn.password}".encode()).decode("ascii")
        register_secret(token, "sinch_basic_auth")
        api_key = self.hook.extra("api_key")
        self._api_key = str(api_key) if api_key else None
        register_secret(self._api_key, "sinch_api_key")
        return Credential(f"Basic {token}")

    def apply(self, request: requests.PreparedRequest, credential: Credential) -> None:
        request.headers["Authorization"] = credential.value
        if self._api_key:
            request.headers["x-api-key"] = self._api_key


class SinchObiHook(DialerHook):
    """Sinch Contact Center's Restful Outbound Campaign Interface (OBI) v1.

    Sinch calls the things this hook manages *campaigns* (outbound campaigns on a *dialer*,
    status ``Active``/``Passive``/``Handled`` ...) and *customers* (the people a campaign calls).
    The connection's host is the server's base URL; the hook appends ``/RI/obi/...``. Login and
    password are the API user's; the ``api_key`` extra, when set, is sent as ``x-api-key``.
    """

    conn_type = "sinch_obi"
    default_conn_name = "sinch_obi_default"
    hook_name = "Sinch Contact Center OBI"
    vendor_name: ClassVar[str] = "Sinch Contact Center OBI"
    extra_fields: ClassVar[tuple[str, ...]] = ("verify", "timeout", "api_key")
    upload_batch_size: ClassVar[int] = RECOMMENDED_LIST_SIZE

    def build_auth(self) -> CredentialAuth:
        return SinchBasicAuth(self)

    # -- plumbing ------------------------------------------------------------------------------
    def _call(
        self,
        method: str,
        path: str,
        *,
        retry_safe: bool,
        accept: str = JSON,
        content_type: str | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        headers = {"Accept": accept}
        if content_type:
            headers["Content-Type"] = content_type
        return self.request(method, API_ROOT + path, retry_safe=retry_safe, headers=headers, **kwargs)

    def _read(self, path: str, expected: type, params: Mapping[str, str] | None = None) -> Any:
        """GET ``path`` and decode its JSON answer, which must be an ``expected`` (list or dict)."""
        response = self._call("GET", path, retry_safe=True, params=dict(params or {}))
        return self._decode(response, expected, f"GET {path}")

    def _decode(self, response: requests.Response, expected: type, what: str) -> Any:
        return self.parse_json(response, what, expect=expected)

    def _parse_customer(self, customer: Any, what: str) -> dict[str, Any]:
        """A customer as read, with ``attributes`` normalised to the schema's array form."""
        if not isinstance(customer, dict):
            raise DialerResponseError(f"{what}: a customer is not a JSON object", vendor=self.vendor_name)
        try:
            attributes = attribute_list(customer.get("attributes"))
        except ValueError as exc:
            raise DialerResponseError(
                f"{what}: unreadable customer attributes ({exc})", vendor=self.vendor_name
            ) from None
        return {**customer, "attributes": attributes}

    @staticmethod
    def _campaign_path(campaign_id: str, *rest: str) -> str:
        return "/".join(["/campaigns", _segment(campaign_id), *rest])

    def error_from_response(self, response: requests.Response, what: str) -> DialerError:
        """The OBI's ``{"statusCode", "error"}`` answer as a DialerError.

        403 comes from gateways refusing the ``x-api-key`` or from the API user lacking rights:
        either way the connection must change, so it is an auth error, not a request error.
        """
        if response.status_code == 403:
            return DialerAuthError(
                f"{what} was refused (HTTP 403: {self.parse_error(response)[1]}); check the connection's "
                "api_key extra (x-api-key) and the API user's rights",
                vendor=self.vendor_name,
            )
        return super().error_from_response(response, what)

    def parse_error(self, response: requests.Response) -> tuple[str | None, str]:
        """(the body's ``statusCode``, its ``error`` text), or (None, a description of the body)."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get("error"):
            code = body.get("statusCode")
            return (str(int(code)) if isinstance(code, (int, float)) else None), str(body["error"])
        return None, describe_body(response)

    def _test_connection_call(self) -> str:
        campaigns = self.get_campaigns()
        return f"{len(campaigns)} campaigns visible to API user {self.connection.login!r}"

    # -- campaigns -----------------------------------------------------------------------------
    def get_campaigns(
        self,
        *,
        statistics: bool = False,
        statistics_date: DateLike | None = None,
        agent_ids: Sequence[str] | None = None,
        start_date_after: DateLike | None = None,
        start_date_before: DateLike | None = None,
        end_date_after: DateLike | None = None,
        end_date_before: DateLike | None = None,
        registered_after: DateLike | None = None,
        registered_before: DateLike | None = None,
        filters: Mapping[str, SearchValue] | None = None,
    ) -> list[dict[str, Any]]:
        """The campaigns the API user may see: ``GET /RI/obi/campaigns``.

        :param statistics: add each campaign's ``stats`` (``total`` and today's ``daily``).
        :param statistics_date: daily statistics of this UTC day instead (no ``total``).
        :param agent_ids: statistics of these agents only; only campaigns with such statistics
            are returned. ``statistics_date`` and ``agent_ids`` imply ``statistics=True`` (the
            reference requires it alongside them).
        :param filters: "any fields" search, e.g. ``{"name": "Spring*", "status": "Active"}``;
            ``*`` and ``?`` are patterns except in ``dialerId``/``queueId`` (id32 or id36 GUIDs).
            Fields: see :data:`CAMPAIGN_SEARCH_FIELDS`.
        :return: campaign objects as documented (``id``, ``name``, ``status``, ``dialerStatus``,
            ``total``, ``handled``, ``notHandled``, ``callable``, ``maxCalls`` ...).

        Retry-safe: yes (read-only).
        """
        params = _query(
            statistics=statistics or statistics_date is not None or bool(agent_ids) or None,
            statisticsDate=statistics_date,
            agentId=list(agent_ids) if agent_ids else None,
            startDate=start_date_after,
            startDateEnd=start_date_before,
            endDate=end_date_after,
            endDateEnd=end_date_before,
            registered=registered_after,
            registeredEnd=registered_before,
            **_search_fields(filters, CAMPAIGN_SEARCH_FIELDS, "GET /campaigns"),
        )
        return self._read("/campaigns", list, params)

    def get_campaign(self, campaign_id: str) -> dict[str, Any]:
        """One campaign with its counters: ``GET /RI/obi/campaigns/{campaignId}``.

        The campaign is finished when ``status`` is ``Handled`` (``dialerStatus`` ``COMPLETED``);
        ``callable`` counts customers that can be called now, ``maxCalls`` those that ran out of
        attempts.

        Retry-safe: yes (read-only).
        """
        return self._read(self._campaign_path(campaign_id), dict)

    def update_campaign(
        self,
        campaign_id: str,
        *,
        name: str,
        dialing_mode: Literal["PREVIEW", "PROGRESSIVE", "PREDICTIVE"],
        queue_id: str,
        remarks: str | None = None,
        custom_ivr_number: str | None = None,
        start_date: DateLike | None = None,
        end_date: DateLike | None = None,
        time_zone: str | None = None,
        abandon_rate: float | None = None,
        increase_predictive_ratio: float | None = None,
    ) -> None:
        """Replace a campaign's settings: ``PUT /RI/obi/campaigns/{campaignId}`` (204).

        The reference: "Provide all properties since all fields are updated" - an optional
        setting left out here is cleared on the dialer. To change one setting, read the campaign
        with :meth:`get_campaign` and pass its other values back.

        :param abandon_rate: predictive only, 0.0-2.0 (% of abandoned calls to aim for).
        :param increase_predictive_ratio: predictive only, 0.0-100.0 (% extra calls).

        Retry-safe: yes (it sets the whole state; sending it twice leaves the same campaign).
        """
        body = {
            "name": name,
            "remarks": remarks,
            "dialingMode": dialing_mode,
            "queueId": queue_id,
            "customIvrNumber": custom_ivr_number,
            "startDate": format_datetime(start_date) if start_date is not None else None,
            "endDate": format_datetime(end_date) if end_date is not None else None,
            "timeZone": time_zone,
            "abandonRate": abandon_rate,
            "increasePredictiveRatio": increase_predictive_ratio,
        }
        self._call(
            "PUT",
            self._campaign_path(campaign_id),
            retry_safe=True,
            content_type=JSON,
            json_body={key: value for key, value in body.items() if value is not None},
        )

    def update_campaign_status(self, campaign_id: str, status: Literal["Active", "Passive"]) -> None:
        """Start (``Active``) or stop (``Passive``) a campaign: ``PUT /RI/obi/campaigns/{campaignId}/status``.

        The body is the bare word as ``text/plain``; the dialer answers 204. Activating a
        ``Handled`` campaign makes it dial again (for customers added since).

        Retry-safe: yes (it sets a state).
        """
        wanted = status.strip().capitalize()
        if wanted not in SETTABLE_CAMPAIGN_STATUSES:
            raise DialerNotSupportedError(
                f"a campaign's status can only be set to {' or '.join(SETTABLE_CAMPAIGN_STATUSES)}, "
                f"not {status!r}",
                vendor=self.vendor_name,
            )
        self._call(
            "PUT",
            self._campaign_path(campaign_id, "status"),
            retry_safe=True,
            content_type="text/plain",
            data=wanted.encode("ascii"),
        )

    def get_customer_result_statistics(self, campaign_id: str) -> list[dict[str, Any]]:
        """Customers counted per (``result``, ``callResult``, ``classifier``):
        ``GET /RI/obi/campaigns/{campaignId}/customerResultStatistics``.

        Items: ``{"result", "callResult"?, "classifier"?, "count"}``.

        Retry-safe: yes (read-only).
        """
        return self._read(self._campaign_path(campaign_id, "customerResultStatistics"), list)

    # -- customers -----------------------------------------------------------------------------
    def list_customers(
        self,
        campaign_id: str,
        *,
        offset: int = 0,
        limit: int = 100,
        include_script: bool = False,
        agent_ids: Sequence[str] | None = None,
        date_after: DateLike | None = None,
        date_before: DateLike | None = None,
        modified_after: DateLike | None = None,
        modified_before: DateLike | None = None,
        attribute_name: str | None = None,
        attribute_value: str | None = None,
        filters: Mapping[str, SearchValue] | None = None,
    ) -> list[dict[str, Any]]:
        """One page of a campaign's customers: ``GET /RI/obi/campaigns/{campaignId}/customers``.

        :param include_script: add each customer's answered ``script``.
        :param agent_ids: customers of these agents.
        :param date_after: ``date`` (when the customer may be called) after this UTC time;
            ``date_before`` likewise (the reference's ``date``/``dateEnd``).
        :param modified_after: ``modificationDate`` after this time (``modificationDateEnd``: before).
        :param attribute_name: customers having this attribute (``attribute_value``: with this value;
            it needs ``attribute_name``).
        :param filters: "any fields" search with ``*``/``?`` patterns, e.g. ``{"result": "SUCCESS"}``;
            fields: see :data:`CUSTOMER_SEARCH_FIELDS`.
        :return: customers, ``attributes`` always as a list of ``{"name", "value"}``.

        Retry-safe: yes (read-only).
        """
        if attribute_value is not None and attribute_name is None:
            raise DialerNotSupportedError(
                "the OBI searches by attribute value only together with attributeName",
                vendor=self.vendor_name,
            )
        params = _query(
            offset=offset,
            limit=limit,
            includeScript=include_script or None,
            agentId=list(agent_ids) if agent_ids else None,
            date=date_after,
            dateEnd=date_before,
            modificationDate=modified_after,
            modificationDateEnd=modified_before,
            attributeName=attribute_name,
            attributeValue=attribute_value,
            **_search_fields(filters, CUSTOMER_SEARCH_FIELDS, "GET /campaigns/{campaignId}/customers"),
        )
        path = self._campaign_path(campaign_id, "customers")
        return [self._parse_customer(item, f"GET {path}") for item in self._read(path, list, params)]

    def iter_customers(
        self, campaign_id: str, *, page_size: int = 100, **search: Any
    ) -> Iterator[dict[str, Any]]:
        """Every customer matching ``search`` (the keywords of :meth:`list_customers`), page by page.

        Retry-safe: yes (read-only).
        """
        offset = 0
        while True:
            page = self.list_customers(campaign_id, offset=offset, limit=page_size, **search)
            yield from page
            if len(page) < page_size:
                return
            offset += len(page)

    def get_customer(self, campaign_id: str, customer_id: str) -> dict[str, Any]:
        """One customer: ``GET /RI/obi/campaigns/{campaignId}/customers/{customerId}``.

        Retry-safe: yes (read-only).
        """
        path = self._campaign_path(campaign_id, "customers", _segment(customer_id))
        return self._parse_customer(self._read(path, dict), f"GET {path}")

    def add_customer(
        self,
        campaign_id: str,
        *,
        numbers: str | Sequence[str] | None = None,
        external_id: str | None = None,
        attributes: Mapping[str, str] | Sequence[Mapping[str, str]] | None = None,
        call_date: DateLike | None = None,
        agent_id: str | None = None,
        dialing_mode: Literal["PREVIEW", "PREDICTIVE"] | None = None,
        preview_time: int | None = None,
        priority: int | None = None,
        time_zone: str | None = None,
    ) -> str:
        """Add one customer: ``POST /RI/obi/campaigns/{campaignId}/customers`` (201, the new id).

        Parameters as :func:`customer_record`. Sent with ``Accept: text/html`` as the reference
        asks; the id is read from the body, or from the ``Location`` header.

        Retry-safe: only with ``external_id`` (a re-send after a lost answer is then refused as
        "Value is not unique" - :class:`DialerRequestError` - instead of adding the person
        twice); without it, a request that may have been processed is not re-sent.
        """
        customer = customer_record(
            numbers=numbers,
            external_id=external_id,
            attributes=attributes,
            call_date=call_date,
            agent_id=agent_id,
            dialing_mode=dialing_mode,
            preview_time=preview_time,
            priority=priority,
            time_zone=time_zone,
        )
        path = self._campaign_path(campaign_id, "customers")
        response = self._call(
            "POST",
            path,
            retry_safe=external_id is not None,
            accept=CREATED_ID_MEDIA_TYPE,
            content_type=JSON,
            json_body=customer,
        )
        customer_id = self._created_id(response)
        self.log.info("Added customer %s to campaign %s", customer_id, campaign_id)
        return customer_id

    def _created_id(self, response: requests.Response) -> str:
        """The id a create answered: the body (text/html), else the last segment of ``Location``."""
        body = response.text.strip().strip('"')
        if _GUID.fullmatch(body):
            return body
        location_tail = response.headers.get("Location", "").rstrip("/").rsplit("/", 1)[-1]
        if _GUID.fullmatch(location_tail):
            return location_tail
        raise DialerResponseError(
            f"expected the created customer's id but got {describe_body(response)}", vendor=self.vendor_name
        )

    def add_customers(
        self,
        campaign_id: str,
        customers: Sequence[Mapping[str, Any]],
        *,
        stop_if_invalid: bool = False,
    ) -> CustomerListResult:
        """Add many customers: ``POST /RI/obi/campaigns/{campaignId}/customers/list``.

        :param customers: mappings with the OBI's field names, e.g. built by
            :func:`customer_record` (numbers may be a list; attributes a ``{name: value}``).
            The reference recommends at most 100 per request.
        :param stop_if_invalid: ``stopProcessIfInvalidEntriesFound``: if any item is invalid,
            add none (valid items then answer 200, invalid ones their error).
        :return: one :class:`CustomerItemResult` per customer, in input order.

        Retry-safe: only when every customer has an ``externalId`` (a re-send then answers
        "Value is not unique" for the items already added: see ``CustomerItemResult.duplicate``);
        otherwise a request that may have been processed is not re-sent.
        """
        bodies = [normalise_customer(customer) for customer in customers]
        if not bodies:
            return CustomerListResult(items=())
        if len(bodies) > RECOMMENDED_LIST_SIZE:
            self.log.warning(
                "Sending %d customers in one request; the reference recommends at most %d",
                len(bodies), RECOMMENDED_LIST_SIZE,
            )
        path = self._campaign_path(campaign_id, "customers", "list")
        response = self._call(
            "POST",
            path,
            retry_safe=all(body.get("externalId") for body in bodies),
            content_type=JSON,
            params=_query(stopProcessIfInvalidEntriesFound=stop_if_invalid),
            json_body=bodies,
        )
        result = self._item_results(self._decode(response, list, f"POST {path}"), bodies, f"POST {path}",
                                    replayed=getattr(response, "dialer_replayed", False))
        self.log.info(
            "Campaign %s: %d of %d customers created, %d refused%s",
            campaign_id, len(result.created), len(bodies), len(result.failed),
            " (nothing added: stopProcessIfInvalidEntriesFound)" if result.stopped else "",
        )
        return result

    def _item_results(
        self, answer: list[Any], sent: list[dict[str, Any]], what: str, *, replayed: bool
    ) -> CustomerListResult:
        """Pair each answered item with the customer sent at its position."""
        if len(answer) != len(sent):
            raise DialerResponseError(
                f"{what}: {len(answer)} results for {len(sent)} customers; cannot tell which were added",
                vendor=self.vendor_name,
            )
        items = []
        for index, (item, body) in enumerate(zip(answer, sent)):
            status = item.get("statusCode") if isinstance(item, dict) else None
            if not isinstance(status, (int, float)) or isinstance(status, bool):
                raise DialerResponseError(
                    f"{what}: item {index} has no numeric statusCode", vendor=self.vendor_name
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

    def delete_customer(self, campaign_id: str, customer_id: str, *, missing_ok: bool = False) -> bool:
        """Remove a customer from a campaign (204):
        ``DELETE /RI/obi/campaigns/{campaignId}/customers/{customerId}``.

        :param missing_ok: treat 404 (no such customer, or campaign) as already deleted.
        :return: True if deleted now, False if it was missing (only with ``missing_ok``).

        Retry-safe: yes (deleting by id cannot remove anything else; a re-send after a lost
        answer gets 404, which ``missing_ok=True`` accepts).
        """
        response = self._call(
            "DELETE",
            self._campaign_path(campaign_id, "customers", _segment(customer_id)),
            retry_safe=True,
            ok_statuses=(200, 204, 404) if missing_ok else (200, 204),
        )
        return response.status_code != 404

    # -- statistics ----------------------------------------------------------------------------
    def get_statistics(
        self,
        *,
        start_date: DateLike | None = None,
        end_date: DateLike | None = None,
        campaign_id: str | None = None,
        agent_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Outbound statistics per campaign and agent: ``GET /RI/obi/statistics``.

        :param start_date: first UTC day included (statistics are cumulated per day, so give
            midnight; a ``date`` is sent as midnight UTC).
        :param end_date: last UTC day included (same as ``start_date`` for one day).
        :param campaign_id: one campaign (id32 or id36).
        :param agent_id: one agent (id32 or id36). Rows with ``agentId`` null are calls the
            dialer handled without an agent.

        Retry-safe: yes (read-only).
        """
        params = _query(startDate=start_date, endDate=end_date, campaignId=campaign_id, agentId=agent_id)
        return self._read("/statistics", list, params)

    # -- capabilities (the vendor-neutral interface of capabilities.DialerCapabilities) -------------
    def create_campaign(self, spec: Mapping[str, Any]) -> str:
        """Not supported: the OBI can list, read, update and start/stop campaigns, not create them."""
        raise self.not_supported(
            "create campaigns",
            "the OBI has no endpoint that creates one (only list, read, update and status); create the "
            "campaign in Sinch Contact Center and pass its id",
        )

    def find_campaign(self, name: str) -> str | None:
        """The id of the campaign named exactly ``name``, or None (one ``GET /campaigns``).

        The OBI's name search ignores case and reads ``*`` and ``?`` as patterns, so its answer is
        narrowed to the exact name here. Two campaigns of that name raise DialerValidationError.
        """
        found = [c["id"] for c in self.get_campaigns(filters={"name": name}) if c.get("name") == name]
        if len(found) > 1:
            raise DialerValidationError(
                "name", f"{len(found)} campaigns are called {name!r} ({', '.join(found)}); use an id",
                vendor=self.vendor_name,
            )
        return found[0] if found else None

    def set_campaign_status(self, campaign_id: str, status: CampaignStatusWord) -> None:
        """``running`` sets the campaign ``Active``, ``paused`` sets it ``Passive``."""
        if status not in CAMPAIGN_STATUS_BY_WORD:
            raise DialerValidationError(
                "status", f"must be one of {sorted(CAMPAIGN_STATUS_BY_WORD)}, got {status!r}", vendor=self.vendor_name
            )
        self.update_campaign_status(campaign_id, CAMPAIGN_STATUS_BY_WORD[status])

    def list_campaigns(self) -> list[CampaignSummary]:
        """Every campaign the API user sees (status: Active, Passive, Handled...; Active dials)."""
        return [
            CampaignSummary(id=c["id"], name=c.get("name", ""), status=c.get("status", ""),
                            running=c.get("status") == "Active")
            for c in self.get_campaigns()
        ]

    def upload_contacts(
        self, campaign_id: str, rows: Sequence[ContactRow], *, options: UploadOptions
    ) -> list[RowOutcome]:
        """Add one batch of contacts as customers (``POST .../customers/list``), one outcome per row.

        Retry-safe: every customer carries an ``externalId`` (the contact's, or one derived from the
        row), so a re-sent batch is answered "not unique" instead of adding anyone twice.
        """
        self._refuse_update(options)
        return self._add_mapped_rows(campaign_id, [(r.row, r.contact) for r in rows], customer_from_contact,
                                     options, time_field="dial_at")

    def add_callbacks(
        self, campaign_id: str, rows: Sequence[CallbackRow], *, options: UploadOptions
    ) -> list[RowOutcome]:
        """Add one batch of callbacks as customers whose ``date`` is the callback time and
        ``agentId`` the agent. The OBI cannot reschedule a customer it already has: a callback for
        one (same ``externalId``) is a duplicate. Retry-safe as :meth:`upload_contacts`."""
        self._refuse_update(options)
        return self._add_mapped_rows(campaign_id, [(r.row, r.callback) for r in rows], customer_from_callback,
                                     options, time_field="callback_at")

    def add_dnc(self, numbers: Sequence[str]) -> DncResult:
        """Not supported: the OBI has no do-not-call list."""
        raise self._no_dnc("manage a DNC list")

    def remove_dnc(self, numbers: Sequence[str]) -> DncResult:
        """Not supported: the OBI has no do-not-call list."""
        raise self._no_dnc("manage a DNC list")

    def list_dnc(self) -> set[str]:
        """Not supported: the OBI has no do-not-call list."""
        raise self._no_dnc("read a DNC list")

    def set_global_emergency(self, enabled: bool) -> dict[str, Any]:
        """Not supported natively: the OBI only sets each campaign's status (Active/Passive)."""
        raise self.not_supported(
            "toggle a global emergency", "the OBI has no global emergency stop, only each campaign's status"
        )

    def get_campaign_progress(self, campaign_id: str) -> CampaignProgress:
        """Counters of ``GET /campaigns/{id}`` and the outcomes of ``customerResultStatistics``:
        two requests whatever the campaign's size. "Complete" is defined in
        :func:`~airflow_provider_dialers.mappings.sinch.campaign_progress`."""
        campaign = self.get_campaign(campaign_id)
        return campaign_progress(campaign_id, campaign, self.get_customer_result_statistics(campaign_id))

    def get_contact_state(self, campaign_id: str, contact_ref: str) -> ContactState:
        """A customer's ``result`` (terminal or not), ``callCount`` and last call, found by
        ``externalId``, else by customer id, else by phone number (1-3 requests)."""
        ref = str(contact_ref).strip()
        if not ref:
            raise DialerValidationError("contact_ref", "is empty", vendor=self.vendor_name)
        for lookup in (self._customer_by_external_id, self._customer_by_id, self._customer_by_number):
            customer = lookup(campaign_id, ref)
            if customer is not None:
                return contact_state(ref, customer)
        raise DialerRequestError(
            f"campaign {campaign_id} has no customer with externalId, id or number {ref!r}",
            vendor=self.vendor_name, status_code=404,
        )

    # -- capability helpers ---------------------------------------------------------------------------
    def _refuse_update(self, options: UploadOptions) -> None:
        if options.on_duplicate == "update":
            raise self.not_supported(
                "update customers it already has (on_duplicate='update')",
                "the OBI has no endpoint that changes a customer (only add, read and delete); use 'skip'",
            )

    def _no_dnc(self, capability: str) -> Exception:
        return self.not_supported(capability, "the OBI has no do-not-call endpoints (campaigns, customers and "
                                              "statistics only)")

    def _add_mapped_rows(
        self,
        campaign_id: str,
        rows: Sequence[tuple[int, _Item]],
        to_customer: Callable[[_Item], dict[str, Any]],
        options: UploadOptions,
        *,
        time_field: str,
    ) -> list[RowOutcome]:
        """Map each row, send the valid ones in one request (none in a dry run), account for all.

        Rows that fail the mapping are rejected unsent; a row repeating an earlier row's
        ``externalId`` is a duplicate unsent (in a replayed request the OBI's "not unique" for it
        would be indistinguishable from the first attempt's own customer).
        """
        outcomes: list[RowOutcome | None] = [None] * len(rows)
        to_send: list[tuple[int, int, dict[str, Any]]] = []  # (position, row, customer)
        first_row_by_key: dict[str, int] = {}
        for position, (row, item) in enumerate(rows):
            try:
                customer = to_customer(item)
            except ContactError as exc:
                outcomes[position] = RowOutcome.rejected(row, exc.field, exc.reason)
                continue
            key = customer["externalId"]
            if key in first_row_by_key:
                outcomes[position] = duplicate_in_batch(row, key, first_row_by_key[key])
                continue
            first_row_by_key[key] = row
            to_send.append((position, row, customer))
        for position, outcome in self._send_customers(campaign_id, to_send, options, time_field):
            outcomes[position] = outcome
        return [outcome for outcome in outcomes if outcome is not None]

    def _send_customers(
        self, campaign_id: str, to_send: list[tuple[int, int, dict[str, Any]]], options: UploadOptions,
        time_field: str,
    ) -> Iterator[tuple[int, RowOutcome]]:
        """(position, outcome) of each customer sent, or accepted with its payload in a dry run."""
        if options.dry_run or not to_send:
            for position, row, customer in to_send:
                yield position, RowOutcome(row, RowStatus.ACCEPTED, payload=customer)
            return
        result = self.add_customers(campaign_id, [customer for _, _, customer in to_send])
        for (position, row, customer), item in zip(to_send, result.items):
            yield position, outcome_from_item(row, item, replayed=result.replayed, payload=customer,
                                              time_field=time_field)

    def _customer_by_external_id(self, campaign_id: str, ref: str) -> dict[str, Any] | None:
        # The search ignores case and reads * and ? as patterns: keep the exact match only.
        matches = self.iter_customers(campaign_id, filters={"externalId": ref})
        return next((c for c in matches if c.get("externalId") == ref), None)

    def _customer_by_id(self, campaign_id: str, ref: str) -> dict[str, Any] | None:
        if not _GUID.fullmatch(ref):
            return None
        try:
            return self.get_customer(campaign_id, ref)
        except DialerRequestError as exc:
            if exc.status_code == 404:
                return None
            raise

    def _customer_by_number(self, campaign_id: str, ref: str) -> dict[str, Any] | None:
        try:
            number = normalise_phone(ref, "contact_ref", PhoneOptions())
        except ContactError:
            return None
        candidates = self.iter_customers(campaign_id, filters={"numbers": f"*{number}*"})
        found = [c for c in candidates if number in str(c.get("numbers", "")).split(";")]
        if len(found) > 1:
            raise DialerValidationError(
                "contact_ref", f"{len(found)} customers have number {number}; use an externalId or customer id",
                vendor=self.vendor_name,
            )
        return found[0] if found else None


__all__ = [
    "CAMPAIGN_SEARCH_FIELDS",
    "CUSTOMER_SEARCH_FIELDS",
    "CustomerItemResult",
    "CustomerListResult",
    "SinchBasicAuth",
    "SinchObiHook",
    "attribute_list",
    "customer_record",
    "format_datetime",
    "normalise_customer",
]
