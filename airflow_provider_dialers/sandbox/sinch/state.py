"""Sinch OBI sandbox state: the data model, the seeded campaigns and the dialing simulation.

Campaigns hold their customers; counters are computed from the customers on every read, and
statistics are kept per UTC day, campaign and agent (:class:`StatsBucket`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from airflow_provider_dialers.sandbox.core import GrowingIndex, VendorSandbox

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


# --------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


PHONE_ATTRIBUTES = ("Phone1", "Phone2", "Phone3")


def phone_attributes(numbers: list[str]) -> list[dict[str, str]]:
    """"attributes Phone1, Phone2 and Phone3 are created based on numbers property"."""
    return [{"name": name, "value": number} for name, number in zip(PHONE_ATTRIBUTES, numbers)]


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

    def counters(self, now: datetime, not_handled_scope: str = "includes") -> dict[str, int]:
        """The counters; ``notHandled`` includes MAXCALLS and filtered customers or excludes them, as
        the ``sinch_not_handled_scope`` reading says (sandbox/sinch/readings.py)."""
        customers = list(self.customers.values())
        handled = sum(c.handled for c in customers)
        max_calls, filtered = sum(c.result == MAXCALLS for c in customers), 0  # Sandbox choice: no filters
        not_handled = len(customers) - handled
        if not_handled_scope == "excludes":
            not_handled -= max_calls + filtered
        return {
            "total": len(customers),
            "handled": handled,
            "notHandled": not_handled,
            "callable": sum(c.callable_at(now) for c in customers),
            "maxCalls": max_calls,
            "filtered": filtered,
        }

    def external_id_taken(self, external_id: str) -> bool:
        candidates = self._by_external_id.lookup(self.customers, external_id)
        return any(c.external_id == external_id and self.customers.get(c.id) is c for c in candidates)

    def set_status(self, status: str) -> None:
        self.status, self.dialer_status = status, SETTABLE_STATUSES[status]

    def to_json(self, now: datetime, not_handled_scope: str = "includes") -> dict[str, Any]:
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
            **self.counters(now, not_handled_scope),
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
# The state of the sandbox: seeding, snapshot, dialing simulation and statistics
# --------------------------------------------------------------------------------------------


class SinchState(VendorSandbox):
    """The OBI's campaigns, their customers and per-day statistics, and how the dialer moves them.

    The routes (``routes.SinchSandbox``) read and change this state on every request.
    """

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
                cid: {**c.to_json(now, self.reading("sinch_not_handled_scope")), "retryCount": c.retry_count,
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

