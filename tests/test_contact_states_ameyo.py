"""Ameyo ``iter_contact_states``: every customer of a campaign, streamed page by page, over real
HTTP against the sandbox (under both readings profiles: ``limitOffset`` read as ``LIMIT n OFFSET m``
or as ``m,n``; and ignored), and the upload engine using it to never load a contact twice."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pendulum
import pytest

from airflow_provider_dialers.capabilities import ContactRecord
from airflow_provider_dialers.hooks.ameyo import AmeyoHook
from airflow_provider_dialers.hooks.base import DialerValidationError
from airflow_provider_dialers.operators import UploadContactsOperator
from airflow_provider_dialers.vendors.ameyo.records import answer_time, contact_record
from airflow_provider_dialers.vendors.ameyo.wire import _contact

pytestmark = pytest.mark.readings_profiles  # every sandbox test under the first and second readings

HOOK_CLASS = AmeyoHook  # the ``hook`` fixture (conftest.py)
CAMPAIGN = "1"  # MoviStarSurvey: leads 1, 21, 39 (empty) enabled, 35 disabled; 5 seeded customers
LEAD = 39
PAGE = 100  # contacts_page_size in these tests (10 000 by default)
SIZE = 250  # 2.5 pages
#: Statuses the reference calls final (4.6.3): handled, or a permanent number failure.
FINAL = {"CONNECTED", "TRANSFERRED_TO_CAMPAIGN", "NUMBER_FAILURE", "SIT_VACANT", "SIT_INTERCEPT"}


@pytest.fixture(autouse=True)
def small_pages(monkeypatch) -> None:
    monkeypatch.setattr(AmeyoHook, "contacts_page_size", PAGE)


@pytest.fixture
def commands(ameyo, monkeypatch) -> list[tuple[str, bool]]:
    """(command, refused) of every command the sandbox runs from now on: its request log shows only
    the path, ``/ameyowebaccess/command``, the command being in the form."""
    ran: list[tuple[str, bool]] = []
    execute = ameyo.execute

    def recording(command: str, data_text: str | None) -> Any:
        response = execute(command, data_text)
        ran.append((command, b'"Failed."' in bytes(response.body)))
        return response

    monkeypatch.setattr(ameyo, "execute", recording)
    return ran


def pages(commands: list[tuple[str, bool]]) -> int:
    """getContacts commands answered (a refused form is not a page)."""
    return sum(1 for command, refused in commands if command == "getContacts" and not refused)


def use(sandbox_client, **readings: str) -> None:
    sandbox_client.configure(readings=readings)


def fill(hook: AmeyoHook, total: int = SIZE, campaign: str = CAMPAIGN) -> None:
    """Upload customers ``st-<n>`` into lead 39 until the campaign holds ``total``."""
    have = sum(1 for _ in hook.iter_contacts(int(campaign), page_size=1000))
    records = [{"phone1": f"77700{n:05d}", "external_id": f"st-{n}"} for n in range(have, total)]
    for start in range(0, len(records), 200):
        results = hook.upload_customer_records(int(campaign), LEAD, records[start:start + 200])
        assert all(result.succeeded for result in results)


def held(sandbox_client, campaign: str = CAMPAIGN) -> list[dict[str, Any]]:
    return [c for c in sandbox_client.state("ameyo")["customers"] if str(c["campaignId"]) == campaign]


def utc(stored: str | None) -> pendulum.DateTime | None:
    return pendulum.parse(stored, tz="UTC") if stored else None  # the sandbox's clock is UTC


def expected_record(customer: dict[str, Any], sandbox_client) -> ContactRecord:
    """What the listing must say of a customer the sandbox holds, read from its own state."""
    lead = next(lead for lead in sandbox_client.state("ameyo")["leads"] if lead["leadId"] == customer["leadId"])
    columns = customer["columns"]
    status = columns["status"]
    changes = [moment for moment in (utc(customer["dateModified"]), utc(columns.get("last_dialed"))) if moment]
    return ContactRecord(
        contact_ref=str(customer["customerId"]), external_id=customer["customerData"].get("external_id"),
        phone=customer["customerData"]["phone1"], state=status,
        terminal=status in FINAL or columns["attempts"] >= lead["maxAttempt"], attempts=columns["attempts"],
        last_result=columns.get("last_status_1") or (None if status == "NOT_TRIED" else status),
        last_change=max(changes).isoformat(),
    )


def expected_records(sandbox_client, campaign: str = CAMPAIGN) -> list[ContactRecord]:
    return [expected_record(customer, sandbox_client) for customer in held(sandbox_client, campaign)]


def by_ref(records) -> list[ContactRecord]:
    return sorted(records, key=lambda r: int(r.contact_ref))


# -- the listing --------------------------------------------------------------------------------------


def test_lists_every_customer_once_as_the_sandbox_holds_it_pending_and_dialled(hook, sandbox_client):
    fill(hook)
    sandbox_client.advance(120, vendor="ameyo")  # some called (settled or to retry), most not yet

    records = list(hook.iter_contact_states(CAMPAIGN))

    assert len(held(sandbox_client)) == SIZE
    assert by_ref(records) == by_ref(expected_records(sandbox_client))
    assert len({r.contact_ref for r in records}) == SIZE  # each once
    states = {r.state for r in records}
    assert "NOT_TRIED" in states and states & {"CONNECTED", "BUSY", "NO_ANSWER"}
    assert {r.terminal for r in records} == {True, False}
    assert "12462" in {r.contact_ref for r in records}  # a customer of the disabled lead 35 too
    assert all(r.last_change and r.last_change.endswith("+00:00") for r in records)
    dialled = [r for r in records if r.attempts]
    assert dialled and all(r.last_result for r in dialled)


def test_cost_is_the_leads_and_one_command_per_page(hook, sandbox_client, commands, readings_profile):
    fill(hook)
    commands.clear()

    with AmeyoHook() as fresh:  # a hook that knows nothing of the server yet
        assert sum(1 for _ in fresh.iter_contact_states(CAMPAIGN)) == SIZE
        # login, getLeadsForCampaign, then pages of 100 (each asks 101: the look-ahead ends the last
        # one without an empty page); under m,n the first LIMIT ... OFFSET form is refused once.
        names = [command for command, _ in commands]
        assert names.count("login") == names.count("getLeadsForCampaign") == 1 and pages(commands) == 3
        assert names.count("getContacts") == (3 if readings_profile == "first" else 4)
        again = len(commands)
        assert sum(1 for _ in fresh.iter_contact_states(CAMPAIGN)) == SIZE  # the form is learnt
        assert [command for command, _ in commands[again:]] == ["getLeadsForCampaign"] + ["getContacts"] * 3


def test_a_server_ignoring_limit_offset_answers_the_campaign_in_one_command(hook, sandbox_client, commands):
    fill(hook)
    use(sandbox_client, ameyo_limit_offset="ignored")
    commands.clear()

    records = list(hook.iter_contact_states(CAMPAIGN))

    assert by_ref(records) == by_ref(expected_records(sandbox_client))
    assert len(records) == SIZE and pages(commands) == 1  # its answer is the whole campaign: read once
    assert hook.reading("ameyo_limit_offset") == "ignored"
    assert len(list(hook.iter_contact_states(CAMPAIGN))) == SIZE and pages(commands) == 2


def test_the_iteration_is_lazy_one_page_for_the_first_record(hook, sandbox_client, commands):
    fill(hook)
    commands.clear()

    listing = hook.iter_contact_states(CAMPAIGN)
    assert commands == []  # nothing before the first record is asked for
    first = next(listing)
    assert (first.contact_ref, first.state, first.attempts) == ("12458", "BUSY", 5)  # the reference's customer
    assert pages(commands) == 1
    for _ in range(PAGE - 1):
        next(listing)
    assert pages(commands) == 1  # the whole first page, still one command
    next(listing)
    assert pages(commands) == 2
    listing.close()


def test_every_customer_once_while_the_campaign_dials_and_grows_between_pages(hook, sandbox_client):
    fill(hook)
    sandbox_client.advance(100, vendor="ameyo")
    seen: list[str] = []
    for index, record in enumerate(hook.iter_contact_states(CAMPAIGN)):
        seen.append(record.contact_ref)
        if index % PAGE == PAGE - 1:  # at each page boundary, the dialer moves on
            sandbox_client.advance(60, vendor="ameyo")
        if index == PAGE - 1:  # and customers join (new ids come last: they are listed too)
            hook.upload_customer_records(int(CAMPAIGN), LEAD, [{"phone1": f"77800{n:05d}"} for n in range(10)])

    assert len(seen) == len(set(seen)) == SIZE + 10
    assert sorted(seen) == sorted(str(c["customerId"]) for c in held(sandbox_client))


def test_a_session_timed_out_between_pages_is_replaced_and_the_listing_goes_on(hook, sandbox_client):
    fill(hook)
    seen: list[str] = []
    for index, record in enumerate(hook.iter_contact_states(CAMPAIGN)):
        seen.append(record.contact_ref)
        if index % PAGE == PAGE - 1:
            assert sandbox_client.expire_credentials("ameyo") == 1  # the server timed the session out

    assert sorted(seen, key=int) == [r.contact_ref for r in by_ref(expected_records(sandbox_client))]
    assert hook.login_count == 3


def test_an_unknown_or_malformed_campaign(hook, sandbox_client, commands):
    from airflow_provider_dialers.hooks.base import DialerRequestError

    with pytest.raises(DialerValidationError) as refused:
        hook.iter_contact_states("MoviStarSurvey")  # refused at the call, before any request
    assert refused.value.field == "campaign_id" and commands == []
    with pytest.raises(DialerRequestError, match="invalid.campaign.id"):
        next(hook.iter_contact_states("999"))
    inbound = list(hook.iter_contact_states("10"))  # the inbound campaign: one customer, never dialled
    assert [(r.contact_ref, r.state, r.terminal, r.last_result) for r in inbound] == [
        ("12480", "NOT_TRIED", False, None)]


# -- the states filter, and agreement with get_contact_state -----------------------------------------


def test_states_filter_any_case_on_the_pages_read(hook, sandbox_client, commands):
    fill(hook)
    sandbox_client.advance(400, vendor="ameyo")
    by_state: dict[str, set[str]] = {}
    for record in expected_records(sandbox_client):
        by_state.setdefault(record.state, set()).add(record.contact_ref)
    assert {"CONNECTED", "NOT_TRIED"} <= set(by_state) and len(by_state) >= 4

    settled = {r.contact_ref for r in hook.iter_contact_states(CAMPAIGN, states=["connected", "Busy"])}
    assert settled == by_state["CONNECTED"] | by_state.get("BUSY", set())
    assert {r.contact_ref for r in hook.iter_contact_states(CAMPAIGN, states="NOT_TRIED")} == by_state["NOT_TRIED"]
    assert all(r.state == "NO_ANSWER" for r in hook.iter_contact_states(CAMPAIGN, states={" no_answer "}))

    commands.clear()
    assert list(hook.iter_contact_states(CAMPAIGN, states=[])) == []
    with pytest.raises(DialerValidationError) as refused:
        hook.iter_contact_states(CAMPAIGN, states=["Dialled", "busy"])  # refused at the call
    assert refused.value.field == "states" and "DIALLED" in refused.value.reason
    assert commands == []  # nothing asked for, or a word Ameyo has not: nothing requested


def test_terminal_and_attempts_agree_with_get_contact_state(hook, sandbox_client):
    fill(hook, 60)
    sandbox_client.advance(90, vendor="ameyo")  # everyone called once, some twice

    records = list(hook.iter_contact_states(CAMPAIGN))
    sample = list({(r.state, r.terminal): r for r in records}.values())  # one of each state and ending
    assert len(sample) >= 4 and {r.terminal for r in sample} == {True, False}
    for record in sample:
        for ref in (record.contact_ref, record.phone):
            state = hook.get_contact_state(CAMPAIGN, ref)
            assert (state.state, state.terminal, state.attempts) == (record.state, record.terminal, record.attempts)
        assert state.history.get("STATUS") == record.state


# -- the upload engine on Ameyo ------------------------------------------------------------------------


def upload(source: Path, **arguments: Any) -> dict[str, Any]:
    return UploadContactsOperator(task_id="upload", dialer_conn_id="ameyo_default", campaign_id=CAMPAIGN,
                                  source=str(source), lead_id=LEAD, batch_size=10, max_concurrency=1,
                                  **arguments).execute({})


def uploads_sent(commands: list[tuple[str, bool]], since: int) -> list[str]:
    return [command for command, _ in commands[since:] if command.startswith("upload")]


@pytest.mark.usefixtures("fast_dialer_hooks")
def test_loading_a_file_again_after_the_campaign_dialled_it_sends_nothing(sandbox_client, commands, tmp_path):
    source = tmp_path / "contacts.csv"
    source.write_text("external_id,phone,timezone\n" + "".join(
        f"again-{n},+35840800{n:04d},Europe/Helsinki\n" for n in range(40)))
    first = upload(source)
    assert (first["accepted"], first["sent"]) == (40, 40)
    sandbox_client.advance(vendor="ameyo")  # the dialer calls them all, to the end
    loaded = [c for c in held(sandbox_client) if c["customerData"].get("external_id", "").startswith("again-")]
    assert len(loaded) == 40 and all(c["columns"]["status"] == "CONNECTED" or c["columns"]["attempts"] == 10
                                     for c in loaded)

    since, logged = len(commands), sandbox_client.requests(vendor="ameyo")[-1]["seq"]
    again = upload(source)

    assert (again["accepted"], again["duplicates"], again["sent"]) == (0, 40, 0)
    assert uploads_sent(commands, since) == []  # nobody sent, so nobody called twice
    assert {command for command, _ in commands[since:]} <= {"login", "getLeadsForCampaign", "getContacts",
                                                          "logout"}
    assert len(sandbox_client.requests(vendor="ameyo", since=logged)) == len(commands) - since  # nothing else

    # recontact_after=0: the engine no longer holds them back and sends all 40. Ameyo keeps phone1
    # unique in the campaign: with on_duplicate="skip" it refuses every one (DUPLICATE_NOT_ADDED), and
    # the hook churns each finished customer with a callback (tests/test_recontact.py) ...
    since = len(commands)
    recontact = upload(source, recontact_after=timedelta(0))
    assert (recontact["sent"], recontact["accepted"], recontact["duplicates"]) == (40, 40, 0)
    assert uploads_sent(commands, since) == ["uploadContacts", "uploadContactAndAddCallback"] * 4
    # ... and with "update" it loads them again over the customers it has (UPDATED).
    since = len(commands)
    reloaded = upload(source, recontact_after=timedelta(0), on_duplicate="update")
    assert (reloaded["sent"], reloaded["accepted"], reloaded["duplicates"]) == (40, 40, 0)
    assert uploads_sent(commands, since) == ["uploadContacts"] * 4
    assert sum(c["customerData"].get("external_id", "").startswith("again-") for c in held(sandbox_client)) == 40


# -- without a server ----------------------------------------------------------------------------------


def test_a_customer_a_page_repeats_is_yielded_once(monkeypatch):
    hook = AmeyoHook("ameyo_default")
    customers = [{"customerId": 1000 + n, "customerData": {"phone1": f"98100{n:05d}"}} for n in range(250)]
    served: list[tuple[int | None, int]] = []

    def read(data, limit, offset):
        served.append((limit, offset))
        start = max(offset - 3, 0)  # three joined before the offset: the pages after begin 3 back
        return [_contact(raw) for raw in customers[start:start + limit]]

    monkeypatch.setattr(hook, "_read_contacts", read)
    monkeypatch.setattr(hook, "reading", lambda name: "limit_n_offset_m")
    refs = [c.customer_id for c in hook.iter_contacts(1, page_size=100)]

    assert refs == [1000 + n for n in range(250)]  # each once, in order
    assert served == [(101, 0), (101, 100), (101, 200)]


def test_a_record_from_a_customer_as_the_reference_lists_its_fields():
    record = contact_record(_contact({
        "customerId": 12458, "processId": 1, "leadId": 1, "numOutboundAttempted": 5,
        "customerData": {"region": "REGIÓN 4", "login": "504089", "phone1": "0458681166572"},
        "extraData": {"ATTEMPTS": 5, "STATUS": "BUSY", "LAST_DIALED": "2015-03-03 11:31:00"},
        "dateModified": "Mar 3, 2015 11:29:34 AM", "lastStatus": "BUSY", "lastDisposition": "Sale",
    }), 10, "Asia/Kolkata")
    assert record.to_dict() == {
        "contact_ref": "12458", "external_id": None, "phone": "0458681166572", "state": "BUSY",
        "terminal": False, "attempts": 5, "last_result": "BUSY",
        "last_change": "2015-03-03T06:01:00+00:00",  # the later one: the column's last_dialed, IST -> UTC
    }
    settled = contact_record(_contact({"customerId": 7, "customerData": {"phone1": "5551230001", "external_id": "x"},
                                       "extraData": {"ATTEMPTS": 3, "STATUS": "NO_ANSWER"}}), 3, "UTC")
    assert (settled.terminal, settled.external_id, settled.last_result, settled.last_change) == (
        True, "x", "NO_ANSWER", None)
    fresh = contact_record(_contact({"customerId": 8, "customerData": {"phone1": "5551230002"}}), None, "UTC")
    assert (fresh.state, fresh.terminal, fresh.attempts, fresh.last_result) == ("NOT_TRIED", False, None, None)


@pytest.mark.parametrize(("value", "expected"), [
    ("Mar 3, 2015 1:07:26 PM", "2015-03-03T13:07:26+00:00"),
    ("Mar 3, 2015 1:07:26\u202fPM", "2015-03-03T13:07:26+00:00"),  # newer JDKs
    ("2015-03-03 13:07:26", "2015-03-03T13:07:26+00:00"),
    ("2015-03-03 13:07:26.250", "2015-03-03T13:07:26.250000+00:00"),
    ("2015-03-03T13:07:26+05:30", "2015-03-03T07:37:26+00:00"),
    (1425388046000, "2015-03-03T13:07:26+00:00"),
    ("1425388046000", "2015-03-03T13:07:26+00:00"),
    ("", None), (None, None), ("yesterday", None), (True, None),
])
def test_answer_times_in_utc(value, expected):
    moment = answer_time(value, "UTC")
    assert (moment.isoformat() if moment else None) == expected
