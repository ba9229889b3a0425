"""The simulated ECM's routes under ``/umm``: the login, ``/umm/ecm/...`` and their auth checks.

Handlers look state up through ``self`` on every request (``reset()`` rebuilds it between tests).
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from airflow_provider_dialers.sandbox.expertflow.state import EcmState
from airflow_provider_dialers.sandbox.expertflow.validation import (
    EcmError,
    EcmRoute,
    as_int,
    attempt_fields,
    bulk_rows,
    csv_lines,
    json_body,
    now_iso,
    preference_fields,
    query_and_body,
    required,
    status_action,
)

DEFAULT_PAGE_SIZE = 10  # silent: Grails' default ``max``
#: Reading ecm_bulk_processing "queued": seconds between the answer and the rows being stored.
BULK_QUEUE_SECONDS = 0.5


class ExpertflowSandbox(EcmState):
    """ExpertFlow ECM: JWT login, campaigns, campaign contacts (callbacks), DNC, strategies, preferences."""

    def build_router(self) -> APIRouter:
        router = APIRouter(prefix=self.path_prefix, route_class=EcmRoute)
        router.include_router(self._login_router())
        router.include_router(self._ecm_router())
        return router

    def _login_router(self) -> APIRouter:
        router = APIRouter(route_class=EcmRoute)

        @router.api_route("/api/login", methods=["GET", "POST"])
        async def login(request: Request) -> Any:
            # Documented as a GET with a JSON body; reading ecm_login_method: GET only, or POST only.
            allowed = "POST" if self.reading("ecm_login_method") == "post" else "GET"
            if request.method != allowed:
                raise EcmError(405, f"Request method '{request.method}' is not supported")
            return self._login(await json_body(request))

        return router

    def _ecm_router(self) -> APIRouter:
        router = APIRouter(prefix="/ecm", route_class=EcmRoute, dependencies=[Depends(self._require_token)])
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
            body = await json_body(request)
            fields = self._campaign_fields(body, partial=False)
            fields["ciscoCampaignId"] = self._cisco(required(body, "ciscoCampaignId"))["ciscoCampaignId"]
            campaign = self.campaigns[self._add_campaign(fields)]
            return JSONResponse(campaign, status_code=201 if self.release == "13.3" else 200)

        @router.post("/campaign/createCampaignBySkilllGroup")
        async def create_campaign_by_skill_group(request: Request) -> Any:
            body = await json_body(request)
            fields = self._campaign_fields(body, partial=False)
            skill_group = str(required(body, "skillGroup"))
            cisco = next((c for c in self.cisco_campaigns if c["skillGroup"] == skill_group), None)
            if cisco is None:
                raise EcmError(404, f"No Cisco campaign found for skill group {skill_group}")
            fields.update(ciscoCampaignId=cisco["ciscoCampaignId"], skillGroup=skill_group)
            return self.campaigns[self._add_campaign(fields)]

        @router.put("/campaign/update")
        async def update_campaign(request: Request) -> Any:
            body = await json_body(request)
            campaign = self._campaign(body)
            changes = self._campaign_fields({**body, "id": campaign["id"]}, partial=True)
            if "ciscoCampaignId" in body:
                cisco = self._cisco(body["ciscoCampaignId"])
                changes.update({key: cisco[key] for key in ("ciscoCampaignId", "ciscoCampaignName")})
            if "startTime" in changes:
                changes["startTIme"] = changes.pop("startTime")
            campaign.update(changes, lastUpdated=now_iso())
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
            self._by_campaign.invalidate()
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
            params = query_and_body(request, await json_body(request))
            if params.get("id") in (None, "") and params.get("campaignId") not in (None, ""):
                params["id"] = params["campaignId"]
            action = status_action(required(params, "status"))
            return self._set_status(self._campaign(params), action)

    def _set_status(self, campaign: dict[str, Any], action: str) -> PlainTextResponse:
        campaign["status"] = "0" if action == "pause" else "1"
        campaign["lastUpdated"] = now_iso()
        return PlainTextResponse(f"Campaign with id {campaign['id']} successfully {action}d")

    def _dnc_routes(self, router: APIRouter, only_13_3: list) -> None:
        @router.get("/contact")
        async def list_dnc() -> Any:
            return list(self.dnc.values())

        @router.post("/contact/save")
        async def save_dnc(request: Request) -> Any:
            entry = self._add_dnc(await json_body(request))
            # 13.3 shows the DNC object; 13.2 shows no answer (reading ecm_dnc_save_answer).
            answer = self.reading("ecm_dnc_save_answer") if self.release == "13.2" else "dnc_object"
            if answer == "empty_200":
                return Response(status_code=200)
            return PlainTextResponse("Contact saved successfully") if answer == "sentence" else entry

        @router.post("/contact/update", dependencies=only_13_3)
        async def update_dnc(request: Request) -> Any:
            body = await json_body(request)
            entry = self._dnc_entry(required(body, "id"))
            if "primaryNumber" in body:
                entry["primaryNumber"] = str(required(body, "primaryNumber"))
            if "name" in body:
                entry["name"] = body["name"]
            entry["lastUpdated"] = now_iso()
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
            for line_number, cells in csv_lines(content):  # "contact-number,optional-name"
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
            body = await json_body(request)
            campaign = self._campaign(body, id_key="campaignId")
            policy = str(body.get("duplicateCallbacks") or "allow").lower()  # silent: absent means allow
            if policy not in ("allow", "discard"):
                raise EcmError(400, "duplicateCallbacks must be allow or discard")
            fields = self._callback_fields(body)
            if policy == "discard" and self._is_pending_duplicate(campaign, fields["phone1"]):
                status = self._discarded(fields["phone1"])
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
            rows = bulk_rows(await self._uploaded_file(request))  # one bad line refuses the whole file
            if self.reading("ecm_bulk_processing") == "queued":  # stored after the answer
                asyncio.get_running_loop().call_later(BULK_QUEUE_SECONDS, self._add_callbacks, campaign, rows)
            else:
                self._add_callbacks(campaign, rows)
            return PlainTextResponse("File is uploaded")

        @router.get("/callback/getList")
        async def get_list(request: Request) -> Any:
            # Documented under "Request Body" of a GET (reading ecm_getlist_filters): the query string
            # only, or a JSON body only (a GET without one reads as no filter, as Grails' request.JSON).
            by_body = self.reading("ecm_getlist_filters") == "body"
            params = await json_body(request) if by_body else dict(request.query_params)
            # Reading ecm_page_base: pages count from 0, or from 1 (page 0 refused, or read as page 1).
            base = self.reading("ecm_page_base")
            first = 0 if base == "0" else 1
            size = as_int(params.get("max", DEFAULT_PAGE_SIZE), "max")
            page = as_int(params.get("page", first), "page")
            if base == "1_clamps_0":
                page = max(page, first)
            if size < 1 or page < first:
                raise EcmError(400, f"max must be at least 1 and page at least {first}")
            matching = self._matching_callbacks(params)
            start = (page - first) * size
            return {"callbackData": matching[start:start + size], "total": len(matching)}

    def _add_callbacks(self, campaign: dict[str, Any], rows: list[dict[str, Any]]) -> None:
        if self.campaigns.get(int(campaign["id"])) is campaign:  # not after a reset (a test's clean state)
            for row in rows:
                self._add_callback(campaign, row)

    def _discarded(self, phone1: str) -> Any:
        """insertCallback's answer to a discarded duplicate (reading ecm_discard_answer)."""
        answer = self.reading("ecm_discard_answer")
        if answer == "http_4xx":
            raise EcmError(406, f"Duplicate callback: {phone1} already exists in the dialing list with "
                                "Pending status and duplicateCallbacks is discard")
        if answer == "other_sentence":
            return f"callback already exists with Pending status: {phone1} not uploaded again"
        return "duplicate callback discarded"

    def _strategy_routes(self, router: APIRouter, only_13_3: list) -> None:
        @router.get("/callStrategy")
        async def list_strategies() -> Any:
            return [self._strategy_view(s) for s in self.strategies.values()]

        @router.post("/callStrategy/save")
        async def save_strategy(request: Request) -> Any:
            name = str(required(await json_body(request), "name"))
            return {"id": self._add_strategy(name), "name": name}

        @router.post("/callStrategy/updateName", dependencies=only_13_3)
        async def update_strategy_name(request: Request) -> Any:
            body = await json_body(request)
            strategy = self._strategy(required(body, "csId"), "csId")
            strategy["name"] = str(required(body, "name"))
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
            body = await json_body(request)
            strategy = self._strategy(required(body, "csId"), "csId")
            if set(body) == {"csId"}:  # 13.3 "Get Strategy Attempts" shares this URL: no attempt fields
                return self._strategy_attempts(strategy["id"])
            fields = attempt_fields(body, partial=False)
            return self._add_attempt(strategy["id"], fields.pop("name"), phone=fields.pop("phone"),
                                     attempt_number=fields.pop("attemptNumber"),
                                     retry_map=fields.get("retryMap", []), channel=fields["channel"])

        @router.post("/callStrategyAttempt/update", dependencies=only_13_3)
        async def update_attempt(request: Request) -> Any:
            body = await json_body(request)
            # The example names the attempt "csAttempt"; its answer calls it "id": accept both.
            key = "id" if body.get("id") is not None else "csAttempt"
            attempt = self._attempt(required(body, key), key)
            if "csId" in body:
                attempt["csId"] = self._strategy(body["csId"], "csId")["id"]
            attempt.update(attempt_fields(body, partial=True))
            return {**attempt, "csAttempt": attempt["id"]}

        @router.post("/callStrategyAttempt/delete", dependencies=only_13_3)
        async def delete_attempt(id: str | None = None) -> Any:  # noqa: A002 - the documented parameter
            del self.attempts[self._attempt(id)["id"]]
            return PlainTextResponse("Success")

        @router.post("/callStrategyAttempt/updateOrder", dependencies=only_13_3)
        async def update_order(request: Request) -> Any:
            for attempt, index in self._attempt_positions(await json_body(request)):
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
            return self._add_preferences(preference_fields(await json_body(request)))

        @router.post("/preferenceSettings/update", dependencies=only_13_3)
        async def update_preferences(request: Request) -> Any:
            body = await json_body(request)
            settings = self._preference(required(body, "id"))
            settings.update(preference_fields(body))
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
        status = int(self.reading("ecm_token_refused_status"))  # 401, or Spring Security's 403
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            raise EcmError(status, "Full authentication is required to access this resource")
        if self.credentials.check(self.name, header.removeprefix("Bearer ").strip()) is None:
            raise EcmError(status, "Invalid or expired token")

    async def _require_13_3(self, request: Request) -> None:
        if self.release != "13.3":
            raise EcmError(404, f"No endpoint {request.method} {request.url.path} in ECM {self.release}")
