"""The files an upload writes: the rejects file (CSV) and the dry-run payload file (JSON Lines).

Both are written line by line as rows are settled, and both can be continued after a crash: the
checkpoint records how many bytes were committed, and a resumed upload cuts the file back to that
size and appends.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from airflow_provider_dialers.capabilities import RowOutcome
from airflow_provider_dialers.errors import redact
from airflow_provider_dialers.uploads.sources import Source, as_path, is_file_source, printable

log = logging.getLogger(__name__)

REJECT_COLUMNS = ("row", "field", "reason", "vendor_code")
#: Cells starting like a formula are prefixed with ' so a spreadsheet shows them as text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: 5+ digits, possibly split by phone punctuation: a phone number, masked in XCom summaries...
_NUMBER_LIKE = re.compile(r"\+?\d(?:[\d \-().]*\d){4,}")
#: ...unless it is a date or a time (2026-12-01T10:00:00).
_DATE_LIKE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: Fields holding phone numbers: whatever their reasons quote is masked too ('555-ABC').
_PHONE_FIELD = re.compile(r"(?i)(phone|number|mobile|msisdn)")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def default_output_path(source: Source, suffix: str, input_fingerprint: str, stem: str | None = None) -> Any:
    """Where an upload's rejects (or dry-run) file goes when the task names none.

    ``stem`` names the task instance (dag, run, task, map index): tasks uploading the same rows to
    several dialers, and later runs, never share a file, while every try of one task instance finds
    its own again. Next to a file source (so an object-storage source keeps them in shared storage);
    for rows in memory, in the temp dir. Without a stem (outside a task), named after the input.
    """
    name = f"{stem}.{suffix}" if stem else None
    if is_file_source(source):
        path = as_path(source)
        return path.parent / (f"{path.name}.{name}" if name else f"{path.name}.{suffix}")
    return Path(tempfile.gettempdir()) / f"dialer-upload-{stem or input_fingerprint[:16]}.{suffix}"


def output_path(given: Any, default: Any) -> Any:
    """The file the task asked for: a path, URL or ObjectStoragePath; one ending in ``/`` is a folder,
    holding the default file's name."""
    if given is None or given == "":
        return default
    if isinstance(given, str) and given.endswith("/"):
        return as_path(given.rstrip("/") or "/") / as_path(default).name
    return given


class LineFileWriter:
    """Appends encoded lines to a file opened on first write; counts the bytes committed.

    A local file is appended to directly. A file in object storage (``s3://...``, an
    ``ObjectStoragePath``) cannot be appended to, so lines go to a local spool and every
    :meth:`flush` (each checkpoint) uploads the whole file: what the checkpoint records is in shared
    storage, and a retry on another worker continues that file.

    :param resume_at: bytes of an earlier attempt's file to keep (None: start a new file).
    """

    def __init__(self, path: Any, *, resume_at: int | None = None) -> None:
        self.path = as_path(path)
        self._local = isinstance(self.path, Path)
        self._resume_at = resume_at
        self._handle: IO[bytes] | None = None
        self._uploaded = 0
        self.bytes_written = resume_at or 0
        if resume_at:
            # Opened at once: the previous attempt's lines after the checkpoint must go even if
            # this attempt writes nothing.
            self._handle = self._open()

    def _open(self) -> IO[bytes]:
        if self._local:
            self.path.parent.mkdir(parents=True, exist_ok=True)  # a rejects_path in a new folder
            handle = self.path.open("r+b" if self._earlier_file_fits() else "wb")
        else:
            handle = tempfile.TemporaryFile()  # the spool; flush() uploads it
        kept = self._keep_earlier_lines(handle) if self._resume_at else 0
        if self._resume_at and kept < self._resume_at:
            log.warning(
                "%s holds less than the previous attempt recorded (%d of %d bytes; deleted or written "
                "on another worker's disk?): it is rewritten and holds only the rows settled from now on. "
                "Give rejects_path a shared location (an s3://... URL or ObjectStoragePath) when tries "
                "may run on different workers.",
                self.path, kept, self._resume_at,
            )
            self.bytes_written = 0
        return handle

    def _earlier_file_fits(self) -> bool:
        return bool(self._resume_at) and self.path.exists() and self.path.stat().st_size >= self._resume_at

    def _keep_earlier_lines(self, handle: IO[bytes]) -> int:
        """Keep the first ``resume_at`` bytes of the earlier attempt's file (rows after the checkpoint
        are settled, and written, again); how many were kept."""
        size = int(self._resume_at or 0)
        if self._local:
            if not self._earlier_file_fits():
                return 0
            handle.truncate(size)
            handle.seek(size)
            return size
        try:
            with self.path.open("rb") as earlier:
                data = earlier.read(size)
        except (FileNotFoundError, OSError):
            return 0
        if len(data) < size:
            return 0
        handle.write(data)
        return size

    def write_line(self, data: bytes) -> None:
        if self._handle is None:
            self._handle = self._open()
        if self.bytes_written == 0:
            self.bytes_written += self._write_preamble()
        self._handle.write(data)
        self.bytes_written += len(data)

    def _write_preamble(self) -> int:
        return 0

    def flush(self) -> int:
        """Make what was written durable enough for a checkpoint; the committed byte count."""
        if self._handle is not None:
            self._handle.flush()
            if not self._local and self._uploaded != self.bytes_written:
                self._handle.seek(0)
                if getattr(self.path, "protocol", None) in ("file", "local"):
                    self.path.parent.mkdir(parents=True, exist_ok=True)  # a file:// URL in a new folder
                with self.path.open("wb") as remote:
                    shutil.copyfileobj(self._handle, remote)  # the handle ends at the end again
                self._uploaded = self.bytes_written
        return self.bytes_written

    def close(self) -> None:
        if self._handle is not None:
            self.flush()
            self._handle.close()
            self._handle = None


class RejectsWriter(LineFileWriter):
    """The rejects file: ``row, field, reason, vendor_code``, then the row's original values.

    For a CSV source the original values keep the source's columns (fix the rows and upload the
    file again, after dropping the four first columns); other sources get one ``values`` column
    holding the row as JSON. Values are written as given (only credentials are ever redacted);
    a cell that a spreadsheet would run as a formula is prefixed with ``'``.
    """

    def __init__(
        self, path: Any, source_columns: Sequence[str] | None, *, resume_at: int | None = None
    ) -> None:
        super().__init__(path, resume_at=resume_at)
        self.source_columns = list(source_columns) if source_columns else None

    def _write_preamble(self) -> int:
        header = self._csv_line([*REJECT_COLUMNS, *(self.source_columns or ["values"])])
        self._handle.write(header)  # type: ignore[union-attr]
        return len(header)

    def write(self, outcome: RowOutcome, original: Mapping[str, Any]) -> None:
        reason_cells = [
            outcome.row,
            outcome.field or "",
            redact(outcome.reason or ""),
            outcome.vendor_code or "",
        ]
        if self.source_columns is not None:
            values = [printable(original.get(column, "")) for column in self.source_columns]
        else:
            values = [
                json.dumps({k: printable(v) for k, v in original.items()}, default=str, ensure_ascii=False)
            ]
        self.write_line(self._csv_line([*reason_cells, *values]))

    @staticmethod
    def _csv_line(cells: Sequence[Any]) -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow([_spreadsheet_safe(cell) for cell in cells])
        return buffer.getvalue().encode("utf-8")


def _spreadsheet_safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


class DryRunWriter(LineFileWriter):
    """The dry-run file: one JSON object per line, ``{"row": n, "payload": {...}}``."""

    def write(self, outcome: RowOutcome) -> None:
        line = json.dumps({"row": outcome.row, "payload": outcome.payload}, default=str, ensure_ascii=False)
        self.write_line(redact(line).encode("utf-8") + b"\n")


def reject_summary(outcome: RowOutcome) -> dict[str, Any]:
    """A rejected row for the XCom: where and why, with phone-number-like text masked."""
    reason = redact(outcome.reason or "")
    if outcome.field and _PHONE_FIELD.search(outcome.field):
        reason = _QUOTED.sub("<number>", reason)
    return {
        "row": outcome.row,
        "field": outcome.field,
        "reason": mask_numbers(reason),
        "vendor_code": outcome.vendor_code,
    }


def mask_numbers(text: str) -> str:
    """``text`` with every phone-number-like run replaced by ``<number>`` (dates are kept)."""
    return _NUMBER_LIKE.sub(lambda m: m.group() if _DATE_LIKE.search(m.group()) else "<number>", text)
