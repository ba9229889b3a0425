"""The sandbox's generic machinery: admin API, fault rules, request log, runners, CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import requests

from airflow_provider_dialers.sandbox import Sandbox, connection_env
from airflow_provider_dialers.sandbox.core import DEFAULT_CREDENTIALS, CredentialStore, SandboxConfig, SandboxCore


def test_health_config_and_unknown_config_key(toy):
    client = toy.client
    assert client.health() == {"ok": True, "vendors": ["toy"]}
    assert client.configure(dial_rate=5)["dial_rate"] == 5
    response = requests.put(f"{toy.url}/_sandbox/config", json={"no_such_knob": 1}, timeout=5)
    assert response.status_code == 400 and "no_such_knob" in response.text
    client.configure(dial_rate=0)


def test_fault_rules_fire_count_times_then_vanish(toy):
    client = toy.client
    rule = client.add_fault(vendor="toy", path="^/toy/items$", method="GET", status=418, count=2)
    assert rule["id"] > 0 and client.state("toy") == {"items": []}
    codes = [requests.get(f"{toy.url}/toy/items", timeout=5).status_code for _ in range(3)]
    assert codes == [418, 418, 401]  # the third reaches the vendor (no token)
    assert toy.client._call("GET", "/faults") == []


def test_fault_rule_matching_by_method_and_vendor(toy):
    toy.client.add_fault(vendor="other", status=500, count=None)
    toy.client.add_fault(method="POST", status=500, count=None)
    assert requests.get(f"{toy.url}/toy/items", timeout=5).status_code == 401
    assert requests.post(f"{toy.url}/toy/items", json={}, timeout=5).status_code == 500
    toy.client.clear_faults()
    assert requests.post(f"{toy.url}/toy/items", json={}, timeout=5).status_code == 401


def test_probabilistic_faults_are_deterministic_for_a_seed():
    def pattern() -> list[bool]:
        core = SandboxCore(SandboxConfig(seed=3), [])
        core.add_fault(status=503, count=None, probability=0.3)
        return [core.take_fault(None, "GET", "/x") is not None for _ in range(200)]

    first = pattern()
    assert first == pattern()
    assert 30 <= sum(first) <= 90  # about 30 % of 200


def test_unknown_fault_action_is_refused(toy):
    response = requests.post(f"{toy.url}/_sandbox/faults", json={"action": "explode"}, timeout=5)
    assert response.status_code == 400 and "explode" in response.text


def test_status_fault_with_custom_body_and_retry_after(toy):
    toy.client.add_fault(vendor="toy", status=503, retry_after=9, body="<html>down</html>", content_type="text/html")
    response = requests.get(f"{toy.url}/toy/items", timeout=5)
    assert (response.status_code, response.headers["Retry-After"], response.text) == (503, "9", "<html>down</html>")


def test_connection_reset_is_a_real_tcp_reset(toy):
    toy.client.add_fault(vendor="toy", action="reset")
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{toy.url}/toy/items", timeout=5)
    assert requests.get(f"{toy.url}/_sandbox/health", timeout=5).ok  # the server lives on


def test_request_log_records_vendor_requests_but_not_admin_calls(toy):
    requests.get(f"{toy.url}/toy/items?page=2", timeout=5)
    toy.client.health()
    log = toy.client.requests()
    assert [(r["vendor"], r["method"], r["path"], r["query"], r["status"]) for r in log] == [
        ("toy", "GET", "/toy/items", "page=2", 401)
    ]
    assert toy.client.requests(since=log[-1]["seq"]) == []
    toy.client.clear_requests()
    assert toy.client.requests() == []


def test_expire_credentials_counts_expiries_per_vendor():
    store = CredentialStore()
    token = store.issue("toy", "u", ttl=100)
    store.issue("other", "u")
    assert store.check("toy", token) is not None
    assert store.check("other", token) is None  # a token is only good for its vendor
    assert store.expire_all("toy") == 1
    assert store.check("toy", token) is None
    assert dict(store.expiries) == {"toy": 1} and store.active() == 1


def test_idle_timeout_expires_an_unused_credential(monkeypatch):
    import airflow_provider_dialers.sandbox.core as core_module

    now = [1000.0]
    monkeypatch.setattr(core_module.time, "monotonic", lambda: now[0])
    store = CredentialStore()
    token = store.issue("toy", "u", idle_timeout=180)
    now[0] += 170
    assert store.check("toy", token) is not None  # used: the idle timer restarts
    now[0] += 170
    assert store.check("toy", token) is not None
    now[0] += 181
    assert store.check("toy", token) is None


def test_reset_restores_the_seed_and_clears_faults(toy):
    toy.core.vendors["toy"].items.append({"name": "x"})
    toy.client.add_fault(status=500, count=None)
    toy.client.reset()
    assert toy.client.state("toy") == {"items": []}
    assert toy.client.stats()["faults_pending"] == 0


def test_connection_env_points_every_default_connection_at_the_sandbox():
    env = connection_env("http://127.0.0.1:1234")
    assert set(env) == {
        "AIRFLOW_CONN_EXPERTFLOW_ECM_DEFAULT", "AIRFLOW_CONN_EXPERTFLOW_ECM_132", "AIRFLOW_CONN_MAXCONTACT_DEFAULT",
        "AIRFLOW_CONN_SINCH_OBI_DEFAULT", "AIRFLOW_CONN_AMEYO_DEFAULT",
    }
    sinch = json.loads(env["AIRFLOW_CONN_SINCH_OBI_DEFAULT"])
    assert sinch["host"] == "http://127.0.0.1:1234" and sinch["conn_type"] == "sinch_obi"
    assert sinch["extra"]["api_key"] == DEFAULT_CREDENTIALS["sinch"]["api_key"]
    assert json.loads(env["AIRFLOW_CONN_EXPERTFLOW_ECM_132"])["extra"]["api_version"] == "13.2"


def test_cli_prints_connection_exports_without_starting_a_server():
    out = subprocess.run(
        [sys.executable, "-m", "airflow_provider_dialers.sandbox", "--port", "8123", "--print-env"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout
    assert "export AIRFLOW_CONN_AMEYO_DEFAULT=" in out and "http://127.0.0.1:8123" in out


def test_sandbox_as_a_child_process_serves_and_stops():
    sandbox = Sandbox(in_process=False).start()
    try:
        health = sandbox.client.health()
        assert health["ok"] and set(health["vendors"]) == {"expertflow", "maxcontact", "sinch", "ameyo"}
        process = sandbox._process
    finally:
        sandbox.stop()
    assert process.poll() is not None  # nothing left running
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{sandbox.url}/_sandbox/health", timeout=2)
