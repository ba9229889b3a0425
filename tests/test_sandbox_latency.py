"""The sandbox's per-request latency: a dialer across a network, for the benchmarks."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import requests

from airflow_provider_dialers.sandbox import SandboxClient


def test_latency_delays_every_vendor_request_and_not_the_admin_api(sandbox_client: SandboxClient, sandbox) -> None:
    sandbox_client.configure(latency_ms=150)
    started = time.perf_counter()
    answer = requests.get(f"{sandbox.url}/umm/api/health", timeout=10)  # any vendor path: the log records it
    waited = time.perf_counter() - started
    assert waited >= 0.145, waited  # a lower bound only: the sleep guarantees it, load cannot break it
    assert answer.status_code in (200, 401, 404)
    assert sandbox_client.requests(path="/umm/api/health")
    assert sandbox_client.configure(latency_ms=0)["latency_ms"] == 0


def test_the_command_line_takes_a_latency() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "airflow_provider_dialers.sandbox", "--port", str(port),
                               "--latency-ms", "200"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                config = requests.get(f"{base}/_sandbox/config", timeout=2).json()
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "the sandbox did not start"
                time.sleep(0.2)
        assert config["latency_ms"] == 200
        started = time.perf_counter()
        requests.get(f"{base}/umm/api/health", timeout=10)
        assert time.perf_counter() - started >= 0.195
    finally:
        server.terminate()
        server.wait(timeout=30)
