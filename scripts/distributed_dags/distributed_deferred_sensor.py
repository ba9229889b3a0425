"""scripts/distributed-check.sh only: a deferrable campaign sensor that waits in the triggerer.

The check stops the sandbox's dialling, sees this task ``deferred`` through the REST API (no worker
slot held), then makes the dialer work through the campaign (``POST /_sandbox/advance``); the
triggerer's next poll finds the campaign complete and the task succeeds.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param

from airflow_provider_dialers.sensors import CampaignCompletionSensor

with DAG(
    dag_id="distributed_deferred_sensor",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["dialers", "distributed-check"],
    doc_md=__doc__,
    params={
        "conn_id": Param("expertflow_ecm_default", type="string", title="Dialer connection"),
        "campaign_id": Param("1", type="string", title="Campaign"),
    },
) as dag:
    CampaignCompletionSensor(
        task_id="wait_for_completion",
        dialer_conn_id="{{ params.conn_id }}",
        campaign_id="{{ params.campaign_id }}",
        deferrable=True,
        poke_interval=2,
        timeout=600,
    )
