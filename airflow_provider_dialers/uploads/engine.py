"""The vendor-neutral upload engine: rows in, one outcome per row out, whatever the dialer.

Each input row is read, validated (``contacts.parse_contact`` / ``parse_callback``), checked
against earlier rows of the same input (duplicates), against the dialing guards (DNC list, calling
window), and the rows left are sent in batches of at most ``dialer.upload_batch_size`` through the
dialer's capability (``upload_contacts`` / ``add_callbacks``), a bounded number of batches at a
time. Every row ends in exactly one bucket; the buckets add up to the number of rows.

Rows are grouped in *segments*: the rows read up to and including one batch. Segments settle in
input order, so the rejects file is written in row order and the checkpoint can say "every row
before N is done" even though batches are sent concurrently.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import pendulum

from airflow_provider_dialers.capabilities import (
    CallbackRow,
    ContactRow,
    DialerCapabilities,
    RowOutcome,
    RowStatus,
    UploadOptions,
)
from airflow_provider_dialers.contacts import (
    Contact,
    ContactError,
    PhoneOptions,
    dedupe_key,
    parse_callback,
    parse_contact,
)
from airflow_provider_dialers.errors import DialerError
from airflow_provider_dialers.uploads.accounting import UploadCounters
from airflow_provider_dialers.uploads.batching import plan_batches
from airflow_provider_dialers.uploads.checkpoint import (
    Checkpoint,
    CheckpointKeeper,
    InFlight,
    RowRange,
    TaskStateStore,
)
from airflow_provider_dialers.uploads.digests import DigestSet
from airflow_provider_dialers.uploads.guards import CallingWindow, DncList, load_dnc_list
from airflow_provider_dialers.uploads.heap import long_lived_objects_frozen
from airflow_provider_dialers.uploads.held import HeldContacts, load_held_contacts
from airflow_provider_dialers.uploads.pacing import ConcurrencyLimiter
from airflow_provider_dialers.uploads.rejects import (
    DryRunWriter,
    RejectsWriter,
    default_output_path,
    output_path,
    reject_summary,
)
from airflow_provider_dialers.uploads.sources import (
    CALLBACK_KEYS,
    CONTACT_KEYS,
    ColumnMapper,
    Source,
    SourceFormat,
    SourceRow,
    attribute_names,
    csv_columns,
    fingerprint,
    is_file_source,
    iter_rows,
)

log = logging.getLogger(__name__)

#: Reasons of rows settled by the campaign lookup (compared by identity).
HELD = "the campaign already holds this contact (pending or dialled)"
LANDED_EARLIER = "sent by an earlier attempt that died before the answer; the campaign holds it"

DEFAULT_MAX_CONCURRENCY = 4
#: Rejects listed in the result (the rejects file has all of them).
FIRST_REJECTS = 10
#: Dry-run payloads shown in the result (the dry-run file has all of them).
SAMPLE_PAYLOADS = 3
#: A segment also closes after this many rows, so a stretch of rows that are all rejected or
#: skipped locally is settled (and its rejects written) without waiting for a full batch.
MAX_SEGMENT_ROWS = 1000
#: Most seconds between checkpoint writes while rows settle without any batch being sent.
CHECKPOINT_INTERVAL_SECONDS = 1.0

SendableRow = ContactRow | CallbackRow


class UploadRejectedError(DialerError):
    """More rows were rejected than ``max_rejected_ratio`` allows (raised after the whole input)."""


class CapabilityContractError(DialerError):
    """A capability did not return exactly one outcome per row it was given: a bug in that hook."""


# ---------------------------------------------------------------------------------------------
# What is uploaded: contacts or callbacks
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadKind:
    """Contacts or callbacks: how a record is parsed, identified, timed, and which capability sends it."""

    name: str
    model_keys: frozenset[str]
    capability: str
    parse: Callable[[Mapping[str, Any], PhoneOptions], Any]
    contact_of: Callable[[Any], Contact]
    dial_moment: Callable[[Any], pendulum.DateTime | None]
    identity: Callable[[Any], str]
    row_type: Callable[[int, Any], SendableRow]
    #: The field of the time the window judges (a time it cannot compute with rejects the row there).
    time_field: str = "dial_at"
    #: Which held contacts make a row a duplicate: any (a contact is loaded once), or only those still
    #: waiting to be dialled (a callback re-contacts someone on purpose; one already queued would be
    #: called twice).
    held_pending_only: bool = False
    #: Whether the dialer may load these rows as files (DialerCapabilities.bulk_batch_size).
    bulk_allowed: bool = False

    def send(
        self,
        dialer: DialerCapabilities,
        campaign_id: str,
        rows: Sequence[SendableRow],
        options: UploadOptions,
    ) -> list[RowOutcome]:
        return getattr(dialer, self.capability)(campaign_id, rows, options=options)

    def ensure_supported(self, dialer: DialerCapabilities, campaign_id: str, options: UploadOptions) -> None:
        """Fail before reading any row when the dialer cannot do this at all."""
        if getattr(type(dialer), self.capability) is getattr(DialerCapabilities, self.capability):
            # The interface's default raises DialerNotSupportedError naming the vendor; nothing is sent.
            self.send(dialer, campaign_id, [], options)


CONTACTS = UploadKind(
    name="contacts",
    model_keys=CONTACT_KEYS,
    capability="upload_contacts",
    parse=lambda record, phones: parse_contact(record, phones=phones),
    contact_of=lambda contact: contact,
    dial_moment=lambda contact: contact.dial_at,
    identity=dedupe_key,
    row_type=ContactRow,
    bulk_allowed=True,
)

CALLBACKS = UploadKind(
    name="callbacks",
    model_keys=CALLBACK_KEYS,
    capability="add_callbacks",
    parse=lambda record, phones: parse_callback(record, phones=phones),
    contact_of=lambda callback: callback.contact,
    dial_moment=lambda callback: callback.callback_at,
    # The same person called back at two different times is two callbacks, not a duplicate.
    identity=lambda callback: (
        f"{dedupe_key(callback.contact)}@{callback.callback_at.in_timezone('UTC').isoformat()}"
    ),
    row_type=CallbackRow,
    time_field="callback_at",
    held_pending_only=True,
)


@dataclass(frozen=True)
class UploadSettings:
    """How one upload runs (the operators' parameters, resolved)."""

    campaign_id: str
    options: UploadOptions = field(default_factory=UploadOptions)
    phone_options: PhoneOptions = field(default_factory=PhoneOptions)
    field_map: Mapping[str, str | None] | None = None
    source_format: SourceFormat | None = None
    delimiter: str = ","
    batch_size: int | None = None
    bulk: bool | None = None  # files where the dialer loads them: from its bulk_threshold rows (None)
    max_concurrency: int | None = None
    adaptive_concurrency: bool = True  # fewer batches in flight after 429/503 answers (uploads.pacing)
    calling_window: CallingWindow | None = None
    scrub_dnc: bool = False
    dnc_source: Any = None
    rejects_path: Any = None
    dry_run_path: Any = None
    #: Names this task instance in the default rejects and dry-run file names (dag, run, task, map).
    output_stem: str | None = None
    #: A contact the campaign holds (pending or dialled) is not loaded again, unless the dialer is done
    #: with it and its last change is older than this (None: never again).
    recontact_after: timedelta | None = None
    max_rejected_ratio: float = 0.0
    #: Seconds between progress lines in the task log (and one at the end).
    progress_interval_seconds: float = 10.0


# ---------------------------------------------------------------------------------------------
# Segments
# ---------------------------------------------------------------------------------------------


@dataclass
class Segment:
    """Consecutive input rows ending with (at most) one batch; settled as a unit, in input order."""

    first_row: int
    last_row: int = 0
    counters: UploadCounters = field(default_factory=UploadCounters)
    settled: list[RowOutcome] = field(default_factory=list)
    batch: list[SendableRow] = field(default_factory=list)
    #: Rows not sent because the campaign already held them (written ahead with the batch).
    held: list[int] = field(default_factory=list)
    originals: dict[int, Mapping[str, Any]] = field(default_factory=dict)
    future: Future[list[RowOutcome]] | None = None

    @property
    def rows(self) -> int:
        return self.last_row - self.first_row + 1 if self.last_row else 0

    @property
    def range(self) -> RowRange:
        return self.first_row, self.last_row

    @property
    def in_flight(self) -> InFlight:
        return self.first_row, self.last_row, tuple(self.held)

    @property
    def done(self) -> bool:
        return self.future is None or self.future.done()


class UploadRun:
    """One execution of an upload: read, guard, batch, send, account, checkpoint, report."""

    def __init__(self, dialer: DialerCapabilities, kind: UploadKind, source: Source, settings: UploadSettings,
                 task_state_store: TaskStateStore | None) -> None:
        self.dialer = dialer
        self.kind = kind
        # Rows in memory are read twice (fingerprint, then upload): a one-shot iterator becomes a list.
        self.source = source if is_file_source(source) or isinstance(source, Sequence) else list(source)
        self.batch_size, options = plan_batches(dialer, self.source, requested_size=settings.batch_size,
                                                options=settings.options, bulk=settings.bulk,
                                                bulk_allowed=kind.bulk_allowed)
        self.settings = settings = replace(settings, options=options)
        self.dry_run = settings.options.dry_run
        self.max_concurrency = max(1, int(settings.max_concurrency or DEFAULT_MAX_CONCURRENCY))
        self.limiter = ConcurrencyLimiter(self.max_concurrency, adaptive=settings.adaptive_concurrency)
        self.input_fingerprint = fingerprint(self.source)
        # A dry run sends nothing, so there is nothing to resume.
        store = None if self.dry_run else task_state_store
        self.keeper = CheckpointKeeper(store, f"{self.input_fingerprint}:{kind.name}:{settings.campaign_id}")
        self.checkpoint: Checkpoint = self.keeper.load()
        self.resumed_from = self.checkpoint.next_row if self.checkpoint.next_row > 1 else None
        self.rows_settled_before = self.checkpoint.counters.total
        # 8-byte digests of the contacts seen: the one structure that grows with the input.
        self.seen = DigestSet()
        self.dnc: DncList | None = None
        self.held: HeldContacts | None = None
        self._held_loaded = False
        self.pending: deque[Segment] = deque()
        self.rows_sent = 0  # rows whose record went into a request (their outcome carries its payload)
        self.batches_sent = 0  # capability calls that sent at least one row
        # The HTTP requests the dialer's hook counts (its access log's view); batches where it cannot.
        self.requests_before = getattr(dialer, "requests_made", None)
        self.batches_settled = 0
        self.sample_payloads: list[Mapping[str, Any]] = []
        self.started_at = self.last_progress_at = self.last_saved_at = time.monotonic()
        self.rejects = RejectsWriter(
            self._output_path(settings.rejects_path, "rejects.csv"),
            csv_columns(self.source, source_format=settings.source_format, delimiter=settings.delimiter),
            resume_at=self.checkpoint.rejects_bytes or None,
        )
        self.dry_run_file = (
            DryRunWriter(self._output_path(settings.dry_run_path, "dryrun.jsonl")) if self.dry_run else None
        )

    def _output_path(self, given: Any, suffix: str) -> Any:
        default = default_output_path(self.source, suffix, self.input_fingerprint, self.settings.output_stem)
        return output_path(given, default)

    # -- the run -----------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        """Upload every row; the result (counts, rejects, paths). Raises UploadRejectedError when
        the rejected share exceeds ``max_rejected_ratio`` (after the whole input is settled)."""
        settings = self.settings
        self.kind.ensure_supported(self.dialer, settings.campaign_id, settings.options)
        # A problem of configuration (an attribute the dialer has no field for) fails here, once,
        # before the first request: never as one rejected row after another.
        self.dialer.check_upload(settings.campaign_id, settings.options, attribute_names(
            self.source, ColumnMapper(self.kind.model_keys, settings.field_map or {}),
            source_format=settings.source_format, delimiter=settings.delimiter))
        self.dnc = load_dnc_list(
            self.dialer,
            scrub_dnc=settings.scrub_dnc,
            dnc_source=settings.dnc_source,
            phone_options=settings.phone_options,
        )
        try:
            with long_lived_objects_frozen(), self.limiter.listening(self.dialer), ThreadPoolExecutor(
                    self.max_concurrency, thread_name_prefix="dialer-upload") as executor:
                self._read_and_send(executor)
        finally:
            self.rejects.close()
            if self.dry_run_file is not None:
                self.dry_run_file.close()
        return self._finish()

    def _read_and_send(self, executor: ThreadPoolExecutor) -> None:
        mapper = ColumnMapper(self.kind.model_keys, self.settings.field_map or {})
        segment = Segment(first_row=self.checkpoint.next_row)
        batch_size, segment_rows = self.batch_size, max(MAX_SEGMENT_ROWS, self.batch_size)
        for source_row in iter_rows(
            self.source, mapper, source_format=self.settings.source_format, delimiter=self.settings.delimiter
        ):
            if source_row.row < self.checkpoint.next_row:
                self._remember(source_row)  # settled by an earlier attempt: not sent again
                continue
            self._classify(source_row, segment)
            if len(segment.batch) >= batch_size or segment.rows >= segment_rows:
                self._dispatch(segment, executor)
                segment = Segment(first_row=segment.last_row + 1)
        if segment.rows:
            self._dispatch(segment, executor)
        while self.pending:
            self._settle_oldest()

    # -- one row -----------------------------------------------------------------------------
    def _classify(self, source_row: SourceRow, segment: Segment) -> None:
        """Settle the row at once (rejected, duplicate, skipped) or add it to the segment's batch."""
        segment.last_row = source_row.row
        outcome_or_row = self._check(source_row, segment.counters)
        if isinstance(outcome_or_row, RowOutcome):
            if outcome_or_row.reason is HELD:
                segment.held.append(source_row.row)
            self._record(segment, outcome_or_row, source_row.original)
        else:
            segment.batch.append(outcome_or_row)
            segment.originals[source_row.row] = source_row.original

    def _check(self, source_row: SourceRow, counters: UploadCounters) -> RowOutcome | SendableRow:
        row = source_row.row
        if source_row.error is not None:
            return RowOutcome.rejected(row, *source_row.error)
        try:
            item = self.kind.parse(source_row.record or {}, self.settings.phone_options)
            first = self._first_sighting(item)
        except ContactError as exc:
            return RowOutcome.rejected(row, exc.field, exc.reason)
        except (ArithmeticError, ValueError) as exc:  # time arithmetic out of range: this row's problem
            return RowOutcome.rejected(row, self.kind.time_field, f"cannot be used as a time ({exc})")
        if not first:
            return RowOutcome(row, RowStatus.DUPLICATE, reason=f"same {self.kind.name[:-1]} as an earlier row")
        contact = self.kind.contact_of(item)
        if self.dnc is not None and (reason := self.dnc.skip_reason(contact)):
            return RowOutcome(row, RowStatus.SKIPPED_DNC, reason=reason)
        window = self.settings.calling_window
        if window is not None:
            try:
                verdict = window.judge(contact, self.kind.dial_moment(item), pendulum.now("UTC"),
                                       default_region=self.settings.phone_options.default_region)
            except (ArithmeticError, ValueError) as exc:  # out of the calendar's range in the contact's zone
                reason = f"cannot be judged in the calling window ({exc})"
                return RowOutcome.rejected(row, self.kind.time_field, reason)
            counters.timezone_inferred += verdict.zone_inferred
            if verdict.reason:
                return RowOutcome(row, RowStatus.SKIPPED_WINDOW, reason=verdict.reason)
        if self._held_contacts() is not None and self.held.holds(contact):
            if self.checkpoint.maybe_sent_before(row):
                # An earlier attempt sent it and died before the answer; the campaign holds it now
                # (whatever the dialer did with it since): it landed then, and is not sent again.
                return RowOutcome(row, RowStatus.ACCEPTED, reason=LANDED_EARLIER)
            return RowOutcome(row, RowStatus.DUPLICATE, reason=HELD)
        return self.kind.row_type(row, item)

    def _held_contacts(self) -> HeldContacts | None:
        """What the campaign holds, read when the first row is about to be sent (so an input refused
        as a whole, or without a valid row, costs the dialer nothing); None where it cannot be read,
        or with ``on_duplicate="update"``, which sends held contacts on purpose."""
        if not self._held_loaded:
            self._held_loaded = True
            if self.settings.options.on_duplicate != "update":
                self.held = load_held_contacts(self.dialer, self.settings.campaign_id,
                                               recontact_after=self.settings.recontact_after,
                                               default_region=self.settings.phone_options.default_region,
                                               pending_only=self.kind.held_pending_only)
        return self.held

    def _first_sighting(self, item: Any) -> bool:
        digest = int.from_bytes(
            hashlib.blake2b(self.kind.identity(item).encode(), digest_size=8).digest(), "big"
        )
        return self.seen.add(digest)

    def _remember(self, source_row: SourceRow) -> None:
        """Rebuild the duplicate check from a row an earlier attempt settled."""
        if source_row.error is None:
            try:
                self._first_sighting(self.kind.parse(source_row.record or {}, self.settings.phone_options))
            except ContactError:
                pass  # it was rejected then, and is counted in the restored counters

    def _record(self, segment: Segment, outcome: RowOutcome, original: Mapping[str, Any]) -> None:
        segment.counters.count(outcome.status)
        # Kept for _write_outputs: rejects, and the payloads of accepted rows in a dry run.
        if outcome.status is RowStatus.REJECTED:
            segment.settled.append(outcome)
            segment.originals[outcome.row] = original
        elif (self.dry_run_file is not None and outcome.status is RowStatus.ACCEPTED
              and outcome.payload is not None):
            segment.settled.append(outcome)

    # -- batches -----------------------------------------------------------------------------
    def _dispatch(self, segment: Segment, executor: ThreadPoolExecutor) -> None:
        """Send the segment's batch (if any) once its rows are written ahead as in flight."""
        # Settle what is done (and wait for a free slot) first, so that one checkpoint write
        # records both the settled rows and the new batch's write-ahead.
        while self.pending and (self.pending[0].done or len(self.pending) >= self.limiter.limit):
            self._settle_oldest(save=False)
        self.pending.append(segment)
        if segment.batch:
            self._save_checkpoint()  # write-ahead: a crash from here on leaves the range "maybe sent"
            segment.future = executor.submit(
                self.kind.send, self.dialer, self.settings.campaign_id, segment.batch, self.settings.options
            )
        elif time.monotonic() - self.last_saved_at >= CHECKPOINT_INTERVAL_SECONDS:
            self._save_checkpoint()  # a long stretch of rows settled locally (rejected, skipped)

    def _settle_oldest(self, *, save: bool = True) -> None:
        """Wait for the oldest segment, count its rows, write its rejects, move the checkpoint on
        (saved now, or by the caller's next write: a checkpoint that lags only re-checks rows)."""
        segment = self.pending[0]
        if segment.future is not None:
            wait_for([segment.future])
            try:
                self._apply_outcomes(segment, segment.future.result())  # a failed batch raises here
            except BaseException:
                self._save_checkpoint()  # what settled before it is kept: the retry resumes after it
                raise
        self.pending.popleft()
        self._write_outputs(segment)
        self.checkpoint.next_row = segment.last_row + 1
        self.checkpoint.counters.add(segment.counters)
        self.checkpoint.rejects_bytes = self.rejects.flush()
        if save:
            self._save_checkpoint()
        if segment.future is not None:
            self.batches_settled += 1
            if time.monotonic() - self.last_progress_at >= self.settings.progress_interval_seconds:
                self._log_progress()

    def _apply_outcomes(self, segment: Segment, outcomes: Sequence[RowOutcome]) -> None:
        self._check_one_outcome_per_row(segment, outcomes)
        sent = 0 if self.dry_run else sum(1 for outcome in outcomes if outcome.payload is not None)
        self.rows_sent += sent
        self.batches_sent += bool(sent)
        for outcome in outcomes:
            if (self.held is None and outcome.status is RowStatus.DUPLICATE
                    and self.checkpoint.maybe_sent_before(outcome.row)):
                # Without a lookup of what the campaign holds, the best reading: an earlier attempt sent
                # this row and died before hearing the answer, so it landed then. With the lookup, a row
                # that landed was found before sending; a duplicate now was held by someone else.
                outcome = replace(outcome, status=RowStatus.ACCEPTED)
            self._record(segment, outcome, segment.originals.get(outcome.row, {}))

    def _check_one_outcome_per_row(self, segment: Segment, outcomes: Sequence[RowOutcome]) -> None:
        sent = sorted(item.row for item in segment.batch)
        answered = sorted(outcome.row for outcome in outcomes)
        if sent != answered:
            missing = sorted(set(sent) - set(answered))[:5]
            unexpected = sorted(set(answered) - set(sent))[:5]
            repeated = sorted({r for r in answered if answered.count(r) > 1})[:5]
            raise CapabilityContractError(
                f"{self.kind.capability} was given {len(sent)} rows but returned {len(answered)} outcomes "
                f"(missing rows {missing}, unexpected rows {unexpected}, repeated rows {repeated}): "
                "a bug in this dialer's capability, so the upload was stopped",
                vendor=self.dialer.vendor_name,
            )

    def _write_outputs(self, segment: Segment) -> None:
        for outcome in sorted(segment.settled, key=lambda o: o.row):
            if outcome.status is RowStatus.REJECTED:
                self.rejects.write(outcome, segment.originals.get(outcome.row, {}))
                if len(self.checkpoint.first_rejects) < FIRST_REJECTS:
                    self.checkpoint.first_rejects.append(reject_summary(outcome))
            elif self.dry_run_file is not None and outcome.status is RowStatus.ACCEPTED:
                self.dry_run_file.write(outcome)
                if len(self.sample_payloads) < SAMPLE_PAYLOADS:
                    self.sample_payloads.append({"row": outcome.row, "payload": dict(outcome.payload or {})})

    def _save_checkpoint(self) -> None:
        self.last_saved_at = time.monotonic()
        in_flight = [segment.in_flight for segment in self.pending if segment.batch]
        self.keeper.save(self.checkpoint, in_flight)

    # -- reporting ---------------------------------------------------------------------------
    def _log_progress(self) -> None:
        self.last_progress_at = time.monotonic()
        counters = self.checkpoint.counters
        elapsed = max(time.monotonic() - self.started_at, 1e-6)
        log.info(
            "%s %s: %d rows settled, %s to the dialer (%s), %d accepted, %d rejected, %d duplicates, "
            "%d skipped (DNC), %d skipped (window); %.0f rows/s",
            self.dialer.vendor_name,
            self.kind.name,
            counters.total,
            "nothing sent" if self.dry_run else _plural(self.rows_sent, "row") + " sent",
            _plural(self.requests_made, "HTTP request"),
            counters.accepted,
            counters.rejected,
            counters.duplicates,
            counters.skipped_dnc,
            counters.skipped_window,
            (counters.total - self.rows_settled_before) / elapsed,
        )

    def _finish(self) -> dict[str, Any]:
        counters = self.checkpoint.counters
        if counters.buckets_sum != counters.total:  # every code path counts once; this guards the guard
            raise CapabilityContractError(
                f"row accounting is off: buckets add up to {counters.buckets_sum}, "
                f"{counters.total} rows were read",
                vendor=self.dialer.vendor_name,
            )
        self._log_progress()
        if counters.total == 0:
            log.warning("The input has no rows: nothing was uploaded")
        result = self._result()
        ratio = counters.rejected_ratio
        if ratio > self.settings.max_rejected_ratio:
            raise UploadRejectedError(
                f"{counters.rejected} of {counters.total} rows were rejected ({ratio:.1%}), more than "
                f"max_rejected_ratio={self.settings.max_rejected_ratio}; every rejected row and its reason "
                f"is in {result['rejects_path']}. Result: {result}",
                vendor=self.dialer.vendor_name,
            )
        return result

    @property
    def requests_made(self) -> int:
        """HTTP requests this upload made to the dialer (lookups and retries included), as its hook
        counts them; the batches sent for a dialer that does not count."""
        now = getattr(self.dialer, "requests_made", None)
        if self.requests_before is None or now is None:
            return self.batches_sent
        return now - self.requests_before

    def _result(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "campaign_id": self.settings.campaign_id,
            **self.checkpoint.counters.to_dict(),
            "timezone_inferred": self.checkpoint.counters.timezone_inferred,  # a count, not a bucket
            **({} if self.dry_run else {"sent": self.rows_sent}),  # a dry run reports would_send instead
            "batches": self.batches_sent,
            "requests": self.requests_made, **self.limiter.summary(),  # concurrency_min, throttled
            "resumed_from_row": self.resumed_from,
            "rejects_path": str(self.rejects.path) if self.rejects.bytes_written else None,
            "first_rejects": list(self.checkpoint.first_rejects),
            "dry_run": self.dry_run,
        }
        if self.dry_run_file is not None:
            result.update(
                would_send=self.checkpoint.counters.accepted,
                sample_payloads=self.sample_payloads,
                dry_run_path=str(self.dry_run_file.path) if self.dry_run_file.bytes_written else None,
            )
        return result


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def run_upload(
    dialer: DialerCapabilities,
    kind: UploadKind,
    source: Source,
    settings: UploadSettings,
    *,
    task_state_store: TaskStateStore | None = None,
) -> dict[str, Any]:
    """Upload ``source`` (rows, a path or an ObjectStoragePath) to ``settings.campaign_id``; the result."""
    return UploadRun(dialer, kind, source, settings, task_state_store).run()
