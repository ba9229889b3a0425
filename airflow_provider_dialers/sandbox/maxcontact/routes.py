"""MaxContact sandbox routes: the Token API and the Management API's FastAPI handlers."""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from airflow_provider_dialers.sandbox.maxcontact.answers import (
    NegotiatedRoute,
    Refusal,
    Reply,
    Unauthorized,
    error,
    ok,
)
from airflow_provider_dialers.sandbox.maxcontact.readings import TOKEN_REFUSED_403, TOKEN_REFUSED_DETAIL
from airflow_provider_dialers.sandbox.maxcontact.state import MaxContactState
from airflow_provider_dialers.sandbox.maxcontact.validation import (
    CAMPAIGN_STATUSES,
    CAMPAIGN_TYPES,
    appendix_choice,
    body_bool,
    body_int,
    json_object,
)

MANAGEMENT_PATH = "/webservices/services/management"
TOKEN_PATH = "/webservices/services/apitoken/login/{login}"
TOKEN_COOKIE = "TokenKey"


class MaxContactSandbox(MaxContactState):
    """MaxContact's Token API and Management API, with campaigns, lists, teams, users and skills."""

    name = "maxcontact"
    path_prefix = "/webservices"

    # -- HTTP ------------------------------------------------------------------------------------------
    async def _require_token(self, request: Request) -> None:
        """Every management call needs a live ``TokenKey`` cookie; without one the answer is the
        reading ``mc_token_expiry``'s: HTTP 401 or 403 with the framework's ``{Message}``, or a
        ``Success: false`` ManagementActionResponse with HTTP 200."""
        if self.credentials.check(self.name, request.cookies.get(TOKEN_COOKIE)) is None:
            raise self._token_refusal()

    def _token_refusal(self) -> Refusal:
        reading = self.reading("mc_token_expiry")
        if reading == "http_403":
            return Unauthorized(403, TOKEN_REFUSED_403)
        return error(TOKEN_REFUSED_DETAIL) if reading == "success_false" else Unauthorized()

    def _token_answer(self, key: str) -> Reply:
        """The Token API's answer (reading ``mc_token_answer``): ``{TokenKey}``, a
        ManagementActionResponse whose Data holds the token and its ``Expiry`` (UTC), or the token alone."""
        reading = self.reading("mc_token_answer")
        if reading == "string":
            return Reply(key, root="string")
        if reading == "envelope":
            data = {TOKEN_COOKIE: key}
            if self.config.maxcontact_token_ttl:
                expiry = datetime.now(UTC) + timedelta(seconds=self.config.maxcontact_token_ttl)
                data["Expiry"] = expiry.isoformat(timespec="milliseconds").replace("+00:00", "Z")
            return ok(data, "Token issued")
        return Reply({TOKEN_COOKIE: key}, root="TokenResponse")

    def _patch_reply(self, campaign: Mapping[str, Any], field: str, entity_field: str,
                     table: Mapping[int, str]) -> Any:
        """The Data of a status or type PATCH (reading ``mc_patch_reply``): the new value, the updated
        campaign's id and value (``{Id, CampaignStatus: "Running", Status: 1}``), or null."""
        reading, value = self.reading("mc_patch_reply"), campaign[entity_field]
        if reading == "campaign_object":
            return {"Id": campaign["Id"], field: table[value], entity_field: value}
        return None if reading == "null" else value

    def build_router(self) -> APIRouter:
        router = APIRouter(route_class=NegotiatedRoute, tags=["MaxContact"])

        @router.get(TOKEN_PATH)
        async def token(login: str, request: Request) -> Response:
            if not self._password_matches(login, request.headers.get("authorization", "")):
                self.credentials.failed_logins[self.name] += 1
                raise Unauthorized()
            key = self.credentials.issue(self.name, login, ttl=self.config.maxcontact_token_ttl)
            return self._token_answer(key)

        management = APIRouter(prefix=MANAGEMENT_PATH, route_class=NegotiatedRoute,
                               dependencies=[Depends(self._require_token)])
        for plural in self.tables:
            self._entity_routes(management, plural)
        self._campaign_routes(management)
        self._activity_route(management, "PUT", "lists", "activitystatus", answer_entity=False)
        self._activity_route(management, "PUT", "teams", "activitystatus", answer_entity=False)
        self._activity_route(management, "PATCH", "users", "activitystatus", answer_entity=True)
        self._link_routes(management, "teams", "users", "UserId", self._add_team_user, self._remove_team_user)

        @management.put("/users/skills")
        async def associate_skill(request: Request) -> Response:
            return self._skill_reply(await json_object(request), associate=True)

        @management.delete("/users/skills")
        async def disassociate_skill(request: Request) -> Response:
            return self._skill_reply(await json_object(request), associate=False)

        @management.post("/globalemergency/enable")
        async def enable_emergency() -> Response:
            stopped = self._set_global_emergency(True)
            return ok(None, f"Global emergency enabled; {stopped} campaigns stopped")

        @management.post("/globalemergency/disable")
        async def disable_emergency() -> Response:
            restarted = self._set_global_emergency(False)
            return ok(None, f"Global emergency disabled; {restarted} campaigns restarted")

        router.include_router(management)
        return router

    def _password_matches(self, login: str, authorization: str) -> bool:
        """The Token API's check: the header is the password's Base64, with no scheme prefix."""
        try:
            password = base64.b64decode(authorization.strip(), validate=True).decode("ascii")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return login == self.user["login"] and hmac.compare_digest(password, self.user["password"])

    def _entity_routes(self, router: APIRouter, plural: str) -> None:
        """Get all, get one, create (POST) and update (PUT) of one entity."""
        # Tables are looked up per request: reset() replaces them, the routes stay.

        @router.get(f"/{plural}", name=f"get_{plural}")
        async def get_all() -> Response:
            table = self.tables[plural]
            return ok(table.all_public(), item=table.entity)

        @router.get(f"/{plural}/{{row_id:int}}", name=f"get_{plural}_one")
        async def get_one(row_id: int) -> Response:
            table = self.tables[plural]
            return ok(table.public(table.get(row_id)))

        @router.post(f"/{plural}", name=f"create_{plural}")
        async def create(request: Request) -> Response:
            table = self.tables[plural]
            row = self._save(table, await json_object(request), None)
            return ok(table.public(row), f"{table.entity} {row['Id']} created")

        @router.put(f"/{plural}/{{row_id:int}}", name=f"update_{plural}")
        async def update(row_id: int, request: Request) -> Response:
            table = self.tables[plural]
            row = self._save(table, await json_object(request), table.get(row_id))
            return ok(table.public(row), f"{table.entity} {row_id} updated")

    def _activity_route(
        self, router: APIRouter, method: str, plural: str, suffix: str, *, answer_entity: bool
    ) -> None:
        """Activate/deactivate: answers the entity, or the new flag ("the updated activity status")."""

        async def set_activity(row_id: int, request: Request) -> Response:
            table = self.tables[plural]
            row = table.get(row_id)
            row["Active"] = body_bool(await json_object(request), "Active")
            if table is self.campaigns:
                self._apply_campaign_rules(row)
            return ok(table.public(row) if answer_entity else row["Active"])

        router.add_api_route(f"/{plural}/{{row_id:int}}/{suffix}", set_activity, methods=[method],
                             name=f"{plural}_{suffix}")

    def _link_routes(
        self, router: APIRouter, owners: str, members: str, key: str,
        link: Callable[[int, int], None], unlink: Callable[[int, int], None],
    ) -> None:
        """Associate (PUT) and disassociate (DELETE, id in the body) a member with an owner.
        Silent in the reference: both are idempotent (repeating one is not an error)."""

        async def change(row_id: int, request: Request) -> Response:
            owner_table, member_table = self.tables[owners], self.tables[members]
            owner = owner_table.get(row_id)
            member = member_table.get(body_int(await json_object(request), key))
            associate = request.method == "PUT"
            (link if associate else unlink)(owner["Id"], member["Id"])
            verb = "associated with" if associate else "disassociated from"
            return ok(None, f"{member_table.entity} {member['Id']} {verb} {owner_table.entity} {row_id}")

        router.add_api_route(f"/{owners}/{{row_id:int}}/{members}", change, methods=["PUT", "DELETE"],
                             name=f"{owners}_{members}")

    def _campaign_routes(self, router: APIRouter) -> None:
        """A campaign's activity, its lists and teams, and its Status and Type (PATCH)."""
        self._activity_route(router, "PATCH", "campaigns", "activityStatus", answer_entity=True)
        self._link_routes(router, "campaigns", "lists", "ListId",
                          lambda c, m: self.campaign_lists[c].add(m),
                          lambda c, m: self.campaign_lists[c].discard(m))
        self._link_routes(router, "campaigns", "teams", "TeamId",
                          lambda c, m: self.campaign_teams[c].add(m),
                          lambda c, m: self.campaign_teams[c].discard(m))

        @router.patch("/campaigns/{row_id:int}/status")
        async def set_status(row_id: int, request: Request) -> Response:
            campaign = self.campaigns.get(row_id)
            status = appendix_choice(await json_object(request), "CampaignStatus", CAMPAIGN_STATUSES,
                                     self.reading("mc_patch_value"))
            self._set_campaign_status(campaign, status)
            reply = self._patch_reply(campaign, "CampaignStatus", "Status", CAMPAIGN_STATUSES)
            return ok(reply, f"Campaign {row_id} is {CAMPAIGN_STATUSES[status]}")

        @router.patch("/campaigns/{row_id:int}/type")
        async def set_type(row_id: int, request: Request) -> Response:
            campaign = self.campaigns.get(row_id)
            campaign["Type"] = appendix_choice(await json_object(request), "CampaignType", CAMPAIGN_TYPES,
                                               self.reading("mc_patch_value"))
            self._apply_campaign_rules(campaign)
            reply = self._patch_reply(campaign, "CampaignType", "Type", CAMPAIGN_TYPES)
            return ok(reply, f"Campaign {row_id} is {CAMPAIGN_TYPES[campaign['Type']]}")


__all__ = ["MaxContactSandbox"]
