"""ExpertFlow ECM (Expertflow Campaign Manager) REST API, releases 13.2 and 13.3.

ECM serves its API on the UMM server: ``GET /umm/api/login`` issues a JWT; ``/umm/ecm/...``
manages campaigns, the people a campaign calls (campaign contacts, which ECM calls
*callbacks*), the DNC list, call strategies with their attempts and, from 13.3, preference
settings. The connection extra ``api_version`` ("13.2" or "13.3", default "13.3") selects the
release: 13.2 pauses with ``campaign/pause`` and has no 13.3-only endpoints.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from datetime import time as clock_time
from enum import IntEnum
from typing import Any, Literal, cast

import requests

from airflow_provider_dialers.hooks.base import (
    CampaignSummary,
    Credential,
    CredentialAuth,
    DialerAuthError,
    DialerError,
    DialerHook,
    DialerNotSupportedError,
    DialerRequestError,
    DialerResponseError,
    describe_body,
    register_secret,
)

VENDOR = "ExpertFlow ECM"
RELEASES = ("13.2", "13.3")
DEFAULT_RELEASE = "13.3"

LOGIN_PATH = "/umm/api/login"
CAMPAIGN = "/umm/ecm/campaign"
DNC = "/umm/ecm/contact"
CALLBACK = "/umm/ecm/callback"
STRATEGY = "/umm/ecm/callStrategy"
ATTEMPT = "/umm/ecm/callStrategyAttempt"
PREFERENCES = "/umm/ecm/preferenceSettings"

#: Answers to a login that mean "wrong username or password" (13.3 documents 400 and 401).
LOGIN_REFUSED_STATUSES = frozenset({400, 401, 403})
#: Keys of the login answer that are credentials, kept out of :meth:`ExpertflowEcmHook.get_login_details`.
TOKEN_KEYS = frozenset({"token", "refresh_token", "token_type", "expires_in"})
#: Keys under which ECM puts a confirmation sentence when it answers JSON.
MESSAGE_KEYS = ("statusString", "message")

PHONE_FIELDS = tuple(f"phone{n}" for n in range(1, 6))
BUSINESS_PARAM_FIELDS = tuple(f"businessParam{n}" for n in range(1, 13))
#: Column order of the ``callback/uploadBulkCaller`` file, as documented.
BULK_CALLER_COLUMNS = (*PHONE_FIELDS, *BUSINESS_PARAM_FIELDS, "dialTime")
#: ``callback/getList`` pages are numbered from 0 (the reference is silent; see the docs).
FIRST_PAGE = 0

DuplicateCallbacks = Literal["allow", "discard"]
#: ECM campaign ids are numbers, answered as strings ("2").
CampaignId = int | str


class CampaignType(IntEnum):
    """ECM campaign ``type``."""

    NONE = -1
    IVR = 0
    AGENT = 1


class Channel(IntEnum):
    """Channel of a strategy attempt."""

    VOICE = 0
    SMS = 1


class RequestState(IntEnum):
    """``requestState`` of a campaign contact (callback); the ``requestStatus`` filter of getList.

    The reference numbers 1..9 and -1 (all); a freshly uploaded contact is "Pending", which it
    does not number: this provider (and its sandbox) use 0.
    """

    ALL = -1
    PENDING = 0
    SENT_TO_DIALER = 1
    CONNECTED = 2
    NOT_CONNECTED = 3
    RETRIES_COMPLETED = 4
    SMS_SENT_AND_CLOSED = 5
    SMS_SENT = 6
    DNC_LISTED = 7
    DANGLING = 8
    SMS_RESPONDED = 9


@dataclass(frozen=True)
class EcmPreferenceSettings:
    """ECM 13.3 *preference settings* (feed batch sizes, sync file paths, DB credentials).

    Fields left ``None`` are not sent (ECM defaults the batch sizes to 10).
    """

    campaign_batch_size: int | None = None
    ivr_batch_size: int | None = None
    file_path: str | None = None
    file_archive_path: str | None = None
    db_username: str | None = None
    db_password: str | None = field(default=None, repr=False)
    db_domain: str | None = None

    def to_body(self) -> dict[str, Any]:
        return _without_none(
            {
                "campaignBatchSize": self.campaign_batch_size,
                "ivrBatchSize": self.ivr_batch_size,
                "filePath": self.file_path,
                "fileArchivePath": self.file_archive_path,
                "username": self.db_username,
                "password": self.db_password,
                "Domain": self.db_domain,  # capitalised in both references
            }
        )


class EcmBearerAuth(CredentialAuth):
    """ECM's JWT: ``GET /umm/api/login`` with ``{username, password}``, then ``Authorization: Bearer``.

    The token is renewed by logging in again, before ``expires_in`` runs out or when a call is
    answered 401. The ``refresh_token`` in the answer is registered as a secret but not used:
    neither reference documents a refresh endpoint.
    """

    def __init__(self, hook: DialerHook) -> None:
        super().__init__(hook)
        #: The last login answer without its credentials: license and user details.
        self.login_details: dict[str, Any] = {}

    def login(self) -> Credential:
        conn = self.hook.connection
        if not conn.login or not conn.password:
            raise DialerAuthError(
                f"connection {self.hook.conn_id!r} needs a login and a password", vendor=VENDOR
            )
        try:
            # Documented as a GET carrying a JSON body (unusual, but it is the API): requests
            # sends the body with GET as with any other method.
            response = self.hook.request(
                "GET",
                LOGIN_PATH,
                authenticated=False,
                retry_safe=True,
                json_body={"username": conn.login, "password": conn.password},
                ok_statuses=(200,),
            )
        except DialerRequestError as exc:
            if exc.status_code not in LOGIN_REFUSED_STATUSES:
                raise
            raise DialerAuthError(
                f"login refused (HTTP {exc.status_code}): check the login and password of "
                f"connection {self.hook.conn_id!r}",
                vendor=VENDOR,
            ) from None
        answer = cast(ExpertflowEcmHook, self.hook).decode(response, f"GET {LOGIN_PATH}", dict)
        token = answer.get("token")
        register_secret(token, "ecm_token")
        register_secret(answer.get("refresh_token"), "ecm_refresh_token")
        if not isinstance(token, str) or not token:
            raise DialerResponseError("the login answer holds no token", vendor=VENDOR)
        token_type = str(answer.get("token_type") or "Bearer")
        if token_type.lower() != "bearer":
            raise DialerResponseError(
                f"unsupported token_type {token_type!r} (expected Bearer)", vendor=VENDOR
            )
        self.login_details = {key: value for key, value in answer.items() if key not in TOKEN_KEYS}
        return Credential(token, expires_at=self.deadline(answer.get("expires_in")))

    @classmethod
    def deadline(cls, expires_in: Any) -> float | None:
        """When to stop using a token that lives ``expires_in`` seconds (None: until refused).

        The safety margin is at most a tenth of the lifetime, so a short-lived token is still
        used for most of its life instead of being renewed before every call.
        """
        try:
            seconds = float(expires_in)
        except (TypeError, ValueError):
            return None
        if not seconds > 0:  # also rejects NaN
            return None
        return time.monotonic() + seconds - min(cls.expiry_margin, seconds / 10)

    def apply(self, request: requests.PreparedRequest, credential: Credential) -> None:
        request.headers["Authorization"] = f"Bearer {credential.value}"


class ExpertflowEcmHook(DialerHook):
    """Hook for ExpertFlow ECM, the *Expertflow Campaign Manager* of the UMM server (13.2, 13.3).

    ECM's words: a *campaign* is an ECM campaign linked to a Cisco UCCE/UCCX campaign (and
    optionally to a CRM campaign, ``crmCampaignId``); the people it calls are *campaign
    contacts*, which the API calls *callbacks*; a *call strategy* is an ordered list of
    *attempts* (which phone, which channel, what to do on busy / no answer); the *DNC* list holds
    numbers never to call; *preference settings* (13.3) configure the feed.

    Connection: host = UMM server URL (``https://umm.example.com``), login/password = ECM user,
    extra ``api_version`` = ``13.3`` (default) or ``13.2``.
    """

    conn_type = "expertflow_ecm"
    default_conn_name = "expertflow_ecm_default"
    hook_name = "ExpertFlow ECM"
    vendor_name = VENDOR
    extra_fields = ("verify", "timeout", "api_version")

    # -- plumbing ------------------------------------------------------------------------------
    def build_auth(self) -> EcmBearerAuth:
        return EcmBearerAuth(self)

    @property
    def api_version(self) -> str:
        """The ECM release of the connection: "13.2" or "13.3"."""
        release = str(self.extra("api_version", DEFAULT_RELEASE)).strip()
        if release not in RELEASES:
            raise DialerError(
                f"connection extra 'api_version' is {release!r}; "
                f"supported releases are {', '.join(RELEASES)}",
                vendor=VENDOR,
            )
        return release

    def _require_13_3(self, endpoint: str) -> None:
        if self.api_version != "13.3":
            raise DialerNotSupportedError(
                f"{endpoint} exists from ECM release 13.3; connection {self.conn_id!r} is set to release "
                f"{self.api_version} (connection extra 'api_version')",
                vendor=VENDOR,
            )

    def parse_error(self, response: requests.Response) -> tuple[str | None, str]:
        """ECM answers errors Spring-style: ``{"status": 400, "error": "Bad Request", "message": ...}``."""
        try:
            body = json.loads(response.text)
        except ValueError:
            body = None
        if not isinstance(body, dict) or not (body.get("message") or body.get("error")):
            return super().parse_error(response)
        return (str(body["error"]) if body.get("error") else None), str(body.get("message") or body.get("error"))

    def decode(self, response: requests.Response, what: str, expect: type[dict] | type[list]) -> Any:
        """The answer's JSON, which must be an object (``dict``) or an array (``list``)."""
        return self.parse_json(response, what, expect=expect)

    def _call_json(
        self, method: str, path: str, expect: type[dict] | type[list], *, retry_safe: bool, **kwargs: Any
    ) -> Any:
        response = self.request(method, path, retry_safe=retry_safe, **kwargs)
        return self.decode(response, f"{method} {path}", expect)

    def _call_message(self, method: str, path: str, *, retry_safe: bool, **kwargs: Any) -> str:
        """Call an endpoint documented to answer a sentence ("Campaign with id 1 successfully
        paused"); ECM sends it as plain text or as JSON (``{"statusString": ...}``). Returns the
        sentence ("" for an empty answer such as 204)."""
        response = self.request(method, path, retry_safe=retry_safe, **kwargs)
        what = f"{method} {path}"
        text = response.text.strip()
        if not text:
            return ""
        if text[0] in '{["' or text == "null":
            data = self.parse_json(response, what)
            if isinstance(data, str):
                return data
            if isinstance(data, dict):
                sentence = next((data[key] for key in MESSAGE_KEYS if isinstance(data.get(key), str)), None)
                return sentence if sentence is not None else json.dumps(data, sort_keys=True)
        elif not text.startswith("<"):
            return text
        raise DialerResponseError(
            f"{what}: expected a confirmation but got {describe_body(response)}", vendor=VENDOR
        )

    def _test_connection_call(self) -> str:
        return f"{len(self.get_campaigns())} campaigns (ECM release {self.api_version})"

    def list_campaigns(self) -> list[CampaignSummary]:
        """Every campaign as ``{id, name, status}``: status "Running" (ECM "1") or "Paused" ("0")."""
        words = {"1": "Running", "0": "Paused"}
        return [
            CampaignSummary(id=str(c["id"]), name=str(c.get("name", "")),
                            status=words.get(str(c.get("status")), str(c.get("status"))))
            for c in self.get_campaigns()
        ]

    # -- login ---------------------------------------------------------------------------------
    def get_login_details(self) -> dict[str, Any]:
        """License and user details from the login answer (``GET /umm/api/login``), tokens removed.

        ECM has no other license endpoint: this reuses the hook's current login and logs in only
        when there is none. Retry-safe: yes (a login changes nothing).
        """
        auth = cast(EcmBearerAuth, self.auth)
        auth.current()
        return dict(auth.login_details)

    # -- campaigns -------------------------------------------------------------------------------
    def get_cisco_campaigns(self) -> list[dict[str, Any]]:
        """The UCCE/UCCX campaigns an ECM campaign can be linked to
        (``GET /umm/ecm/campaign/fetchCiscoCampaigns``).

        Retry-safe: yes (read).
        """
        return self._call_json("GET", f"{CAMPAIGN}/fetchCiscoCampaigns", list, retry_safe=True)

    def create_ecm_campaign(
        self,
        *,
        name: str,
        cisco_campaign_id: str | int,
        strategy_id: str | int,
        start_time: str | clock_time,
        end_time: str | clock_time,
        week_days: str | Iterable[int],
        campaign_type: CampaignType | int = CampaignType.IVR,
        enabled: bool = True,
        crm_campaign_id: str | None = None,
        description: str | None = None,
        sms_template: str | None = None,
    ) -> dict[str, Any]:
        """Create an ECM campaign linked to a Cisco campaign (``POST /umm/ecm/campaign/createCampaign``).

        ``start_time``/``end_time`` are the daily window ("HH:MM"), ``week_days`` 0 (Sunday) .. 6.
        ECM answers 201 (13.3) or 200 (13.2); both are accepted. Returns the campaign.
        Retry-safe: no (a re-sent create makes a second campaign).
        """
        body = _campaign_body(
            name=name, strategy_id=strategy_id, start_time=start_time, end_time=end_time,
            week_days=week_days, campaign_type=campaign_type, enabled=enabled,
            crm_campaign_id=crm_campaign_id, description=description, sms_template=sms_template,
        )
        body["ciscoCampaignId"] = cisco_campaign_id
        campaign = self._call_json(
            "POST", f"{CAMPAIGN}/createCampaign", dict, retry_safe=False, json_body=body
        )
        return _normalize_campaign(campaign)

    def create_campaign_by_skill_group(
        self,
        *,
        name: str,
        skill_group: str,
        strategy_id: str | int,
        start_time: str | clock_time,
        end_time: str | clock_time,
        week_days: str | Iterable[int],
        campaign_type: CampaignType | int = CampaignType.AGENT,
        enabled: bool = True,
        crm_campaign_id: str | None = None,
        description: str | None = None,
        dialer_type: str | None = None,
        sms_template: str | None = None,
    ) -> dict[str, Any]:
        """Create an ECM campaign linked to the UCCE campaign of a skill group
        (``POST /umm/ecm/campaign/createCampaignBySkilllGroup``, the documented spelling).

        ``dialer_type`` is the Cisco dialing mode, e.g. "PREDICTIVE". Returns the campaign.
        Retry-safe: no (a re-sent create makes a second campaign).
        """
        body = _campaign_body(
            name=name, strategy_id=strategy_id, start_time=start_time, end_time=end_time,
            week_days=week_days, campaign_type=campaign_type, enabled=enabled,
            crm_campaign_id=crm_campaign_id, description=description, sms_template=sms_template,
        )
        body.update(_without_none({"skillGroup": skill_group, "dialerType": dialer_type}))
        campaign = self._call_json(
            "POST", f"{CAMPAIGN}/createCampaignBySkilllGroup", dict, retry_safe=False, json_body=body
        )
        return _normalize_campaign(campaign)

    def update_campaign(
        self,
        changes: Mapping[str, Any],
        campaign_id: CampaignId | None = None,
        *,
        crm_campaign_id: str | None = None,
    ) -> dict[str, Any]:
        """Change fields of a campaign (``PUT /umm/ecm/campaign/update``); returns the whole campaign.

        ``changes`` uses ECM's field names (``name``, ``startTime``, ``endTime``, ``weekDays``,
        ``strategyId``, ``enabled``, ``description``, ``smsTemplate``, ...).
        Retry-safe: yes (it sets values; sending it twice leaves the same campaign).
        """
        body = {**changes, **_campaign_ref(campaign_id, crm_campaign_id, id_key="id")}
        campaign = self._call_json("PUT", f"{CAMPAIGN}/update", dict, retry_safe=True, json_body=body)
        return _normalize_campaign(campaign)

    def get_campaigns(self) -> list[dict[str, Any]]:
        """All campaigns (``GET /umm/ecm/campaign``).

        ``status`` is "1" while the campaign runs and "0" while paused. The reference's answers
        spell two keys ``startTIme`` and ``weekdays``; ``startTime`` and ``weekDays`` are added.
        Retry-safe: yes (read).
        """
        return [_normalize_campaign(c) for c in self._call_json("GET", CAMPAIGN, list, retry_safe=True)]

    def get_campaign(
        self, campaign_id: CampaignId | None = None, *, crm_campaign_id: str | None = None
    ) -> dict[str, Any] | None:
        """One campaign by ECM id or CRM campaign id, or None (``GET /umm/ecm/campaign``, filtered here:
        ECM has no single-campaign read). Retry-safe: yes (read)."""
        key, wanted = next(iter(_campaign_ref(campaign_id, crm_campaign_id, id_key="id").items()))
        return next((c for c in self.get_campaigns() if str(c.get(key)) == str(wanted)), None)

    def delete_campaign(
        self, campaign_id: CampaignId | None = None, *, crm_campaign_id: str | None = None
    ) -> str:
        """Delete a campaign (``DELETE /umm/ecm/campaign/delete?id=`` or ``?crmCampaignId=``).

        Retry-safe: yes (deleting by id; a repeat finds nothing more to delete).
        """
        params = _campaign_ref(campaign_id, crm_campaign_id, id_key="id")
        return self._call_message("DELETE", f"{CAMPAIGN}/delete", retry_safe=True, params=params)

    def pause_campaign(
        self, campaign_id: CampaignId | None = None, *, crm_campaign_id: str | None = None
    ) -> str:
        """Stop a campaign from dialing: ``POST /umm/ecm/campaign/pause?id=`` (13.2) or
        ``POST /umm/ecm/campaign/campaignUpdateStatus`` (13.3). Returns ECM's confirmation.

        Retry-safe: yes (it sets a state).
        """
        return self._set_campaign_status("pause", campaign_id, crm_campaign_id)

    def resume_campaign(
        self, campaign_id: CampaignId | None = None, *, crm_campaign_id: str | None = None
    ) -> str:
        """Let a paused campaign dial again: ``POST /umm/ecm/campaign/resume?id=`` (13.2) or
        ``POST /umm/ecm/campaign/campaignUpdateStatus`` (13.3). Returns ECM's confirmation.

        Retry-safe: yes (it sets a state).
        """
        return self._set_campaign_status("resume", campaign_id, crm_campaign_id)

    def _set_campaign_status(
        self, action: Literal["pause", "resume"], campaign_id: CampaignId | None, crm_campaign_id: str | None
    ) -> str:
        ref = _campaign_ref(campaign_id, crm_campaign_id, id_key="id")
        if self.api_version == "13.2":
            return self._call_message("POST", f"{CAMPAIGN}/{action}", retry_safe=True, params=ref)
        # 13.3 documents the endpoint but not its body: we send the campaign reference and
        # {"status": "pause"|"resume"} (see the README's vendor section).
        return self._call_message(
            "POST", f"{CAMPAIGN}/campaignUpdateStatus", retry_safe=True, json_body={**ref, "status": action}
        )

    # -- DNC --------------------------------------------------------------------------------------
    def list_dnc_contacts(self) -> list[dict[str, Any]]:
        """The DNC (do not call) list (``GET /umm/ecm/contact``). Retry-safe: yes (read)."""
        return self._call_json("GET", DNC, list, retry_safe=True)

    def add_dnc_contact(self, primary_number: str, name: str | None = None) -> dict[str, Any]:
        """Put one number on the DNC list (``POST /umm/ecm/contact/save``); returns the DNC contact.

        Retry-safe: no (a re-sent save adds a second entry; check :meth:`list_dnc_contacts`).
        """
        body = _without_none({"name": name, "primaryNumber": primary_number})
        return self._call_json("POST", f"{DNC}/save", dict, retry_safe=False, json_body=body)

    def update_dnc_contact(
        self, contact_id: int, *, primary_number: str | None = None, name: str | None = None
    ) -> dict[str, Any]:
        """Change a DNC contact (``POST /umm/ecm/contact/update``, ECM 13.3); returns it.

        Retry-safe: yes (it sets values).
        """
        self._require_13_3("POST /umm/ecm/contact/update")
        body = _without_none({"id": contact_id, "name": name, "primaryNumber": primary_number})
        return self._call_json("POST", f"{DNC}/update", dict, retry_safe=True, json_body=body)

    def delete_dnc_contact(self, contact_id: int) -> str:
        """Take a contact off the DNC list (``DELETE /umm/ecm/contact/delete?id=``; 13.3 answers 204).

        Retry-safe: yes (deleting by id).
        """
        return self._call_message("DELETE", f"{DNC}/delete", retry_safe=True, params={"id": contact_id})

    def upload_dnc_csv(
        self, contacts: Iterable[str | tuple[str, str | None]] | str | bytes, filename: str = "dnc.csv"
    ) -> str:
        """Put many numbers on the DNC list (``POST /umm/ecm/contact/uploadCsv``, multipart file).

        ``contacts``: numbers, ``(number, name)`` pairs, or a ready CSV ("contact-number,optional-name"
        lines). Returns ECM's confirmation. Retry-safe: no (a re-sent file adds the entries twice).
        """
        if isinstance(contacts, (str, bytes)):
            content = contacts
        else:
            content = _csv_bytes((entry,) if isinstance(entry, str) else entry for entry in contacts)
        files = {"file": (filename, content, "text/csv")}
        return self._call_message("POST", f"{DNC}/uploadCsv", retry_safe=False, files=files)

    # -- campaign contacts (callbacks) -------------------------------------------------------------
    def insert_callback(
        self,
        phone1: str,
        *,
        campaign_id: CampaignId | None = None,
        crm_campaign_id: str | None = None,
        other_phones: Sequence[str] = (),
        duplicate_callbacks: DuplicateCallbacks = "discard",
        dial_time: datetime | str | None = None,
        business_params: Mapping[int, str] | Sequence[str | None] = (),
    ) -> str:
        """Add one contact to a campaign (``POST /umm/ecm/callback/insertCallback``).

        ``other_phones`` become phone2..phone5 (4 to 15 characters each, "+" included);
        ``dial_time`` is when to dial, in the ECM server's local time (None: by the campaign's
        schedule); ``business_params`` are businessParam1..12 (a sequence, or a mapping from
        1..12), 255 characters at most. ``duplicate_callbacks="discard"`` (the default) makes ECM
        skip the contact when phone1 is already pending in the campaign. Returns ECM's
        ``statusString``.

        Retry-safe: yes with "discard" (a re-sent insert is discarded as a duplicate while the
        first is pending), no with "allow" (it would add the contact twice).
        """
        if duplicate_callbacks not in ("allow", "discard"):
            raise DialerError(
                f"duplicate_callbacks must be 'allow' or 'discard', not {duplicate_callbacks!r}",
                vendor=VENDOR,
            )
        body: dict[str, Any] = {
            **_campaign_ref(campaign_id, crm_campaign_id, id_key="campaignId"),
            **_phones(phone1, other_phones),
            **_business_params(business_params),
            "duplicateCallbacks": duplicate_callbacks,
        }
        if dial_time is not None:
            body["dialTime"] = _dial_time(dial_time)
        return self._call_message(
            "POST", f"{CALLBACK}/insertCallback", retry_safe=duplicate_callbacks == "discard", json_body=body
        )

    def upload_bulk_callers(
        self,
        contacts: Iterable[Mapping[str, Any]] | str | bytes,
        campaign_id: CampaignId | None = None,
        *,
        crm_campaign_id: str | None = None,
        filename: str = "contacts.csv",
    ) -> str:
        """Add many contacts to a campaign from a CSV file (``GET /umm/ecm/callback/uploadBulkCaller``).

        Sent as documented: a GET carrying a multipart body (the file, and ``campaignId`` or
        ``crmCampaignId`` as form fields). ``contacts``: mappings with the keys phone1..phone5,
        businessParam1..12 and dialTime, or a ready CSV in the documented column order
        (phone1..phone5, businessParam1..12, dialTime; no header). Returns ECM's confirmation.

        Retry-safe: no (a re-sent file adds every contact again).
        """
        content = contacts if isinstance(contacts, (str, bytes)) else _bulk_caller_csv(contacts)
        return self._call_message(
            "GET",
            f"{CALLBACK}/uploadBulkCaller",
            retry_safe=False,
            data=_campaign_ref(campaign_id, crm_campaign_id, id_key="campaignId"),
            files={"file": (filename, content, "text/csv")},
        )

    def get_callbacks(
        self,
        campaign_id: int | None = None,
        *,
        request_status: RequestState | int | None = None,
        page: int | None = None,
        max_results: int | None = None,
        number_to_call: str | None = None,
        phone1: str | None = None,
        phone2: str | None = None,
        phone3: str | None = None,
        phone4: str | None = None,
        phone5: str | None = None,
    ) -> dict[str, Any]:
        """One page of campaign contacts and their states (``GET /umm/ecm/callback/getList``).

        The reference lists the filters under "Request Body" of a GET; they are sent as query
        parameters (``max``, ``page`` from 0, ``requestStatus``, ``campaignId``, ``numberToCall``,
        ``phone1``..``phone5``). Returns ``{"callbackData": [...], "total": N}`` where ``total``
        counts every contact matching the filters, whatever the page size.
        Retry-safe: yes (read).
        """
        params = _without_none(
            {
                "campaignId": campaign_id,
                "requestStatus": None if request_status is None else int(request_status),
                "page": page,
                "max": max_results,
                "numberToCall": number_to_call,
                "phone1": phone1, "phone2": phone2, "phone3": phone3, "phone4": phone4, "phone5": phone5,
            }
        )
        path = f"{CALLBACK}/getList"
        response = self.request("GET", path, retry_safe=True, params=params)
        answer = self.decode(response, f"GET {path}", dict)
        if not isinstance(answer.get("callbackData"), list) or not isinstance(answer.get("total"), int):
            raise DialerResponseError(
                f"GET {path}: expected callbackData and total but got {describe_body(response)}",
                vendor=VENDOR,
            )
        return answer

    def count_callbacks(
        self, campaign_id: int | None = None, *, request_status: RequestState | int = RequestState.ALL
    ) -> int:
        """How many contacts (of a campaign, in a state) there are: getList's ``total`` with ``max=1``.

        Retry-safe: yes (read).
        """
        first = self.get_callbacks(campaign_id, request_status=request_status, page=FIRST_PAGE, max_results=1)
        return first["total"]

    def iter_callbacks(
        self,
        campaign_id: int | None = None,
        *,
        request_status: RequestState | int | None = None,
        page_size: int = 500,
    ) -> Iterator[dict[str, Any]]:
        """Every matching contact, fetched page by page with ``GET /umm/ecm/callback/getList``.

        Retry-safe: yes (reads).
        """
        page, seen = FIRST_PAGE, 0
        while True:
            answer = self.get_callbacks(
                campaign_id, request_status=request_status, page=page, max_results=page_size
            )
            rows = answer["callbackData"]
            yield from rows
            seen += len(rows)
            if not rows or seen >= answer["total"]:
                return
            page += 1

    # -- call strategies ---------------------------------------------------------------------------
    def list_strategies(self) -> list[dict[str, Any]]:
        """Call strategies with their attempts (``GET /umm/ecm/callStrategy``). Retry-safe: yes (read)."""
        return self._call_json("GET", STRATEGY, list, retry_safe=True)

    def create_strategy(self, name: str) -> dict[str, Any]:
        """Create an empty call strategy (``POST /umm/ecm/callStrategy/save``); returns ``{id, name}``.

        Retry-safe: no (a re-sent save makes a second strategy).
        """
        return self._call_json("POST", f"{STRATEGY}/save", dict, retry_safe=False, json_body={"name": name})

    def update_strategy_name(self, strategy_id: int, name: str) -> str:
        """Rename a call strategy (``POST /umm/ecm/callStrategy/updateName``, ECM 13.3).

        Retry-safe: yes (it sets a value).
        """
        self._require_13_3("POST /umm/ecm/callStrategy/updateName")
        body = {"csId": strategy_id, "name": name}
        return self._call_message("POST", f"{STRATEGY}/updateName", retry_safe=True, json_body=body)

    def delete_strategy(self, strategy_id: int) -> str:
        """Delete a call strategy (``POST /umm/ecm/callStrategy/delete?id=``, ECM 13.3).

        Retry-safe: yes (deleting by id).
        """
        self._require_13_3("POST /umm/ecm/callStrategy/delete")
        return self._call_message("POST", f"{STRATEGY}/delete", retry_safe=True, params={"id": strategy_id})

    def get_strategy_attempts(self, strategy_id: int) -> list[dict[str, Any]]:
        """The attempts of a strategy ("Get Strategy Attempts", ECM 13.3).

        The 13.3 reference documents this read at ``POST /umm/ecm/callStrategyAttempt/save``, the
        create URL, without a body; we send only ``{"csId": strategy_id}``, which carries none of
        an attempt's fields and so cannot be taken for a create.
        Retry-safe: yes (read).
        """
        self._require_13_3("Get Strategy Attempts (POST /umm/ecm/callStrategyAttempt/save)")
        body = {"csId": strategy_id}
        return self._call_json("POST", f"{ATTEMPT}/save", list, retry_safe=True, json_body=body)

    def create_strategy_attempt(
        self,
        strategy_id: int,
        *,
        name: str,
        phone: int,
        attempt_number: int,
        channel: Channel | int = Channel.VOICE,
        retry_map: Sequence[Mapping[str, Any]] = (),
    ) -> dict[str, Any]:
        """Add an attempt to a strategy (``POST /umm/ecm/callStrategyAttempt/save``); returns it.

        ``phone`` is which of phone1..phone5 to dial; ``retry_map`` entries are
        ``{"call_result": 1..5, "attempt_number": n, "delay": minutes}`` (voice) or
        ``{"sms_response_timeout": .., "attempt_number": .., "expiry": ..}`` (SMS).
        Retry-safe: no (a re-sent save adds a second attempt).
        """
        body = _attempt_body(strategy_id, name=name, phone=phone, attempt_number=attempt_number,
                             channel=channel, retry_map=retry_map)
        return self._call_json("POST", f"{ATTEMPT}/save", dict, retry_safe=False, json_body=body)

    def update_strategy_attempt(
        self,
        attempt_id: int,
        strategy_id: int,
        *,
        name: str | None = None,
        phone: int | None = None,
        attempt_number: int | None = None,
        channel: Channel | int | None = None,
        retry_map: Sequence[Mapping[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Change an attempt (``POST /umm/ecm/callStrategyAttempt/update``, ECM 13.3); returns it.

        The reference's example names the attempt ``csAttempt`` and its answer calls it ``id``:
        both are sent. Retry-safe: yes (it sets values).
        """
        self._require_13_3("POST /umm/ecm/callStrategyAttempt/update")
        body = _attempt_body(strategy_id, name=name, phone=phone, attempt_number=attempt_number,
                             channel=channel, retry_map=retry_map)
        body.update({"id": attempt_id, "csAttempt": attempt_id})
        return self._call_json("POST", f"{ATTEMPT}/update", dict, retry_safe=True, json_body=body)

    def delete_strategy_attempt(self, attempt_id: int) -> str:
        """Delete an attempt (``POST /umm/ecm/callStrategyAttempt/delete?id=``, ECM 13.3).

        Retry-safe: yes (deleting by id).
        """
        self._require_13_3("POST /umm/ecm/callStrategyAttempt/delete")
        return self._call_message("POST", f"{ATTEMPT}/delete", retry_safe=True, params={"id": attempt_id})

    def update_attempt_order(self, positions: Mapping[int, int]) -> str:
        """Reorder attempts (``POST /umm/ecm/callStrategyAttempt/updateOrder``, ECM 13.3).

        ``positions`` maps attempt id to its position (which becomes its attemptNumber). Sent as
        ``{"idIndexJson": {"data": [{"atId": .., "index": ..}]}}``: the reference's example wraps
        the array in braces, which is not JSON. Retry-safe: yes (it sets positions).
        """
        self._require_13_3("POST /umm/ecm/callStrategyAttempt/updateOrder")
        data = [{"atId": attempt_id, "index": index} for attempt_id, index in positions.items()]
        body = {"idIndexJson": {"data": data}}
        return self._call_message("POST", f"{ATTEMPT}/updateOrder", retry_safe=True, json_body=body)

    # -- preference settings (13.3) ----------------------------------------------------------------
    def get_preference_settings(self) -> dict[str, Any]:
        """The preference settings in effect (``POST /umm/ecm/preferenceSettings``, ECM 13.3).

        The answer holds a DB password, registered as a secret. Retry-safe: yes (read).
        """
        self._require_13_3("POST /umm/ecm/preferenceSettings")
        return self._preference_call(PREFERENCES, {}, retry_safe=True)

    def save_preference_settings(self, settings: EcmPreferenceSettings) -> dict[str, Any]:
        """Store preference settings (``POST /umm/ecm/preferenceSettings/save``, ECM 13.3); returns them.

        Retry-safe: no (a re-sent save stores a second record).
        """
        self._require_13_3("POST /umm/ecm/preferenceSettings/save")
        return self._preference_call(f"{PREFERENCES}/save", settings.to_body(), retry_safe=False)

    def update_preference_settings(self, settings_id: int, settings: EcmPreferenceSettings) -> dict[str, Any]:
        """Change stored preference settings (``POST /umm/ecm/preferenceSettings/update``, ECM 13.3).

        Retry-safe: yes (it sets values).
        """
        self._require_13_3("POST /umm/ecm/preferenceSettings/update")
        body = {"id": settings_id, **settings.to_body()}
        return self._preference_call(f"{PREFERENCES}/update", body, retry_safe=True)

    def delete_preference_settings(self, settings_id: int) -> str:
        """Delete preference settings (``POST /umm/ecm/preferenceSettings/delete?id=``, ECM 13.3).

        Retry-safe: yes (deleting by id).
        """
        self._require_13_3("POST /umm/ecm/preferenceSettings/delete")
        params = {"id": settings_id}
        return self._call_message("POST", f"{PREFERENCES}/delete", retry_safe=True, params=params)

    def _preference_call(self, path: str, body: dict[str, Any], *, retry_safe: bool) -> dict[str, Any]:
        register_secret(body.get("password"), "ecm_db_password")
        settings = self._call_json("POST", path, dict, retry_safe=retry_safe, json_body=body)
        register_secret(settings.get("password"), "ecm_db_password")
        return settings


# -- request bodies -----------------------------------------------------------------------------


def _without_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _campaign_ref(
    campaign_id: CampaignId | None, crm_campaign_id: str | None, *, id_key: str
) -> dict[str, Any]:
    """How ECM names a campaign: its ECM id (under ``id_key``) or its CRM campaign id, exactly one."""
    if (campaign_id is None) == (crm_campaign_id is None):
        raise DialerError("name the campaign by exactly one of campaign_id or crm_campaign_id", vendor=VENDOR)
    return {id_key: campaign_id} if campaign_id is not None else {"crmCampaignId": crm_campaign_id}


def _clock(value: str | clock_time) -> str:
    return value.strftime("%H:%M") if isinstance(value, clock_time) else value


def _week_days(value: str | Iterable[int]) -> str:
    return value if isinstance(value, str) else ",".join(str(int(day)) for day in value)


def _dial_time(value: datetime | str) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, datetime) else value


def _campaign_body(
    *,
    name: str,
    strategy_id: str | int,
    start_time: str | clock_time,
    end_time: str | clock_time,
    week_days: str | Iterable[int],
    campaign_type: CampaignType | int,
    enabled: bool,
    crm_campaign_id: str | None,
    description: str | None,
    sms_template: str | None,
) -> dict[str, Any]:
    """The fields both campaign creates share."""
    return _without_none(
        {
            "name": name,
            "strategyId": strategy_id,
            "startTime": _clock(start_time),
            "endTime": _clock(end_time),
            "weekDays": _week_days(week_days),
            "type": int(campaign_type),
            "enabled": enabled,
            "crmCampaignId": crm_campaign_id,
            "description": description,
            "smsTemplate": sms_template,
        }
    )


def _normalize_campaign(campaign: dict[str, Any]) -> dict[str, Any]:
    """Add ``startTime``/``weekDays`` where ECM's answer spells them ``startTIme``/``weekdays``."""
    for canonical, variant in (("startTime", "startTIme"), ("weekDays", "weekdays")):
        if canonical not in campaign and variant in campaign:
            campaign[canonical] = campaign[variant]
    return campaign


def _phones(phone1: str, other_phones: Sequence[str]) -> dict[str, str]:
    if len(other_phones) > len(PHONE_FIELDS) - 1:
        raise DialerError(f"a contact has at most {len(PHONE_FIELDS)} phones", vendor=VENDOR)
    return dict(zip(PHONE_FIELDS, (phone1, *other_phones)))


def _business_params(values: Mapping[int, str] | Sequence[str | None]) -> dict[str, str]:
    """businessParam1..12 from a sequence (position 0 is businessParam1) or a mapping from 1..12."""
    numbered = values.items() if isinstance(values, Mapping) else enumerate(values, start=1)
    params = {}
    for number, value in numbered:
        if not 1 <= int(number) <= len(BUSINESS_PARAM_FIELDS):
            raise DialerError(
                f"business params are numbered 1..{len(BUSINESS_PARAM_FIELDS)}, not {number}", vendor=VENDOR
            )
        if value is not None:
            params[f"businessParam{int(number)}"] = value
    return params


def _attempt_body(
    strategy_id: int,
    *,
    name: str | None,
    phone: int | None,
    attempt_number: int | None,
    channel: Channel | int | None,
    retry_map: Sequence[Mapping[str, Any]] | None,
) -> dict[str, Any]:
    return _without_none(
        {
            "csId": strategy_id,
            "name": name,
            "phone": None if phone is None else str(phone),  # the reference sends "1"
            "channel": None if channel is None else int(channel),
            "attemptNumber": attempt_number,
            "retryMap": None if retry_map is None else [dict(entry) for entry in retry_map],
        }
    )


def _csv_bytes(rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
    return buffer.getvalue().encode()


def _bulk_caller_csv(contacts: Iterable[Mapping[str, Any]]) -> bytes:
    """The uploadBulkCaller file: documented column order, empty cells for absent fields."""
    rows = []
    for number, contact in enumerate(contacts, start=1):
        unknown = set(contact) - set(BULK_CALLER_COLUMNS)
        if unknown:
            raise DialerError(
                f"contact {number} has unknown fields {sorted(unknown)}; "
                f"known: {', '.join(BULK_CALLER_COLUMNS)}",
                vendor=VENDOR,
            )
        row = [contact.get(column) for column in BULK_CALLER_COLUMNS]
        if row[-1] is not None:
            row[-1] = _dial_time(row[-1])
        rows.append(row)
    return _csv_bytes(rows)


__all__ = [
    "BULK_CALLER_COLUMNS",
    "CampaignType",
    "Channel",
    "EcmBearerAuth",
    "EcmPreferenceSettings",
    "ExpertflowEcmHook",
    "RequestState",
]
