"""Upload a contact file to any dialer: the connection id picks the dialer, nothing else changes."""

from __future__ import annotations

import logging
from pathlib import Path

import pendulum
from airflow.sdk import Param, dag, task

from airflow_provider_dialers.operators import UploadContactsOperator

SAMPLE = str(Path(__file__).parent / "data" / "contacts_sample.csv")
COUNTS = ("total", "accepted", "rejected", "duplicates", "skipped_dnc", "skipped_window")
#: The task logger: what it logs shows in the task's log, with the task's context and level.
log = logging.getLogger("airflow.task")


@dag(
    dag_id="dialer_upload_contacts",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["dialers", "example"],
    params={
        "conn_id": Param(
            "sinch_obi_default", type="string", title="Dialer connection",
            description="The dialer to fill: a connection of type expertflow_ecm, sinch_obi or ameyo "
                        "(maxcontact cannot take contacts: its API has no lead endpoint).",
        ),
        "campaign_id": Param(
            "62718C7889CC44F7B944C1A6F6BE9B7F", type="string", title="Campaign",
            description="The campaign to fill, as that dialer identifies it",
        ),
        "lead_id": Param(
            1, type="integer", title="Ameyo lead",
            description="Ameyo only: the lead (contact list) to upload into; other dialers ignore it",
        ),
        "source": Param(
            SAMPLE, type="string", title="Contact file",
            description="CSV or JSON Lines file of contacts: a local path, URL or object storage path",
        ),
        "rejects_path": Param(
            "", type="string", title="Rejects file",
            description="Where rejected rows are written (row, field, reason): a local path, or shared "
                        "storage when tasks run on several workers: an s3://bucket/rejects/ URL or any "
                        "ObjectStoragePath; a value ending in / is a folder. Empty: next to the contact "
                        "file, named after this task instance (<file>.<dag>.<run>.<task>.rejects.csv)",
        ),
    },
    doc_md="""
### Upload contacts to any dialer
Streams a contact file (CSV or JSON Lines) into a campaign with `UploadContactsOperator`, then
reports how every row ended: accepted, rejected (with row, field and reason in the rejects file),
duplicate, or skipped by the DNC and calling-window guards. The sample file has bad rows on
purpose. Trigger it with another `conn_id`/`campaign_id` to send the same file to another dialer.

`report` logs the counts and the first rejected rows, and returns them (its XCom).
""",
)
def dialer_upload_contacts():
    upload = UploadContactsOperator(
        task_id="upload_contacts",
        dialer_conn_id="{{ params.conn_id }}",
        campaign_id="{{ params.campaign_id }}",
        lead_id="{{ params.lead_id }}",
        source="{{ params.source }}",
        rejects_path="{{ params.rejects_path }}",
        max_rejected_ratio=0.7,  # the sample has bad rows on purpose; a real feed would use ~0.02
        attribute_map={"name": "businessParam1", "plan": "businessParam2"},  # ECM's businessParams
    )

    @task
    def report(result: dict, params: dict | None = None) -> dict:
        """How every row ended: the counts, the rejects file, the first rejected rows (row, field, reason)."""
        counts = {key: result[key] for key in COUNTS}
        log.info("upload to %s campaign %s: %s", params["conn_id"], params["campaign_id"], counts)
        first_rejects = result.get("first_rejects", [])[:5]
        for reject in first_rejects:
            log.info("    rejected row %s: %s: %s", reject["row"], reject["field"], reject["reason"])
        if result["rejected"]:
            log.info("every rejected row and its reason: %s", result["rejects_path"])
        return {"conn_id": params["conn_id"], "campaign_id": params["campaign_id"], **counts,
                "rejects_path": result["rejects_path"], "first_rejects": first_rejects}

    report(upload.output)


dialer_upload_contacts()
