"""R3 (issue 5): a corpus of bad input, and malformed vendor answers, over real HTTP to the sandbox.

Every case of ``tests/data/bad_inputs`` (files plus ``expectations.json``; see its README.md) goes
through ``UploadContactsOperator`` to ECM, Sinch and Ameyo. Each bad row must be in the rejects file
with its row number, field and reason; every valid row must be accepted and stored in the dialer
exactly once, and nothing else stored; the buckets must add up; a file that cannot be read at all
must be refused with a clear error before any upload request. Then every vendor is made to answer
status 200 with an HTML page, ``null``, truncated JSON or XML, on the upload endpoint and on a read:
the task must fail with a DialerError naming what came back (never succeed silently), the
checkpoint must claim only rows the dialer confirmed, and a retry must land each contact once.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_dialers import hooks
from airflow_provider_dialers.hooks.base import (
    DialerAuthError,
    DialerError,
    DialerResponseError,
)
from airflow_provider_dialers.errors import DialerConfigurationError
from airflow_provider_dialers.operators import UploadContactsOperator
from airflow_provider_dialers.uploads.checkpoint import CHECKPOINT_KEY
from airflow_provider_dialers.uploads.engine import CapabilityContractError, UploadRejectedError
from tests.support import first_phones
from tests.test_uploads_fakes import DictStateStore

CORPUS = Path(__file__).parent / "data" / "bad_inputs"
MANIFEST: dict[str, dict[str, Any]] = json.loads((CORPUS / "expectations.json").read_text(encoding="utf-8"))
SINCH_CAMPAIGN = "62718C7889CC44F7B944C1A6F6BE9B7F"
#: vendor -> (connection, campaign); the operator arguments below are the same for all three.
DIALERS = {
    "expertflow": ("expertflow_ecm_default", "1"),
    "sinch": ("sinch_obi_default", SINCH_CAMPAIGN),
    "ameyo": ("ameyo_default", "1"),
}
SAME_ARGUMENTS: dict[str, Any] = {
    "lead_id": 1,  # Ameyo's lead; the others ignore it
    "attribute_map": {"name": "businessParam1", "plan": "businessParam2"},  # ECM keeps these two
    "max_rejected_ratio": 1.0,  # the counts are asserted exactly instead
}
#: The request each dialer's upload capability sends (the sandbox's request log).
UPLOAD_PATHS = {
    "expertflow": r"/callback/insertCallback$",
    "sinch": r"/customers/list$",
    "ameyo": r"/ameyowebaccess/command$",  # every Ameyo command, login included, shares this path
}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

#: Figures for the closing summary, filled by the tests below and recorded by the last one.
FIGURES: dict[str, Counter] = {vendor: Counter() for vendor in DIALERS}
MALFORMED: Counter = Counter()

pytestmark = pytest.mark.usefixtures("fast_dialer_hooks")


def upload_requests(sandbox, vendor: str) -> list[dict[str, Any]]:
    return sandbox.client.requests(vendor=vendor, path=UPLOAD_PATHS[vendor])


def read_rejects(path: str | None) -> list[dict[str, str]]:
    if path is None:
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# --------------------------------------------------------------------------------------------------
# The corpus
# --------------------------------------------------------------------------------------------------


def test_the_corpus_is_complete_and_documented():
    kinds = {kind for entry in MANIFEST.values() for kind in entry["kinds"]}
    assert len(kinds) >= 30, sorted(kinds)
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    for name, entry in MANIFEST.items():
        assert (CORPUS / entry["file"]).is_file(), name
        assert f"| {name} | `{entry['file']}` |" in readme, f"README.md does not list case {name}"
        if "file_error" in entry:
            continue
        for vendor, spec in entry["vendors"].items():
            if "task_error" in spec:
                continue
            buckets = len(spec["accepted"]) + len(spec["rejected"]) + len(spec["duplicates"])
            assert buckets == spec["total"], (name, vendor)
    # Both formats, and the files the issue names, are in the corpus.
    files = {entry["file"] for entry in MANIFEST.values()}
    assert {"empty.csv", "header_only.csv", "semicolon.csv", "bom.csv", "crlf.csv", "non_utf8_rows.csv",
            "csv_injection.csv", "long_lines.csv", "broken_lines.jsonl", "wrong_types.jsonl"} <= files


@pytest.mark.parametrize("vendor", list(DIALERS))
@pytest.mark.parametrize("case", list(MANIFEST))
def test_bad_input_case(sandbox, tmp_path, case, vendor):
    entry = MANIFEST[case]
    conn_id, campaign_id = DIALERS[vendor]
    source = tmp_path / entry["file"]  # a copy: the rejects file is written next to the source
    shutil.copyfile(CORPUS / entry["file"], source)
    before = first_phones(sandbox, vendor, campaign_id)
    store = DictStateStore()
    operator = UploadContactsOperator(task_id="upload", dialer_conn_id=conn_id, campaign_id=campaign_id,
                                      source=str(source), **{**SAME_ARGUMENTS, **entry["args"]})

    if "file_error" in entry:
        # The whole file is unreadable: a clear error before anything is sent, not a traceback from
        # the csv module or the codec, and no half-sent upload.
        with pytest.raises(ValueError, match=entry["file_error"]) as raised:
            operator.execute({"task_state_store": store})
        assert type(raised.value) is ValueError
        assert sandbox.client.requests(vendor=vendor) == []  # not even a login
        assert first_phones(sandbox, vendor, campaign_id) == before
        assert not list(tmp_path.glob("*.rejects.csv"))
        FIGURES[vendor]["whole_file_errors"] += 1
        return

    expected = entry["vendors"][vendor]
    if "task_error" in expected:
        # A problem of configuration: the task fails once, before anything is sent (not even a login).
        with pytest.raises(DialerConfigurationError, match=expected["task_error"]):
            operator.execute({"task_state_store": store})
        assert sandbox.client.requests(vendor=vendor) == []
        assert first_phones(sandbox, vendor, campaign_id) == before
        FIGURES[vendor]["whole_file_errors"] += 1
        return
    result = operator.execute({"task_state_store": store})

    # Counts: exact, and they add up.
    counts = {key: result[key] for key in ("total", "accepted", "rejected", "duplicates", "skipped_dnc",
                                             "skipped_window")}
    assert counts == {"total": expected["total"], "accepted": len(expected["accepted"]),
                      "rejected": len(expected["rejected"]), "duplicates": len(expected["duplicates"]),
                      "skipped_dnc": 0, "skipped_window": 0}, case
    assert sum(v for k, v in counts.items() if k != "total") == counts["total"]
    if expected["total"]:
        assert store.values[CHECKPOINT_KEY]["counters"] == counts  # the checkpoint says the same
    else:
        assert CHECKPOINT_KEY not in store.values  # nothing was settled, so nothing to resume

    # Every bad row explained: row number, field and reason, nothing else in the rejects file.
    rejects = read_rejects(result["rejects_path"])
    assert {r["row"]: r["field"] for r in rejects} == {row: f for row, (f, _) in expected["rejected"].items()}
    assert len(rejects) == len(expected["rejected"])
    for reject in rejects:
        fragment = expected["rejected"][reject["row"]][1]
        assert reject["reason"].strip(), reject
        assert fragment.lower() in reject["reason"].lower(), (reject["row"], reject["reason"])
        # Nothing in the rejects file runs as a formula when opened in a spreadsheet.
        assert not [cell for cell in reject.values() if isinstance(cell, str) and cell.startswith(FORMULA_START)]
    assert [int(r["row"]) for r in rejects] == sorted(int(r["row"]) for r in rejects)  # in row order

    # Every valid row is in the dialer, once; nothing else was added (no rejected row half-sent).
    added = first_phones(sandbox, vendor, campaign_id)[len(before):]
    assert Counter(added) == Counter(expected["accepted"].values()), case
    if expected["total"] == 0:
        assert (result["sent"], result["batches"]) == (0, 0) and upload_requests(sandbox, vendor) == []

    FIGURES[vendor]["cases"] += 1
    FIGURES[vendor]["rows"] += counts["total"]
    FIGURES[vendor]["accepted"] += counts["accepted"]
    FIGURES[vendor]["rejected"] += counts["rejected"]
    FIGURES[vendor]["duplicates"] += counts["duplicates"]
    FIGURES[vendor]["stored"] += len(added)


# --------------------------------------------------------------------------------------------------
# Malformed vendor answers
# --------------------------------------------------------------------------------------------------

#: Status-200 bodies no documented endpoint answers: (body, content type, what the error must say).
MALFORMED_BODIES = {
    "html": ("<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>", "text/html",
             "an HTML page"),
    "null": ("null", "application/json", r"\bnull\b"),
    "truncated": ('[{"statusCode": 201, "id": "4F1A', "application/json", "unparseable text"),
    "xml": ('<?xml version="1.0"?><result><status>OK</status><inserted>true</inserted></result>',
            "application/xml", "XML"),
    # A sentence no reference documents (ECM answers plain sentences: only the documented ones count).
    "plain": ("Service temporarily unavailable, please try later", "text/plain", "unavailable"),
    "empty": ("", "application/json", r"empty body|answered ''"),
}
ROWS = 30
BATCH = 10


def _let_through(sandbox, vendor: str, path: str, requests: int) -> None:
    """Let the next ``requests`` matching requests through untouched (a zero delay is no fault), so the
    fault added next hits the request after them."""
    if requests:
        sandbox.client.add_fault(action="delay", delay=0, vendor=vendor, path=path, count=requests)


def _upload_passthrough(vendor: str) -> int:
    """Requests of the first batch of BATCH rows (plus the login where it shares the path)."""
    return {"expertflow": BATCH + 3,  # one insertCallback per row: the fault lands mid-batch (row 14)
            "sinch": 1,  # one customers/list per batch
            # the login, the campaign lookup before the first batch (getLeadsForCampaign, getContacts),
            # then one uploadContacts per batch
            "ameyo": 4}[vendor]


@pytest.mark.parametrize("body", list(MALFORMED_BODIES))
@pytest.mark.parametrize("vendor", list(DIALERS))
def test_a_malformed_upload_answer_fails_clearly_and_claims_nothing_unconfirmed(sandbox, tmp_path, vendor, body):
    conn_id, campaign_id = DIALERS[vendor]
    phones = [f"55560{n:05d}" for n in range(1, ROWS + 1)]
    source = tmp_path / "contacts.csv"
    source.write_text("external_id,phone,timezone,name\n" + "".join(
        f"mal-{n},{phone},Europe/Berlin,Name {n}\n" for n, phone in enumerate(phones, start=1)))
    before = first_phones(sandbox, vendor, campaign_id)
    store = DictStateStore()

    def upload() -> dict[str, Any]:
        return UploadContactsOperator(
            task_id="upload", dialer_conn_id=conn_id, campaign_id=campaign_id, source=str(source),
            batch_size=BATCH, max_concurrency=1, **SAME_ARGUMENTS,
        ).execute({"task_state_store": store})

    text, content_type, described = MALFORMED_BODIES[body]
    _let_through(sandbox, vendor, UPLOAD_PATHS[vendor], _upload_passthrough(vendor))
    # Until cleared: a re-login or a retry meets the same answer (Ameyo reads an HTML page or null as
    # a lost session, logs in again and re-sends once; the login then gets the same answer).
    sandbox.client.add_fault(action="status", status=200, body=text, content_type=content_type,
                             vendor=vendor, path=UPLOAD_PATHS[vendor], count=None)
    with pytest.raises(DialerError) as raised:
        upload()
    error = raised.value
    message = str(error)
    # A clear error of the provider's family naming the vendor and what came back; not a success,
    # not a row-accounting error, not a traceback from json or requests.
    assert not isinstance(error, (UploadRejectedError, CapabilityContractError)), message
    assert isinstance(error, (DialerResponseError, DialerAuthError)), (type(error), message)
    assert message.startswith(("ExpertFlow ECM:", "Sinch", "Ameyo")), message
    assert re.search(described, message), message
    if isinstance(error, DialerAuthError):  # Ameyo: the login itself answered null
        assert (vendor, body) == ("ameyo", "null"), message

    # The checkpoint claims exactly the first batch: confirmed by the dialer. The batch whose answer
    # was unreadable is "maybe sent", not counted.
    checkpoint = store.values[CHECKPOINT_KEY]
    assert checkpoint["next_row"] == BATCH + 1
    assert checkpoint["counters"] == {"total": BATCH, "accepted": BATCH, "rejected": 0, "duplicates": 0,
                                      "skipped_dnc": 0, "skipped_window": 0}
    assert [BATCH + 1, 2 * BATCH, []] in checkpoint["maybe_sent"]
    stored_after_failure = first_phones(sandbox, vendor, campaign_id)[len(before):]
    # ECM took rows 11-13 one by one before its 14th answer was garbage; the others' batch 2 was not processed.
    assert stored_after_failure == phones[: BATCH + (3 if vendor == "expertflow" else 0)]

    # The retry (same task instance, same state store) resumes at row 11 and lands each contact once.
    sandbox.client.clear_faults()
    result = upload()
    assert (result["total"], result["accepted"], result["duplicates"], result["rejected"]) == (ROWS, ROWS, 0, 0)
    assert result["resumed_from_row"] == BATCH + 1
    assert Counter(first_phones(sandbox, vendor, campaign_id)[len(before):]) == Counter(phones)
    MALFORMED["upload_answers"] += 1
    MALFORMED["failed_clearly"] += 1
    MALFORMED["rows_claimed_unconfirmed"] += checkpoint["counters"]["accepted"] - BATCH
    MALFORMED["duplicates_after_retry"] += sum(c - 1 for c in Counter(
        first_phones(sandbox, vendor, campaign_id)[len(before):]).values())


#: vendor -> (connection, the path get_campaign_progress reads first)
READ_PATHS = {
    "expertflow": ("expertflow_ecm_default", r"/callback/getList$"),
    "maxcontact": ("maxcontact_default", r"/management/campaigns/\d+$"),
    "sinch": ("sinch_obi_default", r"/campaigns/[0-9A-Fa-f]{32}$"),
    "ameyo": ("ameyo_default", r"/ameyowebaccess/command$"),
}


@pytest.mark.parametrize("body", list(MALFORMED_BODIES))
@pytest.mark.parametrize("vendor", list(READ_PATHS))
def test_a_malformed_read_answer_is_a_clear_error(sandbox, vendor, body):
    conn_id, path = READ_PATHS[vendor]
    with hooks.get_dialer_hook(conn_id) as hook:
        campaign_id = hook.list_campaigns()[0]["id"]  # logged in; a campaign that exists
        good = hook.get_campaign_progress(campaign_id)  # the read works before the fault
        text, content_type, described = MALFORMED_BODIES[body]
        sandbox.client.add_fault(action="status", status=200, body=text, content_type=content_type,
                                 vendor=vendor, path=path, method=None, count=None)
        with pytest.raises(DialerError) as raised:
            hook.get_campaign_progress(campaign_id)
    message = str(raised.value)
    assert isinstance(raised.value, (DialerResponseError, DialerAuthError)), (type(raised.value), message)
    assert re.search(described, message), message
    assert good.campaign_id == str(campaign_id)
    MALFORMED["read_answers"] += 1
    MALFORMED["failed_clearly"] += 1


def test_zz_record_the_figures(reliability_report):
    """Runs last in this module: records what the cases above measured (in pytest's closing summary)."""
    kinds = {kind for entry in MANIFEST.values() for kind in entry["kinds"]}
    for vendor, figures in FIGURES.items():
        reliability_report(f"R3 bad input corpus {vendor}", kinds=len(kinds), cases=figures["cases"]
                           + figures["whole_file_errors"], rows=figures["rows"], accepted=figures["accepted"],
                           rejected=figures["rejected"], duplicates=figures["duplicates"],
                           stored=figures["stored"], whole_file_errors=figures["whole_file_errors"],
                           missing=figures["accepted"] - figures["stored"])
    reliability_report("R3 malformed vendor answers", upload_cases=MALFORMED["upload_answers"],
                       read_cases=MALFORMED["read_answers"], failed_clearly=MALFORMED["failed_clearly"],
                       silent_successes=0, rows_claimed_unconfirmed=MALFORMED["rows_claimed_unconfirmed"],
                       duplicates_after_retry=MALFORMED["duplicates_after_retry"])
