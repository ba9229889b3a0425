"""What the benchmarks share: the sandbox in its own process, contact files, the three upload
dialers."""

from __future__ import annotations

import csv
import os
import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airflow_provider_dialers.sandbox import DEFAULT_CREDENTIALS, Sandbox

BENCH_DIR = Path(__file__).resolve().parent
WORK_DIR = Path(os.environ.get("DIALER_BENCH_DIR", "/tmp/dialer-bench"))


@dataclass(frozen=True)
class UploadDialer:
    """One dialer the upload benchmarks run against: its connection, campaign and batch size."""

    vendor: str  # the sandbox's vendor key
    label: str
    conn_id: str
    campaign_id: str
    rows_per_request: int
    lead_id: int | None = None


UPLOAD_DIALERS = (
    UploadDialer("expertflow", "ExpertFlow ECM", "expertflow_ecm_default", "1", 1),
    UploadDialer("sinch", "Sinch OBI", "sinch_obi_default", "62718C7889CC44F7B944C1A6F6BE9B7F", 100),
    UploadDialer("ameyo", "Ameyo", "ameyo_default", "1", 200, lead_id=1),
)

#: Operator arguments every upload benchmark passes (ECM keeps custom data in businessParamN). P1 and
#: P6 compare the per-request path with a loop over the same endpoint, so ECM's files are off there
#: (P7 measures them).
UPLOAD_ARGUMENTS: dict[str, Any] = {"attribute_map": {"name": "businessParam1"}, "bulk": False}


@contextmanager
def sandbox_process() -> Iterator[Sandbox]:
    """The sandbox as a separate process (its own core and GIL), with the connections pointing at it."""
    sandbox = Sandbox(in_process=False)
    sandbox.start()
    saved = dict(os.environ)
    os.environ.update(sandbox.connection_env(timeout=30.0))
    try:
        yield sandbox
    finally:
        os.environ.clear()
        os.environ.update(saved)
        sandbox.stop()


def credentials(vendor: str) -> dict[str, str]:
    return DEFAULT_CREDENTIALS[vendor]


def phone(block: int, index: int) -> str:
    """A distinct E.164 number per (block, index): each run uses its own block, so no run's
    contacts collide with another's in the sandbox."""
    return f"+1{200 + block:03d}{index:07d}"


def write_contacts_csv(path: Path, rows: int, *, block: int) -> Path:
    """A contact file as a CRM export would give it: external id, phone, name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["external_id", "phone", "name"])
        for index in range(rows):
            writer.writerow([f"b{block}-{index}", phone(block, index), f"Customer {index}"])
    return path


def read_contacts_csv(path: Path) -> Iterator[dict[str, str]]:
    with path.open(newline="") as handle:
        yield from csv.DictReader(handle)


def median(values: list[float]) -> float:
    return statistics.median(values)


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else float("nan")
