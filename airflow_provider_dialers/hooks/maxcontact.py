"""MaxContact Management API (reference: "MaxContact Management API", document version 1.3).

Auth is the reference's *Token API*: ``GET /webservices/services/apitoken/login/{login}`` with the
password Base64-encoded (ASCII) in the ``Authorization`` header, as is; the answer's ``TokenKey``
travels on every later call as the cookie ``TokenKey=<token>``. Every management call answers a
*ManagementActionResponse* ``{Success, Data, ResponseCode, ResponseDetail}``; the hook returns its
``Data`` and raises :class:`DialerRequestError` when ``Success`` is false.

What the Management API can and cannot tell: it manages campaigns, lists, teams, users, skills and
global emergency mode, and reports a campaign's ``Status`` (appendix 2) and ``Active`` flag. It
cannot upload leads, read per-lead outcomes or progress, list which lists/teams are associated
with a campaign, or list skills. "The campaign finished" is observable only as ``Status`` going
back to Not Running.

Capabilities (vendor-neutral, :class:`~airflow_provider_dialers.capabilities.DialerCapabilities`):
create/find/list campaigns, set their status, the native global emergency and a campaign's
progress (its Status). Uploading contacts, callbacks, DNC and contact states are not supported.
The campaign spec check and the appendix tables live in :mod:`airflow_provider_dialers.mappings.maxcontact`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, TypedDict, TypeVar
from urllib.parse import quote

import requests

from airflow_provider_dialers.capabilities import (
    CallbackRow,
    CampaignProgress,
    CampaignStatusWord,
    ContactRow,
    ContactState,
    DncResult,
    RowOutcome,
    UploadOptions,
)
from airflow_provider_dialers.hooks.base import (
    CampaignSummary,
    Credential,
    CredentialAuth,
    DialerAuthError,
    DialerHook,
    DialerRequestError,
    DialerResponseError,
    DialerTransientError,
    describe_body,
    register_secret,
)
from airflow_provider_dialers.mappings import maxcontact as mapping
from airflow_provider_dialers.mappings.maxcontact import (  # the appendix tables, re-exported
    AppendixEnum,
    CampaignStatus,
    CampaignType,
    ZipTone,
    ZipToneBeep,
)

TOKEN_LOGIN_PATH = "/webservices/services/apitoken/login/{login}"
MANAGEMENT_PATH = "/webservices/services/management"
#: The API answers XML unless both headers ask for JSON (reference, "Responses").
JSON_HEADERS = {"Accept": "application/json", "Content-Type": "application/json"}
TOKEN_COOKIE = "TokenKey"


_E = TypeVar("_E", bound=AppendixEnum)

# --------------------------------------------------------------------------------------------
# Entities
# --------------------------------------------------------------------------------------------


class Campaign(TypedDict, total=False):
    """MaxContact's *Campaign* entity.

    ``Type`` holds a :class:`CampaignType` ID, ``Status`` a :class:`CampaignStatus` ID.
    """

    Id: int
    CampaignName: str
    Active: bool
    Description: str
    CallerId: str
    Type: int
    MaxLines: int
    DegradeToProgressive: bool
    ProgressiveThreshold: int
    TargetDropPercent: float
    IsBlended: bool
    AutoRecord: bool
    DefaultListId: int
    HoursPerWorkingDay: float
    DefaultPhoneType: int
    TeleParamPlanId: int
    SchedulePlanId: int
    ZipTone: int
    ZipToneBeep: int
    ZipToneWav: str
    NotReadyWaitTime: int
    Status: int


class LeadList(TypedDict, total=False):
    """MaxContact's *List* entity: a list of leads (imported outside this API) dialled by campaigns."""

    Id: int
    ListName: str
    Description: str
    ListType: int
    CallerIdEnabled: bool
    CallerId: str
    MaxCallbackDays: int
    UseMaxCallbackDays: bool
    MaxCallbackDate: str
    FetchWeight: int
    AlertsEnabled: bool
    ScriptingEnabled: bool
    ScriptProvider: int
    ScriptId: int
    Script: str
    RecallPlanId: int
    CallingTimePlanId: int
    ResultCodePlanId: int
    IvrPlanId: int
    AnswerMachinePlanId: int
    DoNotCallPlanId: int
    SchedulePlanId: int


class Team(TypedDict, total=False):
    """MaxContact's *Team* entity: a group of agents that campaigns are associated with."""

    Id: int
    TenantId: int
    TeamName: str
    PrimarySupervisorId: int
    MaxCallbacksPerDay: int
    ServiceTime: int
    HoursPerWorkingDay: float
    WellBeingDeckId: int


class User(TypedDict, total=False):
    """MaxContact's *User* entity (often an agent). ``Password`` is sent on create/update only."""

    Id: int
    FirstName: str
    LastName: str
    Login: str
    RolePlanId: int
    UseRTC: bool
    Extension: str
    AutoLogon: int
    TeamId: int
    AgentCapacityPlanId: int
    SSOActive: bool
    Password: str


class SkillUserResult(TypedDict, total=False):
    """MaxContact's *SkillUserResult*. The reference gives no shape; this provider (and its
    sandbox) use the ManagementActionResponse's status fields plus the skill and the user ids."""

    Success: bool
    ResponseCode: str
    ResponseDetail: str
    SkillId: int
    UserIds: list[int]


# --------------------------------------------------------------------------------------------
# Auth
# --------------------------------------------------------------------------------------------


class MaxContactTokenAuth(CredentialAuth):
    """MaxContact's *Token API*: one token per login, sent as the ``TokenKey`` cookie.

    The reference documents no expiry field in the token answer, so the token is used until the
    server answers 401; the base class then logs in once more and resends the call. The cookie is
    set as a header on each request (not kept in the session's cookie jar) so a re-login replaces
    it cleanly.
    """

    def login(self) -> Credential:
        hook = self.hook
        login, password = hook.connection.login, hook.connection.password
        if not login or not password:
            raise DialerAuthError(
                f"connection {hook.conn_id!r} needs a login and a password (the Token API user)",
                vendor=hook.vendor_name,
            )
        path = TOKEN_LOGIN_PATH.format(login=quote(login, safe=""))
        try:
            response = hook.request(
                "GET",
                path,
                authenticated=False,
                retry_safe=True,
                headers={"Authorization": _base64_password(password, hook.vendor_name)},
            )
        except DialerRequestError as exc:
            if exc.status_code not in (401, 403):
                raise
            detail = f" ({exc.vendor_message})" if exc.vendor_message else ""
            raise DialerAuthError(
                f"the Token API refused login {login!r} with HTTP {exc.status_code}{detail}; "
                "check the connection's login and password",
                vendor=hook.vendor_name,
            ) from None
        token = _token_from(hook, response, login)
        register_secret(token, "maxcontact_token")
        return Credential(token)

    def apply(self, request: requests.PreparedRequest, credential: Credential) -> None:
        request.headers["Cookie"] = f"{TOKEN_COOKIE}={credential.value}"


def _base64_password(password: str, vendor: str) -> str:
    """The reference's form: the password's ASCII bytes, Base64-encoded, with no ``Basic`` prefix."""
    try:
        encoded = base64.b64encode(password.encode("ascii")).decode("ascii")
    except UnicodeEncodeError:
        raise DialerAuthError(
            "the connection's password holds non-ASCII characters; MaxContact's Token API takes the "
            "password's ASCII bytes, so it cannot be sent",
            vendor=vendor,
        ) from None
    register_secret(encoded, "maxcontact_password_base64")
    return encoded


def _token_from(hook: DialerHook, response: requests.Response, login: str) -> str:
    payload = hook.parse_json(response, "Token API login")
    if not isinstance(payload, dict):
        raise DialerResponseError(
            f"Token API login: expected a token object but got {describe_body(response)}",
            vendor=hook.vendor_name,
        )
    token = payload.get(TOKEN_COOKIE)
    if not isinstance(token, str) or not token:
        detail = payload.get("ResponseDetail") or payload.get("Message")
        raise DialerAuthError(
            f"the Token API issued no {TOKEN_COOKIE} for login {login!r}"
            + (f" ({detail})" if detail else "")
            + "; check the connection's login and password",
            vendor=hook.vendor_name,
        )
    return token


# --------------------------------------------------------------------------------------------
# Hook
# --------------------------------------------------------------------------------------------


def _response_code_and_detail(payload: Mapping[str, Any]) -> tuple[str | None, str]:
    """A refused ManagementActionResponse's ``ResponseCode`` and ``ResponseDetail``."""
    code, detail = payload.get("ResponseCode"), payload.get("ResponseDetail")
    return (None if code is None else str(code)), ("" if detail is None else str(detail))


class MaxContactHook(DialerHook):
    """Hook for the MaxContact *Management API* ("Management Remote Control"), document version 1.3.

    Connection: host = the server's base URL (``https://<customer>.maxcontact.com``), login and
    password = the Token API user. One method per documented endpoint; each returns the parsed
    ``Data`` of the ManagementActionResponse. MaxContact calls campaigns *Campaigns*, lead lists
    *Lists*, agent groups *Teams* and agents *Users*.
    """

    conn_type = "maxcontact"
    default_conn_name = "maxcontact_default"
    hook_name = "MaxContact"
    vendor_name = "MaxContact"
    # HttpHook puts these on the session: every call, the token login included, asks for JSON.
    default_headers = JSON_HEADERS

    def build_auth(self) -> MaxContactTokenAuth:
        return MaxContactTokenAuth(self)

    def _test_connection_call(self) -> str:
        return f"{len(self.get_campaigns())} campaigns visible"

    # -- capabilities (vendor-neutral; see capabilities.DialerCapabilities) ----------------------
    #: What MaxContact's Management API is for, quoted in every "not supported" answer.
    _API_SCOPE: ClassVar[str] = (
        "MaxContact's Management API manages campaigns, lists, teams, users and skills only"
    )
    required_campaign_fields = mapping.REQUIRED_CAMPAIGN_FIELDS
    campaign_name_field = "CampaignName"  # unique in MaxContact: what makes creation retry-safe

    def create_campaign(self, spec: Mapping[str, Any]) -> str:
        """Create a *Campaign* from the reference's fields (``CampaignName``, ``Type``, ...); its id.

        The spec is checked before sending (:func:`mappings.maxcontact.campaign_from_spec`). The
        create call itself cannot be re-sent blindly, but names are unique in MaxContact: when the
        answer is lost after the server may have acted, the campaign is looked up by name instead.
        """
        campaign = mapping.campaign_from_spec(spec)
        try:
            return str(self.create_campaign_entity(campaign)["Id"])
        except DialerTransientError as exc:
            found = self.find_campaign(campaign["CampaignName"]) if exc.may_have_been_processed else None
            if found is None:
                raise
            self.log.info("MaxContact: the lost create answer was processed: campaign %s exists", found)
            return found

    def find_campaign(self, name: str) -> str | None:
        """The id of the campaign whose ``CampaignName`` is exactly ``name``, or None."""
        return next((c["id"] for c in self.list_campaigns() if c["name"] == name), None)

    def set_campaign_status(self, campaign_id: str, status: CampaignStatusWord) -> None:
        """``running`` -> Status Running, ``paused`` -> Paused (``update_campaign_status``)."""
        self.update_campaign_status(mapping.campaign_number(campaign_id), mapping.status_for_word(status))

    def list_campaigns(self) -> list[CampaignSummary]:
        """Every campaign; status is the Appendix 2 description ("Running", "Not Running"...)."""
        return [
            CampaignSummary(id=str(c["Id"]), name=str(c.get("CampaignName", "")),
                            status=mapping.status_description(c.get("Status")),
                            running=CampaignStatus.from_vendor(c.get("Status")) is CampaignStatus.RUNNING)
            for c in self.get_campaigns()
        ]

    def set_global_emergency(self, enabled: bool) -> dict[str, Any]:
        """MaxContact's own global emergency (enable stops every campaign); what it changed.

        The campaigns are read before and after (2 extra reads): ``{"enabled", "campaigns_stopped",
        "campaigns_restarted"}`` lists the ids whose Status went from Running to stopped, or back.
        """
        before = self.get_campaigns()
        if enabled:
            self.enable_global_emergency()
        else:
            self.disable_global_emergency()
        return mapping.emergency_changes(enabled, before, self.get_campaigns())

    def get_campaign_progress(self, campaign_id: str) -> CampaignProgress:
        """One ``get_campaign`` call: complete once the Status is Not Running or Flushed.

        The API gives no lead counts or outcomes; ``detail`` says so (see the mapping's
        ``COMPLETE_STATUSES`` for why Flushed counts and Paused does not).
        """
        campaign = self.get_campaign(mapping.campaign_number(campaign_id))
        return mapping.campaign_progress(str(campaign_id), campaign)

    def upload_contacts(
        self, campaign_id: str, rows: Sequence[ContactRow], *, options: UploadOptions
    ) -> list[RowOutcome]:
        raise self.not_supported(
            "upload contacts", f"{self._API_SCOPE}; leads are imported into Lists outside it"
        )

    def add_callbacks(
        self, campaign_id: str, rows: Sequence[CallbackRow], *, options: UploadOptions
    ) -> list[RowOutcome]:
        raise self.not_supported("schedule callbacks", f"{self._API_SCOPE}; it has no callback endpoint")

    def add_dnc(self, numbers: Sequence[str]) -> DncResult:
        raise self.not_supported("manage a DNC list", f"{self._API_SCOPE}; it cannot edit do-not-call lists")

    def remove_dnc(self, numbers: Sequence[str]) -> DncResult:
        raise self.not_supported("manage a DNC list", f"{self._API_SCOPE}; it cannot edit do-not-call lists")

    def list_dnc(self) -> set[str]:
        raise self.not_supported("read a DNC list", f"{self._API_SCOPE}; it cannot read do-not-call lists")

    def get_contact_state(self, campaign_id: str, contact_ref: str) -> ContactState:
        raise self.not_supported(
            "report a contact's state", f"{self._API_SCOPE}; it cannot read leads or their outcomes"
        )

    # -- responses ------------------------------------------------------------------------------
    def parse_error(self, response: requests.Response) -> tuple[str | None, str]:
        """A refused answer: a ManagementActionResponse, or the framework's ``{Message}``."""
        try:
            payload = json.loads(response.text)
        except ValueError:
            payload = None
        if isinstance(payload, dict) and ("ResponseCode" in payload or "ResponseDetail" in payload):
            return _response_code_and_detail(payload)
        if isinstance(payload, dict) and isinstance(payload.get("Message"), str):
            return None, payload["Message"]
        return super().parse_error(response)

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
        if not isinstance(payload, dict) or not isinstance(payload.get("Success"), bool):
            raise DialerResponseError(
                f"{what}: expected a ManagementActionResponse but got {describe_body(response)}",
                vendor=self.vendor_name,
            )
        if not payload["Success"]:
            raise self.request_error(what, response.status_code, *_response_code_and_detail(payload))
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

    def _set_appendix_value(self, path: str, field: str, enum: type[_E], value: _E | int) -> _E:
        """PATCH an appendix value, sent as its ID string (``"1"``); return the value the server reports."""
        data = self._result("PATCH", path, retry_safe=True, body={field: str(int(value))}).get("Data")
        member = enum.from_vendor(data)
        if member is None:
            raise DialerResponseError(
                f"PATCH {MANAGEMENT_PATH}{path}: {data!r} is not a {enum.__name__} of the appendix",
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

        The reference types ``CampaignStatus`` as a string without naming the form: the hook sends
        the appendix ID as a string (``"1"``), which an enum parser accepts whatever the member
        names are; descriptions such as "Not Running" hold spaces no enum name has.

        Retry-safe: yes (sets a state).
        """
        path = f"/campaigns/{int(campaign_id)}/status"
        return self._set_appendix_value(path, "CampaignStatus", CampaignStatus, status)

    def update_campaign_type(self, campaign_id: int, campaign_type: CampaignType | int) -> CampaignType:
        """Change a campaign's dialling strategy; returns the type the server reports.
        ``PATCH /webservices/services/management/campaigns/{campaignId}/type`` with
        ``{CampaignType}``, sent as the appendix ID string (as for :meth:`update_campaign_status`).

        Retry-safe: yes (sets a state).
        """
        path = f"/campaigns/{int(campaign_id)}/type"
        return self._set_appendix_value(path, "CampaignType", CampaignType, campaign_type)

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


__all__ = [
    "AppendixEnum",
    "Campaign",
    "CampaignStatus",
    "CampaignType",
    "LeadList",
    "MaxContactHook",
    "MaxContactTokenAuth",
    "SkillUserResult",
    "Team",
    "User",
    "ZipTone",
    "ZipToneBeep",
]
