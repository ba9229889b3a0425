"""Extras are checked in one place (``DialerHook.check_extras``): a bad extra fails the hook's first use
before anything is sent, and the Test button says the same; the ``readings`` extra fixes how a hook
reads a silent point of its reference."""

from __future__ import annotations

import pytest

from airflow_provider_dialers.errors import DialerConfigurationError, DialerError, DialerTLSError
from airflow_provider_dialers.hooks import get_dialer_hook
from airflow_provider_dialers.hooks.ameyo import AmeyoHook
from airflow_provider_dialers.hooks.expertflow import ExpertflowEcmHook


def _sent(sandbox_client, vendor: str) -> int:
    return len(sandbox_client.requests(vendor=vendor))


def test_an_unsupported_ecm_release_fails_the_first_call_before_anything_is_sent(sandbox_client, make_connection):
    conn_id = make_connection("ecm_v14", "expertflow_ecm", extra={"api_version": "14.0"})
    with pytest.raises(DialerConfigurationError, match="'api_version' is '14.0'; supported releases are 13.2, 13.3"):
        ExpertflowEcmHook(conn_id).list_campaigns()
    assert _sent(sandbox_client, "expertflow") == 0
    ok, message = ExpertflowEcmHook(conn_id).test_connection()
    assert not ok and "supported releases are 13.2, 13.3" in message
    assert _sent(sandbox_client, "expertflow") == 0


def test_an_invalid_ameyo_timezone_is_refused_at_first_use_and_by_the_test_button(sandbox_client, make_connection):
    conn_id = make_connection("ameyo_tz", "ameyo", extra={"timezone": "Asia/Atlantis"})
    with pytest.raises(DialerConfigurationError, match="extra 'timezone': unknown time zone 'Asia/Atlantis'"):
        AmeyoHook(conn_id).get_leads_for_campaign(1)
    ok, message = AmeyoHook(conn_id).test_connection()
    assert not ok and "unknown time zone 'Asia/Atlantis'" in message
    assert _sent(sandbox_client, "ameyo") == 0


def test_several_bad_extras_are_named_together(sandbox, make_connection):
    conn_id = make_connection("ecm_bad_extras", "expertflow_ecm",
                              extra={"api_version": "12", "timeout": "soon", "timezone": "Mars/Olympus"})
    with pytest.raises(DialerConfigurationError) as caught:
        get_dialer_hook(conn_id).list_campaigns()
    message = str(caught.value)
    assert message.startswith("ExpertFlow ECM: 3 connection extras are wrong:")
    for fragment in ("'timeout' must be a positive", "'timezone': unknown time zone 'Mars/Olympus'",
                     "'api_version' is '12'"):
        assert fragment in message


def test_one_bad_extra_keeps_its_own_error(sandbox, make_connection):
    conn_id = make_connection("sinch_no_ca", "sinch_obi", extra={"verify": "/nowhere/ca.pem"})
    with pytest.raises(DialerTLSError, match="names a CA bundle that does not exist"):
        get_dialer_hook(conn_id).list_campaigns()


@pytest.mark.parametrize(
    ("readings", "message"),
    [
        ("not json", "must be an object"),
        (["ecm_page_base"], "must be an object"),
        ({"no_such_switch": "1"}, "names 'no_such_switch', which this dialer does not have"),
    ],
)
def test_the_readings_extra_is_checked(sandbox, make_connection, readings, message):
    conn_id = make_connection("ecm_readings", "expertflow_ecm", extra={"readings": readings})
    with pytest.raises(DialerError, match=message):
        get_dialer_hook(conn_id).list_campaigns()


def test_a_configured_reading_wins_over_a_learnt_one(sandbox, make_connection, monkeypatch):
    monkeypatch.setattr(ExpertflowEcmHook, "known_readings", {"demo_switch": ("a", "b")})
    conn_id = make_connection("ecm_demo_reading", "expertflow_ecm", extra={"readings": {"demo_switch": "b"}})
    hook = ExpertflowEcmHook(conn_id)
    assert hook.reading("demo_switch") == "b"
    hook.learn("demo_switch", "a")
    assert hook.reading("demo_switch") == "b"  # what the user set is not second-guessed
    plain = ExpertflowEcmHook()
    assert plain.reading("demo_switch") is None
    plain.learn("demo_switch", "a")
    assert plain.reading("demo_switch") == "a"
    with pytest.raises(DialerConfigurationError, match="sets demo_switch to 'c'; expected one of"):
        make_connection("ecm_demo_bad", "expertflow_ecm", extra={"readings": {"demo_switch": "c"}})
        ExpertflowEcmHook("ecm_demo_bad").check_extras()
