"""The benchmarks still run end to end (tiny sizes; no timing is checked: figures on a shared machine
are noisy, and ratios belong in bench/RESULTS.md, not in a test)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_runs_every_measurement_and_prints_a_ratio_per_target(tmp_path):
    env = {**os.environ, "DIALER_BENCH_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--rows", "300", "--small", "200", "--large", "2000",
         "--requests", "200", "--import-runs", "1", "--p6-rows", "600", "--p7-rows", "300", "--only", "P1,P2,P4,P5,P6,P7",
         "--no-write"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = done.stdout[done.stdout.index("== Summary"):]
    for label in ("P1 ExpertFlow ECM", "P1 Sinch OBI", "P1 Ameyo", "P2 peak RSS", "P4 DAG-parse", "P5 sandbox"):
        assert label in summary, label
    assert summary.count("x serial loop") == 6 and summary.count("x sandbox capacity") == 3  # P1 at 0 ms
    assert summary.count("x the ceiling") == 3  # P1 at 20 ms
    assert summary.count("P6 ") == 2 and summary.count("with adaptive concurrency vs fixed") == 2  # Sinch, Ameyo
    assert summary.count("P7 ECM bulk at 20 ms") == 1 and "x one insertCallback per contact" in summary
    assert (tmp_path / "p1_expertflow_0.csv").is_file()  # the sizes asked for were used
    assert sum(1 for _ in (tmp_path / "p1_expertflow_0.csv").open()) == 301
