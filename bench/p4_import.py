"""P4 "DAG-parse cost": what importing every operator and sensor module adds over ``import airflow.sdk``.

Runs fresh interpreters, interleaved so drift (CPU frequency, page cache) hits both sides alike:
(a) ``import airflow.sdk`` alone, (b) ``import airflow.sdk`` then every module of the package's
``operators`` and ``sensors``. Each child times its own imports (interpreter start-up excluded).
Target: the provider's imports add at most 100 ms (median over the (b) processes of the time after
``import airflow.sdk``), and load no heavy module (HTTP clients, FastAPI, phonenumbers' metadata).

The added time is measured inside each (b) process: ``import airflow.sdk`` varies by tens of ms
from one process to the next, which swamps a difference of two medians (it is reported too, with
the spread of (a), as a cross-check).

    python bench/p4_import.py [--runs N]

``AIRFLOW_HOME`` is passed through from the environment when set.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import pkgutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

TARGET_MS = 100.0
PACKAGE = "airflow_provider_dialers"
#: Must load only when a task runs (or in the triggerer / sandbox), never when a DAG file is parsed.
HEAVY_PREFIXES: tuple[str, ...] = (
    "aiohttp",
    "requests",
    "tenacity",
    "phonenumbers",
    "fastapi",
    "uvicorn",
    "starlette",
    "airflow.providers.http",
    "airflow_provider_dialers.hooks",  # the hook modules import requests / HttpHook
    "airflow_provider_dialers.sandbox",
)

# The child prints one JSON line: its timings and the heavy modules present after each step.
_CHILD = """
import json, sys, time
heavy = lambda: sorted(m for m in sys.modules if any(m == p or m.startswith(p + ".") for p in HEAVY))
start = time.perf_counter()
import airflow.sdk
sdk_done = time.perf_counter()
heavy_after_sdk = heavy()
for name in MODULES:
    __import__(name)
end = time.perf_counter()
print(json.dumps({"sdk_ms": (sdk_done - start) * 1000, "total_ms": (end - start) * 1000,
                  "provider_ms": (end - sdk_done) * 1000,
                  "heavy_after_sdk": heavy_after_sdk, "heavy_after_provider": heavy()}))
"""


def operator_and_sensor_modules() -> list[str]:
    """Every module of the package's ``operators`` and ``sensors``, found without importing them."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"{PACKAGE} is not installed in this interpreter ({sys.executable})")
    root = Path(next(iter(spec.submodule_search_locations)))
    return sorted(
        f"{PACKAGE}.{sub}.{info.name}"
        for sub in ("operators", "sensors")
        for info in pkgutil.iter_modules([str(root / sub)])
    )


def _child(modules: list[str]) -> dict[str, Any]:
    code = _CHILD.replace("HEAVY", repr(HEAVY_PREFIXES)).replace("MODULES", repr(modules))
    env = dict(os.environ)  # AIRFLOW_HOME, if set, reaches the child unchanged
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"child failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(runs: int = 9) -> dict[str, Any]:
    """Measure ``runs`` interleaved pairs of fresh processes; medians in ms and the verdict."""
    if runs < 1:
        raise ValueError(f"runs must be at least 1, got {runs}")
    modules = operator_and_sensor_modules()
    _child(modules)  # warm-up (bytecode caches, page cache), not counted
    sdk_alone: list[float] = []
    with_provider: list[float] = []
    in_process: list[float] = []
    heavy_by_provider: set[str] = set()
    heavy_by_sdk: set[str] = set()
    for _ in range(runs):
        sdk_alone.append(_child([])["sdk_ms"])
        sample = _child(modules)
        with_provider.append(sample["total_ms"])
        in_process.append(sample["provider_ms"])
        heavy_by_sdk.update(sample["heavy_after_sdk"])
        heavy_by_provider.update(set(sample["heavy_after_provider"]) - set(sample["heavy_after_sdk"]))
    sdk_ms = statistics.median(sdk_alone)
    with_provider_ms = statistics.median(with_provider)
    added_ms = statistics.median(in_process)
    return {
        "runs": runs,
        "modules": modules,
        "sdk_ms": round(sdk_ms, 1),
        "with_provider_ms": round(with_provider_ms, 1),
        "added_ms": round(added_ms, 1),
        # Cross-check only: noisy, since (a) and (b) are different processes.
        "added_between_medians_ms": round(with_provider_ms - sdk_ms, 1),
        "sdk_spread_ms": round(max(sdk_alone) - min(sdk_alone), 1),
        "heavy_loaded": sorted(_roots(heavy_by_provider)),
        "heavy_loaded_by_sdk": sorted(_roots(heavy_by_sdk)),  # airflow.sdk's own, not the provider's
        "target_ms": TARGET_MS,
        "met": added_ms <= TARGET_MS and not heavy_by_provider,
    }


def _roots(modules: set[str]) -> set[str]:
    """The heavy prefixes the given modules fall under (``requests.adapters`` -> ``requests``)."""
    return {p for p in HEAVY_PREFIXES for m in modules if m == p or m.startswith(p + ".")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9,
                        help="interleaved pairs of fresh processes (default 9)")
    args = parser.parse_args(argv)
    result = run(args.runs)
    print(f"AIRFLOW_HOME={os.environ.get('AIRFLOW_HOME', '(unset)')}  runs={result['runs']}  "
          f"modules={len(result['modules'])}")
    print(f"(a) import airflow.sdk:                    median {result['sdk_ms']:.1f} ms "
          f"(spread {result['sdk_spread_ms']:.1f} ms)")
    print(f"(b) import airflow.sdk + operators/sensors: median {result['with_provider_ms']:.1f} ms "
          f"((b) - (a): {result['added_between_medians_ms']:+.1f} ms, noisy)")
    print(f"heavy modules loaded by the provider: {result['heavy_loaded'] or 'none'}"
          f"  (already loaded by airflow.sdk: {result['heavy_loaded_by_sdk'] or 'none'})")
    verdict = "met" if result["met"] else "NOT met"
    print(f"P4 parse cost: +{result['added_ms']:.1f} ms over airflow.sdk "
          f"(target ≤ {TARGET_MS:.0f} ms): {verdict}")
    return 0 if result["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
