"""Write a campaign's contacts and where each stands to a file: ExportContactOutcomesOperator."""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import uuid
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import fields as dataclass_fields
from pathlib import Path
from types import TracebackType
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

from airflow_provider_dialers.capabilities import ContactRecord
from airflow_provider_dialers.operators.base import DialerOperator

#: Every field of a ContactRecord, in its order: the default columns (CSV) or keys (JSON Lines).
CONTACT_FIELDS: tuple[str, ...] = tuple(field.name for field in dataclass_fields(ContactRecord))
EXPORT_FORMATS = ("csv", "jsonl")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
#: A progress line every this many contacts (counts only: the log never shows a phone number).
PROGRESS_EVERY = 10_000

log = logging.getLogger(__name__)


class ExportContactOutcomesOperator(DialerOperator):
    """Write every contact of a campaign, and where it stands, to a CSV or JSON Lines file.

    What the vendors call them: ECM *campaign contacts* (callbacks, ``callback/getList``), Sinch
    *customers* (``GET .../customers``), Ameyo *customer records* (``getContacts``). MaxContact's
    Management API cannot list a campaign's leads: the task fails with ``DialerNotSupportedError``
    (or is skipped with ``on_unsupported="skip"``). One row per contact, streamed page by page from
    the hook's ``iter_contact_states``: memory stays flat whatever the campaign's size.

    The file is written under a temporary name next to the target (``.<name>.<random>.part``) and
    moved into place once complete, so the target is never a half file: a failure (or a retry)
    leaves the previous file, or none, and the temporary file is removed.

    When the file is in place the task emits an Airflow asset event for it: a downstream DAG can be
    scheduled on ``Asset("<uri>")`` (a path known at parse time: an absolute path, a URL or an
    ``ObjectStoragePath``, is declared as an outlet automatically) or on ``AssetAlias(asset_alias)``
    (any path, templated ones included). The event's extra holds the counts, never a number.

    :param dialer_conn_id: an ``expertflow_ecm``, ``sinch_obi`` or ``ameyo`` connection.
    :param campaign_id: the campaign (templated, e.g. an XCom).
    :param path: where the file goes (templated): a local path, ``file://...``, any URL
        ``ObjectStoragePath`` supports (``s3://bucket/outcomes.csv``), or an ``ObjectStoragePath``.
    :param format: ``csv`` (a header row, then one row per contact) or ``jsonl`` (one JSON object
        per line); default: by the file's name (``.jsonl``/``.ndjson``: JSON Lines, else CSV).
    :param states: only the contacts in these states, in the vendor's own words, any case (a list,
        or comma-separated text); default: every contact.
    :param fields: the columns (CSV) or keys (JSON Lines) to write, from ``contact_ref``,
        ``external_id``, ``phone``, ``state``, ``terminal``, ``attempts``, ``last_result``,
        ``last_change``; default: all of them.
    :param asset_alias: the name of an ``AssetAlias`` the written file's asset event is added to.
    :returns: (XCom) ``{"path", "rows", "by_state"}``: the file, its contact count, and the count
        per state.
    """

    template_fields: Sequence[str] = ("dialer_conn_id", "campaign_id", "path", "format", "states")
    ui_color = "#e8eef4"

    def __init__(
        self,
        *,
        dialer_conn_id: str,
        campaign_id: str | int,
        path: Any,
        format: str | None = None,
        states: Collection[str] | str | None = None,
        fields: Sequence[str] | None = None,
        asset_alias: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(dialer_conn_id=dialer_conn_id, **kwargs)
        if format and not _is_template(format):
            check_format(format)
        self.campaign_id = campaign_id
        self.path = path
        self.format = format
        self.states = states
        self.fields = check_fields(fields)
        self.asset_alias = asset_alias
        self._declare_outlets(path, asset_alias)

    def _declare_outlets(self, path: Any, asset_alias: str | None) -> None:
        """The outlets Airflow records events for: the file's asset when the path is known now, and
        the alias (whose asset is added at run time)."""
        from airflow.sdk import Asset, AssetAlias

        declared = list(self.outlets or [])
        uri = static_asset_uri(path)
        if uri is not None and not any(isinstance(o, Asset) and o.uri == uri for o in declared):
            declared.append(Asset(uri=uri))
        if asset_alias and not any(isinstance(o, AssetAlias) and o.name == asset_alias for o in declared):
            declared.append(AssetAlias(name=asset_alias))
        self.outlets = declared

    def run(self, context: Any) -> dict[str, Any]:
        target = ExportTarget(self.path)
        file_format = check_format(self.format) if self.format else target.default_format()
        campaign_id = str(self.campaign_id)
        states = state_words(self.states)
        records = iter(self.hook.iter_contact_states(campaign_id, states))
        # The first page is read before anything is written: a campaign the dialer refuses, or a
        # dialer that cannot list contacts, fails with storage untouched.
        first = next(records, None)
        pending: Iterable[ContactRecord] = () if first is None else _chain_first(first, records)
        by_state: dict[str, int] = {}
        with target.writing() as handle:
            rows = write_records(handle, pending, self.fields, file_format, by_state, self.log)
        self.log.info("Exported %d contacts of %s campaign %s to %s (%s); by state: %s", rows,
                      self.hook.vendor_name, campaign_id, target, file_format, by_state)
        self._announce(context, target.uri, {"dialer_conn_id": self.dialer_conn_id, "campaign_id": campaign_id,
                                             "format": file_format, "rows": rows, "by_state": by_state})
        return {"path": str(target), "rows": rows, "by_state": by_state}

    def _announce(self, context: Any, uri: str, extra: dict[str, Any]) -> None:
        """The written file's asset event: on the declared asset of that URI, and through each alias."""
        outlet_events = context.get("outlet_events") if context else None
        if outlet_events is None:  # run outside a task (no asset events to emit)
            return
        from airflow.sdk import Asset, AssetAlias

        announced = False
        for outlet in self.outlets or []:
            if isinstance(outlet, AssetAlias):
                outlet_events[outlet].add(Asset(uri=uri), extra=extra)
                announced = True
            elif isinstance(outlet, Asset) and outlet.uri == uri:
                outlet_events[outlet].extra.update(extra)
                announced = True
        if not announced:
            self.log.warning("No asset event for %s: its path was not known when the DAG was parsed; give "
                             "asset_alias= to announce it through an AssetAlias", uri)


def check_format(value: Any) -> str:
    """``csv`` or ``jsonl`` (any case); ValueError otherwise."""
    text = str(value).strip().lower()
    if text not in EXPORT_FORMATS:
        raise ValueError(f"format must be one of {EXPORT_FORMATS}, got {value!r}")
    return text


def check_fields(fields: Sequence[str] | str | None) -> tuple[str, ...]:
    """The fields to write (all of them by default); ValueError naming any that is no ContactRecord field."""
    if fields is None:
        return CONTACT_FIELDS
    chosen = tuple(part.strip() for part in fields.split(",")) if isinstance(fields, str) else tuple(fields)
    unknown = [name for name in chosen if name not in CONTACT_FIELDS]
    if unknown or not chosen:
        raise ValueError(f"fields: {unknown or 'none given'} not among the contact fields {CONTACT_FIELDS}")
    if len(set(chosen)) != len(chosen):
        raise ValueError(f"fields: {list(chosen)} names a field twice")
    return chosen


def state_words(states: Collection[str] | str | None) -> list[str] | None:
    """The state filter: a list of words, or comma-separated text; None (every state) when empty."""
    if states is None:
        return None
    words = states.split(",") if isinstance(states, str) else [str(state) for state in states]
    cleaned = [word.strip() for word in words if word and word.strip()]
    return cleaned or None


def _chain_first(first: ContactRecord, rest: Iterator[ContactRecord]) -> Iterator[ContactRecord]:
    yield first
    yield from rest


def write_records(handle: IO[bytes], records: Iterable[ContactRecord], fields: Sequence[str], file_format: str,
                  by_state: dict[str, int], log: Any) -> int:
    """Write ``records`` one line each (CSV with a header, or JSON Lines); count them by state into
    ``by_state``; the number written."""
    text = io.TextIOWrapper(handle, encoding="utf-8", newline="", write_through=True)
    try:
        writer = csv.writer(text, lineterminator="\n") if file_format == "csv" else None
        if writer is not None:
            writer.writerow(fields)
        rows = 0
        for record in records:
            values = record.to_dict()
            if writer is not None:
                writer.writerow([_csv_cell(values[name]) for name in fields])
            else:
                text.write(json.dumps({name: values[name] for name in fields}, ensure_ascii=False) + "\n")
            by_state[record.state] = by_state.get(record.state, 0) + 1
            rows += 1
            if rows % PROGRESS_EVERY == 0:
                log.info("Exported %d contacts so far", rows)
        text.flush()
        return rows
    finally:
        text.detach()  # the handle is closed by its owner


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _is_template(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def static_asset_uri(path: Any) -> str | None:
    """The asset URI of a path known at parse time (absolute, a URL or an ObjectStoragePath); None for
    a template, an XCom or a relative path (whose place is only known on the worker)."""
    if path is None or _is_template(path) or not (isinstance(path, (str, os.PathLike)) or _is_storage_path(path)):
        return None
    if isinstance(path, (str, os.PathLike)) and "://" not in os.fspath(path) and not os.path.isabs(path):
        return None
    return asset_uri(path)


def asset_uri(path: Any) -> str:
    """The URI of the file at ``path`` as an asset names it: ``file:///abs/path`` for a local file,
    the URL without its connection id (``s3://bucket/key``) for object storage."""
    if isinstance(path, Path) or (isinstance(path, str) and "://" not in path):
        return Path(os.path.abspath(path)).as_uri()
    parts = urlsplit(str(path))
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _is_storage_path(value: Any) -> bool:
    # Checked by name so DAG parsing never imports the object-storage machinery.
    return any(cls.__name__ == "ObjectStoragePath" for cls in type(value).__mro__)


class ExportTarget:
    """The file an export writes, written under a temporary name next to it and moved into place.

    A local path (or ``file://``) is renamed into place (``os.replace``: atomic on one file system);
    object storage gets the temporary object, then a move (a server-side copy and delete on S3).

    :param path: a local path, a URL or an ``ObjectStoragePath``.
    """

    def __init__(self, path: Any) -> None:
        if path is None or path == "":
            raise ValueError("path: where the export goes is required (a local path, URL or ObjectStoragePath)")
        self.given = path
        self.local: Path | None = None
        self.remote: Any = None
        if _is_storage_path(path) or (isinstance(path, str) and "://" in path):
            from airflow.sdk import ObjectStoragePath

            remote = path if _is_storage_path(path) else ObjectStoragePath(path)
            if remote.protocol in ("file", "local"):
                self.local = Path(remote.path)
            else:
                self.remote = remote
        else:
            self.local = Path(os.fspath(path))
        self.uri = asset_uri(self.local if self.local is not None else self.remote)

    def __str__(self) -> str:
        return str(self.given)

    def default_format(self) -> str:
        """The format the file's name says: ``jsonl`` for ``.jsonl``/``.ndjson``, else ``csv``."""
        name = (self.local if self.local is not None else self.remote).name.lower()
        return "jsonl" if name.endswith(JSONL_SUFFIXES) else "csv"

    def writing(self) -> _AtomicWrite:
        """A context manager giving a binary handle on the temporary file; moved into place on a clean
        exit, removed on an error."""
        token = uuid.uuid4().hex[:12]
        if self.local is not None:
            return _AtomicWrite(self.local.with_name(f".{self.local.name}.{token}.part"), self.local)
        return _AtomicWrite(self.remote.parent / f".{self.remote.name}.{token}.part", self.remote)


class _AtomicWrite:
    """Write ``temporary``, then put it at ``target``; on an error, remove ``temporary``."""

    def __init__(self, temporary: Any, target: Any) -> None:
        self.temporary = temporary
        self.target = target
        self.handle: IO[bytes] | None = None

    def __enter__(self) -> IO[bytes]:
        if isinstance(self.target, Path):
            self.target.parent.mkdir(parents=True, exist_ok=True)
        self.handle = self.temporary.open("wb")
        return self.handle

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        try:
            if exc_type is None:
                self._commit()
                return
        except BaseException:
            self._remove_temporary()
            raise
        self._close()
        self._remove_temporary()

    def _commit(self) -> None:
        if isinstance(self.target, Path):
            self.handle.flush()
            os.fsync(self.handle.fileno())
            self._close()
            os.replace(self.temporary, self.target)
        else:
            self._close()  # uploads the object
            self.temporary.move(self.target)

    def _close(self) -> None:
        if self.handle is not None:
            handle, self.handle = self.handle, None
            handle.close()

    def _remove_temporary(self) -> None:
        try:
            self._close()
        except Exception as error:  # noqa: BLE001 - the upload of a file being discarded may fail
            log.debug("closing the temporary file %s failed (%s); removing it", self.temporary, error)
        try:
            self.temporary.unlink()
        except FileNotFoundError:
            return
