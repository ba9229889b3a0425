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


def default_output_path(source: Source, suffix: str, input_fingerprint: str) -> Any:
    """``<source>.<suffix>`` next to a file source; for rows in memory, a file in the temp dir named
    after the input (so a retry of the same input finds it again)."""
    if is_file_source(source):
        path = as_path(source)
        return path.parent / f"{path.name}.{suffix}"
    return Path(tempfile.gettempdir()) / f"dialer-upload-{input_fingerprint[:16]}.{suffix}"


class LineFileWriter:
    """Appends encoded lines to a file opened on first write; counts the bytes committed.

    :param resume_at: bytes of an earlier attempt's file to keep (None: start a new file).
    """

    def __init__(self, path: Any, *, resume_at: int | None = None) -> None:
        self.path = as_path(path)
        self._resume_at = resume_at
        self._handle: IO[bytes] | None = None
        self.bytes_written = resume_at or 0
        if resume_at:
            # Opened at once: the previous attempt's lines after the checkpoint must go even if
            # this attempt writes nothing.
            self._handle = self._open()

    def _open(self) -> IO[bytes]:
        if isinstance(self.path, Path):
            self.path.parent.mkdir(parents=True, exist_ok=True)  # a rejects_path in a new folder
        if self._resume_at and self._continue_earlier_file(self._resume_at):
            return self.path.open("ab")
        if self._resume_at:
            log.warning(
                "Cannot continue %s from the previous attempt (not a local file): it is rewritten and "
                "holds only the rows settled from now on",
                self.path,
            )
            self.bytes_written = 0
        return self.path.open("wb")

    def _continue_earlier_file(self, size: int) -> bool:
        if not isinstance(self.path, Path) or not self.path.exists() or self.path.stat().st_size < size:
            return False
        with self.path.open("r+b") as handle:
            handle.truncate(size)  # rows after the checkpoint are settled (and written) again
        return True

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
        return self.bytes_written

    def close(self) -> None:
        if self._handle is not None:
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
