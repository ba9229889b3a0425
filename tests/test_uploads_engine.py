"""The upload engine against an in-memory dialer: buckets, rejects file, batching, dry run, resume."""

from __future__ import annotations

import csv
import functools
import json
from pathlib import Path

import pendulum
import pytest

from airflow_provider_dialers import contacts
from airflow_provider_dialers.capabilities import RowOutcome, RowStatus, UploadOptions
from airflow_provider_dialers.hooks import get_dialer_hook
from airflow_provider_dialers.hooks.base import DialerNotSupportedError, DialerTransientError
from airflow_provider_dialers.uploads import (
    CALLBACKS,
    CONTACTS,
    CallingWindow,
    CapabilityContractError,
    UploadRejectedError,
    UploadSettings,
    run_upload,
)
from tests.support import FAST
from tests.test_uploads_fakes import DictStateStore, FakeDialer, NoUploadDialer

BUCKETS = ("accepted", "rejected", "duplicates", "skipped_dnc", "skipped_window")


def good_csv(tmp_path: Path, count: int, name: str = "contacts.csv") -> Path:
    path = tmp_path / name
    lines = ["external_id,phone,timezone,name"] + [
        f"c{i},55512{i:05d},Europe/Berlin,Person {i}" for i in range(1, count + 1)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def settings(**overrides) -> UploadSettings:
    return UploadSettings(campaign_id="C1", **overrides)


def assert_buckets_add_up(result: dict) -> None:
    assert sum(result[b] for b in BUCKETS) == result["total"]


def read_rejects(path: str) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def midday_utc(monkeypatch):
    """The clock at 12:00 UTC today: rows without a dial time are judged "now", and a window check
    must not depend on when the suite runs (13:00 in Berlin is inside 00:00-23:00; 23:30 is not)."""
    noon = pendulum.now("UTC").replace(hour=12, minute=0, second=0, microsecond=0)
    monkeypatch.setattr(pendulum, "now", lambda tz=None: noon.in_timezone(tz) if tz else noon)


def test_every_row_lands_in_exactly_one_bucket_and_rejects_are_written_with_their_reason(tmp_path, midday_utc):
    source = tmp_path / "mixed.csv"
    source.write_text(
        "external_id,phone,timezone,dial_at,name\n"
        "a1,5551230001,Europe/Berlin,,Ann\n"  # 1 accepted
        "a2,555-ABC,Europe/Berlin,,Bob\n"  # 2 rejected here (phone)
        "a1,5551230001,Europe/Berlin,,Ann again\n"  # 3 duplicate of row 1 (same external_id)
        "a4,5551230999,Europe/Berlin,,Dee\n"  # 4 rejected by the dialer
        "a5,5551230005,Europe/Berlin,,Eve\n"  # 5 on the DNC list
        "a6,5551230006,,,Fay\n"  # 6 no time zone -> skipped_window
        "a7,5551230007,Asia/Tokyo,2031-01-01T23:30:00,Gus\n"  # 7 outside the window in Tokyo
        "a8,5551230008,Mars/Olympus,,Hal\n"  # 8 rejected here (timezone)
    )
    dialer = FakeDialer()
    result = run_upload(
        dialer,
        CONTACTS,
        str(source),
        settings(
            dnc_source=["555 123 0005"],
            calling_window=CallingWindow.parse(("00:00", "23:00")),
            max_rejected_ratio=0.5,
        ),
    )
    assert {b: result[b] for b in ("total", *BUCKETS)} == {
        "total": 8,
        "accepted": 1,
        "rejected": 3,
        "duplicates": 1,
        "skipped_dnc": 1,
        "skipped_window": 2,
    }
    assert [key for key in dialer.stored] == ["a1"]
    rejects = read_rejects(result["rejects_path"])
    assert result["rejects_path"] == f"{source}.rejects.csv"
    assert [(r["row"], r["field"], r["vendor_code"], r["external_id"], r["name"]) for r in rejects] == [
        ("2", "phone", "", "a2", "Bob"),
        ("4", "numbers", "400", "a4", "Dee"),
        ("8", "timezone", "", "a8", "Hal"),
    ]
    assert "contains letters" in rejects[0]["reason"]
    assert result["first_rejects"][1] == {
        "row": 4,
        "field": "numbers",
        "reason": "Invalid numbers: number is not callable",
        "vendor_code": "400",
    }
    assert "555" not in json.dumps(result["first_rejects"])  # no phone numbers in the XCom


def test_too_many_rejects_fail_the_task_after_the_good_rows_land_and_the_rejects_file_is_written(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"phone": "5551230001"}\n{"phone": "5551230999"}\nnot json\n{"phone": "5551230004"}\n')
    dialer = FakeDialer()
    with pytest.raises(
        UploadRejectedError, match=r"2 of 4 rows were rejected \(50.0%\).*max_rejected_ratio=0.25"
    ):
        run_upload(dialer, CONTACTS, source, settings(max_rejected_ratio=0.25))
    assert len(dialer.stored) == 2
    rejects = read_rejects(f"{source}.rejects.csv")
    assert [(r["row"], r["field"]) for r in rejects] == [("2", "numbers"), ("3", "row")]
    assert json.loads(rejects[1]["values"]) == {"line": "not json"}


def test_batches_respect_the_dialers_size_and_a_smaller_batch_size(tmp_path):
    source = good_csv(tmp_path, 25)
    dialer = FakeDialer()
    result = run_upload(dialer, CONTACTS, source, settings(batch_size=500))  # capped at 10
    assert dialer.batch_sizes == [10, 10, 5]
    assert (result["accepted"], result["requests"], result["rejects_path"]) == (25, 3, None)
    small = FakeDialer()
    run_upload(small, CONTACTS, source, settings(batch_size=7))
    assert small.batch_sizes == [7, 7, 7, 4]


def test_at_most_max_concurrency_batches_are_in_flight(tmp_path):
    dialer = FakeDialer(send_delay=0.02)
    result = run_upload(dialer, CONTACTS, good_csv(tmp_path, 80), settings(max_concurrency=2))
    assert result["accepted"] == 80
    assert dialer.max_in_flight == 2


def test_a_capability_that_loses_an_outcome_stops_the_upload_clearly(tmp_path, monkeypatch):
    dialer = FakeDialer()
    original = dialer.upload_contacts
    monkeypatch.setattr(
        dialer, "upload_contacts", lambda cid, rows, options: original(cid, rows, options=options)[:-1]
    )
    with pytest.raises(
        CapabilityContractError, match=r"given 3 rows but returned 2 outcomes \(missing rows \[3\]"
    ):
        run_upload(dialer, CONTACTS, good_csv(tmp_path, 3), settings())


def test_a_capability_that_answers_a_row_twice_stops_the_upload(tmp_path, monkeypatch):
    dialer = FakeDialer()
    monkeypatch.setattr(
        dialer,
        "upload_contacts",
        lambda cid, rows, options: [RowOutcome(rows[0].row, RowStatus.ACCEPTED)] * len(rows),
    )
    with pytest.raises(CapabilityContractError, match="repeated rows \\[1\\]"):
        run_upload(dialer, CONTACTS, good_csv(tmp_path, 2), settings())


def test_dry_run_sends_nothing_and_reports_every_payload(tmp_path):
    source = good_csv(tmp_path, 12)
    dialer = FakeDialer()
    result = run_upload(
        dialer,
        CONTACTS,
        source,
        settings(options=UploadOptions(dry_run=True)),
        task_state_store=DictStateStore(),
    )
    assert dialer.stored == {}
    assert all(options.dry_run for options in dialer.options_seen)
    assert (result["would_send"], result["dry_run"], len(result["sample_payloads"])) == (12, True, 3)
    assert "sent" not in result and result["batches"] == 0  # nothing was: the XCom says would_send only
    assert result["sample_payloads"][0] == {
        "row": 1,
        "payload": {"externalId": "c1", "numbers": "5551200001", "name": "Person 1"},
    }
    lines = Path(result["dry_run_path"]).read_text().splitlines()
    assert result["dry_run_path"] == f"{source}.dryrun.jsonl"
    assert [json.loads(line)["row"] for line in lines] == list(range(1, 13))


def test_an_unsupported_capability_fails_before_anything_is_read(tmp_path):
    source = good_csv(tmp_path, 3)
    with pytest.raises(DialerNotSupportedError, match="NoUploadDial: cannot upload contacts"):
        run_upload(NoUploadDialer(), CONTACTS, source, settings())
    with pytest.raises(DialerNotSupportedError, match="NoUploadDial: cannot schedule callbacks"):
        run_upload(NoUploadDialer(), CALLBACKS, source, settings())
    assert not Path(f"{source}.rejects.csv").exists()


def test_callbacks_are_judged_at_their_callback_time_and_deduplicated_per_time():
    callbacks = [
        {
            "phone": "5551230001",
            "timezone": "America/New_York",
            "callback_at": "2031-03-03T10:00:00",
            "agent": "u1",
        },
        {
            "phone": "5551230001",
            "timezone": "America/New_York",
            "callback_at": "2031-03-03T10:00:00",
        },  # duplicate
        {
            "phone": "5551230001",
            "timezone": "America/New_York",
            "callback_at": "2031-03-04T22:00:00",
        },  # outside
        {"phone": "5551230002", "timezone": "America/New_York"},  # no callback_at
    ]
    dialer = FakeDialer()
    result = run_upload(
        dialer,
        CALLBACKS,
        callbacks,
        settings(calling_window=CallingWindow.parse(("08:00", "21:00")), max_rejected_ratio=1.0),
    )
    assert {b: result[b] for b in BUCKETS} == {
        "accepted": 1,
        "rejected": 1,
        "duplicates": 1,
        "skipped_dnc": 0,
        "skipped_window": 1,
    }
    ((_, row, payload),) = dialer.stored.values()
    assert (row, payload["agent"], payload["callback_at"]) == (1, "u1", "2031-03-03T10:00:00-05:00")
    assert result["first_rejects"] == [
        {"row": 4, "field": "callback_at", "reason": "is required", "vendor_code": None}
    ]
    assert Path(result["rejects_path"]).parent == Path(__import__("tempfile").gettempdir())


def test_a_retry_after_a_crash_resumes_and_leaves_every_contact_exactly_once(tmp_path):
    source = good_csv(tmp_path, 95)
    with source.open("a") as handle:  # rejected rows, to check the rejects file is not doubled
        handle.write("x1,5551230999,Europe/Berlin,Bad One\nx2,5551231999,Europe/Berlin,Bad Two\n")
    store = DictStateStore()
    dialer = FakeDialer(crash_on_request=6)  # rows 51-60 are processed, then the answer is lost
    with pytest.raises(DialerTransientError):
        run_upload(
            dialer,
            CONTACTS,
            source,
            settings(max_concurrency=3, max_rejected_ratio=0.1),
            task_state_store=store,
        )
    first_attempt_requests = dialer.requests
    dialer.crash_on_request = None
    result = run_upload(
        dialer, CONTACTS, source, settings(max_concurrency=3, max_rejected_ratio=0.1), task_state_store=store
    )

    assert sorted(dialer.stored) == sorted(f"c{i}" for i in range(1, 96))  # each exactly once (dict keys)
    assert {b: result[b] for b in ("total", *BUCKETS)} == {
        "total": 97,
        "accepted": 95,
        "rejected": 2,
        "duplicates": 0,
        "skipped_dnc": 0,
        "skipped_window": 0,
    }
    retry_requests = dialer.requests - first_attempt_requests
    assert result["resumed_from_row"] == 51 and result["sent"] == 47
    assert retry_requests == result["requests"] < 10  # 10 batches in all; the settled ones are not re-sent
    assert [r["row"] for r in read_rejects(result["rejects_path"])] == ["96", "97"]


def test_a_retry_that_dies_before_sending_resends_the_batch(tmp_path):
    source = good_csv(tmp_path, 30)
    store = DictStateStore()
    dialer = FakeDialer(crash_on_request=2, crash_after_processing=False)
    with pytest.raises(DialerTransientError):
        run_upload(dialer, CONTACTS, source, settings(max_concurrency=1), task_state_store=store)
    dialer.crash_on_request = None
    result = run_upload(dialer, CONTACTS, source, settings(max_concurrency=1), task_state_store=store)
    assert (result["accepted"], result["sent"], result["resumed_from_row"], len(dialer.stored)) == (
        30,
        20,
        11,
        30,
    )


def test_a_checkpoint_of_another_input_is_ignored(tmp_path):
    store = DictStateStore()
    dialer = FakeDialer(crash_on_request=2)
    with pytest.raises(DialerTransientError):
        run_upload(
            dialer, CONTACTS, good_csv(tmp_path, 30), settings(max_concurrency=1), task_state_store=store
        )
    other = good_csv(tmp_path, 31, name="other.csv")
    result = run_upload(FakeDialer(), CONTACTS, other, settings(), task_state_store=store)
    assert (result["resumed_from_row"], result["accepted"]) == (None, 31)


def test_an_empty_input_uploads_nothing_and_succeeds(tmp_path, caplog):
    source = tmp_path / "empty.csv"
    source.write_text("phone,name\n")
    result = run_upload(FakeDialer(), CONTACTS, source, settings())
    assert (result["total"], result["requests"]) == (0, 0)
    assert "no rows" in caplog.text


def test_a_resumed_upload_continues_the_rejects_file_without_losing_or_repeating_rows(tmp_path):
    source = tmp_path / "in.csv"
    rows = [f"c{i},55512{i:05d}" if i not in (2, 25) else f"c{i},55512{i:03d}999" for i in range(1, 31)]
    source.write_text("external_id,phone\n" + "\n".join(rows) + "\n")
    store = DictStateStore()
    dialer = FakeDialer(crash_on_request=3, crash_after_processing=False)
    run = functools.partial(
        run_upload,
        dialer,
        CONTACTS,
        source,
        settings(max_concurrency=1, max_rejected_ratio=0.1),
        task_state_store=store,
    )
    with pytest.raises(DialerTransientError):
        run()
    assert [r["row"] for r in read_rejects(f"{source}.rejects.csv")] == ["2"]
    # A line the dying attempt wrote after its last checkpoint:
    with Path(f"{source}.rejects.csv").open("a") as handle:
        handle.write("25,numbers,half-written line\n")
    dialer.crash_on_request = None
    result = run()
    assert [r["row"] for r in read_rejects(result["rejects_path"])] == ["2", "25"]
    assert (result["rejected"], result["accepted"], len(dialer.stored)) == (2, 28, 28)


def test_the_dry_runs_log_line_says_nothing_was_sent(tmp_path, caplog):
    caplog.set_level("INFO", logger="airflow_provider_dialers.uploads.engine")
    run_upload(FakeDialer(), CONTACTS, good_csv(tmp_path, 4), settings(options=UploadOptions(dry_run=True)))
    [line] = [r.getMessage() for r in caplog.records if "rows settled" in r.getMessage()]
    assert "4 rows settled, nothing sent to the dialer" in line and "4 accepted" in line


# -- times that never stop an upload -------------------------------------------------------------


def far_future_rows() -> list[dict]:
    return [
        {"external_id": "f1", "phone": "5551230001", "timezone": "Europe/Berlin"},
        {"external_id": "f2", "phone": "5551230002", "timezone": "Asia/Tokyo", "dial_at": "9999-12-31T23:59Z"},
        {"external_id": "f3", "phone": "5551230003", "timezone": "Pacific/Kiritimati", "dial_at": "9999-12-31T23:59"},
        {"external_id": "f4", "phone": "5551230004", "timezone": "localtime"},
        {"external_id": "f5", "phone": "5551230005", "timezone": "Europe/Berlin", "dial_at": "2031-03-30 02:30"},
        {"external_id": "f6", "phone": "5551230006", "timezone": "Europe/Berlin"},
    ]


def test_far_future_times_fake_zones_and_missing_hours_are_row_rejects_and_the_upload_goes_on(
    tmp_path, midday_utc
):
    dialer = FakeDialer()
    result = run_upload(dialer, CONTACTS, far_future_rows(), settings(
        calling_window=CallingWindow.parse(("00:00", "23:59")), max_rejected_ratio=1.0,
        rejects_path=tmp_path / "rejects.csv"))
    assert (result["total"], result["accepted"], result["rejected"]) == (6, 2, 4)
    assert sorted(dialer.stored) == ["f1", "f6"]
    rejects = {r["row"]: (r["field"], r["reason"]) for r in read_rejects(result["rejects_path"])}
    assert rejects["2"][0] == rejects["3"][0] == "dial_at" and "more than 10 years ahead" in rejects["2"][1]
    assert rejects["4"][0] == "timezone" and "worker machine's own zone" in rejects["4"][1]
    assert rejects["5"][0] == "dial_at" and "does not exist" in rejects["5"][1]


@pytest.fixture
def no_horizon(monkeypatch):
    """The model's horizon switched off: a far-future time reaches the later layers (the calling window,
    the duplicate check, the vendors' mappings), each of which must make it a row reject too."""
    monkeypatch.setattr(contacts, "_within_horizon", lambda moment, field_name, now: moment)


def test_time_arithmetic_that_fails_in_the_calling_window_rejects_only_that_row(tmp_path, midday_utc, no_horizon):
    dialer = FakeDialer()
    result = run_upload(dialer, CONTACTS, far_future_rows()[:2] + far_future_rows()[5:], settings(
        calling_window=CallingWindow.parse(("00:00", "23:59")), max_rejected_ratio=1.0))
    assert (result["accepted"], result["rejected"], sorted(dialer.stored)) == (2, 1, ["f1", "f6"])
    [reject] = result["first_rejects"]
    assert (reject["row"], reject["field"]) == (2, "dial_at")
    assert "cannot be judged in the calling window" in reject["reason"] and "out of range" in reject["reason"]


def test_time_arithmetic_that_fails_in_the_duplicate_check_rejects_only_that_row(no_horizon):
    callbacks = [{"phone": "5551230001", "callback_at": "2031-01-01T10:00:00Z"},
                 {"phone": "5551230002", "callback_at": "9999-12-31T23:59:00-05:00"},  # no UTC form
                 {"phone": "5551230003", "callback_at": "2031-01-01T10:00:00Z"}]
    dialer = FakeDialer()
    result = run_upload(dialer, CALLBACKS, callbacks, settings(max_rejected_ratio=1.0))
    assert (result["accepted"], result["rejected"]) == (2, 1)
    assert (result["first_rejects"][0]["row"], result["first_rejects"][0]["field"]) == (2, "callback_at")


@pytest.mark.parametrize(
    ("conn_id", "campaign_id", "options"),
    [("expertflow_ecm_default", "1", UploadOptions()),
     ("sinch_obi_default", "62718C7889CC44F7B944C1A6F6BE9B7F", UploadOptions()),
     ("ameyo_default", "1", UploadOptions(lead_id=39))],
)
def test_a_time_a_vendor_cannot_write_rejects_that_row_and_the_rest_is_sent(
    sandbox, sandbox_client, no_horizon, conn_id, campaign_id, options
):
    """Over real HTTP: the vendors' mappings write times in their own form (ECM dialTime and Ameyo
    callBackTime in the server's zone, Sinch date in UTC); one out of range is that row's rejection."""
    rows = [{"external_id": "v1", "phone": "5557400001"},
            {"external_id": "v2", "phone": "5557400002", "dial_at": "9999-12-31T23:59:00-05:00"},
            {"external_id": "v3", "phone": "5557400003"}]
    with get_dialer_hook(conn_id, retry_policy=FAST) as hook:
        result = run_upload(hook, CONTACTS, rows, UploadSettings(campaign_id=campaign_id, options=options,
                                                                 max_rejected_ratio=1.0))
    assert (result["accepted"], result["rejected"], result["sent"]) == (2, 1, 2)
    [reject] = result["first_rejects"]
    assert (reject["row"], reject["field"]) == (2, "dial_at") and "cannot be written" in reject["reason"]
