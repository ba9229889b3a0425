"""Stop every campaign on several dialers at once, or end that stop: triggered by hand from a form."""

from __future__ import annotations

import logging

import pendulum
from airflow.sdk import Param, dag, task

from airflow_provider_dialers.operators import GlobalEmergencyOperator

DEFAULT_CONN_IDS = ["maxcontact_default", "expertflow_ecm_default", "sinch_obi_default"]
SWITCH_TASK_ID = "emergency_switch"
#: The task logger: what it logs shows in the task's log, with the task's context and level.
log = logging.getLogger("airflow.task")


@dag(
    dag_id="dialer_global_emergency",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,  # an enable and a disable must not overlap
    tags=["dialers", "example"],
    params={
        "enabled": Param(True, type="boolean", title="Emergency stop",
                         description="On: stop every running campaign. Off: end the stop and restart "
                                     "exactly the campaigns it stopped."),
        "conn_ids": Param(
            DEFAULT_CONN_IDS, type="array", items={"type": "string"}, minItems=1, title="Dialers",
            description="Dialer connections to switch, one task each: maxcontact (its own Global Emergency), "
                        "expertflow_ecm or sinch_obi (every running campaign paused, then exactly those "
                        "resumed). An ameyo connection fails its task: Ameyo's API cannot pause campaigns.",
        ),
    },
    doc_md="""
### Global emergency stop
Trigger it by hand (**Trigger DAG** → form): switch **Emergency stop** on to stop every running
campaign of the listed dialers, off to end the stop. One mapped `GlobalEmergencyOperator` per
connection, labelled with its connection id:

* **MaxContact**: its own *Global Emergency* (every campaign stops; disabling restarts them).
* **ExpertFlow ECM** and **Sinch OBI** have no such switch: the operator pauses every running
  campaign and records exactly which in the Variable `dialer_emergency_stop__<conn_id>`. Ending
  the stop resumes exactly those, so a campaign that was paused before stays paused.
* **Ameyo** cannot pause campaigns through its API: listing it fails that connection's task
  (an emergency stop must never look done when it is not).

`report` runs whatever happened, logs per connection what was stopped or restarted, and returns
it (its XCom). Only one run at a time.
""",
)
def dialer_global_emergency():
    @task
    def connection_ids(params: dict | None = None) -> list[str]:
        return list(params["conn_ids"])

    conn_ids = connection_ids()
    switch = GlobalEmergencyOperator.partial(
        task_id=SWITCH_TASK_ID,
        enabled="{{ params.enabled }}",
        map_index_template="{{ task.dialer_conn_id }}",
    ).expand(dialer_conn_id=conn_ids)

    @task(trigger_rule="all_done")  # a string: airflow.sdk has TriggerRule from 3.1
    def report(conn_ids: list[str], params: dict | None = None, ti=None) -> dict[str, dict | None]:
        """What each connection's switch did; None where it failed (its log says why). Runs whatever
        the switches' outcome, then fails the run if one failed (this task is the DAG's only leaf)."""
        action = "stop" if params["enabled"] else "end of stop"
        results: dict[str, dict | None] = {}
        for index, conn_id in enumerate(conn_ids):
            result = ti.xcom_pull(task_ids=SWITCH_TASK_ID, map_indexes=index)
            results[conn_id] = result
            if result is None:
                log.error("%s: emergency %s FAILED (see its task log)", conn_id, action)
            elif result["enabled"]:
                log.info("%s (%s): emergency stop on; stopped %s", conn_id, result["mode"], result["paused"])
            else:
                log.info("%s (%s): emergency stop off; restored %s", conn_id, result["mode"],
                         result["resumed"])
        failed = [conn_id for conn_id, result in results.items() if result is None]
        if failed:
            raise RuntimeError(f"the emergency {action} failed on {failed}; see their {SWITCH_TASK_ID} task logs")
        return results

    report(conn_ids) << switch


dialer_global_emergency()
