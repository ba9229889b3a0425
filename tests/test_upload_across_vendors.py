"""One upload, three dialers: the same file and the same operator arguments, switched only by the
connection id, land the same valid contacts with the same accounting; a crashed try then a retry
leaves every contact exactly once (over real HTTP against the sandbox)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airflow_provider_dialers.hooks import dialer_hook_class
from airflow_provider_dialers.hooks.base import DialerTransientError
from airflow_provider_dialers.operators import UploadContactsOperator
from tests.support import first_phones
from tests.test_uploads_fakes import DictStateStore

MIXED = Path(__file__).parent / "data" / "contacts_mixed.csv"
VALID_PHONES = {"5551230001", "5551230002", "5551230003", "5551230013"}
SINCH_CAMPAIGN = "62718C7889CC44F7B944C1A6F6BE9B7F"
# (connection, vendor key, campaign) — nothing else differs between the three runs.
DIALERS = [
    ("expertflow_ecm_default", "expertflow", "1"),
    ("sinch_obi_default", "sinch", SINCH_CAMPAIGN),
    ("ameyo_default", "ameyo", "1"),
]
SAME_ARGUMENTS: dict[str, Any] = {
    "lead_id": 1,  # Ameyo's lead; the others ignore it
    "attribute_map": {"name": "businessParam1", "plan": "businessParam2"},  # ECM's businessParams
    "max_rejected_ratio": 1.0,
}

# Every test here runs under each readings profile (docs/readings.md), with quick retries.
pytestmark = [pytest.mark.usefixtures("fast_dialer_hooks"), pytest.mark.readings_profiles]


@pytest.mark.parametrize(("conn_id", "vendor", "campaign_id"), DIALERS)
def test_the_same_upload_lands_the_same_contacts_with_the_same_accounting(
    sandbox, tmp_path, conn_id, vendor, campaign_id
):
    source = tmp_path / "contacts.csv"
    source.write_bytes(MIXED.read_bytes())
    before = first_phones(sandbox, vendor, campaign_id)
    result = UploadContactsOperator(
        task_id="upload", dialer_conn_id=conn_id, campaign_id=campaign_id, source=str(source), **SAME_ARGUMENTS
    ).execute({})
    counts = {k: result[k] for k in ("total", "accepted", "rejected", "duplicates", "skipped_dnc", "skipped_window")}
    assert counts == {"total": 13, "accepted": 4, "rejected": 8, "duplicates": 1, "skipped_dnc": 0,
                      "skipped_window": 0}
    added = first_phones(sandbox, vendor, campaign_id)[len(before):]
    assert sorted(added) == sorted(VALID_PHONES)
    rejects = Path(result["rejects_path"]).read_text()
    for row, field in [(4, "phone"), (5, "phones"), (6, "timezone"), (7, "dial_at"), (8, "dial_at"),
                       (10, "phone"), (11, "attributes.name"), (12, "phone")]:
        assert f"\n{row},{field}" in rejects.replace("\r\n", "\n"), (row, field, rejects)


def _crash_after_the_dialer_processed(monkeypatch, hook_cls: type, crash_on_call: int) -> list[int]:
    """Make the hook's upload_contacts raise right after the dialer processed batch ``crash_on_call``:
    the worst moment for a crash (the contacts are in the dialer, the task never learns it)."""
    calls: list[int] = []
    original = hook_cls.upload_contacts

    def upload_then_crash(self, campaign_id, rows, *, options):
        outcomes = original(self, campaign_id, rows, options=options)
        calls.append(len(rows))
        if len(calls) == crash_on_call:
            raise DialerTransientError("simulated crash after the batch was processed", vendor=self.vendor_name,
                                       may_have_been_processed=True)
        return outcomes

    monkeypatch.setattr(hook_cls, "upload_contacts", upload_then_crash)
    return calls


@pytest.mark.parametrize(("conn_id", "vendor", "campaign_id"), DIALERS)
def test_a_crashed_upload_retried_leaves_each_contact_exactly_once(
    sandbox, tmp_path, monkeypatch, conn_id, vendor, campaign_id
):
    source = tmp_path / "contacts.csv"
    phones = [f"55590{n:05d}" for n in range(60)]
    source.write_text("external_id,phone,timezone\n" + "".join(
        f"ext-{n},{phone},Europe/London\n" for n, phone in enumerate(phones)))
    before = first_phones(sandbox, vendor, campaign_id)
    hook_cls = dialer_hook_class({"expertflow": "expertflow_ecm", "sinch": "sinch_obi", "ameyo": "ameyo"}[vendor])
    calls = _crash_after_the_dialer_processed(monkeypatch, hook_cls, crash_on_call=3)
    store = DictStateStore()

    def upload() -> dict[str, Any]:
        return UploadContactsOperator(
            task_id="upload", dialer_conn_id=conn_id, campaign_id=campaign_id, source=str(source),
            batch_size=10, max_concurrency=1, **SAME_ARGUMENTS,
        ).execute({"task_state_store": store})

    with pytest.raises(DialerTransientError, match="simulated crash"):
        upload()
    first_try_rows = sum(calls)
    assert first_try_rows == 30
    result = upload()  # the retry: same task instance, same state store

    added = first_phones(sandbox, vendor, campaign_id)[len(before):]
    assert sorted(added) == sorted(phones)  # every contact exactly once: none lost, none twice
    assert (result["total"], result["accepted"], result["duplicates"], result["rejected"]) == (60, 60, 0, 0)
    retry_rows = sum(calls) - first_try_rows
    # Resumed at the crashed batch (rows 21-30), not at row 1; the retry's lookup of the campaign found
    # that batch at the dialer (processed before the crash), so it was counted, not sent again.
    assert retry_rows == 30


CALLBACKS = [
    {"external_id": "cb-1", "phone": "5551239001", "timezone": "America/Chicago",
     "callback_at": "2030-05-04T15:30:00-05:00"},
    {"external_id": "cb-2", "phone": "5551239002", "callback_at": "2030-05-04T09:00:00+02:00"},
    {"external_id": "cb-3", "phone": "55512-HELLO", "callback_at": "2030-05-04T09:00:00+02:00"},  # bad phone
    {"external_id": "cb-4", "phone": "5551239004", "callback_at": "2030-05-04 09:00"},  # no offset, no zone
]


@pytest.mark.parametrize(("conn_id", "vendor", "campaign_id"), DIALERS)
def test_add_callbacks_operator_schedules_the_valid_callbacks(sandbox, conn_id, vendor, campaign_id):
    from airflow_provider_dialers.operators import AddCallbacksOperator

    result = AddCallbacksOperator(task_id="callbacks", dialer_conn_id=conn_id, campaign_id=campaign_id,
                                  callbacks=CALLBACKS, max_rejected_ratio=1.0, **{"lead_id": 1}).execute({})
    assert (result["total"], result["accepted"], result["rejected"]) == (4, 2, 2)
    state = sandbox.client.state(vendor)
    if vendor == "expertflow":  # ECM server zone is UTC (the connection's default): dialTime in UTC
        times = {c["phone1"]: c["dialTime"] for c in state["callbacks"] if c["phone1"] in {"5551239001", "5551239002"}}
        assert times == {"5551239001": "2030-05-04 20:30:00", "5551239002": "2030-05-04 07:00:00"}
    elif vendor == "sinch":
        customers = {c["externalId"]: c for c in state["campaigns"][campaign_id]["customers"]}
        assert customers["cb-1"]["date"].startswith("2030-05-04T20:30:00")
        assert customers["cb-2"]["date"].startswith("2030-05-04T07:00:00")
    else:
        phones = {str(cb.get("phone") or cb.get("callBackPhone")) for cb in state["callbacks"]}
        assert {"5551239001", "5551239002"} <= phones


def test_upload_scrubs_numbers_on_the_dialers_dnc_list(sandbox):
    contacts = [{"external_id": "dnc-1", "phone": "03001234567"},  # on the ECM sandbox's seeded DNC list
                {"external_id": "ok-1", "phone": "03007654321"}]
    before = first_phones(sandbox, "expertflow", "1")
    result = UploadContactsOperator(task_id="upload", dialer_conn_id="expertflow_ecm_default", campaign_id="1",
                                    contacts=contacts, scrub_dnc=True).execute({})
    assert (result["accepted"], result["skipped_dnc"]) == (1, 1)
    assert first_phones(sandbox, "expertflow", "1")[len(before):] == ["03007654321"]
