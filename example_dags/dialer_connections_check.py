"""Check every configured dialer connection and list each dialer's campaigns."""

from __future__ import annotations

import logging

import pendulum
from airflow.sdk import Param, dag, task

DEFAULT_CONN_IDS = ["expertflow_ecm_default", "maxcontact_default", "sinch_obi_default", "ameyo_default"]
#: The task logger: what it logs shows in the task's log, with the task's context and level.
log = logging.getLogger("airflow.task")


@dag(
    dag_id="dialer_connections_check",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["dialers", "example"],
    params={
        "conn_ids": Param(
            DEFAULT_CONN_IDS, type="array", items={"type": "string"}, title="Dialer connections",
            description="Connection ids to check, one task each. Any dialer connection type: expertflow_ecm, "
                        "maxcontact, sinch_obi or ameyo. Default: each type's default connection.",
        ),
    },
    doc_md="""
### Dialer connections check
For each dialer connection: log in and make one cheap read (the same check as the UI's Test
button), then list the dialer's campaigns. One mapped task per connection; the hook is chosen by
the connection's type, so any of the four dialers can be listed. Each task logs the check's answer
and the campaigns, and returns them (its XCom): `conn_id`, `vendor`, `message`, `campaigns`.
""",
)
def dialer_connections_check():
    @task
    def connection_ids(params: dict | None = None) -> list[str]:
        return list(params["conn_ids"])

    @task(map_index_template="{{ conn_id }}")
    def check_and_list(conn_id: str) -> dict:
        # Imported in the task, not at parse time: the scheduler parses this file often.
        from airflow_provider_dialers.hooks import get_dialer_hook

        with get_dialer_hook(conn_id) as hook:
            ok, message = hook.test_connection()
            if not ok:
                raise RuntimeError(f"{conn_id}: {message}")
        with get_dialer_hook(conn_id) as hook:
            campaigns = hook.list_campaigns()
        log.info("%s: %s", conn_id, message)
        for campaign in campaigns:
            log.info("    %-34s %-28s %s", campaign["id"], campaign["name"], campaign["status"])
        return {"conn_id": conn_id, "vendor": hook.vendor_name, "message": message, "campaigns": campaigns}

    check_and_list.expand(conn_id=connection_ids())


dialer_connections_check()
