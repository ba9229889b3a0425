"""P2 memory flat in file size: peak RSS of ``UploadContactsOperator`` uploading a 1,000,000-row CSV
against a 10,000-row CSV, each in a fresh process (``VmHWM``), to the Sinch sandbox.

Run: ``python -m bench.p2_memory [--small 10000] [--large 1000000]``.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.common import UPLOAD_DIALERS, WORK_DIR, ratio, sandbox_process, write_contacts_csv

TARGET = 1.25
DIALER = next(d for d in UPLOAD_DIALERS if d.vendor == "sinch")  # the fastest upload path: the largest file in least time


def _child(csv_path: str) -> None:
    """In the measured process: upload the file, then report peak RSS and the accounting."""
    from airflow_provider_dialers.operators import UploadContactsOperator  # noqa: F401 (imports settled first)
    from bench.p1_upload import run_operator

    logging.getLogger("airflow_provider_dialers").setLevel(logging.WARNING)
    before_mib = _status_mib("VmRSS")
    result, seconds = run_operator(DIALER, Path(csv_path))
    print(json.dumps({"peak_rss_mib": _status_mib("VmHWM"), "before_upload_mib": before_mib, "seconds": seconds,
                      **{k: result[k] for k in ("total", "accepted", "rejected", "duplicates")}}))


def _status_mib(field: str) -> float:
    """``VmRSS`` (resident now) or ``VmHWM`` (peak resident) of this process, from Linux ``/proc``.

    Not ``ru_maxrss``: Linux keeps it across ``exec``, so a child started by a large parent
    reports the parent's size as its own peak.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/self/status has no {field}")


def _measure(csv_path: Path) -> dict[str, Any]:
    completed = subprocess.run([sys.executable, "-m", "bench.p2_memory", "--child", str(csv_path)],
                               capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"the upload of {csv_path} failed: {completed.stderr[-2000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def run(small: int = 10_000, large: int = 1_000_000, block: int = 100) -> dict[str, Any]:
    with sandbox_process():
        small_file = write_contacts_csv(WORK_DIR / f"p2_{small}.csv", small, block=block)
        large_file = write_contacts_csv(WORK_DIR / f"p2_{large}.csv", large, block=block + 1)
        figures = {"small": _measure(small_file), "large": _measure(large_file)}
    for size, name in ((small, "small"), (large, "large")):
        if figures[name]["accepted"] != size:
            raise RuntimeError(f"P2: {figures[name]['accepted']} of {size} rows were accepted: {figures[name]}")
    growth = ratio(figures["large"]["peak_rss_mib"], figures["small"]["peak_rss_mib"])
    result = {"small_rows": small, "large_rows": large, "small_peak_mib": figures["small"]["peak_rss_mib"],
              "large_peak_mib": figures["large"]["peak_rss_mib"], "ratio": growth, "target": TARGET,
              "met": growth <= TARGET, "large_seconds": figures["large"]["seconds"],
              "file_mib": large_file.stat().st_size / 2**20,
              "small_before_upload_mib": figures["small"]["before_upload_mib"],
              "large_before_upload_mib": figures["large"]["before_upload_mib"]}
    print(format_line(result), flush=True)
    return result


def format_line(r: dict[str, Any]) -> str:
    return (f"P2 peak RSS {r['large_rows']:,} rows / {r['small_rows']:,} rows = {r['ratio']:.2f}x "
            f"(target <= {r['target']}) | {r['large_peak_mib']:.0f} MiB vs {r['small_peak_mib']:.0f} MiB peak; "
            f"{r['large_before_upload_mib']:.0f} / {r['small_before_upload_mib']:.0f} MiB before the upload began; "
            f"a {r['file_mib']:.0f} MiB file")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    args = parser.parse_args()
    if args.child:
        _child(args.child)
    else:
        run(args.small, args.large)


if __name__ == "__main__":
    main()
