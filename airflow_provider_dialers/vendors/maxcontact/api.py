"""MaxContact Management API (reference: "MaxContact Management API", document version 1.3): one
method per documented endpoint.

Every management call answers a *ManagementActionResponse* ``{Success, Data, ResponseCode,
ResponseDetail}``; the methods return its ``Data`` and raise :class:`DialerRequestError` when
``Success`` is false. Auth is the Token API (:mod:`.auth`).

What the Management API can and cannot tell: it manages campaigns, lists, teams, users, skills and
global emergency mode, and reports a campaign's ``Status`` (appendix 2) and ``Active`` flag. It
cannot upload leads, read per-lead outcomes or progress, list which lists/teams are associated
with a campaign, or list skills. "The campaign finished" is observable only as ``Status`` going
back to Not Running.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

import requests

from airflow_provider_dialers.common.hook import DialerHook
from airflow_provider_dialers.common.responses import describe_body
from airflow_provider_dialers.errors import (
    DialerConfigurationError,
    DialerRequestError,
    DialerResponseError,
    register_secret,
)
from airflow_provider_dialers.vendors.maxcontact.auth import MaxContactTokenAuth
from airflow_provider_dialers.vendors.maxcontact.wire import (
    JSON_HEADERS,
    MANAGEMENT_PATH,
    PATCH_REPLY,
    PATCH_VALUE,
    READINGS,
    AppendixEnum,
    Campaign,
    CampaignStatus,
    CampaignType,
    LeadList,
    SkillUserResult,
    Team,
    User,
    appendix_forms,
    is_management_response,
    patched_value,
    refusal_from_text,
    response_code_and_detail,
)

_E = TypeVar("_E", bound=AppendixEnum)


class MaxContactApi(DialerHook):
    """The MaxContact *Management API* ("Management Remote Control"), one method per endpoint.

    Connection: host = the server's base URL (``https://<customer>.maxcontact.com``), login and
    password = the Token API user. Each method returns the parsed ``Data`` of the
    ManagementActionResponse. MaxContact calls campaigns *Campaigns*, lead lists *Lists*, agent
    groups *Teams* and agents *Users*.
    """

    conn_type = "maxcontact"
    default_conn_name = "maxcontact_default"
    hook_name = "MaxContact"
    vendor_name = "MaxContact"
    api_root = "/webservices"
    # HttpHook puts these on the session: every call, the token login included, asks for JSON.
    default_headers = JSON_HEADERS
    extra_fields: ClassVar[tuple[str, ...]] = ("verify", "timeout", "token_lifetime")
    known_readings: ClassVar[Mapping[str, tuple[str, ...]]] = READINGS

    def build_auth(self) -> MaxContactTokenAuth:
        return MaxContactTokenAuth(self)

    def extra_checks(self) -> list[Callable[[], object]]:
        return [*super().extra_checks(), lambda: self.token_lifetime]

    @property
    def token_lifetime(self) -> float | None:
        """Extra ``token_lifetime``: the seconds a token lives on this server, when known (None: what
        the token answer says, else the auth's conservative default)."""
        value = self.extra("token_lifetime")
        if value is None:
            return None
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            seconds = math.nan
        if not (math.isfinite(seconds) and seconds > 0):
            raise DialerConfigurationError(
                f"connection extra 'token_lifetime' must be a positive number of seconds, got {value!r}",
                vendor=self.vendor_name)
        return seconds

    def _test_connection_call(self) -> str:
        return f"{len(self.get_campaigns())} campaigns visible"

    # -- responses ------------------------------------------------------------------------------
    def parse_error(self, response: requests.Response) -> tuple[str | None, str]:
        """A refused answer: a ManagementActionResponse, or the framework's ``{Message}``."""
        refusal = refusal_from_text(response.text)
        return refusal if refusal is not None else super().parse_error(response)

    def _result(
        self, method: str, path: str, *, retry_safe: bool, body: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Send one Management API call; return its result object once ``Success`` is true.

        The API reports refusals as ``Success: false`` with HTTP 200 or with a 4xx status; both
        become :class:`DialerRequestError` carrying ``ResponseCode`` and ``ResponseDetail``.
        """
        what = f"{method} {MANAGEMENT_PATH}{path}"
        json_body = None if body is None else dict(body)
        response = self.request(method, MANAGEMENT_PATH + path, retry_safe=retry_safe, json_body=json_body)
        payload = self.parse_json(response, what)
        if not is_management_response(payload):
            raise DialerResponseError(
                f"{what}: expected a ManagementActionResponse but got {describe_body(response)}",
                vendor=self.vendor_name,
            )
        if not payload["Success"]:
            raise self.request_error(what, response.status_code, *response_code_and_detail(payload))
        return payload

    def _data(
        self,
        method: str,
        path: str,
        expect: type,
        *,
        retry_safe: bool,
        body: Mapping[str, Any] | None = None,
    ) -> Any:
        """The ``Data`` of a call's ManagementActionResponse, checked to be an ``expect``."""
        data = self._result(method, path, retry_safe=retry_safe, body=body).get("Data")
        if not isinstance(data, expect):
            raise DialerResponseError(
                f"{method} {MANAGEMENT_PATH}{path}: expected {expect.__name__} Data, "
                f"got {type(data).__name__}",
                vendor=self.vendor_name,
            )
        return data

    def _set_appendix_value(self, campaign_id: int, entity_field: str, enum: type[_E], value: _E | int) -> _E:
        """PATCH a campaign's status or type (``{CampaignStatus}`` / ``{CampaignType}``); the value the
        server reports.

        The value's form is silent in the reference (reading ``mc_patch_value``): the appendix ID as
        a string (``"1"``) goes first, since an int parser and an enum parser both take it; a server
        that refuses it as invalid gets the enum name (``"NotRunning"``), then the description
        (``"Not Running"``). The form that worked is remembered; the connection extra ``readings``
        can fix it. A value outside the appendix is sent as its ID, for the server to refuse.
        """
        field = f"Campaign{entity_field}"
        path = f"/campaigns/{campaign_id}/{entity_field.lower()}"
        refused: DialerRequestError | None = None
        for reading, text in self._patch_forms(enum.from_vendor(int(value)), int(value)).items():
            try:
                payload = self._result("PATCH", path, retry_safe=True, body={field: text})
            except DialerRequestError as exc:
                if exc.status_code != 400 and exc.vendor_code != "Invalid Parameters":
                    raise  # refused for another reason than the value's form (an inactive campaign...)
                refused = refused or exc
                continue
            if reading is not None:
                self.learn(PATCH_VALUE, reading)
            return self._patched(payload.get("Data"), campaign_id, field, entity_field, enum)
        assert refused is not None
        raise refused  # every form refused: the first (the ID's) refusal names the problem

    def _patch_forms(self, member: AppendixEnum | None, value: int) -> dict[str | None, str]:
        """The body values to try, by reading: the one configured; else the one learnt, then the rest."""
        if member is None:
            return {None: str(value)}
        forms = appendix_forms(member)
        configured = self.configured_readings().get(PATCH_VALUE)
        if configured:
            return {configured: forms[configured]}
        first = self.reading(PATCH_VALUE) or "id"
        tried: dict[str | None, str] = {}
        for reading, text in {first: forms[first], **forms}.items():
            if text not in tried.values():
                tried[reading] = text
        return tried

    def _patched(self, data: Any, campaign_id: int, field: str, entity_field: str, enum: type[_E]) -> _E:
        """The value a PATCH reports (reading ``mc_patch_reply``): the bare value, the updated campaign,
        or null; when the answer names no value, the campaign is read back (the change is made)."""
        value, shape = patched_value(data, field, entity_field)
        self.learn(PATCH_REPLY, shape)
        if value is None:
            value = self.get_campaign(campaign_id).get(entity_field)
        member = enum.from_vendor(value)
        if member is None:
            raise DialerResponseError(
                f"PATCH {MANAGEMENT_PATH}/campaigns/{campaign_id}/{entity_field.lower()}: {value!r} is not a "
                f"{enum.__name__} of the appendix",
                vendor=self.vendor_name,
            )
        return member

    def _set_activity(self, method: str, path: str, expect: type, active: bool) -> Any:
        return self._data(method, path, expect, retry_safe=True, body={"Active": bool(active)})

    def _set_membership(self, method: str, path: str, key: str, member_id: int) -> None:
        # PUT associates, DELETE (with the id in a JSON body) disassociates; Data says nothing.
        self._result(method, path, retry_safe=True, body={key: int(member_id)})

    @staticmethod
    def _registered_user_passwords(data: Any) -> Any:
        # The reference says gets omit Password; should a server echo one, mask it at once.
        for user in data if isinstance(data, list) else [data]:
            if isinstance(user, dict):
                register_secret(user.get("Password"), "maxcontact_user_password")
        return data

    # -- campaigns ------------------------------------------------------------------------------
    def get_campaigns(self) -> list[Campaign]:
        """All campaigns. ``GET /webservices/services/management/campaigns``.

        Retry-safe: yes (read).
        """
        return self._data("GET", "/campaigns", list, retry_safe=True)

    def get_campaign(self, campaign_id: int) -> Campaign:
        """One campaign; its ``Status`` (:class:`CampaignStatus`) is how completion shows.
        ``GET /webservices/services/management/campaigns/{campaignId}``.

        Retry-safe: yes (read).
        """
        return self._data("GET", f"/campaigns/{int(campaign_id)}", dict, retry_safe=True)

    def create_campaign_entity(self, campaign: Campaign) -> Campaign:
        """Create a campaign; returns it with its new ``Id``.
        ``POST /webservices/services/management/campaigns``.

        Retry-safe: no (a resend after a lost answer would create a second campaign).
        """
        return self._data("POST", "/campaigns", dict, retry_safe=False, body=campaign)

    def update_campaign(self, campaign_id: int, campaign: Campaign) -> Campaign:
        """Replace a campaign's settings with ``campaign`` (a whole Campaign entity: read it with
        :meth:`get_campaign` and change fields).
        ``PUT /webservices/services/management/campaigns/{campaignId}``.

        Retry-safe: yes (sends the whole entity; repeating it leaves the same state).
        """
        return self._data("PUT", f"/campaigns/{int(campaign_id)}", dict, retry_safe=True, body=campaign)

    def update_campaign_activity_status(self, campaign_id: int, active: bool) -> Campaign:
        """Activate or deactivate a campaign; returns the campaign.
        ``PATCH /webservices/services/management/campaigns/{campaignId}/activityStatus``.

        Retry-safe: yes (sets a flag).
        """
        return self._set_activity("PATCH", f"/campaigns/{int(campaign_id)}/activityStatus", dict, active)

    def update_campaign_status(self, campaign_id: int, status: CampaignStatus | int) -> CampaignStatus:
        """Start, pause, stop or flush a campaign; returns the status the server reports.
        ``PATCH /webservices/services/management/campaigns/{campaignId}/status`` with ``{CampaignStatus}``.

        The reference types ``CampaignStatus`` as a string without naming the form, and says the
        answer holds "the updated campaign status" without its shape: see
        :meth:`_set_appendix_value` for what is sent and what answers are understood.

        Retry-safe: yes (sets a state).
        """
        return self._set_appendix_value(int(campaign_id), "Status", CampaignStatus, status)

    def update_campaign_type(self, campaign_id: int, campaign_type: CampaignType | int) -> CampaignType:
        """Change a campaign's dialling strategy; returns the type the server reports.
        ``PATCH /webservices/services/management/campaigns/{campaignId}/type`` with
        ``{CampaignType}``, sent and read as for :meth:`update_campaign_status`.

        Retry-safe: yes (sets a state).
        """
        return self._set_appendix_value(int(campaign_id), "Type", CampaignType, campaign_type)

    def associate_list_with_campaign(self, campaign_id: int, list_id: int) -> None:
        """Let a campaign dial a list of leads.
        ``PUT /webservices/services/management/campaigns/{campaignId}/lists`` with ``{ListId}``.

        Retry-safe: yes (sets a membership).
        """
        self._set_membership("PUT", f"/campaigns/{int(campaign_id)}/lists", "ListId", list_id)

    def disassociate_list_from_campaign(self, campaign_id: int, list_id: int) -> None:
        """Stop a campaign dialling a list.
        ``DELETE /webservices/services/management/campaigns/{campaignId}/lists`` with a ``{ListId}`` body.

        Retry-safe: yes (removes a membership).
        """
        self._set_membership("DELETE", f"/campaigns/{int(campaign_id)}/lists", "ListId", list_id)

    def associate_team_with_campaign(self, campaign_id: int, team_id: int) -> None:
        """Staff a campaign with a team.
        ``PUT /webservices/services/management/campaigns/{campaignId}/teams`` with ``{TeamId}``.

        Retry-safe: yes (sets a membership).
        """
        self._set_membership("PUT", f"/campaigns/{int(campaign_id)}/teams", "TeamId", team_id)

    def disassociate_team_from_campaign(self, campaign_id: int, team_id: int) -> None:
        """Take a team off a campaign.
        ``DELETE /webservices/services/management/campaigns/{campaignId}/teams`` with a ``{TeamId}`` body.

        Retry-safe: yes (removes a membership).
        """
        self._set_membership("DELETE", f"/campaigns/{int(campaign_id)}/teams", "TeamId", team_id)

    # -- lists ----------------------------------------------------------------------------------
    def get_lists(self) -> list[LeadList]:
        """All lists. ``GET /webservices/services/management/lists``.

        Retry-safe: yes (read).
        """
        return self._data("GET", "/lists", list, retry_safe=True)

    def get_list(self, list_id: int) -> LeadList:
        """One list. ``GET /webservices/services/management/lists/{listId}``.

        Retry-safe: yes (read).
        """
        return self._data("GET", f"/lists/{int(list_id)}", dict, retry_safe=True)

    def create_list(self, lead_list: LeadList) -> LeadList:
        """Create an (empty) list; leads are imported outside this API.
        ``POST /webservices/services/management/lists``.

        Retry-safe: no (a resend after a lost answer would create a second list).
        """
        return self._data("POST", "/lists", dict, retry_safe=False, body=lead_list)

    def update_list(self, list_id: int, lead_list: LeadList) -> LeadList:
        """Replace a list's settings; leaving ``UseMaxCallbackDays`` out keeps its stored value.
        ``PUT /webservices/services/management/lists/{listId}``.

        Retry-safe: yes (sends the whole entity; repeating it leaves the same state).
        """
        return self._data("PUT", f"/lists/{int(list_id)}", dict, retry_safe=True, body=lead_list)

    def update_list_activity_status(self, list_id: int, active: bool) -> bool:
        """Activate or deactivate a list; returns the resulting activity status.
        ``PUT /webservices/services/management/lists/{listId}/activitystatus``.

        Retry-safe: yes (sets a flag).
        """
        return self._set_activity("PUT", f"/lists/{int(list_id)}/activitystatus", bool, active)

    # -- teams ----------------------------------------------------------------------------------
    def get_teams(self) -> list[Team]:
        """All teams. ``GET /webservices/services/management/teams``.

        Retry-safe: yes (read).
        """
        return self._data("GET", "/teams", list, retry_safe=True)

    def get_team(self, team_id: int) -> Team:
        """One team. ``GET /webservices/services/management/teams/{teamId}``.

        Retry-safe: yes (read).
        """
        return self._data("GET", f"/teams/{int(team_id)}", dict, retry_safe=True)

    def create_team(self, team: Team) -> Team:
        """Create a team. ``POST /webservices/services/management/teams``.

        Retry-safe: no (a resend after a lost answer would create a second team).
        """
        return self._data("POST", "/teams", dict, retry_safe=False, body=team)

    def update_team(self, team_id: int, team: Team) -> Team:
        """Replace a team's settings. ``PUT /webservices/services/management/teams/{teamId}``.

        Retry-safe: yes (sends the whole entity; repeating it leaves the same state).
        """
        return self._data("PUT", f"/teams/{int(team_id)}", dict, retry_safe=True, body=team)

    def update_team_activity_status(self, team_id: int, active: bool) -> bool:
        """Activate or deactivate a team; returns the resulting activity status.
        ``PUT /webservices/services/management/teams/{teamId}/activitystatus``.

        Retry-safe: yes (sets a flag).
        """
        return self._set_activity("PUT", f"/teams/{int(team_id)}/activitystatus", bool, active)

    def associate_user_with_team(self, team_id: int, user_id: int) -> None:
        """Add a user to a team (a user has one ``TeamId``).
        ``PUT /webservices/services/management/teams/{teamId}/users`` with ``{UserId}``.

        Retry-safe: yes (sets a membership).
        """
        self._set_membership("PUT", f"/teams/{int(team_id)}/users", "UserId", user_id)

    def disassociate_user_from_team(self, team_id: int, user_id: int) -> None:
        """Remove a user from a team.
        ``DELETE /webservices/services/management/teams/{teamId}/users`` with a ``{UserId}`` body.

        Retry-safe: yes (removes a membership).
        """
        self._set_membership("DELETE", f"/teams/{int(team_id)}/users", "UserId", user_id)

    # -- users ----------------------------------------------------------------------------------
    def get_users(self) -> list[User]:
        """All users (without passwords). ``GET /webservices/services/management/users``.

        Retry-safe: yes (read).
        """
        return self._registered_user_passwords(self._data("GET", "/users", list, retry_safe=True))

    def get_user(self, user_id: int) -> User:
        """One user (without password). ``GET /webservices/services/management/users/{userId}``.

        Retry-safe: yes (read).
        """
        user = self._data("GET", f"/users/{int(user_id)}", dict, retry_safe=True)
        return self._registered_user_passwords(user)

    def create_user(self, user: User) -> User:
        """Create a user; ``Password`` is required. ``POST /webservices/services/management/users``.

        Retry-safe: no (a resend after a lost answer would try to create the user twice).
        """
        register_secret(user.get("Password"), "maxcontact_user_password")
        created = self._data("POST", "/users", dict, retry_safe=False, body=user)
        return self._registered_user_passwords(created)

    def update_user(self, user_id: int, user: User) -> User:
        """Replace a user's settings; ``Password`` is required here too (reference, User entity).
        ``PUT /webservices/services/management/users/{userId}``.

        Retry-safe: yes (sends the whole entity; repeating it leaves the same state).
        """
        register_secret(user.get("Password"), "maxcontact_user_password")
        return self._registered_user_passwords(
            self._data("PUT", f"/users/{int(user_id)}", dict, retry_safe=True, body=user)
        )

    def update_user_activity_status(self, user_id: int, active: bool) -> User:
        """Activate or deactivate a user; returns the user.
        ``PATCH /webservices/services/management/users/{userId}/activitystatus``.

        Retry-safe: yes (sets a flag).
        """
        user = self._set_activity("PATCH", f"/users/{int(user_id)}/activitystatus", dict, active)
        return self._registered_user_passwords(user)

    def associate_skill_with_users(
        self, skill_id: int, proficiency: int, user_ids: list[int]
    ) -> SkillUserResult:
        """Give users a skill at a proficiency from 1 to 10 (skill ids come from the Manager
        Portal's Outbound Skills page; the API cannot list them).
        ``PUT /webservices/services/management/users/skills`` with ``{SkillId, Proficiency, UserIds}``.

        Retry-safe: yes (sets the skill's proficiency for those users).
        """
        users = [int(user_id) for user_id in user_ids]
        body = {"SkillId": int(skill_id), "Proficiency": int(proficiency), "UserIds": users}
        # A SkillUserResult carries Success/ResponseCode/ResponseDetail itself: the whole object.
        result = self._result("PUT", "/users/skills", retry_safe=True, body=body)
        return result  # type: ignore[return-value]

    def disassociate_skill_from_users(self, skill_id: int, user_ids: list[int]) -> SkillUserResult:
        """Take a skill away from users.
        ``DELETE /webservices/services/management/users/skills`` with a ``{SkillId, UserIds}`` body.

        Retry-safe: yes (removes a membership).
        """
        body = {"SkillId": int(skill_id), "UserIds": [int(user_id) for user_id in user_ids]}
        result = self._result("DELETE", "/users/skills", retry_safe=True, body=body)
        return result  # type: ignore[return-value]

    # -- global emergency -------------------------------------------------------------------------
    def enable_global_emergency(self) -> None:
        """Stop ALL campaigns and route inbound numbers to emergency routing.
        ``POST /webservices/services/management/globalemergency/enable``.

        Retry-safe: yes (sets a system-wide mode; enabling it twice changes nothing).
        """
        self._result("POST", "/globalemergency/enable", retry_safe=True)

    def disable_global_emergency(self) -> None:
        """Revert the system back to normal after :meth:`enable_global_emergency`.
        ``POST /webservices/services/management/globalemergency/disable``.

        Retry-safe: yes (sets a system-wide mode; disabling it twice changes nothing).
        """
        self._result("POST", "/globalemergency/disable", retry_safe=True)


__all__ = ["MaxContactApi"]
