"""P1 upload throughput: ``UploadContactsOperator`` against a plain serial loop and the sandbox's
own capacity, per dialer, on the same endpoint and batch size.

Run: ``python -m bench.p1_upload [--rows 100000] [--vendors expertflow,sinch,ameyo] [--profile]
[--latency-ms 20] [--latency-rows 20000]``
(the sandbox is started in its own process). ``--profile`` also writes where the operator's time
goes (main thread and upload threads, cProfile) to ``bench/profiles/p1_<vendor>.txt``, on a sandbox reset
first: the campaign holds only its seed, as in the measured run, so the listing shows the upload's own
costs rather than a held-contacts lookup over the contacts the measured runs left (measured on its own).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import pstats
import threading
import time
from pathlib import Path
from typing import Any
from unittest import mock

from bench.baselines import lean_requests, serial_loop
from bench.common import (
    BENCH_DIR,
    UPLOAD_ARGUMENTS,
    UPLOAD_DIALERS,
    WORK_DIR,
    UploadDialer,
    ratio,
    sandbox_process,
    write_contacts_csv,
)
from bench.lean_client import send_all

SERIAL_TARGET = 2.0
CAPACITY_TARGET = 0.8
LEAN_CONNECTIONS = 8
PROFILE_DIR = BENCH_DIR / "profiles"


def run_operator(dialer: UploadDialer, csv_path: Path, *, profile_to: Path | None = None) -> tuple[dict[str, Any], float]:
    """``UploadContactsOperator.execute`` on the file; (its XCom result, seconds). The CPU seconds
    this process spent (the client's: the sandbox is another process) are in ``result["cpu_seconds"]``."""
    from airflow_provider_dialers.operators import UploadContactsOperator

    operator = UploadContactsOperator(
        task_id="bench_upload",
        dialer_conn_id=dialer.conn_id,
        campaign_id=dialer.campaign_id,
        source=str(csv_path),
        lead_id=dialer.lead_id,
        rejects_path=str(csv_path) + ".rejects.csv",
        **UPLOAD_ARGUMENTS,
    )
    from airflow_provider_dialers.uploads.checkpoint import MemoryStateStore

    context = {"task_state_store": MemoryStateStore()}
    if profile_to is None:
        started, cpu_started = time.perf_counter(), time.process_time()
        result = operator.execute(context)
        result["cpu_seconds"] = time.process_time() - cpu_started
        return result, time.perf_counter() - started
    return _profiled(operator, context, profile_to)


def _profiled(operator: Any, context: dict[str, Any], profile_to: Path) -> tuple[dict[str, Any], float]:
    """Run with cProfile on the main thread and around every batch sent by an upload thread, timing
    each thread's own CPU (``time.thread_time``): socket and GIL waits do not count, so the listing
    says where the client's CPU goes."""
    from airflow_provider_dialers.uploads.engine import UploadKind

    profiles: list[cProfile.Profile] = []
    per_thread = threading.local()
    send = UploadKind.send

    def profiled_send(kind: Any, *args: Any, **kwargs: Any) -> Any:
        profiler = getattr(per_thread, "profiler", None)
        if profiler is None:
            profiler = per_thread.profiler = cProfile.Profile(timer=time.thread_time)
            profiles.append(profiler)
        profiler.enable()
        try:
            return send(kind, *args, **kwargs)
        finally:
            profiler.disable()

    main = cProfile.Profile(timer=time.thread_time)
    with mock.patch.object(UploadKind, "send", profiled_send):
        started = time.perf_counter()
        main.enable()
        result = operator.execute(context)
        main.disable()
        seconds = time.perf_counter() - started
    text = io.StringIO()
    stats = pstats.Stats(main, *profiles, stream=text)
    text.write(f"{result['total']} rows in {seconds:.1f} s under cProfile: CPU time of the main thread + "
               f"{len(profiles)} upload threads (time.thread_time; waits excluded), profiler overhead included\n")
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(25)
    profile_to.parent.mkdir(parents=True, exist_ok=True)
    profile_to.write_text(text.getvalue())
    return result, seconds


def measure(dialer: UploadDialer, base_url: str, rows: int, block: int) -> dict[str, Any]:
    """Operator, serial loop and lean capacity on three files of ``rows`` fresh contacts each, then the
    operator's look at what the campaign already holds, timed on its own.

    The operator runs first, so its held-contacts lookup (it reads the whole campaign before its
    first row, the "never load a contact twice" promise) reads only the campaign's seed, as the
    other two clients read nothing; the lookup's own cost is measured last, over all 3 x ``rows``
    contacts, and reported per contact held."""
    files = [write_contacts_csv(WORK_DIR / f"p1_{dialer.vendor}_{block + i}.csv", rows, block=block + i)
             for i in range(3)]
    result, operator_seconds = run_operator(dialer, files[2])
    if result["accepted"] != rows:
        raise RuntimeError(f"{dialer.label}: the operator accepted {result['accepted']} of {rows} rows: {result}")
    serial_cpu = time.process_time()
    serial_rows, serial_seconds = serial_loop(base_url, dialer, files[1])
    serial_cpu = time.process_time() - serial_cpu
    requests = lean_requests(base_url, dialer, files[0])
    lean = send_all(base_url, requests, connections=LEAN_CONNECTIONS)
    if not lean.ok:
        raise RuntimeError(f"the lean client's requests were refused: {lean.statuses}")
    held = measure_held_lookup(dialer)
    capacity = rows / lean.seconds
    serial = serial_rows / serial_seconds
    operator = rows / operator_seconds
    return {
        "vendor": dialer.vendor,
        "label": dialer.label,
        "rows": rows,
        "rows_per_request": dialer.rows_per_request,
        "requests": len(requests),
        "capacity_rows_per_s": capacity,
        "serial_rows_per_s": serial,
        "operator_rows_per_s": operator,
        "vs_serial": ratio(operator, serial),
        "vs_capacity": ratio(operator, capacity),
        "serial_target": SERIAL_TARGET,
        "capacity_target": CAPACITY_TARGET,
        "met": ratio(operator, serial) >= SERIAL_TARGET and ratio(operator, capacity) >= CAPACITY_TARGET,
        "operator_requests": result["requests"],
        # Where the time goes: client CPU per row (this process) and the server's time per row.
        "operator_cpu_us_per_row": result["cpu_seconds"] / rows * 1e6,
        "serial_cpu_us_per_row": serial_cpu / serial_rows * 1e6,
        "serial_wall_us_per_row": serial_seconds / serial_rows * 1e6,
        "server_us_per_row": lean.seconds / rows * 1e6,
        **held,
    }


def measure_held_lookup(dialer: UploadDialer) -> dict[str, Any]:
    """What reading the campaign's contacts before an upload costs (wall and client CPU per contact)."""
    from airflow_provider_dialers.hooks import get_dialer_hook
    from airflow_provider_dialers.uploads.held import load_held_contacts

    hook = get_dialer_hook(dialer.conn_id)
    started, cpu_started = time.perf_counter(), time.process_time()
    held = load_held_contacts(hook, dialer.campaign_id, recontact_after=None, default_region=None)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    count = held.count if held is not None else 0
    return {"held_contacts": count, "held_lookup_seconds": seconds,
            "held_us_per_contact": seconds / max(count, 1) * 1e6,
            "held_cpu_us_per_contact": cpu / max(count, 1) * 1e6}


def profile(dialer: UploadDialer, rows: int, block: int) -> Path:
    path = write_contacts_csv(WORK_DIR / f"p1_profile_{dialer.vendor}.csv", rows, block=block)
    target = PROFILE_DIR / f"p1_{dialer.vendor}.txt"
    run_operator(dialer, path, profile_to=target)
    return target


def measure_at_latency(dialer: UploadDialer, base_url: str, rows: int, block: int, latency_ms: float
                       ) -> dict[str, Any]:
    """Operator and serial loop with ``latency_ms`` added to every request by the sandbox: how close the
    operator's default concurrency gets to its ceiling, ``max_concurrency x batch / latency``. The
    campaign holds only its seed (the sandbox is reset first): the held-contacts lookup costs one
    request per listing page, measured at 0 ms on its own."""
    from airflow_provider_dialers.uploads.engine import DEFAULT_MAX_CONCURRENCY

    files = [write_contacts_csv(WORK_DIR / f"p1_{dialer.vendor}_{block + i}_latency.csv", rows, block=block + i)
             for i in range(2)]
    result, operator_seconds = run_operator(dialer, files[0])
    if result["accepted"] != rows:
        raise RuntimeError(f"{dialer.label}: the operator accepted {result['accepted']} of {rows} rows: {result}")
    serial_rows, serial_seconds = serial_loop(base_url, dialer, files[1])
    operator, serial = rows / operator_seconds, serial_rows / serial_seconds
    ceiling = DEFAULT_MAX_CONCURRENCY * dialer.rows_per_request / (latency_ms / 1000)
    figures = {"vendor": dialer.vendor, "label": dialer.label, "rows": rows, "latency_ms": latency_ms,
               "rows_per_request": dialer.rows_per_request, "max_concurrency": DEFAULT_MAX_CONCURRENCY,
               "operator_rows_per_s": operator, "serial_rows_per_s": serial, "ceiling_rows_per_s": ceiling,
               "vs_serial": ratio(operator, serial), "vs_ceiling": ratio(operator, ceiling),
               "operator_cpu_us_per_row": result["cpu_seconds"] / rows * 1e6}
    if dialer.vendor in LATENCY_TARGET_VENDORS:  # ECM's answer across a network is its files (P7)
        figures.update(latency_target=LATENCY_SERIAL_TARGET, met=figures["vs_serial"] >= LATENCY_SERIAL_TARGET)
    return figures


#: Rows per dialer at 20 ms: ECM sends one contact a request (a serial loop does 50 a second).
LATENCY_ROWS = {"expertflow": 1_000}
#: Across a network, Sinch and Ameyo at their default concurrency against the serial loop (issue 14).
LATENCY_SERIAL_TARGET = 3.5
LATENCY_TARGET_VENDORS = ("sinch", "ameyo")


def run(rows: int = 100_000, vendors: list[str] | None = None, *, with_profile: bool = False,
        block: int = 0, latency_ms: float = 20.0, latency_rows: int | None = None) -> list[dict[str, Any]]:
    """P1 for each dialer, in a fresh sandbox process, at 0 ms and then at ``latency_ms`` (0: not
    measured); the figures per dialer and latency."""
    logging.getLogger("airflow_provider_dialers").setLevel(logging.WARNING)  # no per-batch progress lines
    results = []
    dialers = [d for d in UPLOAD_DIALERS if not vendors or d.vendor in vendors]
    with sandbox_process() as sandbox:
        for index, dialer in enumerate(dialers):
            figures = measure(dialer, sandbox.url, rows, block + 10 * index)
            if with_profile:
                sandbox.client.reset()  # campaigns back to their seed, as for the measured operator run
                figures["profile"] = str(profile(dialer, min(rows, 20_000), block + 10 * index + 5))
            results.append(figures)
            print(format_line(figures), flush=True)
        if latency_ms:
            sandbox.client.configure(latency_ms=latency_ms)
            for index, dialer in enumerate(dialers):
                sandbox.client.reset()  # campaigns back to their seed: the lookup before the upload is small
                sandbox.client.configure(latency_ms=latency_ms)
                count = min(latency_rows or min(rows, 20_000), LATENCY_ROWS.get(dialer.vendor, rows))
                figures = measure_at_latency(dialer, sandbox.url, count, block + 10 * index + 7, latency_ms)
                results.append(figures)
                print(format_line(figures), flush=True)
            sandbox.client.configure(latency_ms=0)
    return results


def format_line(f: dict[str, Any]) -> str:
    if f.get("latency_ms"):
        return (f"P1 {f['label']:<15} at {f['latency_ms']:.0f} ms: operator {f['operator_rows_per_s']:>7.0f} rows/s | "
                f"{f['vs_serial']:.2f}x serial loop ({f['serial_rows_per_s']:.0f} rows/s"
                + (f"; target >= {f['latency_target']}" if "latency_target" in f else "") + f") | {f['vs_ceiling']:.2f}x "
                f"the ceiling {f['max_concurrency']} in flight x {f['rows_per_request']} rows / "
                f"{f['latency_ms']:.0f} ms = {f['ceiling_rows_per_s']:.0f} rows/s | {f['rows']} rows, operator CPU "
                f"{f['operator_cpu_us_per_row']:.0f} us/row")
    return (f"P1 {f['label']:<15} operator {f['operator_rows_per_s']:>8.0f} rows/s | "
            f"{f['vs_serial']:.2f}x serial loop ({f['serial_rows_per_s']:.0f} rows/s; target >= {SERIAL_TARGET}) | "
            f"{f['vs_capacity']:.2f}x sandbox capacity ({f['capacity_rows_per_s']:.0f} rows/s; "
            f"target >= {CAPACITY_TARGET}) | {f['rows']} rows, {f['rows_per_request']}/request | "
            f"per row: operator CPU {f['operator_cpu_us_per_row']:.0f} us, serial loop CPU "
            f"{f['serial_cpu_us_per_row']:.0f} us of {f['serial_wall_us_per_row']:.0f} us, "
            f"sandbox {f['server_us_per_row']:.0f} us | held-contacts lookup: {f['held_contacts']} read in "
            f"{f['held_lookup_seconds']:.1f} s ({f['held_us_per_contact']:.0f} us each, client CPU "
            f"{f['held_cpu_us_per_contact']:.0f} us)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--vendors", default="")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="then again at this latency (0: not)")
    parser.add_argument("--latency-rows", type=int, default=None,
                        help="rows per dialer at that latency (default: --rows, at most 20,000; ECM 1,000)")
    args = parser.parse_args()
    run(args.rows, [v for v in args.vendors.split(",") if v], with_profile=args.profile,
        latency_ms=args.latency_ms, latency_rows=args.latency_rows)


if __name__ == "__main__":
    main()
