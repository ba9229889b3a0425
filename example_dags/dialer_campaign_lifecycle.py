"""An ExpertFlow ECM campaign from start to finish: create or reuse it, load it, run it, wait, report."""

from __future__ import annotations

import logging
from pathlib import Path

import pendulum
from airflow.sdk import Param, chain, dag, task

from airflow_provider_dialers.operators import (
    AddCallbacksOperator,
    CreateCampaignOperator,
    SetCampaignStatusOperator,
    UploadContactsOperator,
)
from airflow_provider_dialers.sensors import CampaignCompletionSensor

CONTACTS = str(Path(__file__).parent / "data" / "lifecycle_contacts.csv")
#: Contact attributes -> ECM's businessParams (ECM has no other place for custom data).
ATTRIBUTE_MAP = {"name": "businessParam1", "plan": "businessParam2", "external_id": "businessParam3"}
#: Seconds between two checks of the campaign, made by the triggerer while the sensor is deferred.
#: Short because the sandbox dials hundreds of contacts a second; a real campaign warrants minutes.
POKE_INTERVAL = 5
#: Give up waiting after this long (seconds): a campaign that cannot finish fails the run.
WAIT_TIMEOUT = 30 * 60
COUNTS = ("total", "accepted", "rejected", "duplicates", "skipped_dnc", "skipped_window")
#: The task logger: what it logs shows in the task's log, with the task's context and level.
log = logging.getLogger("airflow.task")
DEFAULT_CALLBACKS = [
    {"external_id": "lc-cb-1", "phone": "+15550600101", "name": "Kim"},
    {"external_id": "lc-cb-2", "phone": "+15550600102", "name": "Lee"},
]


@dag(
    dag_id="dialer_campaign_lifecycle",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["dialers", "example"],
    params={
        "conn_id": Param(
            "expertflow_ecm_default", type="string", title="ECM connection",
            description="An ExpertFlow ECM connection (type expertflow_ecm): the campaign fields below are "
                        "ECM's, so maxcontact, sinch_obi and ameyo connections do not fit this DAG.",
        ),
        "campaign_name": Param(
            "Airflow lifecycle demo", type="string", minLength=1, title="Campaign name",
            description="Reused when a campaign of this name exists, else created",
        ),
        "cisco_campaign_id": Param(
            "5002", type="string", title="Cisco campaign id",
            description="The Cisco UCCE/UCCX campaign the ECM campaign is linked to (ECM's ciscoCampaignId)",
        ),
        "strategy_id": Param(
            1, type="integer", minimum=1, title="Call strategy",
            description="The ECM call strategy's id: how many attempts, and the retries between",
        ),
        "source": Param(
            CONTACTS, type="string", title="Contact file",
            description="CSV or JSON Lines file of contacts to load: a local path, URL or object storage "
                        "path",
        ),
        "rejects_path": Param(
            "", type="string", title="Rejects file",
            description="Where rejected rows are written (row, field, reason): a local path, or shared "
                        "storage when tasks run on several workers: an s3://bucket/rejects/ URL or any "
                        "ObjectStoragePath; a value ending in / is a folder. Empty: next to the contact "
                        "file, named after this task instance (<file>.<dag>.<run>.<task>.rejects.csv)",
        ),
        "callbacks": Param(
            DEFAULT_CALLBACKS, type="array", items={"type": "object", "required": ["phone"]},
            title="Callbacks",
            description="People who asked to be called back: phone (required), name, external_id",
        ),
        "callback_delay_seconds": Param(
            20, type="integer", minimum=1, title="Callback delay (seconds)",
            description="Call them back this many seconds after they are scheduled",
        ),
    },
    doc_md="""
### ECM campaign lifecycle
The whole life of an ExpertFlow ECM campaign in one run:

1. **create_or_reuse_campaign**: look the campaign up by name, create it if it does not exist
   (retry-safe: a retry finds the campaign the first try created).
2. **hold_while_loading**: pause it, so nobody is dialled from a half-loaded list.
3. **upload_contacts**: stream the contact file into the campaign (ECM *callbacks*). The sample
   has bad rows on purpose: each is rejected with its row, field and reason (rejects file).
4. **add_callbacks**: schedule the people who asked to be called back, due a few seconds later.
5. **resume_campaign**: let ECM dial.
6. **wait_for_completion**: `CampaignCompletionSensor`, deferred: the triggerer polls ECM
   (5 requests per check, whatever the campaign's size) and no worker slot is held meanwhile.
7. **report**: contacts by final state (`CONNECTED`, `RETRIES_COMPLETED`, ...), as the sensor
   returns them (ECM's counts by state are read once, when the campaign is complete). It logs
   what the run did and returns it (its XCom): the campaign, the upload's and the callbacks'
   accounting with the first rejected rows, and the outcomes.

Trigger it from the UI with another campaign name to create a new campaign; the defaults work
against the sandbox (`python -m airflow_provider_dialers.sandbox --dial-rate 200`).
""",
)
def dialer_campaign_lifecycle():
    create = CreateCampaignOperator(
        task_id="create_or_reuse_campaign",
        dialer_conn_id="{{ params.conn_id }}",
        campaign={
            "name": "{{ params.campaign_name }}",
            "description": "Created by the Airflow example DAG dialer_campaign_lifecycle",
            "startTime": "00:00",
            "endTime": "23:59",
            "weekDays": "0,1,2,3,4,5,6",
            "strategyId": "{{ params.strategy_id }}",
            "type": 1,  # Agent
            "ciscoCampaignId": "{{ params.cisco_campaign_id }}",
            "enabled": True,
        },
    )
    campaign_id = create.output

    hold = SetCampaignStatusOperator(
        task_id="hold_while_loading",
        dialer_conn_id="{{ params.conn_id }}",
        campaign_id=campaign_id,
        status="paused",
    )
    upload = UploadContactsOperator(
        task_id="upload_contacts",
        dialer_conn_id="{{ params.conn_id }}",
        campaign_id=campaign_id,
        source="{{ params.source }}",
        rejects_path="{{ params.rejects_path }}",
        attribute_map=ATTRIBUTE_MAP,
        max_rejected_ratio=0.5,  # the sample has bad rows on purpose; a real feed would use ~0.02
    )

    @task
    def callbacks_due_soon(params: dict | None = None) -> list[dict]:
        """The Param's callbacks, due ``callback_delay_seconds`` from now (ECM dials them then)."""
        due = pendulum.now("UTC").add(seconds=int(params["callback_delay_seconds"]))
        return [
            {
                "external_id": item.get("external_id"),
                "phones": [item["phone"]],
                "attributes": {"name": item["name"]} if item.get("name") else {},
                "callback_at": due.isoformat(),
            }
            for item in params["callbacks"]
        ]

    due = callbacks_due_soon()
    callbacks = AddCallbacksOperator(
        task_id="add_callbacks",
        dialer_conn_id="{{ params.conn_id }}",
        campaign_id=campaign_id,
        callbacks=due,
        attribute_map=ATTRIBUTE_MAP,
    )
    resume = SetCampaignStatusOperator(
        task_id="resume_campaign",
        dialer_conn_id="{{ params.conn_id }}",
        campaign_id=campaign_id,
        status="running",
    )
    wait = CampaignCompletionSensor(
        task_id="wait_for_completion",
        dialer_conn_id="{{ params.conn_id }}",
        campaign_id=campaign_id,
        deferrable=True,
        poke_interval=POKE_INTERVAL,
        timeout=WAIT_TIMEOUT,
    )

    @task
    def report(campaign_id: str, uploaded: dict, scheduled: dict, progress: dict,
               params: dict | None = None, ti=None) -> dict:
        """Log and return what the run did and how the contacts ended (the sensor's counts by ECM state)."""
        created = bool(ti.xcom_pull(task_ids="create_or_reuse_campaign", key="created"))
        contacts = {key: uploaded[key] for key in COUNTS}
        first_rejects = uploaded.get("first_rejects", [])[:5]
        callbacks = {key: scheduled[key] for key in COUNTS}
        log.info("campaign %r: id %s (%s)", params["campaign_name"], campaign_id,
                 "created" if created else "reused")
        log.info("contacts: %s rows, %s accepted, %s rejected, %s duplicates (rejects file %s)",
                 contacts["total"], contacts["accepted"], contacts["rejected"], contacts["duplicates"],
                 uploaded["rejects_path"])
        for reject in first_rejects:
            log.info("    rejected row %s: %s: %s", reject["row"], reject["field"], reject["reason"])
        log.info("callbacks: %s scheduled, %s rejected, %s duplicates", callbacks["accepted"],
                 callbacks["rejected"], callbacks["duplicates"])
        log.info("complete: %s, %s contacts, %s in flight", progress["complete"], progress["total"],
                 progress["pending"])
        log.info("outcomes: %s", progress["outcomes"])
        return {
            "campaign_id": campaign_id,
            "campaign_name": params["campaign_name"],
            "created": created,
            "contacts": {**contacts, "rejects_path": uploaded["rejects_path"],
                         "first_rejects": first_rejects},
            "callbacks": callbacks,
            "complete": progress["complete"],
            "total": progress["total"],
            "pending": progress["pending"],
            "outcomes": progress["outcomes"],
        }

    done = report(campaign_id, upload.output, callbacks.output, wait.output)
    # The callbacks' due time is taken after the hold, so it is still ahead when they are added.
    chain(create, hold, [upload, due])
    chain([upload, callbacks], resume, wait, done)


dialer_campaign_lifecycle()
