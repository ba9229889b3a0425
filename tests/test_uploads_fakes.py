"""An in-memory dialer for the upload engine's tests, and tests that it behaves like one.

It keeps contacts by dedupe key (a second send of the same contact is a ``duplicate``, as Sinch's
unique ``externalId`` makes it), rejects numbers ending in ``999`` the way a vendor would (field,
reason, vendor code), and can crash on a given request, before or after processing it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest

from airflow_provider_dialers.capabilities import (
    CallbackRow,
    ContactRow,
    DialerCapabilities,
    RowOutcome,
    RowStatus,
    UploadOptions,
)
from airflow_provider_dialers.contacts import Contact, dedupe_key
from airflow_provider_dialers.hooks.base import DialerTransientError
from airflow_provider_dialers.uploads.checkpoint import MemoryStateStore

REJECTED_SUFFIX = "999"


class FakeDialer(DialerCapabilities):
    """A dialer in memory: ``stored`` maps dedupe key -> (campaign id, row, payload)."""

    vendor_name = "FakeDial"
    upload_batch_size = 10

    def __init__(
        self,
        *,
        crash_on_request: int | None = None,
        crash_after_processing: bool = True,
        dnc: Sequence[str] = (),
        send_delay: float = 0.0,
    ) -> None:
        self.stored: dict[str, tuple[str, int, dict[str, Any]]] = {}
        self.requests = 0
        self.batch_sizes: list[int] = []
        self.options_seen: list[UploadOptions] = []
        self.crash_on_request = crash_on_request
        self.crash_after_processing = crash_after_processing
        self.dnc = list(dnc)
        self.send_delay = send_delay
        self.closed = False
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()

    # -- capabilities -------------------------------------------------------------------------
    def upload_contacts(
        self, campaign_id: str, rows: Sequence[ContactRow], *, options: UploadOptions
    ) -> list[RowOutcome]:
        return self._receive(campaign_id, [(r.row, r.contact, {}) for r in rows], options)

    def add_callbacks(
        self, campaign_id: str, rows: Sequence[CallbackRow], *, options: UploadOptions
    ) -> list[RowOutcome]:
        items = [
            (
                r.row,
                r.callback.contact,
                {"callback_at": r.callback.callback_at.isoformat(), "agent": r.callback.agent},
            )
            for r in rows
        ]
        return self._receive(campaign_id, items, options)

    def list_dnc(self) -> set[str]:
        return set(self.dnc)

    def close(self) -> None:
        self.closed = True

    # -- the simulated dialer ---------------------------------------------------------------------
    def _receive(
        self, campaign_id: str, items: list[tuple[int, Contact, dict[str, Any]]], options: UploadOptions
    ) -> list[RowOutcome]:
        with self._lock:
            self.requests += 1
            number = self.requests
            self.batch_sizes.append(len(items))
            self.options_seen.append(options)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.send_delay:
                time.sleep(self.send_delay)  # lets concurrent batches overlap
            crash = number == self.crash_on_request
            if crash and not self.crash_after_processing:
                raise DialerTransientError(
                    "connection refused", vendor=self.vendor_name, may_have_been_processed=False
                )
            outcomes = [self._one(campaign_id, *item, options) for item in items]
            if crash:  # processed, but the answer is lost (the worker died or the connection reset)
                raise DialerTransientError(
                    "connection reset after sending", vendor=self.vendor_name, may_have_been_processed=True
                )
            return outcomes
        finally:
            with self._lock:
                self.in_flight -= 1

    def _one(
        self, campaign_id: str, row: int, contact: Contact, extra: dict[str, Any], options: UploadOptions
    ) -> RowOutcome:
        key = dedupe_key(contact)
        payload = {
            "externalId": key,
            "numbers": ";".join(contact.phones),
            **dict(contact.attributes),
            **extra,
        }
        if any(phone.endswith(REJECTED_SUFFIX) for phone in contact.phones):  # sent, then refused
            return RowOutcome(row, RowStatus.REJECTED, field="numbers", reason="Invalid numbers: number is not "
                              "callable", vendor_code="400", payload=payload)
        if options.dry_run:
            return RowOutcome(row, RowStatus.ACCEPTED, payload=payload)
        with self._lock:
            if key in self.stored and options.on_duplicate == "skip":
                return RowOutcome(
                    row, RowStatus.DUPLICATE, reason="externalId is not unique", vendor_code="400", payload=payload
                )
            self.stored[key] = (campaign_id, row, payload)
        return RowOutcome(row, RowStatus.ACCEPTED, vendor_id=key, payload=payload)


class NoUploadDialer(DialerCapabilities):
    """A dialer whose API cannot add contacts or callbacks (the interface's defaults raise)."""

    vendor_name = "NoUploadDial"

    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


#: ``context["task_state_store"]`` as Airflow 3.3 offers it, in memory (survives "retries").
DictStateStore = MemoryStateStore


def contact_rows(count: int, *, start: int = 1) -> list[ContactRow]:
    return [
        ContactRow(i, Contact(phones=(f"55512{i:05d}",), external_id=f"c{i}"))
        for i in range(start, start + count)
    ]


def test_fake_dialer_keeps_each_contact_once_and_reports_later_sends_as_duplicates():
    dialer = FakeDialer()
    first = dialer.upload_contacts("C1", contact_rows(3), options=UploadOptions())
    again = dialer.upload_contacts("C1", contact_rows(2), options=UploadOptions())
    assert [o.status for o in first] == [RowStatus.ACCEPTED] * 3
    assert [o.status for o in again] == [RowStatus.DUPLICATE] * 2
    assert len(dialer.stored) == 3


def test_fake_dialer_crash_after_processing_keeps_the_rows():
    dialer = FakeDialer(crash_on_request=1)
    with pytest.raises(DialerTransientError):
        dialer.upload_contacts("C1", contact_rows(3), options=UploadOptions())
    assert len(dialer.stored) == 3


def test_fake_dialer_rejects_numbers_ending_in_999_and_sends_nothing_in_dry_run():
    dialer = FakeDialer()
    rows = [ContactRow(1, Contact(phones=("5551230999",))), *contact_rows(1, start=2)]
    outcomes = dialer.upload_contacts("C1", rows, options=UploadOptions(dry_run=True))
    assert [o.status for o in outcomes] == [RowStatus.REJECTED, RowStatus.ACCEPTED]
    assert outcomes[1].payload["numbers"] == "5551200002"
    assert dialer.stored == {}
