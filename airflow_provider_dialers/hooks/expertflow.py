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
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from datetime import time as clock_time
from enum import IntEnum
from typing import Any, Literal, TypeVar, cast

import requests

from airflow_provider_dialers.capabilities import (
    CallbackRow,
    CampaignProgress,
    CampaignStatusWord,
    ContactRow,
    ContactState,
    DncResult,
    RowOutcome,
    RowStatus,
    UploadOptions,
)
from airflow_provider_dialers.contacts import Callback, Contact, ContactError, PhoneOptions, normalise_phone
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
    DialerTransientError,
    DialerValidationError,
    describe_body,
    register_secret,
)
from airflow_provider_dialers.mappings.expertflow import (
    BUSINESS_PARAM_FIELDS,
    PHONE_FIELDS,
    PHONE_MAX_LENGTH,
    PHONE_MIN_LENGTH,
    EcmCampaignContact,
    EcmContactMapping,
    insert_outcome,
    listed_number,
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

#: Column order of the ``callback/uploadBulkCaller`` file, as documented.
BULK_CALLER_COLUMNS = (*PHONE_FIELDS, *BUSINESS_PARAM_FIELDS, "dialTime")
#: ``callback/getList`` pages are numbered from 0 (the reference is silent; see the docs).
FIRST_PAGE = 0

DuplicateCallbacks = Literal["allow", "discard"]
#: ECM campaign ids are numbers, answered as strings ("2").
CampaignId = int | str
_Item = TypeVar("_Item", Contact, Callback)
#: createCampaign's required fields, as both references mark them.
CAMPAIGN_REQUIRED_FIELDS = ("name", "startTime", "endTime", "strategyId", "type", "ciscoCampaignId",
                            "weekDays", "enabled")
#: Its optional fields (``status`` is left out: a new campaign runs; pause it with set_campaign_status).
CAMPAIGN_OPTIONAL_FIELDS = ("description", "crmCampaignId", "smsTemplate")
CLOCK_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
#: Contacts read per phone field by get_contact_state (a phone uploaded again after being dialled).
CONTACT_LOOKUP_PAGE = 100


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


#: States after which ECM does nothing more with a contact by itself. Dangling (the dialer never
#: reported back) is among them: ECM does not re-dial it unattended, so waiting would never end.
TERMINAL_STATES = frozenset({
    RequestState.CONNECTED, RequestState.RETRIES_COMPLETED, RequestState.SMS_SENT_AND_CLOSED,
    RequestState.DNC_LISTED, RequestState.DANGLING, RequestState.SMS_RESPONDED,
})
#: The other states: still to be dialled, being dialled, or waiting for a retry (Not Connected
#: leads to the strategy's next attempt or to RetriesCompleted) or an SMS reply (SMS Sent).
#: Their order is the order a completion check asks for them, most populated first: Pending holds
#: new contacts and those scheduled for a retry, then the dialer's batch, then the short wait
#: between an unanswered call and its retry, then SMS replies.
IN_FLIGHT_STATES = tuple(s for s in RequestState if s is not RequestState.ALL and s not in TERMINAL_STATES)
#: The terminal states in the order get_campaign_progress counts them to prove a campaign complete.
#: A contact counted twice could hide one still in flight, so where a contact might still move
#: from one terminal state to another (a late dialer report takes Dangling to Connected or
#: RetriesCompleted; a late reply takes SMSSentAndClosed to SMSResponded), the state it moves to
#: is counted first: a moving contact is then missed (the check fails safe), never counted twice.
TERMINAL_COUNT_ORDER = (
    RequestState.CONNECTED, RequestState.RETRIES_COMPLETED, RequestState.SMS_RESPONDED,
    RequestState.DNC_LISTED, RequestState.SMS_SENT_AND_CLOSED, RequestState.DANGLING,
)


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
    #: insertCallback takes one contact per request; 25 keeps a batch's rows (sent one after the
    #: other) short while the upload engine runs several batches at once.
    upload_batch_size = 25
    #: createCampaign's fields marked "(required)" in both references.
    required_campaign_fields = CAMPAIGN_REQUIRED_FIELDS

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

    def decode(self, response: requests.Response, what: str, expect: type[dict | list]) -> Any:
        """The answer's JSON, which must be an object (``dict``) or an array (``list``)."""
        return self.parse_json(response, what, expect=expect)

    def _call_json(
        self, method: str, path: str, expect: type[dict | list], *, retry_safe: bool, **kwargs: Any
    ) -> Any:
        response = self.request(method, path, retry_safe=retry_safe, **kwargs)
        return self.decode(response, f"{method} {path}", expect)

    def _call_message(self, method: str, path: str, *, retry_safe: bool, **kwargs: Any) -> str:
        """Call an endpoint documented to answer a sentence ("Campaign with id 1 successfully
        paused"); returns the sentence (see :meth:`_message`)."""
        response = self.request(method, path, retry_safe=retry_safe, **kwargs)
        return self._message(response, f"{method} {path}")

    def _message(self, response: requests.Response, what: str) -> str:
        """The confirmation sentence of an answer, which ECM sends as plain text or as JSON
        (``{"statusString": ...}``); "" for an empty answer such as 204."""
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
        """Every campaign: status "Running" (ECM "1") or "Paused" ("0")."""
        words = {"1": "Running", "0": "Paused"}
        return [
            CampaignSummary(id=str(c["id"]), name=str(c.get("name", "")),
                            status=words.get(str(c.get("status")), str(c.get("status"))),
                            running=str(c.get("status")) == "1")
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
        body = _callback_body(phone1, campaign_id=campaign_id, crm_campaign_id=crm_campaign_id,
                              other_phones=other_phones, duplicate_callbacks=duplicate_callbacks,
                              dial_time=dial_time, business_params=business_params)
        return self._post_callback(body)[0]

    def _post_callback(self, body: Mapping[str, Any]) -> tuple[str, bool]:
        """Send one insertCallback body; ECM's sentence, and whether the request was replayed (an
        earlier attempt the server may have processed was re-sent: see ``dialer_replayed``)."""
        path = f"{CALLBACK}/insertCallback"
        retry_safe = body["duplicateCallbacks"] == "discard"
        response = self.request("POST", path, retry_safe=retry_safe, json_body=dict(body))
        return self._message(response, f"POST {path}"), bool(getattr(response, "dialer_replayed", False))

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

    # -- capabilities (vendor-neutral; see capabilities.DialerCapabilities) ------------------------
    def create_campaign(self, spec: Mapping[str, Any]) -> str:
        """Create an ECM campaign from createCampaign's own fields (``name``, ``startTime``,
        ``endTime``, ``strategyId``, ``type``, ``ciscoCampaignId``, ``weekDays``, ``enabled``; optional
        ``description``, ``crmCampaignId``, ``smsTemplate``); checked before sending
        (:class:`DialerValidationError` names the field). Returns the new id.

        A create that may have been processed although its answer was lost is reconciled by name
        (the operator looks the name up before creating, so a same-named campaign is this one).
        """
        arguments = _create_campaign_arguments(spec)
        try:
            campaign = self.create_ecm_campaign(**arguments)
        except DialerTransientError as exc:
            found = self.find_campaign(arguments["name"]) if exc.may_have_been_processed else None
            if found is None:
                raise
            self.log.warning("%s: the create's answer was lost; campaign %r exists as id %s",
                             VENDOR, arguments["name"], found)
            return found
        return str(campaign["id"])

    def find_campaign(self, name: str) -> str | None:
        """The id of the campaign named exactly ``name`` (``GET /umm/ecm/campaign``), or None.

        ECM does not require unique names: several campaigns of that name raise
        ``DialerValidationError("name")`` (which one was meant cannot be told).
        """
        ids = [str(c["id"]) for c in self.get_campaigns() if c.get("name") == name]
        if len(ids) > 1:
            raise _invalid("name", f"{len(ids)} campaigns are named {name!r} (ids {', '.join(ids)}); "
                                   "name the campaign by its id")
        return ids[0] if ids else None

    def set_campaign_status(self, campaign_id: str, status: CampaignStatusWord) -> None:
        """``running`` resumes, ``paused`` pauses the campaign (13.2 ``campaign/resume|pause``,
        13.3 ``campaign/campaignUpdateStatus``)."""
        actions = {"running": self.resume_campaign, "paused": self.pause_campaign}
        if status not in actions:
            raise _invalid("status", f"must be 'running' or 'paused', got {status!r}")
        actions[status](_ecm_id(campaign_id))

    def upload_contacts(
        self, campaign_id: str, rows: Sequence[ContactRow], *, options: UploadOptions
    ) -> list[RowOutcome]:
        """One ``insertCallback`` per contact, with ``duplicateCallbacks=discard``.

        The bulk file endpoint (uploadBulkCaller) is not used: it answers one sentence for the
        whole file (no per-row result) and has no duplicate check, so a retry would add every row
        again. ``options.on_duplicate="update"`` is not supported (ECM cannot change a campaign
        contact); ``options.attribute_map`` says which attribute goes to which businessParamN.
        """
        mapping = self._contact_mapping(options, "update contacts already in a campaign")
        items = [(row.row, row.contact) for row in rows]
        return self._insert_rows(_ecm_id(campaign_id), items, mapping.campaign_contact, mapping, options)

    def add_callbacks(
        self, campaign_id: str, rows: Sequence[CallbackRow], *, options: UploadOptions
    ) -> list[RowOutcome]:
        """One ``insertCallback`` per callback with ``dialTime`` = ``callback_at`` in the server's zone.

        A callback for a given ``agent`` is refused (field ``agent``): insertCallback has no agent field.
        """
        mapping = self._contact_mapping(options, "update callbacks already in a campaign")
        items = [(row.row, row.callback) for row in rows]
        return self._insert_rows(_ecm_id(campaign_id), items, mapping.callback_contact, mapping, options)

    def list_dnc(self) -> set[str]:
        """Every number on the DNC list (``GET /umm/ecm/contact``), written as contact phones are."""
        return {listed_number(entry.get("primaryNumber")) for entry in self.list_dnc_contacts()}

    def add_dnc(self, numbers: Sequence[str]) -> DncResult:
        """``POST /umm/ecm/contact/save`` for each number not listed yet (one list read first).

        The bulk uploadCsv is not used: it answers "File is uploading." (no per-number result) and
        a re-sent file would list every number twice.
        """
        wanted = _dnc_numbers(numbers)
        listed = self.list_dnc()
        added = [number for number in wanted if number not in listed]
        for number in added:
            self._save_dnc_number(number)
        return DncResult(added=added, already_present=[number for number in wanted if number in listed])

    def remove_dnc(self, numbers: Sequence[str]) -> DncResult:
        """``DELETE /umm/ecm/contact/delete?id=`` for every entry of each number (ids from one list read)."""
        wanted = _dnc_numbers(numbers)
        ids_by_number: dict[str, list[int]] = {}
        for entry in self.list_dnc_contacts():
            ids_by_number.setdefault(listed_number(entry.get("primaryNumber")), []).append(entry["id"])
        removed = [number for number in wanted if number in ids_by_number]
        for number in removed:
            for dnc_id in ids_by_number[number]:
                self._delete_dnc_entry(dnc_id)
        not_found = [number for number in wanted if number not in ids_by_number]
        return DncResult(removed=removed, not_found=not_found)

    def set_global_emergency(self, enabled: bool) -> dict[str, Any]:
        """Not supported: ECM has no emergency-stop endpoint (GlobalEmergencyOperator emulates one
        by pausing the running campaigns)."""
        raise self.not_supported("toggle a global emergency",
                                 "ECM has no emergency-stop endpoint; pause the campaigns instead")

    def get_campaign_progress(self, campaign_id: str) -> CampaignProgress:
        """Is any contact of the campaign still in flight? Counted with ``callback/getList?max=1``
        (its ``total``), whatever the campaign's size: 2 requests while it runs (up to 5 when the
        first state asked is empty), 12 on the check that finds it complete (that one also brings
        the counts by outcome), 1 while it has no contacts.

        ECM keeps no campaign counters and getList filters on one ``requestStatus`` at a time, so:

        1. every contact (``requestStatus=-1``): none means not complete ("no contacts yet");
        2. the in-flight states (:data:`IN_FLIGHT_STATES`), one at a time, the state that had
           contacts on this hook's previous check first: the first with contacts proves the campaign
           incomplete and the others are not asked. ``pending`` is exact only when that state
           holds every contact; otherwise None (``detail`` gives the count seen);
        3. no in-flight state had contacts: the campaign is complete only if counting each
           terminal state (:data:`TERMINAL_COUNT_ORDER`) and then every contact again finds every
           contact terminal. Step 2 alone is not proof: contacts keep moving while the states are
           read one by one (Not Connected goes back to Pending for a retry), so a contact can leave
           a state not yet read for one already read. Terminal states are final, so terminal
           counts only grow: if their sum equals the total read after them, every contact was
           terminal at that last read. Otherwise the campaign stays incomplete until a later check.

        The counts by terminal state come back as ``outcomes`` (so completion costs no further
        :meth:`get_outcome_counts` call).
        """
        ecm_id = _ecm_id(campaign_id)
        total = self.count_callbacks(ecm_id)
        if total == 0:
            return CampaignProgress(campaign_id=str(campaign_id), complete=False, total=0, pending=0,
                                    detail="no contacts yet")
        hints = self._in_flight_hints()
        previous = hints.get(ecm_id)
        for state in sorted(IN_FLIGHT_STATES, key=lambda candidate: candidate is not previous):
            count = self.count_callbacks(ecm_id, request_status=state)
            if count:
                hints[ecm_id] = state
                every_contact = count >= total  # >: contacts were added between the two reads
                return CampaignProgress(
                    campaign_id=str(campaign_id),
                    complete=False,
                    total=max(total, count),
                    pending=count if every_contact else None,
                    detail=f"in flight: {state.name} {count}" + (
                        "" if every_contact else " (the other in-flight states are not counted)"),
                )
        hints.pop(ecm_id, None)
        return self._settled_progress(str(campaign_id), ecm_id)

    def _settled_progress(self, campaign_id: str, ecm_id: int) -> CampaignProgress:
        """Step 3 of :meth:`get_campaign_progress`: each terminal state's count, then every contact
        (read last); complete when the terminal counts add up to every contact."""
        settled = {state: self.count_callbacks(ecm_id, request_status=state) for state in TERMINAL_COUNT_ORDER}
        total = self.count_callbacks(ecm_id)
        settled_total = sum(settled.values())
        outcomes = {state.name: count for state, count in settled.items() if count}
        if total > 0 and settled_total == total:
            return CampaignProgress(campaign_id=campaign_id, complete=True, total=total, pending=0,
                                    outcomes=outcomes)
        if total == 0:
            detail = "no contacts yet"
        elif settled_total < total:
            detail = (f"{total - settled_total} of {total} contacts in no terminal state: they moved while "
                      "the states were counted, or are in a state the reference does not number")
        else:
            detail = (f"the terminal states count {settled_total} contacts but the campaign has {total}: "
                      "contacts changed state or were removed while counted")
        return CampaignProgress(campaign_id=campaign_id, complete=False, total=total,
                                pending=total - settled_total if settled_total <= total else None,
                                outcomes=outcomes, detail=detail)

    def _in_flight_hints(self) -> dict[int, RequestState]:
        """campaign id -> the in-flight state that had contacts on this hook's last progress check.

        A sensor or trigger keeps its hook between checks, so a running campaign costs one state
        count per check instead of up to four. Only an order: every state is still asked in turn.
        """
        hints = self.__dict__.get("_ecm_in_flight_hints")
        if hints is None:
            hints = self.__dict__["_ecm_in_flight_hints"] = {}
        return hints

    def get_outcome_counts(self, campaign_id: str) -> dict[str, int]:
        """How many contacts of the campaign are in each ``RequestState`` (its name -> count), for a
        final report: one ``callback/getList?max=1`` per state (10 requests). Retry-safe: yes (reads)."""
        ecm_id = _ecm_id(campaign_id)
        return {state.name: self.count_callbacks(ecm_id, request_status=state)
                for state in RequestState if state is not RequestState.ALL}

    def get_contact_state(self, campaign_id: str, contact_ref: str) -> ContactState:
        """The state of the campaign contact with phone ``contact_ref`` (phone1, then phone2..phone5;
        the newest such contact) or, failing that, with ECM callback id ``contact_ref``.

        ``state`` is the ``RequestState`` name, ``attempts`` ECM's ``attemptNumber``, ``history``
        the contact's record as getList answers it (callResult, lastStatusUpdateTime, ...).
        A phone costs at most 5 requests; an id is looked up page by page through the campaign.
        """
        ecm_id = _ecm_id(campaign_id)
        ref = str(contact_ref).strip()
        record = self._callback_by_phone(ecm_id, ref) or self._callback_by_id(ecm_id, ref)
        if record is None:
            raise DialerRequestError(
                f"campaign {campaign_id} has no contact with phone or callback id {ref!r}",
                vendor=VENDOR, status_code=404,
            )
        try:
            state = RequestState(int(record["requestState"]))
        except (TypeError, ValueError, KeyError):
            return ContactState(ref, f"UNKNOWN ({record.get('requestState')})", False,
                                record.get("attemptNumber"), dict(record))
        terminal = state in TERMINAL_STATES
        return ContactState(ref, state.name, terminal, record.get("attemptNumber"), dict(record))

    # -- capability helpers -----------------------------------------------------------------------
    def _contact_mapping(self, options: UploadOptions, update_capability: str) -> EcmContactMapping:
        """The mapping for one upload; refuses what cannot be done before anything is sent."""
        if options.on_duplicate == "update":
            raise self.not_supported(
                f"{update_capability} (on_duplicate='update')",
                "insertCallback only adds a contact or discards a duplicate, and ECM has no endpoint that "
                "changes a campaign contact; use on_duplicate='skip'",
            )
        try:
            return EcmContactMapping(options.attribute_map, self.server_timezone)
        except ContactError as exc:
            raise _invalid(exc.field, exc.reason) from None

    def _insert_rows(
        self,
        campaign_id: int,
        items: Sequence[tuple[int, _Item]],
        to_campaign_contact: Callable[[_Item], EcmCampaignContact],
        mapping: EcmContactMapping,
        options: UploadOptions,
    ) -> list[RowOutcome]:
        """One outcome per ``(row, contact or callback)``: rows the mapping refuses are not sent; the
        others go one by one."""
        outcomes = []
        for row, item in items:
            try:
                contact = to_campaign_contact(item)
            except ContactError as exc:
                outcomes.append(RowOutcome.rejected(row, exc.field, exc.reason))
                continue
            outcomes.append(self._insert_row(campaign_id, row, contact, mapping, dry_run=options.dry_run))
        return outcomes

    def _insert_row(
        self,
        campaign_id: int,
        row: int,
        contact: EcmCampaignContact,
        mapping: EcmContactMapping,
        *,
        dry_run: bool,
    ) -> RowOutcome:
        # "discard" is ECM's dedupe: a re-sent row whose phone1 is still Pending is not added twice.
        body = _callback_body(contact.phones[0], campaign_id=campaign_id, crm_campaign_id=None,
                              other_phones=contact.phones[1:], duplicate_callbacks="discard",
                              dial_time=contact.dial_time, business_params=contact.business_params)
        if dry_run:
            return RowOutcome(row, RowStatus.ACCEPTED, payload=body)
        try:
            answer, replayed = self._post_callback(body)
        except DialerRequestError as exc:
            # A 4xx refuses this row's data; 404 (unknown campaign) and 5xx concern the whole upload.
            if exc.status_code is None or not 400 <= exc.status_code < 500 or exc.status_code == 404:
                raise
            return mapping.refusal_outcome(row, exc.vendor_code, exc.vendor_message or str(exc))
        return insert_outcome(row, answer, replayed=replayed, payload=body)

    def _save_dnc_number(self, number: str) -> None:
        try:
            self.add_dnc_contact(number)
        except DialerTransientError as exc:
            # contact/save has no dedupe key, so it is never re-sent blindly: look whether it landed.
            if not exc.may_have_been_processed or number not in self.list_dnc():
                raise

    def _delete_dnc_entry(self, dnc_id: int) -> None:
        try:
            self.delete_dnc_contact(dnc_id)
        except DialerRequestError as exc:
            if exc.status_code != 404:  # 404: already gone (e.g. a replayed delete), which is the goal
                raise

    def _callback_by_phone(self, campaign_id: int, phone: str) -> dict[str, Any] | None:
        if not PHONE_MIN_LENGTH <= len(phone) <= PHONE_MAX_LENGTH:
            return None
        for phone_field in PHONE_FIELDS:
            answer = self.get_callbacks(campaign_id, request_status=RequestState.ALL, page=FIRST_PAGE,
                                        max_results=CONTACT_LOOKUP_PAGE, **{phone_field: phone})
            found = answer["callbackData"]
            if found:  # the same phone uploaded again later: the newest contact is the one in play
                return max(found, key=lambda callback: int(callback.get("id") or 0))
        return None

    def _callback_by_id(self, campaign_id: int, ref: str) -> dict[str, Any] | None:
        if not ref.isdigit():
            return None
        return next((c for c in self.iter_callbacks(campaign_id, request_status=RequestState.ALL)
                     if str(c.get("id")) == ref), None)


# -- capability inputs --------------------------------------------------------------------------



def _create_campaign_arguments(spec: Mapping[str, Any]) -> dict[str, Any]:
    """createCampaign's spec checked field by field, as :meth:`ExpertflowEcmHook.create_ecm_campaign`
    arguments; :class:`DialerValidationError` names the first field that is missing or wrong."""
    if not isinstance(spec, Mapping):
        raise _invalid("campaign", f"must be a dict of createCampaign fields, got {type(spec).__name__}")
    known = (*CAMPAIGN_REQUIRED_FIELDS, *CAMPAIGN_OPTIONAL_FIELDS)
    for name in spec:
        if name not in known:
            raise _invalid(str(name), f"is not a createCampaign field; known: {', '.join(known)}")
    for name in CAMPAIGN_REQUIRED_FIELDS:
        if spec.get(name) is None or (isinstance(spec[name], str) and not spec[name].strip()):
            raise _invalid(name, "is required by createCampaign")
    return {
        "name": _spec_text(spec, "name"),
        "start_time": _spec_clock(spec, "startTime"),
        "end_time": _spec_clock(spec, "endTime"),
        "strategy_id": _spec_number(spec, "strategyId"),
        "campaign_type": _spec_campaign_type(spec["type"]),
        "cisco_campaign_id": _spec_cisco_id(spec["ciscoCampaignId"]),
        "week_days": _spec_week_days(spec["weekDays"]),
        "enabled": _spec_enabled(spec["enabled"]),
        "description": _spec_text(spec, "description", optional=True),
        "crm_campaign_id": _spec_text(spec, "crmCampaignId", optional=True),
        "sms_template": _spec_text(spec, "smsTemplate", optional=True),
    }


def _invalid(field_name: str, reason: str) -> DialerValidationError:
    return DialerValidationError(field_name, reason, vendor=VENDOR)


def _spec_text(spec: Mapping[str, Any], name: str, *, optional: bool = False) -> str | None:
    value = spec.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise _invalid(name, f"must be text, got {type(value).__name__}")
    return value


def _spec_clock(spec: Mapping[str, Any], name: str) -> str:
    value = spec[name]
    text = value.strftime("%H:%M") if isinstance(value, clock_time) else value
    if not isinstance(text, str) or not CLOCK_TIME.fullmatch(text.strip()):
        raise _invalid(name, f"must be a time of day HH:MM (00:00 to 23:59), got {value!r}")
    return text.strip()


def _spec_number(spec: Mapping[str, Any], name: str) -> int:
    value = spec[name]
    is_number = isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit())
    if isinstance(value, bool) or not is_number:
        raise _invalid(name, f"must be an ECM id (a whole number), got {value!r}")
    return int(value)


def _spec_campaign_type(value: Any) -> CampaignType:
    text = "" if isinstance(value, bool) else str(value).strip()  # True is no campaign type
    try:
        return CampaignType(int(text))
    except ValueError:
        raise _invalid("type", f"must be 0 (IVR), 1 (Agent) or -1 (None), got {value!r}") from None


def _spec_cisco_id(value: Any) -> str | int:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _invalid("ciscoCampaignId", f"must be the Cisco campaign's id, got {value!r}")
    return value


def _spec_week_days(value: Any) -> str:
    """weekDays as "0,1,2" or a list of days 0 (Sunday) .. 6, at least one, each once."""
    items = value.split(",") if isinstance(value, str) else value
    is_list = isinstance(items, Sequence) and not isinstance(items, (str, bytes))
    days = [_week_day(item) for item in items] if is_list else []
    if not days or None in days or len(set(days)) != len(days):
        raise _invalid("weekDays", f"must list days 0 (Sunday) to 6 (Saturday), each once, got {value!r}")
    return ",".join(str(day) for day in days)


def _week_day(item: Any) -> int | None:
    """A day 0..6 from an int or digit text; None for anything else."""
    if isinstance(item, bool) or not isinstance(item, (int, str)) or not str(item).strip().isdigit():
        return None
    day = int(str(item).strip())
    return day if 0 <= day <= 6 else None


def _spec_enabled(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _invalid("enabled", f"must be true or false, got {value!r}")
    return value


def _ecm_id(campaign_id: CampaignId) -> int:
    """An ECM campaign id (a whole number, often given as text) as the API takes it."""
    text = str(campaign_id).strip()
    if isinstance(campaign_id, bool) or not text.isdigit():
        raise _invalid("campaign_id", f"ECM campaign ids are whole numbers, got {campaign_id!r}")
    return int(text)


def _dnc_numbers(numbers: Sequence[str]) -> list[str]:
    """The numbers written as contact phones are (punctuation stripped), each once, in order."""
    if isinstance(numbers, str):
        raise _invalid("numbers", "must be a list of numbers, not one text")
    unique: dict[str, None] = {}
    for index, raw in enumerate(numbers):
        try:
            unique[normalise_phone(raw, f"numbers[{index}]", PhoneOptions())] = None
        except ContactError as exc:
            raise _invalid(exc.field, exc.reason) from None
    return list(unique)


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


def _callback_body(
    phone1: str,
    *,
    campaign_id: CampaignId | None,
    crm_campaign_id: str | None,
    other_phones: Sequence[str],
    duplicate_callbacks: DuplicateCallbacks,
    dial_time: datetime | str | None,
    business_params: Mapping[int, str] | Sequence[str | None],
) -> dict[str, Any]:
    """The insertCallback body (the documented field names)."""
    if duplicate_callbacks not in ("allow", "discard"):
        raise DialerError(
            f"duplicate_callbacks must be 'allow' or 'discard', not {duplicate_callbacks!r}", vendor=VENDOR
        )
    body: dict[str, Any] = {
        **_campaign_ref(campaign_id, crm_campaign_id, id_key="campaignId"),
        **_phones(phone1, other_phones),
        **_business_params(business_params),
        "duplicateCallbacks": duplicate_callbacks,
    }
    if dial_time is not None:
        body["dialTime"] = _dial_time(dial_time)
    return body


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
    "CAMPAIGN_REQUIRED_FIELDS",
    "IN_FLIGHT_STATES",
    "TERMINAL_COUNT_ORDER",
    "TERMINAL_STATES",
    "CampaignType",
    "Channel",
    "EcmBearerAuth",
    "EcmPreferenceSettings",
    "ExpertflowEcmHook",
    "RequestState",
]
