"""DAG-parse cost (P4): operator, sensor and provider-info imports stay light. Not timed.

Each check runs in a fresh interpreter, since this test process has long since imported everything.
A module counts as heavy only when the provider's imports load it: ``import airflow.sdk`` itself
already loads some (``tenacity``, the ``airflow.providers.http`` package) and that is not ours.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import airflow_provider_dialers
from bench.p4_import import HEAVY_PREFIXES  # one list for the test and the benchmark

PACKAGE_DIR = Path(airflow_provider_dialers.__file__).parent
EXAMPLE_DAGS = sorted((Path(__file__).parents[1] / "example_dags").glob("*.py"))


def _modules_of(subpackage: str) -> list[str]:
    return sorted(
        f"airflow_provider_dialers.{subpackage}.{path.stem}"
        for path in (PACKAGE_DIR / subpackage).glob("*.py")
        if path.stem != "__init__"
    )


OPERATOR_AND_SENSOR_MODULES = _modules_of("operators") + _modules_of("sensors")


#: Run in the child: prints the heavy modules ``CODE`` loads beyond what ``import airflow.sdk`` loads.
_CHILD = """
import json, sys
import airflow.sdk
before = set(sys.modules)
CODE
heavy_prefixes = HEAVY_PREFIXES
def is_heavy(module):
    return any(module == p or module.startswith(p + ".") for p in heavy_prefixes)
print(json.dumps(sorted(m for m in set(sys.modules) - before if is_heavy(m))))
"""


def _heavy_loaded_after_sdk(code: str) -> list[str]:
    """Heavy modules that ``code`` loads in a fresh interpreter beyond what ``import airflow.sdk`` loads."""
    script = _CHILD.replace("HEAVY_PREFIXES", repr(HEAVY_PREFIXES)).replace("CODE", code)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ), check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_package_has_operator_and_sensor_modules_to_check():
    assert "airflow_provider_dialers.operators.upload" in OPERATOR_AND_SENSOR_MODULES
    assert "airflow_provider_dialers.sensors.contact" in OPERATOR_AND_SENSOR_MODULES


def test_importing_every_operator_and_sensor_module_loads_nothing_heavy():
    code = f"for name in {OPERATOR_AND_SENSOR_MODULES!r}: __import__(name)"
    assert _heavy_loaded_after_sdk(code) == []


def test_provider_info_loads_nothing_heavy():
    code = "from airflow_provider_dialers.get_provider_info import get_provider_info; get_provider_info()"
    assert _heavy_loaded_after_sdk(code) == []


@pytest.mark.parametrize("dag_file", EXAMPLE_DAGS, ids=[path.stem for path in EXAMPLE_DAGS])
def test_parsing_an_example_dag_loads_nothing_heavy(dag_file: Path):
    # Building the operators and sensors (their __init__) is part of DAG parsing too.
    code = f"import runpy; runpy.run_path({str(dag_file)!r})"
    assert _heavy_loaded_after_sdk(code) == []


def test_errors_reexported_by_hooks_base_are_the_same_objects():
    from airflow_provider_dialers import errors
    from airflow_provider_dialers.hooks import base

    for name in errors.__all__:
        assert getattr(base, name) is getattr(errors, name), name


def test_a_sensor_given_a_retry_policy_at_parse_loads_nothing_heavy():
    code = (
        "from airflow_provider_dialers.sensors import CampaignCompletionSensor\n"
        "CampaignCompletionSensor(task_id='wait', dialer_conn_id='sinch_obi_default', campaign_id='c',"
        " retry_policy={'max_attempts': 2})"
    )
    assert _heavy_loaded_after_sdk(code) == []


def test_retry_policy_reexported_by_hooks_base_is_the_same_class():
    from airflow_provider_dialers import retry_policy
    from airflow_provider_dialers.hooks import base

    assert base.RetryPolicy is retry_policy.RetryPolicy
