"""``recontact_after`` on the dialers that take uploads, over real HTTP against the sandbox.

A file is loaded, the dialer calls everyone to the end, and the contacts of the first rows are made to
have finished long ago (their last-change times moved 40 days back). Loading the same file again:

* without ``recontact_after`` adds nobody (every row a duplicate, nothing sent);
* with ``recontact_after`` of 30 days, each contact finished long ago is loaded again, once: ECM stores
  a new callback, Sinch deletes the handled customer and adds it again (one customer per externalId,
  not handled), Ameyo churns the customer back to NOT_TRIED with one callback; the contacts finished
  recently stay duplicates; a third load adds nobody (the re-loaded contacts are pending);
* the dialer then calls each re-loaded person once more;
* with answers lost after the server acted (on the add, the delete, the callback) and with a task that
  dies between Sinch's delete and its add, then runs again, each contact is still there exactly once.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_dialers.errors import DialerTransientError
from airflow_provider_dialers.operators.upload import UploadContactsOperator
from airflow_provider_dialers.vendors.sinch.hook import SinchObiHook

pytestmark = [pytest.mark.usefixtures("fast_dialer_hooks"), pytest.mark.readings_profiles]

ROWS, OLD = 12, 8  # contacts loaded; the first OLD finished 40 days ago, the others just now
LONG_AGO = datetime.now(timezone.utc) - timedelta(days=40)
RECONTACT = timedelta(days=30)
ECM_CAMPAIGN = "1"  # "Welcome IVR", running
SINCH_CAMPAIGN = "62718C7889CC44F7B944C1A6F6BE9B7F"  # "Spring Renewals", Active
AMEYO_CAMPAIGN, AMEYO_LEAD = "1", 39  # MoviStarSurvey; lead 39 is enabled and empty
CONNECTIONS = {"expertflow": "expertflow_ecm_default", "sinch": "sinch_obi_default", "ameyo": "ameyo_default"}


def ids(selection: slice = slice(None)) -> list[str]:
    return [f"re-{n}" for n in range(ROWS)][selection]


def phone(n: int, vendor: str) -> str:
    return f"+1212555{n:04d}" if vendor == "expertflow" else f"+35840800{n:04d}"


def write_file(tmp_path: Path, vendor: str) -> Path:
    zone = "America/New_York" if vendor == "expertflow" else "Europe/Helsinki"
    source = tmp_path / f"{vendor}.csv"
    source.write_text("external_id,phone,timezone\n" + "".join(
        f"re-{n},{phone(n, vendor)},{zone}\n" for n in range(ROWS)))
    return source


def upload(vendor: str, source: Path, **arguments: Any) -> dict[str, Any]:
    campaign = {"expertflow": ECM_CAMPAIGN, "sinch": SINCH_CAMPAIGN, "ameyo": AMEYO_CAMPAIGN}[vendor]
    extra = {"lead_id": AMEYO_LEAD} if vendor == "ameyo" else {}
    return UploadContactsOperator(task_id="upload", dialer_conn_id=CONNECTIONS[vendor], campaign_id=campaign,
                                  source=str(source), batch_size=5, max_concurrency=1, **extra,
                                  **arguments).execute({})


def counts(result: dict[str, Any]) -> tuple[int, int, int]:
    return result["accepted"], result["duplicates"], result["sent"]


# -- what each sandbox holds of the file's contacts --------------------------------------------------------


def held(vendor: str, sandbox: Any) -> list[dict[str, Any]]:
    """The file's contacts as the vendor's sandbox holds them: ``{"key", "pending", "calls"}`` each
    (ECM: one per callback; Sinch: one per customer; Ameyo: one per customer, ``callbacks`` its
    callbacks not dialled yet)."""
    state = sandbox.client.state(vendor)
    phones = {phone(n, vendor).lstrip("+"): f"re-{n}" for n in range(ROWS)}
    if vendor == "expertflow":
        return [{"key": phones[c["phone1"].lstrip("+")], "pending": c["requestState"] in ("Pending", 0, "0")}
                for c in state["callbacks"] if c["phone1"].lstrip("+") in phones]
    if vendor == "sinch":
        return [{"key": c["externalId"], "pending": c["result"] == "", "calls": c["callCount"]}
                for c in state["campaigns"][SINCH_CAMPAIGN]["customers"] if c["externalId"] in phones.values()]
    waiting = Counter(c["customerId"] for c in state["callbacks"] if not c["dialled"])
    made = Counter(c["customerId"] for c in state["callbacks"] if c["dialled"])
    return [{"key": c["customerData"]["external_id"], "pending": c["columns"]["status"] == "NOT_TRIED",
             "calls": c["columns"]["attempts"], "callbacks": waiting[c["customerId"]],
             "made": made[c["customerId"]], "id": c["customerId"]}
            for c in state["customers"] if c["customerData"].get("external_id") in phones.values()]


def finish_long_ago(vendor: str, sandbox: Any) -> None:
    """Move the last change of the first OLD contacts 40 days back (the dialer finished them then)."""
    state = sandbox.core.vendors[vendor]
    old = {phone(n, vendor).lstrip("+") for n in range(OLD)}
    if vendor == "expertflow":
        for callback in state.callbacks.values():
            if str(callback["phone1"]).lstrip("+") in old:
                callback["lastStatusUpdateTime"] = callback["requestTime"] = LONG_AGO.strftime("%Y-%m-%dT%H:%M:%SZ")
    elif vendor == "sinch":
        for customer in state.campaigns[SINCH_CAMPAIGN].customers.values():
            if customer.numbers[0].lstrip("+") in old:
                customer.modification_date = LONG_AGO
    else:
        stamp = LONG_AGO.strftime("%Y-%m-%d %H:%M:%S")
        for customer in state.customers.values():
            if str(customer["customerData"].get("phone1")).lstrip("+") in old:
                customer["dateModified"] = stamp
                customer["columns"].update(last_dialed=stamp, last_dialed_time=stamp)


def dialled_to_the_end(vendor: str, sandbox: Any, source: Path) -> None:
    first = upload(vendor, source)
    assert counts(first) == (ROWS, 0, ROWS)
    sandbox.client.advance(vendor=vendor)
    assert not any(contact["pending"] for contact in held(vendor, sandbox))
    finish_long_ago(vendor, sandbox)


def assert_loaded_again_once(vendor: str, sandbox: Any) -> None:
    """Each contact finished long ago is there again, pending, once; those finished recently are not."""
    contacts = held(vendor, sandbox)
    pending = Counter(contact["key"] for contact in contacts if contact["pending"])
    assert pending == Counter(ids(slice(OLD))), pending
    if vendor == "expertflow":  # the earlier callback stays, finished; the new one is pending
        assert Counter(contact["key"] for contact in contacts) == Counter(ids(slice(OLD)) * 2 + ids(slice(OLD, None)))
        return
    assert sorted(contact["key"] for contact in contacts) == sorted(ids())  # one customer per person
    if vendor == "ameyo":  # one callback each, on the existing customer
        assert {c["key"]: c["callbacks"] for c in contacts} == {key: int(key in ids(slice(OLD))) for key in ids()}


VENDORS = ["expertflow", "sinch", "ameyo"]


@pytest.mark.parametrize("vendor", VENDORS)
def test_recontact_after_loads_again_once_only_those_finished_long_enough_ago(vendor, sandbox, tmp_path):
    source = write_file(tmp_path, vendor)
    dialled_to_the_end(vendor, sandbox, source)

    assert counts(upload(vendor, source)) == (0, ROWS, 0)  # without recontact_after: nobody
    assert counts(upload(vendor, source, recontact_after=RECONTACT)) == (OLD, ROWS - OLD, OLD)
    assert_loaded_again_once(vendor, sandbox)
    if vendor == "ameyo":  # the existing customers, churned
        again = {c["key"]: c["id"] for c in held(vendor, sandbox)}
        assert len(set(again.values())) == ROWS
    # Loaded again, they are pending: a third load adds nobody, with or without recontact_after.
    assert counts(upload(vendor, source, recontact_after=RECONTACT)) == (0, ROWS, 0)
    assert counts(upload(vendor, source)) == (0, ROWS, 0)
    assert_loaded_again_once(vendor, sandbox)


@pytest.mark.parametrize("vendor", VENDORS)
def test_the_dialer_calls_each_contact_loaded_again_once_more(vendor, sandbox, tmp_path):
    source = write_file(tmp_path, vendor)
    dialled_to_the_end(vendor, sandbox, source)
    before = {c["key"]: c.get("calls") for c in held(vendor, sandbox)}
    upload(vendor, source, recontact_after=RECONTACT)
    assert sorted(c["key"] for c in held(vendor, sandbox) if c["pending"]) == sorted(ids(slice(OLD)))
    if vendor == "sinch":  # the campaign went Handled when everyone was handled: activate it again
        sandbox.core.vendors["sinch"].campaigns[SINCH_CAMPAIGN].set_status("Active")
    moves = sandbox.client.advance(vendor=vendor)
    assert moves  # the dialer made calls
    contacts = held(vendor, sandbox)
    assert not any(contact["pending"] for contact in contacts)
    recent = [c for c in contacts if c["key"] in ids(slice(OLD, None))]
    if vendor != "expertflow":  # (ECM: a new callback each, asserted above; the earlier ones unchanged)
        assert all(c["calls"] == before[c["key"]] for c in recent)  # not called again
        assert all(c["calls"] >= 1 for c in contacts if c["key"] in ids(slice(OLD)))  # called again
    if vendor == "ameyo":  # its one callback was made (the churned customer's next call), none waits
        assert {c["key"]: (c["made"], c["callbacks"]) for c in contacts} == {
            key: (int(key in ids(slice(OLD))), 0) for key in ids()}


# -- under faults -------------------------------------------------------------------------------------------


def faults_met(vendor: str, sandbox: Any) -> dict[str, int]:
    """Requests that met an injected fault, by method."""
    return dict(Counter(r["method"] for r in sandbox.client.requests(vendor=vendor) if r["fault"]))


@pytest.mark.parametrize("vendor", ["expertflow", "sinch"])
def test_lost_answers_to_the_adds_still_load_each_contact_once(vendor, sandbox, tmp_path):
    source = write_file(tmp_path, vendor)
    dialled_to_the_end(vendor, sandbox, source)
    path = "insertCallback" if vendor == "expertflow" else "/customers/list$"
    sandbox.client.add_fault(action="reset", vendor=vendor, method="POST", path=path, after_processing=True,
                             count=2)  # the first add, and its first re-send
    result = upload(vendor, source, recontact_after=RECONTACT)
    sandbox.client.clear_faults()
    assert faults_met(vendor, sandbox) == {"POST": 2}
    assert (result["accepted"], result["duplicates"]) == (OLD, ROWS - OLD)
    assert_loaded_again_once(vendor, sandbox)


def test_sinch_lost_answers_to_the_delete_and_the_add_again_load_each_contact_once(sandbox, tmp_path, monkeypatch):
    source = write_file(tmp_path, "sinch")
    dialled_to_the_end("sinch", sandbox, source)
    delete = SinchObiHook.delete_customer

    def deleting(self, campaign_id, customer_id, **kwargs):  # the add after the deletes loses its answer too
        if not sandbox.core.faults:
            sandbox.client.add_fault(action="reset", vendor="sinch", method="POST", path="/customers/list$",
                                     after_processing=True, count=1)
        return delete(self, campaign_id, customer_id, **kwargs)

    monkeypatch.setattr(SinchObiHook, "delete_customer", deleting)
    sandbox.client.add_fault(action="reset", vendor="sinch", method="DELETE", path="/customers/",
                             after_processing=True, count=3)  # the first three deletes
    result = upload("sinch", source, recontact_after=RECONTACT)
    sandbox.client.clear_faults()
    assert faults_met("sinch", sandbox) == {"DELETE": 3, "POST": 2}
    assert (result["accepted"], result["duplicates"]) == (OLD, ROWS - OLD)
    assert_loaded_again_once("sinch", sandbox)


def test_sinch_a_task_dying_between_the_delete_and_the_add_loads_them_on_its_retry(sandbox, tmp_path, monkeypatch):
    source = write_file(tmp_path, "sinch")
    dialled_to_the_end("sinch", sandbox, source)
    delete = SinchObiHook.delete_customer

    def deleting(self, campaign_id, customer_id, **kwargs):  # from the first delete on, every add fails
        deleted = delete(self, campaign_id, customer_id, **kwargs)
        sandbox.client.add_fault(action="status", status=503, vendor="sinch", method="POST",
                                 path="/customers/list$", count=None)
        return deleted

    monkeypatch.setattr(SinchObiHook, "delete_customer", deleting)
    with pytest.raises(DialerTransientError):
        upload("sinch", source, recontact_after=RECONTACT)
    monkeypatch.undo()
    sandbox.client.clear_faults()
    missing = {c["key"] for c in held("sinch", sandbox)} ^ set(ids())
    assert missing and missing <= set(ids(slice(OLD)))  # deleted, not yet added again

    retry = upload("sinch", source, recontact_after=RECONTACT)
    assert (retry["accepted"], retry["duplicates"]) == (OLD, ROWS - OLD)
    assert_loaded_again_once("sinch", sandbox)


def lose_the_answer_after(ameyo: Any, sandbox: Any, monkeypatch: pytest.MonkeyPatch, command: str,
                          by_customer_id: bool, **fault: Any) -> list[str]:
    """The Ameyo command right after the first ``command`` (by ``customerIds`` or not) Ameyo answers
    meets ``fault`` (every command has the one path, so the fault is armed once that command has
    run). Returns the commands run."""
    ran: list[str] = []
    execute = ameyo.execute

    def running(name: str, data_text: str | None) -> Any:
        response = execute(name, data_text)
        ran.append(name)
        answered = b'"Failed."' not in bytes(response.body)  # (a refused limitOffset form is sent again)
        if (name == command and answered and ('"customerIds"' in (data_text or "")) == by_customer_id
                and "armed" not in ran):
            ran.append("armed")
            sandbox.core.add_fault(vendor="ameyo", count=1, **fault)
        return response

    monkeypatch.setattr(ameyo, "execute", running)
    return ran


@pytest.mark.parametrize("fault", [{"action": "reset", "after_processing": True}, {"action": "reset"}],
                         ids=["processed", "not_processed"])
def test_ameyo_a_lost_answer_to_the_callback_is_read_back_and_never_sent_twice(ameyo, sandbox, tmp_path,
                                                                                monkeypatch, fault):
    source = write_file(tmp_path, "ameyo")
    dialled_to_the_end("ameyo", sandbox, source)
    ran = lose_the_answer_after(ameyo, sandbox, monkeypatch, "getContacts", True, **fault)
    result = upload("ameyo", source, recontact_after=RECONTACT)
    # Two batches hold contacts finished long ago: two callback commands ran, whether the lost one had
    # run (read back: done) or not (read back: not done, sent again).
    assert "armed" in ran and ran.count("uploadContactAndAddCallback") == 2
    assert (result["accepted"], result["duplicates"]) == (OLD, ROWS - OLD)
    assert_loaded_again_once("ameyo", sandbox)


def test_ameyo_a_lost_answer_to_the_upload_still_recontacts_each_once(ameyo, sandbox, tmp_path, monkeypatch):
    """The re-sent uploadContacts answers DUPLICATE_NOT_ADDED for every row: those finished long ago are
    told from the lost attempt's own by their state."""
    source = write_file(tmp_path, "ameyo")
    dialled_to_the_end("ameyo", sandbox, source)
    ran = lose_the_answer_after(ameyo, sandbox, monkeypatch, "getContacts", False, action="reset",
                                after_processing=True)
    result = upload("ameyo", source, recontact_after=RECONTACT)
    assert ran[ran.index("armed") + 1] == "uploadContacts"
    assert (result["accepted"], result["duplicates"]) == (OLD, ROWS - OLD)
    assert_loaded_again_once("ameyo", sandbox)
