"""ExportContactOutcomesOperator: a campaign's contacts and their states written to a file, over real
HTTP against the sandbox for ECM, Sinch and Ameyo (under both readings profiles): one row per
contact, CSV and JSON Lines, the states filter, atomic writes (a failure mid-stream leaves no file
and no temporary file; a retry writes the whole file), object storage, logs without a phone number,
MaxContact refused clearly, flat memory, and the asset event a downstream DAG is scheduled on."""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import sqlite3
import textwrap
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk import Asset, AssetAlias, ObjectStoragePath
from airflow.sdk.exceptions import AirflowSkipException
from airflow.sdk.io import attach
from fsspec.implementations.memory import MemoryFileSystem

from airflow_provider_dialers.capabilities import ContactRecord
from airflow_provider_dialers.errors import DialerNotSupportedError, DialerRequestError, DialerTransientError
from airflow_provider_dialers.hooks.ameyo import AmeyoHook
from airflow_provider_dialers.operators import ExportContactOutcomesOperator
from airflow_provider_dialers.operators.export import CONTACT_FIELDS, asset_uri, static_asset_uri
from tests import test_contact_states_ameyo as ameyo_states
from tests import test_contact_states_expertflow as ecm_states
from tests import test_contact_states_sinch as sinch_states
from tests.support import FAST

pytestmark = pytest.mark.readings_profiles  # every sandbox test under the first and second readings


@dataclass(frozen=True)
class Vendor:
    """A dialer under test: its connection, a campaign, how to fill it past a page, what it holds."""

    key: str  #: the sandbox's vendor name
    conn_id: str
    campaign_id: str
    size: int  #: contacts filled: 2.5 pages of the hook's listing
    cut_after: int  #: a record past the first page: the failure mid-stream is injected there
    listing_path: str  #: the listing's request path (a regular expression), where the fault goes

    def fill(self, hook: Any) -> None:
        if self.key == "expertflow":
            ecm_states.fill(hook, self.size, self.campaign_id)
        elif self.key == "sinch":
            sinch_states.fill(hook, self.campaign_id, self.size)
        else:
            ameyo_states.fill(hook, self.size, self.campaign_id)

    def held(self, sandbox_client) -> list[ContactRecord]:
        """Every contact the sandbox holds for the campaign, as the export must write it."""
        if self.key == "expertflow":
            return [ecm_states.expected_record(c) for c in ecm_states.held_callbacks(sandbox_client, self.campaign_id)]
        if self.key == "sinch":
            return [sinch_states.expected_record(c)
                    for c in sinch_states.sandbox_customers(sandbox_client, self.campaign_id)]
        return ameyo_states.expected_records(sandbox_client, self.campaign_id)


ECM = Vendor("expertflow", "expertflow_ecm_default", "1", 1250, 700, "callback/getList")
SINCH = Vendor("sinch", "sinch_obi_default", sinch_states.ACTIVE, 250, 150, "/customers$")
AMEYO = Vendor("ameyo", "ameyo_default", "1", 250, 150, "/ameyowebaccess/command")
VENDORS = [ECM, SINCH, AMEYO]
#: Dialling moves per vendor before an export: some contacts settled, some retried, most pending.
MOVES = {"expertflow": 1500, "sinch": 150, "ameyo": 300}


@pytest.fixture(autouse=True)
def ameyo_pages_of_100(monkeypatch) -> None:
    """Ameyo lists 10,000 a page by default: 100 here, so a campaign of 250 takes three pages."""
    monkeypatch.setattr(AmeyoHook, "contacts_page_size", ameyo_states.PAGE)


@pytest.fixture(scope="module")
def memory_store() -> str:
    """An in-memory object store standing in for S3."""
    attach("memory", fs=MemoryFileSystem())
    return "memory://exports"


@pytest.fixture(params=VENDORS, ids=[v.key for v in VENDORS])
def vendor(request, sandbox, sandbox_client, fast_dialer_hooks) -> Vendor:
    """A vendor whose campaign holds ``size`` contacts, some dialled."""
    from airflow_provider_dialers.hooks import get_dialer_hook

    chosen: Vendor = request.param
    with get_dialer_hook(chosen.conn_id, retry_policy=FAST) as hook:
        chosen.fill(hook)
    sandbox_client.advance(MOVES[chosen.key], vendor=chosen.key)
    return chosen


def export(vendor: Vendor, path: Any, **arguments: Any) -> dict[str, Any]:
    return ExportContactOutcomesOperator(task_id="export", dialer_conn_id=vendor.conn_id,
                                         campaign_id=vendor.campaign_id, path=path, **arguments).execute({})


def from_csv(text: str) -> list[dict[str, Any]]:
    """The CSV's rows with the record's types back: empty -> None, true/false, attempts a number."""
    rows = []
    for row in csv.DictReader(io.StringIO(text)):
        values: dict[str, Any] = {key: (value if value != "" else None) for key, value in row.items()}
        if "terminal" in values:
            assert values["terminal"] in ("true", "false")
            values["terminal"] = values["terminal"] == "true"
        if values.get("attempts") is not None:
            values["attempts"] = int(values["attempts"])
        rows.append(values)
    return rows


def from_jsonl(text: str) -> list[dict[str, Any]]:
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def by_ref(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda row: str(row["contact_ref"]))


def listing(path: Path) -> list[str]:
    return sorted(entry.name for entry in path.iterdir())


# -- one row per contact ------------------------------------------------------------------------------


@pytest.mark.parametrize("file_format", ["csv", "jsonl"])
def test_the_file_holds_each_contact_of_the_campaign_once_as_the_dialer_holds_it(vendor, sandbox_client, tmp_path,
                                                                                  file_format):
    target = tmp_path / f"outcomes.{file_format}"
    result = export(vendor, str(target), format=file_format)

    held = [record.to_dict() for record in vendor.held(sandbox_client)]
    assert len(held) == vendor.size
    text = target.read_text(encoding="utf-8")
    rows = from_csv(text) if file_format == "csv" else from_jsonl(text)
    assert by_ref(rows) == by_ref(held)  # one to one, every field as the dialer holds it
    assert len({row["contact_ref"] for row in rows}) == vendor.size
    if file_format == "csv":
        assert text.splitlines()[0] == ",".join(CONTACT_FIELDS)
    else:
        assert all(list(row) == list(CONTACT_FIELDS) for row in rows)
    assert result == {"path": str(target), "rows": vendor.size,
                      "by_state": dict(Counter(row["state"] for row in held))}
    assert len(result["by_state"]) >= 2  # dialled and pending contacts alike
    assert listing(tmp_path) == [target.name]  # no temporary file left


def test_the_states_filter_takes_the_vendors_words_in_any_case(vendor, sandbox_client, tmp_path):
    held = vendor.held(sandbox_client)
    two_states = [state for state, _ in Counter(r.state for r in held).most_common(2)]
    target = tmp_path / "some.jsonl"

    result = export(vendor, target, format="jsonl", states=",".join(s.lower() for s in two_states))

    wanted = [r.to_dict() for r in held if r.state in two_states]
    assert 0 < len(wanted) < len(held)
    assert by_ref(from_jsonl(target.read_text())) == by_ref(wanted)
    assert result["rows"] == len(wanted)
    assert result["by_state"] == dict(Counter(r["state"] for r in wanted))


def test_the_fields_asked_for_in_their_order(sandbox, fast_dialer_hooks, sandbox_client, tmp_path):
    target = tmp_path / "phones.csv"
    export(SINCH, target, fields=["phone", "state", "external_id"])

    text = target.read_text()
    assert text.splitlines()[0] == "phone,state,external_id"
    held = {r.external_id: r for r in SINCH.held(sandbox_client)}
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(held) == 6
    assert all((row["phone"], row["state"]) == (held[row["external_id"]].phone, held[row["external_id"]].state)
               for row in rows)


def test_an_empty_selection_writes_a_file_with_only_the_header(sandbox, fast_dialer_hooks, tmp_path):
    target = tmp_path / "none.csv"
    result = export(ECM, target, states=["RETRIES_COMPLETED"])  # nothing dialled yet
    assert result == {"path": str(target), "rows": 0, "by_state": {}}
    assert target.read_text() == ",".join(CONTACT_FIELDS) + "\n"


# -- atomic writes ---------------------------------------------------------------------------------------


def failing_mid_stream(operator: ExportContactOutcomesOperator, sandbox_client, vendor: Vendor) -> list[int]:
    """Make the operator's listing fail after ``cut_after`` records: from then on the dialer answers
    the listing's requests with 503 (real HTTP). The count of records the export received."""
    hook = operator.hook
    real = hook.iter_contact_states
    received = [0]

    def listing_then_outage(campaign_id: str, states: Any = None) -> Iterator[ContactRecord]:
        for record in real(campaign_id, states):
            received[0] += 1
            if received[0] == vendor.cut_after:
                sandbox_client.add_fault(vendor=vendor.key, path=vendor.listing_path, status=503, count=None)
            yield record

    hook.iter_contact_states = listing_then_outage
    return received


def test_a_failure_mid_stream_leaves_no_file_and_a_retry_writes_it_whole(vendor, sandbox_client, tmp_path):
    target = tmp_path / "out" / "outcomes.csv"
    first_try = ExportContactOutcomesOperator(task_id="export", dialer_conn_id=vendor.conn_id,
                                              campaign_id=vendor.campaign_id, path=str(target))
    received = failing_mid_stream(first_try, sandbox_client, vendor)

    with pytest.raises(DialerTransientError):
        first_try.execute({})

    assert received[0] >= vendor.cut_after  # the file was being written when the dialer failed
    assert listing(target.parent) == []  # no half file at the path, no temporary file beside it

    sandbox_client.clear_faults()
    result = export(vendor, str(target))  # the retry
    assert result["rows"] == vendor.size
    assert by_ref(from_csv(target.read_text())) == by_ref([r.to_dict() for r in vendor.held(sandbox_client)])
    assert listing(target.parent) == ["outcomes.csv"]


def test_a_failed_export_leaves_the_previous_file_as_it_was(sandbox, sandbox_client, fast_dialer_hooks, tmp_path):
    target = tmp_path / "outcomes.csv"
    export(ECM, target)
    before = target.read_bytes()
    with ecm_hook() as hook:
        ECM.fill(hook)
    operator = ExportContactOutcomesOperator(task_id="export", dialer_conn_id=ECM.conn_id,
                                             campaign_id=ECM.campaign_id, path=target)
    failing_mid_stream(operator, sandbox_client, ECM)

    with pytest.raises(DialerTransientError):
        operator.execute({})

    assert target.read_bytes() == before  # the last complete export, untouched
    assert listing(tmp_path) == ["outcomes.csv"]


def ecm_hook() -> Any:
    from airflow_provider_dialers.hooks.expertflow import ExpertflowEcmHook

    return ExpertflowEcmHook(retry_policy=FAST)


def test_an_unknown_campaign_fails_before_anything_is_written(sandbox, fast_dialer_hooks, tmp_path):
    operator = ExportContactOutcomesOperator(task_id="export", dialer_conn_id=SINCH.conn_id,
                                             campaign_id="0" * 32, path=tmp_path / "outcomes.csv")
    with pytest.raises(DialerRequestError) as refused:
        operator.execute({})
    assert refused.value.status_code == 404
    assert listing(tmp_path) == []


# -- object storage and file:// URLs ---------------------------------------------------------------------


def test_an_object_storage_path_gets_the_whole_file_and_no_temporary_object(vendor, sandbox_client, memory_store,
                                                                             readings_profile):
    folder = ObjectStoragePath(f"{memory_store}/{vendor.key}-{readings_profile}")
    target = folder / "outcomes.jsonl"

    result = export(vendor, target)  # JSON Lines, by the name

    assert result["path"] == str(target) and result["rows"] == vendor.size
    assert by_ref(from_jsonl(target.read_text())) == by_ref([r.to_dict() for r in vendor.held(sandbox_client)])
    assert [entry.name for entry in folder.iterdir()] == ["outcomes.jsonl"]


def test_an_object_storage_export_failing_mid_stream_leaves_nothing(sandbox, sandbox_client, fast_dialer_hooks,
                                                                     memory_store, readings_profile):
    with ecm_hook() as hook:
        ECM.fill(hook)
    folder = ObjectStoragePath(f"{memory_store}/failed-{readings_profile}")
    url = f"{folder}/outcomes.csv"  # a URL this time: the operator makes the ObjectStoragePath
    operator = ExportContactOutcomesOperator(task_id="export", dialer_conn_id=ECM.conn_id,
                                             campaign_id=ECM.campaign_id, path=url)
    failing_mid_stream(operator, sandbox_client, ECM)

    with pytest.raises(DialerTransientError):
        operator.execute({})

    assert not folder.exists() or list(folder.iterdir()) == []
    sandbox_client.clear_faults()
    assert export(ECM, url)["rows"] == ECM.size
    assert [entry.name for entry in folder.iterdir()] == ["outcomes.csv"]


def test_a_file_url_is_a_local_file(sandbox, fast_dialer_hooks, tmp_path):
    target = tmp_path / "sub" / "outcomes.csv"
    result = export(AMEYO, target.as_uri())
    assert result["path"] == target.as_uri() and result["rows"] == 5
    assert len(from_csv(target.read_text())) == 5
    assert listing(target.parent) == ["outcomes.csv"]


# -- no phone number in the logs --------------------------------------------------------------------------


def test_the_logs_show_counts_and_states_but_no_phone_number(vendor, sandbox_client, tmp_path, caplog, capfd,
                                                             monkeypatch):
    monkeypatch.setattr("airflow_provider_dialers.operators.export.PROGRESS_EVERY", 100)  # progress lines too
    caplog.set_level(logging.DEBUG)

    result = export(vendor, tmp_path / "outcomes.csv")

    logged = caplog.text + "".join(capfd.readouterr())
    assert "Exported 100 contacts so far" in logged
    assert f"Exported {vendor.size} contacts" in logged and str(result["by_state"]) in logged
    phones = {r.phone for r in vendor.held(sandbox_client) if r.phone}
    assert len(phones) == vendor.size
    digit_runs = set(re.findall(r"\d+", logged))
    leaked = [phone for phone in phones if phone in logged or re.sub(r"\D", "", phone) in digit_runs]
    assert leaked == []


# -- MaxContact, and bad arguments ------------------------------------------------------------------------


def test_maxcontact_fails_naming_what_its_api_lacks_and_writes_nothing(sandbox, fast_dialer_hooks, tmp_path):
    operator = ExportContactOutcomesOperator(task_id="export", dialer_conn_id="maxcontact_default",
                                             campaign_id="1", path=tmp_path / "outcomes.csv")
    with pytest.raises(DialerNotSupportedError, match="MaxContact: cannot list a campaign's contacts"):
        operator.execute({})
    assert listing(tmp_path) == []

    skipping = ExportContactOutcomesOperator(task_id="export", dialer_conn_id="maxcontact_default",
                                             campaign_id="1", path=tmp_path / "outcomes.csv", on_unsupported="skip")
    with pytest.raises(AirflowSkipException, match="cannot list a campaign's contacts"):
        skipping.execute({})
    assert listing(tmp_path) == []


def test_bad_arguments_are_refused_when_the_dag_is_parsed():
    def build(**arguments: Any) -> ExportContactOutcomesOperator:
        return ExportContactOutcomesOperator(task_id="export", dialer_conn_id="sinch_obi_default", campaign_id="C",
                                             **{"path": "/tmp/outcomes.csv", **arguments})

    with pytest.raises(ValueError, match=r"format must be one of \('csv', 'jsonl'\), got 'xlsx'"):
        build(format="xlsx")
    with pytest.raises(ValueError, match=r"fields: \['mobile'\] not among the contact fields"):
        build(fields=["phone", "mobile"])
    with pytest.raises(ValueError, match="names a field twice"):
        build(fields=["phone", "phone"])
    assert build(format="{{ params.format }}").format == "{{ params.format }}"  # checked once rendered


def test_a_bad_format_rendered_at_run_time_fails_before_any_request(sandbox, sandbox_client, tmp_path):
    operator = ExportContactOutcomesOperator(task_id="export", dialer_conn_id=SINCH.conn_id,
                                             campaign_id=SINCH.campaign_id, path=tmp_path / "x", format="{{ x }}")
    operator.format = "parquet"  # as a template might render it
    with pytest.raises(ValueError, match="format must be one of"):
        operator.execute({})
    assert sandbox_client.requests(vendor="sinch") == [] and listing(tmp_path) == []


def test_a_missing_path_is_refused():
    operator = ExportContactOutcomesOperator(task_id="export", dialer_conn_id="sinch_obi_default",
                                             campaign_id="C", path="{{ params.path }}")
    operator.path = ""  # a Param left empty
    with pytest.raises(ValueError, match="path: where the export goes is required"):
        operator.run({})


# -- the asset: declared at parse time when the path is known, else through an alias ------------------------


def test_a_path_known_at_parse_time_is_the_tasks_outlet():
    def outlets(path: Any, **arguments: Any) -> list[Any]:
        return ExportContactOutcomesOperator(task_id="export", dialer_conn_id="sinch_obi_default",
                                             campaign_id="C", path=path, **arguments).outlets

    assert outlets("/data/outcomes.csv") == [Asset(uri="file:///data/outcomes.csv")]
    assert outlets(Path("/data/outcomes.csv")) == [Asset(uri="file:///data/outcomes.csv")]
    assert outlets("s3://aws_reports@bucket/outcomes.csv") == [Asset(uri="s3://bucket/outcomes.csv")]
    assert outlets("/data/{{ ds }}.csv") == []  # a template: known on the worker only
    assert outlets("relative.csv") == []  # relative to the worker's directory
    assert outlets("/data/{{ ds }}.csv", asset_alias="outcomes") == [AssetAlias(name="outcomes")]
    assert outlets("/data/o.csv", outlets=[Asset(uri="file:///data/o.csv")]) == [Asset(uri="file:///data/o.csv")]
    assert static_asset_uri(None) is None
    assert asset_uri("file:///data/o.csv") == "file:///data/o.csv"


@pytest.mark.one_profile  # the asset event does not depend on the readings
def test_the_written_file_is_an_asset_event_a_downstream_dag_can_be_scheduled_on(sandbox, dag_runner, tmp_path):
    fixed = tmp_path / "outcomes.csv"
    dag_file = dag_runner.dags / "export_outcomes_assets.py"
    dag_file.write_text(textwrap.dedent(f"""
        import pendulum
        from airflow.sdk import dag
        from airflow_provider_dialers.operators import ExportContactOutcomesOperator

        @dag(dag_id="export_outcomes_assets", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
             params={{"folder": {str(tmp_path)!r}}})
        def export_outcomes_assets():
            ExportContactOutcomesOperator(task_id="fixed_path", dialer_conn_id="sinch_obi_default",
                                          campaign_id={SINCH.campaign_id!r}, path={str(fixed)!r})
            ExportContactOutcomesOperator(task_id="templated_path", dialer_conn_id="ameyo_default",
                                          campaign_id="1", path="{{{{ params.folder }}}}/{{{{ run_id }}}}.jsonl",
                                          format="jsonl", asset_alias="nightly_outcomes")

        export_outcomes_assets()
    """))
    answer, output = dag_runner.run(dag_file, env=sandbox.connection_env())
    assert answer and answer["ok"], "\n".join(output[-80:]) + f"\n{answer and answer['error']}"
    (run,) = answer["runs"]
    values = {ti["task_id"]: ti["value"] for ti in run["task_instances"]}
    assert values["fixed_path"] == {"path": str(fixed), "rows": 6, "by_state": {"NOT_HANDLED": 6}}
    templated = values["templated_path"]
    assert templated["path"] == f"{tmp_path}/{run['run_id']}.jsonl" and templated["rows"] == 5

    with sqlite3.connect(dag_runner.db) as db:
        events = db.execute(
            "SELECT asset.uri, asset_event.extra, asset_event.source_task_id FROM asset_event "
            "JOIN asset ON asset.id = asset_event.asset_id WHERE asset_event.source_run_id = ?",
            (run["run_id"],)).fetchall()
        aliased = db.execute(
            "SELECT asset.uri FROM asset_alias JOIN asset_alias_asset ON asset_alias.id = asset_alias_asset.alias_id "
            "JOIN asset ON asset.id = asset_alias_asset.asset_id WHERE asset_alias.name = 'nightly_outcomes'"
        ).fetchall()
    found = {uri: (json.loads(extra), task_id) for uri, extra, task_id in events}
    fixed_extra, fixed_task = found[fixed.as_uri()]
    assert fixed_task == "fixed_path"
    assert fixed_extra == {"dialer_conn_id": "sinch_obi_default", "campaign_id": SINCH.campaign_id,
                           "format": "csv", "rows": 6, "by_state": {"NOT_HANDLED": 6}}
    templated_uri = Path(templated["path"]).as_uri()
    assert found[templated_uri][1] == "templated_path" and found[templated_uri][0]["rows"] == 5
    assert (templated_uri,) in aliased  # the alias resolved to the file written


# -- memory: flat in the campaign's size --------------------------------------------------------------------


class _GeneratedDialer:
    """A dialer whose campaign holds ``size`` contacts, generated one by one as the listing is read."""

    vendor_name = "Generated"

    def __init__(self, size: int) -> None:
        self.size = size

    def iter_contact_states(self, campaign_id: str, states: Any = None) -> Iterator[ContactRecord]:
        for n in range(self.size):
            yield ContactRecord(contact_ref=f"ref-{n}", external_id=f"crm-{n}", phone=f"+1555{n:07d}",
                                state=("CONNECTED", "BUSY", "PENDING")[n % 3], terminal=n % 3 != 2, attempts=n % 4,
                                last_result=None, last_change="2026-01-01T00:00:00+00:00")

    def close(self) -> None:
        pass


def _peak_bytes(size: int, target: Path) -> int:
    """The peak of memory allocated while exporting a campaign of ``size`` contacts to ``target``."""
    operator = ExportContactOutcomesOperator(task_id="export", dialer_conn_id="x", campaign_id="C", path=target)
    operator.__dict__["hook"] = _GeneratedDialer(size)
    tracemalloc.start()
    try:
        result = operator.execute({})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result["rows"] == size
    return peak


@pytest.mark.parametrize("file_format", ["csv", "jsonl"])
def test_memory_stays_flat_whatever_the_campaigns_size(tmp_path, file_format):
    small = _peak_bytes(5_000, tmp_path / f"small.{file_format}")
    large = _peak_bytes(50_000, tmp_path / f"large.{file_format}")
    assert large < small + 256 * 1024, (small, large)  # ten times the contacts, the same memory
    assert sum(1 for _ in (tmp_path / f"large.{file_format}").open()) == 50_000 + (file_format == "csv")
