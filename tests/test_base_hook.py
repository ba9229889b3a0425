"""The shared mechanism (hooks/base.py) over real HTTP, with a toy token-auth vendor."""

from __future__ import annotations

import json
import threading
import time

import pytest

from airflow_provider_dialers.hooks.base import (
    Credential,
    DialerAuthError,
    DialerError,
    DialerRequestError,
    DialerResponseError,
    DialerTransientError,
    RetryPolicy,
    parse_retry_after,
    redact,
    register_secret,
)
from airflow_provider_dialers.sandbox import Sandbox
from tests.toy_vendor import TOY_LOGIN, TOY_PASSWORD, ToyHook

#: Unlike ``tests.support.FAST``: at most four attempts (tests below count them).
FAST = RetryPolicy(max_attempts=4, backoff_initial=0.01, backoff_max=0.05)


def make_hook(**kwargs) -> ToyHook:
    hook = ToyHook(retry_policy=kwargs.pop("retry_policy", FAST), **kwargs)
    hook.sleeps = []
    hook.sleep = hook.sleeps.append  # record waits instead of sleeping
    return hook


def toy_requests(server: Sandbox, path: str = "/toy/") -> list[dict]:
    return server.client.requests(vendor="toy", path=path)


# -- credential lifecycle -------------------------------------------------------------------


def test_one_login_serves_many_calls(toy):
    hook = make_hook()
    for name in "abcde":
        hook.add_item(name)
    assert len(hook.list_items()) == 5
    assert hook.login_count == 1
    assert toy.client.stats()["logins"]["toy"] == 1


def test_expired_credential_is_renewed_by_exactly_one_login(toy):
    hook = make_hook()
    hook.list_items()
    toy.client.expire_credentials("toy")
    assert hook.list_items() == []
    assert hook.login_count == 2
    statuses = [r["status"] for r in toy_requests(toy, "/toy/items")]
    assert statuses == [200, 401, 200]


def test_credential_past_its_expiry_is_renewed_before_the_call(toy):
    hook = make_hook()
    hook.list_items()
    hook.auth._credential = Credential(hook.auth._credential.value, expires_at=time.monotonic() - 1)
    hook.list_items()
    assert hook.login_count == 2
    assert 401 not in [r["status"] for r in toy_requests(toy, "/toy/items")]


def test_concurrent_calls_share_one_relogin(toy):
    hook = make_hook()
    hook.list_items()
    toy.client.expire_credentials("toy")
    errors: list[BaseException] = []

    def call() -> None:
        try:
            hook.list_items()
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert hook.login_count == 2


def test_wrong_password_raises_auth_error_without_the_secret(toy, monkeypatch):
    conn = json.loads(__import__("os").environ["AIRFLOW_CONN_TOY_DEFAULT"])
    conn["password"] = "wrong-password-123"
    monkeypatch.setenv("AIRFLOW_CONN_TOY_DEFAULT", json.dumps(conn))
    hook = make_hook()
    with pytest.raises(DialerAuthError) as info:
        hook.list_items()
    text = str(info.value)
    assert "login refused" in text
    assert "wrong-password-123" not in text and TOY_PASSWORD not in text


def test_fresh_credential_rejected_again_fails_clearly(toy):
    toy.core.vendors["toy"].reject_all_tokens = True
    hook = make_hook()
    with pytest.raises(DialerAuthError, match="rejected a freshly obtained credential"):
        hook.list_items()
    assert hook.login_count == 1 + hook.auth.max_renewals  # the first token, then a bounded few re-logins


# -- retries ------------------------------------------------------------------------------


def test_503_is_retried_then_succeeds(toy):
    hook = make_hook()
    hook.list_items()
    toy.client.add_fault(vendor="toy", path="/items", status=503, count=2)
    assert hook.list_items() == []
    assert len(hook.sleeps) == 2
    assert [r["status"] for r in toy_requests(toy, "/toy/items")][-3:] == [503, 503, 200]


def test_retry_after_is_honoured_and_capped(toy):
    hook = make_hook(retry_policy=RetryPolicy(max_attempts=4, backoff_initial=0.01, retry_after_cap=30))
    hook.list_items()
    toy.client.add_fault(vendor="toy", path="/items", status=429, retry_after=7, count=1)
    toy.client.add_fault(vendor="toy", path="/items", status=503, retry_after=500, count=1)
    hook.list_items()
    assert hook.sleeps == [7, 30]


def test_retry_after_parsing():
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    in_a_minute = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 60))
    assert 55 <= parse_retry_after(in_a_minute) <= 61


def test_exhausted_retries_raise_transient_error(toy):
    hook = make_hook()
    hook.list_items()
    toy.client.add_fault(vendor="toy", path="/items", status=503, count=10)
    with pytest.raises(DialerTransientError, match="gave up after 4 attempts") as info:
        hook.list_items()
    assert info.value.may_have_been_processed is False
    assert len(hook.sleeps) == 3


def test_503_on_a_create_is_retried_because_it_was_not_processed(toy):
    hook = make_hook()
    toy.client.add_fault(vendor="toy", path="/items", method="POST", status=503, count=1)
    assert hook.add_item("x") == 1
    assert len(toy.core.vendors["toy"].items) == 1


def test_502_on_a_create_is_not_resent(toy):
    hook = make_hook()
    toy.client.add_fault(vendor="toy", path="/items", method="POST", status=502, count=1)
    with pytest.raises(DialerTransientError) as info:
        hook.add_item("x")
    assert info.value.may_have_been_processed is True
    assert len([r for r in toy_requests(toy, "/toy/items") if r["method"] == "POST"]) == 1


def test_reset_before_processing_is_recovered_on_a_read(toy):
    hook = make_hook()
    hook.list_items()
    toy.client.add_fault(vendor="toy", path="/items", action="reset", count=1)
    assert hook.list_items() == []


def test_reset_after_processing_a_create_is_not_resent(toy):
    hook = make_hook()
    hook.list_items()
    toy.client.add_fault(vendor="toy", path="/items", method="POST", action="reset", after_processing=True)
    with pytest.raises(DialerTransientError, match="may have processed") as info:
        hook.add_item("once")
    assert info.value.may_have_been_processed is True
    assert toy.core.vendors["toy"].items == [{"name": "once"}]  # processed, and sent exactly once
    assert len([r for r in toy_requests(toy, "/toy/items") if r["method"] == "POST"]) == 1


def test_answer_delayed_past_the_timeout_is_retried_on_a_read(toy):
    hook = make_hook()
    hook.list_items()
    toy.client.add_fault(vendor="toy", path="/items", action="delay", delay=3, count=1)  # timeout is 2 s
    assert hook.list_items() == []
    assert len(hook.sleeps) == 1


def test_unreachable_host_is_a_transient_error_never_processed(toy, monkeypatch):
    conn = {"conn_type": "toy", "host": "http://127.0.0.1:9", "login": TOY_LOGIN, "password": TOY_PASSWORD}
    monkeypatch.setenv("AIRFLOW_CONN_TOY_DEFAULT", json.dumps(conn))
    hook = make_hook()
    with pytest.raises(DialerTransientError) as info:
        hook.add_item("x")
    assert info.value.may_have_been_processed is False
    assert len(hook.sleeps) == FAST.max_attempts - 1


def test_validation_error_is_not_retried(toy):
    hook = make_hook()
    with pytest.raises(DialerRequestError) as info:
        hook.add_item(None)
    assert info.value.status_code == 400
    assert "name is required" in str(info.value)
    assert hook.sleeps == []
    assert len([r for r in toy_requests(toy, "/toy/items") if r["method"] == "POST"]) == 1


def test_html_answer_is_a_response_error(toy):
    hook = make_hook()
    hook.list_items()
    toy.client.add_fault(vendor="toy", path="/items", status=200, body="<html><body>Proxy</body></html>",
                         content_type="text/html", count=1)
    with pytest.raises(DialerResponseError, match="expected JSON but got an HTML page"):
        hook.list_items()


# -- connection handling -----------------------------------------------------------------------


def test_constructing_a_hook_touches_nothing():
    hook = ToyHook(conn_id="no_such_connection_anywhere")
    assert hook.conn_id == "no_such_connection_anywhere"
    assert hook._session is None and hook._conn is None


def test_unknown_extras_are_not_sent_as_headers(toy):
    seen = make_hook().headers_seen()
    assert "api_key" not in seen and "api_version" not in seen
    assert "must-not-become-a-header" not in json.dumps(seen)
    assert seen["authorization"].startswith("Bearer ")  # and no Basic auth with the password


def test_extras_long_form_verify_and_timeout(toy, monkeypatch):
    conn = {"conn_type": "toy", "host": toy.url, "login": TOY_LOGIN, "password": TOY_PASSWORD,
            "extra": {"extra__toy__timeout": "7.5", "verify": "false"}}
    monkeypatch.setenv("AIRFLOW_CONN_TOY_DEFAULT", json.dumps(conn))
    hook = make_hook()
    assert hook.timeout == 7.5
    assert hook.verify is False
    conn["extra"] = {"verify": "/etc/ssl/certs/ca-certificates.crt"}
    monkeypatch.setenv("AIRFLOW_CONN_TOY_DEFAULT", json.dumps(conn))
    assert make_hook().verify == "/etc/ssl/certs/ca-certificates.crt"
    conn["extra"] = {}
    monkeypatch.setenv("AIRFLOW_CONN_TOY_DEFAULT", json.dumps(conn))
    assert make_hook().verify is True


def test_host_without_scheme_uses_schema_and_port(toy, monkeypatch):
    port = toy.url.rsplit(":", 1)[1]
    conn = {"conn_type": "toy", "host": "127.0.0.1", "schema": "http", "port": int(port),
            "login": TOY_LOGIN, "password": TOY_PASSWORD}
    monkeypatch.setenv("AIRFLOW_CONN_TOY_DEFAULT", json.dumps(conn))
    assert make_hook().list_items() == []


def test_test_connection_reports_success_and_clear_failures(toy, monkeypatch):
    ok, message = make_hook().test_connection()
    assert ok and "0 items" in message
    conn = json.loads(__import__("os").environ["AIRFLOW_CONN_TOY_DEFAULT"])
    monkeypatch.setenv("AIRFLOW_CONN_TOY_DEFAULT", json.dumps({**conn, "password": "nope-nope"}))
    ok, message = make_hook().test_connection()
    assert not ok and message.startswith("Authentication failed") and "nope-nope" not in message
    monkeypatch.setenv("AIRFLOW_CONN_TOY_DEFAULT", json.dumps({**conn, "host": "http://127.0.0.1:9"}))
    ok, message = make_hook().test_connection()
    assert not ok and "unreachable" in message


# -- secrets -----------------------------------------------------------------------------------


def test_errors_redact_registered_secrets():
    register_secret("tok-abcdef-123456")
    err = DialerError("server said: invalid token tok-abcdef-123456", vendor="Toy")
    assert "tok-abcdef-123456" not in str(err)
    assert "***" in str(err)
    assert redact("nothing secret here") == "nothing secret here"


def test_password_of_the_connection_is_registered_on_first_use(toy):
    hook = make_hook()
    hook.list_items()
    assert TOY_PASSWORD not in redact(f"echo {TOY_PASSWORD}")


@pytest.mark.parametrize(
    ("body", "label"),
    [("null", "the literal null"), ('[{"id": 1', "unparseable text"), ("<?xml version='1.0'?><a/>", "XML")],
)
def test_null_truncated_and_xml_answers_are_response_errors(toy, body, label):
    hook = make_hook()
    hook.list_items()
    toy.client.add_fault(vendor="toy", path="/items", status=200, body=body, count=1)
    with pytest.raises(DialerResponseError, match=label):
        hook.list_items()


def test_login_call_ignores_netrc(toy, tmp_path, monkeypatch):
    host = toy.url.split("//")[1].split(":")[0]
    netrc = tmp_path / ".netrc"
    netrc.write_text(f"machine {host} login netrc-user password netrc-pass\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    hook = make_hook()
    hook.list_items()  # the login's body carries the credentials; a netrc header must not be added
    assert hook.login_count == 1
    assert "authorization" not in toy.core.vendors["toy"].login_headers


def test_response_says_when_a_processed_attempt_was_replayed(toy):
    hook = make_hook()
    assert hook.request("GET", "/toy/items", retry_safe=True).dialer_replayed is False
    toy.client.add_fault(vendor="toy", path="/items", status=503, count=1)  # not processed
    assert hook.request("GET", "/toy/items", retry_safe=True).dialer_replayed is False
    toy.client.add_fault(vendor="toy", path="/items", method="POST", action="reset", after_processing=True)
    response = hook.request("POST", "/toy/items", retry_safe=True, json_body={"name": "dedupe-keyed"})
    assert response.dialer_replayed is True
    assert len(toy.core.vendors["toy"].items) == 2  # the toy has no dedupe key: real vendors do
