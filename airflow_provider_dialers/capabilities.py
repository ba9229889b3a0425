"""The vendor-neutral capabilities every dialer hook implements (names fixed), and their results.

Operators and sensors call only these methods, whatever the dialer: the hook is chosen from the
connection's type (:func:`airflow_provider_dialers.hooks.get_dialer_hook`). A vendor whose API has
no way to do something raises :class:`~airflow_provider_dialers.errors.DialerNotSupportedError`
naming the vendor and what it lacks; README.md has the capability x vendor matrix.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum
from typing import Any, ClassVar, Literal, TypedDict

from airflow_provider_dialers.contacts import Callback, Contact
from airflow_provider_dialers.errors import DialerNotSupportedError

CampaignStatusWord = Literal["running", "paused"]


class CampaignSummary(TypedDict):
    """A campaign as :meth:`DialerCapabilities.list_campaigns` reports it, whatever the vendor."""

    id: str
    name: str
    status: str  # the vendor's own word for the campaign's state
    #: Whether it is dialling now (ECM "1", MaxContact Running, Sinch Active); None when the API cannot tell.
    running: bool | None


class RowStatus(str, Enum):
    """The one bucket each input row of an upload lands in."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    SKIPPED_DNC = "skipped_dnc"
    SKIPPED_WINDOW = "skipped_window"


@dataclass(frozen=True)
class RowOutcome:
    """What became of one input row: its bucket, and for a rejection the field and the reason.

    ``row`` is the 1-based number of the data row in the input (a CSV's header is not a row).
    ``vendor_id`` is the id the dialer gave the contact, when it says. ``payload`` is what was
    (or, in a dry run, would be) sent for this row: every row whose record went into a request
    carries it, whatever the dialer answered, and a row refused before sending has none (the upload
    counts ``sent`` from it).
    """

    row: int
    status: RowStatus
    field: str | None = None
    reason: str | None = None
    vendor_code: str | None = None
    vendor_id: str | None = None
    payload: Mapping[str, Any] | None = None

    @classmethod
    def rejected(cls, row: int, field_name: str | None, reason: str, vendor_code: str | None = None) -> RowOutcome:
        return cls(row, RowStatus.REJECTED, field=field_name, reason=reason, vendor_code=vendor_code)


@dataclass(frozen=True)
class ContactRow:
    """A validated contact and the input row it came from."""

    row: int
    contact: Contact


@dataclass(frozen=True)
class CallbackRow:
    """A validated callback and the input row it came from."""

    row: int
    callback: Callback


@dataclass(frozen=True)
class UploadOptions:
    """How a batch is uploaded.

    :param on_duplicate: ``skip`` leaves a contact the dialer already has untouched; ``update``
        overwrites it (where the vendor can).
    :param lead_id: Ameyo: the lead (list) to upload into.
    :param attribute_map: ECM: attribute name -> ``businessParam1``..``businessParam12``.
    :param dry_run: validate and map, report the payloads, send nothing.
    :param recontact_after: a row the dialer refuses as a contact it already has is loaded again
        when the dialer finished with that contact longer ago than this (Sinch: the finished customer
        is deleted and added again; Ameyo: it is churned back to NOT_TRIED with a callback); None:
        never. ``UploadContactsOperator`` sets it from its own ``recontact_after``.
    :param bulk: the batch may be loaded as one file (set by the upload engine when the dialer's
        :meth:`DialerCapabilities.bulk_batch_size` offers a file path; see docs/performance.md).
    """

    on_duplicate: Literal["skip", "update"] = "skip"
    lead_id: int | None = None
    attribute_map: Mapping[str, str] | None = None
    dry_run: bool = False
    recontact_after: timedelta | None = None
    bulk: bool = False


@dataclass(frozen=True)
class CampaignProgress:
    """Where a campaign stands: is it complete, and how many contacts ended how.

    ``outcomes`` counts contacts by the vendor's own outcome names; ``pending`` counts those not
    yet settled. ``detail`` says what the vendor's API cannot tell, where that matters.
    """

    campaign_id: str
    complete: bool
    status: str | None = None
    total: int | None = None
    pending: int | None = None
    outcomes: Mapping[str, int] = field(default_factory=dict)
    detail: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"campaign_id": self.campaign_id, "complete": self.complete, "status": self.status,
                "total": self.total, "pending": self.pending, "outcomes": dict(self.outcomes),
                "detail": self.detail}


@dataclass(frozen=True)
class ContactState:
    """One contact's state in a campaign, with whatever history the vendor gives."""

    contact_ref: str
    state: str
    terminal: bool
    attempts: int | None = None
    history: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"contact_ref": self.contact_ref, "state": self.state, "terminal": self.terminal,
                "attempts": self.attempts, "history": dict(self.history)}


@dataclass(frozen=True)
class ContactRecord:
    """One contact a campaign holds, as :meth:`DialerCapabilities.iter_contact_states` streams it.

    :param contact_ref: the vendor's own id of the contact (ECM callback id, Sinch customer id,
        Ameyo customerId).
    :param external_id: the id the CRM gave it, where the vendor keeps one.
    :param phone: its first phone number, as the dialer stores it.
    :param state: the vendor's word for where it stands (ECM request state, Sinch result, Ameyo status).
    :param terminal: whether the dialer is done with it (no further attempt will be made).
    :param attempts: calls made so far, where the vendor says.
    :param last_result: the last call's outcome, where the vendor says.
    :param last_change: when it last changed (ISO 8601, UTC), where the vendor says.
    """

    contact_ref: str
    external_id: str | None
    phone: str | None
    state: str
    terminal: bool
    attempts: int | None = None
    last_result: str | None = None
    last_change: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"contact_ref": self.contact_ref, "external_id": self.external_id, "phone": self.phone,
                "state": self.state, "terminal": self.terminal, "attempts": self.attempts,
                "last_result": self.last_result, "last_change": self.last_change}


@dataclass(frozen=True)
class DncResult:
    """What a DNC change did, number by number."""

    added: Sequence[str] = ()
    removed: Sequence[str] = ()
    already_present: Sequence[str] = ()
    not_found: Sequence[str] = ()

    def to_dict(self) -> dict[str, list[str]]:
        return {"added": list(self.added), "removed": list(self.removed),
                "already_present": list(self.already_present), "not_found": list(self.not_found)}


class DialerCapabilities:
    """The capability interface. Each hook overrides what its vendor's API can do; the rest raise
    ``DialerNotSupportedError`` naming the vendor and what it lacks (see :meth:`not_supported`).
    """

    vendor_name: ClassVar[str]
    #: Rows per upload call: the vendor's documented or sensible maximum per request.
    upload_batch_size: ClassVar[int] = 100
    #: Inputs of at least this many rows are loaded as files where :meth:`bulk_batch_size` offers it.
    bulk_threshold: ClassVar[int] = 1000
    #: Campaign fields the vendor's reference marks required for creation (checked before sending).
    required_campaign_fields: ClassVar[tuple[str, ...]] = ()
    #: The campaign spec field holding the campaign's name (ECM ``name``, MaxContact ``CampaignName``).
    campaign_name_field: ClassVar[str] = "name"
    #: Whether :meth:`set_global_emergency` is the dialer's own switch (else it is emulated by pausing).
    native_emergency: ClassVar[bool] = False

    def not_supported(self, capability: str, lacks: str) -> DialerNotSupportedError:
        return DialerNotSupportedError(f"cannot {capability}: {lacks}", vendor=self.vendor_name)

    def create_campaign(self, spec: Mapping[str, Any]) -> str:
        """Create a campaign from the vendor's own fields (as its reference names them); its id."""
        raise self.not_supported("create campaigns", "its API has no endpoint that creates one")

    def find_campaign(self, name: str) -> str | None:
        """The id of the campaign called ``name``, or None."""
        raise self.not_supported("look up campaigns by name", "its API cannot list campaigns")

    def set_campaign_status(self, campaign_id: str, status: CampaignStatusWord) -> None:
        """Run (``running``) or pause (``paused``) a campaign."""
        raise self.not_supported("pause or resume campaigns", "its API has no campaign status endpoint")

    def list_campaigns(self) -> list[CampaignSummary]:
        """Every campaign this connection can see."""
        raise self.not_supported("list campaigns", "its API cannot list campaigns")

    def check_upload(self, campaign_id: str, options: UploadOptions, attributes: Collection[str]) -> None:
        """Refuse, before anything is sent, an upload this dialer cannot store as configured (raise
        ``DialerConfigurationError`` naming the fix): e.g. attributes it has no field for. Default: none."""

    def bulk_batch_size(self, options: UploadOptions) -> int | None:
        """Rows per :meth:`upload_contacts` call when the dialer loads them as one file
        (``options.bulk``), or None where it has no such path for these options. Default: None."""
        return None

    def upload_contacts(
        self, campaign_id: str, rows: Sequence[ContactRow], *, options: UploadOptions
    ) -> list[RowOutcome]:
        """Upload one batch; exactly one outcome per input row, in any order."""
        raise self.not_supported("upload contacts", "its API has no endpoint that adds contacts to a campaign")

    def add_callbacks(
        self, campaign_id: str, rows: Sequence[CallbackRow], *, options: UploadOptions
    ) -> list[RowOutcome]:
        """Schedule one batch of callbacks; exactly one outcome per input row."""
        raise self.not_supported("schedule callbacks", "its API has no callback endpoint")

    def add_dnc(self, numbers: Sequence[str]) -> DncResult:
        """Put numbers on the do-not-call list."""
        raise self.not_supported("manage a DNC list", "its API has no do-not-call endpoints")

    def remove_dnc(self, numbers: Sequence[str]) -> DncResult:
        """Take numbers off the do-not-call list."""
        raise self.not_supported("manage a DNC list", "its API has no do-not-call endpoints")

    def list_dnc(self) -> set[str]:
        """Every number on the do-not-call list (for scrubbing uploads)."""
        raise self.not_supported("read a DNC list", "its API has no do-not-call endpoints")

    def set_global_emergency(self, enabled: bool, stopped: Sequence[str] | None = None) -> dict[str, Any]:
        """The vendor's native global emergency stop (on or off); what it changed:
        ``{"enabled", "campaigns_stopped", "campaigns_restarted"}``, and on disable
        ``campaigns_not_restarted`` (restarts the dialer refused).

        ``stopped`` (disable only): the campaigns the enable reported stopped, as the caller recorded
        them; the hook restarts those the dialer's own disable left stopped, and no other campaign.
        None: what this hook itself stopped."""
        raise self.not_supported("toggle a global emergency", "its API has no global emergency endpoint")

    def get_campaign_progress(self, campaign_id: str) -> CampaignProgress:
        """Counts by outcome, and whether the campaign is complete (bounded cost per call)."""
        raise self.not_supported("report campaign progress", "its API does not expose campaign outcomes")

    def get_contact_state(self, campaign_id: str, contact_ref: str) -> ContactState:
        """One contact's state, by external id, phone or the vendor's own id."""
        raise self.not_supported("report a contact's state", "its API cannot read contacts")

    def iter_contact_states(self, campaign_id: str, states: Collection[str] | None = None) -> Iterator[ContactRecord]:
        """Every contact the campaign holds, in any state (or those in ``states``: the vendor's
        state words, any case), streamed page by page."""
        raise self.not_supported("list a campaign's contacts", "its API cannot list the contacts of a campaign")
