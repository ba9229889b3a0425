"""Shared fixtures: one sandbox per test session (real HTTP on localhost), reset before each test.

Some fixtures read settings from the requesting test module:

* ``HOOK_CLASS`` (required by ``hook``): the hook class the module tests, e.g. ``MaxContactHook``;
* ``HOOK_CONN_ID`` (optional): the connection ``hook`` uses, by default the class's default one;
* ``HOOK_RETRY_POLICY`` (optional): the retry policy of ``hook``, by default ``tests.support.FAST``
  (``None``: the hook's own default policy);
* ``DIALER_RETRY_POLICY`` (optional): the retry policy of ``fast_dialer_hooks``, by default ``FAST``.

A module marked ``pytestmark = pytest.mark.readings_profiles`` runs each of its sandbox tests once
per readings profile (``first``, ``second``: every silent point of the references read one way,
then the other; docs/readings.md); a test of it marked ``one_profile`` (a slow measurement whose
subject is not the readings) runs under ``first`` only. Other tests run under ``first``.

Plain helpers and constants (no fixtures) are in ``tests/support.py``.
"""

from __future__ import annotations

import functools
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_dialers.sandbox import Sandbox, SandboxClient
from airflow_provider_dialers.sandbox.core import SandboxConfig
from airflow_provider_dialers.sandbox.readings import PROFILES
from tests.support import FAST


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[Sandbox]:
    with Sandbox(config=SandboxConfig()) as server:
        # Connections come from AIRFLOW_CONN_* variables, as a user would set them (no metadata DB).
        os.environ.update(server.connection_env(timeout=5.0))
        yield server


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    definition = metafunc.definition
    if (definition.get_closest_marker("readings_profiles") and "sandbox" in metafunc.fixturenames
            and not definition.get_closest_marker("one_profile")):
        metafunc.parametrize("readings_profile", PROFILES, indirect=True)


@pytest.fixture
def readings_profile(request: pytest.FixtureRequest) -> str:
    """The sandbox's readings profile for this test: ``first`` unless the module runs both."""
    return getattr(request, "param", "first")


@pytest.fixture
def sandbox(sandbox_server: Sandbox, readings_profile: str) -> Iterator[Sandbox]:
    """The running sandbox, back in its seeded state, with no faults and a clean request log, reading
    the references' silent points as ``readings_profile`` says."""
    core = sandbox_server.core
    core.config.__dict__.update(SandboxConfig(readings_profile=readings_profile).__dict__)
    core.reset()
    yield sandbox_server
    core.faults.clear()


@pytest.fixture
def sandbox_client(sandbox: Sandbox) -> SandboxClient:
    return sandbox.client


@pytest.fixture
def make_connection(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch):
    """Define a connection ``conn_id`` as an ``AIRFLOW_CONN_*`` variable, e.g. with a wrong password.

    ``make_connection("ecm_bad", "expertflow_ecm", password="wrong")`` starts from the sandbox's
    default connection of that type and overrides the given fields (``extra`` is merged).
    """
    from airflow_provider_dialers.sandbox import SANDBOX_CONNECTIONS

    def factory(conn_id: str, conn_type: str, **overrides) -> str:
        base_id = next(cid for cid, (ctype, _, _) in SANDBOX_CONNECTIONS.items() if ctype == conn_type)
        conn = json.loads(os.environ[f"AIRFLOW_CONN_{base_id.upper()}"])
        extra = {**conn.get("extra", {}), **overrides.pop("extra", {})}
        conn.update(overrides)
        conn["extra"] = extra
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
        return conn_id

    return factory


# -- the live state of each vendor's sandbox -------------------------------------------------------


@pytest.fixture
def ecm(sandbox: Sandbox) -> Any:
    """The live ExpertFlow ECM sandbox state."""
    return sandbox.core.vendors["expertflow"]


@pytest.fixture
def mc(sandbox: Sandbox) -> Any:
    """The live MaxContact sandbox state."""
    return sandbox.core.vendors["maxcontact"]


@pytest.fixture
def obi(sandbox: Sandbox) -> Any:
    """The live Sinch OBI sandbox state."""
    return sandbox.core.vendors["sinch"]


@pytest.fixture
def ameyo(sandbox: Sandbox) -> Any:
    """The live Ameyo sandbox state."""
    return sandbox.core.vendors["ameyo"]


# -- hooks -----------------------------------------------------------------------------------------


@pytest.fixture
def hook(request: pytest.FixtureRequest, sandbox: Sandbox) -> Iterator[Any]:
    """The test module's ``HOOK_CLASS`` on the sandbox, with fast retries; closed after the test."""
    module = request.module
    conn_id = getattr(module, "HOOK_CONN_ID", None)
    with module.HOOK_CLASS(conn_id, retry_policy=getattr(module, "HOOK_RETRY_POLICY", FAST)) as dialer_hook:
        yield dialer_hook


@pytest.fixture
def fast_dialer_hooks(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every hook ``hooks.get_dialer_hook`` builds (for operators, sensors...) retries fast: with
    the module's ``DIALER_RETRY_POLICY``, else ``FAST``."""
    from airflow_provider_dialers import hooks

    policy = getattr(request.module, "DIALER_RETRY_POLICY", FAST)
    monkeypatch.setattr(hooks, "get_dialer_hook", functools.partial(hooks.get_dialer_hook, retry_policy=policy))


# -- a toy token-auth vendor (tests/toy_vendor.py) on a sandbox of its own -------------------------


@pytest.fixture(scope="module")
def toy_server() -> Iterator[Sandbox]:
    from tests.toy_vendor import ToySandbox

    with Sandbox(vendors=[ToySandbox]) as server:
        yield server


@pytest.fixture
def toy(toy_server: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """The toy sandbox in its seeded state, its connection ``toy_default`` defined; faults cleared after."""
    from tests.toy_vendor import TOY_LOGIN, TOY_PASSWORD

    toy_server.core.reset()
    conn = {"conn_type": "toy", "host": toy_server.url, "login": TOY_LOGIN, "password": TOY_PASSWORD,
            "extra": {"timeout": 2, "api_key": "must-not-become-a-header", "api_version": "9"}}
    monkeypatch.setenv("AIRFLOW_CONN_TOY_DEFAULT", json.dumps(conn))
    yield toy_server
    toy_server.core.faults.clear()


# -- reliability figures ---------------------------------------------------------------------------
# Suites record what they measured (contacts sent, duplicates, missing, logins, retries...); pytest
# prints every record in its closing summary, so CI output carries the figures.
def pytest_configure(config: pytest.Config) -> None:
    # The controller (or a run without pytest-xdist) names the run's figures file; xdist's workers,
    # started after this, inherit the variable and append to the same file.
    if not hasattr(config, "workerinput"):
        os.environ["DIALER_FIGURES_FILE"] = str(
            Path(tempfile.gettempdir()) / f"dialer-reliability-figures-{os.getpid()}.jsonl")


def _figures_file() -> Path:
    """Where this run's figures go: one file per run, shared by the workers and the process that
    prints them at the end."""
    return Path(os.environ["DIALER_FIGURES_FILE"])


@pytest.fixture
def reliability_report():
    """``reliability_report("R1 sinch faults", sent=20000, duplicates=0, ...)`` records figures."""

    def record(title: str, **figures) -> None:
        with _figures_file().open("a", encoding="utf-8") as out:
            out.write(json.dumps([title, figures], default=str) + "\n")

    return record


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if hasattr(config, "workerinput"):
        return  # the controller prints every worker's figures
    path = _figures_file()
    if not path.exists():
        return
    terminalreporter.section("reliability figures")
    for line in sorted(path.read_text(encoding="utf-8").splitlines()):
        title, figures = json.loads(line)
        terminalreporter.write_line(f"{title}: " + ", ".join(f"{k}={v}" for k, v in figures.items()))
    path.unlink()


class InMemoryVariables:
    """Stands in for ``airflow.sdk.Variable`` (get / set / delete, with the JSON options)."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get(self, key: str, default: Any = None, deserialize_json: bool = False) -> Any:
        if key not in self.values:
            return default
        return json.loads(self.values[key]) if deserialize_json else self.values[key]

    def set(self, key: str, value: Any, description: str | None = None, serialize_json: bool = False) -> None:
        self.values[key] = json.dumps(value) if serialize_json else str(value)

    def delete(self, key: str) -> None:
        self.values.pop(key, None)

    def record(self, conn_id: str) -> dict[str, Any] | None:
        from airflow_provider_dialers.operators.emergency import emergency_variable_key

        return self.get(emergency_variable_key(conn_id), deserialize_json=True)


@pytest.fixture
def variables(monkeypatch: pytest.MonkeyPatch) -> InMemoryVariables:
    """Airflow Variables in memory for the emergency operator (outside a task, ``Variable.set`` needs
    the task supervisor)."""
    from airflow_provider_dialers.operators import emergency

    store = InMemoryVariables()
    monkeypatch.setattr(emergency, "Variable", store)
    return store


# -- DAG runs: one long-lived dag.test() runner per session (tests/dag_runner.py) --------------------


@pytest.fixture(scope="session")
def dag_runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The child process that runs DAG files with Airflow's ``dag.test()`` (its own AIRFLOW_HOME and
    SQLite metadata DB), shared by the session's tests; see ``tests/dag_runner.py``."""
    from tests.dag_runner import DagRunner

    runner = DagRunner(tmp_path_factory.mktemp("dag-runner-home"))
    yield runner
    runner.stop()


@pytest.fixture(autouse=True, scope="module")
def _start_the_dag_runner_early(request: pytest.FixtureRequest) -> None:
    """Start the runner with the first test of a module that has selected tests using it: it warms up
    (about 20 s of Airflow start-up) on the other core while the module's first tests run."""
    module = request.module
    if any(getattr(item, "module", None) is module and "dag_runner" in getattr(item, "fixturenames", ())
           for item in request.session.items):
        request.getfixturevalue("dag_runner").start()
