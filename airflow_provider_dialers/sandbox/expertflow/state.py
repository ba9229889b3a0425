"""The simulated ECM's state: campaigns, contacts (callbacks), DNC, strategies, preferences; seeding
and the dialing simulation. Route handlers live in :mod:`.routes`."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from airflow_provider_dialers.sandbox.core import GrowingIndex, VendorSandbox
from airflow_provider_dialers.sandbox.expertflow.readings import READINGS
from airflow_provider_dialers.sandbox.expertflow.validation import (
    BUSINESS_PARAM_FIELDS,
    CLOCK,
    DIAL_TIME_FORMAT,
    PHONE_FIELDS,
    SMS,
    VOICE,
    WEEK_DAYS,
    EcmError,
    as_int,
    attempt_order,
    callback_fields,
    now_iso,
    required,
)

# requestState values (0 "Pending" is not numbered by the reference; see the docs).
PENDING, SENT_TO_DIALER, CONNECTED, NOT_CONNECTED, RETRIES_COMPLETED = 0, 1, 2, 3, 4
SMS_SENT_AND_CLOSED, DNC_LISTED = 5, 7
ALL_STATES = -1
DIALING_STATES = frozenset({PENDING, SENT_TO_DIALER, NOT_CONNECTED})
# callResult of a connected call (silent: the reference numbers only failures 1..5).
CALL_RESULT_CONNECTED = 0
NOT_CONNECTED_RESULTS = (1, 2, 3, 4, 5)  # busy, no answer, customer abandoned, dialer abandoned, other
CONNECT_PROBABILITY = 0.6
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


class EcmState(VendorSandbox):
    """ECM's data model on the sandbox: what the routes read and change, and how contacts get dialled."""

    name = "expertflow"
    path_prefix = "/umm"
    readings = READINGS  # the references' silent points, played either way (readings.py)

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
        self._by_campaign = GrowingIndex(lambda c: c["campaignId"])  # getList pages: no scan of them all
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
            required(body, field)
            return True

        for field in ("startTime", "endTime"):
            if given(field):
                if not CLOCK.match(str(body[field])):
                    raise EcmError(400, f"{field} must be a time of day HH:MM")
                fields[field] = str(body[field])
        if given("name"):
            fields["name"] = str(required(body, "name"))
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
        now = created or now_iso()
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
            campaign = self.campaigns.get(as_int(ref[id_key], id_key))
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

    # -- campaign contacts (callbacks) ---------------------------------------------------------
    #: Validate a contact's phones, business params and dial time (insertCallback, bulk rows).
    _callback_fields = staticmethod(callback_fields)

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
            "requestTime": now_iso(), "responseTimeout": None,
        }
        self.callbacks[callback_id] = callback
        return callback

    def _is_pending_duplicate(self, campaign: dict[str, Any], phone1: str) -> bool:
        campaign_id = int(campaign["id"])
        return any(c["campaignId"] == campaign_id and c["phone1"] == phone1 and c["requestState"] == PENDING
                   for c in self._by_campaign_phone.lookup(self.callbacks, (campaign_id, phone1)))

    def _matching_callbacks(self, filters: dict[str, Any]) -> list[dict[str, Any]]:
        wanted: dict[str, Any] = {}
        if filters.get("campaignId") not in (None, ""):
            wanted["campaignId"] = as_int(filters["campaignId"], "campaignId")
        if filters.get("requestStatus") not in (None, ""):
            status = as_int(filters["requestStatus"], "requestStatus")
            if status != ALL_STATES:
                wanted["requestState"] = status
        for field in ("numberToCall", *PHONE_FIELDS):
            if filters.get(field) not in (None, ""):
                wanted[field] = str(filters[field])
        if "campaignId" not in wanted:
            return [c for c in self.callbacks.values() if all(c[k] == v for k, v in wanted.items())]
        candidates = self._by_campaign.lookup(self.callbacks, wanted.pop("campaignId"))
        # Callers only read the answer: a campaign's own list is given as it is (paging it costs a slice).
        return [c for c in candidates if all(c[k] == v for k, v in wanted.items())] if wanted else candidates

    # -- DNC, strategies, preferences ------------------------------------------------------------
    def _add_dnc(self, body: dict[str, Any]) -> dict[str, Any]:
        number = str(required(body, "primaryNumber"))
        dnc_id = self._next_id("dnc")
        now = now_iso()
        self.dnc[dnc_id] = {"id": dnc_id, "name": body.get("name"), "updateById": 1, "primaryNumber": number,
                            "dataCreated": now, "lastUpdated": now}  # "dataCreated": the documented spelling
        return self.dnc[dnc_id]

    def _dnc_entry(self, dnc_id: Any) -> dict[str, Any]:
        entry = self.dnc.get(as_int(dnc_id, "id"))
        if entry is None:
            raise EcmError(404, f"DNC contact not found with id {dnc_id}")
        return entry

    def _add_strategy(self, name: str, max_attempts: int = 3) -> int:
        # Silent: maxAttempts is not settable through the API; 3 as in the reference's example.
        strategy_id = self._next_id("strategy")
        self.strategies[strategy_id] = {"id": strategy_id, "name": name, "maxAttempts": max_attempts}
        return strategy_id

    def _strategy(self, strategy_id: Any, field: str = "id") -> dict[str, Any]:
        strategy = self.strategies.get(as_int(strategy_id, field))
        if strategy is None:
            raise EcmError(404, f"Strategy not found with id {strategy_id}")
        return strategy

    def _strategy_attempts(self, strategy_id: int) -> list[dict[str, Any]]:
        found = [a for a in self.attempts.values() if a["csId"] == strategy_id]
        return sorted(found, key=lambda a: (a["attemptNumber"], a["id"]))

    def _strategy_view(self, strategy: dict[str, Any]) -> dict[str, Any]:
        return {**strategy, "callAttempts": self._strategy_attempts(strategy["id"])}

    def _add_attempt(self, strategy_id: int, name: str, *, phone: str, attempt_number: int,
                     retry_map: list[dict[str, Any]], channel: int = VOICE) -> dict[str, Any]:
        attempt_id = self._next_id("attempt")
        self.attempts[attempt_id] = {"id": attempt_id, "csId": strategy_id, "name": name, "phone": phone,
                                     "channel": channel, "attemptNumber": attempt_number,
                                     "retryMap": retry_map}
        return self.attempts[attempt_id]

    def _attempt(self, attempt_id: Any, field: str = "id") -> dict[str, Any]:
        attempt = self.attempts.get(as_int(attempt_id, field))
        if attempt is None:
            raise EcmError(404, f"Strategy attempt not found with id {attempt_id}")
        return attempt

    def _attempt_positions(self, body: dict[str, Any]) -> list[tuple[dict[str, Any], int]]:
        """updateOrder's (attempt, position) pairs (see :func:`.validation.attempt_order`)."""
        return [(self._attempt(pair.get("atId"), "atId"), as_int(pair.get("index"), "index"))
                for pair in attempt_order(body)]

    def _add_preferences(self, fields: dict[str, Any]) -> dict[str, Any]:
        settings_id = self._next_id("preference")
        self.preferences[settings_id] = {"id": settings_id, "campaignBatchSize": DEFAULT_BATCH_SIZE,
                                         "ivrBatchSize": DEFAULT_BATCH_SIZE, "filePath": None,
                                         "fileArchivePath": None, "username": None, "password": None,
                                         "Domain": None, **fields}
        return self.preferences[settings_id]

    def _preference(self, settings_id: Any) -> dict[str, Any]:
        settings = self.preferences.get(as_int(settings_id, "id"))
        if settings is None:
            raise EcmError(404, f"Preference settings not found with id {settings_id}")
        return settings

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
        callback["lastStatusUpdateTime"] = now_iso()

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
