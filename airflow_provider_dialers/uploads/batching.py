"""How many rows go in one request: the dialer's batch, or a whole file where it loads files.

A dialer whose API takes one contact per request (ECM's ``insertCallback``) spends a round trip per
contact; its file endpoint takes thousands in one. ``plan_batches`` picks the file path when the
input has at least ``dialer.bulk_threshold`` rows (counted for rows in memory, estimated from the
file's size for a file) and the dialer offers one for these options (``bulk_batch_size``); the
operator's ``bulk`` forces it on (True) or off (False). See docs/performance.md.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from airflow_provider_dialers.capabilities import DialerCapabilities, UploadOptions
from airflow_provider_dialers.uploads.sources import Source, as_path, is_file_source, stat_size_mtime

log = logging.getLogger(__name__)

#: Bytes read from the start of a file to estimate its length per row.
SAMPLE_BYTES = 64 * 1024


def resolve_batch_size(requested: int | None, dialer: DialerCapabilities) -> int:
    """Rows per request: the dialer's ``upload_batch_size`` by default, never more (a larger
    request is capped with a warning: the vendor's per-request limit is not negotiable)."""
    vendor_max = dialer.upload_batch_size
    if requested is None:
        return vendor_max
    if int(requested) < 1:
        raise ValueError(f"batch_size must be at least 1, got {requested}")
    if int(requested) > vendor_max:
        log.warning("batch_size %s is above %s's maximum of %d rows per request; using %d",
                    requested, dialer.vendor_name, vendor_max, vendor_max)
        return vendor_max
    return int(requested)


def estimated_rows(source: Source) -> int:
    """How many rows ``source`` holds: counted for rows in memory; for a file, its size over the
    mean length of the lines in its first 64 KB (0 when it cannot be read: the per-row path)."""
    if not is_file_source(source):
        return len(source) if isinstance(source, Sequence) else 0
    try:
        path = as_path(source)
        size = stat_size_mtime(path.stat())[0]
        with path.open("rb") as handle:
            sample = handle.read(SAMPLE_BYTES)
    except (OSError, ValueError, TypeError):
        return 0
    lines = sample.count(b"\n") or 1
    return int(int(size or 0) / (len(sample) / lines)) if sample else 0


def plan_batches(
    dialer: DialerCapabilities, source: Source, *, requested_size: int | None, options: UploadOptions,
    bulk: bool | None, bulk_allowed: bool,
) -> tuple[int, UploadOptions]:
    """Rows per capability call and the options to send them with (``bulk=True`` for file loads).

    :param bulk: True: files whenever the dialer offers them; False: never; None: from
        ``dialer.bulk_threshold`` rows on.
    :param bulk_allowed: whether this kind of upload has a file path at all (contacts do).
    """
    file_rows = dialer.bulk_batch_size(options) if bulk is not False and bulk_allowed else None
    if file_rows is None:
        if bulk:
            log.warning("%s has no file upload for these options (or rows); they are sent per request",
                        dialer.vendor_name)
        return resolve_batch_size(requested_size, dialer), options
    if requested_size is not None:
        if int(requested_size) < 1:
            raise ValueError(f"batch_size must be at least 1, got {requested_size}")
        file_rows = min(file_rows, int(requested_size))
    if bulk is None:
        rows: Any = estimated_rows(source)
        if rows < dialer.bulk_threshold:
            return resolve_batch_size(requested_size, dialer), options
        log.info("About %d rows (at least %d): loading them as files of up to %d rows (bulk=False sends "
                 "them per request)", rows, dialer.bulk_threshold, file_rows)
    return file_rows, replace(options, bulk=True)
