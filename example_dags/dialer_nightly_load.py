"""Nightly: load a contact file into a campaign, wait until it is dialled, export the outcomes, and
call back on another dialer the people the first one gave up on."""

from __future__ import annotations

import csv
import io
import logging
import re
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import pendulum
from airflow.sdk import Param, dag, task

from airflow_provider_dialers.operators import (
    AddCallbacksOperator,
    ExportContactOutcomesOperator,
    UploadContactsOperator,
)
from airflow_provider_dialers.sensors import CampaignCompletionSensor

DATA = Path(__file__).resolve().parent / "data"
CONTACTS = (DATA / "nightly_contacts.csv").as_uri()
DNC_FILE = (DATA / "nightly_dnc.txt").as_uri()
OUTCOMES_DIR = str(Path(tempfile.gettempdir()) / "dialer_nightly_load")
#: The alias the outcomes file's asset event goes through: schedule a downstream DAG on it.
OUTCOMES_ALIAS = "dialer_nightly_outcomes"
#: Seconds between two checks of the campaign, in the triggerer (the sandbox dials in moments; a real
#: campaign warrants minutes) and how long to wait before failing the run.
POKE_INTERVAL = 5
WAIT_TIMEOUT = 6 * 60 * 60
#: What each dialer's state words mean, by connection type: ``reached`` (nothing more to do) and
#: ``never`` (must not be called again: on a DNC list, refused, a number that does not exist, or an
#: outcome the dialer never reported). A finished contact in any other state is called back.
OUTCOME_WORDS: dict[str, dict[str, frozenset[str]]] = {
    "expertflow_ecm": {"reached": frozenset({"CONNECTED", "SMS_RESPONDED", "SMS_SENT_AND_CLOSED"}),
                       "never": frozenset({"DNC_LISTED", "DANGLING"})},
    "sinch_obi": {"reached": frozenset({"SUCCESS"}), "never": frozenset({"REFUSAL"})},
    "ameyo": {"reached": frozenset({"CONNECTED", "TRANSFERRED_TO_CAMPAIGN"}),
              "never": frozenset({"NUMBER_FAILURE", "SIT_VACANT", "SIT_INTERCEPT"})},
}
DECISIONS = ("reached", "never", "pending", "not_in_file", "call_back")
COUNTS = ("total", "accepted", "rejected", "duplicates", "skipped_dnc", "skipped_window")
CALLBACK_COLUMNS = ("external_id", "phone1", "phone2", "timezone", "name", "callback_at")
#: The task logger: what it logs shows in the task's log, with the task's context and level.
log = logging.getLogger("airflow.task")


@contextmanager
def open_file(location: str, mode: str) -> Iterator[IO[str]]:
    """A text file at a local path, a ``file://`` URL or any object-storage URL."""
    if location.startswith("file://"):
        path: Any = Path(urlsplit(location).path)
    elif "://" in location:
        from airflow.sdk import ObjectStoragePath

        path = ObjectStoragePath(location)
    else:
        path = Path(location)
    with path.open(mode + "b") as raw, open_text(raw) as text:
        yield text


@contextmanager
def open_text(raw: IO[bytes]) -> Iterator[IO[str]]:
    """``raw`` as UTF-8 text (a byte-order mark skipped), left open for its owner to close."""
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
    try:
        yield text
    finally:
        text.flush()
        text.detach()


def digits(phone: str | None) -> str:
    """A phone's digits: how the exported file's numbers are matched with the contact file's."""
    return re.sub(r"\D", "", phone or "")


def tomorrow_at(zone: str | None, hour: int, minute: int) -> str:
    """Tomorrow at ``hour:minute`` on the clock of ``zone``, as a local time with no offset: the
    callback takes the contact's zone (without one, it is rejected: no local hour to call at)."""
    try:
        today = pendulum.now(zone or "UTC").date()
    except Exception:  # noqa: BLE001 - an unknown zone: the callback is rejected for it, not the task
        today = pendulum.now("UTC").date()
    return f"{today.add(days=1).isoformat()}T{hour:02d}:{minute:02d}:00"


def decide(row: dict[str, str], words: dict[str, frozenset[str]]) -> str:
    """What to do with one exported contact: ``reached``, ``never``, ``pending`` or ``call_back``
    (the dialer gave up on them)."""
    state = row["state"].upper()
    if state in words["reached"]:
        return "reached"
    if state in words["never"]:
        return "never"
    if row["terminal"] != "true":
        return "pending"  # the first dialer still calls them: a callback elsewhere would call twice
    return "call_back"


@dag(
    dag_id="dialer_nightly_load",
    schedule=None,  # a real deployment: "0 22 * * *", or scheduled on the file's arrival
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["dialers", "example"],
    params={
        "conn_id": Param(
            "expertflow_ecm_default", type="string", title="Dialer connection",
            description="The dialer to load and run: an expertflow_ecm, sinch_obi or ameyo connection "
                        "(maxcontact cannot take contacts nor list their outcomes).",
        ),
        "campaign_id": Param("1", type="string", title="Campaign",
                             description="The campaign to load, as that dialer identifies it; it must be running"),
        "lead_id": Param(1, type="integer", title="Ameyo lead",
                         description="Ameyo only: the lead (contact list) to load into; other dialers ignore it"),
        "source": Param(
            CONTACTS, type="string", title="Contact file",
            description="Tonight's contacts, a CSV with the sample's columns (external_id, phone1, phone2, "
                        "timezone, name): a file:// URL, a local path, or any object storage URL "
                        "(s3://bucket/contacts.csv)",
        ),
        "dnc_file": Param(
            DNC_FILE, type="string", title="Do-not-call file",
            description="Numbers never to load nor call back, one per line, on top of the dialer's own DNC "
                        "list where it has one (ECM)",
        ),
        "outcomes_dir": Param(
            OUTCOMES_DIR, type="string", title="Outcomes folder",
            description="Where the outcomes file, the callbacks file and the rejects files go: a local folder, "
                        "or an object storage URL (s3://bucket/outcomes) shared by the workers",
        ),
        "callback_conn_id": Param(
            "sinch_obi_default", type="string", title="Callback dialer connection",
            description="The dialer that calls back the people the first one gave up on: an expertflow_ecm, "
                        "sinch_obi or ameyo connection (maxcontact cannot schedule callbacks)",
        ),
        "callback_campaign_id": Param(
            "62718C7889CC44F7B944C1A6F6BE9B7F", type="string", title="Callback campaign",
            description="The campaign on the callback dialer",
        ),
        "callback_lead_id": Param(
            None, type=["null", "integer"], title="Callback Ameyo lead",
            description="Ameyo as the callback dialer: the lead to add the callbacks to (empty otherwise)",
        ),
        "callback_time": Param(
            "10:00", type="string", pattern=r"^\d{2}:\d{2}$", title="Callback time (local)",
            description="Call back the next day at this time of the contact's own time zone",
        ),
        "calling_window": Param(
            ["08:00", "21:00"], type="array", items={"type": "string"}, minItems=2, maxItems=2,
            title="Calling window (local)",
            description="Never call back outside these hours of the contact's time zone; a contact whose "
                        "zone is unknown is skipped",
        ),
    },
    doc_md="""
### Nightly load, outcomes and callbacks
1. **load_contacts** (`UploadContactsOperator`): streams tonight's file (a `file://` URL by default,
   any object storage URL works) into the campaign. Numbers on the DNC file (and the dialer's own
   DNC list where it has one) are skipped, a contact the campaign already holds is a duplicate,
   bad rows are rejected with row, field and reason in the rejects file.
2. **wait_for_completion** (`CampaignCompletionSensor`, deferred): the triggerer polls until the
   dialer is done with every contact; no worker slot is held meanwhile.
3. **export_outcomes** (`ExportContactOutcomesOperator`): every contact of the campaign and its
   state, written atomically to `outcomes_dir`, and announced as an asset event through the
   `dialer_nightly_outcomes` alias (schedule a downstream DAG on `AssetAlias("dialer_nightly_outcomes")`).
4. **pick_callbacks** (`@task`): reads the exported file and decides, in the dialer's own words,
   who was reached (ECM `CONNECTED`, Sinch `SUCCESS`, Ameyo `CONNECTED`), who must never be called
   again (ECM `DNC_LISTED`, Sinch `REFUSAL`, Ameyo `NUMBER_FAILURE`...), and who the dialer gave up
   on: those of tonight's file get a callback the next day at `callback_time`, their local time.
5. **schedule_callbacks** (`AddCallbacksOperator`) on `callback_conn_id`: DNC-scrubbed, within
   `calling_window`; a rerun finds them already scheduled.
6. **report**: what each step did, logged and returned (its XCom).

The operators are the same on every dialer: change `conn_id` and `campaign_id` to load another.
""",
)
def dialer_nightly_load():
    load = UploadContactsOperator(
        task_id="load_contacts",
        dialer_conn_id="{{ params.conn_id }}",
        campaign_id="{{ params.campaign_id }}",
        lead_id="{{ params.lead_id }}",
        source="{{ params.source }}",
        scrub_dnc=True,
        dnc_source="{{ params.dnc_file }}",
        rejects_path="{{ params.outcomes_dir }}/",
        attribute_map={"name": "businessParam1"},  # ECM keeps custom data in businessParams
        max_rejected_ratio=0.2,
    )
    wait = CampaignCompletionSensor(
        task_id="wait_for_completion",
        dialer_conn_id="{{ params.conn_id }}",
        campaign_id="{{ params.campaign_id }}",
        deferrable=True,
        poke_interval=POKE_INTERVAL,
        timeout=WAIT_TIMEOUT,
    )
    export = ExportContactOutcomesOperator(
        task_id="export_outcomes",
        dialer_conn_id="{{ params.conn_id }}",
        campaign_id="{{ params.campaign_id }}",
        path="{{ params.outcomes_dir }}/outcomes.{{ params.campaign_id }}.{{ run_id | replace(':', '') "
             "| replace('+', '') }}.csv",
        asset_alias=OUTCOMES_ALIAS,
    )

    @task
    def pick_callbacks(exported: dict, params: dict | None = None) -> dict:
        """Who to call back, from the exported file: a callbacks file, and how every contact was judged."""
        from airflow_provider_dialers.hooks import get_dialer_hook

        with get_dialer_hook(params["conn_id"]) as hook:
            words = OUTCOME_WORDS[hook.conn_type]
        decisions: Counter[str] = Counter()
        wanted: Counter[str] = Counter()  # phone digits -> contacts the dialer gave up on
        with open_file(exported["path"], "r") as outcomes:  # read as a stream, like the export
            for row in csv.DictReader(outcomes):
                decision = decide(row, words)
                if decision == "call_back":
                    wanted[digits(row["phone"])] += 1
                else:
                    decisions[decision] += 1
        in_file: dict[str, dict[str, str]] = {}  # tonight's rows of those contacts
        with open_file(params["source"], "r") as source:
            for contact in csv.DictReader(source):
                if digits(contact.get("phone1")) in wanted:
                    in_file.setdefault(digits(contact["phone1"]), contact)
        decisions["call_back"] = sum(count for phone, count in wanted.items() if phone in in_file)
        decisions["not_in_file"] = sum(wanted.values()) - decisions["call_back"]
        callbacks_path = exported["path"].removesuffix(".csv") + ".callbacks.csv"
        hour, minute = (int(part) for part in params["callback_time"].split(":"))
        with open_file(callbacks_path, "w") as out:
            writer = csv.DictWriter(out, CALLBACK_COLUMNS, lineterminator="\n")
            writer.writeheader()
            for phone in sorted(set(wanted) & set(in_file)):
                contact = in_file[phone]
                due = tomorrow_at(contact.get("timezone"), hour, minute)
                writer.writerow({**{key: contact.get(key) for key in CALLBACK_COLUMNS}, "callback_at": due})
        log.info("outcomes of %s campaign %s: %s contacts; %s", params["conn_id"], params["campaign_id"],
                 exported["rows"], {key: decisions[key] for key in DECISIONS})
        return {"callbacks_path": callbacks_path, "decisions": {key: decisions[key] for key in DECISIONS}}

    picked = pick_callbacks(export.output)
    callbacks = AddCallbacksOperator(
        task_id="schedule_callbacks",
        dialer_conn_id="{{ params.callback_conn_id }}",
        campaign_id="{{ params.callback_campaign_id }}",
        lead_id="{{ params.callback_lead_id if params.callback_lead_id is not none else '' }}",
        source=picked["callbacks_path"],
        calling_window="{{ params.calling_window | join('-') }}",
        scrub_dnc=True,
        dnc_source="{{ params.dnc_file }}",
        rejects_path="{{ params.outcomes_dir }}/",
        attribute_map={"name": "businessParam1"},
        # A contact with no time zone has no local hour to be called at: rejected (row, field,
        # reason). The sample has one on purpose; a real feed would use ~0.02.
        max_rejected_ratio=0.5,
    )

    @task
    def report(loaded: dict, progress: dict, exported: dict, decided: dict, scheduled: dict,
               params: dict | None = None) -> dict:
        """What the night did: the load's counts, the outcomes, the callbacks."""
        load_counts = {key: loaded[key] for key in COUNTS}
        callback_counts = {key: scheduled[key] for key in COUNTS}
        log.info("load into %s campaign %s: %s", params["conn_id"], params["campaign_id"], load_counts)
        log.info("complete: %s, outcomes: %s", progress["complete"], progress["outcomes"])
        log.info("exported %s contacts to %s: %s", exported["rows"], exported["path"], exported["by_state"])
        log.info("callbacks on %s campaign %s: %s", params["callback_conn_id"], params["callback_campaign_id"],
                 callback_counts)
        return {
            "conn_id": params["conn_id"], "campaign_id": params["campaign_id"],
            "load": {**load_counts, "first_rejects": loaded.get("first_rejects", [])[:5]},
            "outcomes": progress["outcomes"],
            "export": exported,
            "decisions": decided["decisions"],
            "callbacks": {"conn_id": params["callback_conn_id"], "campaign_id": params["callback_campaign_id"],
                          **callback_counts, "first_rejects": scheduled.get("first_rejects", [])[:5]},
        }

    load >> wait >> export
    report(load.output, wait.output, export.output, picked, callbacks.output)


dialer_nightly_load()
