"""Run every benchmark (P1-P7), print the ratios with their raw figures, write ``bench/RESULTS.md``.

Run: ``./scripts/bench.sh`` (bootstraps the virtualenv, then ``python -m bench.run``). Options:
``--rows`` for P1 (default 100,000 per dialer), ``--large`` for P2 (default 1,000,000),
``--p6-rows`` for P6 (default 20,000 per dialer), ``--p7-rows`` for P7 (default 20,000), ``--only P1,P4`` to run some, ``--no-write`` to leave RESULTS.md alone (a quick look).

No figure here is a test: timings on a shared 2-core machine are noisy, so each result is a
ratio of two measurements taken side by side in the same run.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import BENCH_DIR

RESULTS = BENCH_DIR / "RESULTS.md"
COMMAND = "./scripts/bench.sh"


def _p1(args: argparse.Namespace) -> Any:
    from bench import p1_upload

    # The profiles belong to a recorded run (RESULTS.md shows them): none for a quick look.
    return p1_upload.run(args.rows, with_profile=not args.no_write)


def _p2(args: argparse.Namespace) -> Any:
    from bench import p2_memory

    return p2_memory.run(args.small, args.large)


def _p3(args: argparse.Namespace) -> Any:
    from bench import p3_poll

    return p3_poll.run()


def _p4(args: argparse.Namespace) -> Any:
    from bench import p4_import

    return p4_import.run(args.import_runs)


def _p5(args: argparse.Namespace) -> Any:
    from bench import p5_sandbox

    return p5_sandbox.run(args.requests)


def _p6(args: argparse.Namespace) -> Any:
    from bench import p6_backoff

    return p6_backoff.run(args.p6_rows)


def _p7(args: argparse.Namespace) -> Any:
    from bench import p7_bulk

    return p7_bulk.run(args.p7_rows)


BENCHMARKS = {"P5": _p5, "P1": _p1, "P2": _p2, "P3": _p3, "P4": _p4, "P6": _p6, "P7": _p7}


def summary_lines(results: dict[str, Any]) -> list[str]:
    """One line per target: the ratio, the target, met or not, and the raw figures beside it."""
    from bench import p1_upload, p2_memory, p5_sandbox

    lines = []
    if "P1" in results:
        lines += [p1_upload.format_line(f) + ("" if "met" not in f else " | MET" if f["met"] else " | NOT MET")
                  for f in results["P1"]]
    if "P2" in results:
        lines.append(p2_memory.format_line(results["P2"]) + (" | MET" if results["P2"]["met"] else " | NOT MET"))
    if "P3" in results:
        lines += _p3_lines(results["P3"])
    if "P4" in results:
        p4 = results["P4"]
        lines.append(f"P4 DAG-parse import cost: +{p4['added_ms']:.0f} ms over `import airflow.sdk` "
                     f"(target <= {p4['target_ms']} ms) | sdk {p4['sdk_ms']:.0f} ms, with every operator and sensor "
                     f"module {p4['with_provider_ms']:.0f} ms; heavy modules loaded: {p4['heavy_loaded'] or 'none'}"
                     + (" | MET" if p4["met"] else " | NOT MET"))
    if "P5" in results:
        lines.append(p5_sandbox.format_line(results["P5"]) + (" | MET" if results["P5"]["met"] else " | NOT MET"))
    if "P6" in results:
        from bench import p6_backoff

        lines += [p6_backoff.format_line(f) + (" | MET" if f["met"] else " | NOT MET") for f in results["P6"]]
    if "P7" in results:
        from bench import p7_bulk

        lines.append(p7_bulk.format_line(results["P7"]) + (" | MET" if results["P7"]["met"] else " | NOT MET"))
    return lines


P3_LIMIT = 3  # requests per poke, ECM and Sinch


def _p3_lines(p3: dict[str, Any]) -> list[str]:
    """Running and complete pokes (fresh hook; kept hook in brackets) at both sizes, per vendor."""
    lines = []
    for vendor, f in p3.items():
        kept = f["kept_hook"]
        figures = (f"running {f['small']} / {f['large']} (kept hook {kept['small']} / {kept['large']}), "
                   f"complete {f['complete_small']} / {f['complete_large']} (kept hook {kept['complete_small']} / "
                   f"{kept['complete_large']}) requests per poke at {f['small_contacts']:,} / {f['large_contacts']:,} "
                   "contacts")
        if vendor == "ameyo":
            verdict = (f"grows {f['large'] / f['small']:.2f}x: {f['pages']['small']} -> {f['pages']['large']} "
                       f"getContacts pages of {f['page_size']:,} customers (no documented maximum)")
        else:
            equal = f["small"] == f["large"] and f["complete_small"] == f["complete_large"]
            running_ok = equal and f["large"] <= P3_LIMIT
            complete_ok = equal and f["complete_large"] <= P3_LIMIT
            verdict = ("equal at both sizes" if equal else "NOT equal") + (
                f"; <= {P3_LIMIT}: " + ("MET" if running_ok and complete_ok else
                                         "MET while running, NOT MET on the poke that finds it complete"
                                         if running_ok else "NOT MET"))
        lines.append(f"P3 {vendor:<10} {figures} | {verdict}")
    return lines


def write_results(results: dict[str, Any], started: float, argv: list[str]) -> None:
    from bench.p1_upload import PROFILE_DIR

    command = " ".join([COMMAND, *argv])
    lines = [
        "# Benchmark results (latest run)",
        "",
        f"Produced by `{command}` on {time.strftime('%Y-%m-%d %H:%M', time.localtime(started))}, "
        f"in {time.time() - started:.0f} s: Python {platform.python_version()}, {os.cpu_count()} cores, "
        f"{_airflow_version()}. The sandbox ran in its own process.",
        "",
        "Each figure is a ratio of two measurements taken side by side in this run; absolute rates",
        "vary from run to run on this shared machine. What bounds each figure is explained in",
        "docs/performance.md.",
        "",
        "```",
        *summary_lines(results),
        "```",
    ]
    for figures in results.get("P1", []):
        profile = Path(figures.get("profile", ""))
        if profile.is_file():
            text = [line.rstrip() for line in profile.read_text().splitlines() if line.strip()]
            lines += ["", f"## P1 profile: {figures['label']} (`{profile.relative_to(BENCH_DIR.parent)}`)", "",
                      "```", *text, "```"]
    RESULTS.write_text("\n".join(lines) + "\n")
    print(f"\nWrote {RESULTS} (profiles in {PROFILE_DIR})")


def _airflow_version() -> str:
    try:
        from airflow import __version__

        return f"Airflow {__version__}"
    except ImportError:  # pragma: no cover
        return "Airflow ?"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="P1: contacts per dialer")
    parser.add_argument("--small", type=int, default=10_000, help="P2: rows of the small file")
    parser.add_argument("--large", type=int, default=1_000_000, help="P2: rows of the large file")
    parser.add_argument("--requests", type=int, default=20_000, help="P5: requests per endpoint")
    parser.add_argument("--p6-rows", type=int, default=20_000, help="P6: contacts per dialer")
    parser.add_argument("--p7-rows", type=int, default=20_000, help="P7: ECM contacts, with files and per row")
    parser.add_argument("--import-runs", type=int, default=9, help="P4: fresh processes per variant")
    parser.add_argument("--only", default="", help="comma-separated subset, e.g. P1,P4")
    parser.add_argument("--no-write", action="store_true", help="do not rewrite bench/RESULTS.md")
    args = parser.parse_args(argv)
    wanted = [name.strip().upper() for name in args.only.split(",") if name.strip()] or list(BENCHMARKS)
    started = time.time()
    import logging

    logging.getLogger("airflow.task").setLevel(logging.WARNING)  # no per-poke progress lines from P3
    results: dict[str, Any] = {}
    for name in BENCHMARKS:
        if name in wanted:
            print(f"== {name}", flush=True)
            results[name] = BENCHMARKS[name](args)
    print("\n== Summary")
    for line in summary_lines(results):
        print(line)
    if not args.no_write:
        write_results(results, started, argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
