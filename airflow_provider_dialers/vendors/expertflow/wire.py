"""ExpertFlow ECM's wire types and request bodies: what goes over the wire, with no HTTP.

ECM serves its API on the UMM server: ``GET /umm/api/login`` issues a JWT; ``/umm/ecm/...``
manages campaigns, the people a campaign calls (campaign contacts, which ECM calls
*callbacks*), the DNC list, call strategies with their attempts and, from 13.3, preference
settings. The connection extra ``api_version`` ("13.2" or "13.3", default "13.3") selects the
release: 13.2 pauses with ``campaign/pause`` and has no 13.3-only endpoints.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from datetime import time as clock_time
from enum import IntEnum
from typing import Any, Literal

from airflow_provider_dialers.errors import DialerError

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
#: Keys of the login answer that are credentials, kept out of ``ExpertflowEcmHook.get_login_details``.
TOKEN_KEYS = frozenset({"token", "refresh_token", "token_type", "expires_in"})
#: The statuses of a successful call (``DialerHook.request``'s default ``ok_statuses``).
SUCCESS_STATUSES = (200, 201, 202, 204)
#: Keys under which ECM puts a confirmation sentence when it answers JSON.
MESSAGE_KEYS = ("statusString", "message")

PHONE_FIELDS = tuple(f"phone{n}" for n in range(1, 6))
BUSINESS_PARAM_FIELDS = tuple(f"businessParam{n}" for n in range(1, 13))
#: "The phone numbers must have a minimum of 4 and a maximum of 15 characters (inclusive of + sign)".
PHONE_MIN_LENGTH, PHONE_MAX_LENGTH = 4, 15
#: "The system allows storing a maximum of 255 characters in each of these parameters."
BUSINESS_PARAM_MAX_LENGTH = 255
#: ``dialTime`` as both references show it ("2019-11-12 15:10:20"), in the server's local time.
DIAL_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
#: Column order of the ``callback/uploadBulkCaller`` file, as documented.
BULK_CALLER_COLUMNS = (*PHONE_FIELDS, *BUSINESS_PARAM_FIELDS, "dialTime")
#: The first page's index in ``get_callbacks(page=...)``, whatever the server's numbering (which the
#: reference does not give: reading ``ecm_page_base``).
FIRST_PAGE = 0

#: The silent points of the references this client handles either way (docs/readings.md): switch ->
#: the readings a server may take, the sandbox's default first. The connection extra ``readings``
#: (``{"ecm_page_base": "1"}``) fixes one; otherwise the hook detects it or accepts every form.
READINGS: dict[str, tuple[str, ...]] = {
    "ecm_page_base": ("0", "1", "1_clamps_0"),
    "ecm_getlist_filters": ("query", "body"),
    "ecm_dnc_save_answer": ("dnc_object", "empty_200", "sentence"),
    "ecm_discard_answer": ("sentence", "http_4xx", "other_sentence"),
    "ecm_token_refused_status": ("401", "403"),
    "ecm_login_method": ("get", "post"),
    "ecm_bulk_processing": ("stored", "queued"),
}
#: The switches the login and the token's auth read (see :data:`READINGS`).
LOGIN_METHOD, TOKEN_REFUSED_STATUS = "ecm_login_method", "ecm_token_refused_status"
#: Words by which an insertCallback answer (a 2xx sentence or a 4xx message) says that the contact
#: was not added because phone1 is already pending ("duplicate callback discarded", "already exists").
DUPLICATE_MARKERS = ("discard", "duplicate", "already exist")

DuplicateCallbacks = Literal["allow", "discard"]
#: ECM campaign ids are numbers, answered as strings ("2").
CampaignId = int | str
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
#: The terminal states no contact leaves (Dangling and SMSSentAndClosed may still move on: see
#: TERMINAL_COUNT_ORDER). A getList walk over one of them only gains contacts while the campaign
#: dials, so its pages never move forward past a contact: iter_contact_states filters on them server-side.
FINAL_STATES = frozenset({
    RequestState.CONNECTED, RequestState.RETRIES_COMPLETED, RequestState.SMS_RESPONDED, RequestState.DNC_LISTED,
})


class CallResult(IntEnum):
    """``callResult`` of a campaign contact's last call. The reference numbers the unconnected results
    1..5 (a strategy attempt's ``retryMap`` ``call_result``); 0 for a connected call is this provider's
    reading (and its sandbox's): the reference shows 0 without naming it."""

    CONNECTED = 0
    BUSY = 1
    NO_ANSWER = 2
    CUSTOMER_ABANDONED = 3
    DIALER_ABANDONED = 4
    OTHERS_NOT_CONNECTED = 5


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
        return without_none(
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


@dataclass(frozen=True)
class EcmCampaignContact:
    """One ECM campaign contact (*callback*) as insertCallback takes it.

    ``phones`` are phone1..phone5 in order; ``business_params`` maps 1..12 to businessParamN;
    ``dial_time`` is the server-local ``dialTime`` (None: dialled by the campaign's schedule).
    """

    phones: tuple[str, ...]
    business_params: Mapping[int, str]
    dial_time: str | None = None


# -- request bodies -----------------------------------------------------------------------------


def without_none(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` without the keys whose value is None (ECM's optional fields are left out)."""
    return {key: value for key, value in values.items() if value is not None}


def campaign_ref(
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
    return value.strftime(DIAL_TIME_FORMAT) if isinstance(value, datetime) else value


def campaign_body(
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
    return without_none(
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


def normalize_campaign(campaign: dict[str, Any]) -> dict[str, Any]:
    """Add ``startTime``/``weekDays`` where ECM's answer spells them ``startTIme``/``weekdays``."""
    for canonical, variant in (("startTime", "startTIme"), ("weekDays", "weekdays")):
        if canonical not in campaign and variant in campaign:
            campaign[canonical] = campaign[variant]
    return campaign


def _phones(phone1: str, other_phones: Sequence[str]) -> dict[str, str]:
    if len(other_phones) > len(PHONE_FIELDS) - 1:
        raise DialerError(f"a contact has at most {len(PHONE_FIELDS)} phones", vendor=VENDOR)
    return dict(zip(PHONE_FIELDS, (phone1, *other_phones)))


def callback_body(
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
        **campaign_ref(campaign_id, crm_campaign_id, id_key="campaignId"),
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


def attempt_body(
    strategy_id: int,
    *,
    name: str | None,
    phone: int | None,
    attempt_number: int | None,
    channel: Channel | int | None,
    retry_map: Sequence[Mapping[str, Any]] | None,
) -> dict[str, Any]:
    """The body of a strategy attempt's save or update (fields left None are not sent)."""
    return without_none(
        {
            "csId": strategy_id,
            "name": name,
            "phone": None if phone is None else str(phone),  # the reference sends "1"
            "channel": None if channel is None else int(channel),
            "attemptNumber": attempt_number,
            "retryMap": None if retry_map is None else [dict(entry) for entry in retry_map],
        }
    )


def csv_bytes(rows: Iterable[Sequence[Any]]) -> bytes:
    """CSV lines (no header; None as an empty cell), UTF-8 encoded."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
    return buffer.getvalue().encode()


def bulk_caller_csv(contacts: Iterable[Mapping[str, Any]]) -> bytes:
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
    return csv_bytes(rows)


#: Characters a plain comma split of a bulk file line would misread (a server may not parse quotes).
_BULK_UNSAFE = frozenset(',"\r\n')


def bulk_caller_line(contact: EcmCampaignContact) -> str | None:
    """The contact's uploadBulkCaller line (documented column order, empty cells for absent fields),
    or None when a value holds a comma, quote or line break: the reference says only
    "comma-separated", so such a row is sent with insertCallback (JSON) instead of being quoted."""
    cells = [*contact.phones, *([""] * (len(PHONE_FIELDS) - len(contact.phones)))]
    cells += [contact.business_params.get(number) or "" for number in range(1, len(BUSINESS_PARAM_FIELDS) + 1)]
    cells.append(_dial_time(contact.dial_time) if contact.dial_time else "")
    if any(_BULK_UNSAFE.intersection(cell) for cell in cells):
        return None
    return ",".join(cells)
