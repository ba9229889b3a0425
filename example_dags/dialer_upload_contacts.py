"""Upload a contact file to any dialer: the connection id picks the dialer, nothing else changes."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pendulum

from airflow.sdk import Param, dag, task
from airflow_provider_dialers.operators import UploadContactsOperator

SAMPLE = str(Path(__file__).parent / "data" / "contacts_sample.csv")
REJECTS = str(Path(tempfile.gettempdir()) / "dialer_upload_contacts.rejects.csv")


@dag(
    dag_id="dialer_upload_contacts",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["dialers", "example"],
    params={
        "conn_id": Param("sinch_obi_default", type="string", description="Dialer connection (ECM, Sinch, Ameyo)"),
        "campaign_id": Param("62718C7889CC44F7B944C1A6F6BE9B7F", type="string", description="Campaign to fill"),
        "lead_id": Param(1, type="integer", description="Ameyo: the lead to upload into (others ignore it)"),
        "source": Param(SAMPLE, type="string", description="CSV or JSON Lines file of contacts"),
        "rejects_path": Param(REJECTS, type="string", description="Where rejected rows and reasons are written"),
    },
    doc_md="""
### Upload contacts to any dialer
Streams a contact file (CSV or JSON Lines) into a campaign with `UploadContactsOperator`, then
reports how every row ended: accepted, rejected (with row, field and reason in the rejects file),
duplicate, or skipped by the DNC and calling-window guards. The sample file has bad rows on
purpose. Trigger it with another `conn_id`/`campaign_id` to send the same file to another dialer.
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
    def report(result: dict) -> dict:
        counts = {k: result[k] for k in ("total", "accepted", "rejected", "duplicates", "skipped_dnc", "skipped_window")}
        print(f"DEMO-SUMMARY upload: {counts}")
        for reject in result.get("first_rejects", [])[:5]:
            print(f"DEMO-SUMMARY     rejected row {reject['row']}: {reject['field']}: {reject['reason']}")
        return counts

    report(upload.output)


dialer_upload_contacts()
