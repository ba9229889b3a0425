"""Rejects and dry-run files belong to one task instance: their default name carries dag, run, task and
map index; ``rejects_path`` may be a URL or an ObjectStoragePath (shared storage), continued by a retry
on another worker."""

from __future__ import annotations

import csv
import io
from types import SimpleNamespace

import pytest
from airflow.sdk import ObjectStoragePath
from airflow.sdk.io import attach
from fsspec.implementations.memory import MemoryFileSystem

from airflow_provider_dialers.errors import DialerTransientError
from airflow_provider_dialers.operators.upload import UploadContactsOperator, task_instance_stem
from airflow_provider_dialers.uploads import CONTACTS, UploadSettings, run_upload
from tests.test_uploads_fakes import DictStateStore, FakeDialer

ROWS = [{"external_id": f"c{i}", "phone": f"55512{i:05d}", "timezone": "Europe/Berlin"} for i in range(1, 41)]
# every tenth row has a phone with letters: rejected before sending
ROWS_WITH_REJECTS = [dict(row, phone="555-ABC") if i % 10 == 0 else row for i, row in enumerate(ROWS, start=1)]


def _ti(task_id: str, run_id: str = "manual__2026-12-06T10:00:00+00:00", map_index: int = -1) -> dict:
    return {"ti": SimpleNamespace(dag_id="nightly load", run_id=run_id, task_id=task_id, map_index=map_index)}


@pytest.fixture(scope="module")
def shared_storage() -> str:
    """An in-memory object store standing in for S3: every "worker" of the test sees the same files."""
    attach("memory", fs=MemoryFileSystem())
    return "memory://shared"


def test_the_default_name_carries_dag_run_task_and_map_index():
    assert task_instance_stem(_ti("upload_ecm")) == "nightly_load.manual__2026-12-06T10_00_00_00_00.upload_ecm"
    assert task_instance_stem(_ti("upload", map_index=2)).endswith(".upload.map2")
    assert task_instance_stem({}) is None


def test_three_tasks_uploading_the_same_rows_write_three_rejects_files(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    paths = set()
    for task_id in ("upload_ecm", "upload_sinch", "upload_ameyo"):
        settings = UploadSettings(campaign_id="C1", max_rejected_ratio=1.0,
                                  output_stem=task_instance_stem(_ti(task_id)))
        result = run_upload(FakeDialer(), CONTACTS, ROWS_WITH_REJECTS, settings)
        paths.add(result["rejects_path"])
    assert len(paths) == 3 and all(str(tmp_path) in path for path in paths)
    for path in paths:  # each complete: 4 rejected rows
        assert [row["row"] for row in csv.DictReader(open(path))] == ["10", "20", "30", "40"]


def test_a_later_run_does_not_touch_an_earlier_runs_file(tmp_path):
    source = tmp_path / "contacts.csv"
    source.write_text("external_id,phone,timezone\n" + "".join(
        f"{r['external_id']},{r['phone']},{r['timezone']}\n" for r in ROWS_WITH_REJECTS))
    first = run_upload(FakeDialer(), CONTACTS, str(source), UploadSettings(
        campaign_id="C1", max_rejected_ratio=1.0, output_stem=task_instance_stem(_ti("upload", "run_1"))))
    before = open(first["rejects_path"]).read()
    second = run_upload(FakeDialer(), CONTACTS, str(source), UploadSettings(
        campaign_id="C1", max_rejected_ratio=1.0, output_stem=task_instance_stem(_ti("upload", "run_2"))))
    assert first["rejects_path"] != second["rejects_path"]
    assert first["rejects_path"] == f"{source}.nightly_load.run_1.upload.rejects.csv"
    assert open(first["rejects_path"]).read() == before


def test_a_retry_on_another_worker_continues_the_rejects_file_in_shared_storage(shared_storage):
    path = f"{shared_storage}/retry/rejects.csv"
    store = DictStateStore()
    settings = UploadSettings(campaign_id="C1", max_rejected_ratio=1.0, max_concurrency=1, rejects_path=path)
    dialer = FakeDialer(crash_on_request=3)  # rows 1-20 settled (rejects 10 and 20 written), then a crash
    with pytest.raises(DialerTransientError):
        run_upload(dialer, CONTACTS, ROWS_WITH_REJECTS, settings, task_state_store=store)
    assert [row["row"] for row in csv.DictReader(io.StringIO(ObjectStoragePath(path).read_text()))] == ["10", "20"]
    dialer.crash_on_request = None
    result = run_upload(dialer, CONTACTS, ROWS_WITH_REJECTS, settings, task_state_store=store)
    assert result["resumed_from_row"] is not None and result["rejects_path"] == path
    rows = [row["row"] for row in csv.DictReader(io.StringIO(ObjectStoragePath(path).read_text()))]
    assert rows == ["10", "20", "30", "40"]  # one file, every rejected row once


def test_rejects_path_may_be_an_object_storage_path_or_a_folder(shared_storage):
    as_object = ObjectStoragePath(f"{shared_storage}/objects/rejects.csv")
    result = run_upload(FakeDialer(), CONTACTS, ROWS_WITH_REJECTS,
                        UploadSettings(campaign_id="C1", max_rejected_ratio=1.0, rejects_path=as_object))
    assert result["rejects_path"] == str(as_object) and as_object.exists()
    folder = run_upload(FakeDialer(), CONTACTS, ROWS_WITH_REJECTS, UploadSettings(
        campaign_id="C1", max_rejected_ratio=1.0, rejects_path=f"{shared_storage}/folder/",
        output_stem=task_instance_stem(_ti("upload"))))
    assert folder["rejects_path"].startswith(f"{shared_storage}/folder/dialer-upload-nightly_load.")


def test_a_file_url_in_a_folder_that_does_not_exist_yet_is_written(tmp_path):
    target = f"file://{tmp_path}/new/folder/rejects.csv"
    result = run_upload(FakeDialer(), CONTACTS, ROWS_WITH_REJECTS,
                        UploadSettings(campaign_id="C1", max_rejected_ratio=1.0, rejects_path=target))
    written = (tmp_path / "new" / "folder" / "rejects.csv").read_text()
    assert result["rejected"] == 4 and written.count("contains letters") == 4


def test_the_operator_names_its_rejects_file_after_its_task_instance(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    monkeypatch.setattr("airflow_provider_dialers.hooks.get_dialer_hook", lambda conn_id: FakeDialer())
    operator = UploadContactsOperator(task_id="upload_ecm", dialer_conn_id="any", campaign_id="C1",
                                      contacts=ROWS_WITH_REJECTS, max_rejected_ratio=1.0)
    result = operator.execute(_ti("upload_ecm"))
    assert result["rejects_path"].endswith("nightly_load.manual__2026-12-06T10_00_00_00_00.upload_ecm.rejects.csv")
