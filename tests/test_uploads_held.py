"""Never load a contact twice, and count exactly: before sending, the upload reads what the campaign
holds (pending or already dialled); a row it holds is a duplicate, never sent; a row an earlier attempt
sent before dying is found there and counted accepted, not sent again. Against an in-memory dialer whose
own duplicate check, like ECM's, only covers contacts still pending."""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator, Sequence
from datetime import timedelta

import pendulum
import pytest

from airflow_provider_dialers.capabilities import (
    CallbackRow,
    ContactRecord,
    ContactRow,
    DialerCapabilities,
    RowOutcome,
    RowStatus,
    UploadOptions,
)
from airflow_provider_dialers.contacts import PhoneOptions
from airflow_provider_dialers.errors import DialerTransientError
from airflow_provider_dialers.uploads import CALLBACKS, CONTACTS, UploadSettings, run_upload
from tests.test_uploads_fakes import DictStateStore

ROWS = [{"external_id": f"crm-{i}", "phone": f"+1212555{i:04d}", "timezone": "America/New_York"}
        for i in range(1, 41)]


class PendingOnlyDialer(DialerCapabilities):
    """Keeps every contact it is sent as a record; refuses a phone only while it is still pending."""

    vendor_name = "PendingOnly"
    upload_batch_size = 10

    def __init__(self, *, crash_on_request: int | None = None, dial_on_crash: bool = False) -> None:
        self.records: list[dict] = []
        self.requests = 0
        self.crash_on_request = crash_on_request
        self.dial_on_crash = dial_on_crash
        self.listings = 0
        self._lock = threading.Lock()

    def upload_contacts(self, campaign_id: str, rows: Sequence[ContactRow], *, options: UploadOptions
                        ) -> list[RowOutcome]:
        with self._lock:
            self.requests += 1
            number = self.requests
            outcomes = []
            for item in rows:
                phone = item.contact.phones[0]
                sent = {"phone1": phone}  # what went into the request
                if any(r["phone"] == phone and r["state"] == "PENDING" for r in self.records):
                    outcomes.append(RowOutcome(item.row, RowStatus.DUPLICATE, reason="discarded", payload=sent))
                    continue
                self.records.append({"id": str(len(self.records) + 1), "external_id": item.contact.external_id,
                                     "phone": phone, "state": "PENDING", "changed": pendulum.now("UTC")})
                outcomes.append(RowOutcome(item.row, RowStatus.ACCEPTED, payload=sent))
            if number == self.crash_on_request:
                if self.dial_on_crash:
                    self.dial()  # the campaign keeps dialling while the task is down
                raise DialerTransientError("connection reset after sending", vendor=self.vendor_name,
                                           may_have_been_processed=True)
            return outcomes

    def add_callbacks(self, campaign_id: str, rows: Sequence[CallbackRow], *, options: UploadOptions
                      ) -> list[RowOutcome]:
        return self.upload_contacts(campaign_id, [ContactRow(r.row, r.callback.contact) for r in rows],
                                    options=options)

    def iter_contact_states(self, campaign_id: str, states: Collection[str] | None = None
                            ) -> Iterator[ContactRecord]:
        self.listings += 1
        for r in list(self.records):
            yield ContactRecord(r["id"], r["external_id"], r["phone"], r["state"], r["state"] != "PENDING",
                                last_change=r["changed"].isoformat())

    def dial(self, *, ago: timedelta = timedelta(0)) -> None:
        for record in self.records:
            if record["state"] == "PENDING":
                record["state"], record["changed"] = "CONNECTED", pendulum.now("UTC") - ago

    def held(self, phone: str) -> int:
        return sum(1 for r in self.records if r["phone"] == phone)


def _settings(**overrides) -> UploadSettings:
    return UploadSettings(campaign_id="C1", max_concurrency=1, **overrides)


def test_loading_the_same_file_after_the_campaign_dialled_it_adds_nothing():
    dialer = PendingOnlyDialer()
    assert run_upload(dialer, CONTACTS, ROWS, _settings())["accepted"] == 40
    dialer.dial()
    requests = dialer.requests
    result = run_upload(dialer, CONTACTS, ROWS, _settings())
    assert (result["accepted"], result["duplicates"], result["sent"]) == (0, 40, 0)
    assert dialer.requests == requests and len(dialer.records) == 40  # nobody is called twice


def test_recontact_after_loads_again_those_the_dialer_finished_long_enough_ago():
    dialer = PendingOnlyDialer()
    run_upload(dialer, CONTACTS, ROWS[:20], _settings())
    dialer.dial(ago=timedelta(days=3))
    run_upload(dialer, CONTACTS, ROWS[20:], _settings())
    dialer.dial()  # rows 21-40 finished just now
    result = run_upload(dialer, CONTACTS, ROWS, _settings(recontact_after=timedelta(days=2)))
    assert (result["accepted"], result["duplicates"]) == (20, 20)
    assert all(dialer.held(row["phone"]) == 2 for row in ROWS[:20])
    assert all(dialer.held(row["phone"]) == 1 for row in ROWS[20:])


def test_a_contact_the_campaign_held_under_another_id_is_a_duplicate_whatever_form_its_number_takes():
    dialer = PendingOnlyDialer()
    dialer.records.append({"id": "9", "external_id": None, "phone": "(212) 555-0007", "state": "CONNECTED",
                           "changed": pendulum.now("UTC")})
    result = run_upload(dialer, CONTACTS, ROWS[:10], _settings(phone_options=PhoneOptions(default_region="US")))
    assert (result["accepted"], result["duplicates"]) == (9, 1)


def test_a_crash_while_the_campaign_keeps_dialling_leaves_every_contact_there_exactly_once():
    """The in-flight rows were dialled while the task was down, so the dialer's own pending-only check
    would store them again; the retry finds them held and counts them as the earlier attempt's."""
    store = DictStateStore()
    dialer = PendingOnlyDialer(crash_on_request=2, dial_on_crash=True)
    with pytest.raises(DialerTransientError):
        run_upload(dialer, CONTACTS, ROWS, _settings(), task_state_store=store)
    dialer.crash_on_request = None
    result = run_upload(dialer, CONTACTS, ROWS, _settings(), task_state_store=store)
    assert all(dialer.held(row["phone"]) == 1 for row in ROWS)
    assert (result["accepted"], result["duplicates"]) == (40, 0) == (len(dialer.records), 0)


def test_a_row_held_before_the_upload_stays_a_duplicate_when_its_batch_is_resumed():
    store = DictStateStore()
    dialer = PendingOnlyDialer(crash_on_request=2)
    dialer.records.append({"id": "p", "external_id": "crm-15", "phone": "+12125550015", "state": "PENDING",
                           "changed": pendulum.now("UTC")})
    with pytest.raises(DialerTransientError):
        run_upload(dialer, CONTACTS, ROWS, _settings(), task_state_store=store)
    dialer.crash_on_request = None
    result = run_upload(dialer, CONTACTS, ROWS, _settings(), task_state_store=store)
    # 39 rows are this upload's, one was there before: accepted is what the dialer holds from it
    assert (result["accepted"], result["duplicates"]) == (39, 1)
    assert len(dialer.records) == 40 and all(dialer.held(row["phone"]) == 1 for row in ROWS)


def test_on_duplicate_update_sends_held_contacts_on_purpose():
    dialer = PendingOnlyDialer()
    run_upload(dialer, CONTACTS, ROWS[:10], _settings())
    dialer.dial()
    result = run_upload(dialer, CONTACTS, ROWS[:10], _settings(options=UploadOptions(on_duplicate="update")))
    assert result["sent"] == 10 and dialer.listings == 1  # no lookup: "update" wants them sent


def test_a_callback_reaches_someone_already_dialled_but_not_someone_still_queued():
    dialer = PendingOnlyDialer()
    run_upload(dialer, CONTACTS, ROWS[:2], _settings())
    dialer.dial()  # crm-1 and crm-2 were called
    run_upload(dialer, CONTACTS, ROWS[2:3], _settings())  # crm-3 waits in the queue
    later = pendulum.now("UTC").add(hours=3).isoformat()
    callbacks = [dict(row, callback_at=later) for row in ROWS[:3]]
    result = run_upload(dialer, CALLBACKS, callbacks, _settings())
    assert (result["accepted"], result["duplicates"]) == (2, 1)  # crm-3 would have been called twice
