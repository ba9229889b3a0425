"""The simulated Ameyo server's data model: campaigns, leads, customers, callbacks; the seed; the
rules that change them (upsert by ``phone1``, churn, callbacks); and the dialing simulation."""

from __future__ import annotations

import time
from typing import Any

from airflow_provider_dialers.sandbox.ameyo.validation import (
    SUCCESS_TYPES,
    Failed,
    _bool,
    _int,
    format_answer_time,
    parse_ameyo_time,
    record_problem,
)
from airflow_provider_dialers.sandbox.core import GrowingIndex, VendorSandbox

#: Sandbox decision: outcomes of one simulated call attempt, with weights.
DIAL_OUTCOMES: tuple[tuple[str, int], ...] = (
    ("CONNECTED", 35), ("NO_ANSWER", 25), ("BUSY", 15), ("CALL_DROP", 5), ("CALL_HANGUP", 5), ("AMD", 5),
    ("ATTEMPT_FAILED", 5), ("NUMBER_TEMP_FAILURE", 5),
)
DISPOSITIONS = ("Sale", "Not Interested", "Foreign Language")
CALLBACK_ID_PREFIX = "d431-54f54717-cm"  # the reference's callback id form


def _now() -> str:
    """Sandbox decision: the server's clock is UTC (the connections' default ``timezone`` extra)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())


class AmeyoState(VendorSandbox):
    """Ameyo's state and the rules that change it; the commands are :class:`~.routes.AmeyoSandbox`'s."""

    name = "ameyo"
    path_prefix = "/ameyowebaccess"

    # -- state -----------------------------------------------------------------------------------
    def seed_state(self) -> None:
        # Campaigns, leads and the first customer are the reference's examples.
        # Sandbox decision: "running" campaigns are dialed; the inbound one is not.
        self.campaigns: dict[int, dict[str, Any]] = {
            campaign_id: {"campaignId": campaign_id, "campaignName": name, "campaignType": kind,
                          "running": running}
            for campaign_id, name, kind, running in (
                (1, "MoviStarSurvey", "Outbound Voice Campaign", True),
                (5, "MOSL_Frenchise", "Interactive Voice Application", True),
                (10, "TestInbound", "Interactive Voice Application", False),
            )
        }
        self.leads: dict[int, dict[str, Any]] = {}
        for lead_id, campaign_id, enabled, max_attempt in (
            (1, 1, True, 10), (35, 1, False, 10), (21, 1, True, 10), (39, 1, True, 10),
            (51, 5, True, 3), (100, 10, True, 10),
        ):
            self.leads[lead_id] = {
                "id": lead_id, "campaignId": campaign_id, "leadId": lead_id, "priority": 1, "weightage": 1,
                "enabled": enabled, "maxAttempt": max_attempt, "churnCount": 0,
                "fetchOrderDetails": [{"ascending": False}],
            }
        self.customers: dict[int, dict[str, Any]] = {}
        # Customers are never deleted, and phone1 (the dedupe key) never changes once stored.
        self._by_campaign_phone = GrowingIndex(lambda c: (c["campaignId"], c["customerData"].get("phone1")))
        self.callbacks: dict[str, dict[str, Any]] = {}
        self._next_callback = 1
        self._session_seq = 0
        for customer_id, lead_id, data in (
            (12458, 1, {"region": "REGIÓN 4", "login": "504089", "phone1": "0458681166572"}),
            (12459, 1, {"phone1": "9810000001", "name": "Asha"}),
            (12460, 21, {"phone1": "9810000002", "name": "Ravi"}),
            (12461, 21, {"phone1": "9810000003", "name": "Meera"}),
            (12462, 35, {"phone1": "9810000004", "name": "Kabir"}),
            (12470, 51, {"phone1": "9820000001", "name": "Ivy"}),
            (12471, 51, {"phone1": "9820000002", "name": "Omar"}),
            (12480, 100, {"phone1": "9830000001", "name": "Lena"}),
        ):
            self._add_customer(customer_id, self.leads[lead_id]["campaignId"], lead_id, data)
        self.customers[12458]["columns"].update(status="BUSY", attempts=5, num_outbound_attempted=5)
        self._next_customer_id = 17821  # the reference's first uploaded customerId

    def _add_customer(self, customer_id: int, campaign_id: int, lead_id: int, data: dict[str, Any],
                      status: str | None = None, attempts: int | None = None) -> dict[str, Any]:
        columns: dict[str, Any] = {
            "status": status or "NOT_TRIED", "attempts": attempts or 0, "churn_count": 0,
            "num_inbound_attempted": 0, "num_outbound_attempted": 0, "num_inbound_connected": 0,
            "num_outbound_connected": 0,
        }
        customer = {"customerId": customer_id, "campaignId": campaign_id, "leadId": lead_id,
                    "customerData": dict(data), "columns": columns, "validityTime": None,
                    "dateModified": _now()}
        self.customers[customer_id] = customer
        return customer

    def snapshot(self) -> dict[str, Any]:
        return {
            "campaigns": list(self.campaigns.values()),
            "leads": list(self.leads.values()),
            "customers": list(self.customers.values()),
            "callbacks": list(self.callbacks.values()),
            "active_sessions": self.credentials.active(self.name),
        }

    # -- lookups shared by the commands -----------------------------------------------------------------
    def _campaign_id(self, value: Any) -> int:
        campaign_id = _int(value)
        if campaign_id not in self.campaigns:
            raise Failed("CustomerManager.invalid.campaign.id", value)
        return campaign_id

    def _lead_id(self, campaign_id: int, value: Any) -> int:
        lead_id = _int(value)
        if lead_id is None or self.leads.get(lead_id, {}).get("campaignId") != campaign_id:
            raise Failed("CustomerManager.lead.not.in.camp.11", value, campaign_id)
        return lead_id

    def _find_by_phone(self, campaign_id: int, phone: str) -> dict[str, Any] | None:
        candidates = self._by_campaign_phone.lookup(self.customers, (campaign_id, phone))
        return next((c for c in candidates
                     if c["campaignId"] == campaign_id and c["customerData"].get("phone1") == phone), None)

    # -- customers --------------------------------------------------------------------------------------
    def _upsert(self, campaign_id: int, lead_id: int, record: Any, properties: dict[str, Any],
                status: str | None, attempts: int | None, validity: str | None = None
                ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """Add, update or migrate one customer (deduplicated by phone1 within the campaign).
        Returns the record's result and the customer it was applied to (None if it was not)."""
        problem = record_problem(record)
        if problem:
            result_type, exception = problem
            return {"inserted": False, "exception": exception, "resultTypeString": result_type,
                    "crmIntegrated": False, "crmSuccess": False}, None
        existing = self._find_by_phone(campaign_id, str(record["phone1"]))
        update, migrate = _bool(properties.get("update.customer")), _bool(properties.get("migrate.customer"))
        if existing is None:
            customer = self._add_customer(
                self._next_customer_id, campaign_id, lead_id, record, status, attempts
            )
            self._next_customer_id += 1
            result_type = "ADDED"
        else:
            customer = existing
            moves = migrate and existing["leadId"] != lead_id
            if not update and not moves:
                return self._result("DUPLICATE_NOT_ADDED", existing), None
            if update:
                customer["customerData"].update(record)
                if status:
                    self._churn(customer, status, attempts)
            if moves:
                customer["leadId"] = lead_id
            result_type = "UPDATED_AND_MIGRATED" if update and moves else "UPDATED" if update else "MIGRATED"
            customer["dateModified"] = _now()
        if validity:
            customer["validityTime"] = validity
        return self._result(result_type, customer), customer

    @staticmethod
    def _result(result_type: str, customer: dict[str, Any]) -> dict[str, Any]:
        # Sandbox decision: no CRM is integrated, so crmIntegrated/crmSuccess are false.
        return {"inserted": result_type in SUCCESS_TYPES, "customerId": customer["customerId"],
                "resultTypeString": result_type, "crmIntegrated": False, "crmSuccess": False}

    @staticmethod
    def _churn(customer: dict[str, Any], status: str, attempts: int | None) -> None:
        """An update with a target status puts the customer back in the dialing queue."""
        columns = customer["columns"]
        columns["last_churn_2"] = columns.get("last_churn_1")
        columns["last_churn_1"] = columns["status"]
        columns["last_churn_date"] = _now()
        columns["churn_count"] += 1
        columns["status"] = status
        columns["attempts"] = attempts or 0

    # -- callbacks -----------------------------------------------------------------------------------------
    def _new_callback(self, campaign_id: int, when: Any, *, self_callback: bool, user_id: Any,
                      phone: Any, customer_id: Any, handler: Any = None) -> dict[str, Any]:
        """Schedule a callback (addCallback and uploadContactAndAddCallback share the rules)."""
        if when in (None, ""):  # "Not nullable"
            raise Failed("CustomerManager.callBackTime.cannot.be.null")
        moment = parse_ameyo_time(when)
        if moment is None:
            raise Failed("CustomerManager.invalid.callBackTime", when)
        customer = None
        if customer_id not in (None, ""):
            customer = self.customers.get(_int(customer_id) or -1)
            if customer is None or customer["campaignId"] != campaign_id:
                raise Failed("CustomerManager.customer.not.found", customer_id)
        phone = phone or (customer["customerData"].get("phone1") if customer else None)
        if not phone:
            raise Failed("CustomerManager.callBackPhone.cannot.be.null")
        callback_id = f"{CALLBACK_ID_PREFIX}-{self._next_callback}"
        self._next_callback += 1
        callback = {
            "id": callback_id, "campaignId": campaign_id, "callBackTime": format_answer_time(moment),
            "selfCallback": self_callback, "userId": user_id, "phone": str(phone),
            "customerId": customer["customerId"] if customer else None, "callBackHandlerType": handler,
            # Sandbox bookkeeping: when it falls due (server time) and whether the dialer made it.
            "due": moment.strftime("%Y-%m-%d %H:%M:%S"), "dialled": False,
        }
        self.callbacks[callback_id] = callback
        return callback

    # -- dialing -------------------------------------------------------------------------------------------
    def _pending(self) -> list[dict[str, Any]]:
        """Customers still to dial: running campaign, enabled lead, not CONNECTED, attempts left, and
        no callback waiting for them (a scheduled callback is the customer's next call)."""
        waiting = {c["customerId"] for c in self.callbacks.values() if not c["dialled"]}
        pending = []
        for customer in sorted(self.customers.values(), key=lambda c: c["customerId"]):
            lead = self.leads[customer["leadId"]]
            columns = customer["columns"]
            if (self.campaigns[customer["campaignId"]]["running"] and lead["enabled"]
                    and columns["status"] != "CONNECTED" and columns["attempts"] < lead["maxAttempt"]
                    and customer["customerId"] not in waiting):
                pending.append(customer)
        return pending

    def _due_callbacks(self) -> list[dict[str, Any]]:
        """Callbacks of running campaigns whose time has come and which the dialer has not made yet."""
        now = _now()
        return [c for c in self.callbacks.values()
                if not c["dialled"] and c["due"] <= now and self.campaigns[c["campaignId"]]["running"]]

    def dial(self, contacts: int) -> int:
        """Make up to ``contacts`` call attempts: due callbacks first (each calls its customer once,
        whatever its status or attempts: a callback is a call asked for, so a customer the dialer had
        finished with is dialled again), then one per pending customer per round (round robin), until
        every customer is CONNECTED or has used its lead's maxAttempt. Returns attempts made."""
        made = 0
        for callback in self._due_callbacks()[:contacts]:
            callback["dialled"] = True
            customer = self.customers.get(callback["customerId"]) if callback["customerId"] is not None else None
            if customer is not None:
                self._attempt(customer)
            made += 1
        while made < contacts:
            pending = self._pending()
            if not pending:
                break
            for customer in pending[: contacts - made]:
                self._attempt(customer)
                made += 1
        return made

    def _attempt(self, customer: dict[str, Any]) -> None:
        outcome = self.rng.choices([o for o, _ in DIAL_OUTCOMES], weights=[w for _, w in DIAL_OUTCOMES])[0]
        columns = customer["columns"]
        now = _now()
        columns["attempts"] += 1
        columns["num_outbound_attempted"] += 1
        columns["status"] = outcome
        columns["last_dialed"] = columns["last_dialed_time"] = now
        history = (("last_status", outcome), ("last_dialed_number", customer["customerData"]["phone1"]),
                   ("last_dialed_time", now))
        for prefix, value in history:
            for n in (4, 3, 2):  # keep the last four attempts, newest in _1
                columns[f"{prefix}_{n}"] = columns.get(f"{prefix}_{n - 1}")
            columns[f"{prefix}_1"] = value
        if outcome == "CONNECTED":
            columns["num_outbound_connected"] += 1
            columns["last_connected_time"] = now
            columns["disposition"] = columns["last_disposition_1"] = self.rng.choice(DISPOSITIONS)
            columns["last_user_id"] = columns["last_user_id_1"] = "agent"
        customer["dateModified"] = now
