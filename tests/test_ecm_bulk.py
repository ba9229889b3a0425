"""ECM bulk loads (issue 14, item 4): uploads of ``bulk_threshold`` rows and more go as
``callback/uploadBulkCaller`` files, every row reconciled with ``getList``, exactly once under faults,
a crash and its retry, while the campaign dials; over real HTTP against the sandbox."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_dialers.capabilities import UploadOptions
from airflow_provider_dialers.hooks import dialer_hook_class
from airflow_provider_dialers.operators import UploadContactsOperator
from airflow_provider_dialers.uploads.batching import estimated_rows, plan_batches
from tests.test_reliability_faults import CLIENT_TIMEOUT, campaign_contacts
from tests.test_uploads_fakes import DictStateStore

pytestmark = pytest.mark.usefixtures("fast_dialer_hooks")

CAMPAIGN = "1"
BULK_PATH = "/callback/uploadBulkCaller"
INSERT_PATH = "/callback/insertCallback"


def phone(n: int) -> str:
    return f"4477{n:08d}"


def write_rows(path: Path, numbers: range, *, extra: str = "") -> Path:
    with path.open("w", encoding="utf-8") as out:
        out.write("external_id,phone,timezone" + (",note" if extra else "") + "\n")
        out.writelines(f"bulk-{n},+{phone(n)},Europe/London" + (f",{extra}" if extra else "") + "\n"
                       for n in numbers)
    return path


def upload(conn_id: str, source: Path, store: DictStateStore | None = None, **arguments: Any) -> dict:
    operator = UploadContactsOperator(task_id="load", dialer_conn_id=conn_id, campaign_id=CAMPAIGN,
                                      source=str(source), **arguments)
    return operator.execute({"task_state_store": store} if store is not None else {})


def calls(sandbox_client, path: str) -> int:
    return sum(1 for entry in sandbox_client.requests("expertflow") if entry["path"].endswith(path))


def held(sandbox_client) -> Counter:
    return Counter(campaign_contacts(sandbox_client, "expertflow", CAMPAIGN))


@pytest.mark.readings_profiles
def test_a_large_upload_goes_as_files_and_every_row_is_accounted(sandbox, sandbox_client, tmp_path):
    before = held(sandbox_client)
    source = write_rows(tmp_path / "big.csv", range(2_500))
    sandbox_client.clear_requests()
    result = upload("expertflow_ecm_default", source, batch_size=1_000)  # 3 files: 1,000 + 1,000 + 500 rows

    assert (result["total"], result["accepted"], result["rejected"], result["duplicates"]) == (2_500, 2_500, 0, 0)
    assert calls(sandbox_client, BULK_PATH) == 3
    assert calls(sandbox_client, INSERT_PATH) == 0
    assert result["requests"] < 60  # 3 files, their counts and getList pages; per row it is 2,500+
    added = held(sandbox_client) - before
    assert added == Counter({phone(n): 1 for n in range(2_500)})


def test_rows_the_campaign_holds_are_duplicates_and_not_in_the_file(sandbox, sandbox_client, tmp_path):
    upload("expertflow_ecm_default", write_rows(tmp_path / "first.csv", range(100)), bulk=False)
    result = upload("expertflow_ecm_default", write_rows(tmp_path / "again.csv", range(1_200)))
    assert (result["accepted"], result["duplicates"]) == (1_100, 100)
    assert held(sandbox_client) - Counter() >= Counter({phone(n): 1 for n in range(1_200)})
    assert max(held(sandbox_client).values()) == 1


def test_below_the_threshold_or_with_bulk_false_rows_go_one_by_one(sandbox, sandbox_client, tmp_path):
    sandbox_client.clear_requests()
    small = upload("expertflow_ecm_default", write_rows(tmp_path / "small.csv", range(300)))
    assert small["accepted"] == 300 and calls(sandbox_client, BULK_PATH) == 0
    assert calls(sandbox_client, INSERT_PATH) == 300
    forced_off = upload("expertflow_ecm_default", write_rows(tmp_path / "off.csv", range(300, 1_400)), bulk=False)
    assert forced_off["accepted"] == 1_100 and calls(sandbox_client, BULK_PATH) == 0
    forced_on = upload("expertflow_ecm_default", write_rows(tmp_path / "on.csv", range(2_000, 2_010)), bulk=True)
    assert forced_on["accepted"] == 10 and calls(sandbox_client, BULK_PATH) == 1


def test_values_a_comma_split_would_misread_and_repeated_phones_go_through_insert_callback(
    sandbox, sandbox_client, tmp_path
):
    source = tmp_path / "mixed.csv"
    source.write_text(
        "external_id,phone,timezone,note\n"
        "a,+447700000001,Europe/London,plain\n"
        'b,+447700000002,Europe/London,"Smith, John"\n'
        "c,+447700000001,Europe/London,same phone as a\n"
        "d,+447700000003,Europe/London,plain\n"
    )
    sandbox_client.clear_requests()
    result = upload("expertflow_ecm_default", source, bulk=True, attribute_map={"note": "businessParam1"})
    assert (result["accepted"], result["duplicates"], result["rejected"]) == (3, 1, 0)
    assert calls(sandbox_client, BULK_PATH) == 1 and calls(sandbox_client, INSERT_PATH) == 2
    stored = {c["phone1"]: c for c in sandbox_client.state("expertflow")["callbacks"]
              if str(c["campaignId"]) == CAMPAIGN}
    assert stored["+447700000002"]["businessParam1"] == "Smith, John"  # intact: sent as JSON


def test_a_file_the_dialer_refuses_is_sent_row_by_row(sandbox, sandbox_client, tmp_path):
    sandbox_client.add_fault(vendor="expertflow", path="uploadBulkCaller", status=400, count=1,
                             body='{"message": "line 7: phone1 is invalid"}')
    sandbox_client.clear_requests()
    result = upload("expertflow_ecm_default", write_rows(tmp_path / "refused.csv", range(40)), bulk=True)
    assert result["accepted"] == 40
    assert calls(sandbox_client, BULK_PATH) == 1 and calls(sandbox_client, INSERT_PATH) == 40
    assert max(held(sandbox_client).values()) == 1


def test_rows_stored_after_the_answer_are_waited_for(sandbox, sandbox_client, tmp_path):
    sandbox_client.configure(readings={"ecm_bulk_processing": "queued"})
    result = upload("expertflow_ecm_default", write_rows(tmp_path / "queued.csv", range(1_500)))
    assert result["accepted"] == 1_500
    assert Counter(held(sandbox_client)) >= Counter({phone(n): 1 for n in range(1_500)})


def test_rows_never_listed_are_rejected_with_the_reason_and_never_sent_twice(
    sandbox, sandbox_client, tmp_path, monkeypatch
):
    from airflow_provider_dialers.sandbox.expertflow import routes

    hook_class = dialer_hook_class("expertflow_ecm")
    monkeypatch.setattr(hook_class, "bulk_settle_seconds", 0.1)  # far shorter than the sandbox's queue
    monkeypatch.setattr(routes, "BULK_QUEUE_SECONDS", 3.0)  # (served from this process) even on a busy machine
    sandbox_client.configure(readings={"ecm_bulk_processing": "queued"})
    source = write_rows(tmp_path / "slow.csv", range(20))
    result = upload("expertflow_ecm_default", source, bulk=True, max_rejected_ratio=1.0)
    assert (result["accepted"], result["rejected"]) == (0, 20)
    assert "does not list this contact" in result["first_rejects"][0]["reason"]
    assert result["first_rejects"][0]["field"] == "phone1"
    import time

    time.sleep(3.5)  # the queue stores them
    again = upload("expertflow_ecm_default", source, bulk=True)  # a new run: every row is found in the campaign
    assert again["duplicates"] == 20 and again["accepted"] == 0
    assert max(held(sandbox_client).values()) == 1


def test_a_dry_run_shows_each_rows_file_line_and_sends_nothing(sandbox, sandbox_client, tmp_path):
    sandbox_client.clear_requests()
    result = upload("expertflow_ecm_default", write_rows(tmp_path / "dry.csv", range(1_200)), dry_run=True)
    assert result["would_send"] == 1_200 and calls(sandbox_client, BULK_PATH) == 0
    assert result["sample_payloads"][0]["payload"] == {"campaignId": 1,
                                           "uploadBulkCaller": "+447700000000" + "," * 17}


def test_recontact_after_keeps_the_per_row_path(sandbox, sandbox_client, tmp_path):
    sandbox_client.clear_requests()
    result = upload("expertflow_ecm_default", write_rows(tmp_path / "re.csv", range(1_100)), recontact_after=86_400)
    assert result["accepted"] == 1_100 and calls(sandbox_client, BULK_PATH) == 0


def test_a_lost_answer_is_reconciled_before_anything_is_sent_again(sandbox, sandbox_client, make_connection,
                                                                   tmp_path, reliability_report, monkeypatch):
    """The first file's answer is lost after ECM stored it, the second's before: the first is never sent
    again, the second is (the per-row fault suite runs on files too: tests/test_reliability_*.py)."""
    conn_id = make_connection("bulk_lost", "expertflow_ecm", extra={"timeout": CLIENT_TIMEOUT})
    # No file was answered yet, so the hook does not know whether ECM stores files before answering:
    # after the second loss it waits this long for the rows before sending them again.
    monkeypatch.setattr(dialer_hook_class("expertflow_ecm"), "bulk_settle_seconds", 1.0)
    before = held(sandbox_client)
    after_rule = sandbox_client.add_fault(vendor="expertflow", path="uploadBulkCaller", action="reset",
                                          after_processing=True, count=1)["id"]
    before_rule = sandbox_client.add_fault(vendor="expertflow", path="uploadBulkCaller", action="reset",
                                           count=1)["id"]
    sandbox_client.clear_requests()
    result = upload(conn_id, write_rows(tmp_path / "lost.csv", range(1_000)), batch_size=500, bulk=True,
                    max_concurrency=1)
    left = {rule["id"] for rule in sandbox_client._call("GET", "/faults")}  # a spent rule is removed
    files = calls(sandbox_client, BULK_PATH)
    twice = sum(count - 1 for count in held(sandbox_client).values() if count > 1)
    reliability_report("ECM bulk: 2 files of 500, the 1st answer lost after storing, the 2nd before",
                       accepted=result["accepted"], files_sent=files, twice=twice)
    assert not {after_rule, before_rule} & left  # both resets happened
    assert files == 3  # file 1 once (found on reconciling), file 2 twice
    assert result["accepted"] == 1_000 and twice == 0
    assert held(sandbox_client) - before == Counter({phone(n): 1 for n in range(1_000)})


def test_plan_batches_and_the_row_estimate(tmp_path):
    from airflow_provider_dialers.hooks.expertflow import ExpertflowEcmHook

    hook = ExpertflowEcmHook.__new__(ExpertflowEcmHook)
    source = write_rows(tmp_path / "est.csv", range(4_000))
    assert 3_600 <= estimated_rows(str(source)) <= 4_400
    assert estimated_rows([{}] * 7) == 7 and estimated_rows(iter([])) == 0
    assert estimated_rows(str(tmp_path / "missing.csv")) == 0
    options = UploadOptions()
    size, planned = plan_batches(hook, str(source), requested_size=None, options=options, bulk=None, bulk_allowed=True)
    assert (size, planned.bulk) == (5_000, True)
    size, planned = plan_batches(hook, [{}] * 999, requested_size=None, options=options, bulk=None, bulk_allowed=True)
    assert (size, planned.bulk) == (25, False)
    size, planned = plan_batches(hook, str(source), requested_size=800, options=options, bulk=None, bulk_allowed=True)
    assert (size, planned.bulk) == (800, True)
    size, planned = plan_batches(hook, str(source), requested_size=None, options=options, bulk=None,
                                 bulk_allowed=False)  # callbacks
    assert (size, planned.bulk) == (25, False)
    with pytest.raises(ValueError, match="at least 1"):
        plan_batches(hook, str(source), requested_size=0, options=options, bulk=True, bulk_allowed=True)


def test_answers_lost_every_time_fail_the_batch_and_the_retry_loads_each_row_once(
    sandbox, sandbox_client, make_connection, tmp_path, monkeypatch
):
    from airflow_provider_dialers.errors import DialerTransientError

    conn_id = make_connection("bulk_never", "expertflow_ecm", extra={"timeout": CLIENT_TIMEOUT})
    monkeypatch.setattr(dialer_hook_class("expertflow_ecm"), "bulk_settle_seconds", 0.3)
    sandbox_client.add_fault(vendor="expertflow", path="uploadBulkCaller", action="reset", count=None)
    source = write_rows(tmp_path / "never.csv", range(50))
    store = DictStateStore()
    before = held(sandbox_client)
    with pytest.raises(DialerTransientError, match="answer was lost .* times; 50 of the file's rows"):
        upload(conn_id, source, store, bulk=True)
    assert held(sandbox_client) == before  # reset before processing: nothing was stored
    sandbox_client.clear_faults()
    result = upload(conn_id, source, store, bulk=True)  # the task's retry
    assert (result["accepted"], result["duplicates"]) == (50, 0)
    assert held(sandbox_client) - before == Counter({phone(n): 1 for n in range(50)})
