"""The hooks' transport (``hooks.transport``): requests' behaviour kept — proxies from the
environment, server cookies, the exceptions callers handle, re-login on a rejected credential —
without requests' per-call machinery. Over real HTTP (a local server and the sandbox)."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator

import pytest
import requests
import urllib3.exceptions

from airflow_provider_dialers.hooks import get_dialer_hook
from airflow_provider_dialers.hooks.transport import PooledTransport, as_requests_error, configure_session


class _CookieHandler(http.server.BaseHTTPRequestHandler):
    """Sets a cookie on /set, echoes the Cookie header it got on /echo."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        body = json.dumps({"cookie": self.headers.get("Cookie"), "path": self.path}).encode()
        self.send_response(200)
        if self.path == "/set":
            self.send_header("Set-Cookie", "JSESSIONID=abc123; Path=/")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def cookie_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CookieHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_cookie_the_server_sets_is_sent_back_as_requests_would(cookie_server):
    session = requests.Session()
    configure_session(session, cookie_server)
    transport = PooledTransport(session)
    first = transport.send(transport.prepare("GET", f"{cookie_server}/set"), timeout=5, verify=True)
    assert first.cookies.get("JSESSIONID") == "abc123"
    second = transport.send(transport.prepare("GET", f"{cookie_server}/echo", params={"a": "1 2"}), timeout=5,
                            verify=True)
    assert second.json() == {"cookie": "JSESSIONID=abc123", "path": "/echo?a=1+2"}
    assert second.status_code == 200 and second.request.method == "GET" and second.url.endswith("/echo?a=1+2")


def test_proxies_come_from_the_environment_once_and_no_proxy_is_honoured(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    proxied = requests.Session()
    configure_session(proxied, "https://dialer.example.com/api")
    assert proxied.proxies.get("https") == "http://proxy.example:3128"
    assert proxied.trust_env is False  # nothing is re-read from the environment per call
    direct = requests.Session()
    configure_session(direct, "https://internal.example/api")
    assert direct.proxies == {}
    named = requests.Session()
    named.proxies = {"https": "http://chosen.example:8080"}  # the connection's own 'proxies' extra wins
    configure_session(named, "https://dialer.example.com/api")
    assert named.proxies == {"https": "http://chosen.example:8080"}


def test_a_refused_connection_is_a_requests_connection_error_that_was_never_sent():
    session = requests.Session()
    configure_session(session, "http://127.0.0.1:9")
    transport = PooledTransport(session)
    with pytest.raises(requests.ConnectionError) as caught:
        transport.send(transport.prepare("GET", "http://127.0.0.1:9/x"), timeout=2, verify=True)
    assert isinstance(caught.value.args[0].reason, urllib3.exceptions.NewConnectionError)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (urllib3.exceptions.ProtocolError("Connection aborted."), requests.ConnectionError),
        (urllib3.exceptions.ReadTimeoutError(None, "/x", "read timed out"), requests.ReadTimeout),
        (urllib3.exceptions.SSLError("bad handshake"), requests.exceptions.SSLError),
        (urllib3.exceptions.DecodeError("bad gzip"), requests.exceptions.ContentDecodingError),
        (urllib3.exceptions.MaxRetryError(None, "/x", urllib3.exceptions.ConnectTimeoutError("slow")),
         requests.ConnectTimeout),
        (urllib3.exceptions.MaxRetryError(None, "/x", urllib3.exceptions.ProxyError("no", None)),
         requests.exceptions.ProxyError),
        (ConnectionResetError(104, "reset"), requests.ConnectionError),
    ],
)
def test_urllib3_errors_become_the_requests_errors_http_adapter_raises(error, expected):
    mapped = as_requests_error(error, requests.Request("GET", "http://x/").prepare())
    assert type(mapped) is expected


def test_an_unknown_error_is_left_as_it_is():
    error = ValueError("not a transport error")
    assert as_requests_error(error, requests.Request("GET", "http://x/").prepare()) is error


def test_the_hook_auth_still_works_as_a_requests_auth_on_a_users_own_call(sandbox, sandbox_client):
    hook = get_dialer_hook("expertflow_ecm_default")
    session = hook.get_conn()
    url = hook.url_from_endpoint("/umm/ecm/campaign")
    assert session.get(url, auth=hook.auth, timeout=10).status_code == 200
    sandbox_client.expire_credentials("expertflow")
    answer = session.get(url, auth=hook.auth, timeout=10)  # rejected, then re-login and one resend
    assert answer.status_code == 200 and len(answer.history) == 1
    assert hook.login_count == 2
    hook.close()


def test_calls_reuse_one_keep_alive_connection(sandbox, sandbox_client):
    hook = get_dialer_hook("sinch_obi_default")
    for _ in range(5):
        hook.list_campaigns()
    pools = list(hook.transport._pools.values())
    assert len(pools) == 1 and pools[0].num_connections == 1  # five calls, one TCP connection
    hook.close()
