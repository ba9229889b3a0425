"""Upload progress kept in Airflow's ``task_state_store`` (Airflow 3.3; before it, an Airflow Variable
per task instance: ``compat.task_state_store``), so a retried task resumes instead of starting over,
on whichever worker the retry runs.

Before a batch is sent, its row range is written ahead as *in flight*; when every batch up to some
row has settled, ``next_row`` moves past them with the counters of the rows before it. A retry
skips the rows before ``next_row`` without sending them, and knows which later rows an earlier
attempt may already have delivered (a "duplicate" answer for those is the earlier attempt's own
row).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from airflow_provider_dialers.uploads.accounting import UploadCounters

log = logging.getLogger(__name__)

CHECKPOINT_KEY = "dialer_upload_progress"
_VERSION = 1

RowRange = tuple[int, int]  # first and last row, inclusive
#: A batch's rows in flight: first and last row, and the rows of that range not sent because the
#: campaign already held them (so a retry tells the earlier attempt's own rows from those).
InFlight = tuple[int, int, tuple[int, ...]]


class TaskStateStore(Protocol):
    """What the engine uses of ``context["task_state_store"]`` (Airflow 3.3) or of its fallback on older
    versions, ``compat.VariableStateStore``."""

    def get(self, key: str, default: Any = None) -> Any: ...

    def set(self, key: str, value: Any) -> None: ...


class MemoryStateStore:
    """A :class:`TaskStateStore` kept in memory, for running an upload outside an Airflow task
    (tests, notebooks, benchmarks). Like Airflow's, it keeps only what survives JSON."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.writes = 0

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.values[key] = json.loads(json.dumps(value))
        self.writes += 1


@dataclass
class Checkpoint:
    """How far an upload of one input got (rows before ``next_row`` are settled and counted)."""

    fingerprint: str
    next_row: int = 1
    counters: UploadCounters = field(default_factory=UploadCounters)
    #: Row ranges an earlier attempt sent without seeing the answer (with the rows it did not send).
    maybe_sent: list[InFlight] = field(default_factory=list)
    rejects_bytes: int = 0
    first_rejects: list[dict[str, Any]] = field(default_factory=list)

    def maybe_sent_before(self, row: int) -> bool:
        """Whether an earlier attempt may have delivered ``row`` (sent it, then died before the answer)."""
        return any(first <= row <= last and row not in held for first, last, held in self.maybe_sent)

    def to_json(self, in_flight: list[InFlight]) -> dict[str, Any]:
        still_open = [r for r in self.maybe_sent if r[1] >= self.next_row]
        return {
            "version": _VERSION,
            "fingerprint": self.fingerprint,
            "next_row": self.next_row,
            "counters": self.counters.to_dict(),
            "maybe_sent": [[first, last, list(held)] for first, last, held in still_open + in_flight],
            "rejects_bytes": self.rejects_bytes,
            "first_rejects": self.first_rejects,
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Checkpoint:
        return cls(
            fingerprint=value["fingerprint"],
            next_row=int(value["next_row"]),
            counters=UploadCounters.from_dict(value["counters"]),
            maybe_sent=[(int(r[0]), int(r[1]), tuple(int(h) for h in (r[2] if len(r) > 2 else ())))
                        for r in value.get("maybe_sent", [])],
            rejects_bytes=int(value.get("rejects_bytes", 0)),
            first_rejects=list(value.get("first_rejects", [])),
        )


class CheckpointKeeper:
    """Loads and saves the checkpoint of one input; does nothing without a store (outside a task)."""

    def __init__(self, store: TaskStateStore | None, fingerprint: str) -> None:
        self.store = store
        self.fingerprint = fingerprint

    def load(self) -> Checkpoint:
        """The earlier attempt's checkpoint for this input, or a fresh one."""
        saved = self.store.get(CHECKPOINT_KEY, None) if self.store is not None else None
        if not isinstance(saved, dict) or saved.get("version") != _VERSION:
            return Checkpoint(self.fingerprint)
        if saved.get("fingerprint") != self.fingerprint:
            log.warning("Ignoring the previous attempt's checkpoint: it was taken on a different input")
            return Checkpoint(self.fingerprint)
        checkpoint = Checkpoint.from_json(saved)
        log.info(
            "Resuming from row %d (%d rows settled by earlier attempts)",
            checkpoint.next_row,
            checkpoint.counters.total,
        )
        return checkpoint

    def save(self, checkpoint: Checkpoint, in_flight: list[InFlight]) -> None:
        if self.store is not None:
            self.store.set(CHECKPOINT_KEY, checkpoint.to_json(in_flight))
