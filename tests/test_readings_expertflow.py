"""ExpertFlow ECM where its references are silent (docs/readings.md): the hook over real HTTP against
the sandbox playing the other readings of each switch, on the paths those readings used to break
(completion and contact-state sensors, outcome counts, callback listing, DNC, uploads, login)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from airflow.sdk import PokeReturnValue

from airflow_provider_dialers.capabilities import ContactRow, UploadOptions
from airflow_provider_dialers.contacts import parse_contact
from airflow_provider_dialers.hooks.base import DialerRequestError, DialerResponseError
from airflow_provider_dialers.hooks.expertflow import ExpertflowEcmHook, RequestState
from airflow_provider_dialers.sensors import CampaignCompletionSensor, ContactStateSensor
from tests.support import FAST

ECM, ECM_132 = "expertflow_ecm_default", "expertflow_ecm_132"
HOOK_CLASS = ExpertflowEcmHook  # the ``hook`` fixture (conftest.py), on ECM 13.3
HOOK_CONN_ID = ECM
WELCOME, SALES = 1, 2  # seeded: Welcome IVR runs (contacts 1-5), Sales Agent is paused (contacts 6-8)
PENDING_PHONE = "+15550100101"  # phone1 of a seeded, pending Welcome contact
SALES_PHONE = "+15550300102"  # phone1 of seeded contact 7 (Sales Agent)
DNC_NUMBER = "03001234567"  # seeded on the DNC list, and phone1 of Welcome contact 5
WELCOME_OUTCOMES = {"CONNECTED": 3, "DNC_LISTED": 1, "RETRIES_COMPLETED": 1}  # once the sandbox has dialled


def read_as(sandbox_client, **readings: str) -> None:
    """The sandbox reads these silent points this way from now on (over its admin API)."""
    sandbox_client.configure(readings=readings)


def getlist_params(sandbox_client) -> list[dict[str, str]]:
    """The query parameters of every getList the sandbox received, in order."""
    return [dict(pair.split("=", 1) for pair in record["query"].split("&") if pair)
            for record in sandbox_client.requests(vendor="expertflow", path="callback/getList")]


def contact_rows(*phones: str) -> list[ContactRow]:
    return [ContactRow(number, parse_contact({"phone": phone})) for number, phone in enumerate(phones, start=1)]


def statuses(outcomes) -> list[str]:
    return [outcome.status.value for outcome in sorted(outcomes, key=lambda o: o.row)]


@pytest.fixture
def hook_132(ecm) -> Iterator[ExpertflowEcmHook]:
    ecm.release = "13.2"
    with ExpertflowEcmHook(ECM_132, retry_policy=FAST) as ecm_hook:
        yield ecm_hook


# -- ecm_page_base ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("base", ["1", "1_clamps_0"])
def test_listing_serves_every_contact_once_when_pages_count_from_1(hook, sandbox_client, base):
    read_as(sandbox_client, ecm_page_base=base)
    assert [c["id"] for c in hook.iter_callbacks(page_size=3)] == list(range(1, 9))
    assert [c["id"] for c in hook.get_callbacks(WELCOME, page=1, max_results=2)["callbackData"]] == [3, 4]
    assert hook.reading("ecm_page_base") == "1"


@pytest.mark.parametrize("base", ["1", "1_clamps_0"])
def test_a_later_page_asked_first_is_the_right_page_when_pages_count_from_1(hook, sandbox_client, base):
    read_as(sandbox_client, ecm_page_base=base)
    assert [c["id"] for c in hook.get_callbacks(WELCOME, page=1, max_results=2)["callbackData"]] == [3, 4]
    assert [c["id"] for c in hook.get_callbacks(WELCOME, page=2, max_results=2)["callbackData"]] == [5]


@pytest.mark.parametrize("base", ["1", "1_clamps_0"])
def test_a_later_page_of_a_single_contact_is_empty_when_pages_count_from_1(hook, sandbox_client, base):
    read_as(sandbox_client, ecm_page_base=base)
    assert hook.get_callbacks(WELCOME, page=1, max_results=1, phone1=PENDING_PHONE)["callbackData"] == []


def test_progress_sensors_outcomes_and_contact_state_when_page_0_is_refused(hook, ecm, sandbox_client):
    read_as(sandbox_client, ecm_page_base="1")
    progress = hook.get_campaign_progress(str(WELCOME))
    assert (progress.complete, progress.total, progress.pending) == (False, 5, 5)
    assert hook.get_contact_state(str(WELCOME), PENDING_PHONE).state == "PENDING"
    waiting = CampaignCompletionSensor(task_id="wait", dialer_conn_id=ECM, campaign_id=WELCOME, deferrable=False)
    assert waiting.poke({}) is False
    sandbox_client.advance(vendor="expertflow")
    done = waiting.poke({})
    assert isinstance(done, PokeReturnValue) and done.xcom_value["outcomes"] == WELCOME_OUTCOMES
    assert {name: n for name, n in hook.get_outcome_counts(str(WELCOME)).items() if n} == WELCOME_OUTCOMES
    dnc_contact = next(c["id"] for c in ecm.callbacks.values() if c["phone1"] == DNC_NUMBER)
    assert hook.get_contact_state(str(WELCOME), str(dnc_contact)).state == "DNC_LISTED"  # by id: a page walk
    contact = ContactStateSensor(task_id="wait_contact", dialer_conn_id=ECM, campaign_id=WELCOME,
                                 contact=PENDING_PHONE, deferrable=False)
    assert isinstance(contact.poke({}), PokeReturnValue)
    # The hook learnt the numbering from its first answer (a 400 to page 0), then kept it.
    assert [params["page"] for params in getlist_params(sandbox_client)][:3] == ["0", "1", "1"]
    assert hook.reading("ecm_page_base") == "1"


def test_the_readings_extra_sets_the_page_base_so_nothing_is_probed(sandbox_client, make_connection):
    read_as(sandbox_client, ecm_page_base="1")
    conn_id = make_connection("ecm_pages_from_1", "expertflow_ecm", extra={"readings": {"ecm_page_base": "1"}})
    with ExpertflowEcmHook(conn_id, retry_policy=FAST) as ecm_hook:
        assert ecm_hook.count_callbacks(WELCOME) == 5
        assert [c["id"] for c in ecm_hook.get_callbacks(WELCOME, page=1, max_results=2)["callbackData"]] == [3, 4]
    assert [params["page"] for params in getlist_params(sandbox_client)] == ["1", "2"]


# -- ecm_getlist_filters ----------------------------------------------------------------------------------


def test_counts_listing_and_contact_state_when_getlist_reads_its_filters_from_a_body(hook, sandbox_client):
    read_as(sandbox_client, ecm_getlist_filters="body")
    assert hook.count_callbacks(WELCOME) == 5
    assert hook.count_callbacks(SALES, request_status=RequestState.PENDING) == 3
    assert [c["id"] for c in hook.iter_callbacks(SALES, page_size=2)] == [6, 7, 8]
    assert hook.get_contact_state(str(SALES), SALES_PHONE).history["id"] == 7
    progress = hook.get_campaign_progress(str(SALES))
    assert (progress.complete, progress.total, progress.pending) == (False, 3, 3)


def test_an_answer_that_ignored_the_filters_is_refused(hook, sandbox_client):
    hook.get_campaigns()
    every_contact = {"callbackData": [{"id": 6, "campaignId": SALES, "requestState": 0,
                                       "phone1": "+15550300101"}], "total": 8}
    sandbox_client.add_fault(vendor="expertflow", path="getList", status=200, body=json.dumps(every_contact))
    with pytest.raises(DialerResponseError, match="ignored the filters"):
        hook.count_callbacks(WELCOME)


@pytest.mark.parametrize("where", ["query", "body"])
def test_the_readings_extra_sends_getlist_filters_one_way_only(sandbox_client, make_connection, where):
    read_as(sandbox_client, ecm_getlist_filters=where)
    conn_id = make_connection(f"ecm_filters_{where}", "expertflow_ecm",
                              extra={"readings": {"ecm_getlist_filters": where}})
    with ExpertflowEcmHook(conn_id, retry_policy=FAST) as ecm_hook:
        assert ecm_hook.count_callbacks(SALES) == 3
    [sent] = getlist_params(sandbox_client)
    assert bool(sent) is (where == "query")


# -- ecm_dnc_save_answer ----------------------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["empty_200", "sentence"])
def test_add_dnc_on_a_13_2_server_that_answers_no_dnc_object(hook_132, ecm, sandbox_client, answer):
    read_as(sandbox_client, ecm_dnc_save_answer=answer)
    result = hook_132.add_dnc(["+15550100777", DNC_NUMBER, "+15550100778"])
    assert (result.added, result.already_present) == (["+15550100777", "+15550100778"], [DNC_NUMBER])
    listed = [entry["primaryNumber"] for entry in ecm.dnc.values()]
    assert listed.count("+15550100777") == listed.count("+15550100778") == 1
    lists = [r for r in sandbox_client.requests(vendor="expertflow", path="/ecm/contact$") if r["method"] == "GET"]
    assert len(lists) == 2  # the list read before, and one to confirm the saves (not one per number)
    assert hook_132.add_dnc_contact("+15550100779") is None


def test_a_save_answered_without_the_dnc_object_and_not_listed_fails(hook_132, ecm, sandbox_client):
    read_as(sandbox_client, ecm_dnc_save_answer="empty_200")
    sandbox_client.add_fault(vendor="expertflow", path="contact/save", status=200, body="", content_type="text/plain")
    with pytest.raises(DialerResponseError, match=r"not on the DNC list.*\+15550100780"):
        hook_132.add_dnc(["+15550100780"])


# -- ecm_discard_answer -----------------------------------------------------------------------------------


@pytest.mark.parametrize("conn_id", [ECM, ECM_132])
@pytest.mark.parametrize("answer", ["http_4xx", "other_sentence"])
def test_a_discarded_duplicate_counts_as_a_duplicate_not_a_rejection(ecm, sandbox_client, answer, conn_id):
    read_as(sandbox_client, ecm_discard_answer=answer)
    ecm.release = "13.3" if conn_id == ECM else "13.2"
    rows = contact_rows(PENDING_PHONE, "+15550105001")
    with ExpertflowEcmHook(conn_id, retry_policy=FAST) as ecm_hook:
        first = ecm_hook.upload_contacts(str(WELCOME), rows, options=UploadOptions())
        assert statuses(first) == ["duplicate", "accepted"]
        assert "already exists" in min(first, key=lambda o: o.row).reason
        assert statuses(ecm_hook.upload_contacts(str(WELCOME), rows, options=UploadOptions())) == ["duplicate"] * 2
        assert "already exists" in ecm_hook.insert_callback(PENDING_PHONE, campaign_id=WELCOME)
    phones = [c["phone1"] for c in ecm.callbacks.values()]
    assert phones.count(PENDING_PHONE) == phones.count("+15550105001") == 1


def test_a_resent_row_refused_as_a_duplicate_is_the_first_attempts_own(hook, ecm, sandbox_client):
    read_as(sandbox_client, ecm_discard_answer="http_4xx")
    sandbox_client.add_fault(vendor="expertflow", action="reset", after_processing=True, path="insertCallback")
    outcomes = hook.upload_contacts(str(SALES), contact_rows("+15550105002", "+15550105003"), options=UploadOptions())
    assert statuses(outcomes) == ["accepted", "accepted"]
    phones = [c["phone1"] for c in ecm.callbacks.values()]
    assert phones.count("+15550105002") == phones.count("+15550105003") == 1


# -- ecm_token_refused_status -----------------------------------------------------------------------------


def test_a_token_refused_with_403_is_renewed_by_one_login(hook, sandbox_client):
    read_as(sandbox_client, ecm_token_refused_status="403")
    hook.get_campaigns()
    sandbox_client.expire_credentials("expertflow")
    assert len(hook.get_campaigns()) == 3
    assert hook.login_count == 2


def test_the_readings_extra_401_keeps_a_403_final(sandbox_client, make_connection):
    read_as(sandbox_client, ecm_token_refused_status="403")
    conn_id = make_connection("ecm_401_only", "expertflow_ecm", extra={"readings": {"ecm_token_refused_status": "401"}})
    with ExpertflowEcmHook(conn_id, retry_policy=FAST) as ecm_hook:
        ecm_hook.get_campaigns()
        sandbox_client.expire_credentials("expertflow")
        with pytest.raises(DialerRequestError) as caught:
            ecm_hook.get_campaigns()
        assert caught.value.status_code == 403 and ecm_hook.login_count == 1


# -- ecm_login_method -------------------------------------------------------------------------------------


def logins(sandbox_client) -> list[str]:
    return [r["method"] for r in sandbox_client.requests(vendor="expertflow", path="/api/login")]


def test_a_server_taking_the_login_as_post_only_is_logged_in_and_remembered(hook, sandbox_client):
    read_as(sandbox_client, ecm_login_method="post")
    assert len(hook.get_campaigns()) == 3
    sandbox_client.expire_credentials("expertflow")
    assert len(hook.get_campaigns()) == 3
    assert logins(sandbox_client) == ["GET", "POST", "POST"]  # the renewal goes straight to POST


def test_the_readings_extra_post_logs_in_with_post_at_once(sandbox_client, make_connection):
    read_as(sandbox_client, ecm_login_method="post")
    conn_id = make_connection("ecm_login_post", "expertflow_ecm", extra={"readings": {"ecm_login_method": "post"}})
    with ExpertflowEcmHook(conn_id, retry_policy=FAST) as ecm_hook:
        assert ecm_hook.test_connection()[0] is True
    assert logins(sandbox_client) == ["POST"]


def every_reading_declared(sandbox) -> dict[str, tuple[str, ...]]:
    return {reading.name: reading.choices for reading in sandbox.core.vendors["expertflow"].readings}


def test_the_hook_knows_every_switch_the_sandbox_plays_with_the_same_choices(sandbox):
    declared: dict[str, Any] = every_reading_declared(sandbox)
    assert dict(ExpertflowEcmHook.known_readings) == declared
    assert {"ecm_page_base", "ecm_getlist_filters", "ecm_dnc_save_answer", "ecm_discard_answer"} <= set(declared)
