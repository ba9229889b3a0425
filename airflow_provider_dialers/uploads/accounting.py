"""Counting an upload's rows into buckets that always add up to the number of input rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields

from airflow_provider_dialers.capabilities import RowStatus

#: The counter each row status adds to.
_BUCKET_OF_STATUS = {
    RowStatus.ACCEPTED: "accepted",
    RowStatus.REJECTED: "rejected",
    RowStatus.DUPLICATE: "duplicates",
    RowStatus.SKIPPED_DNC: "skipped_dnc",
    RowStatus.SKIPPED_WINDOW: "skipped_window",
}


@dataclass
class UploadCounters:
    """Rows per bucket; every input row is counted in ``total`` and in exactly one bucket.

    ``timezone_inferred`` is no bucket: it counts the rows (of any bucket) whose local hour the calling
    window judged in the zone of their numbers, having no ``timezone`` of their own.
    """

    total: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    skipped_dnc: int = 0
    skipped_window: int = 0
    timezone_inferred: int = 0

    def count(self, status: RowStatus) -> None:
        self.total += 1
        # A RowStatus (every caller's) is its own key; anything else is read as one, or refused.
        bucket = _BUCKET_OF_STATUS[status if status.__class__ is RowStatus else RowStatus(status)]
        setattr(self, bucket, getattr(self, bucket) + 1)

    def add(self, other: UploadCounters) -> None:
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))

    @property
    def buckets_sum(self) -> int:
        return self.accepted + self.rejected + self.duplicates + self.skipped_dnc + self.skipped_window

    @property
    def rejected_ratio(self) -> float:
        return self.rejected / self.total if self.total else 0.0

    def to_dict(self) -> dict[str, int]:
        """The counts; ``timezone_inferred`` only when some row had its zone inferred, so a checkpoint
        (and the XCom's buckets) read as before otherwise. :meth:`from_dict` takes a missing count as 0."""
        values = asdict(self)
        if not self.timezone_inferred:
            del values["timezone_inferred"]
        return values

    @classmethod
    def from_dict(cls, values: Mapping[str, int]) -> UploadCounters:
        return cls(**{item.name: int(values.get(item.name, 0)) for item in fields(cls)})
