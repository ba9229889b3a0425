"""Ameyo's silent points (docs/readings.md): the hook against a sandbox reading each one the other
way, over real HTTP. Each test takes a reading the sandbox does not play by default and drives the
hook path that broke under it."""

from __future__ import annotations

import itertools
import math
import time
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_dialers.capabilities import CallbackRow, RowStatus, UploadOptions
from airflow_provider_dialers.common import auth as common_auth
from airflow_provider_dialers.contacts import parse_callback
from airflow_provider_dialers.hooks.ameyo import AmeyoHook, CustomerCallback
from airflow_provider_dialers.sandbox.ameyo.readings import READINGS
from airflow_provider_dialers.vendors.ameyo import auth as ameyo_auth
from airflow_provider_dialers.vendors.ameyo.wire import (
    is_invalid_session_body,
    is_rejection_status,
    limit_offset,
    session_timeout_seconds,
)

HOOK_CLASS = AmeyoHook  # the ``hook`` fixture (conftest.py)
CAMPAIGN = 1  # MoviStarSurvey: 5 seeded customers (12462 in the disabled lead 35); lead 39 is empty
LEAD = 39
#: Enough to exhaust any paging the hook could do here: a hook that loops forever is cut off.
RUNAWAY = 1000


def use(sandbox_client, **readings: str) -> None:
    sandbox_client.configure(readings=readings)


def requests_during(sandbox_client, action) -> tuple[Any, int]:
    """``action()``'s result and how many Ameyo requests it made."""
    before = sandbox_client.requests(vendor="ameyo")
    seq = before[-1]["seq"] if before else 0
    result = action()
    return result, len(sandbox_client.requests(vendor="ameyo", since=seq))


def campaign_customers(ameyo, campaign: int = CAMPAIGN) -> list[int]:
    return sorted(c["customerId"] for c in ameyo.customers.values() if c["campaignId"] == campaign)


def upload(hook: AmeyoHook, count: int) -> None:
    hook.upload_customer_records(CAMPAIGN, LEAD, [{"phone1": f"77700{i:05d}"} for i in range(count)])


def test_the_hook_knows_the_sandboxs_switches_and_choices():
    assert dict(AmeyoHook.known_readings) == {reading.name: reading.choices for reading in READINGS}


# -- ameyo_session_timeout --------------------------------------------------------------------------


def shift_client_clock(monkeypatch, seconds: float) -> None:
    """Move the hook's clock (not the sandbox's) ``seconds`` ahead, as if the hook sat idle that long."""
    clock = SimpleNamespace(monotonic=lambda: time.monotonic() + seconds)
    for module in (common_auth, ameyo_auth):
        monkeypatch.setattr(module, "time", clock)


def test_without_session_timeout_in_the_login_answer_the_references_3_minutes_apply(
        hook, sandbox_client, monkeypatch):
    use(sandbox_client, ameyo_session_timeout="absent")
    assert hook.login().session_timeout == 180.0
    credential, _ = hook.auth.current()
    assert credential.expires_at is not None  # an idle deadline is kept
    shift_client_clock(monkeypatch, 181)  # idle past the reference's 3 minutes
    _, sent = requests_during(sandbox_client, lambda: hook.get_leads_for_campaign(CAMPAIGN))
    assert hook.login_count == 2
    assert sent == 2  # a new login, then the command: the idle session was never used


def test_a_session_timeout_given_in_seconds_is_read_as_seconds(hook, sandbox_client):
    use(sandbox_client, ameyo_session_timeout="seconds")
    assert hook.login().session_timeout == 180.0
    credential, _ = hook.auth.current()
    assert credential.expires_at - time.monotonic() > 100
    hook.get_leads_for_campaign(CAMPAIGN)
    hook.ping_session()
    assert hook.login_count == 1


# -- ameyo_limit_offset ---------------------------------------------------------------------------------


@pytest.mark.parametrize("reading", ["m_comma_n", "ignored"])
def test_paging_reads_every_customer_once_whatever_the_limit_offset_form(hook, sandbox_client, ameyo, reading):
    upload(hook, 25)
    use(sandbox_client, ameyo_limit_offset=reading)
    expected = campaign_customers(ameyo)
    assert len(expected) == 30
    read = [c.customer_id for c in itertools.islice(hook.iter_contacts(CAMPAIGN, page_size=7), RUNAWAY)]
    assert read == expected
    assert hook.reading("ameyo_limit_offset") == reading
    # Learnt: the next read costs no refused attempt (m_comma_n: one command per page; ignored: one).
    again, sent = requests_during(sandbox_client, lambda: list(hook.iter_contacts(CAMPAIGN, page_size=7)))
    assert [c.customer_id for c in again] == expected
    assert sent == (math.ceil(30 / 7) if reading == "m_comma_n" else 1)
    window = hook.get_contacts(CAMPAIGN, order_by="customer_id", limit=3, offset=2)
    assert [c.customer_id for c in window] == expected[2:5]


def test_an_ignored_limit_offset_is_noticed_when_the_answer_fits_the_look_ahead(hook, sandbox_client, ameyo):
    # Campaign 5 has two customers: with pages of 1 the hook asks for 2 and gets both, as a paging
    # server would answer; the next page then starts with a customer already read.
    use(sandbox_client, ameyo_limit_offset="ignored")
    read = [c.customer_id for c in itertools.islice(hook.iter_contacts(5, page_size=1), RUNAWAY)]
    assert read == campaign_customers(ameyo, 5) == [12470, 12471]
    assert hook.reading("ameyo_limit_offset") == "ignored"


@pytest.mark.parametrize("reading", ["m_comma_n", "ignored"])
def test_progress_counts_every_customer_whatever_the_limit_offset_form(
        hook, sandbox_client, monkeypatch, reading):
    upload(hook, 25)
    use(sandbox_client, ameyo_limit_offset=reading)
    monkeypatch.setattr(AmeyoHook, "contacts_page_size", 7)
    commands = iter(range(RUNAWAY))
    original = AmeyoHook.call

    def bounded(self, *args, **kwargs):  # a hook paging forever stops here instead of hanging
        next(commands)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(AmeyoHook, "call", bounded)
    progress = hook.get_campaign_progress(str(CAMPAIGN))
    assert (progress.total, progress.pending) == (29, 29)  # 12462's lead is disabled


def test_the_readings_extra_picks_the_form_without_a_refused_attempt(sandbox, sandbox_client, make_connection):
    use(sandbox_client, ameyo_limit_offset="m_comma_n")
    conn_id = make_connection("ameyo_mysql", "ameyo", extra={"readings": {"ameyo_limit_offset": "m_comma_n"}})
    with AmeyoHook(conn_id) as hook:
        hook.login()
        contacts, sent = requests_during(sandbox_client, lambda: hook.get_contacts(CAMPAIGN, limit=2, offset=1))
    assert [c.customer_id for c in contacts] == [12459, 12460]
    assert sent == 1


# -- ameyo_dead_session_signal ----------------------------------------------------------------------------

DEAD_SESSION_SIGNALS = ["http_403", "redirect_302", "other_200_text"]


@pytest.mark.parametrize("reading", DEAD_SESSION_SIGNALS)
@pytest.mark.parametrize("call", [
    lambda h: h.ping_session(),
    lambda h: h.get_contacts(CAMPAIGN),
    lambda h: h.get_leads_for_campaign(CAMPAIGN),
    lambda h: h.upload_customer_records(CAMPAIGN, LEAD, [{"phone1": "9876543210"}], update_customer=False),
    lambda h: h.add_callback(CAMPAIGN, "2031-01-01 10:00:00", phone="5555056887"),
], ids=["ping", "getContacts", "getLeads", "upload-not-retry-safe", "addCallback-not-retry-safe"])
def test_a_timed_out_session_is_replaced_once_whatever_its_signal(hook, sandbox_client, ameyo, reading, call):
    use(sandbox_client, ameyo_dead_session_signal=reading)
    hook.login()
    callbacks = len(ameyo.callbacks)
    assert sandbox_client.expire_credentials("ameyo") == 1  # the server timed the session out
    _, sent = requests_during(sandbox_client, lambda: call(hook))
    assert hook.login_count == 2
    assert sent == 3  # refused, the new login, the command again
    assert len(ameyo.callbacks) - callbacks <= 1  # a refused command was not acted on


@pytest.mark.parametrize("reading", DEAD_SESSION_SIGNALS)
def test_logging_out_of_a_timed_out_session_is_not_an_error_whatever_its_signal(hook, sandbox_client, reading):
    use(sandbox_client, ameyo_dead_session_signal=reading)
    hook.login()
    sandbox_client.expire_credentials("ameyo")
    assert hook.logout() is True
    assert hook.login_count == 1


# -- ameyo_callback_result ------------------------------------------------------------------------------------


def schedule(hook: AmeyoHook, *times: str):
    """Callbacks for new customers at ``times`` through the hook's callback path; their outcomes."""
    records = [(row, CustomerCallback({"phone1": f"55512300{row:02d}"}, when)) for row, when in
               enumerate(times, start=1)]
    return hook._send_callbacks(CAMPAIGN, LEAD, records, update_customer=True, time_field="callback_at")


@pytest.mark.parametrize("reading", ["message_always", "no_failure_signal"])
def test_a_callback_is_accepted_only_when_scheduled_whatever_the_answer_says(hook, sandbox_client, ameyo, reading):
    use(sandbox_client, ameyo_callback_result=reading)
    scheduled, unscheduled = schedule(hook, "2031-01-01 10:00:00", "not a time")
    assert scheduled.status is RowStatus.ACCEPTED
    assert (unscheduled.status, unscheduled.field) == (RowStatus.REJECTED, "callback_at")
    assert [c["phone"] for c in ameyo.callbacks.values()] == ["5551230001"]
    if reading == "no_failure_signal":
        assert "neither a callback id nor a callback time" in unscheduled.reason
    else:
        assert "CustomerManager.invalid.callBackTime" in unscheduled.reason


def test_callbacks_answered_with_a_message_are_accepted(hook, sandbox_client, ameyo):
    use(sandbox_client, ameyo_callback_result="message_always")
    rows = [CallbackRow(n, parse_callback({"phone": f"555123000{n}", "callback_at": "2031-03-01T09:00:00Z"}))
            for n in (1, 2)]
    outcomes = hook.add_callbacks(str(CAMPAIGN), rows, options=UploadOptions(lead_id=LEAD))
    assert [o.status for o in outcomes] == [RowStatus.ACCEPTED, RowStatus.ACCEPTED]
    assert len(ameyo.callbacks) == 2


# -- the readings' parsers on their own ---------------------------------------------------------------


@pytest.mark.parametrize(("value", "reading", "expected"), [
    (180000, None, (180.0, "given_ms")),
    ("180000", None, (180.0, "given_ms")),
    (180, None, (180.0, "seconds")),
    (None, None, (180.0, "absent")),
    (0, None, (180.0, "absent")),
    (-1, None, (180.0, "absent")),
    ("soon", None, (180.0, "absent")),
    (900, "given_ms", (0.9, "given_ms")),  # the connection's readings extra fixes the unit
    (3600, "seconds", (3600.0, "seconds")),
])
def test_session_timeout_in_either_unit_or_absent(value, reading, expected):
    assert session_timeout_seconds(value, reading) == expected


def test_limit_offset_in_either_form():
    assert limit_offset(10, 20) == "LIMIT 10 OFFSET 20"
    assert limit_offset(10, 0) == "LIMIT 10"
    assert limit_offset(None, 0) is None and limit_offset(None, 0, "m_comma_n") is None
    assert limit_offset(10, 20, "m_comma_n") == "20,10"
    assert limit_offset(None, 5, "m_comma_n") == "5,18446744073709551615"


@pytest.mark.parametrize("body", [
    '{"result":"Failed.","comment":["UserSessionManager.session.not.found","d1-ses-x"]}',
    '{"status":"error","reason":"Session expired, please log in again"}',
    '{"message":"No such session","type":"ProcessingException"}',
    "Session timed out",
])
def test_other_wordings_of_a_dead_session_are_recognised(body):
    assert is_invalid_session_body(body)


@pytest.mark.parametrize("body", [
    # a refusal whose arguments echo data that happens to say "session": the code decides
    '{"result":"Failed.","comment":["CustomerManager.invalid.column","session_notes"]}',
    '{"beanResponse":[{"customerData":{"note":"session"}}],"result":"Success."}',
])
def test_a_refusal_merely_mentioning_a_session_is_not_a_dead_session(body):
    assert not is_invalid_session_body(body)


@pytest.mark.parametrize(("status", "rejected"), [(200, False), (302, True), (401, True), (403, True),
                                                  (404, False), (500, False)])
def test_http_statuses_that_refuse_a_session(status, rejected):
    assert is_rejection_status(status) is rejected
