"""Sandbox of Sinch Contact Center's Restful Outbound Campaign Interface (OBI) v1: its routes.

Serves the reference's endpoints with its paths, methods, bodies and status codes; JSON only.
Where the reference is silent the choices are marked "Sandbox choice" and listed in
docs/sinch.md. Errors answer ``{"statusCode": <code>, "error": "<text>"}``, the shape the
reference documents for list items, with texts in its style ("Invalid numbers: '...'").
"""

from __future__ import annotations

import base64
import binascii
import itertools
import secrets
from collections import Counter
from datetime import datetime
from typing import Any, ClassVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from airflow_provider_dialers.sandbox.sinch.readings import PAGE_CAP, SINCH_READINGS
from airflow_provider_dialers.sandbox.sinch.state import (
    SETTABLE_STATUSES,
    Campaign,
    Customer,
    SinchState,
    utcnow,
)
from airflow_provider_dialers.sandbox.sinch.validation import (
    CAMPAIGN_SEARCH,
    CUSTOMER_SEARCH,
    HTML,
    JSON,
    STATISTICS_SEARCH,
    TEXT,
    ObiError,
    ObiRoute,
    agent_id_set,
    attribute_filter,
    campaign_settings,
    invalid,
    new_customer,
    normalise_id,
    optional_day,
    parse_bool,
    parse_int,
    read_json_body,
    read_status_body,
    refuse_attribute_arrays,
    require_accept,
)

REALM = "Sinch Contact Center OBI"


class SinchSandbox(SinchState):
    """Sinch Contact Center OBI: campaigns, their customers, and per-day statistics."""

    name: ClassVar[str] = "sinch"
    path_prefix: ClassVar[str] = "/RI/obi"
    readings = SINCH_READINGS
    #: Sandbox choice for the reference's "recommended maximum 100 ... can vary": above this, 413.
    max_list_size: ClassVar[int] = 1000
    #: Sandbox choice: the largest ``limit`` of a customer page.
    max_page_size: ClassVar[int] = 1000

    # -- auth ------------------------------------------------------------------------------------
    async def _authenticate(self, request: Request) -> None:
        """x-api-key first (a gateway checks it before the server sees the call), then Basic."""
        api_key = request.headers.get("x-api-key")
        if (api_key is not None or self.config.sinch_require_api_key) and not secrets.compare_digest(
            (api_key or "").encode(), self.user["api_key"].encode()
        ):
            self.credentials.failed_logins[self.name] += 1
            raise ObiError(403, "Forbidden: missing or invalid x-api-key")
        if not self._basic_matches(request.headers.get("authorization", "")):
            self.credentials.failed_logins[self.name] += 1
            raise ObiError(401, "Unauthorized", {"WWW-Authenticate": f'Basic realm="{REALM}"'})
        self.authenticated_requests += 1

    def _basic_matches(self, header: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            login, _, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return secrets.compare_digest(login.encode(), self.user["login"].encode()) & secrets.compare_digest(
            password.encode(), self.user["password"].encode()
        )

    # -- lookups -------------------------------------------------------------------------------
    def _campaign(self, campaign_id: str) -> Campaign:
        campaign = self.campaigns.get(normalise_id(campaign_id, "campaignId"))
        if campaign is None:
            raise ObiError(404, f"Campaign not found: {campaign_id}")
        return campaign

    def _campaign_json(self, campaign: Campaign, now: datetime) -> dict[str, Any]:
        return campaign.to_json(now, self.reading("sinch_not_handled_scope"))

    def _customer(self, campaign: Campaign, customer_id: str) -> Customer:
        customer = campaign.customers.get(normalise_id(customer_id, "customerId"))
        if customer is None:
            raise ObiError(404, f"Customer not found: {customer_id}")
        return customer

    # -- routes ----------------------------------------------------------------------------------
    def build_router(self) -> APIRouter:
        router = APIRouter(prefix=self.path_prefix, route_class=ObiRoute, tags=[REALM],
                           dependencies=[Depends(self._authenticate)])

        @router.get("/campaigns")
        async def list_campaigns(request: Request) -> Response:
            require_accept(request, JSON)
            query = request.query_params
            matches = CAMPAIGN_SEARCH.predicate(query)
            statistics = parse_bool(query.get("statistics"), "statistics")
            day = optional_day(query, "statisticsDate")
            agents = agent_id_set(query)
            now = utcnow()
            answer = []
            for campaign in self.campaigns.values():
                item = self._campaign_json(campaign, now)
                if not matches(item):
                    continue
                if statistics:
                    stats = self._campaign_stats(campaign, day, agents)
                    if agents is not None and not stats:
                        continue  # "Only those campaigns are returned which have statistics for these agents"
                    if stats:
                        item["stats"] = stats
                answer.append(item)
            return JSONResponse(answer)

        @router.get("/campaigns/{campaign_id}")
        async def get_campaign(campaign_id: str, request: Request) -> Response:
            require_accept(request, JSON)
            return JSONResponse(self._campaign_json(self._campaign(campaign_id), utcnow()))

        @router.put("/campaigns/{campaign_id}")
        async def update_campaign(campaign_id: str, request: Request) -> Response:
            campaign = self._campaign(campaign_id)
            settings = campaign_settings(await read_json_body(request))
            for attribute, value in settings.items():
                setattr(campaign, attribute, value)
            return Response(status_code=204)

        @router.put("/campaigns/{campaign_id}/status")
        async def set_status(campaign_id: str, request: Request) -> Response:
            campaign = self._campaign(campaign_id)
            status = await read_status_body(request, self.reading("sinch_status_body"))
            if status not in SETTABLE_STATUSES:
                raise invalid("status", status, "Value can be one of Passive, Active")
            campaign.set_status(status)
            return Response(status_code=204)

        @router.get("/campaigns/{campaign_id}/customerResultStatistics")
        async def customer_result_statistics(campaign_id: str, request: Request) -> Response:
            require_accept(request, JSON)
            customers = self._campaign(campaign_id).customers.values()
            groups = Counter((c.result, c.call_result, c.classifier) for c in customers)
            answer = [
                {"result": result, "callResult": call_result, "classifier": classifier, "count": count}
                for (result, call_result, classifier), count in groups.items()
            ]
            # callResult and classifier "can be missing"
            return JSONResponse([{k: v for k, v in group.items() if v is not None} for group in answer])

        @router.get("/campaigns/{campaign_id}/customers")
        async def list_customers(campaign_id: str, request: Request) -> Response:
            require_accept(request, JSON)
            campaign = self._campaign(campaign_id)
            query = request.query_params
            matches = CUSTOMER_SEARCH.predicate(query)
            include_script = parse_bool(query.get("includeScript"), "includeScript")
            offset = parse_int(query.get("offset", "0"), "offset", 0)
            limit = parse_int(query.get("limit", "100"), "limit", 1, self.max_page_size)
            if self.reading("sinch_page_limit") == "capped":
                limit = min(limit, PAGE_CAP)  # the reading: the server caps a page below the limit asked
            agents = agent_id_set(query)
            if agents is None and "attributeName" not in query and set(query) <= CUSTOMER_SEARCH.own_params:
                # No filter: the page is a slice (paging a large campaign stays linear, not quadratic)
                page = itertools.islice(campaign.customers.values(), offset, offset + limit)
                return JSONResponse([c.to_json(include_script) for c in page])
            has_attribute = attribute_filter(query.get("attributeName"), query.get("attributeValue"))
            found = [
                c.to_json(include_script) for c in campaign.customers.values()
                if (agents is None or c.agent_id in agents) and has_attribute(c)
            ]
            found = [item for item in found if matches(item)]
            return JSONResponse(found[offset:offset + limit])

        @router.post("/campaigns/{campaign_id}/customers", status_code=201)
        async def add_customer(campaign_id: str, request: Request) -> Response:
            as_json = self.reading("sinch_created_id_form") == "json_object"
            require_accept(request, *((JSON,) if as_json else (HTML, TEXT)))
            campaign = self._campaign(campaign_id)
            body = await read_json_body(request)
            refuse_attribute_arrays([body], self.reading("sinch_attributes_form"))
            customer = new_customer(campaign, body, set(), self.new_id)
            campaign.customers[customer.id] = customer
            if as_json:  # the reading: a JSON-only resource answers {"id": ...} and no Location
                return JSONResponse({"id": customer.id}, status_code=201)
            location = str(request.url_for("get_customer", campaign_id=campaign.id, customer_id=customer.id))
            return Response(customer.id, status_code=201, media_type=HTML, headers={"Location": location})

        @router.get("/campaigns/{campaign_id}/customers/{customer_id}")
        async def get_customer(campaign_id: str, customer_id: str, request: Request) -> Response:
            require_accept(request, JSON)
            customer = self._customer(self._campaign(campaign_id), customer_id)
            return JSONResponse(customer.to_json(include_script=True))

        @router.delete("/campaigns/{campaign_id}/customers/{customer_id}")
        async def delete_customer(campaign_id: str, customer_id: str) -> Response:
            campaign = self._campaign(campaign_id)
            del campaign.customers[self._customer(campaign, customer_id).id]
            campaign._by_external_id.invalidate()
            return Response(status_code=204)

        @router.post("/campaigns/{campaign_id}/customers/list")
        async def add_customers(campaign_id: str, request: Request) -> Response:
            # The answer is JSON; text/html is accepted too, as the reference tells POSTs to send it.
            require_accept(request, JSON, HTML)
            campaign = self._campaign(campaign_id)
            stop_flag = "stopProcessIfInvalidEntriesFound"
            stop_if_invalid = parse_bool(request.query_params.get(stop_flag), stop_flag)
            items = await read_json_body(request)
            if not isinstance(items, list):
                raise ObiError(400, "Invalid customers: expected a JSON array")
            if len(items) > self.max_list_size:
                raise ObiError(
                    413, f"Too many customers: {len(items)} (at most {self.max_list_size} per request)"
                )
            refuse_attribute_arrays(items, self.reading("sinch_attributes_form"))
            return JSONResponse(self._add_customer_list(campaign, items, stop_if_invalid))

        @router.get("/statistics")
        async def statistics(request: Request) -> Response:
            require_accept(request, JSON)
            query = request.query_params
            matches = STATISTICS_SEARCH.predicate(query)
            # Statistics are cumulated per UTC day: a time of day is ignored.
            first, last = optional_day(query, "startDate"), optional_day(query, "endDate")
            return JSONResponse([row for row in self._statistics_rows(first, last) if matches(row)])

        return router

    def _add_customer_list(self, campaign: Campaign, items: list[Any], stop_if_invalid: bool) -> list[dict]:
        """Validate every item (a later duplicate externalId in the batch is invalid), then add the
        valid ones - or none if ``stop_if_invalid`` and any is invalid. Answers in input order."""
        outcomes: list[Customer | ObiError] = []
        batch_external_ids: set[str] = set()
        for raw in items:
            try:
                customer = new_customer(campaign, raw, batch_external_ids, self.new_id)
            except ObiError as exc:
                outcomes.append(exc)
                continue
            batch_external_ids.add(customer.external_id)
            outcomes.append(customer)
        stopped = stop_if_invalid and any(isinstance(o, ObiError) for o in outcomes)
        answer = []
        for outcome in outcomes:
            if isinstance(outcome, ObiError):
                answer.append({"error": outcome.message, "statusCode": outcome.status})
            elif stopped:
                answer.append({"statusCode": 200})
            else:
                campaign.customers[outcome.id] = outcome
                answer.append({"statusCode": 201, "id": outcome.id})
        return answer

