"""The simulated Ameyo server's HTTP side: ``POST /ameyowebaccess/command`` (form fields ``command``
and ``data``), the command dispatch, session checks and one handler per documented command."""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable
from typing import Any, ClassVar
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response

from airflow_provider_dialers.sandbox.ameyo.readings import (
    CALLBACK_RESULT,
    DEAD_SESSION_SIGNAL,
    LIMIT_OFFSET,
    READINGS,
    SCHEDULED_MESSAGE,
    SESSION_TIMEOUT,
    dead_session_answer,
    session_timeout_field,
)
from airflow_provider_dialers.sandbox.ameyo.state import AmeyoState
from airflow_provider_dialers.sandbox.ameyo.validation import (
    MAX_PHONE_LENGTH,
    Failed,
    _bool,
    _int,
    answer_date,
    invalid_session,
    parse_limit_offset,
    parse_other_columns,
    require_properties,
    target_status,
)
from airflow_provider_dialers.sandbox.readings import Reading

#: Sandbox decision: these commands answer ``text/plain`` (JSON inside, UTF-8, no charset), as
#: some Ameyo versions do; the others answer application/json.
TEXT_PLAIN_COMMANDS = frozenset({"login", "getContacts", "getLeadsForCampaign"})


class AmeyoSandbox(AmeyoState):
    """Ameyo's Customer Manager API: campaigns, leads, customers, callbacks and sessions."""

    readings: ClassVar[tuple[Reading, ...]] = READINGS

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
            answer = dead_session_answer(self.reading(DEAD_SESSION_SIGNAL), str(session_id),
                                         invalid_session(command, str(session_id)))
            return answer if isinstance(answer, Response) else self._answer(command, answer)
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
            **session_timeout_field(self.reading(SESSION_TIMEOUT), timeout),
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

    # -- customers --------------------------------------------------------------------------------------
    def _get_contacts(self, data: dict[str, Any]) -> dict[str, Any]:
        campaign_id = self._campaign_id(data.get("campaignId"))
        lead_ids = {self._lead_id(campaign_id, lead) for lead in data.get("leadIds") or []}
        customer_ids = {_int(c) for c in data.get("customerIds") or []}
        enabled_only = _bool(data.get("chooseEnabledLeads"))
        columns = parse_other_columns(data.get("otherColumns"))
        limit, offset = parse_limit_offset(data.get("limitOffset"), self.reading(LIMIT_OFFSET))
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
        # The reference (4.6.3) lists Date Modified, Last Dialed, Last Status and Last Disposition
        # among the answer's fields without naming them in JSON. Sandbox decision: camelCase, left
        # out while null, dates in the answers' Java form (``Mar 3, 2015 1:07:26 PM``, 4.8.5).
        status = values["status"]
        recent = {
            "dateModified": answer_date(customer["dateModified"]),
            "lastDialed": answer_date(values.get("last_dialed")),
            "lastStatus": values.get("last_status_1") or (status if status != "NOT_TRIED" else None),
            "lastDisposition": values.get("disposition"),
        }
        bean.update((name, value) for name, value in recent.items() if value is not None)
        return bean

    def _upload_contacts(self, data: dict[str, Any]) -> dict[str, Any]:
        campaign_id = self._campaign_id(data.get("campaignId"))
        lead_id = self._lead_id(campaign_id, data.get("leadId"))
        properties = require_properties(data)
        status = target_status(data.get("Status"))
        records = data.get("customerRecords")
        if not isinstance(records, list):
            raise Failed("CustomerManager.customerRecords.cannot.be.null")
        attempts = _int(data.get("numAttempts"))
        return {"beanResponse": [
            self._upsert(campaign_id, lead_id, record, properties, status, attempts)[0] for record in records
        ]}

    # -- callbacks -------------------------------------------------------------------------------------------
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
        properties = require_properties(data)
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
                                        target_status(spec.get("status")), None, validity)
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
            # An unscheduled callback: id and callbackTime stay null; the reason is in message
            # unless the server reads ameyo_callback_result as no_failure_signal.
            if self.reading(CALLBACK_RESULT) != "no_failure_signal":
                answer["message"] = ", ".join(str(part) for part in failure.comment)
            return answer
        answer.update(id=callback["id"], callbackTime=callback["callBackTime"], callbackProperties={
            "phone": callback["phone"],
            "customerId": None if callback["customerId"] is None else str(callback["customerId"]),
        })
        if self.reading(CALLBACK_RESULT) == "message_always":
            answer["message"] = SCHEDULED_MESSAGE
        return answer

    # -- leads ---------------------------------------------------------------------------------------------
    def _get_leads_for_campaign(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        campaign_id = self._campaign_id(data.get("campaignId"))
        return [dict(lead) for lead in self.leads.values() if lead["campaignId"] == campaign_id]

