"""One HTTP contract: every hook call goes through the hook's ``requests.Session`` (``Session.send`` over
the adapter HttpHook mounted), so what requests users rely on holds — server cookies kept, proxies
from the environment resolved once, the session's auth, keep-alive connections — and a user's own
``responses`` or ``requests-mock`` stub intercepts every call, the login included."""

from __future__ import annotations

import base64
import http.server
import json
import threading
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import requests_mock
import responses

from airflow_provider_dialers.hooks import get_dialer_hook
from airflow_provider_dialers.hooks.ameyo import AmeyoHook
from airflow_provider_dialers.hooks.expertflow import ExpertflowEcmHook
from airflow_provider_dialers.hooks.maxcontact import MaxContactHook
from airflow_provider_dialers.hooks.sinch import SinchObiHook

STUB_HOST = "https://dialer.example.com"


class _CookieHandler(http.server.BaseHTTPRequestHandler):
    """Sets a cookie on /set, echoes the Cookie header it got on /echo."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        body = json.dumps({"cookie": self.headers.get("Cookie"), "path": self.path}).encode()
        self.send_response(200)
        if self.path == "/RI/obi/set":
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


@pytest.fixture
def stub_connections(monkeypatch) -> None:
    """One connection per vendor at a host nothing listens on: only a stub can answer."""
    for conn_id, conn_type, extra in [
        ("stub_ecm", "expertflow_ecm", {"api_version": "13.3"}),
        ("stub_maxcontact", "maxcontact", {}),
        ("stub_sinch", "sinch_obi", {"api_key": "stub-api-key-1"}),
        ("stub_ameyo", "ameyo", {"terminal": "127.0.0.1"}),
    ]:
        conn = {"conn_type": conn_type, "host": STUB_HOST, "login": "stub-user", "password": "stub-password-1",
                "extra": extra}
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))


def test_a_cookie_the_server_sets_is_kept_by_the_session_and_sent_back(cookie_server, monkeypatch):
    conn = {"conn_type": "sinch_obi", "host": cookie_server, "login": "u", "password": "cookie-test-pw"}
    monkeypatch.setenv("AIRFLOW_CONN_COOKIE_SINCH", json.dumps(conn))
    hook = SinchObiHook("cookie_sinch")
    first = hook.request("GET", "/RI/obi/set", retry_safe=True)
    assert first.cookies.get("JSESSIONID") == "abc123"
    second = hook.request("GET", "/RI/obi/echo", retry_safe=True, params={"a": "1 2"})
    assert second.json() == {"cookie": "JSESSIONID=abc123", "path": "/RI/obi/echo?a=1+2"}
    hook.close()


def test_proxies_come_from_the_environment_once_and_no_proxy_is_honoured(stub_connections, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    session = SinchObiHook("stub_sinch").get_conn()
    assert session.proxies.get("https") == "http://proxy.example:3128"
    assert session.trust_env is False  # nothing is re-read from the environment per call

    monkeypatch.setenv("NO_PROXY", "dialer.example.com")
    assert SinchObiHook("stub_sinch").get_conn().proxies == {}

    own = {"conn_type": "sinch_obi", "host": STUB_HOST, "login": "u", "password": "proxy-test-pw",
           "extra": {"proxies": {"https": "http://chosen.example:8080"}}}
    monkeypatch.setenv("AIRFLOW_CONN_OWN_PROXY", json.dumps(own))
    assert SinchObiHook("own_proxy").get_conn().proxies == {"https": "http://chosen.example:8080"}


def test_extras_are_settings_never_headers(stub_connections):
    session = SinchObiHook("stub_sinch").get_conn()
    assert "api_key" not in session.headers and "stub-api-key-1" not in session.headers.values()
    assert ExpertflowEcmHook("stub_ecm").get_conn().headers.get("api_version") is None


def test_the_session_carries_the_hook_auth_so_a_users_own_call_is_authenticated(sandbox, sandbox_client):
    hook = get_dialer_hook("expertflow_ecm_default")
    session = hook.get_conn()
    assert session.auth is hook.auth
    url = hook.url_from_endpoint("/umm/ecm/campaign")
    assert session.get(url, timeout=10).status_code == 200
    sandbox_client.expire_credentials("expertflow")
    answer = session.get(url, timeout=10)  # rejected, then re-login and one resend
    assert answer.status_code == 200 and len(answer.history) == 1
    assert hook.login_count == 2
    hook.close()


def test_calls_reuse_one_keep_alive_connection(sandbox):
    hook = get_dialer_hook("sinch_obi_default")
    for _ in range(5):
        hook.list_campaigns()
    adapter = hook.get_conn().get_adapter(hook.url_from_endpoint(""))
    pools = list(adapter.poolmanager.pools._container.values())
    assert len(pools) == 1 and pools[0].num_connections == 1  # five calls, one TCP connection
    hook.close()


# -- a user's stubs intercept every call -------------------------------------------------------------


def _ameyo_command(request) -> tuple[str, dict]:
    form = parse_qs(request.body if isinstance(request.body, str) else request.body.decode())
    return form["command"][0], json.loads(form["data"][0])


def _register_vendor_stubs(add) -> None:
    """``add(method, url, json_or_callable)`` for a login and one read per vendor."""
    add("GET", f"{STUB_HOST}/umm/api/login",
        {"token": "ecm-stub-token", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "ecm-stub-refresh"})
    add("GET", f"{STUB_HOST}/umm/ecm/campaign", [{"id": 7, "name": "Spring", "status": "1"}])
    add("GET", f"{STUB_HOST}/webservices/services/apitoken/login/stub-user", {"TokenKey": "mc-stub-token"})
    add("GET", f"{STUB_HOST}/webservices/services/management/campaigns",
        {"Success": True, "Data": [{"Id": 3, "CampaignName": "Winter", "Status": 1}]})
    add("GET", f"{STUB_HOST}/RI/obi/campaigns", [{"id": "c0ffee", "name": "Autumn", "status": "Active"}])

    def ameyo(request) -> dict:
        command, data = _ameyo_command(request)
        if command == "login":
            return {"sessionId": "ameyo-stub-session", "userId": "stub-user", "sessionTimeout": 180000,
                    "campaignInfos": [{"campaignId": 11, "campaignName": "Summer", "campaignType": "Outbound"}]}
        assert data["sessionId"] == "ameyo-stub-session"
        return [{"leadId": 5, "campaignId": 11, "enabled": True, "maxAttempt": 3}]

    add("POST", f"{STUB_HOST}/ameyowebaccess/command", ameyo)


def _exercise_every_vendor() -> dict[str, object]:
    results: dict[str, object] = {}
    for name, hook in [("ecm", ExpertflowEcmHook("stub_ecm")), ("maxcontact", MaxContactHook("stub_maxcontact")),
                       ("sinch", SinchObiHook("stub_sinch"))]:
        results[name] = [(c["id"], c["name"], c["running"]) for c in hook.list_campaigns()]
        assert hook.login_count == 1, name
    ameyo = AmeyoHook("stub_ameyo")
    results["ameyo"] = [(lead.lead_id, lead.max_attempt) for lead in ameyo.get_leads_for_campaign(11)]
    return results


EXPECTED = {
    "ecm": [("7", "Spring", True)],
    "maxcontact": [("3", "Winter", True)],
    "sinch": [("c0ffee", "Autumn", True)],
    "ameyo": [(5, 3)],
}


def test_a_users_responses_stub_intercepts_every_vendors_calls_login_included(stub_connections):
    with responses.RequestsMock(assert_all_requests_are_fired=True) as stub:

        def add(method: str, url: str, answer) -> None:
            if callable(answer):
                stub.add_callback(method, url, callback=lambda request: (200, {}, json.dumps(answer(request))))
            else:
                stub.add(method, url, json=answer)

        _register_vendor_stubs(add)
        assert _exercise_every_vendor() == EXPECTED
        calls = [(call.request.method, call.request.url.split("?")[0]) for call in stub.calls]
        headers = {urlsplit(call.request.url).path: call.request.headers for call in stub.calls}
    assert ("GET", f"{STUB_HOST}/umm/api/login") in calls
    assert ("GET", f"{STUB_HOST}/webservices/services/apitoken/login/stub-user") in calls
    assert headers["/umm/ecm/campaign"]["Authorization"] == "Bearer ecm-stub-token"
    assert headers["/webservices/services/management/campaigns"]["Cookie"] == "TokenKey=mc-stub-token"
    sinch = headers["/RI/obi/campaigns"]
    assert sinch["Authorization"] == "Basic " + base64.b64encode(b"stub-user:stub-password-1").decode()
    assert sinch["x-api-key"] == "stub-api-key-1"


def test_a_users_requests_mock_stub_intercepts_every_vendors_calls_login_included(stub_connections):
    with requests_mock.Mocker() as stub:

        def add(method: str, url: str, answer) -> None:
            if callable(answer):
                stub.register_uri(method, url, json=lambda request, context: answer(request))
            else:
                stub.register_uri(method, url, json=answer)

        _register_vendor_stubs(add)
        assert _exercise_every_vendor() == EXPECTED
        paths = [request.path for request in stub.request_history]
    assert "/umm/api/login" in paths and "/webservices/services/apitoken/login/stub-user" in paths
    assert paths.count("/ameyowebaccess/command") == 2  # login, then the read


def test_a_stubbed_401_is_followed_by_one_re_login_through_the_stub(stub_connections):
    with responses.RequestsMock() as stub:
        stub.add("GET", f"{STUB_HOST}/umm/api/login", json={"token": "first-stub-token", "expires_in": 3600})
        stub.add("GET", f"{STUB_HOST}/umm/ecm/campaign", status=401, json={"message": "expired"})
        stub.add("GET", f"{STUB_HOST}/umm/api/login", json={"token": "second-stub-token", "expires_in": 3600})
        stub.add("GET", f"{STUB_HOST}/umm/ecm/campaign", json=[])
        hook = ExpertflowEcmHook("stub_ecm")
        assert hook.list_campaigns() == []
        assert hook.login_count == 2
        assert stub.calls[-1].request.headers["Authorization"] == "Bearer second-stub-token"


def test_a_request_without_a_stub_is_refused_by_the_stub_not_sent(stub_connections):
    with responses.RequestsMock(assert_all_requests_are_fired=False):
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(f"{STUB_HOST}/anything", timeout=1)
