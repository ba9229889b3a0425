"""ExpertFlow ECM 13.2 / 13.3 simulated under ``/umm`` (the README's vendor section describes it).

One server serves both releases' routes. ``release`` (an attribute, "13.3" by default, back to
it on reset) picks the answers that differ: createCampaign 201 vs 200, DNC delete 204 vs 200,
insertCallback JSON vs plain text, and whether 13.3-only routes exist (404 on "13.2").

Where the references are silent the choices are marked "silent:" below.
"""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
from collections.abc import Callable
from datetime import datetime, timezone
from http import HTTPStatus
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.routing import APIRoute

from airflow_provider_dialers.sandbox.core import GrowingIndex, VendorSandbox, read_json_object

# requestState values (0 "Pending" is not numbered by the reference; see the docs).
PENDING, SENT_TO_DIALER, CONNECTED, NOT_CONNECTED, RETRIES_COMPLETED = 0, 1, 2, 3, 4
SMS_SENT_AND_CLOSED, DNC_LISTED = 5, 7
ALL_STATES = -1
DIALING_STATES = frozenset({PENDING, SENT_TO_DIALER, NOT_CONNECTED})
# callResult of a connected call (silent: the reference numbers only failures 1..5).
CALL_RESULT_CONNECTED = 0
NOT_CONNECTED_RESULTS = (1, 2, 3, 4, 5)  # busy, no answer, customer abandoned, dialer abandoned, other
CONNECT_PROBABILITY = 0.6
VOICE, SMS = 0, 1

PHONE_FIELDS = tuple(f"phone{n}" for n in range(1, 6))
BUSINESS_PARAM_FIELDS = tuple(f"businessParam{n}" for n in range(1, 13))
BULK_CALLER_COLUMNS = (*PHONE_FIELDS, *BUSINESS_PARAM_FIELDS, "dialTime")
PHONE_MIN, PHONE_MAX, BUSINESS_PARAM_MAX = 4, 15, 255
DIAL_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
WEEK_DAYS = re.compile(r"^[0-6](,[0-6])*$")
DEFAULT_PAGE_SIZE = 10  # silent: Grails' default ``max``
DEFAULT_BATCH_SIZE = 10  # documented for preference settings
SEED_TIME = "2024-01-08T09:00:00Z"


#: (ciscoCampaignId, ciscoCampaignName, campaignType, UCCE skill group) of the seeded Cisco campaigns.
SEED_CISCO_CAMPAIGNS = (
    ("5001", "IVR_based", "0", "IVR_SG"),
    ("5002", "Agent_Sales", "1", "Sales_SG"),
    ("5003", "Agent_Collections", "1", "Collections_SG"),
)
SEED_DNC_NUMBER = "03001234567"  # a seeded Welcome IVR contact is on the DNC list


def _cisco_campaign(cisco_id: str, name: str, campaign_type: str, skill_group: str) -> dict[str, Any]:
    """A Cisco campaign as fetchCiscoCampaigns answers it (CCE form), plus its skill group (internal)."""
    return {"ciscoCampaignId": cisco_id, "ciscoCampaignName": name,
            "ciscoTableName": f"DL_{cisco_id}_{cisco_id}", "ciscoFileName": f"{name.lower()}.txt",
            "ciscoFilePath": "//Sprawler/import/", "campaignType": campaign_type, "skillGroup": skill_group}


def _seed_campaign(name: str, crm_id: str, cisco_id: str, strategy_id: int, campaign_type: str, *,
                   status: str = "1", enabled: bool = True) -> dict[str, Any]:
    return {"name": name, "crmCampaignId": crm_id, "ciscoCampaignId": cisco_id, "strategyId": strategy_id,
            "type": campaign_type, "status": status, "enabled": enabled}


class EcmError(Exception):
    """An ECM error answer: Spring Boot's JSON shape (silent in the references, which list codes only)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def response(self, path: str) -> JSONResponse:
        body = {"timestamp": _now_iso(), "status": self.status, "error": HTTPStatus(self.status).phrase,
                "message": self.message, "path": path}
        return JSONResponse(body, status_code=self.status)


class _EcmRoute(APIRoute):
    """Turns an :class:`EcmError` from a handler or its dependencies into ECM's error answer."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def ecm_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except EcmError as exc:
                return exc.response(request.url.path)

        return ecm_handler


def _now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")



async def _json_body(request: Request) -> dict[str, Any]:
    return await read_json_object(request, lambda reason: EcmError(400, reason))


def _as_int(value: Any, field: str) -> int:
    if isinstance(value, bool):
        raise EcmError(400, f"{field} must be an integer")
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        raise EcmError(400, f"{field} must be an integer") from None


def _required(body: dict[str, Any], field: str) -> Any:
    value = body.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise EcmError(400, f"{field} is required")
    return value


def _check_phone(value: Any, field: str) -> str:
    phone = str(value)
    if not PHONE_MIN <= len(phone) <= PHONE_MAX:
        raise EcmError(400, f"{field} must have {PHONE_MIN} to {PHONE_MAX} characters (including +)")
    return phone


def _csv_lines(content: bytes) -> list[tuple[int, list[str]]]:
    """The non-blank lines of an uploaded CSV as (line number, stripped cells); 400 if none."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise EcmError(400, "The file must be UTF-8 text") from None
    rows = enumerate(csv.reader(io.StringIO(text)), start=1)
    lines = [(number, [cell.strip() for cell in cells]) for number, cells in rows if "".join(cells).strip()]
    if not lines:
        raise EcmError(400, "The file holds no contacts")
    return lines


def _query_and_body(request: Request, body: dict[str, Any]) -> dict[str, Any]:
    """Parameters given in the query string or the JSON body (the query wins)."""
    return {**body, **request.query_params}


class ExpertflowSandbox(VendorSandbox):
    """ExpertFlow ECM: JWT login, campaigns, campaign contacts (callbacks), DNC, strategies, preferences."""

    name = "expertflow"
    path_prefix = "/umm"

    # -- state -----------------------------------------------------------------------------------
    def seed_state(self) -> None:
        self.release = "13.3"
        self.refresh_tokens: list[str] = []
        self.cisco_campaigns = [_cisco_campaign(*fields) for fields in SEED_CISCO_CAMPAIGNS]
        self.strategies: dict[int, dict[str, Any]] = {}
        self.attempts: dict[int, dict[str, Any]] = {}
        self.campaigns: dict[int, dict[str, Any]] = {}
        self.callbacks: dict[int, dict[str, Any]] = {}
        self._by_campaign_phone = GrowingIndex(lambda c: (c["campaignId"], c["phone1"]))
        self.dnc: dict[int, dict[str, Any]] = {}
        self.preferences: dict[int, dict[str, Any]] = {}
        self._ids = {kind: 0 for kind in ("strategy", "attempt", "campaign", "callback", "dnc", "preference")}

        # "default": call phone 1; on busy / no answer call it again, then try phone 2.
        default = self._add_strategy("default", max_attempts=3)
        for number, (name, phone) in enumerate((("First call", "1"), ("Second call", "1")), start=1):
            retry = [{"call_result": result, "attempt_number": number + 1, "delay": 10} for result in (1, 2)]
            self._add_attempt(default, name, phone=phone, attempt_number=number, retry_map=retry)
        self._add_attempt(default, "Alternate phone", phone="2", attempt_number=3, retry_map=[])
        single = self._add_strategy("single attempt", max_attempts=1)
        self._add_attempt(single, "Only call", phone="1", attempt_number=1, retry_map=[])

        # Welcome IVR runs, Sales Agent is paused, Collections is disabled.
        seeds = (_seed_campaign("Welcome IVR", "crm_welcome", "5001", default, "0"),
                 _seed_campaign("Sales Agent", "crm_sales", "5002", single, "1", status="0"),
                 _seed_campaign("Collections", "crm_collections", "5003", default, "1", enabled=False))
        welcome, sales, _ = (self.campaigns[self._add_campaign(seed, SEED_TIME)] for seed in seeds)
        welcome_phones = ("+15550100101", "+15550100102", "+15550100103", "+15550100104", SEED_DNC_NUMBER)
        for n, phone in enumerate(welcome_phones, start=1):
            contact = {"phone1": phone, "phone2": f"+1555020010{n}", "businessParam1": f"ACC-{1000 + n}"}
            self._add_callback(welcome, self._callback_fields(contact))
        for n in range(1, 4):
            contact = {"phone1": f"+1555030010{n}", "businessParam1": f"LEAD-{n}"}
            self._add_callback(sales, self._callback_fields(contact))
        self._add_dnc({"name": "David", "primaryNumber": SEED_DNC_NUMBER})
        self._add_dnc({"name": "Opted out", "primaryNumber": "+15550999999"})
        self._add_preferences({"campaignBatchSize": 22, "ivrBatchSize": 33, "filePath": "/data/ecm/import",
                               "fileArchivePath": "/data/ecm/archive", "username": "ecm_db",
                               "password": "sandbox-db-pass", "Domain": "ECMDOMAIN"})

    def _next_id(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    def snapshot(self) -> dict[str, Any]:
        return {
            "release": self.release,
            "cisco_campaigns": self.cisco_campaigns,
            "campaigns": list(self.campaigns.values()),
            "callbacks": list(self.callbacks.values()),
            "dnc": list(self.dnc.values()),
            "strategies": [self._strategy_view(s) for s in self.strategies.values()],
            "preference_settings": list(self.preferences.values()),
        }

    # -- campaigns ---------------------------------------------------------------------------------
    def _campaign_fields(self, body: dict[str, Any], *, partial: bool) -> dict[str, Any]:
        """Validated campaign fields of a create (every required one) or an update (those given)."""
        fields: dict[str, Any] = {}

        def given(field: str) -> bool:
            if partial:
                return field in body
            _required(body, field)
            return True

        for field in ("startTime", "endTime"):
            if given(field):
                if not CLOCK.match(str(body[field])):
                    raise EcmError(400, f"{field} must be a time of day HH:MM")
                fields[field] = str(body[field])
        if given("name"):
            fields["name"] = str(_required(body, "name"))
        if given("strategyId"):
            fields["strategyId"] = str(self._strategy(body["strategyId"], "strategyId")["id"])
        if given("type"):
            if str(body["type"]).strip() not in ("0", "1", "-1"):
                raise EcmError(400, "type must be 0 (IVR), 1 (Agent) or -1 (None)")
            fields["type"] = str(body["type"]).strip()
        if given("weekDays"):
            if not WEEK_DAYS.match(str(body["weekDays"])):
                raise EcmError(400, "weekDays must be a comma-separated list of days 0 (Sunday) to 6")
            fields["weekdays"] = str(body["weekDays"])
        if given("enabled"):
            if not isinstance(body["enabled"], bool):
                raise EcmError(400, "enabled must be true or false")
            fields["enabled"] = body["enabled"]
        if "status" in body:  # optional; the example request sends "1"
            if str(body["status"]) not in ("0", "1"):
                raise EcmError(400, "status must be 1 (running) or 0 (paused)")
            fields["status"] = str(body["status"])
        if body.get("crmCampaignId") is not None:
            fields["crmCampaignId"] = self._free_crm_id(str(body["crmCampaignId"]), body.get("id"))
        for field in ("description", "smsTemplate", "dialerType"):
            if field in body:
                fields[field] = body[field]
        return fields

    def _free_crm_id(self, crm_id: str, own_id: Any) -> str:
        # Silent: crmCampaignId names a campaign in several endpoints, so it must be unique.
        holder = next((c for c in self.campaigns.values() if c["crmCampaignId"] == crm_id), None)
        if holder is not None and holder["id"] != str(own_id):
            raise EcmError(400, f"crmCampaignId {crm_id} is already used by campaign {holder['id']}")
        return crm_id

    def _add_campaign(self, fields: dict[str, Any], created: str | None = None) -> int:
        """Store a campaign (fields already validated, or seed data); return its id."""
        campaign_id = self._next_id("campaign")
        cisco = self._cisco(fields["ciscoCampaignId"])
        now = created or _now_iso()
        self.campaigns[campaign_id] = {
            "id": str(campaign_id),
            "crmCampaignId": fields.get("crmCampaignId"),
            "ciscoCampaignId": cisco["ciscoCampaignId"],
            "ciscoCampaignName": cisco["ciscoCampaignName"],
            "smsTemplate": fields.get("smsTemplate"),
            "description": fields.get("description"),
            "enabled": fields.get("enabled", True),
            "endTime": fields.get("endTime", "23:59"),
            "strategyId": str(fields["strategyId"]),
            "name": fields["name"],
            # The reference's campaign answers spell these two keys "startTIme" and "weekdays".
            "startTIme": fields.get("startTime", "00:00"),
            "status": fields.get("status", "1"),
            "type": str(fields.get("type", "0")),
            "lastUpdated": now,
            "dateCreated": now,
            "weekdays": fields.get("weekdays", "0,1,2,3,4,5,6"),
            **({"dialerType": fields.get("dialerType"), "skillGroup": fields["skillGroup"]}
               if "skillGroup" in fields else {}),
        }
        return campaign_id

    def _cisco(self, cisco_id: Any) -> dict[str, Any]:
        found = next((c for c in self.cisco_campaigns if c["ciscoCampaignId"] == str(cisco_id)), None)
        if found is None:
            raise EcmError(404, f"Cisco campaign not found with id {cisco_id}")
        return found

    def _campaign(self, ref: dict[str, Any], id_key: str = "id") -> dict[str, Any]:
        """The campaign ``ref`` names by ``id_key`` or ``crmCampaignId`` (400 if neither, 404 if unknown)."""
        if ref.get(id_key) not in (None, ""):
            campaign = self.campaigns.get(_as_int(ref[id_key], id_key))
            wanted = f"id {ref[id_key]}"
            if campaign is not None and ref.get("crmCampaignId") not in (None, "", campaign["crmCampaignId"]):
                raise EcmError(400, f"{id_key} and crmCampaignId name different campaigns")
        elif ref.get("crmCampaignId") not in (None, ""):
            crm_id = str(ref["crmCampaignId"])
            campaign = next((c for c in self.campaigns.values() if c["crmCampaignId"] == crm_id), None)
            wanted = f"crmCampaignId {crm_id}"
        else:
            raise EcmError(400, f"{id_key} or crmCampaignId is required")
        if campaign is None:
            raise EcmError(404, f"Campaign not found with {wanted}")
        return campaign

    def _set_status(self, campaign: dict[str, Any], action: str) -> PlainTextResponse:
        campaign["status"] = "0" if action == "pause" else "1"
        campaign["lastUpdated"] = _now_iso()
        return PlainTextResponse(f"Campaign with id {campaign['id']} successfully {action}d")

    @staticmethod
    def _status_action(value: Any) -> str:
        """campaignUpdateStatus's ``status`` (body undocumented): pause/resume and common variants."""
        word = str(value).strip().lower()
        if word in ("pause", "paused", "0", "false", "stop", "inactive"):
            return "pause"
        if word in ("resume", "resumed", "1", "true", "start", "active", "running"):
            return "resume"
        raise EcmError(400, "status must be pause or resume")

    # -- campaign contacts (callbacks) ---------------------------------------------------------
    def _callback_fields(self, values: dict[str, Any]) -> dict[str, Any]:
        """Validate a contact's phones, business params and dial time (insertCallback, bulk rows)."""
        fields: dict[str, Any] = {"phone1": _check_phone(_required(values, "phone1"), "phone1")}
        for field in PHONE_FIELDS[1:]:
            given = values.get(field) not in (None, "")
            fields[field] = _check_phone(values[field], field) if given else None
        for field in BUSINESS_PARAM_FIELDS:
            value = values.get(field)
            if value is not None and len(str(value)) > BUSINESS_PARAM_MAX:
                raise EcmError(400, f"{field} is longer than {BUSINESS_PARAM_MAX} characters")
            fields[field] = None if value in (None, "") else str(value)
        dial_time = values.get("dialTime")
        if dial_time not in (None, ""):
            try:
                datetime.strptime(str(dial_time), DIAL_TIME_FORMAT)
            except ValueError:
                raise EcmError(400, "dialTime must be formatted yyyy-MM-dd HH:mm:ss") from None
        fields["dialTime"] = dial_time or None
        return fields

    def _add_callback(self, campaign: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
        """Store a contact from :meth:`_callback_fields`; it starts Pending."""
        callback_id = self._next_id("callback")
        callback = {
            "id": callback_id, "attemptId": None, "attemptNumber": 0, "dialTime": fields["dialTime"],
            **{field: fields[field] for field in BUSINESS_PARAM_FIELDS},
            "campaignId": int(campaign["id"]),
            **{field: fields[field] for field in PHONE_FIELDS},
            "callResult": None, "channel": VOICE, "ciscoCampaignId": int(campaign["ciscoCampaignId"]),
            "lastStatusUpdateTime": None, "numberToCall": fields["phone1"], "requestState": PENDING,
            "requestTime": _now_iso(), "responseTimeout": None,
        }
        self.callbacks[callback_id] = callback
        return callback

    def _is_pending_duplicate(self, campaign: dict[str, Any], phone1: str) -> bool:
        campaign_id = int(campaign["id"])
        return any(c["campaignId"] == campaign_id and c["phone1"] == phone1 and c["requestState"] == PENDING
                   for c in self._by_campaign_phone.lookup(self.callbacks, (campaign_id, phone1)))

    def _bulk_rows(self, content: bytes) -> list[dict[str, Any]]:
        """Validated rows of an uploadBulkCaller file; one bad row refuses the whole file (silent)."""
        rows = []
        for line_number, cells in _csv_lines(content):
            if line_number == 1 and cells[0].lower() == "phone1":
                continue  # silent: an optional header line is skipped
            if len(cells) > len(BULK_CALLER_COLUMNS):
                raise EcmError(400, f"line {line_number}: more than {len(BULK_CALLER_COLUMNS)} columns")
            try:
                rows.append(self._callback_fields(dict(zip(BULK_CALLER_COLUMNS, cells))))
            except EcmError as exc:
                raise EcmError(400, f"line {line_number}: {exc.message}") from None
        if not rows:
            raise EcmError(400, "The file holds no contacts")
        return rows

    def _matching_callbacks(self, filters: dict[str, Any]) -> list[dict[str, Any]]:
        wanted: dict[str, Any] = {}
        if filters.get("campaignId") not in (None, ""):
            wanted["campaignId"] = _as_int(filters["campaignId"], "campaignId")
        if filters.get("requestStatus") not in (None, ""):
            status = _as_int(filters["requestStatus"], "requestStatus")
            if status != ALL_STATES:
                wanted["requestState"] = status
        for field in ("numberToCall", *PHONE_FIELDS):
            if filters.get(field) not in (None, ""):
                wanted[field] = str(filters[field])
        return [c for c in self.callbacks.values() if all(c[k] == v for k, v in wanted.items())]

    # -- DNC, strategies, preferences ------------------------------------------------------------
    def _add_dnc(self, body: dict[str, Any]) -> dict[str, Any]:
        number = str(_required(body, "primaryNumber"))
        dnc_id = self._next_id("dnc")
        now = _now_iso()
        self.dnc[dnc_id] = {"id": dnc_id, "name": body.get("name"), "updateById": 1, "primaryNumber": number,
                            "dataCreated": now, "lastUpdated": now}  # "dataCreated": the documented spelling
        return self.dnc[dnc_id]

    def _dnc_entry(self, dnc_id: Any) -> dict[str, Any]:
        entry = self.dnc.get(_as_int(dnc_id, "id"))
        if entry is None:
            raise EcmError(404, f"DNC contact not found with id {dnc_id}")
        return entry

    def _add_strategy(self, name: str, max_attempts: int = 3) -> int:
        # Silent: maxAttempts is not settable through the API; 3 as in the reference's example.
        strategy_id = self._next_id("strategy")
        self.strategies[strategy_id] = {"id": strategy_id, "name": name, "maxAttempts": max_attempts}
        return strategy_id

    def _strategy(self, strategy_id: Any, field: str = "id") -> dict[str, Any]:
        strategy = self.strategies.get(_as_int(strategy_id, field))
        if strategy is None:
            raise EcmError(404, f"Strategy not found with id {strategy_id}")
        return strategy

    def _strategy_attempts(self, strategy_id: int) -> list[dict[str, Any]]:
        found = [a for a in self.attempts.values() if a["csId"] == strategy_id]
        return sorted(found, key=lambda a: (a["attemptNumber"], a["id"]))

    def _strategy_view(self, strategy: dict[str, Any]) -> dict[str, Any]:
        return {**strategy, "callAttempts": self._strategy_attempts(strategy["id"])}

    def _attempt_fields(self, body: dict[str, Any], *, partial: bool) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if not partial or "name" in body:
            fields["name"] = str(_required(body, "name"))
        if not partial or "phone" in body:
            phone = _as_int(_required(body, "phone"), "phone")
            if not 1 <= phone <= 5:
                raise EcmError(400, "phone must be 1 to 5")
            fields["phone"] = str(phone)
        if not partial or "channel" in body:
            channel = _as_int(body.get("channel", VOICE), "channel")
            if channel not in (VOICE, SMS):
                raise EcmError(400, "channel must be 0 (voice) or 1 (SMS)")
            fields["channel"] = channel
        if not partial or "attemptNumber" in body:
            fields["attemptNumber"] = _as_int(_required(body, "attemptNumber"), "attemptNumber")
        if "retryMap" in body:
            retry_map = body["retryMap"]
            if not isinstance(retry_map, list) or not all(isinstance(rule, dict) for rule in retry_map):
                raise EcmError(400, "retryMap must be a list of objects")
            fields["retryMap"] = retry_map
        return fields

    def _add_attempt(self, strategy_id: int, name: str, *, phone: str, attempt_number: int,
                     retry_map: list[dict[str, Any]], channel: int = VOICE) -> dict[str, Any]:
        attempt_id = self._next_id("attempt")
        self.attempts[attempt_id] = {"id": attempt_id, "csId": strategy_id, "name": name, "phone": phone,
                                     "channel": channel, "attemptNumber": attempt_number,
                                     "retryMap": retry_map}
        return self.attempts[attempt_id]

    def _attempt(self, attempt_id: Any, field: str = "id") -> dict[str, Any]:
        attempt = self.attempts.get(_as_int(attempt_id, field))
        if attempt is None:
            raise EcmError(404, f"Strategy attempt not found with id {attempt_id}")
        return attempt

    def _attempt_positions(self, body: dict[str, Any]) -> list[tuple[dict[str, Any], int]]:
        """updateOrder's pairs. The reference's example is not JSON (an array inside braces), so
        ``idIndexJson`` is accepted as an object or a JSON string, ``data`` as an array or one pair."""
        wrapper = body.get("idIndexJson")
        if isinstance(wrapper, str):
            try:
                wrapper = json.loads(wrapper)
            except ValueError:
                raise EcmError(400, "idIndexJson is not valid JSON") from None
        data = wrapper.get("data") if isinstance(wrapper, dict) else None
        if isinstance(data, dict):
            data = [data]
        if not isinstance(data, list) or not data or not all(isinstance(d, dict) for d in data):
            raise EcmError(400, "idIndexJson.data must be a list of {atId, index}")
        return [(self._attempt(pair.get("atId"), "atId"), _as_int(pair.get("index"), "index"))
                for pair in data]

    def _preference_fields(self, body: dict[str, Any]) -> dict[str, Any]:
        fields = {key: body[key] for key in ("filePath", "fileArchivePath", "username", "password", "Domain")
                  if key in body}
        for key in ("campaignBatchSize", "ivrBatchSize"):
            if key in body:
                size = _as_int(body[key], key)
                if size < 1:
                    raise EcmError(400, f"{key} must be a positive integer")
                fields[key] = size
        return fields

    def _add_preferences(self, fields: dict[str, Any]) -> dict[str, Any]:
        settings_id = self._next_id("preference")
        self.preferences[settings_id] = {"id": settings_id, "campaignBatchSize": DEFAULT_BATCH_SIZE,
                                         "ivrBatchSize": DEFAULT_BATCH_SIZE, "filePath": None,
                                         "fileArchivePath": None, "username": None, "password": None,
                                         "Domain": None, **fields}
        return self.preferences[settings_id]

    def _preference(self, settings_id: Any) -> dict[str, Any]:
        settings = self.preferences.get(_as_int(settings_id, "id"))
        if settings is None:
            raise EcmError(404, f"Preference settings not found with id {settings_id}")
        return settings

    # -- auth ------------------------------------------------------------------------------------
    def _login(self, body: dict[str, Any]) -> dict[str, Any]:
        username, password = body.get("username"), body.get("password")
        if not username or not password:
            raise EcmError(400, "username and password are required")
        if username != self.user["login"] or password != self.user["password"]:
            self.credentials.failed_logins[self.name] += 1
            raise EcmError(401, "Invalid username or password")
        ttl = self.config.ecm_token_ttl
        token = self.credentials.issue(self.name, username, ttl=ttl)
        refresh_token = secrets.token_urlsafe(32)  # never accepted: no refresh endpoint is documented
        self.refresh_tokens.append(refresh_token)
        return {
            "license": "valid", "licStatus": "trial", "licensedTo": "Dialer Sandbox",
            "creationDate": "2024-01-01T00:00:00Z", "expiryDate": "2099-12-31T00:00:00Z",
            "supportExpiryDate": None, "numberOfAgents": 5, "valid": True,
            "userDetails": {"id": 1, "username": username, "userId": None, "email": None,
                            "fullName": "Administrator", "type": "DB", "isActive": True,
                            "profileExists": False,
                            "roles": [{"id": 1, "name": "Administrator", "description": "Administrator Role",
                                       "permissions": None}]},
            "token_type": "Bearer", "token": token,
            "expires_in": int(ttl) if float(ttl).is_integer() else ttl,
            "refresh_token": refresh_token,
        }

    async def _require_token(self, request: Request) -> None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            raise EcmError(401, "Full authentication is required to access this resource")
        if self.credentials.check(self.name, header.removeprefix("Bearer ").strip()) is None:
            raise EcmError(401, "Invalid or expired token")

    async def _require_13_3(self, request: Request) -> None:
        if self.release != "13.3":
            raise EcmError(404, f"No endpoint {request.method} {request.url.path} in ECM {self.release}")

    # -- dialing simulation ----------------------------------------------------------------------
    def dial(self, contacts: int) -> int:
        """Make up to ``contacts`` moves; a move takes one contact one step towards its outcome:
        Pending -> SentToDialer -> Connected | Not Connected -> (retry: Pending) | RetriesCompleted.
        Only contacts of enabled, running (status "1") campaigns move; a pending contact waits for
        its dialTime. Deterministic for a seed (outcomes come from ``self.rng``)."""
        moved = 0
        while moved < contacts:
            due = [c for c in self.callbacks.values() if self._dialable(c)]
            if not due:
                break
            for callback in due[: contacts - moved]:
                self._move(callback)
                moved += 1
        return moved

    def _dialable(self, callback: dict[str, Any]) -> bool:
        campaign = self.campaigns.get(callback["campaignId"])
        if campaign is None or not campaign["enabled"] or campaign["status"] != "1":
            return False
        if callback["requestState"] not in DIALING_STATES:
            return False
        dial_time = callback["dialTime"]
        return callback["requestState"] != PENDING or not dial_time or (
            # The simulated server runs on UTC (the connections' default `timezone` extra), not on
            # the host's local clock.
            datetime.strptime(dial_time, DIAL_TIME_FORMAT) <= datetime.now(timezone.utc).replace(tzinfo=None)
        )

    def _move(self, callback: dict[str, Any]) -> None:
        state = callback["requestState"]
        if state == PENDING:
            self._send_to_dialer(callback)
        elif state == SENT_TO_DIALER:
            self._settle_attempt(callback)
        else:  # NOT_CONNECTED
            self._retry_or_close(callback)
        callback["lastStatusUpdateTime"] = _now_iso()

    def _send_to_dialer(self, callback: dict[str, Any]) -> None:
        attempt = self.attempts.get(callback["attemptId"]) or self._first_attempt(callback)
        phone_field = f"phone{attempt['phone']}" if attempt else "phone1"
        callback["numberToCall"] = callback.get(phone_field) or callback["phone1"]
        if any(entry["primaryNumber"] == callback["numberToCall"] for entry in self.dnc.values()):
            callback["requestState"] = DNC_LISTED
            return
        callback["attemptId"] = attempt["id"] if attempt else None
        callback["channel"] = attempt["channel"] if attempt else VOICE
        callback["attemptNumber"] += 1
        callback["requestState"] = SENT_TO_DIALER

    def _settle_attempt(self, callback: dict[str, Any]) -> None:
        if callback["channel"] == SMS:
            callback["requestState"] = SMS_SENT_AND_CLOSED
        elif self.rng.random() < CONNECT_PROBABILITY:
            callback["requestState"], callback["callResult"] = CONNECTED, CALL_RESULT_CONNECTED
        else:
            callback["requestState"] = NOT_CONNECTED
            callback["callResult"] = self.rng.choice(NOT_CONNECTED_RESULTS)

    def _retry_or_close(self, callback: dict[str, Any]) -> None:
        """Follow the attempt's retryMap for the call result, within the strategy's maxAttempts.
        Silent: retry delays are not waited for (the simulation has no clock of its own)."""
        following = self._next_attempt(callback)
        if following is None:
            callback["requestState"] = RETRIES_COMPLETED
        else:
            callback["attemptId"], callback["requestState"] = following["id"], PENDING

    def _first_attempt(self, callback: dict[str, Any]) -> dict[str, Any] | None:
        attempts = self._strategy_attempts(self._campaign_strategy_id(callback))
        return attempts[0] if attempts else None

    def _next_attempt(self, callback: dict[str, Any]) -> dict[str, Any] | None:
        strategy = self.strategies.get(self._campaign_strategy_id(callback))
        current = self.attempts.get(callback["attemptId"])
        if strategy is None or current is None or callback["attemptNumber"] >= strategy["maxAttempts"]:
            return None
        result = str(callback["callResult"])
        rule = next((r for r in current["retryMap"] if str(r.get("call_result")) == result), None)
        if rule is None:
            return None
        return next((a for a in self._strategy_attempts(strategy["id"])
                     if str(a["attemptNumber"]) == str(rule.get("attempt_number"))), None)

    def _campaign_strategy_id(self, callback: dict[str, Any]) -> int:
        return int(self.campaigns[callback["campaignId"]]["strategyId"])

    # -- routes --------------------------------------------------------------------------------------
    def build_router(self) -> APIRouter:
        router = APIRouter(prefix=self.path_prefix, route_class=_EcmRoute)
        router.include_router(self._login_router())
        router.include_router(self._ecm_router())
        return router

    def _login_router(self) -> APIRouter:
        router = APIRouter(route_class=_EcmRoute)

        @router.get("/api/login")
        async def login(request: Request) -> Any:
            return self._login(await _json_body(request))  # GET with a JSON body, as documented

        return router

    def _ecm_router(self) -> APIRouter:
        router = APIRouter(prefix="/ecm", route_class=_EcmRoute, dependencies=[Depends(self._require_token)])
        only_13_3 = [Depends(self._require_13_3)]
        self._campaign_routes(router, only_13_3)
        self._dnc_routes(router, only_13_3)
        self._callback_routes(router)
        self._strategy_routes(router, only_13_3)
        self._preference_routes(router, only_13_3)
        return router

    def _campaign_routes(self, router: APIRouter, only_13_3: list) -> None:
        @router.get("/campaign/fetchCiscoCampaigns")
        async def fetch_cisco_campaigns() -> Any:
            return [{k: v for k, v in c.items() if k != "skillGroup"} for c in self.cisco_campaigns]

        @router.post("/campaign/createCampaign")
        async def create_campaign(request: Request) -> Any:
            body = await _json_body(request)
            fields = self._campaign_fields(body, partial=False)
            fields["ciscoCampaignId"] = self._cisco(_required(body, "ciscoCampaignId"))["ciscoCampaignId"]
            campaign = self.campaigns[self._add_campaign(fields)]
            return JSONResponse(campaign, status_code=201 if self.release == "13.3" else 200)

        @router.post("/campaign/createCampaignBySkilllGroup")
        async def create_campaign_by_skill_group(request: Request) -> Any:
            body = await _json_body(request)
            fields = self._campaign_fields(body, partial=False)
            skill_group = str(_required(body, "skillGroup"))
            cisco = next((c for c in self.cisco_campaigns if c["skillGroup"] == skill_group), None)
            if cisco is None:
                raise EcmError(404, f"No Cisco campaign found for skill group {skill_group}")
            fields.update(ciscoCampaignId=cisco["ciscoCampaignId"], skillGroup=skill_group)
            return self.campaigns[self._add_campaign(fields)]

        @router.put("/campaign/update")
        async def update_campaign(request: Request) -> Any:
            body = await _json_body(request)
            campaign = self._campaign(body)
            changes = self._campaign_fields({**body, "id": campaign["id"]}, partial=True)
            if "ciscoCampaignId" in body:
                cisco = self._cisco(body["ciscoCampaignId"])
                changes.update({key: cisco[key] for key in ("ciscoCampaignId", "ciscoCampaignName")})
            if "startTime" in changes:
                changes["startTIme"] = changes.pop("startTime")
            campaign.update(changes, lastUpdated=_now_iso())
            return campaign

        @router.get("/campaign")
        async def list_campaigns() -> Any:
            return list(self.campaigns.values())

        @router.delete("/campaign/delete")
        async def delete_campaign(request: Request) -> Any:
            campaign_id = int(self._campaign(dict(request.query_params))["id"])
            del self.campaigns[campaign_id]
            # Silent: the campaign's contacts go with it (ECM's callbacks reference the campaign).
            for callback_id in [k for k, c in self.callbacks.items() if c["campaignId"] == campaign_id]:
                del self.callbacks[callback_id]
            self._by_campaign_phone.invalidate()
            return PlainTextResponse(f"Campaign with id {campaign_id} successfully deleted")

        @router.post("/campaign/pause")
        async def pause(request: Request) -> Any:
            return self._set_status(self._campaign(dict(request.query_params)), "pause")

        @router.post("/campaign/resume")
        async def resume(request: Request) -> Any:
            return self._set_status(self._campaign(dict(request.query_params)), "resume")

        @router.post("/campaign/campaignUpdateStatus", dependencies=only_13_3)
        async def campaign_update_status(request: Request) -> Any:
            # Undocumented body: {"id"|"campaignId"|"crmCampaignId", "status"}, also as query parameters.
            params = _query_and_body(request, await _json_body(request))
            if params.get("id") in (None, "") and params.get("campaignId") not in (None, ""):
                params["id"] = params["campaignId"]
            action = self._status_action(_required(params, "status"))
            return self._set_status(self._campaign(params), action)

    def _dnc_routes(self, router: APIRouter, only_13_3: list) -> None:
        @router.get("/contact")
        async def list_dnc() -> Any:
            return list(self.dnc.values())

        @router.post("/contact/save")
        async def save_dnc(request: Request) -> Any:
            return self._add_dnc(await _json_body(request))

        @router.post("/contact/update", dependencies=only_13_3)
        async def update_dnc(request: Request) -> Any:
            body = await _json_body(request)
            entry = self._dnc_entry(_required(body, "id"))
            if "primaryNumber" in body:
                entry["primaryNumber"] = str(_required(body, "primaryNumber"))
            if "name" in body:
                entry["name"] = body["name"]
            entry["lastUpdated"] = _now_iso()
            return entry

        @router.delete("/contact/delete")
        async def delete_dnc(id: str | None = None) -> Any:  # noqa: A002 - the documented parameter
            del self.dnc[self._dnc_entry(id)["id"]]
            if self.release == "13.3":
                return Response(status_code=204)  # 13.3 documents "204: Success - No Content"
            return PlainTextResponse("Contact deleted")

        @router.post("/contact/uploadCsv")
        async def upload_dnc_csv(request: Request) -> Any:
            content = await self._uploaded_file(request)
            entries = []
            for line_number, cells in _csv_lines(content):  # "contact-number,optional-name"
                if not cells[0]:
                    raise EcmError(400, f"line {line_number}: contact-number is required")
                name = cells[1] if len(cells) > 1 and cells[1] else None
                entries.append({"primaryNumber": cells[0], "name": name})
            for entry in entries:
                self._add_dnc(entry)
            return {"message": "File is uploading."}

    def _callback_routes(self, router: APIRouter) -> None:
        @router.post("/callback/insertCallback")
        async def insert_callback(request: Request) -> Any:
            body = await _json_body(request)
            campaign = self._campaign(body, id_key="campaignId")
            policy = str(body.get("duplicateCallbacks") or "allow").lower()  # silent: absent means allow
            if policy not in ("allow", "discard"):
                raise EcmError(400, "duplicateCallbacks must be allow or discard")
            fields = self._callback_fields(body)
            if policy == "discard" and self._is_pending_duplicate(campaign, fields["phone1"]):
                status = "duplicate callback discarded"
            else:
                self._add_callback(campaign, fields)
                status = "callback data saved"
            return {"statusString": status} if self.release == "13.3" else PlainTextResponse(status)

        @router.api_route("/callback/uploadBulkCaller", methods=["GET", "POST"])
        async def upload_bulk_caller(request: Request) -> Any:
            # Documented as GET with a multipart body; POST is accepted too.
            form = await request.form()
            params = {**{k: v for k, v in form.items() if isinstance(v, str)}, **request.query_params}
            campaign = self._campaign(params, id_key="campaignId")
            for row in self._bulk_rows(await self._uploaded_file(request)):
                self._add_callback(campaign, row)
            return PlainTextResponse("File is uploaded")

        @router.get("/callback/getList")
        async def get_list(request: Request) -> Any:
            # Documented under "Request Body" of a GET: accepted in the query string or a JSON body.
            params = _query_and_body(request, await _json_body(request))
            size = _as_int(params.get("max", DEFAULT_PAGE_SIZE), "max")
            page = _as_int(params.get("page", 0), "page")
            if size < 1 or page < 0:
                raise EcmError(400, "max must be at least 1 and page at least 0")
            matching = self._matching_callbacks(params)
            return {"callbackData": matching[page * size:(page + 1) * size], "total": len(matching)}

    def _strategy_routes(self, router: APIRouter, only_13_3: list) -> None:
        @router.get("/callStrategy")
        async def list_strategies() -> Any:
            return [self._strategy_view(s) for s in self.strategies.values()]

        @router.post("/callStrategy/save")
        async def save_strategy(request: Request) -> Any:
            name = str(_required(await _json_body(request), "name"))
            return {"id": self._add_strategy(name), "name": name}

        @router.post("/callStrategy/updateName", dependencies=only_13_3)
        async def update_strategy_name(request: Request) -> Any:
            body = await _json_body(request)
            strategy = self._strategy(_required(body, "csId"), "csId")
            strategy["name"] = str(_required(body, "name"))
            return PlainTextResponse("Success")

        @router.post("/callStrategy/delete", dependencies=only_13_3)
        async def delete_strategy(id: str | None = None) -> Any:  # noqa: A002 - the documented parameter
            strategy = self._strategy(id)
            users = sorted(c["id"] for c in self.campaigns.values() if c["strategyId"] == str(strategy["id"]))
            if users:  # silent: a strategy in use is refused, as a foreign key would
                raise EcmError(400, f"Strategy {strategy['id']} is used by campaign(s) {', '.join(users)}")
            for attempt in self._strategy_attempts(strategy["id"]):
                del self.attempts[attempt["id"]]
            del self.strategies[strategy["id"]]
            return PlainTextResponse("Success")

        @router.post("/callStrategyAttempt/save")
        async def save_attempt(request: Request) -> Any:
            body = await _json_body(request)
            strategy = self._strategy(_required(body, "csId"), "csId")
            if set(body) == {"csId"}:  # 13.3 "Get Strategy Attempts" shares this URL: no attempt fields
                return self._strategy_attempts(strategy["id"])
            fields = self._attempt_fields(body, partial=False)
            return self._add_attempt(strategy["id"], fields.pop("name"), phone=fields.pop("phone"),
                                     attempt_number=fields.pop("attemptNumber"),
                                     retry_map=fields.get("retryMap", []), channel=fields["channel"])

        @router.post("/callStrategyAttempt/update", dependencies=only_13_3)
        async def update_attempt(request: Request) -> Any:
            body = await _json_body(request)
            # The example names the attempt "csAttempt"; its answer calls it "id": accept both.
            key = "id" if body.get("id") is not None else "csAttempt"
            attempt = self._attempt(_required(body, key), key)
            if "csId" in body:
                attempt["csId"] = self._strategy(body["csId"], "csId")["id"]
            attempt.update(self._attempt_fields(body, partial=True))
            return {**attempt, "csAttempt": attempt["id"]}

        @router.post("/callStrategyAttempt/delete", dependencies=only_13_3)
        async def delete_attempt(id: str | None = None) -> Any:  # noqa: A002 - the documented parameter
            del self.attempts[self._attempt(id)["id"]]
            return PlainTextResponse("Success")

        @router.post("/callStrategyAttempt/updateOrder", dependencies=only_13_3)
        async def update_order(request: Request) -> Any:
            for attempt, index in self._attempt_positions(await _json_body(request)):
                attempt["attemptNumber"] = index  # silent: the position becomes the attempt number
            return PlainTextResponse("Success")

    def _preference_routes(self, router: APIRouter, only_13_3: list) -> None:
        @router.post("/preferenceSettings", dependencies=only_13_3)
        async def get_preferences() -> Any:
            if not self.preferences:
                raise EcmError(404, "No preference settings saved")
            return self.preferences[min(self.preferences)]  # silent: the oldest record is in effect

        @router.post("/preferenceSettings/save", dependencies=only_13_3)
        async def save_preferences(request: Request) -> Any:
            return self._add_preferences(self._preference_fields(await _json_body(request)))

        @router.post("/preferenceSettings/update", dependencies=only_13_3)
        async def update_preferences(request: Request) -> Any:
            body = await _json_body(request)
            settings = self._preference(_required(body, "id"))
            settings.update(self._preference_fields(body))
            return settings

        @router.post("/preferenceSettings/delete", dependencies=only_13_3)
        async def delete_preferences(id: str | None = None) -> Any:  # noqa: A002 - the documented parameter
            del self.preferences[self._preference(id)["id"]]
            return PlainTextResponse("Success")

    @staticmethod
    async def _uploaded_file(request: Request) -> bytes:
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise EcmError(400, "A multipart file named file is required")
        return await upload.read()
