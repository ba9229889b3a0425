"""P7 ECM bulk loads: ``UploadContactsOperator`` sending ``uploadBulkCaller`` files (reconciled row by
row with ``getList``) against the same operator sending one ``insertCallback`` per contact, with the
sandbox adding ``latency_ms`` to every request, side by side in one run.

Run: ``python -m bench.p7_bulk [--rows 20000] [--per-row-rows 20000] [--latency-ms 20]`` (the sandbox
is started in its own process; each upload starts from the campaign's seed).
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path
from typing import Any

from bench.common import UPLOAD_ARGUMENTS, UPLOAD_DIALERS, WORK_DIR, ratio, sandbox_process, write_contacts_csv

TARGET = 10.0
#: Phone blocks of this benchmark's files (each run has its own).
FIRST_BLOCK = 70


def upload(path: Path, *, bulk: bool) -> tuple[dict[str, Any], float, float]:
    """The operator on ``path`` into ECM campaign 1; (its XCom result, seconds, client CPU seconds)."""
    from airflow_provider_dialers.operators import UploadContactsOperator
    from airflow_provider_dialers.uploads.checkpoint import MemoryStateStore

    dialer = next(d for d in UPLOAD_DIALERS if d.vendor == "expertflow")
    operator = UploadContactsOperator(task_id="bench_bulk", dialer_conn_id=dialer.conn_id,
                                      campaign_id=dialer.campaign_id, source=str(path),
                                      rejects_path=str(path) + ".rejects.csv", **{**UPLOAD_ARGUMENTS, "bulk": bulk})
    started, cpu = time.perf_counter(), time.process_time()
    result = operator.execute({"task_state_store": MemoryStateStore()})
    return result, time.perf_counter() - started, time.process_time() - cpu


def run(rows: int = 20_000, per_row_rows: int | None = None, latency_ms: float = 20.0,
        block: int = FIRST_BLOCK) -> dict[str, Any]:
    """Files, then one contact per request (``per_row_rows``, default ``rows``), each from the seed."""
    logging.getLogger("airflow_provider_dialers").setLevel(logging.WARNING)
    per_row_rows = per_row_rows or rows
    figures: dict[str, Any] = {"rows": rows, "per_row_rows": per_row_rows, "latency_ms": latency_ms, "target": TARGET}
    with sandbox_process() as sandbox:
        for name, count, bulk, offset in (("bulk", rows, True, 0), ("per_row", per_row_rows, False, 1)):
            sandbox.client.reset()  # the campaign back to its seed: the lookup before the upload is small
            sandbox.client.configure(latency_ms=latency_ms)
            path = write_contacts_csv(WORK_DIR / f"p7_{name}_{block + offset}.csv", count, block=block + offset)
            result, seconds, cpu = upload(path, bulk=bulk)
            if result["accepted"] != count:
                raise RuntimeError(f"P7 {name}: the operator accepted {result['accepted']} of {count} rows: {result}")
            held = sum(1 for c in sandbox.client.state("expertflow")["callbacks"] if str(c["campaignId"]) == "1")
            figures[name] = {"rows_per_s": count / seconds, "seconds": seconds, "requests": result["requests"],
                             "batches": result["batches"], "cpu_us_per_row": cpu / count * 1e6, "campaign_holds": held}
            print(f"  {name}: {count} rows in {seconds:.1f} s, {result['requests']} requests", flush=True)
    figures["speedup"] = ratio(figures["bulk"]["rows_per_s"], figures["per_row"]["rows_per_s"])
    figures["met"] = figures["speedup"] >= TARGET
    return figures


def format_line(f: dict[str, Any]) -> str:
    bulk, per_row = f["bulk"], f["per_row"]
    return (f"P7 ECM bulk at {f['latency_ms']:.0f} ms: files {bulk['rows_per_s']:.0f} rows/s = {f['speedup']:.1f}x "
            f"one insertCallback per contact ({per_row['rows_per_s']:.0f} rows/s; target >= {TARGET:.0f}x) | "
            f"{f['rows']} rows in {bulk['seconds']:.1f} s, {bulk['requests']} requests ({bulk['batches']} files), "
            f"CPU {bulk['cpu_us_per_row']:.0f} us/row; per row: {f['per_row_rows']} rows in {per_row['seconds']:.1f} s, "
            f"{per_row['requests']} requests, CPU {per_row['cpu_us_per_row']:.0f} us/row")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--per-row-rows", type=int, default=None, help="rows of the per-row upload (default --rows)")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args()
    figures = run(args.rows, args.per_row_rows, args.latency_ms)
    print(format_line(figures) + (" | MET" if figures["met"] else " | NOT MET"))


if __name__ == "__main__":
    main()
