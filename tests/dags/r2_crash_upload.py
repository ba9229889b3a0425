"""R2 "Crash and retry" (tests/test_reliability_crash.py only): one upload task with one retry.

The task writes its own process id before uploading, so the test can SIGKILL exactly that process
(the task runner the supervisor forked) mid-upload; Airflow then runs try 2 of the same task
instance, which resumes from the checkpoint in ``task_state_store``.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.sdk import DAG, Param

from airflow_provider_dialers.operators import UploadContactsOperator


class PidRecordingUploadOperator(UploadContactsOperator):
    """The provider's operator, unchanged, plus a note of which process runs which try."""

    def execute(self, context):
        pid_dir = Path(context["params"]["pid_dir"])
        pid_dir.mkdir(parents=True, exist_ok=True)
        (pid_dir / f"try-{context['ti'].try_number}.pid").write_text(str(os.getpid()))
        return super().execute(context)


with DAG(
    dag_id="r2_crash_upload",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["dialers", "reliability"],
    doc_md=__doc__,
    params={
        "conn_id": Param("sinch_obi_default", type="string"),
        "campaign_id": Param("62718C7889CC44F7B944C1A6F6BE9B7F", type="string"),
        "source": Param("", type="string"),
        "pid_dir": Param("", type="string"),
    },
) as dag:
    PidRecordingUploadOperator(
        task_id="upload",
        dialer_conn_id="{{ params.conn_id }}",
        campaign_id="{{ params.campaign_id }}",
        source="{{ params.source }}",
        lead_id=1,
        batch_size=10,
        max_concurrency=1,
        retries=1,
        retry_delay=timedelta(seconds=0),
    )
