"""Sandbox of Sinch Contact Center's Restful Outbound Campaign Interface (OBI) v1, at ``/RI/obi``.

Serves the reference's endpoints with its paths, methods, bodies and status codes; JSON only.
Where the reference is silent the choices are marked "Sandbox choice" and listed in
the README's vendor section. Errors answer ``{"statusCode": <code>, "error": "<text>"}``, the shape the
reference documents for list items, with texts in its style ("Invalid numbers: '...'").
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, ClassVar

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute

from airflow_provider_dialers.sandbox.core import GrowingIndex, VendorSandbox

JSON = "application/json"
HTML = "text/html"
TEXT = "text/plain"

# Customer results. "" is a customer not handled yet (never called).
NOT_HANDLED, DIALING, MAXCALLS = "", "DIALING", "MAXCALLS"
SUCCESS, REFUSAL, BUSY, NOANSWER = "SUCCESS", "REFUSAL", "BUSY", "NOANSWER"
FINAL_RESULTS = frozenset({SUCCESS, REFUSAL})  # the customer is handled
RETRY_RESULTS = frozenset({BUSY, NOANSWER})  # called again until RetryCount + 1 attempts
CLASSIFIERS = {SUCCESS: "Offer accepted", REFUSAL: "Refusal"}
#: Outcomes of a settled call and their weights (sandbox choice: roughly a real outbound mix).
OUTCOMES, OUTCOME_WEIGHTS = (SUCCESS, REFUSAL, BUSY, NOANSWER), (40, 15, 15, 30)
#: ``date`` of handled customers, as in the reference's examples.
NEVER = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)

CAMPAIGN_DIALING_MODES = ("PREVIEW", "PROGRESSIVE", "PREDICTIVE")
CUSTOMER_DIALING_MODES = ("PREVIEW", "PREDICTIVE")
SETTABLE_STATUSES = {"Active": "OPEN", "Passive": "PASSIVE"}  # status -> dialerStatus

REALM = "Sinch Contact Center OBI"
#: Sandbox choice: a phone number is 5-15 digits with an optional leading + (E.164 length).
PHONE = re.compile(r"\+?\d{5,15}")
MAX_NUMBERS = 3
ID32 = re.compile(r"[0-9A-Fa-f]{32}")
ID36 = re.compile(r"[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}")

STAT_COUNTS = (
    "numberOfHandledCustomers", "numberOfCalls", "numberOfSuccessfulCalls", "numberOfRefusalCalls",
    "numberOfAmountCalls", "numberOfSkipCalls", "numberOfRejectCalls", "numberOfOperLogoutCalls",
    "numberOfNotDialedCalls", "numberOfHangupCalls", "numberOfAbandonedCalls",
)
STAT_TIMES = (
    "amount", "loginTime", "pauseTime", "waitTime", "previewTime", "callTime", "talkingTime", "wrapTime",
)

QUEUES = {
    "63AA93F493A54C5A8597FCFA670B2382": "Test Queue",
    "1F2E3D4C5B6A47988796A5B4C3D2E1F0": "Sales Queue",
}
DIALERS = {  # id -> (dialerName, dialerType)
    "88B8B41C99E6484A94F402EA5E465FC5": ("Campaign Dialer", "CampaignDialer"),
    "4C1D7A9E2B8F4E6A9D3C5B7A1E2F3D4C": ("Queue Dialer", "QueueDialer"),
}
AGENTS = {
    "21A144F1824E4C768868D10201608E2E": "Smith, Kathy",
    "38FFAEA3C2B54CD6BCFBCCF2006C0800": "Jones, Bob",
    "6B818C08D6B543ED8A1FDB45D8BC173F": "Virtanen, Keith",
}


class ObiError(Exception):
    """An error answer in the OBI's shape."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers

    def response(self) -> JSONResponse:
        return JSONResponse({"statusCode": self.status, "error": self.message}, self.status, self.headers)


def invalid(field_name: str, value: Any, reason: str | None = None) -> ObiError:
    """A 400 worded like the reference's "Invalid externalId: 007 : Value is not unique"."""
    return ObiError(400, f"Invalid {field_name}: {value}" + (f" : {reason}" if reason else ""))


class _ObiRoute(APIRoute):
    """Routes that turn ObiError (raised by handlers or the auth dependency) into OBI answers."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except ObiError as exc:
                return exc.response()
            except RequestValidationError as exc:
                return ObiError(400, f"Invalid request: {exc.errors()[0].get('msg', 'malformed')}").response()

        return handle


# --------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def parse_datetime(value: Any, field_name: str) -> datetime:
    """A UTC datetime from ISO text (``Z`` or an offset; naive is UTC), else a 400."""
    if not isinstance(value, str):
        raise invalid(field_name, value)
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"  # Python 3.10's fromisoformat does not read "Z"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise invalid(field_name, value) from None
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)


def normalise_id(value: Any, field_name: str) -> str:
    """An id32 (upper case) from an id32 or id36 GUID, else a 400."""
    text = str(value).strip()
    if ID32.fullmatch(text) or ID36.fullmatch(text):
        return text.replace("-", "").upper()
    raise invalid(field_name, value, "must be an id32 or id36 GUID")


def pattern_matcher(pattern: str) -> Callable[[Any], bool]:
    """Case-insensitive match of the reference's * and ? patterns (nothing else is special)."""
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    compiled = re.compile(regex, re.IGNORECASE | re.DOTALL)
    return lambda value: compiled.fullmatch("" if value is None else str(value)) is not None


def optional_day(query: Any, field_name: str) -> date | None:
    """A day parameter (statistics are cumulated per UTC day: a time of day is ignored)."""
    return parse_datetime(query[field_name], field_name).date() if field_name in query else None


def agent_id_set(query: Any) -> set[str] | None:
    """The comma-separated ``agentId`` parameter as a set of id32s (None when absent)."""
    if not query.get("agentId"):
        return None
    return {normalise_id(agent, "agentId") for agent in query["agentId"].split(",") if agent.strip()}


def parse_bool(value: str | None, field_name: str, default: bool = False) -> bool:
    if value is None:
        return default
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise invalid(field_name, value)


def parse_int(value: Any, field_name: str, minimum: int | None = None, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise invalid(field_name, value)
    try:
        number = int(value)
    except ValueError:
        raise invalid(field_name, value) from None
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise invalid(field_name, value, f"must be between {minimum} and {maximum}")
    return number


def parse_number(value: Any, field_name: str, minimum: float, maximum: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not minimum <= value <= maximum:
        raise invalid(field_name, value, f"must be a number between {minimum} and {maximum}")
    return float(value)


def optional_int(body: dict[str, Any], field_name: str, minimum: int | None = None) -> int | None:
    return None if body.get(field_name) is None else parse_int(body[field_name], field_name, minimum)


def optional_text(body: dict[str, Any], field_name: str) -> str | None:
    value = body.get(field_name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(field_name, value)
    return value


@dataclass(frozen=True)
class SearchSpec:
    """An endpoint's "any fields" search: pattern fields, id fields, and date ranges.

    A range field ``F`` is filtered by ``F`` (values after it) and ``FEnd`` (before it).
    ``own_params`` are the endpoint's other query parameters, parsed by its handler.
    Sandbox choice: any other query parameter is refused with 400 (catches misspelt filters).
    """

    pattern_fields: frozenset[str]
    id_fields: frozenset[str] = frozenset()
    range_fields: tuple[str, ...] = ()
    own_params: frozenset[str] = frozenset()

    def predicate(self, query: Any) -> Callable[[dict[str, Any]], bool]:
        """A test of an item's JSON against the query's filters."""
        checks: list[Callable[[dict[str, Any]], bool]] = []
        ranges = {f: (f, ">") for f in self.range_fields} | {f + "End": (f, "<") for f in self.range_fields}
        for name, value in query.multi_items():
            if name in self.own_params:
                continue
            if name in self.pattern_fields:
                matches = pattern_matcher(value)
                checks.append(lambda item, n=name, m=matches: m(item.get(n)))
            elif name in self.id_fields:
                wanted = normalise_id(value, name)
                checks.append(lambda item, n=name, w=wanted: _same_id(item.get(n), w))
            elif name in ranges:
                item_field, direction = ranges[name]
                bound = parse_datetime(value, name)
                checks.append(lambda item, f=item_field, d=direction, b=bound: _in_range(item.get(f), d, b))
            else:
                raise ObiError(400, f"Invalid search field: {name}")
        return lambda item: all(check(item) for check in checks)


def _same_id(value: str | None, wanted_id32: str) -> bool:
    return (value or "").replace("-", "").upper() == wanted_id32


def _in_range(value: str | None, direction: str, bound: datetime) -> bool:
    if value is None:
        return False
    moment = parse_datetime(value, "date")
    return moment > bound if direction == ">" else moment < bound


CAMPAIGN_SEARCH = SearchSpec(
    pattern_fields=frozenset({"name", "dialerName", "dialingMode", "status", "dialerStatus", "queueName",
                              "customIvrNumber", "total", "handled", "maxCalls", "filtered", "timeZone"}),
    id_fields=frozenset({"dialerId", "queueId"}),
    range_fields=("startDate", "endDate", "registered"),
    own_params=frozenset({"statistics", "statisticsDate", "agentId"}),
)
CUSTOMER_SEARCH = SearchSpec(
    pattern_fields=frozenset({"externalId", "numbers", "result", "callResult", "classifier", "callCount",
                              "lastBNumber", "dialingMode", "previewTime", "priority", "timeZone"}),
    range_fields=("date", "modificationDate"),
    own_params=frozenset({"includeScript", "agentId", "attributeName", "attributeValue", "offset", "limit"}),
)
STATISTICS_SEARCH = SearchSpec(
    pattern_fields=frozenset(),
    id_fields=frozenset({"campaignId", "agentId"}),
    own_params=frozenset({"startDate", "endDate"}),
)


# --------------------------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------------------------


@dataclass
class Customer:
    """A person a campaign calls. ``date`` is when the dialer may call them next."""

    id: str
    external_id: str
    numbers: list[str]
    attributes: list[dict[str, str]]
    date: datetime
    modification_date: datetime
    agent_id: str | None = None
    dialing_mode: str | None = None
    preview_time: int | None = None
    priority: int | None = None
    time_zone: str | None = None
    result: str = NOT_HANDLED
    call_result: str | None = None
    classifier: str | None = None
    call_count: int = 0
    last_b_number: int = 0
    script: dict[str, Any] | None = None

    @property
    def handled(self) -> bool:
        return self.result in FINAL_RESULTS

    @property
    def pending(self) -> bool:
        """Still to be called (or on a call): the campaign is not complete while any is."""
        return self.result in (NOT_HANDLED, DIALING) or self.result in RETRY_RESULTS

    def callable_at(self, now: datetime) -> bool:
        return (self.result == NOT_HANDLED or self.result in RETRY_RESULTS) and self.date <= now

    def to_json(self, include_script: bool = False) -> dict[str, Any]:
        # Attributes in the wrapper form of the reference's examples (what the server emits);
        # the schema's plain array is accepted on input.
        body = {
            "id": self.id,
            "externalId": self.external_id,
            "numbers": ";".join(self.numbers),
            "result": self.result,
            "callResult": self.call_result,
            "classifier": self.classifier,
            "callCount": self.call_count,
            "lastBNumber": self.last_b_number,
            "date": iso(self.date),
            "agentId": self.agent_id,
            "dialingMode": self.dialing_mode,
            "previewTime": self.preview_time,
            "priority": self.priority,
            "modificationDate": iso(self.modification_date),
            "timeZone": self.time_zone,
            "attributes": {"attribute": [dict(a) for a in self.attributes]},
        }
        if include_script and self.script:
            body["script"] = self.script
        return {key: value for key, value in body.items() if value is not None}


@dataclass
class Campaign:
    """An outbound campaign. Counters are computed from its customers on every read."""

    id: str
    name: str
    dialer_id: str
    dialing_mode: str
    queue_id: str
    registered: datetime
    status: str = "Passive"
    dialer_status: str = "PASSIVE"
    remarks: str | None = None
    custom_ivr_number: str | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    time_zone: str | None = None
    abandon_rate: float | None = None
    increase_predictive_ratio: float | None = None
    logged_on: int = 0
    #: Campaign parameter of the reference (default 3: 4 attempts before MAXCALLS); not in the API.
    retry_count: int = 3
    script_name: str | None = None
    customers: dict[str, Customer] = field(default_factory=dict)
    _by_external_id: GrowingIndex = field(
        default_factory=lambda: GrowingIndex(lambda customer: customer.external_id), repr=False, compare=False
    )

    def counters(self, now: datetime) -> dict[str, int]:
        customers = list(self.customers.values())
        handled = sum(c.handled for c in customers)
        return {
            "total": len(customers),
            "handled": handled,
            "notHandled": len(customers) - handled,
            "callable": sum(c.callable_at(now) for c in customers),
            "maxCalls": sum(c.result == MAXCALLS for c in customers),
            "filtered": 0,  # Sandbox choice: no customer filters are simulated.
        }

    def external_id_taken(self, external_id: str) -> bool:
        candidates = self._by_external_id.lookup(self.customers, external_id)
        return any(c.external_id == external_id and self.customers.get(c.id) is c for c in candidates)

    def set_status(self, status: str) -> None:
        self.status, self.dialer_status = status, SETTABLE_STATUSES[status]

    def to_json(self, now: datetime) -> dict[str, Any]:
        dialer_name, dialer_type = DIALERS[self.dialer_id]
        body = {
            "id": self.id,
            "name": self.name,
            "remarks": self.remarks,
            "dialerId": self.dialer_id,
            "dialer": self.dialer_id,
            "dialerName": dialer_name,
            "dialerType": dialer_type,
            "dialingMode": self.dialing_mode,
            "status": self.status,
            "dialerStatus": self.dialer_status,
            "queueId": self.queue_id,
            "queueName": QUEUES.get(self.queue_id),
            "customIvrNumber": self.custom_ivr_number,
            **self.counters(now),
            "startDate": iso(self.start_date),
            "endDate": iso(self.end_date),
            "registered": iso(self.registered),
            "timeZone": self.time_zone,
            "loggedOn": self.logged_on,
            "abandonRate": self.abandon_rate,
            "increasePredictiveRatio": self.increase_predictive_ratio,
        }
        return {key: value for key, value in body.items() if value is not None}


@dataclass
class StatsBucket:
    """One UTC day of one campaign's statistics for one agent (None: the dialer, no agent)."""

    counts: Counter[str] = field(default_factory=Counter)
    customers: set[str] = field(default_factory=set)


StatsKey = tuple[date, str, str | None]  # (day, campaign id, agent id)


def stats_json(buckets: Iterable[tuple[StatsKey, StatsBucket]], *, with_agents: bool) -> dict[str, Any]:
    """The reference's statistics object, summed over ``buckets``."""
    buckets = list(buckets)
    counts: Counter[str] = Counter()
    for _, bucket in buckets:
        counts.update(bucket.counts)
    body: dict[str, Any] = {name: int(counts[name]) for name in STAT_COUNTS}
    body.update({name: round(float(counts[name]), 3) for name in STAT_TIMES})
    body["numberOfCustomers"] = len(set().union(*(bucket.customers for _, bucket in buckets)))
    if with_agents:
        body["numberOfAgents"] = len({agent for (_, _, agent), _ in buckets if agent})
    return body


# --------------------------------------------------------------------------------------------
# The sandbox
# --------------------------------------------------------------------------------------------


class SinchSandbox(VendorSandbox):
    """Sinch Contact Center OBI: campaigns, their customers, and per-day statistics."""

    name: ClassVar[str] = "sinch"
    path_prefix: ClassVar[str] = "/RI/obi"
    #: Sandbox choice for the reference's "recommended maximum 100 ... can vary": above this, 413.
    max_list_size: ClassVar[int] = 1000
    #: Sandbox choice: the largest ``limit`` of a customer page.
    max_page_size: ClassVar[int] = 1000

    # -- state -----------------------------------------------------------------------------------
    def seed_state(self) -> None:
        self.campaigns: dict[str, Campaign] = {}
        self.stats: dict[StatsKey, StatsBucket] = {}
        #: Basic has no login to count; this counts requests that passed auth instead.
        self.authenticated_requests = 0
        self._turn = 0  # round-robin position over campaigns in dial()
        registered = datetime(2024, 3, 1, 8, 0, tzinfo=timezone.utc)
        self._seed_campaign(
            Campaign(id="62718C7889CC44F7B944C1A6F6BE9B7F", name="Spring Renewals", status="Active",
                     dialer_status="OPEN", dialer_id="88B8B41C99E6484A94F402EA5E465FC5",
                     dialing_mode="PROGRESSIVE", queue_id="1F2E3D4C5B6A47988796A5B4C3D2E1F0",
                     registered=registered, time_zone="Europe/Helsinki", logged_on=2,
                     script_name="Renewal Script"),
            [("1001", "+358401234501", "Kathy"), ("1002", "+358401234502;+358401234512", "Bob"),
             ("1003", "+358401234503", "John"), ("1004", "+358401234504", "Keith"),
             ("1005", "+358401234505", "Kate"), ("1006", "+358401234506", "Julie")],
        )
        self._seed_campaign(
            Campaign(id="8A7C98EAF1164F2FAA93B98EECB95D76", name="Test Campaign",
                     dialer_id="4C1D7A9E2B8F4E6A9D3C5B7A1E2F3D4C", dialing_mode="PREDICTIVE",
                     queue_id="63AA93F493A54C5A8597FCFA670B2382", registered=registered,
                     start_date=datetime(2024, 3, 1, tzinfo=timezone.utc),
                     end_date=datetime(2030, 12, 31, tzinfo=timezone.utc), time_zone="Europe/Berlin",
                     abandon_rate=1.0, increase_predictive_ratio=0.0),
            [("2001", "+4930123456701", "Anna"), ("2002", "+4930123456702", "Lukas"),
             ("2003", "+4930123456703", "Mia"), ("2004", "+4930123456704", "Paul")],
        )
        training = self._seed_campaign(
            Campaign(id="E49625CFDF58E311B764005056A7012B", name="Training campaign", status="Handled",
                     dialer_status="COMPLETED", dialer_id="88B8B41C99E6484A94F402EA5E465FC5",
                     dialing_mode="PREVIEW", queue_id="63AA93F493A54C5A8597FCFA670B2382",
                     registered=registered - timedelta(days=30), script_name="Tennis Sales Script"),
            [("7", "951254875;951254876", "Julie"), ("10", "0215428754", "Kathy"),
             ("11", "0215428755", "Tom")],
        )
        # The finished campaign's history, so results and statistics have something to show.
        for customer, outcome in zip(training.customers.values(), (SUCCESS, REFUSAL, NOANSWER)):
            agent = next(iter(AGENTS)) if outcome in FINAL_RESULTS else None
            while customer.pending:
                self._start_call(customer, registered)
                self._settle_call(training, customer, outcome, agent, registered)

    def _seed_campaign(self, campaign: Campaign, people: list[tuple[str, str, str]]) -> Campaign:
        for external_id, numbers, first_name in people:
            customer = Customer(
                id=self.new_id(), external_id=external_id, numbers=numbers.split(";"),
                attributes=[{"name": "First Name", "value": first_name},
                            {"name": "City", "value": "Helsinki"}],
                date=campaign.registered, modification_date=campaign.registered,
            )
            customer.attributes += phone_attributes(customer.numbers)
            campaign.customers[customer.id] = customer
        self.campaigns[campaign.id] = campaign
        return campaign

    def new_id(self) -> str:
        return f"{self.rng.getrandbits(128):032X}"

    def snapshot(self) -> dict[str, Any]:
        now = utcnow()
        return {
            "campaigns": {
                cid: {**c.to_json(now), "retryCount": c.retry_count,
                      "customers": [cust.to_json(include_script=True) for cust in c.customers.values()]}
                for cid, c in self.campaigns.items()
            },
            "statistics": [
                {"day": day.isoformat(), "campaignId": cid, "agentId": agent,
                 **stats_json([((day, cid, agent), bucket)], with_agents=False)}
                for (day, cid, agent), bucket in self.stats.items()
            ],
            "authenticated_requests": self.authenticated_requests,
        }

    # -- dialing simulation ----------------------------------------------------------------------
    def dial(self, contacts: int) -> int:
        """Move up to ``contacts`` customers one step: a call in progress (DIALING) ends with an
        outcome, else the next callable customer of an Active campaign goes to DIALING. An Active
        campaign with customers and none left to call becomes Handled / COMPLETED."""
        moved = 0
        now = utcnow()
        while moved < contacts:
            step = self._next_step(now)
            if step is None:
                break
            campaign, customer = step
            if customer.result == DIALING:
                outcome = self.rng.choices(OUTCOMES, OUTCOME_WEIGHTS)[0]
                agent = self.rng.choice(list(AGENTS)) if outcome in FINAL_RESULTS else None
                self._settle_call(campaign, customer, outcome, agent, now)
            else:
                self._start_call(customer, now)
            moved += 1
        self._complete_finished_campaigns()
        return moved

    def _next_step(self, now: datetime) -> tuple[Campaign, Customer] | None:
        """The next customer to move: calls in progress first (also in campaigns set Passive
        since: a started call still ends), then callable customers of Active campaigns, taking
        campaigns in turn."""
        for campaign in self.campaigns.values():
            for customer in campaign.customers.values():
                if customer.result == DIALING:
                    return campaign, customer
        active = [c for c in self.campaigns.values() if c.status == "Active"]
        for offset in range(len(active)):
            campaign = active[(self._turn + offset) % len(active)]
            customer = next((c for c in campaign.customers.values() if c.callable_at(now)), None)
            if customer is not None:
                self._turn = (self._turn + offset + 1) % len(active)
                return campaign, customer
        return None

    @staticmethod
    def _start_call(customer: Customer, now: datetime) -> None:
        customer.call_count += 1
        customer.last_b_number = (customer.call_count - 1) % len(customer.numbers)
        customer.result = DIALING
        customer.modification_date = now

    def _settle_call(self, campaign: Campaign, customer: Customer, outcome: str, agent: str | None,
                     now: datetime) -> None:
        """End a customer's call with ``outcome``: result, retry or MAXCALLS, script, statistics."""
        exhausted = outcome in RETRY_RESULTS and customer.call_count >= campaign.retry_count + 1
        customer.call_result = outcome
        customer.result = MAXCALLS if exhausted else outcome
        customer.classifier = CLASSIFIERS.get(outcome)
        customer.modification_date = now
        # Sandbox choice: a BUSY/NOANSWER customer may be called again at once (no retry delay).
        customer.date = now if customer.pending else NEVER
        if agent:
            customer.agent_id = agent
            if campaign.script_name:
                answer = "yes" if outcome == SUCCESS else "no"
                customer.script = {"name": campaign.script_name,
                                   "answers": [{"question": "Would you like to renew?", "answer": answer}]}
        self._record_call(now.date(), campaign, customer, outcome, agent)

    def _record_call(self, day: date, campaign: Campaign, customer: Customer, outcome: str,
                     agent: str | None) -> None:
        bucket = self.stats.setdefault((day, campaign.id, agent), StatsBucket())
        talked = outcome in FINAL_RESULTS
        bucket.counts.update({
            "numberOfCalls": 1,
            "numberOfHandledCustomers": int(customer.handled),
            "numberOfSuccessfulCalls": int(talked),  # the reference: "SUCCESS and REFUSAL calls"
            "numberOfRefusalCalls": int(outcome == REFUSAL),
            "callTime": self.rng.uniform(5, 30),
            "talkingTime": self.rng.uniform(30, 300) if talked else 0.0,
            "wrapTime": self.rng.uniform(10, 60) if talked else 0.0,
            "previewTime": self.rng.uniform(5, 20) if talked and campaign.dialing_mode == "PREVIEW" else 0.0,
        })
        bucket.customers.add(customer.id)

    def _complete_finished_campaigns(self) -> None:
        for campaign in self.campaigns.values():
            customers = campaign.customers.values()
            if campaign.status == "Active" and customers and not any(c.pending for c in customers):
                campaign.status, campaign.dialer_status = "Handled", "COMPLETED"

    # -- auth and content negotiation -------------------------------------------------------------
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

    @staticmethod
    def _require_accept(request: Request, *produced: str) -> None:
        """406 unless the client accepts one of ``produced`` (the sandbox speaks no XML)."""
        accept = request.headers.get("accept", "*/*")
        ranges = {part.split(";")[0].strip().lower() for part in accept.split(",")}
        acceptable = {"*/*", *produced, *(p.split("/")[0] + "/*" for p in produced)}
        if not ranges & acceptable:
            raise ObiError(406, f"Not acceptable: {accept}; this server answers {' or '.join(produced)}")

    @staticmethod
    async def _body(request: Request, media_type: str) -> bytes:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != media_type:
            raise ObiError(415, f"Unsupported media type: {content_type or 'none'}; send {media_type}")
        return await request.body()

    async def _json_body(self, request: Request) -> Any:
        try:
            return json.loads(await self._body(request, JSON))
        except ValueError as exc:
            raise ObiError(400, f"Invalid JSON: {exc}") from None

    # -- lookups -------------------------------------------------------------------------------
    def _campaign(self, campaign_id: str) -> Campaign:
        campaign = self.campaigns.get(normalise_id(campaign_id, "campaignId"))
        if campaign is None:
            raise ObiError(404, f"Campaign not found: {campaign_id}")
        return campaign

    def _customer(self, campaign: Campaign, customer_id: str) -> Customer:
        customer = campaign.customers.get(normalise_id(customer_id, "customerId"))
        if customer is None:
            raise ObiError(404, f"Customer not found: {customer_id}")
        return customer

    # -- validation ----------------------------------------------------------------------------
    def _new_customer(self, campaign: Campaign, raw: Any, batch_external_ids: set[str]) -> Customer:
        """A validated customer from a POST body item (not yet added). ``id`` in the body is
        ignored: "Added by the system"."""
        if not isinstance(raw, dict):
            raise ObiError(400, "Invalid customer: expected a JSON object")
        attributes = parse_attributes(raw.get("attributes"))
        numbers = parse_numbers(raw.get("numbers"), attributes)
        if raw.get("numbers") not in (None, ""):  # given numbers replace the Phone attributes
            attributes = [a for a in attributes if a["name"] not in PHONE_ATTRIBUTES]
            attributes += phone_attributes(numbers)
        customer_id = self.new_id()
        external_id = raw.get("externalId")
        if external_id in (None, ""):
            external_id = customer_id  # "If externalId is not given, it is generated by the system."
        external_id = str(external_id)
        if campaign.external_id_taken(external_id) or external_id in batch_external_ids:
            raise invalid("externalId", external_id, "Value is not unique")
        dialing_mode = optional_text(raw, "dialingMode")
        if dialing_mode is not None and dialing_mode not in CUSTOMER_DIALING_MODES:
            raise invalid("dialingMode", dialing_mode)
        now = utcnow()
        return Customer(
            id=customer_id,
            external_id=external_id,
            numbers=numbers,
            attributes=attributes,
            date=parse_datetime(raw["date"], "date") if raw.get("date") is not None else now,
            modification_date=now,
            agent_id=normalise_id(raw["agentId"], "agentId") if raw.get("agentId") else None,
            dialing_mode=dialing_mode,
            preview_time=optional_int(raw, "previewTime", minimum=0),
            priority=optional_int(raw, "priority"),
            time_zone=optional_text(raw, "timeZone"),
        )

    @staticmethod
    def _campaign_settings(body: Any) -> dict[str, Any]:
        """Validated settings of ``PUT /campaigns/{id}``: all of them, as the update replaces all."""
        if not isinstance(body, dict):
            raise ObiError(400, "Invalid campaign: expected a JSON object")
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise invalid("name", name, "Value is required")
        if body.get("dialingMode") not in CAMPAIGN_DIALING_MODES:
            raise invalid("dialingMode", body.get("dialingMode"))
        queue_id = body.get("queueId")
        if not isinstance(queue_id, str) or not ID32.fullmatch(queue_id) or queue_id.upper() not in QUEUES:
            raise invalid("queueId", queue_id, "no such queue")

        def optional(field_name: str, parse: Callable[[Any], Any]) -> Any:
            return None if body.get(field_name) is None else parse(body[field_name])

        return {
            "name": name,
            "remarks": optional_text(body, "remarks"),
            "dialing_mode": body["dialingMode"],
            "queue_id": queue_id.upper(),
            "custom_ivr_number": optional_text(body, "customIvrNumber"),
            "start_date": optional("startDate", lambda v: parse_datetime(v, "startDate")),
            "end_date": optional("endDate", lambda v: parse_datetime(v, "endDate")),
            "time_zone": optional_text(body, "timeZone"),
            "abandon_rate": optional("abandonRate", lambda v: parse_number(v, "abandonRate", 0.0, 2.0)),
            "increase_predictive_ratio": optional(
                "increasePredictiveRatio", lambda v: parse_number(v, "increasePredictiveRatio", 0.0, 100.0)),
        }

    # -- statistics ----------------------------------------------------------------------------
    def _campaign_stats(
        self, campaign: Campaign, day: date | None, agents: set[str] | None
    ) -> dict[str, Any]:
        """The ``stats`` of ``GET /campaigns?statistics=true``: ``total`` (unless a day was asked
        for) and ``daily`` (today, or ``day``), each only when there are statistics."""
        mine = [(key, b) for key, b in self.stats.items()
                if key[1] == campaign.id and (agents is None or key[2] in agents)]
        daily_day = day or utcnow().date()
        stats = {}
        if mine and day is None:
            stats["total"] = stats_json(mine, with_agents=True)
        today = [(key, b) for key, b in mine if key[0] == daily_day]
        if today:
            stats["daily"] = stats_json(today, with_agents=True)
        return stats

    def _statistics_rows(self, first: date | None, last: date | None) -> list[dict[str, Any]]:
        """``GET /statistics`` rows: per campaign and agent, summed over the days asked for."""
        groups: dict[tuple[str, str | None], list[tuple[StatsKey, StatsBucket]]] = {}
        for key, bucket in self.stats.items():
            day, campaign_id, agent = key
            if (first is None or day >= first) and (last is None or day <= last):
                groups.setdefault((campaign_id, agent), []).append((key, bucket))
        return [
            {**stats_json(buckets, with_agents=False), "campaignId": campaign_id,
             "campaignName": self.campaigns[campaign_id].name if campaign_id in self.campaigns else None,
             "agentId": agent, "agentName": AGENTS.get(agent) if agent else None}
            for (campaign_id, agent), buckets in groups.items()
        ]

    # -- routes ----------------------------------------------------------------------------------
    def build_router(self) -> APIRouter:
        router = APIRouter(prefix=self.path_prefix, route_class=_ObiRoute, tags=[REALM],
                           dependencies=[Depends(self._authenticate)])

        @router.get("/campaigns")
        async def list_campaigns(request: Request) -> Response:
            self._require_accept(request, JSON)
            query = request.query_params
            matches = CAMPAIGN_SEARCH.predicate(query)
            statistics = parse_bool(query.get("statistics"), "statistics")
            day = optional_day(query, "statisticsDate")
            agents = agent_id_set(query)
            now = utcnow()
            answer = []
            for campaign in self.campaigns.values():
                item = campaign.to_json(now)
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
            self._require_accept(request, JSON)
            return JSONResponse(self._campaign(campaign_id).to_json(utcnow()))

        @router.put("/campaigns/{campaign_id}")
        async def update_campaign(campaign_id: str, request: Request) -> Response:
            campaign = self._campaign(campaign_id)
            settings = self._campaign_settings(await self._json_body(request))
            for attribute, value in settings.items():
                setattr(campaign, attribute, value)
            return Response(status_code=204)

        @router.put("/campaigns/{campaign_id}/status")
        async def set_status(campaign_id: str, request: Request) -> Response:
            campaign = self._campaign(campaign_id)
            status = (await self._body(request, TEXT)).decode(errors="replace").strip()
            if status not in SETTABLE_STATUSES:
                raise invalid("status", status, "Value can be one of Passive, Active")
            campaign.set_status(status)
            return Response(status_code=204)

        @router.get("/campaigns/{campaign_id}/customerResultStatistics")
        async def customer_result_statistics(campaign_id: str, request: Request) -> Response:
            self._require_accept(request, JSON)
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
            self._require_accept(request, JSON)
            campaign = self._campaign(campaign_id)
            query = request.query_params
            matches = CUSTOMER_SEARCH.predicate(query)
            include_script = parse_bool(query.get("includeScript"), "includeScript")
            offset = parse_int(query.get("offset", "0"), "offset", 0)
            limit = parse_int(query.get("limit", "100"), "limit", 1, self.max_page_size)
            agents = agent_id_set(query)
            has_attribute = attribute_filter(query.get("attributeName"), query.get("attributeValue"))
            found = [
                c.to_json(include_script) for c in campaign.customers.values()
                if (agents is None or c.agent_id in agents) and has_attribute(c)
            ]
            found = [item for item in found if matches(item)]
            return JSONResponse(found[offset:offset + limit])

        @router.post("/campaigns/{campaign_id}/customers", status_code=201)
        async def add_customer(campaign_id: str, request: Request) -> Response:
            self._require_accept(request, HTML, TEXT)
            campaign = self._campaign(campaign_id)
            customer = self._new_customer(campaign, await self._json_body(request), set())
            campaign.customers[customer.id] = customer
            location = str(request.url_for("get_customer", campaign_id=campaign.id, customer_id=customer.id))
            return Response(customer.id, status_code=201, media_type=HTML, headers={"Location": location})

        @router.get("/campaigns/{campaign_id}/customers/{customer_id}")
        async def get_customer(campaign_id: str, customer_id: str, request: Request) -> Response:
            self._require_accept(request, JSON)
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
            self._require_accept(request, JSON, HTML)
            campaign = self._campaign(campaign_id)
            stop_flag = "stopProcessIfInvalidEntriesFound"
            stop_if_invalid = parse_bool(request.query_params.get(stop_flag), stop_flag)
            items = await self._json_body(request)
            if not isinstance(items, list):
                raise ObiError(400, "Invalid customers: expected a JSON array")
            if len(items) > self.max_list_size:
                raise ObiError(
                    413, f"Too many customers: {len(items)} (at most {self.max_list_size} per request)"
                )
            return JSONResponse(self._add_customer_list(campaign, items, stop_if_invalid))

        @router.get("/statistics")
        async def statistics(request: Request) -> Response:
            self._require_accept(request, JSON)
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
                customer = self._new_customer(campaign, raw, batch_external_ids)
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


# --------------------------------------------------------------------------------------------
# Customer fields
# --------------------------------------------------------------------------------------------

PHONE_ATTRIBUTES = ("Phone1", "Phone2", "Phone3")


def phone_attributes(numbers: list[str]) -> list[dict[str, str]]:
    """"attributes Phone1, Phone2 and Phone3 are created based on numbers property"."""
    return [{"name": name, "value": number} for name, number in zip(PHONE_ATTRIBUTES, numbers)]


def parse_attributes(value: Any) -> list[dict[str, str]]:
    """Attributes in either documented form: the schema's array or ``{"attribute": [...]}``."""
    if value is None:
        return []
    if isinstance(value, dict) and set(value) == {"attribute"}:
        value = value["attribute"] if isinstance(value["attribute"], list) else [value["attribute"]]
    def well_formed(item: Any) -> bool:
        return isinstance(item, dict) and all(isinstance(item.get(key), str) for key in ("name", "value"))

    if not isinstance(value, list) or not all(well_formed(item) for item in value):
        raise invalid("attributes", "expected a list of {name, value} strings")
    return [{"name": a["name"], "value": a["value"]} for a in value]


def parse_numbers(numbers: Any, attributes: list[dict[str, str]]) -> list[str]:
    """The customer's numbers: from ``numbers`` (";"-separated, a trailing ";" allowed as in the
    reference's example), else from attributes Phone1..Phone3 (Phone1 required)."""
    if numbers in (None, ""):
        by_name = {a["name"]: a["value"] for a in attributes}
        if not by_name.get("Phone1"):
            raise invalid("numbers", "''", "numbers or attribute Phone1 is required")
        numbers = ";".join(by_name[name] for name in PHONE_ATTRIBUTES if by_name.get(name))
    if not isinstance(numbers, str):
        raise invalid("numbers", f"'{numbers}'")
    parts = [part.strip() for part in numbers.split(";") if part.strip()]
    if not 1 <= len(parts) <= MAX_NUMBERS or not all(PHONE.fullmatch(part) for part in parts):
        raise invalid("numbers", f"'{numbers}'")
    return parts


def attribute_filter(name: str | None, value: str | None) -> Callable[[Customer], bool]:
    """The ``attributeName``/``attributeValue`` search (patterns, case-insensitive)."""
    if value is not None and name is None:
        raise invalid(
            "attributeValue", value, "attributeName parameter is mandatory when attributeValue is given"
        )
    if name is None:
        return lambda customer: True
    name_matches = pattern_matcher(name)
    value_matches = pattern_matcher(value) if value is not None else (lambda _: True)
    return lambda customer: any(
        name_matches(a["name"]) and value_matches(a["value"]) for a in customer.attributes
    )


__all__ = ["SinchSandbox"]
