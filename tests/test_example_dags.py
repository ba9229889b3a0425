"""Example DAGs: import cleanly with no network access, and run end to end against the sandbox.

Each run is a ``dag.test()`` of the example DAG's file, with the run's ``conf`` (its Params
overrides) as ``airflow dags test --conf`` gives it, in the session's long-lived runner process
(the ``dag_runner`` fixture, ``tests/dag_runner.py``: its own SQLite metadata DB, the sandbox's
connections). What a run did is read from its tasks' states and return values (XComs) in that
metadata DB, with the demo's own reader (``scripts/demo.py``), and from the lines its tasks logged
through the task logger (``airflow.task``), captured by the runner. ``airflow dags test`` itself,
the demo's way in, is run by ``tests/test_reliability_secrets.py`` (the whole demo).
"""

from __future__ import annotations

import ast
import json
import re
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
DAGS_FOLDER = ROOT / "example_dags"
DAG_FILES = sorted(DAGS_FOLDER.glob("*.py"))
CONN_TYPES = ("expertflow_ecm", "maxcontact", "sinch_obi", "ameyo")
COUNTS = {"total": 13, "accepted": 4, "rejected": 8, "duplicates": 1, "skipped_dnc": 0, "skipped_window": 0}


def _demo():
    """``scripts/demo.py``: its XCom reader and its deferral timing are the ones these tests check."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import demo
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    return demo


def _dag_bag(folder: Path) -> Any:
    """Airflow's DagBag of ``folder`` (in airflow.dag_processing from 3.2, airflow.models before)."""
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 3.0, 3.1 (scripts/compat.sh)
        from airflow.models.dagbag import DagBag
    try:  # up to 3.2 a DagBag adds Airflow's own examples unless told not to; 3.3 has no such argument
        return DagBag(dag_folder=str(folder), include_examples=False)
    except TypeError:
        return DagBag(dag_folder=str(folder))


def test_example_dags_import_without_errors_or_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError(f"network access at DAG parse time: {args}")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    bag = _dag_bag(DAGS_FOLDER)
    assert bag.import_errors == {}
    assert "dialer_connections_check" in bag.dag_ids
    for dag in bag.dags.values():
        assert dag.doc_md and "dialers" in dag.tags


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=[path.stem for path in DAG_FILES])
def test_example_dags_log_through_the_task_logger_not_print(dag_file):
    """print() output lands in the collapsed "Post Execute" group of the task log in the UI."""
    tree = ast.parse(dag_file.read_text(), filename=str(dag_file))
    prints = [node.lineno for node in ast.walk(tree)
              if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"]
    assert prints == [], f"{dag_file.name} calls print() on lines {prints}"
    assert "DEMO-SUMMARY" not in dag_file.read_text()


@pytest.fixture(scope="module")
def example_dags() -> list:
    bag = _dag_bag(DAGS_FOLDER)
    assert bag.import_errors == {}
    assert sorted(bag.dag_ids) == sorted(path.stem for path in DAG_FILES)
    return list(bag.dags.values())


def test_every_param_of_every_example_dag_has_a_title_and_a_description(example_dags):
    missing = []
    for dag in example_dags:
        assert dag.params, dag.dag_id
        for name in dag.params:
            param = dag.params.get_param(name)
            if not (param.schema.get("title") or "").strip() or not (param.description or "").strip():
                missing.append(f"{dag.dag_id}.{name}")
    assert missing == []


def test_connection_params_name_the_connection_types_they_take_and_default_to_one(example_dags):
    checked = 0
    for dag in example_dags:
        for name in dag.params:
            if not re.search(r"conn_ids?$", name):
                continue
            param = dag.params.get_param(name)
            named = [conn_type for conn_type in CONN_TYPES
                     if re.search(rf"\b{conn_type}\b", param.description)]
            assert named, f"{dag.dag_id}.{name}: no connection type in {param.description!r}"
            defaults = param.value if isinstance(param.value, list) else [param.value]
            for default in defaults:
                match = re.fullmatch(rf"({'|'.join(CONN_TYPES)})_default", default)
                assert match, f"{dag.dag_id}.{name}: default {default!r} is no dialer's default connection"
                assert match[1] in named, f"{dag.dag_id}.{name}: default {default!r}, but takes {named}"
            checked += 1
    assert checked == 9  # one in every DAG, two in the follow-up and the nightly load (a second dialer)


@dataclass(frozen=True)
class ExampleRun:
    """One ``dag.test()`` of an example DAG in the runner."""

    answer: dict | None  #: the runner's answer (None: it gave none, see ``output``)
    output: str  #: Airflow's log meanwhile, as ``airflow dags test`` prints it
    run: Any  #: the run as the demo reads it from the metadata DB (``demo.RunResult``)

    @property
    def ok(self) -> bool:
        """The run succeeded (``airflow dags test`` would exit 0)."""
        return bool(self.answer and self.answer["ok"])

    @property
    def logged(self) -> list[str]:
        """The messages the run's tasks logged through the task logger (``airflow.task``), in order."""
        return self.answer["runs"][0]["logged"]

    @property
    def deferred(self) -> list[str]:
        """The tasks that deferred, each time its trigger fired (run inline by ``dag.test()``)."""
        return [deferral["task_id"] for deferral in self.answer["runs"][0]["deferred"]
                if deferral["event"] is not None]

    def failure(self) -> str:
        return self.output[-6000:] + f"\n{self.answer and self.answer['error']}"


def _run_example(dag_runner, sandbox, dag_id: str, conf: dict | None = None) -> ExampleRun:
    """Run the example DAG ``dag_id`` with ``conf`` against the sandbox (its ``connection_env()``),
    and read the run back as the demo does: each task's state and return value."""
    demo = _demo()
    dag_runner.wait_ready()
    before = demo.last_run_key(dag_runner.db)
    answer, output = dag_runner.run(DAGS_FOLDER / f"{dag_id}.py", conf=conf, env=sandbox.connection_env())
    text = "\n".join(output)
    assert answer is not None and not answer["error"], f"{dag_id}: the DAG runner gave no run\n{text[-6000:]}"
    (result,) = answer["runs"]
    run = demo.read_run(dag_runner.db, dag_id, after=before)
    assert run is not None and run.run_id == result["run_id"], (run, result["run_id"])
    # The runner's own account of the run (its protocol) agrees with the demo's reader.
    assert [(ti["task_id"], ti["map_index"], ti["state"], ti["label"], ti["value"])
            for ti in result["task_instances"]] == [
        (t.task_id, t.map_index, t.state, t.label, json.loads(json.dumps(t.value, default=str)))
        for t in run.tasks]
    return ExampleRun(answer, text, run)


def test_connections_check_dag_lists_every_vendors_campaigns(sandbox, dag_runner):
    example = _run_example(dag_runner, sandbox, "dialer_connections_check")
    assert example.ok, example.failure()
    assert "DEMO-SUMMARY" not in example.output
    run = example.run
    conn_ids = ["expertflow_ecm_default", "maxcontact_default", "sinch_obi_default", "ameyo_default"]
    checks = run.mapped("check_and_list")
    assert [check.label for check in checks] == conn_ids  # one mapped task per connection, labelled with it
    logged = example.logged
    for check in checks:
        conn_id = check.label
        assert check.value["conn_id"] == conn_id
        assert re.match(r"Connection to .+ OK: .*\d+ campaigns", check.value["message"]), check.value
        # every seeded campaign of the vendor is listed, and logged
        assert len(check.value["campaigns"]) >= 3, check.value
        assert f"{conn_id}: {check.value['message']}" in logged
        for campaign in check.value["campaigns"]:
            assert {"id", "name", "status", "running"} <= set(campaign)
            columns = [campaign["id"], *campaign["name"].split(), *campaign["status"].split()]
            assert any(line.split() == columns for line in logged), (campaign, logged)
    # the demo prints each check's answer and its campaigns
    summary = _demo().summary(run)
    assert summary[0].startswith("expertflow_ecm_default: Connection to ExpertFlow ECM OK: ")
    assert len(summary) == len(checks) + sum(len(check.value["campaigns"]) for check in checks)
    logins = sandbox.client.stats()["logins"]
    assert set(logins) >= {"expertflow", "maxcontact", "ameyo"}  # Sinch uses Basic auth: no login call


@pytest.mark.parametrize(("conn_id", "vendor", "campaign_id"), [
    ("expertflow_ecm_default", "expertflow", "1"),
    ("sinch_obi_default", "sinch", "62718C7889CC44F7B944C1A6F6BE9B7F"),
    ("ameyo_default", "ameyo", "1"),
])
def test_the_upload_dag_gives_the_same_accounting_on_every_dialer(sandbox, dag_runner, tmp_path, conn_id, vendor,
                                                                   campaign_id):
    conf = {"conn_id": conn_id, "campaign_id": campaign_id, "rejects_path": str(tmp_path / "rejects.csv")}
    example = _run_example(dag_runner, sandbox, "dialer_upload_contacts", conf)
    assert example.ok, example.failure()
    run = example.run
    report = dict(run.value("report"))
    first_rejects = report.pop("first_rejects")
    assert report == {"conn_id": conn_id, "campaign_id": campaign_id, **COUNTS,
                      "rejects_path": str(tmp_path / "rejects.csv")}
    assert [(r["row"], r["field"]) for r in first_rejects] == [
        (4, "phones[0]"), (5, "phones"), (6, "timezone"), (7, "dial_at"), (8, "dial_at")]
    logged = example.logged
    assert f"upload to {conn_id} campaign {campaign_id}: {COUNTS}" in logged
    assert f"    rejected row 5: phones: {first_rejects[1]['reason']}" in logged
    assert _demo().summary(run)[:2] == [
        f"upload to {conn_id} campaign {campaign_id}: "
        "13 rows: 4 accepted, 8 rejected, 1 duplicates, skipped 0 (DNC) + 0 (calling window)",
        f"    rejected row 4: phones[0]: {first_rejects[0]['reason']}"]
    rejects = (tmp_path / "rejects.csv").read_text()
    assert rejects.count("\n") == 9  # a header and the 8 rejected rows
    assert sandbox.client.stats()["requests"].get(vendor)


# -- issue 4: the lifecycle, fan-out, emergency and follow-up DAGs -----------------------------------

ECM_CONN = "expertflow_ecm_default"
SINCH_SPRING_RENEWALS = "62718C7889CC44F7B944C1A6F6BE9B7F"


def _airflow_30() -> bool:
    """Airflow 3.0 (scripts/compat.sh): its ``dag.test()`` logs a deferral in other words than the demo's
    Airflow (.venv, 3.3) does."""
    import airflow

    return airflow.__version__.startswith("3.0.")


def _deferred_tasks(output: str) -> list[str]:
    """Task ids that went DEFERRED, in Airflow's log of a ``dag.test()`` whose trigger then completed,
    as the demo finds them (``airflow dags test`` prints the same log)."""
    return [task_id for task_id, _ in _demo().deferrals(output)]


def test_campaign_lifecycle_dag_runs_an_ecm_campaign_end_to_end(sandbox, dag_runner, tmp_path):
    from collections import Counter

    from airflow_provider_dialers.hooks.expertflow import TERMINAL_STATES, RequestState

    sandbox.client.configure(dial_rate=100)
    rejects = tmp_path / "lifecycle.rejects.csv"
    conf = {"campaign_name": "Lifecycle test", "rejects_path": str(rejects), "callback_delay_seconds": 12}
    example = _run_example(dag_runner, sandbox, "dialer_campaign_lifecycle", conf)
    assert example.ok, example.failure()
    run = example.run

    ecm = sandbox.core.vendors["expertflow"]
    (campaign,) = [c for c in ecm.campaigns.values() if c["name"] == "Lifecycle test"]
    report = run.value("report")
    assert (report["campaign_name"], str(report["campaign_id"]), report["created"]) == (
        "Lifecycle test", str(campaign["id"]), True)
    assert campaign["status"] == "1"  # paused while loading, then resumed
    contacts = report["contacts"]
    assert {key: contacts[key] for key in ("total", "accepted", "rejected", "duplicates")} == {
        "total": 10, "accepted": 6, "rejected": 4, "duplicates": 0}
    assert contacts["rejects_path"] == str(rejects)
    assert [r["row"] for r in contacts["first_rejects"]] == [4, 5, 6, 7]
    assert all(r["field"] and r["reason"] for r in contacts["first_rejects"])
    assert {key: report["callbacks"][key] for key in ("accepted", "rejected", "duplicates")} == {
        "accepted": 2, "rejected": 0, "duplicates": 0}
    assert (report["complete"], report["total"], report["pending"]) == (True, 8, 0)
    logged = example.logged
    assert f"campaign 'Lifecycle test': id {campaign['id']} (created)" in logged
    assert "callbacks: 2 scheduled, 0 rejected, 0 duplicates" in logged
    assert "complete: True, 8 contacts, 0 in flight" in logged
    # the reported outcomes are the sandbox's: every contact settled, counted by its final state
    contacts = [c for c in ecm.callbacks.values() if c["campaignId"] == int(campaign["id"])]
    assert len(contacts) == 8
    assert all(RequestState(c["requestState"]) in TERMINAL_STATES for c in contacts)
    expected = Counter(RequestState(c["requestState"]).name for c in contacts)
    assert report["outcomes"] == dict(expected)
    assert f"outcomes: {report['outcomes']}" in logged
    summary = _demo().summary(run)
    assert summary[0] == f"campaign 'Lifecycle test': id {campaign['id']} (created)"
    assert summary[-3:] == ["callbacks: 2 scheduled, 0 rejected, 0 duplicates",
                            "complete: True, 8 contacts, 0 in flight", f"outcomes: {report['outcomes']}"]
    callbacks = {c["phone1"]: c for c in contacts if c["dialTime"]}
    assert set(callbacks) == {"+15550600101", "+15550600102"}
    assert {c["businessParam1"] for c in callbacks.values()} == {"Kim", "Lee"}
    assert rejects.read_text().count("\n") == 5  # a header and the 4 bad rows
    # the callbacks were due after the first check: the sensor waited in the triggerer
    assert example.deferred == ["wait_for_completion"]
    if not _airflow_30():  # the demo reads the deferral from Airflow's log as 3.1 on words it
        assert _deferred_tasks(example.output) == ["wait_for_completion"]
    assert run.mapped("wait_for_completion")[0].state == "success"


def test_global_emergency_dag_stops_then_restores_exactly_what_it_stopped(sandbox, dag_runner):
    from airflow_provider_dialers.hooks import get_dialer_hook

    conn_ids = ("maxcontact_default", ECM_CONN, "sinch_obi_default")

    def running() -> dict[str, set[str]]:
        states = {}
        for conn_id in conn_ids:
            with get_dialer_hook(conn_id) as hook:
                states[conn_id] = {c["id"] for c in hook.list_campaigns() if c["running"]}
        return states

    def statuses() -> dict[str, dict[str, str]]:
        states = {}
        for conn_id in conn_ids:
            with get_dialer_hook(conn_id) as hook:
                states[conn_id] = {c["id"]: c["status"] for c in hook.list_campaigns()}
        return states

    before, running_before = statuses(), running()
    assert all(running_before.values())  # every dialer has a running campaign to stop

    example = _run_example(dag_runner, sandbox, "dialer_global_emergency", {"enabled": True})
    assert example.ok, example.failure()
    run = example.run
    assert running() == {conn_id: set() for conn_id in conn_ids}
    assert statuses()[ECM_CONN]["2"] == before[ECM_CONN]["2"] == "Paused"  # paused before: untouched
    report = run.value("report")
    assert list(report) == list(conn_ids)
    assert [switch.label for switch in run.mapped("emergency_switch")] == list(conn_ids)
    logged = example.logged
    for conn_id in conn_ids:
        assert report[conn_id]["enabled"] is True
        assert {str(cid) for cid in report[conn_id]["paused"]} >= running_before[conn_id]
        mode, paused = report[conn_id]["mode"], report[conn_id]["paused"]
        assert f"{conn_id} ({mode}): emergency stop on; stopped {paused}" in logged
    assert report["maxcontact_default"]["mode"] == "native"

    example = _run_example(dag_runner, sandbox, "dialer_global_emergency", {"enabled": False})
    assert example.ok, example.failure()
    run = example.run
    assert statuses() == before
    report = run.value("report")
    logged = example.logged
    for conn_id in conn_ids:
        assert report[conn_id]["enabled"] is False
        assert {str(cid) for cid in report[conn_id]["resumed"]} >= running_before[conn_id]
        mode, resumed = report[conn_id]["mode"], report[conn_id]["resumed"]
        assert f"{conn_id} ({mode}): emergency stop off; restored {resumed}" in logged


def test_fanout_dag_sends_one_file_to_every_dialer_and_skips_what_cannot_take_it(sandbox, dag_runner, tmp_path):
    conf = {"rejects_dir": str(tmp_path / "rejects")}
    example = _run_example(dag_runner, sandbox, "dialer_multi_vendor_fanout", conf)
    assert example.ok, example.failure()
    run = example.run
    report = run.value("report")
    assert list(report.items()) == [
        ("expertflow_ecm_default", {"campaign_id": "2", **COUNTS}),
        ("maxcontact_default",
         {"campaign_id": "1", "state": "skipped", "reason": "its API cannot take contacts"}),
        ("sinch_obi_default", {"campaign_id": "8A7C98EAF1164F2FAA93B98EECB95D76", **COUNTS}),
        ("ameyo_default", {"campaign_id": "1", **COUNTS}),
    ]
    uploads = run.mapped("upload_contacts")
    assert [(upload.label, upload.state) for upload in uploads] == [
        ("expertflow_ecm_default", "success"), ("maxcontact_default", "skipped"),
        ("sinch_obi_default", "success"), ("ameyo_default", "success")]
    assert example.logged == [
        f"expertflow_ecm_default (campaign 2): {COUNTS}",
        "maxcontact_default (campaign 1): skipped (its API cannot take contacts)",
        f"sinch_obi_default (campaign 8A7C98EAF1164F2FAA93B98EECB95D76): {COUNTS}",
        f"ameyo_default (campaign 1): {COUNTS}",
    ]
    counts = "13 rows: 4 accepted, 8 rejected, 1 duplicates, skipped 0 (DNC) + 0 (calling window)"
    assert _demo().summary(run) == [
        f"expertflow_ecm_default (campaign 2): {counts}",
        "maxcontact_default (campaign 1): skipped (its API cannot take contacts)",
        f"sinch_obi_default (campaign 8A7C98EAF1164F2FAA93B98EECB95D76): {counts}",
        f"ameyo_default (campaign 1): {counts}",
    ]
    # One rejects file per dialer, named after its task instance (the map index tells them apart).
    names = sorted(path.name for path in (tmp_path / "rejects").iterdir())
    assert len(names) == 3 and all(name.startswith("contacts_sample.csv.dialer_multi_vendor_fanout.") for name in names)
    assert sorted(name.split(".upload_contacts.")[1] for name in names) == [
        "map0.rejects.csv", "map2.rejects.csv", "map3.rejects.csv"]
    ecm = sandbox.core.vendors["expertflow"]
    assert sum(1 for c in ecm.callbacks.values() if c["campaignId"] == 2) == 3 + 4  # seeded + accepted


def _set_ecm_contact_state(sandbox, phone: str, state: int, attempts: int) -> None:
    """Settle a seeded contact of ECM campaign 1 by hand (the sandbox does not dial in tests)."""
    ecm = sandbox.core.vendors["expertflow"]
    (contact,) = [c for c in ecm.callbacks.values() if c["phone1"] == phone and c["campaignId"] == 1]
    contact.update(requestState=state, attemptNumber=attempts)


def _sinch_customers(sandbox, external_id: str) -> list:
    campaign = sandbox.core.vendors["sinch"].campaigns[SINCH_SPRING_RENEWALS]
    return [c for c in campaign.customers.values() if c.external_id == external_id]


def test_followup_dag_calls_back_on_the_fallback_dialer_when_retries_are_exhausted(sandbox, dag_runner):
    from airflow_provider_dialers.hooks.expertflow import RequestState

    _set_ecm_contact_state(sandbox, "+15550100102", RequestState.RETRIES_COMPLETED, 3)
    example = _run_example(dag_runner, sandbox, "dialer_contact_followup", {"contact": "+15550100102"})
    assert example.ok, example.failure()
    run = example.run
    report = dict(run.value("report_callback"))
    follow_up = report.pop("follow_up")
    assert report == {"contact": "+15550100102", "conn_id": ECM_CONN, "campaign_id": "1",
                      "state": "RETRIES_COMPLETED", "attempts": 3}
    assert follow_up == {"conn_id": "sinch_obi_default", "campaign_id": SINCH_SPRING_RENEWALS, "total": 1,
                         "accepted": 1, "rejected": 0, "duplicates": 0, "skipped_dnc": 0, "skipped_window": 0,
                         "first_rejects": []}
    assert run.mapped("contact_reached")[0].state == "skipped"
    assert example.logged == [
        "contact +15550100102 on expertflow_ecm_default: RETRIES_COMPLETED after 3 attempts",
        f"callback on sinch_obi_default campaign {SINCH_SPRING_RENEWALS}: "
        "1 scheduled, 0 already scheduled, 0 rejected",
    ]
    assert _demo().summary(run) == [
        "contact +15550100102 on expertflow_ecm_default campaign 1: RETRIES_COMPLETED after 3 attempts",
        f"called back on sinch_obi_default campaign {SINCH_SPRING_RENEWALS}: "
        "1 scheduled, 0 already scheduled, 0 rejected"]
    (customer,) = _sinch_customers(sandbox, "followup-1-15550100102")
    assert customer.numbers == ["+15550100102", "+15550200102"]  # the ECM contact's phone1 and phone2


def test_followup_dag_ends_when_the_contact_was_reached(sandbox, dag_runner):
    from airflow_provider_dialers.hooks.expertflow import RequestState

    _set_ecm_contact_state(sandbox, "+15550100101", RequestState.CONNECTED, 1)
    example = _run_example(dag_runner, sandbox, "dialer_contact_followup")
    assert example.ok, example.failure()
    run = example.run
    assert run.value("contact_reached") == {"contact": "+15550100101", "conn_id": ECM_CONN,
                                            "campaign_id": "1", "state": "CONNECTED", "attempts": 1,
                                            "follow_up": None}
    assert {task.task_id: task.state for task in run.tasks if task.task_id != "wait_for_contact"} == {
        "decide": "success", "contact_reached": "success", "fallback_callback": "skipped",
        "schedule_fallback_callback": "skipped", "report_callback": "skipped"}
    assert example.logged == [
        "contact +15550100101 on expertflow_ecm_default: CONNECTED after 1 attempts",
        "reached (CONNECTED): no follow-up needed"]
    assert not _sinch_customers(sandbox, "followup-1-15550100101")
    # already final: the sensor did not defer
    assert example.deferred == _deferred_tasks(example.output) == []


def test_followup_dag_fails_at_once_on_a_failure_state(sandbox, dag_runner):
    from airflow_provider_dialers.hooks.expertflow import RequestState

    _set_ecm_contact_state(sandbox, "03001234567", RequestState.DNC_LISTED, 0)
    example = _run_example(dag_runner, sandbox, "dialer_contact_followup", {"contact": "03001234567"})
    assert not example.ok
    assert "reached failure state DNC_LISTED" in example.output
    run = example.run
    assert run.state == "failed"
    assert run.mapped("wait_for_contact")[0].state == "failed"
    assert [task.value for task in run.tasks] == [None] * len(run.tasks)  # nothing returned: nothing was done
    assert example.logged == []
    assert _demo().summary(run) == ["task wait_for_contact: failed (see its log)"]
    assert not _sinch_customers(sandbox, "followup-1-03001234567")


# -- issue 12: the nightly load, its outcomes and the callbacks ------------------------------------------

NIGHTLY_ANSWERING = {"+15550700001", "+15550700003", "+15550700005", "+15550100101"}


def _ecm_answers_only(sandbox, monkeypatch, answering: set[str]) -> None:
    """The simulated ECM dialer's calls connect for ``answering`` numbers and are busy for every other,
    instead of at random: the outcomes, and so the callbacks, are known in advance."""
    from airflow_provider_dialers.sandbox.expertflow import state

    def settle(callback: dict) -> None:
        if callback["numberToCall"] in answering:
            callback["requestState"], callback["callResult"] = state.CONNECTED, state.CALL_RESULT_CONNECTED
        else:
            callback["requestState"], callback["callResult"] = state.NOT_CONNECTED, 1  # busy: retried
    monkeypatch.setattr(sandbox.core.vendors["expertflow"], "_settle_attempt", settle)


def test_nightly_load_dag_loads_waits_exports_and_calls_back_who_was_not_reached(sandbox, dag_runner, tmp_path,
                                                                                 monkeypatch):
    import csv
    import sqlite3

    import pendulum

    from airflow_provider_dialers.hooks.expertflow import RequestState

    _ecm_answers_only(sandbox, monkeypatch, NIGHTLY_ANSWERING)
    sandbox.client.configure(dial_rate=100)
    outcomes_dir = tmp_path / "outcomes"
    example = _run_example(dag_runner, sandbox, "dialer_nightly_load", {"outcomes_dir": str(outcomes_dir)})
    assert example.ok, example.failure()
    run = example.run
    report = run.value("report")

    # the load: every row in one bucket (a bad phone, a DNC number, a repeated row)
    load = dict(report["load"])
    first_rejects = load.pop("first_rejects")
    assert load == {"total": 10, "accepted": 7, "rejected": 1, "duplicates": 1, "skipped_dnc": 1,
                    "skipped_window": 0}
    assert [(r["row"], r["field"]) for r in first_rejects] == [(8, "phones[0]")]
    # the export: the campaign's contacts one to one, each in the state ECM holds it in
    ecm = sandbox.core.vendors["expertflow"]
    held = {str(c["id"]): c for c in ecm.callbacks.values() if c["campaignId"] == 1}
    assert len(held) == 5 + 7  # seeded + loaded
    export = report["export"]
    assert export["path"].startswith(f"{outcomes_dir}/outcomes.1.") and export["rows"] == 12
    path = Path(export["path"])
    rows = list(csv.DictReader(path.open()))
    assert sorted(row["contact_ref"] for row in rows) == sorted(held)
    assert all(row["state"] == RequestState(held[row["contact_ref"]]["requestState"]).name
               and row["phone"] == held[row["contact_ref"]]["phone1"] for row in rows)
    assert export["by_state"] == {"CONNECTED": 4, "RETRIES_COMPLETED": 7, "DNC_LISTED": 1}
    assert report["outcomes"] == export["by_state"]  # the sensor's counts agree with the file
    # who is called back: those of tonight's file ECM gave up on; the seeded ones it gave up on are
    # not in the file, the DNC-listed one is never called
    assert report["decisions"] == {"reached": 4, "never": 1, "pending": 0, "not_in_file": 3, "call_back": 4}
    callbacks = dict(report["callbacks"])
    assert [(r["row"], r["field"]) for r in callbacks.pop("first_rejects")] == [(4, "callback_at")]
    assert callbacks == {"conn_id": "sinch_obi_default", "campaign_id": SINCH_SPRING_RENEWALS, "total": 4,
                         "accepted": 3, "rejected": 1, "duplicates": 0, "skipped_dnc": 0, "skipped_window": 0}
    called_back = {c.external_id: c for c in sandbox.core.vendors["sinch"].campaigns[SINCH_SPRING_RENEWALS]
                   .customers.values() if str(c.external_id).startswith("nl-")}
    assert sorted(called_back) == ["nl-002", "nl-004", "nl-006"]  # nl-007 has no time zone: not called
    for external_id, zone in (("nl-002", "America/New_York"), ("nl-004", "America/Los_Angeles"),
                              ("nl-006", "America/Chicago")):  # tomorrow at 10:00, their time
        due = pendulum.instance(called_back[external_id].date, tz="UTC").in_timezone(zone)
        assert (due.hour, due.minute, due.date()) == (10, 0, pendulum.now(zone).date().add(days=1))
    assert called_back["nl-002"].numbers == ["+15550700002", "+15550710002"]
    assert sorted(p.name for p in outcomes_dir.iterdir() if not p.name.endswith(".rejects.csv")) == [
        path.name.removesuffix(".csv") + ".callbacks.csv", path.name]  # no temporary file left
    # (the sensor defers while the campaign runs; at 100 contacts a second it may be done at the first check)
    assert run.mapped("wait_for_completion")[0].state == "success"
    # the outcomes file is an asset event, through the DAG's alias. Airflow 3.0's dag.test() does not
    # record events added through an alias (docs/compatibility.md), so that check starts at 3.1.
    with sqlite3.connect(dag_runner.db) as db:
        events = db.execute(
            "SELECT asset.uri, asset_event.extra FROM asset_event JOIN asset ON asset.id = asset_event.asset_id "
            "JOIN asset_alias_asset_event ON asset_alias_asset_event.event_id = asset_event.id "
            "JOIN asset_alias ON asset_alias.id = asset_alias_asset_event.alias_id "
            "WHERE asset_alias.name = 'dialer_nightly_outcomes' AND asset_event.source_run_id = ?",
            (run.run_id,)).fetchall()
    assert [(uri, json.loads(extra)["rows"]) for uri, extra in events] == ([] if _airflow_30() else [(path.as_uri(), 12)])
    # what the run logged and what the demo prints
    logged = example.logged
    assert "load into expertflow_ecm_default campaign 1: " + str({k: load[k] for k in load}) in logged
    assert not any(phone in line for line in logged for phone in ("+15550700002", "5550700002"))
    summary = _demo().summary(run)
    assert summary[0] == ("load into expertflow_ecm_default campaign 1: 10 rows: 7 accepted, 1 rejected, "
                          "1 duplicates, skipped 1 (DNC) + 0 (calling window)")
    assert f"exported 12 contacts to {export['path']}: {export['by_state']}" in summary
    assert summary[-2:] == [
        f"callbacks on sinch_obi_default campaign {SINCH_SPRING_RENEWALS}: 4 rows: 3 accepted, 1 rejected, "
        "0 duplicates, skipped 0 (DNC) + 0 (calling window)",
        f"    rejected row 4: callback_at: {report['callbacks']['first_rejects'][0]['reason']}"]
