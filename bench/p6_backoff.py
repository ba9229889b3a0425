"""P6 back-off that adapts: ``UploadContactsOperator`` against a sandbox that admits only N requests at
once (``max_in_flight``; one more is answered 503 with ``Retry-After: 1``), with adaptive concurrency
(the default) and with it off (``adaptive_concurrency=False``: ``max_concurrency`` in flight whatever
the answers), side by side in one run, per dialer.

Run: ``python -m bench.p6_backoff [--rows 20000] [--vendors sinch,ameyo] [--max-in-flight 2]
[--latency-ms 20] [--max-concurrency N] [--repeats 1]`` (the sandbox is started in its own process).
Refused requests are counted from the sandbox's request log (``status`` 503, ``fault`` "busy").
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import time
from pathlib import Path
from typing import Any

from bench.common import (
    UPLOAD_ARGUMENTS,
    UPLOAD_DIALERS,
    WORK_DIR,
    UploadDialer,
    ratio,
    sandbox_process,
    write_contacts_csv,
)

# No line per retried 503 (Airflow's loggers take their levels from here when it configures them).
os.environ.setdefault("AIRFLOW__LOGGING__NAMESPACE_LEVELS", "airflow.task.hooks=error airflow.task.operators=error")

DEFAULT_VENDORS = ("sinch", "ameyo")
#: Phone blocks of this benchmark's files (P1 uses the low ones; each run has its own).
FIRST_BLOCK = 60


class _Counter(logging.Handler):
    """Counts the log lines about the limit (they are rate-limited: not one per request)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def run_once(sandbox: Any, dialer: UploadDialer, csv_path: Path, *, adaptive: bool,
             max_concurrency: int) -> dict[str, Any]:
    """One upload of the file; its result, seconds, and the 503s the sandbox logged for it."""
    from airflow_provider_dialers.operators import UploadContactsOperator
    from airflow_provider_dialers.uploads.checkpoint import MemoryStateStore

    sandbox.client.reset()  # the campaign back to its seed: both variants read the same small campaign
    sandbox.client.clear_requests()
    operator = UploadContactsOperator(
        task_id="bench_backoff", dialer_conn_id=dialer.conn_id, campaign_id=dialer.campaign_id,
        source=str(csv_path), lead_id=dialer.lead_id, rejects_path=str(csv_path) + ".rejects.csv",
        max_concurrency=max_concurrency, adaptive_concurrency=adaptive, **UPLOAD_ARGUMENTS,
    )
    started = time.perf_counter()
    result = operator.execute({"task_state_store": MemoryStateStore()})
    seconds = time.perf_counter() - started
    log = sandbox.client.requests(vendor=dialer.vendor)
    refused = sum(1 for record in log if record["status"] == 503)
    return {"result": result, "seconds": seconds, "refused": refused, "requests": len(log)}


def measure(sandbox: Any, dialer: UploadDialer, rows: int, *, max_concurrency: int, repeats: int,
            block: int) -> dict[str, Any]:
    """Adaptive and fixed concurrency on files of ``rows`` fresh contacts, in alternated pairs."""
    runs: dict[str, list[dict[str, Any]]] = {"adaptive": [], "fixed": []}
    for pair in range(repeats):
        order = ("fixed", "adaptive") if pair % 2 == 0 else ("adaptive", "fixed")
        for offset, variant in enumerate(order):
            path = write_contacts_csv(WORK_DIR / f"p6_{dialer.vendor}_{block + 2 * pair + offset}.csv", rows,
                                      block=block + 2 * pair + offset)
            figures = run_once(sandbox, dialer, path, adaptive=variant == "adaptive",
                               max_concurrency=max_concurrency)
            if figures["result"]["accepted"] != rows:
                raise RuntimeError(f"{dialer.label} ({variant}): {figures['result']['accepted']} of {rows} "
                                   f"rows accepted: {figures['result']}")
            runs[variant].append(figures)

    def median(variant: str, key: str) -> float:
        return statistics.median(run[key] for run in runs[variant])

    adaptive_min = min(run["result"]["concurrency_min"] for run in runs["adaptive"])
    figures = {
        "vendor": dialer.vendor, "label": dialer.label, "rows": rows, "repeats": repeats,
        "rows_per_request": dialer.rows_per_request, "max_concurrency": max_concurrency,
        "adaptive_seconds": median("adaptive", "seconds"), "fixed_seconds": median("fixed", "seconds"),
        "adaptive_refused": median("adaptive", "refused"), "fixed_refused": median("fixed", "refused"),
        "adaptive_requests": median("adaptive", "requests"), "fixed_requests": median("fixed", "requests"),
        "adaptive_concurrency_min": adaptive_min,
    }
    figures["refused_ratio"] = ratio(figures["adaptive_refused"], figures["fixed_refused"])
    figures["seconds_ratio"] = ratio(figures["adaptive_seconds"], figures["fixed_seconds"])
    figures["met"] = figures["adaptive_refused"] < figures["fixed_refused"] and figures["seconds_ratio"] <= 1.0
    return figures


def run(rows: int = 20_000, vendors: list[str] | None = None, *, max_in_flight: int = 2,
        latency_ms: float = 20.0, max_concurrency: int | None = None, repeats: int = 1) -> list[dict[str, Any]]:
    """P6 for each dialer, in a fresh sandbox process that admits ``max_in_flight`` requests at once."""
    from airflow_provider_dialers.uploads.engine import DEFAULT_MAX_CONCURRENCY

    concurrency = max_concurrency or DEFAULT_MAX_CONCURRENCY
    logging.getLogger("airflow_provider_dialers").setLevel(logging.WARNING)  # no per-batch progress lines
    pacing = logging.getLogger("airflow_provider_dialers.uploads.pacing")
    pacing.setLevel(logging.INFO)
    pacing.propagate = False
    counter = _Counter()
    pacing.addHandler(counter)
    results = []
    try:
        with sandbox_process() as sandbox:
            for index, dialer in enumerate(d for d in UPLOAD_DIALERS if d.vendor in (vendors or DEFAULT_VENDORS)):
                sandbox.client.configure(max_in_flight=max_in_flight, latency_ms=latency_ms)
                counter.count = 0
                figures = measure(sandbox, dialer, rows, max_concurrency=concurrency, repeats=repeats,
                                  block=FIRST_BLOCK + 10 * index)
                figures.update(max_in_flight=max_in_flight, latency_ms=latency_ms, log_lines=counter.count)
                results.append(figures)
                print(format_line(figures), flush=True)
    finally:
        pacing.removeHandler(counter)
        pacing.propagate = True
    return results


def format_line(f: dict[str, Any]) -> str:
    return (f"P6 {f['label']:<15} server admits {f['max_in_flight']} at once, {f['latency_ms']:.0f} ms: refused "
            f"{f['refused_ratio']:.2f}x, completion {f['seconds_ratio']:.2f}x with adaptive concurrency vs fixed "
            f"(target < 1 and <= 1) | adaptive: {f['adaptive_refused']:.0f} refused of "
            f"{f['adaptive_requests']:.0f} requests, {f['adaptive_seconds']:.1f} s, down to "
            f"{f['adaptive_concurrency_min']} in flight, {f['log_lines']} log lines about it | fixed at "
            f"{f['max_concurrency']}: {f['fixed_refused']:.0f} refused of {f['fixed_requests']:.0f}, "
            f"{f['fixed_seconds']:.1f} s | {f['rows']} rows, {f['rows_per_request']}/request"
            + (f", median of {f['repeats']}" if f["repeats"] > 1 else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--vendors", default=",".join(DEFAULT_VENDORS))
    parser.add_argument("--max-in-flight", type=int, default=2, help="requests the sandbox handles at once")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--max-concurrency", type=int, default=None, help="default: the operator's default")
    parser.add_argument("--repeats", type=int, default=1, help="alternated pairs (medians)")
    args = parser.parse_args()
    run(args.rows, [v for v in args.vendors.split(",") if v], max_in_flight=args.max_in_flight,
        latency_ms=args.latency_ms, max_concurrency=args.max_concurrency, repeats=args.repeats)


if __name__ == "__main__":
    main()
