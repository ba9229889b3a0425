"""scripts/distributed-check.sh only: one ECM upload with one retry, killed mid-way with its worker.

The provider's ``UploadContactsOperator``, unchanged, as a user would write it for several workers:
``rejects_path`` in shared storage (a folder both workers see), ``retries=1``. The check SIGKILLs the
Celery worker running try 1; try 2 runs on the other worker and resumes from the checkpoint in
``task_state_store``.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, Param

from airflow_provider_dialers.operators import UploadContactsOperator

with DAG(
    dag_id="distributed_crash_upload",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["dialers", "distributed-check"],
    doc_md=__doc__,
    params={
        "conn_id": Param("expertflow_ecm_default", type="string", title="Dialer connection"),
        "campaign_id": Param("2", type="string", title="Campaign"),
        "source": Param("", type="string", title="Contact file"),
        "rejects_path": Param("", type="string", title="Rejects file or folder (shared storage)"),
    },
) as dag:
    UploadContactsOperator(
        task_id="upload",
        dialer_conn_id="{{ params.conn_id }}",
        campaign_id="{{ params.campaign_id }}",
        source="{{ params.source }}",
        rejects_path="{{ params.rejects_path }}",
        max_rejected_ratio=0.01,  # the file has a few bad rows on purpose
        retries=1,
        retry_delay=timedelta(seconds=0),
    )
