"""Shared fixtures: one sandbox per test session (real HTTP on localhost), reset before each test."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from airflow_provider_dialers.sandbox import Sandbox, SandboxClient
from airflow_provider_dialers.sandbox.core import SandboxConfig


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[Sandbox]:
    with Sandbox(config=SandboxConfig()) as server:
        # Connections come from AIRFLOW_CONN_* variables, as a user would set them (no metadata DB).
        os.environ.update(server.connection_env(timeout=5.0))
        yield server


@pytest.fixture
def sandbox(sandbox_server: Sandbox) -> Iterator[Sandbox]:
    """The running sandbox, back in its seeded state, with no faults and a clean request log."""
    core = sandbox_server.core
    core.config.__dict__.update(SandboxConfig().__dict__)
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
    import json

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


# -- reliability figures ---------------------------------------------------------------------------
# Suites record what they measured (contacts sent, duplicates, missing, logins, retries...); pytest
# prints every record in its closing summary, so CI output carries the figures.
_RELIABILITY_FIGURES: list[tuple[str, dict]] = []


@pytest.fixture
def reliability_report():
    """``reliability_report("R1 sinch faults", sent=20000, duplicates=0, ...)`` records figures."""

    def record(title: str, **figures) -> None:
        _RELIABILITY_FIGURES.append((title, figures))

    return record


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _RELIABILITY_FIGURES:
        return
    terminalreporter.section("reliability figures")
    for title, figures in _RELIABILITY_FIGURES:
        terminalreporter.write_line(f"{title}: " + ", ".join(f"{k}={v}" for k, v in figures.items()))
