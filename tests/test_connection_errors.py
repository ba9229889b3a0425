"""Connection errors a newcomer can act on: each names the server's URL (never a credential) and the
cause; a scheme mismatch is said after one try; a host given with the API path still works."""

from __future__ import annotations

import json
import socket

import pytest

from airflow_provider_dialers.errors import DialerConfigurationError, DialerTransientError
from airflow_provider_dialers.hooks import get_dialer_hook
from airflow_provider_dialers.retry_policy import RetryPolicy

QUICK = RetryPolicy(max_attempts=2, backoff_initial=0.01, backoff_max=0.02)
PASSWORD = "conn-error-secret-1"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _connection(monkeypatch, conn_id: str, conn_type: str, host: str, **extra) -> str:
    conn = {"conn_type": conn_type, "host": host, "login": "user", "password": PASSWORD, "extra": extra}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
    return conn_id


def _hook(conn_id: str):
    sleeps: list[float] = []
    return get_dialer_hook(conn_id, retry_policy=QUICK, sleep=sleeps.append), sleeps


@pytest.mark.parametrize("conn_type", ["expertflow_ecm", "maxcontact", "sinch_obi", "ameyo"])
def test_a_refused_connection_names_the_url_and_the_cause(monkeypatch, conn_type):
    port = _closed_port()
    conn_id = _connection(monkeypatch, f"refused_{conn_type}", conn_type, f"http://user:{PASSWORD}@127.0.0.1:{port}")
    hook, _ = _hook(conn_id)
    with pytest.raises(DialerTransientError) as caught:
        hook.list_campaigns()
    message = str(caught.value)
    assert f"at http://127.0.0.1:{port}: connection refused: nothing listens on that host and port" in message
    assert "gave up after 2 attempts" in message and PASSWORD not in message


def test_an_unknown_host_is_named_as_a_dns_failure(monkeypatch):
    conn_id = _connection(monkeypatch, "dns_sinch", "sinch_obi", "https://no-such-dialer.invalid")
    hook, _ = _hook(conn_id)
    with pytest.raises(DialerTransientError, match=r"at https://no-such-dialer\.invalid: the host name could not "
                                                   r"be resolved \(DNS\)"):
        hook.list_campaigns()


@pytest.mark.parametrize("conn_type", ["expertflow_ecm", "sinch_obi"])
def test_https_against_a_plain_http_port_is_said_after_one_try(sandbox, sandbox_client, monkeypatch, conn_type):
    https_url = sandbox.url.replace("http://", "https://")
    conn_id = _connection(monkeypatch, f"scheme_{conn_type}", conn_type, https_url)
    hook, sleeps = _hook(conn_id)
    with pytest.raises(DialerConfigurationError, match="answers plain HTTP, not TLS; use http://") as caught:
        hook.list_campaigns()
    assert https_url.split("//")[1] in str(caught.value)
    assert sleeps == []  # not retried: the port will answer plain HTTP every time
    ok, message = get_dialer_hook(conn_id).test_connection()
    assert not ok and "answers plain HTTP" in message


@pytest.mark.parametrize(
    ("conn_type", "api_path"),
    [("expertflow_ecm", "/umm"), ("maxcontact", "/webservices/services"), ("sinch_obi", "/RI/obi"),
     ("ameyo", "/ameyowebaccess/")],
)
def test_a_host_given_with_the_api_path_is_read_as_the_server(sandbox, sandbox_client, make_connection,
                                                                conn_type, api_path):
    conn_id = make_connection(f"with_path_{conn_type}", conn_type, host=sandbox.url + api_path)
    hook = get_dialer_hook(conn_id)
    assert hook.url_from_endpoint("/x/y") == sandbox.url + "/x/y"
    assert hook.list_campaigns()  # no doubled path, no 404
    assert not [r for r in sandbox_client.requests() if r["status"] == 404]
