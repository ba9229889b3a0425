"""Exact accounting (issue 11): after faults, replays, a crash and its retry, while the campaign keeps
dialling, ``accepted`` equals the contacts the dialer holds from this upload and ``duplicates`` the ones
it held before. Per vendor that takes contacts, 3,000 rows of which 300 the campaign already holds."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from airflow_provider_dialers.hooks import dialer_hook_class
from airflow_provider_dialers.hooks.base import DialerTransientError
from airflow_provider_dialers.operators import UploadContactsOperator
from tests.test_reliability_faults import (
    CLIENT_TIMEOUT,
    DIALERS,
    campaign_contacts,
    expected_key,
    external_id,
    fault_hits,
    install_faults,
    phone,
)
from tests.test_upload_across_vendors import _crash_after_the_dialer_processed
from tests.test_uploads_fakes import DictStateStore

ROWS = 3_000
HELD_BEFORE = 300  # rows 0..299 are in the campaign before the upload: they must be duplicates
DIAL_RATE = 400.0  # contacts per second the campaign dials meanwhile (held contacts change state)
CONN_TYPES = {"expertflow": "expertflow_ecm", "sinch": "sinch_obi", "ameyo": "ameyo"}

pytestmark = pytest.mark.usefixtures("fast_dialer_hooks")


def _write(path: Path, numbers: range) -> Path:
    with path.open("w", encoding="utf-8") as out:
        out.write("external_id,phone,timezone\n")
        out.writelines(f"{external_id(n)},{phone(n)},Europe/London\n" for n in numbers)
    return path


@pytest.mark.parametrize("dialer", DIALERS, ids=lambda d: d.name)
def test_accepted_is_what_the_dialer_holds_from_the_upload_after_faults_and_a_crash(
    sandbox, sandbox_client, make_connection, tmp_path, monkeypatch, reliability_report, dialer
):
    vendor = dialer.vendor
    conn_id = make_connection(f"acct_{vendor}", CONN_TYPES[vendor], extra={"timeout": CLIENT_TIMEOUT})

    def upload(source: Path, store: DictStateStore | None = None) -> dict:
        return UploadContactsOperator(
            task_id="upload", dialer_conn_id=conn_id, campaign_id=dialer.campaign_id, source=str(source),
            lead_id=1, batch_size=dialer.batch_size, max_concurrency=dialer.max_concurrency, bulk=dialer.bulk,
        ).execute({"task_state_store": store} if store is not None else {})

    # 300 contacts the campaign already holds, and keeps dialling while the upload runs.
    assert upload(_write(tmp_path / "earlier.csv", range(HELD_BEFORE)))["accepted"] == HELD_BEFORE
    sandbox_client.configure(dial_rate=DIAL_RATE)
    before = Counter(campaign_contacts(sandbox_client, vendor, dialer.campaign_id))
    source = _write(tmp_path / "tonight.csv", range(ROWS))
    rule_ids = install_faults(sandbox_client, vendor, 0.0)  # 503s and resets; no delays (time)
    calls = _crash_after_the_dialer_processed(
        monkeypatch, dialer_hook_class(CONN_TYPES[vendor]), crash_on_call=(ROWS // dialer.batch_size) // 2)
    store = DictStateStore()
    try:
        with pytest.raises(DialerTransientError, match="simulated crash"):
            upload(source, store)
        crashed_after = sum(calls)
        result = upload(source, store)  # the retry: same task instance, same state store
    finally:
        hits = fault_hits(sandbox_client, rule_ids)
        sandbox_client.clear_faults()
        sandbox_client.configure(dial_rate=0.0)

    after = Counter(campaign_contacts(sandbox_client, vendor, dialer.campaign_id))
    from_upload = after - before  # what the dialer holds now that it did not hold before
    held_by_dialer = sum(from_upload.values())
    twice = sum(count - 1 for count in after.values() if count > 1)
    reliability_report(
        f"Accounting {dialer.name} ({ROWS} rows, {HELD_BEFORE} held before, faults, crash, dialling)",
        accepted=result["accepted"], dialer_holds_from_upload=held_by_dialer,
        duplicates=result["duplicates"], held_before=HELD_BEFORE, contacts_twice=twice,
        resumed_from_row=result["resumed_from_row"], rows_sent_before_crash=crashed_after,
        **{f"hits[{kind}]": count for kind, count in hits.items() if count},
    )
    assert result["accepted"] == held_by_dialer == ROWS - HELD_BEFORE
    assert result["duplicates"] == HELD_BEFORE
    assert twice == 0  # nobody is in the campaign twice
    assert set(from_upload) == {expected_key(vendor, n) for n in range(HELD_BEFORE, ROWS)}
    assert sum(hits.values()) > 0
