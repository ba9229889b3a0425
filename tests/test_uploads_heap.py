"""uploads.heap: the objects alive before an upload are kept out of the collector's way during it,
and given back after it (or left alone when something else froze objects already)."""

from __future__ import annotations

import gc

from airflow_provider_dialers.uploads.heap import long_lived_objects_frozen


def test_objects_alive_before_are_frozen_during_the_block_and_unfrozen_after():
    assert gc.get_freeze_count() == 0
    with long_lived_objects_frozen() as frozen:
        assert frozen and gc.get_freeze_count() > 1000
    assert gc.get_freeze_count() == 0


def test_unfrozen_after_an_error_too():
    try:
        with long_lived_objects_frozen():
            raise RuntimeError("the upload failed")
    except RuntimeError:
        pass
    assert gc.get_freeze_count() == 0


def test_a_freeze_made_by_someone_else_is_left_alone():
    gc.freeze()
    try:
        # The count falls as frozen objects die (another thread may free some), never to 0 here.
        with long_lived_objects_frozen() as frozen:
            assert not frozen and gc.get_freeze_count() > 0
        assert gc.get_freeze_count() > 0  # not unfrozen by the upload
    finally:
        gc.unfreeze()


def test_an_upload_runs_with_the_heap_frozen(monkeypatch):
    from airflow_provider_dialers.uploads import engine

    seen: list[int] = []
    original = engine.UploadRun._read_and_send

    def spy(self, executor):
        seen.append(gc.get_freeze_count())
        return original(self, executor)

    monkeypatch.setattr(engine.UploadRun, "_read_and_send", spy)
    from tests.test_uploads_fakes import FakeDialer

    engine.run_upload(FakeDialer(), engine.CONTACTS, [{"phone": "+15550100001"}],
                      engine.UploadSettings(campaign_id="c"))
    assert seen and seen[0] > 0 and gc.get_freeze_count() == 0
