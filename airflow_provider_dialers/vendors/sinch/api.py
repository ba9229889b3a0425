"""Sinch OBI endpoints: the connection and one method per documented endpoint of ``/RI/obi``.

Each method sends one documented request through :meth:`DialerHook.request` and returns the
parsed answer (dicts, lists, :class:`~airflow_provider_dialers.vendors.sinch.wire.CustomerListResult`).
The vendor-neutral capabilities over these are in ``hook.py``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar, Literal

import requests
from typing_extensions import Unpack

from airflow_provider_dialers.common.auth import CredentialAuth
from airflow_provider_dialers.common.hook import DialerHook
from airflow_provider_dialers.common.responses import describe_body
from airflow_provider_dialers.errors import (
    DialerAuthError,
    DialerError,
    DialerNotSupportedError,
    DialerRequestError,
    DialerResponseError,
)
from airflow_provider_dialers.vendors.sinch.auth import SinchBasicAuth
from airflow_provider_dialers.vendors.sinch.wire import (
    API_ROOT,
    ATTRIBUTES_FORM,
    CAMPAIGN_SEARCH_FIELDS,
    CREATED_ID_ACCEPT,
    CUSTOMER_SEARCH_FIELDS,
    DEFAULT_PAGE_SIZE,
    GUID,
    JSON,
    PAGE_LIMIT,
    READINGS,
    RECOMMENDED_LIST_SIZE,
    SETTABLE_CAMPAIGN_STATUSES,
    SMALLEST_PLAUSIBLE_CAP,
    STATUS_BODY,
    VENDOR_NAME,
    CustomerFields,
    CustomerListResult,
    DateLike,
    SearchValue,
    customer_list_result,
    customer_record,
    format_datetime,
    normalise_customer,
    parse_customer,
    path_segment,
    query_params,
    refuses_attribute_array,
    search_fields,
    with_attribute_form,
)


class SinchObiApi(DialerHook):
    """The OBI v1's connection and endpoints, one method per documented endpoint.

    The connection's host is the server's base URL (``/RI/obi/...`` is appended); login and
    password are the API user's (HTTP Basic), the ``api_key`` extra is sent as ``x-api-key``.
    """

    conn_type = "sinch_obi"
    default_conn_name = "sinch_obi_default"
    hook_name = "Sinch Contact Center OBI"
    vendor_name: ClassVar[str] = VENDOR_NAME
    api_root = API_ROOT
    extra_fields: ClassVar[tuple[str, ...]] = ("verify", "timeout", "api_key")
    #: The reference's silent points this client handles either way (wire.READINGS; docs/readings.md).
    known_readings: ClassVar[Mapping[str, tuple[str, ...]]] = READINGS
    #: The page size a ``capped`` server was seen to cap ``limit`` at (``sinch_page_limit``).
    _page_cap: int | None = None

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

    @staticmethod
    def _campaign_path(campaign_id: str, *rest: str) -> str:
        return "/".join(["/campaigns", path_segment(campaign_id), *rest])

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
        params = query_params(
            statistics=statistics or statistics_date is not None or bool(agent_ids) or None,
            statisticsDate=statistics_date,
            agentId=list(agent_ids) if agent_ids else None,
            startDate=start_date_after,
            startDateEnd=start_date_before,
            endDate=end_date_after,
            endDateEnd=end_date_before,
            registered=registered_after,
            registeredEnd=registered_before,
            **search_fields(filters, CAMPAIGN_SEARCH_FIELDS, "GET /campaigns"),
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
        # Sent as text/plain, the endpoint's own "Body Media type: text/plain", unless this server
        # is known to want JSON (sinch_status_body): the header rules also say "To POST/PUT JSON data,
        # the request must have Content-Type = application/json". A 415 means nothing was done, so
        # the word then goes again as the JSON string "Active", and that form is remembered.
        path, known = self._campaign_path(campaign_id, "status"), self.reading(STATUS_BODY)
        try:
            self._put_status(path, wanted, as_json=known == "application_json")
        except DialerRequestError as exc:
            if known is not None or exc.status_code != 415:
                raise
            self._put_status(path, wanted, as_json=True)
            self.learn(STATUS_BODY, "application_json")
        else:
            if known is None:
                self.learn(STATUS_BODY, "text_plain")

    def _put_status(self, path: str, word: str, *, as_json: bool) -> None:
        if as_json:
            self._call("PUT", path, retry_safe=True, content_type=JSON, json_body=word)
        else:
            self._call("PUT", path, retry_safe=True, content_type="text/plain", data=word.encode("ascii"))

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
        params = query_params(
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
            **search_fields(filters, CUSTOMER_SEARCH_FIELDS, "GET /campaigns/{campaignId}/customers"),
        )
        path = self._campaign_path(campaign_id, "customers")
        return [parse_customer(item, f"GET {path}") for item in self._read(path, list, params)]

    def iter_customers(
        self, campaign_id: str, *, page_size: int = 100, **search: Any
    ) -> Iterator[dict[str, Any]]:
        """Every customer matching ``search`` (the keywords of :meth:`list_customers`), page by page.

        The reference gives ``limit`` a default (100) but no maximum, and no total: a server may cap
        a page below the limit asked (``sinch_page_limit``), so a short page is not always the end.
        A short page of :data:`SMALLEST_PLAUSIBLE_CAP` items or more is confirmed with one more
        request while the server's reading is unknown; a next page with customers shows a cap,
        remembered (with its size) for the hook's life; a full page of 100 shows the limit is honoured.

        Retry-safe: yes (read-only).
        """
        offset, unconfirmed = 0, None  # unconfirmed: the size of a short page that may be a cap
        while True:
            page = self.list_customers(campaign_id, offset=offset, limit=page_size, **search)
            if page and unconfirmed is not None:
                self._page_cap = unconfirmed
                self.learn(PAGE_LIMIT, "capped")
            yield from page
            if not self._may_have_more(len(page), page_size):
                return
            unconfirmed = len(page) if len(page) < page_size and self.reading(PAGE_LIMIT) is None else None
            offset += len(page)

    def _may_have_more(self, got: int, asked: int) -> bool:
        """Whether a page of ``got`` customers, ``asked`` for, may be followed by more."""
        if got >= asked:
            if asked >= DEFAULT_PAGE_SIZE and self.reading(PAGE_LIMIT) is None:
                self.learn(PAGE_LIMIT, "honoured")
            return True
        reading = self.reading(PAGE_LIMIT)
        if reading == "capped":
            return got > 0 and (self._page_cap is None or got >= self._page_cap)
        return reading is None and got >= SMALLEST_PLAUSIBLE_CAP

    def get_customer(self, campaign_id: str, customer_id: str) -> dict[str, Any]:
        """One customer: ``GET /RI/obi/campaigns/{campaignId}/customers/{customerId}``.

        Retry-safe: yes (read-only).
        """
        path = self._campaign_path(campaign_id, "customers", path_segment(customer_id))
        return parse_customer(self._read(path, dict), f"GET {path}")

    def add_customer(self, campaign_id: str, **fields: Unpack[CustomerFields]) -> str:
        """Add one customer: ``POST /RI/obi/campaigns/{campaignId}/customers`` (201, the new id).

        Fields: :class:`~airflow_provider_dialers.vendors.sinch.wire.CustomerFields`. Sent with ``Accept: text/html`` as the reference
        asks; the id is read from the body, or from the ``Location`` header.

        Retry-safe: only with ``external_id`` (a re-send after a lost answer is then refused as
        "Value is not unique" - :class:`DialerRequestError` - instead of adding the person
        twice); without it, a request that may have been processed is not re-sent.
        """
        customer = customer_record(**fields)
        path = self._campaign_path(campaign_id, "customers")
        # Accept: the reference's text/html first, JSON next (sinch_created_id_form): see _created_id.
        response = self._post_customers(path, customer, retry_safe=fields.get("external_id") is not None,
                                        accept=CREATED_ID_ACCEPT)
        customer_id = self._created_id(response)
        self.log.info("Added customer %s to campaign %s", customer_id, campaign_id)
        return customer_id

    def _created_id(self, response: requests.Response) -> str:
        """The id a create answered: the body (text/html, or a JSON string), its ``id`` when it is a
        JSON object (a JSON-only resource, ``sinch_created_id_form``), else the end of ``Location``."""
        body = response.text.strip().strip('"')
        if GUID.fullmatch(body):
            return body
        if body.startswith("{"):
            try:
                body = str(response.json().get("id", ""))
            except (ValueError, AttributeError):
                body = ""
            if GUID.fullmatch(body):
                return body
        location_tail = response.headers.get("Location", "").rstrip("/").rsplit("/", 1)[-1]
        if GUID.fullmatch(location_tail):
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
        return self._add_customer_bodies(campaign_id, [normalise_customer(customer) for customer in customers],
                                         stop_if_invalid=stop_if_invalid)

    def _add_customer_bodies(
        self, campaign_id: str, bodies: list[dict[str, Any]], *, stop_if_invalid: bool = False
    ) -> CustomerListResult:
        """:meth:`add_customers` for customers already in the shape :func:`normalise_customer` gives
        (the capabilities' mapping, ``records.customer_from_contact``, builds them so): sent as they are."""
        if not bodies:
            return CustomerListResult(items=())
        if len(bodies) > RECOMMENDED_LIST_SIZE:
            self.log.warning(
                "Sending %d customers in one request; the reference recommends at most %d",
                len(bodies), RECOMMENDED_LIST_SIZE,
            )
        path = self._campaign_path(campaign_id, "customers", "list")
        response = self._post_customers(
            path, bodies, retry_safe=all(body.get("externalId") for body in bodies),
            params=query_params(stopProcessIfInvalidEntriesFound=stop_if_invalid),
        )
        result = customer_list_result(self._decode(response, list, f"POST {path}"), bodies, f"POST {path}",
                                      replayed=getattr(response, "dialer_replayed", False))
        self.log.info(
            "Campaign %s: %d of %d customers created, %d refused%s",
            campaign_id, len(result.created), len(bodies), len(result.failed),
            " (nothing added: stopProcessIfInvalidEntriesFound)" if result.stopped else "",
        )
        return result

    def _post_customers(self, path: str, customers: Any, **call: Any) -> requests.Response:
        """POST one customer or a list, the attributes in the form this server binds.

        The schema's array is sent (INDEX.md: where the examples contradict the schema, the schema
        is sent) unless the server is known to bind only the examples' ``{"attribute": [...]}``
        (``sinch_attributes_form``). A whole-request 400 naming ``attributes`` added nothing, so the
        same customers then go again wrapped; if the wrapper binds, that form is remembered.
        """
        known = self.reading(ATTRIBUTES_FORM)
        items = customers if isinstance(customers, list) else [customers]
        if not any(isinstance(item.get("attributes"), list) for item in items):
            return self._call("POST", path, content_type=JSON, json_body=customers, **call)
        try:
            response = self._call("POST", path, content_type=JSON, **call,
                                  json_body=self._attribute_form(customers, known == "wrapper_only"))
        except DialerRequestError as exc:
            if known is not None or not refuses_attribute_array(exc.status_code, exc.vendor_message):
                raise
        else:
            if known is None:
                self.learn(ATTRIBUTES_FORM, "array_accepted")
            return response
        try:
            wrapped = self._attribute_form(customers, True)
            response = self._call("POST", path, content_type=JSON, json_body=wrapped, **call)
        except DialerRequestError as exc:
            if not refuses_attribute_array(exc.status_code, exc.vendor_message):
                self.learn(ATTRIBUTES_FORM, "wrapper_only")  # the wrapper bound; the refusal is another
            raise
        self.learn(ATTRIBUTES_FORM, "wrapper_only")
        return response

    @staticmethod
    def _attribute_form(customers: Any, wrapped: bool) -> Any:
        if isinstance(customers, list):
            return [with_attribute_form(customer, wrapped) for customer in customers]
        return with_attribute_form(customers, wrapped)

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
            self._campaign_path(campaign_id, "customers", path_segment(customer_id)),
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
        params = query_params(
            startDate=start_date, endDate=end_date, campaignId=campaign_id, agentId=agent_id
        )
        return self._read("/statistics", list, params)

