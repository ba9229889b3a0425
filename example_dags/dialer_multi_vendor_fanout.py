"""One contact file to every configured dialer, one mapped task per connection; what a dialer
cannot do is skipped cleanly, not failed."""

from __future__ import annotations

import logging
from pathlib import Path

import pendulum
from airflow.sdk import Param, dag, task

from airflow_provider_dialers.operators import UploadContactsOperator

SAMPLE = str(Path(__file__).parent / "data" / "contacts_sample.csv")
DEFAULT_CONN_IDS = ["expertflow_ecm_default", "maxcontact_default", "sinch_obi_default", "ameyo_default"]
#: The campaign each sandbox connection fills (ECM Sales Agent, MaxContact Spring Renewals, Sinch
#: Test Campaign, Ameyo campaign 1).
DEFAULT_CAMPAIGNS = {
    "expertflow_ecm_default": "2",
    "maxcontact_default": "1",
    "sinch_obi_default": "8A7C98EAF1164F2FAA93B98EECB95D76",
    "ameyo_default": "1",
}
DEFAULT_LEAD_IDS = {"ameyo_default": 1}
UPLOAD_TASK_ID = "upload_contacts"
COUNTS = ("total", "accepted", "rejected", "duplicates", "skipped_dnc", "skipped_window")
#: The task logger: what it logs shows in the task's log, with the task's context and level.
log = logging.getLogger("airflow.task")


@dag(
    dag_id="dialer_multi_vendor_fanout",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["dialers", "example"],
    params={
        "source": Param(
            SAMPLE, type="string", title="Contact file",
            description="CSV or JSON Lines file of contacts: a local path, URL or object storage path",
        ),
        "conn_ids": Param(
            DEFAULT_CONN_IDS, type="array", items={"type": "string"}, minItems=1, title="Dialer connections",
            description="Connections to send the file to, one task each: expertflow_ecm, sinch_obi and ameyo "
                        "connections take it; a maxcontact connection is skipped (its API cannot take "
                        "contacts). Each needs its campaign in Campaigns.",
        ),
        "campaigns": Param(DEFAULT_CAMPAIGNS, type="object", title="Campaigns",
                           description="Connection id -> the campaign to fill on that dialer"),
        "lead_ids": Param(
            DEFAULT_LEAD_IDS, type="object", title="Ameyo leads",
            description="Connection id -> the lead to upload into (Ameyo connections need one; other "
                        "dialers ignore it)",
        ),
        "rejects_dir": Param(
            "", type="string", title="Rejects folder",
            description="Folder for the rejects files, one per dialer and run: a local folder or shared "
                        "storage such as s3://bucket/rejects/ (any ObjectStoragePath URL). Empty: next to "
                        "the contact file. Each file is named after its task instance "
                        "(<dag>.<run>.<task>.map<n>.rejects.csv), so dialers and runs never share one",
        ),
    },
    doc_md="""
### One contact file, every dialer
Sends the same contact file to every connection in `conn_ids` with the vendor-neutral
`UploadContactsOperator`, one mapped task instance per connection (labelled with its connection
id). Each dialer gets its own rejects file, named after its task instance (dag, run, task, map
index) in `rejects_dir` (shared storage such as `s3://bucket/rejects/` on several workers).

A dialer whose API cannot take contacts (MaxContact's Management API has no lead endpoint) is
**skipped**, not failed (`on_unsupported="skip"`), so one run serves a mixed estate. `report`
then logs, per dialer, what was accepted, rejected, or skipped, and returns it (its XCom).

Params: `campaigns` maps each connection id to its campaign, `lead_ids` gives Ameyo its lead.
The defaults point at the sandbox's seeded campaigns.
""",
)
def dialer_multi_vendor_fanout():
    @task
    def targets(params: dict | None = None) -> list[dict]:
        """One upload per connection: its campaign (required), lead and rejects file."""
        campaigns, lead_ids = params["campaigns"], params["lead_ids"]
        missing = [conn_id for conn_id in params["conn_ids"] if not campaigns.get(conn_id)]
        if missing:
            raise ValueError(f"no campaign given for {missing}: add them to the 'campaigns' Param")
        # A folder (ending in /): each mapped upload names its own file there after its task instance.
        rejects_dir = params["rejects_dir"].rstrip("/") + "/" if params["rejects_dir"] else None
        return [
            {
                "dialer_conn_id": conn_id,
                "campaign_id": str(campaigns[conn_id]),
                "lead_id": lead_ids.get(conn_id),
                "rejects_path": rejects_dir,
            }
            for conn_id in params["conn_ids"]
        ]

    plan = targets()
    upload = UploadContactsOperator.partial(
        task_id=UPLOAD_TASK_ID,
        source="{{ params.source }}",
        on_unsupported="skip",
        max_rejected_ratio=0.7,  # the sample has bad rows on purpose; a real feed would use ~0.02
        attribute_map={"name": "businessParam1", "plan": "businessParam2"},  # ECM's businessParams
        map_index_template="{{ task.dialer_conn_id }}",
    ).expand_kwargs(plan)

    @task(trigger_rule="all_done")  # a string: airflow.sdk has TriggerRule from 3.1
    def report(plan: list[dict], dag_run=None, ti=None) -> dict[str, dict]:
        """Per dialer: its counts, or skipped (the dialer cannot upload) or failed, with the reason
        in that mapped task's log. Runs whatever the uploads' outcome, then fails the run if an
        upload failed (this task is the DAG's only leaf: its state is the run's)."""
        states = ti.get_task_states(dag_id=ti.dag_id, task_ids=[UPLOAD_TASK_ID], run_ids=[dag_run.run_id])
        states = states.get(dag_run.run_id, {})
        summary: dict[str, dict] = {}
        for index, target in enumerate(plan):
            conn_id = target["dialer_conn_id"]
            state = states.get(f"{UPLOAD_TASK_ID}_{index}")
            # Only a finished upload has a result to read (asking a skipped one logs "XCom not found").
            result = ti.xcom_pull(task_ids=UPLOAD_TASK_ID, map_indexes=index) if state == "success" else None
            if result is not None:
                counts = {key: result[key] for key in COUNTS}
                summary[conn_id] = {"campaign_id": target["campaign_id"], **counts}
                log.info("%s (campaign %s): %s", conn_id, target["campaign_id"], counts)
            elif state == "skipped":
                why = "its API cannot take contacts"
                summary[conn_id] = {"campaign_id": target["campaign_id"], "state": state, "reason": why}
                log.info("%s (campaign %s): skipped (%s)", conn_id, target["campaign_id"], why)
            else:
                why = "see its task log"
                summary[conn_id] = {"campaign_id": target["campaign_id"], "state": state, "reason": why}
                log.error("%s (campaign %s): %s (%s)", conn_id, target["campaign_id"], state, why)
        failed = [conn_id for conn_id, counts in summary.items() if counts.get("state", "skipped") != "skipped"]
        if failed:
            raise RuntimeError(f"the upload failed on {failed}; see their upload_contacts task logs")
        return summary

    report(plan) << upload


dialer_multi_vendor_fanout()
