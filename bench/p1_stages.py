"""P1 stages: where the operator's client CPU per row goes on Sinch and Ameyo, stage by stage.

Run: ``python -m bench.p1_stages [--rows 20000] [--repeat 5]``. Each stage runs on its own, in one
thread, over the same rows as P1's files, timed with ``time.process_time``; the best of ``--repeat``
runs is reported in microseconds per row. The HTTP stage sends prepared bodies through
``DialerHook.request`` to a sandbox process; the engine stage runs the whole upload against an
instant in-memory dialer (reading, validation, duplicate and held checks, batching, accounting),
so its figure includes the reading and validation stages above it. Not a test, not timed against a
target: docs/performance.md puts the figures beside P1's.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from bench.common import UPLOAD_DIALERS, WORK_DIR, sandbox_process, write_contacts_csv


def best(rows: int, repeat: int, run: Callable[[], Any]) -> float:
    """The fastest of ``repeat`` runs, in microseconds of CPU per row."""
    times = []
    for _ in range(repeat):
        started = time.process_time()
        run()
        times.append(time.process_time() - started)
    return min(times) / rows * 1e6


def stages(rows: int, repeat: int) -> Iterator[tuple[str, float]]:
    """(stage, us per row) for the stages that need no server."""
    from airflow_provider_dialers.capabilities import ContactRecord, RowStatus
    from airflow_provider_dialers.contacts import PhoneOptions, dedupe_key, normalise_phone, parse_contact
    from airflow_provider_dialers.uploads.accounting import UploadCounters
    from airflow_provider_dialers.uploads.digests import DigestSet
    from airflow_provider_dialers.uploads.held import HeldContacts
    from airflow_provider_dialers.uploads.sources import CONTACT_KEYS, ColumnMapper, iter_rows
    from airflow_provider_dialers.vendors.ameyo import records as ameyo_records
    from airflow_provider_dialers.vendors.ameyo.wire import command_form, upload_contacts_data
    from airflow_provider_dialers.vendors.sinch.records import customer_from_contact
    from airflow_provider_dialers.vendors.sinch.wire import with_attribute_form

    path = str(write_contacts_csv(WORK_DIR / "p1_stages.csv", rows, block=77))
    mapper, options = ColumnMapper(CONTACT_KEYS, {}), PhoneOptions()
    read = list(iter_rows(path, mapper))
    contacts = [parse_contact(row.record, phones=options) for row in read]

    def measure(run: Callable[[], Any]) -> float:
        return best(rows, repeat, run)

    yield "read the CSV, map its columns", measure(lambda: list(iter_rows(path, mapper)))
    yield "validate (parse_contact)", measure(lambda: [parse_contact(row.record, phones=options) for row in read])
    yield "  of which the phone", measure(lambda: [normalise_phone(row.record["phone"], "phone", options) for row in read])

    def digests() -> None:
        seen = DigestSet()
        for contact in contacts:
            seen.add(int.from_bytes(hashlib.blake2b(dedupe_key(contact).encode(), digest_size=8).digest(), "big"))

    yield "duplicate check (digest)", measure(digests)
    held = HeldContacts(None)
    for index in range(5):  # the seed: contacts without an external id, as ECM and Ameyo keep them
        held.add(ContactRecord(contact_ref=str(index), external_id=None, phone=f"+1555000{index:04d}",
                               state="NOT_HANDLED", terminal=False))
    yield "held-contacts check", measure(lambda: [held.holds(contact) for contact in contacts])

    def counting() -> None:
        counters = UploadCounters()
        for _ in range(rows):
            counters.count(RowStatus.ACCEPTED)

    yield "count the outcome", measure(counting)
    yield "sinch: contact -> customer", measure(lambda: [customer_from_contact(c) for c in contacts])
    customers = [customer_from_contact(contact) for contact in contacts]
    yield "sinch: JSON body", measure(lambda: [json.dumps([with_attribute_form(c, False) for c in customers[i:i + 100]])
                                               for i in range(0, rows, 100)])
    yield "ameyo: contact -> customer record", measure(lambda: [ameyo_records.customer_record(c) for c in contacts])
    records = [ameyo_records.customer_record(contact) for contact in contacts]
    yield "ameyo: form body", measure(lambda: [command_form("uploadContacts", upload_contacts_data(
        1, 1, records[i:i + 200], update_customer=False)) for i in range(0, rows, 200)])
    yield "engine, instant dialer (reading to accounting)", _engine(path, rows, repeat)


def _engine(path: str, rows: int, repeat: int) -> float:
    from airflow_provider_dialers.capabilities import ContactRecord, DialerCapabilities, RowOutcome, RowStatus
    from airflow_provider_dialers.uploads.checkpoint import MemoryStateStore
    from airflow_provider_dialers.uploads.engine import CONTACTS, UploadSettings, run_upload

    class Instant(DialerCapabilities):
        vendor_name = "instant"

        def iter_contact_states(self, campaign_id: str, states: Any = None) -> Iterator[ContactRecord]:
            return iter(())

        def upload_contacts(self, campaign_id: str, batch: Any, *, options: Any) -> list[RowOutcome]:
            return [RowOutcome(row.row, RowStatus.ACCEPTED, payload={}) for row in batch]

    def upload() -> None:
        result = run_upload(Instant(), CONTACTS, path, UploadSettings(campaign_id="1"),
                            task_state_store=MemoryStateStore())
        assert result["accepted"] == rows, result

    return best(rows, repeat, upload)


def http_stages(rows: int) -> Iterator[tuple[str, float]]:
    """Client CPU per row of ``DialerHook.request`` with the body already built, against a sandbox process."""
    from airflow_provider_dialers.hooks import get_dialer_hook
    from airflow_provider_dialers.vendors.ameyo.wire import FORM_CONTENT_TYPE, command_form, upload_contacts_data

    sinch, ameyo = (next(d for d in UPLOAD_DIALERS if d.vendor == vendor) for vendor in ("sinch", "ameyo"))
    with sandbox_process():
        hook = get_dialer_hook(sinch.conn_id)
        bodies = [[{"externalId": f"st-{k}-{i}", "numbers": f"+1290{k:03d}{i:04d}",
                    "attributes": [{"name": "name", "value": f"Customer {i}"}]} for i in range(100)]
                  for k in range(rows // 100)]
        path = f"/RI/obi/campaigns/{sinch.campaign_id}/customers/list"
        started = time.process_time()
        for body in bodies:
            hook.request("POST", path, retry_safe=True, json_body=body).text
        yield "sinch: HTTP request and answer (requests)", (time.process_time() - started) / rows * 1e6
        hook = get_dialer_hook(ameyo.conn_id)
        forms = [command_form("uploadContacts", upload_contacts_data(1, 1, [
            {"phone1": f"+1291{k:03d}{i:04d}", "external_id": f"sa-{k}-{i}", "name": f"Customer {i}"}
            for i in range(200)], update_customer=False)) for k in range(rows // 200)]
        started = time.process_time()
        for form in forms:
            hook.request("POST", "/ameyowebaccess/command", retry_safe=True, data=form,
                         headers={"Content-Type": FORM_CONTENT_TYPE}).text
        yield "ameyo: HTTP request and answer (requests)", (time.process_time() - started) / rows * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    logging.getLogger("airflow_provider_dialers").setLevel(logging.WARNING)
    for name, us in [*stages(args.rows, args.repeat), *http_stages(args.rows)]:
        print(f"{name:<48} {us:7.2f} us/row", flush=True)


if __name__ == "__main__":
    main()
