"""A dry run shows what the real run sends: the same rows, uploaded once as a dry run and once for real
against the sandbox, give dry-run payloads equal to the request bodies the dialer received, row by row,
on ECM, Sinch and Ameyo (over real HTTP). The bodies are taken off the wire as the hook's session sends
them (a response hook on ``get_conn()``: the sandbox runs in this process and reads the same bytes).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pendulum
import pytest
import requests

from airflow_provider_dialers.capabilities import ContactRow, RowStatus, UploadOptions
from airflow_provider_dialers.contacts import parse_contact
from airflow_provider_dialers.hooks.ameyo import AmeyoHook
from airflow_provider_dialers.hooks.expertflow import ExpertflowEcmHook
from airflow_provider_dialers.hooks.sinch import SinchObiHook
from airflow_provider_dialers.uploads import CONTACTS, UploadSettings, run_upload
from airflow_provider_dialers.vendors.ameyo.records import (
    CALLBACK_COMMAND,
    DRY_RUN_CUSTOMER_ID,
    UPLOAD_COMMAND,
)
from airflow_provider_dialers.vendors.sinch.wire import attribute_list
from tests.support import FAST

#: Under both readings profiles (docs/readings.md): the second makes Sinch send its customers again in
#: the examples' attribute wrapper, which :func:`sinch_bodies` reads back to the schema's array.
pytestmark = pytest.mark.readings_profiles
SINCH_CAMPAIGN = "62718C7889CC44F7B944C1A6F6BE9B7F"
AMEYO_LEAD = 39  # campaign 1's empty lead


def dial_at(days: int) -> str:
    """A dial time ``days`` from now at 15:00 UTC, with its offset (inside the 10-year horizon)."""
    return pendulum.now("UTC").add(days=days).replace(hour=15, minute=0, second=0, microsecond=0).isoformat()


def rows_for(prefix: str) -> list[dict[str, Any]]:
    """Five rows: plain, with attributes and a zone, with a dial time, another dial time, and one every
    vendor's mapping refuses (an 11th phone: more than any of them takes), so it has no payload."""
    return [
        {"external_id": f"{prefix}-1", "phone": f"+1555{prefix}0001"},
        {"external_id": f"{prefix}-2", "phone": f"+1555{prefix}0002", "timezone": "America/Chicago",
         "attributes": {"name": "Ann"}},
        {"external_id": f"{prefix}-3", "phone": f"+1555{prefix}0003", "dial_at": dial_at(2)},
        {"external_id": f"{prefix}-4", "phones": [f"+1555{prefix}0004", f"+1555{prefix}0014"],
         "dial_at": dial_at(5), "attributes": {"name": "Bo"}},
        {"external_id": f"{prefix}-5", "phones": [f"+1555{prefix}{i:04d}" for i in range(100, 111)]},
    ]


def capture_bodies(hook: Any) -> list[tuple[str, bytes]]:
    """Every (path, body) the hook's session sends from now on, as it went on the wire."""
    sent: list[tuple[str, bytes]] = []

    def record(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        body = response.request.body
        sent.append((response.request.path_url, body.encode() if isinstance(body, str) else body or b""))

    hook.get_conn().hooks["response"].append(record)
    return sent


def dry_then_real(hook: Any, campaign_id: str, rows: list[dict[str, Any]], tmp_path: Path,
                  **options: Any) -> tuple[dict[str, Any], dict[int, Any], dict[str, Any], list[tuple[str, bytes]]]:
    """The dry run's result and payloads by row (from its dry-run file), then the real run's result and
    the bodies it sent."""
    dry = run_upload(hook, CONTACTS, rows, UploadSettings(
        campaign_id=campaign_id, options=UploadOptions(dry_run=True, **options), max_rejected_ratio=1.0,
        rejects_path=tmp_path / "dry.rejects.csv", dry_run_path=tmp_path / "dry.jsonl"))
    lines = [json.loads(line) for line in Path(dry["dry_run_path"]).read_text().splitlines()]
    sent = capture_bodies(hook)
    real = run_upload(hook, CONTACTS, rows, UploadSettings(
        campaign_id=campaign_id, options=UploadOptions(**options), max_rejected_ratio=1.0,
        rejects_path=tmp_path / "real.rejects.csv"))
    return dry, {line["row"]: line["payload"] for line in lines}, real, sent


def assert_same_accounting(dry: dict[str, Any], real: dict[str, Any]) -> None:
    """The dry run would send what the real run sent, says so without claiming to have sent it."""
    assert dry["dry_run"] is True and "sent" not in dry and dry["batches"] == 0
    assert (dry["would_send"], dry["rejected"]) == (4, 1)
    assert (real["accepted"], real["sent"], real["rejected"]) == (4, 4, 1) and "would_send" not in real
    assert dry["first_rejects"] == real["first_rejects"] and real["first_rejects"][0]["row"] == 5


def json_bodies(sent: list[tuple[str, bytes]], path_end: str) -> list[Any]:
    return [json.loads(body) for path, body in sent if path.split("?")[0].endswith(path_end)]


def test_ecm_dry_run_payloads_are_the_insert_callback_bodies(sandbox, tmp_path):
    with ExpertflowEcmHook(retry_policy=FAST) as hook:
        dry, payloads, real, sent = dry_then_real(hook, "1", rows_for("71"), tmp_path,
                                                  attribute_map={"name": "businessParam1"})
    assert_same_accounting(dry, real)
    bodies = json_bodies(sent, "/insertCallback")
    assert len(bodies) == 4 and sorted(payloads) == [1, 2, 3, 4]
    assert sorted(bodies, key=lambda body: body["phone1"]) == [payloads[row] for row in (1, 2, 3, 4)]
    assert payloads[3]["dialTime"] and payloads[4]["businessParam1"] == "Bo"


def sinch_bodies(sent: list[tuple[str, bytes]]) -> dict[str, dict[str, Any]]:
    """The customers of the last ``customers/list`` request that carried each one, by externalId, their
    attributes read back to the schema's array (a server binding only the wrapper gets them wrapped)."""
    customers = {}
    for body in json_bodies(sent, "/customers/list"):
        for customer in body:
            customers[customer["externalId"]] = {**customer, "attributes": attribute_list(customer["attributes"])}
    return customers


def test_sinch_dry_run_payloads_are_the_customers_sent(sandbox, tmp_path):
    with SinchObiHook(retry_policy=FAST) as hook:
        dry, payloads, real, sent = dry_then_real(hook, SINCH_CAMPAIGN, rows_for("72"), tmp_path)
    assert_same_accounting(dry, real)
    customers = sinch_bodies(sent)
    assert len(customers) == 4
    assert {payload["externalId"]: payload for payload in payloads.values()} == customers
    assert payloads[2]["timeZone"] == "America/Chicago" and payloads[3]["date"].endswith("Z")


def ameyo_commands(sent: list[tuple[str, bytes]], command: str) -> list[dict[str, Any]]:
    """The ``data`` of each ``command`` sent (the form's JSON), without the session id the auth adds."""
    found = []
    for _, body in sent:
        form = parse_qs(body.decode("ascii"))
        if form.get("command") == [command]:
            data = json.loads(form["data"][0])
            data.pop("sessionId", None)
            found.append(data)
    return found


def test_ameyo_dry_run_payloads_are_both_commands_records(sandbox, ameyo, tmp_path):
    with AmeyoHook(retry_policy=FAST) as hook:
        dry, payloads, real, sent = dry_then_real(hook, "1", rows_for("73"), tmp_path, lead_id=AMEYO_LEAD)
    assert_same_accounting(dry, real)
    [upload] = ameyo_commands(sent, UPLOAD_COMMAND)
    [callbacks] = ameyo_commands(sent, CALLBACK_COMMAND)
    uploaded = upload["customerRecords"]
    # Rows without a dial time: the record uploadContacts carried. With one: that record, and the
    # callback uploadContactAndAddCallback carried, whose customerId only Ameyo could give.
    assert uploaded == [payloads[1], payloads[2], payloads[3][UPLOAD_COMMAND], payloads[4][UPLOAD_COMMAND]]
    scheduled = callbacks["customerAndCallbackRecords"]
    assert len(scheduled) == 2
    for row, record in zip((3, 4), scheduled):
        planned = payloads[row][CALLBACK_COMMAND]
        assert planned["callbackRecord"]["customerId"] == DRY_RUN_CUSTOMER_ID
        customer_id = record["callbackRecord"]["customerId"]
        assert {**planned, "callbackRecord": {**planned["callbackRecord"], "customerId": customer_id}} == record
        stored = ameyo.customers[customer_id]
        assert stored["customerData"]["phone1"] == planned["customerRecord"]["phone1"]


def test_an_ameyo_row_with_a_dial_time_reports_both_commands_in_the_real_run_too(sandbox, ameyo):
    rows = [ContactRow(1, parse_contact({"phone": "5557300001", "dial_at": dial_at(3)})),
            ContactRow(2, parse_contact({"phone": "5557300002"}))]
    options = UploadOptions(lead_id=AMEYO_LEAD)
    with AmeyoHook(retry_policy=FAST) as hook:
        [planned_timed, planned_plain] = hook.upload_contacts("1", rows, options=UploadOptions(
            lead_id=AMEYO_LEAD, dry_run=True))
        [timed, plain] = sorted(hook.upload_contacts("1", rows, options=options), key=lambda o: o.row)
    assert (timed.status, plain.status) == (RowStatus.ACCEPTED, RowStatus.ACCEPTED)
    assert plain.payload == planned_plain.payload == {"phone1": "5557300002"}
    customer_id = int(timed.vendor_id)
    planned = planned_timed.payload
    assert set(timed.payload) == set(planned) == {UPLOAD_COMMAND, CALLBACK_COMMAND}
    assert timed.payload[UPLOAD_COMMAND] == planned[UPLOAD_COMMAND] == {"phone1": "5557300001"}
    callback = planned[CALLBACK_COMMAND]
    assert timed.payload[CALLBACK_COMMAND] == {
        **callback, "callbackRecord": {**callback["callbackRecord"], "customerId": customer_id}}
    assert ameyo.customers[customer_id]["customerData"]["phone1"] == "5557300001"
