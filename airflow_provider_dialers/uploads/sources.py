"""Reading an upload's input one row at a time: a list of dicts, or a CSV / JSON Lines file.

Rows are numbered 1..N (data rows: a CSV header is not a row, blank lines are not rows). A row that
cannot be read (bad UTF-8, broken JSON, too many cells) is yielded with its ``error`` instead of
stopping the file, so it lands in the rejects file like any other bad row. Nothing here holds more
than one row: memory stays flat whatever the file size.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import itertools
import json
import logging
import operator
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from airflow_provider_dialers.compat import binary_lines

log = logging.getLogger(__name__)

SourceFormat = Literal["csv", "jsonl"]
#: What a source may be: rows in memory, a local path, or an ObjectStoragePath (or its URL).
Source = Any

#: Model keys every row may carry; ``callback_at`` and ``agent`` only for callbacks.
CONTACT_KEYS = frozenset({"external_id", "phones", "phone", "timezone", "dial_at"})
CALLBACK_KEYS = CONTACT_KEYS | {"callback_at", "agent"}
#: Extra phone columns, appended to ``phones`` in this order.
NUMBERED_PHONE_KEYS = tuple(f"phone{i}" for i in range(1, 6))
ATTRIBUTE_PREFIX = "attributes."

_JSONL_SUFFIXES = (".jsonl", ".ndjson", ".jsonlines")
_SURROGATE = re.compile("[\udc80-\udcff]")  # what surrogateescape leaves for undecodable bytes
#: A column name with a short index (``phone1``, ``Number 2``): a DNC file's header, not a number.
_HEADER_NAME = re.compile(r"[A-Za-z_][A-Za-z_ .\-]*\d{0,2}")
#: One line of a file as text, undecodable bytes kept as surrogates (called in C, once per line).
_DECODE_LINE = operator.methodcaller("decode", "utf-8", "surrogateescape")
#: Where a column's value goes in a record (:meth:`ColumnMapper.to_record`), decided once per column.
_DROP, _RECORD, _ATTRIBUTE, _NUMBERED_PHONE, _MODEL_ATTRIBUTES = range(5)


@dataclass(frozen=True)
class SourceRow:
    """One input row: its number, its original values, and the model record built from them.

    ``error`` is ``(field, reason)`` when the row could not be read at all; ``record`` is then None.
    """

    row: int
    original: Mapping[str, Any]
    record: dict[str, Any] | None = None
    error: tuple[str, str] | None = None


@dataclass(frozen=True)
class ColumnMapper:
    """Turns a row's columns into a contact/callback record (the keys ``contacts.parse_*`` read).

    Columns named like a model key (case-insensitive) map to it; ``phone1``..``phone5`` are
    appended to ``phones``; every other column becomes an attribute named after the column.
    ``field_map`` (column -> model key, ``attributes.<name>``, or None to drop) overrides.
    """

    model_keys: frozenset[str]
    field_map: Mapping[str, str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        allowed = self.model_keys | set(NUMBERED_PHONE_KEYS)
        for column, target in self.field_map.items():
            if target is None or target in allowed:
                continue
            if target.startswith(ATTRIBUTE_PREFIX) and len(target) > len(ATTRIBUTE_PREFIX):
                continue
            raise ValueError(
                f"field_map[{column!r}] = {target!r}: expected one of {sorted(allowed)}, "
                f"'attributes.<name>', or None to drop the column"
            )

    def target_of(self, column: str) -> str | None:
        """Where a column goes: a model key, ``attributes.<name>``, or None (dropped)."""
        # Asked for every cell of every row, answered once per column name.
        targets: dict[str, str | None] = self.__dict__.setdefault("_targets", {})
        if column not in targets:
            targets[column] = self._target_of(column)
        return targets[column]

    def _target_of(self, column: str) -> str | None:
        if column in self.field_map:
            return self.field_map[column]
        key = column.strip().lower()
        if key in self.model_keys or key in NUMBERED_PHONE_KEYS:
            return key
        return ATTRIBUTE_PREFIX + column.strip()

    def _route_of(self, column: str) -> tuple[int, Any]:
        """``(where, name)`` for a column's values (``_RECORD``, ``_ATTRIBUTE`` ...), from its target;
        ``_MODEL_ATTRIBUTES`` (a column ``attributes`` not in ``field_map``) carries the route its
        value takes when it is not a mapping. Asked for every cell, answered once per column name."""
        routes: dict[str, tuple[int, Any]] = self.__dict__.setdefault("_routes", {})
        route = routes.get(column)
        if route is None:
            target = self.target_of(column)
            if target is None:
                route = (_DROP, None)
            elif target.startswith(ATTRIBUTE_PREFIX):
                route = (_ATTRIBUTE, target[len(ATTRIBUTE_PREFIX) :])
            elif target in NUMBERED_PHONE_KEYS:
                route = (_NUMBERED_PHONE, target)
            else:
                route = (_RECORD, target)
            if target is not None and column == "attributes" and column not in self.field_map:
                route = (_MODEL_ATTRIBUTES, route)
            routes[column] = route
        return route

    def to_record(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The record for one row; empty cells are absent."""
        record: dict[str, Any] = {}
        attributes: dict[str, Any] = {}
        numbered_phones: dict[str, Any] = {}
        routes = self.__dict__.get("_routes") or {}
        for column, value in values.items():
            if value is None or (isinstance(value, str) and not value.strip()):  # an empty cell
                continue
            where, name = routes.get(column) or self._route_of(column)
            if where == _MODEL_ATTRIBUTES:
                if isinstance(value, Mapping):
                    attributes.update(value)  # rows given in the model's own shape
                    continue
                where, name = name
            if where == _RECORD:
                record[name] = value
            elif where == _ATTRIBUTE:
                attributes[name] = value
            elif where == _NUMBERED_PHONE:
                numbered_phones[name] = value
        if numbered_phones:
            _append_numbered_phones(
                record, [numbered_phones[k] for k in NUMBERED_PHONE_KEYS if k in numbered_phones]
            )
        if attributes:
            record["attributes"] = attributes
        return record


def _append_numbered_phones(record: dict[str, Any], extra: list[Any]) -> None:
    # phone and phones together stay in the record, so parse_contact reports that conflict itself.
    if "phones" in record or "phone" not in record:
        base = record.get("phones", [])
        record["phones"] = (_split_phones(base) if isinstance(base, str) else list(base)) + extra
    else:
        record["phones"] = [record.pop("phone"), *extra]


def _split_phones(text: str) -> list[str]:
    return [item for item in text.split(";") if item.strip()]


# ---------------------------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------------------------


def is_file_source(source: Source) -> bool:
    """Whether ``source`` names a file (path, URL or ObjectStoragePath) rather than rows in memory."""
    return isinstance(source, (str, os.PathLike)) or _is_object_storage_path(source)


def as_path(source: Source) -> Any:
    """A local ``Path``, or an ``ObjectStoragePath`` for URLs (``s3://...``) and storage paths."""
    if _is_object_storage_path(source):
        return source
    text = os.fspath(source)
    if "://" in text:
        from airflow.sdk import ObjectStoragePath

        return ObjectStoragePath(text)
    return Path(text)


def _is_object_storage_path(value: Any) -> bool:
    # Checked by name so DAG parsing never imports the object-storage machinery.
    return any(cls.__name__ == "ObjectStoragePath" for cls in type(value).__mro__)


def iter_phone_numbers(source: Any) -> Iterator[tuple[int, str]]:
    """``(line number, raw text)`` of each number in a list, a ``;``/newline-separated string, or a
    file (path, URL or ObjectStoragePath) with one number per line: the first CSV column, a first
    line without digits (or a name with a short index, ``phone1``) being a header. Used for DNC lists;
    every other line is yielded, usable or not, so the caller can name a bad one."""
    if isinstance(source, (list, tuple)):
        yield from ((i, str(item)) for i, item in enumerate(source, start=1))
        return
    if isinstance(source, str) and not _names_a_file(source):
        lines = source.replace(";", "\n").splitlines()
        yield from ((i, item) for i, item in enumerate(lines, start=1) if item.strip())
        return
    with as_path(source).open("rb") as handle:
        for number, raw_line in enumerate(binary_lines(handle), start=1):
            first_cell = raw_line.decode("utf-8-sig", errors="replace").strip().split(",", 1)[0].strip().strip('"')
            if not first_cell or (number == 1 and _is_header_cell(first_cell)):
                continue
            yield number, first_cell


def _is_header_cell(cell: str) -> bool:
    return not any(ch.isdigit() for ch in cell) or bool(_HEADER_NAME.fullmatch(cell))


def _names_a_file(text: str) -> bool:
    return "/" in text or "://" in text or text.endswith((".csv", ".txt"))


def detect_format(path: Any, declared: SourceFormat | None) -> SourceFormat:
    """``declared`` if given, else from the file name: ``.jsonl``/``.ndjson`` are JSON Lines, the rest CSV."""
    if declared is not None:
        if declared not in ("csv", "jsonl"):
            raise ValueError(f"source_format must be 'csv' or 'jsonl', got {declared!r}")
        return declared
    return "jsonl" if str(path.name).lower().endswith(_JSONL_SUFFIXES) else "csv"


def iter_rows(
    source: Source,
    mapper: ColumnMapper,
    *,
    source_format: SourceFormat | None = None,
    delimiter: str = ",",
) -> Iterator[SourceRow]:
    """Every data row of ``source``, numbered from 1, mapped to model records."""
    if not is_file_source(source):
        yield from _iter_memory_rows(source, mapper)
        return
    path = as_path(source)
    reader = _iter_jsonl_rows if detect_format(path, source_format) == "jsonl" else _iter_csv_rows
    empty = True
    with path.open("rb") as handle:
        for row in reader(handle, mapper, delimiter):
            empty = False
            yield row
    if empty:
        log.warning("Source %s has no data rows: nothing to upload", path)


def _iter_memory_rows(items: Iterable[Any], mapper: ColumnMapper) -> Iterator[SourceRow]:
    for number, item in enumerate(items, start=1):
        if not isinstance(item, Mapping):
            yield SourceRow(
                number, {"value": item}, error=("row", f"must be an object, got {type(item).__name__}")
            )
        else:
            yield SourceRow(number, item, mapper.to_record(item))


def _decoded_lines(handle: IO[bytes]) -> Iterator[str]:
    """The file's lines as text; undecodable bytes survive as surrogates so the row can be named.
    The first line is read now (to drop a BOM); the others are decoded as they are read, in C."""
    lines = binary_lines(handle)
    first = next(lines, None)
    if first is None:
        return iter(())
    first = first.removeprefix(codecs.BOM_UTF8)
    return itertools.chain((_DECODE_LINE(first),), map(_DECODE_LINE, lines))


def _has_bad_bytes(values: Iterable[str]) -> bool:
    return _joined_has_bad_bytes("".join(values))


def _joined_has_bad_bytes(text: str) -> bool:
    # A surrogate is never ASCII: the regex runs only on text with other characters.
    return not text.isascii() and _SURROGATE.search(text) is not None


def printable(value: Any) -> Any:
    """A value with undecodable bytes shown as U+FFFD (for the rejects file and messages)."""
    return _SURROGATE.sub("\ufffd", value) if isinstance(value, str) else value


def _iter_csv_rows(handle: IO[bytes], mapper: ColumnMapper, delimiter: str) -> Iterator[SourceRow]:
    # strict: malformed quoting is an error, never silently merged. Without it, an unclosed quote
    # makes the rest of the file one cell and every row after it disappears uncounted.
    cells_by_row = csv.reader(_decoded_lines(handle), delimiter=delimiter, strict=True)
    header = _read_header(cells_by_row)
    if header is None:
        return
    header = _checked_header(header, delimiter)
    number = 0
    while True:
        first_line = cells_by_row.line_num + 1
        try:
            cells = next(cells_by_row)
        except StopIteration:
            return
        except csv.Error as exc:
            # e.g. a cell over the csv module's field size limit (128 KiB) or a stray quote: this
            # record cannot be read, but the reader goes on at the next line.
            number += 1
            yield SourceRow(number, {}, error=("row", _unreadable_row(number, first_line, cells_by_row.line_num, exc)))
            continue
        joined = "".join(cells)
        if not joined or joined.isspace():
            continue  # a blank line (or a row of empty cells, as spreadsheets export) is not a row
        number += 1
        yield _csv_row(number, header, cells, mapper, joined)


def _unreadable_row(number: int, first_line: int, last_line: int, exc: csv.Error) -> str:
    if "unexpected end of data" in str(exc) and last_line > first_line:
        # An unclosed quote swallowed everything to the end of the file: say which lines were lost.
        return (f"row {number} has an unclosed quote: lines {first_line}-{last_line} of the file were read "
                f"as this one row, so the rows on lines {first_line + 1}-{last_line} were not uploaded; "
                "close the quote and upload those lines again")
    return f"row {number} cannot be read as CSV ({exc})"


def _read_header(cells_by_row: Iterator[list[str]]) -> list[str] | None:
    try:
        return next(cells_by_row, None)
    except csv.Error as exc:
        raise ValueError(f"the CSV header cannot be read ({exc})") from None


#: Delimiters a CSV file is commonly written with, to recognise a file read with the wrong one.
_COMMON_DELIMITERS = (",", ";", "\t", "|")


def _checked_header(header: list[str], delimiter: str = ",") -> list[str]:
    if _has_bad_bytes(header):
        raise ValueError("the CSV header is not valid UTF-8: save the file as UTF-8")
    names = [name.strip() for name in header]
    repeated = sorted({name for name in names if names.count(name) > 1 and name})
    if repeated:
        raise ValueError(f"the CSV header repeats column(s) {repeated}: each column needs its own name")
    if len(names) == 1:
        # One column whose name holds another common delimiter: every row would be refused for a
        # missing phone, which hides the real cause. Refuse the file before anything is sent.
        found = next((d for d in _COMMON_DELIMITERS if d != delimiter and d in names[0]), None)
        if found is not None:
            raise ValueError(
                f"the CSV header is one column {names[0][:80]!r} holding {found!r}: the file looks "
                f"{found!r}-delimited, not {delimiter!r}-delimited; set delimiter={found!r}"
            )
    return names


def _csv_row(number: int, header: list[str], cells: list[str], mapper: ColumnMapper, joined: str) -> SourceRow:
    """One data row; ``joined`` is its cells as one text (checked for undecodable bytes at once)."""
    original = dict(zip(header, cells))
    if len(cells) > len(header):
        return SourceRow(
            number, original, error=("row", f"row has {len(cells)} cells, header has {len(header)}")
        )
    if _joined_has_bad_bytes(joined):
        return SourceRow(number, original, error=("row", f"row {number} is not valid UTF-8"))
    return SourceRow(number, original, mapper.to_record(original))


def _iter_jsonl_rows(handle: IO[bytes], mapper: ColumnMapper, delimiter: str) -> Iterator[SourceRow]:
    number = 0
    for line in _decoded_lines(handle):
        if not line.strip():
            continue
        number += 1
        yield _jsonl_row(number, line, mapper)


def _jsonl_row(number: int, line: str, mapper: ColumnMapper) -> SourceRow:
    text = line.strip()
    if _has_bad_bytes([text]):
        return SourceRow(number, {"line": text}, error=("row", f"row {number} is not valid UTF-8"))
    try:
        value = json.loads(text)
    except ValueError as exc:
        return SourceRow(
            number, {"line": text}, error=("row", f"not valid JSON ({exc.msg} at column {exc.colno})")
        )
    if not isinstance(value, dict):
        return SourceRow(
            number, {"line": text}, error=("row", f"must be a JSON object, got {type(value).__name__}")
        )
    return SourceRow(number, value, mapper.to_record(value))


def csv_columns(
    source: Source, *, source_format: SourceFormat | None = None, delimiter: str = ",", checked: bool = False
) -> list[str] | None:
    """The header of a CSV source (for the rejects file's columns); None for other sources.
    ``checked``: a header that makes the whole file unreadable raises ``ValueError`` saying why."""
    if not is_file_source(source):
        return None
    path = as_path(source)
    if detect_format(path, source_format) != "csv":
        return None
    with path.open("rb") as handle:
        header = _read_header(csv.reader(_decoded_lines(handle), delimiter=delimiter))
    if header and checked:
        _checked_header(header, delimiter)
    return [printable(name.strip()) for name in header] if header else None


def attribute_names(
    source: Source, mapper: ColumnMapper, *, source_format: SourceFormat | None = None, delimiter: str = ","
) -> set[str]:
    """Every attribute name the rows of ``source`` carry, known before anything is sent: from a CSV's
    header; for JSON Lines and rows in memory, from one read of every row."""
    # Checked: a file refused as a whole says why (delimiter, encoding), not what a dialer makes of it.
    columns = csv_columns(source, source_format=source_format, delimiter=delimiter, checked=True)
    if columns is not None:
        return set(mapper.to_record({column: "x" for column in columns}).get("attributes", {}))
    names: set[str] = set()
    for row in iter_rows(source, mapper, source_format=source_format, delimiter=delimiter):
        names.update((row.record or {}).get("attributes", {}))
    return names


def fingerprint(source: Source) -> str:
    """Identifies the input, so a checkpoint taken on another input is ignored.

    Files: path, size, modification time and a hash of the first KB. Rows in memory: a hash of
    all of them (they are in memory already).
    """
    digest = hashlib.sha256()
    if is_file_source(source):
        path = as_path(source)
        stat = path.stat()
        size, mtime = stat_size_mtime(stat)
        digest.update(f"{path}|{size}|{mtime}|".encode())
        with path.open("rb") as handle:
            digest.update(handle.read(1024))
    else:
        for item in source:
            digest.update(json.dumps(item, sort_keys=True, default=str).encode())
            digest.update(b"\n")
    return digest.hexdigest()[:32]


def stat_size_mtime(stat: Any) -> tuple[Any, Any]:
    """(size, modification time) from a local ``stat()`` or an ObjectStoragePath's info mapping."""
    if isinstance(stat, Mapping):  # ObjectStoragePath.stat() is a dict-like of the store's info
        return stat.get("size"), stat.get("mtime") or stat.get("LastModified") or stat.get("ETag")
    return stat.st_size, stat.st_mtime
