"""Simulated Ameyo Customer Manager API: ``POST /ameyowebaccess/command`` (form fields ``command``
and ``data``), as in the Ameyo Customer Manager API reference (document 20180329005).

Errors come back with HTTP 200 in the reference's shapes. Where the reference is silent the
choices are marked "Sandbox decision" (and listed in the README's vendor section).
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response

from airflow_provider_dialers.sandbox.core import GrowingIndex, VendorSandbox

TABLE_ALIAS = "__campaign_customer_table_alias__"
#: getContacts "otherColumns" the reference documents (4.6.2).
OTHER_COLUMNS = frozenset(
    {"attempts", "last_dialed", "status", "last_churn_1", "last_churn_2", "disposition", "last_churn_date",
     "churn_count", "last_user_id", "num_inbound_attempted", "num_outbound_attempted",
     "num_inbound_connected", "num_outbound_connected", "last_connected_time", "last_dialed_time"}
    | {f"{prefix}_{n}" for prefix in ("last_status", "last_disposition", "last_user_id", "last_dialed_number",
                                      "last_dialed_time") for n in range(1, 5)}
)
#: Call statuses of the reference (4.6.3), plus NOT_TRIED (a customer not dialed yet).
STATUSES = frozenset(
    {"NOT_TRIED", "BUSY", "NO_ANSWER", "CONNECTED", "CALL_DROP", "CALL_HANGUP", "AMD", "ATTEMPT_FAILED",
     "TRANSFERRED_TO_CAMPAIGN", "CALL_NOT_PICKED", "NUMBER_FAILURE", "NUMBER_TEMP_FAILURE",
     "PROVIDER_FAILURE", "PROVIDER_TEMP_FAILURE", "SYSTEM_ERROR", "FAILED", "SIT_INTERCEPT", "SIT_VACANT",
     "SIT_NOCIRCUIT", "SIT_REORDER"}
)
#: Sandbox decision: outcomes of one simulated call attempt, with weights.
DIAL_OUTCOMES: tuple[tuple[str, int], ...] = (
    ("CONNECTED", 35), ("NO_ANSWER", 25), ("BUSY", 15), ("CALL_DROP", 5), ("CALL_HANGUP", 5), ("AMD", 5),
    ("ATTEMPT_FAILED", 5), ("NUMBER_TEMP_FAILURE", 5),
)
DISPOSITIONS = ("Sale", "Not Interested", "Foreign Language")
MAX_PHONE_LENGTH = 20  # login's maxPhoneLengthAllowed
MIN_PHONE_LENGTH = 4  # Sandbox decision: the reference gives no lower bound
SUCCESS_TYPES = frozenset({"ADDED", "UPDATED", "MIGRATED", "UPDATED_AND_MIGRATED"})
#: Sandbox decision: these commands answer ``text/plain`` (JSON inside, UTF-8, no charset), as
#: some Ameyo versions do; the others answer application/json.
TEXT_PLAIN_COMMANDS = frozenset({"login", "getContacts", "getLeadsForCampaign"})
CALLBACK_ID_PREFIX = "d431-54f54717-cm"  # the reference's callback id form


class Failed(Exception):
    """A command refused with the reference's ``{"result": "Failed.", "comment": [code, args...]}``."""

    def __init__(self, code: str, *args: Any) -> None:
        super().__init__(code)
        self.comment = [code, *args]


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _bool(value: Any) -> bool:
    return value.strip().lower() == "true" if isinstance(value, str) else bool(value)


def _now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S")


def parse_ameyo_time(text: Any) -> datetime | None:
    """``YYYY-MM-DD HH:MM:SS`` with an optional zone word (``... IST``), or the reference's
    space-less ``2016-08-2716:23:00``."""
    if not isinstance(text, str):
        return None
    match = re.fullmatch(r"\s*(\d{4}-\d{2}-\d{2})\s*(\d{2}:\d{2}:\d{2})(?:\s+[A-Za-z+\-:0-9]+)?\s*", text)
    if not match:
        return None
    try:
        return datetime.strptime(f"{match[1]} {match[2]}", "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None


def format_answer_time(moment: datetime) -> str:
    """The answers' form: ``Mar 3, 2015 1:07:26 PM``."""
    return f"{moment:%b} {moment.day}, {moment.year} {int(moment.strftime('%I'))}:{moment:%M:%S %p}"


def _phone_problem(column: str, value: Any) -> tuple[str, list[Any]] | None:
    """(resultTypeString, exception) for an unusable phone column, None when it is fine."""
    text = "" if value is None else str(value).strip()
    if not text:
        return "PREPROCESSOR_NOT_NULLABLE_COLUMN_GIVEN_NULL", [
            "CustomerManager.Column.name.cannot.be.missing.empty", column]
    digits = text[1:] if text.startswith("+") else text
    if not digits.isdigit():
        return "INVALID_RECORD_FAILED", ["CustomerManager.Phone.number.is.invalid", column]
    if not MIN_PHONE_LENGTH <= len(digits) <= MAX_PHONE_LENGTH:
        return "PREPROCESSING_INVALID_LENGTH", [
            "CustomerManager.Phone.number.does.not.have.valid.length", len(digits)]
    return None


def record_problem(record: Any) -> tuple[str, list[Any]] | None:
    """Validation of one customer record: phone1 is not nullable; every phoneN needs 4..20 digits."""
    if not isinstance(record, dict):
        return "INVALID_RECORD_FAILED", ["CustomerManager.customer.record.is.invalid"]
    columns = ["phone1"] + sorted(c for c in record if re.fullmatch(r"phone\d+", c) and c != "phone1")
    for column in columns:
        if column == "phone1" or record.get(column) not in (None, ""):
            problem = _phone_problem(column, record.get(column))
            if problem:
                return problem
    return None


def parse_other_columns(value: Any) -> dict[str, str]:
    """getContacts ``otherColumns`` -> {column: alias}. The reference's example is a list holding
    ``key: value`` pairs (not JSON); accepted forms: a map, a list of one-entry maps, a list of
    column names (aliased by themselves)."""
    if value is None:
        return {}
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, list):
        pairs = []
        for item in value:
            pairs.extend(item.items() if isinstance(item, dict) else [(item, item)])
    else:
        raise Failed("CustomerManager.invalid.otherColumns", str(value))
    columns = {}
    for name, alias in pairs:
        column = str(name).split(".")[-1]
        if column not in OTHER_COLUMNS:
            raise Failed("CustomerManager.invalid.column", str(name))
        columns[column] = str(alias)
    return columns


def parse_limit_offset(value: Any) -> tuple[int | None, int]:
    """``limitOffset``: a number (a limit) or ``LIMIT n [OFFSET m]`` / ``OFFSET m``."""
    if value is None or value == "":
        return None, 0
    if isinstance(value, int) and value >= 0:
        return value, 0
    match = re.fullmatch(r"\s*(?:(?:limit\s+)?(\d+))?\s*(?:offset\s+(\d+))?\s*", str(value), re.IGNORECASE)
    if not match or not (match[1] or match[2]):
        raise Failed("CustomerManager.invalid.limitOffset", str(value))
    return (int(match[1]) if match[1] else None), int(match[2] or 0)


class AmeyoSandbox(VendorSandbox):
    """Ameyo's Customer Manager API: campaigns, leads, customers, callbacks and sessions."""

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

    # -- HTTP --------------------------------------------------------------------------------------
    def build_router(self) -> APIRouter:
        router = APIRouter(prefix=self.path_prefix, tags=["Ameyo Customer Manager"])

        async def command(request: Request) -> Response:
            fields = dict(request.query_params)  # older integrations; the form wins
            form = (await request.body()).decode("utf-8", "replace")
            fields.update(parse_qsl(form, keep_blank_values=True))
            return self.execute(fields.get("command", ""), fields.get("data"))

        # The reference writes both /command and /command/.
        for path in ("/command", "/command/"):
            router.add_api_route(path, command, methods=["POST"])
        return router

    def execute(self, command: str, data_text: str | None) -> Response:
        """Run one command; every outcome, errors included, is an HTTP 200 answer."""
        try:
            data = json.loads(data_text) if data_text else {}
        except ValueError:
            data = None
        if command == "login":
            return self._answer(command, self._login(data) if isinstance(data, dict) else None)
        handler = self._handlers().get(command)
        if handler is None:
            return self._answer(command, {"result": "Failed.", "comment": ["Command.not.found", command]})
        if not isinstance(data, dict):
            return self._answer(command, {"result": "Failed.", "comment": ["CustomerManager.invalid.data"]})
        session_id = data.get("sessionId")
        if self.credentials.check(self.name, session_id) is None:
            return self._answer(command, self._invalid_session(command, str(session_id)))
        try:
            return self._answer(command, handler(data))
        except Failed as failure:
            return self._answer(command, {"result": "Failed.", "comment": failure.comment})

    def _handlers(self) -> dict[str, Callable[[dict[str, Any]], Any]]:
        return {
            "ping-session": self._ping_session,
            "logout": self._logout,
            "getContacts": self._get_contacts,
            "uploadContacts": self._upload_contacts,
            "uploadContactAndAddCallback": self._upload_contact_and_add_callback,
            "getLeadsForCampaign": self._get_leads_for_campaign,
            "addCallback": self._add_callback,
        }

    @staticmethod
    def _answer(command: str, body: Any) -> Response:
        content = json.dumps(body, ensure_ascii=False).encode("utf-8")
        content_type = "text/plain" if command in TEXT_PLAIN_COMMANDS else "application/json;charset=UTF-8"
        return Response(content, headers={"Content-Type": content_type})

    @staticmethod
    def _invalid_session(command: str, session_id: str) -> dict[str, Any]:
        """Each documented command has its own invalid-session shape (4.4.5, 4.5.6, 4.6.6)."""
        text = f"Invalid session Id: {session_id}"
        if command == "ping-session":
            return {"status": "error", "reason": text, "details": text}
        if command == "logout":
            return {"message": text, "type": "ProcessingException", "isPopulated": True}
        return {"result": "Failed.",
                "comment": ["LogoutRemoterProcessorHelper.invalid.sessionid", session_id]}

    # -- session commands ---------------------------------------------------------------------------
    def _login(self, data: dict[str, Any]) -> dict[str, Any] | None:
        """A refused login answers the literal ``null`` (HTTP 200)."""
        if data.get("userId") != self.user["login"] or data.get("password") != self.user["password"]:
            self.credentials.failed_logins[self.name] += 1
            return None
        user_id = str(data["userId"])
        self._session_seq += 1
        # The reference's form: d431-54f54717-ses-CustomerManager-5300-1 (node, hex epoch, user, n, seq).
        session_id = (f"d{secrets.randbelow(0x1000):03x}-{int(time.time()):08x}-ses-{user_id}-"
                      f"{1000 + secrets.randbelow(9000)}-{self._session_seq}")
        timeout = self.config.ameyo_session_timeout
        self.credentials.issue(self.name, user_id, idle_timeout=timeout or None, value=session_id)
        return {
            "sessionId": session_id,
            "userId": user_id,
            "userType": "CustomerManager",
            "terminalInfo": data.get("terminal") or "127.0.0.1",
            "breakStatuses": ["Training", "Un-Available", "Lunch", "Snacks", "Baño"],
            "readStatuses": ["Available"],
            "campaignInfos": [
                {"campaignName": c["campaignName"], "campaignId": c["campaignId"],
                 "campaignType": c["campaignType"], "dialTimeOut": -1, "defaultWorking": False,
                 "localIVRInfos": []}
                for c in self.campaigns.values()
            ],
            "pingInterval": 20000,
            "pingNotificationTimeout": 60000,
            "sessionTimeout": int(timeout * 1000),
            "commandTimeout": 20000,
            "maxPhoneLengthAllowed": MAX_PHONE_LENGTH,
            "campaignMaskedPrivilegeMap": {f"campaignId_{cid}": [] for cid in self.campaigns},
            "loginProperties": {},
        }

    def _ping_session(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"alive": True, "serverTime": int(time.time() * 1000)}

    def _logout(self, data: dict[str, Any]) -> dict[str, Any]:
        self.credentials.revoke(data["sessionId"])
        return {}

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

    @staticmethod
    def _properties(data: dict[str, Any]) -> dict[str, Any]:
        properties = data.get("properties")
        if not isinstance(properties, dict):  # "This field is not Nullable"
            raise Failed("CustomerManager.properties.cannot.be.null")
        return properties

    @staticmethod
    def _status(value: Any) -> str | None:
        if value in (None, ""):
            return None
        if value not in STATUSES:
            raise Failed("CustomerManager.invalid.status", value)
        return str(value)

    def _find_by_phone(self, campaign_id: int, phone: str) -> dict[str, Any] | None:
        candidates = self._by_campaign_phone.lookup(self.customers, (campaign_id, phone))
        return next((c for c in candidates
                     if c["campaignId"] == campaign_id and c["customerData"].get("phone1") == phone), None)

    # -- customers --------------------------------------------------------------------------------------
    def _get_contacts(self, data: dict[str, Any]) -> dict[str, Any]:
        campaign_id = self._campaign_id(data.get("campaignId"))
        lead_ids = {self._lead_id(campaign_id, lead) for lead in data.get("leadIds") or []}
        customer_ids = {_int(c) for c in data.get("customerIds") or []}
        enabled_only = _bool(data.get("chooseEnabledLeads"))
        columns = parse_other_columns(data.get("otherColumns"))
        limit, offset = parse_limit_offset(data.get("limitOffset"))
        found = [
            c for c in self.customers.values()
            if c["campaignId"] == campaign_id
            and (not lead_ids or c["leadId"] in lead_ids)
            and (not customer_ids or c["customerId"] in customer_ids)
            and (not enabled_only or self.leads[c["leadId"]]["enabled"])
        ]
        found = self._ordered(found, data.get("orderBy"))
        page = found[offset:] if limit is None else found[offset:offset + limit]
        return {"beanResponse": [self._bean(c, columns) for c in page], "result": "Success.",
                "comment": "Execution successful"}

    def _ordered(self, customers: list[dict[str, Any]], order_by: Any) -> list[dict[str, Any]]:
        """``orderBy``: a column (table alias optional) and an optional ASC/DESC. Default: by id."""
        if not order_by:
            return sorted(customers, key=lambda c: c["customerId"])
        match = re.fullmatch(r"\s*([\w.]+)(?:\s+(asc|desc))?\s*", str(order_by), re.IGNORECASE)
        if not match:
            raise Failed("CustomerManager.invalid.orderBy", str(order_by))
        column = match[1].split(".")[-1]

        def value(customer: dict[str, Any]) -> Any:
            if column in ("customer_id", "customerId"):
                return customer["customerId"]
            if column in ("lead_id", "leadId"):
                return customer["leadId"]
            return customer["columns"].get(column, customer["customerData"].get(column))

        def key(customer: dict[str, Any]) -> tuple[Any, ...]:
            v = value(customer)  # nulls last; numbers before text so mixed columns still sort
            number = isinstance(v, (int, float))
            return (v is None, 0 if number else 1, v if number else str(v))

        return sorted(customers, key=key, reverse=(match[2] or "").lower() == "desc")

    @staticmethod
    def _bean(customer: dict[str, Any], columns: dict[str, str]) -> dict[str, Any]:
        values = customer["columns"]
        bean = {
            "customerId": customer["customerId"],
            "processId": customer["campaignId"],
            "campaignId": customer["campaignId"],
            "leadId": customer["leadId"],
            "numInboundAttempted": values["num_inbound_attempted"],
            "numInboundConnected": values["num_inbound_connected"],
            "numOutboundAttempted": values["num_outbound_attempted"],
            "numOutboundConnected": values["num_outbound_connected"],
            "customerData": dict(customer["customerData"]),
            # "Attributes with Null values in database will not appear in the result object."
            "extraData": {
                alias: values[col] for col, alias in columns.items() if values.get(col) is not None
            },
        }
        if customer["validityTime"]:
            bean["validityTime"] = customer["validityTime"]
        return bean

    def _upload_contacts(self, data: dict[str, Any]) -> dict[str, Any]:
        campaign_id = self._campaign_id(data.get("campaignId"))
        lead_id = self._lead_id(campaign_id, data.get("leadId"))
        properties = self._properties(data)
        status = self._status(data.get("Status"))
        records = data.get("customerRecords")
        if not isinstance(records, list):
            raise Failed("CustomerManager.customerRecords.cannot.be.null")
        attempts = _int(data.get("numAttempts"))
        return {"beanResponse": [
            self._upsert(campaign_id, lead_id, record, properties, status, attempts)[0] for record in records
        ]}

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
        }
        self.callbacks[callback_id] = callback
        return callback

    def _add_callback(self, data: dict[str, Any]) -> dict[str, Any]:
        campaign_id = self._campaign_id(data.get("campaignId"))
        properties = data.get("callBackProperties") or {}
        if isinstance(properties, list):
            properties = properties[0] if properties else {}
        callback = self._new_callback(
            campaign_id, data.get("callBackTime"), self_callback=_bool(data.get("isSelfCallBack")),
            user_id=data.get("userId"), phone=properties.get("phone"),
            customer_id=properties.get("customerId"), handler=data.get("callBackHandlerType"),
        )
        customer_id = callback["customerId"]
        return {"beanResponse": [{
            "id": callback["id"], "campaignId": campaign_id, "callBackTime": callback["callBackTime"],
            "selfCallback": callback["selfCallback"],
            "callBackProperties": [{"phone": callback["phone"], "customerId": None if customer_id is None
                                    else str(customer_id)}],
            "userId": callback["userId"], "phone": callback["phone"], "customerId": customer_id,
        }]}

    def _upload_contact_and_add_callback(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        campaign_id = self._campaign_id(data.get("campaignId"))
        lead_id = self._lead_id(campaign_id, data.get("leadId"))
        properties = self._properties(data)
        records = data.get("customerAndCallbackRecords")
        if not isinstance(records, list):
            raise Failed("CustomerManager.customerAndCallbackRecords.cannot.be.null")
        validity = data.get("validityTime")
        return [
            self._upload_with_callback(campaign_id, lead_id, record, properties, validity)
            for record in records
        ]

    def _upload_with_callback(self, campaign_id: int, lead_id: int, record: Any, properties: dict[str, Any],
                              validity: str | None) -> dict[str, Any]:
        record = record if isinstance(record, dict) else {}
        customer_record = record.get("customerRecord") or {}
        spec = record.get("callbackRecord") or {}
        result, customer = self._upsert(campaign_id, lead_id, customer_record, properties,
                                        self._status(spec.get("status")), None, validity)
        # The reference: a callback goes to the given customerId, else to the customer uploaded,
        # updated or migrated by this record, else to the phone number alone.
        answer = {"campaignId": campaign_id, "id": None, "callbackTime": None, "callbackProperties": {},
                  "isSelfCallback": _bool(spec.get("isSelfCallBack")), "userId": spec.get("userId"),
                  "crmIntegrated": False, "crmTypeString": None, "crmSuccess": False,
                  "customerId": result.get("customerId"), "isInserted": result["inserted"],
                  "resultTypeString": result["resultTypeString"], "message": None}
        if "exception" in result:
            answer["exception"] = result["exception"]
        try:
            callback = self._new_callback(
                campaign_id, spec.get("callBackTime"), self_callback=answer["isSelfCallback"],
                user_id=spec.get("userId"),
                phone=spec.get("callBackPhone") or customer_record.get("phone1"),
                customer_id=spec.get("customerId") or (customer["customerId"] if customer else None),
            )
        except Failed as failure:
            answer["message"] = ", ".join(str(part) for part in failure.comment)
            return answer
        answer.update(id=callback["id"], callbackTime=callback["callBackTime"], callbackProperties={
            "phone": callback["phone"],
            "customerId": None if callback["customerId"] is None else str(callback["customerId"]),
        })
        return answer

    # -- leads ---------------------------------------------------------------------------------------------
    def _get_leads_for_campaign(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        campaign_id = self._campaign_id(data.get("campaignId"))
        return [dict(lead) for lead in self.leads.values() if lead["campaignId"] == campaign_id]

    # -- dialing -------------------------------------------------------------------------------------------
    def _pending(self) -> list[dict[str, Any]]:
        """Customers still to dial: running campaign, enabled lead, not CONNECTED, attempts left."""
        pending = []
        for customer in sorted(self.customers.values(), key=lambda c: c["customerId"]):
            lead = self.leads[customer["leadId"]]
            columns = customer["columns"]
            if (self.campaigns[customer["campaignId"]]["running"] and lead["enabled"]
                    and columns["status"] != "CONNECTED" and columns["attempts"] < lead["maxAttempt"]):
                pending.append(customer)
        return pending

    def dial(self, contacts: int) -> int:
        """Make up to ``contacts`` call attempts, one per pending customer per round (round robin),
        until every customer is CONNECTED or has used its lead's maxAttempt. Returns attempts made."""
        made = 0
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
