"""Wait for one contact's outcome on one dialer, and branch on it: reached, or call back elsewhere."""

from __future__ import annotations

import logging
import re

import pendulum
from airflow.sdk import Param, dag, task

from airflow_provider_dialers.operators import AddCallbacksOperator
from airflow_provider_dialers.sensors import ContactStateSensor

#: Seconds between two checks of the contact (short: the sandbox settles contacts in moments).
POKE_INTERVAL = 5
WAIT_TIMEOUT = 30 * 60
CALLBACK_TASK_ID = "schedule_fallback_callback"
REACHED_TASK_ID = "contact_reached"
#: Where vendors keep a contact's numbers in ``ContactState.history``: ECM ``phone1``..``phone5``,
#: Sinch ``numbers``.
HISTORY_PHONE_KEYS = ("phone1", "phone2", "phone3", "phone4", "phone5", "numbers")
PHONE_LIKE = re.compile(r"^\+?[\d ().-]{7,}$")
#: Sinch and Ameyo take at most 3 numbers per contact.
MAX_CALLBACK_PHONES = 3
COUNTS = ("total", "accepted", "rejected", "duplicates", "skipped_dnc", "skipped_window")
#: The task logger: what it logs shows in the task's log, with the task's context and level.
log = logging.getLogger("airflow.task")


def callback_phones(state: dict, contact: str) -> list[str]:
    """The contact's numbers from its state's history (the vendor's record), else the reference
    itself when it is a phone number; ValueError when neither gives one."""
    phones: list[str] = []
    history = state.get("history") or {}
    for key in HISTORY_PHONE_KEYS:
        value = history.get(key)
        values = value if isinstance(value, list) else str(value or "").split(";")
        phones += [str(v).strip() for v in values if str(v).strip() and str(v).strip() not in phones]
    if not phones and PHONE_LIKE.match(contact.strip()):
        phones = [contact.strip()]
    if not phones:
        raise ValueError(f"no phone number known for contact {contact!r}: its state has none and the "
                         "reference is not a phone number; follow it up by phone instead")
    return phones[:MAX_CALLBACK_PHONES]


def contact_outcome(state: dict, params: dict) -> dict:
    """Where the contact stands on the dialer that called it (the sensor's ``ContactState``)."""
    return {"contact": state["contact_ref"], "conn_id": params["conn_id"],
            "campaign_id": params["campaign_id"], "state": state["state"], "attempts": state["attempts"]}


@dag(
    dag_id="dialer_contact_followup",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["dialers", "example"],
    params={
        "conn_id": Param(
            "expertflow_ecm_default", type="string", title="Dialer connection",
            description="The dialer that calls the contact: an expertflow_ecm, sinch_obi or ameyo connection "
                        "(maxcontact cannot read a contact's state). The state lists use its state names.",
        ),
        "campaign_id": Param("1", type="string", title="Campaign",
                             description="The contact's campaign on that dialer"),
        "contact": Param(
            "+15550100101", type="string", minLength=1, title="Contact",
            description="External id, phone number or the dialer's own id of the contact",
        ),
        "reached_states": Param(
            ["CONNECTED"], type="array", items={"type": "string"}, minItems=1, title="Reached states",
            description="The dialer's states that mean the contact was reached: nothing more to do "
                        "(ECM CONNECTED, Sinch SUCCESS, Ameyo CONNECTED)",
        ),
        "retry_states": Param(
            ["RETRIES_COMPLETED"], type="array", items={"type": "string"}, minItems=1, title="Gave-up states",
            description="The dialer's states that mean it gave up: call back on the fallback dialer "
                        "(ECM RETRIES_COMPLETED, Sinch MAXCALLS)",
        ),
        "failure_states": Param(
            ["DNC_LISTED", "DANGLING"], type="array", items={"type": "string"}, title="Failure states",
            description="The dialer's states that fail the run at once (never call back)",
        ),
        "fallback_conn_id": Param(
            "sinch_obi_default", type="string", title="Fallback dialer connection",
            description="The dialer that calls the contact back: a connection of type expertflow_ecm, "
                        "sinch_obi or ameyo (ameyo needs the fallback lead; maxcontact cannot schedule "
                        "callbacks).",
        ),
        "fallback_campaign_id": Param(
            "62718C7889CC44F7B944C1A6F6BE9B7F", type="string", title="Fallback campaign",
            description="The campaign on the fallback dialer",
        ),
        "fallback_lead_id": Param(
            None, type=["null", "integer"], title="Fallback Ameyo lead",
            description="Ameyo as the fallback dialer: the lead to add the callback to (empty for other "
                        "dialers)",
        ),
        "callback_delay_minutes": Param(
            60, type="integer", minimum=1, title="Callback delay (minutes)",
            description="Call back this many minutes after the dialer gave up",
        ),
    },
    doc_md="""
### Follow one contact up
Waits for one contact's outcome with `ContactStateSensor`, deferred (the triggerer polls; no
worker slot is held), then branches on the state it reached:

* a **reached** state (ECM `CONNECTED`, Sinch `SUCCESS`, Ameyo `CONNECTED`): done;
* a **retry** state, the dialer gave up (ECM `RETRIES_COMPLETED`, Sinch `MAXCALLS`): schedule a
  callback on another dialer (`fallback_conn_id`, `AddCallbacksOperator`) with the contact's
  numbers, `callback_delay_minutes` later;
* a **failure** state (ECM `DNC_LISTED`, `DANGLING`): the sensor fails at once, so does the run;
  so does any other final state the dialer will not change by itself.

States are the vendor's own names: change the three lists with `conn_id`. The defaults follow a
seeded contact of the sandbox's ECM campaign 1 and call it back on Sinch.

The branch taken logs what happened and returns it (its XCom): `contact_reached` the contact's
state, `report_callback` that state and the callback scheduled on the fallback dialer.
""",
)
def dialer_contact_followup():
    wait = ContactStateSensor(
        task_id="wait_for_contact",
        dialer_conn_id="{{ params.conn_id }}",
        campaign_id="{{ params.campaign_id }}",
        contact="{{ params.contact }}",
        target_states="{{ (params.reached_states + params.retry_states) | join(',') }}",
        failure_states="{{ params.failure_states | join(',') }}",
        deferrable=True,
        poke_interval=POKE_INTERVAL,
        timeout=WAIT_TIMEOUT,
    )

    @task.branch
    def decide(state: dict, params: dict | None = None) -> str:
        """Reached -> done; the dialer gave up -> call back on the fallback dialer."""
        reached = {name.upper() for name in params["reached_states"]}
        name = state["state"].upper()
        log.info("contact %s on %s: %s after %s attempts", state["contact_ref"], params["conn_id"],
                 state["state"], state["attempts"])
        return REACHED_TASK_ID if name in reached else "fallback_callback"  # the sensor allows no other

    @task(task_id=REACHED_TASK_ID, multiple_outputs=False)  # one XCom: Airflow 3.0 refuses a key set to None
    def contact_reached(state: dict, params: dict | None = None) -> dict:
        log.info("reached (%s): no follow-up needed", state["state"])
        return {**contact_outcome(state, params), "follow_up": None}

    @task
    def fallback_callback(state: dict, params: dict | None = None) -> list[dict]:
        """The callback for the fallback dialer: the contact's numbers, due later."""
        contact = params["contact"]
        due = pendulum.now("UTC").add(minutes=int(params["callback_delay_minutes"]))
        digits = re.sub(r"\D", "", contact) or re.sub(r"\W", "", contact)
        return [{
            "external_id": f"followup-{params['campaign_id']}-{digits}",
            "phones": callback_phones(state, contact),
            "callback_at": due.isoformat(),
        }]

    state = wait.output
    callback = fallback_callback(state)
    schedule_callback = AddCallbacksOperator(
        task_id=CALLBACK_TASK_ID,
        dialer_conn_id="{{ params.fallback_conn_id }}",
        campaign_id="{{ params.fallback_campaign_id }}",
        lead_id="{{ params.fallback_lead_id if params.fallback_lead_id is not none else '' }}",
        callbacks=callback,
    )

    @task
    def report_callback(scheduled: dict, state: dict, params: dict | None = None) -> dict:
        log.info("callback on %s campaign %s: %s scheduled, %s already scheduled, %s rejected",
                 params["fallback_conn_id"], params["fallback_campaign_id"], scheduled["accepted"],
                 scheduled["duplicates"], scheduled["rejected"])
        follow_up = {"conn_id": params["fallback_conn_id"], "campaign_id": params["fallback_campaign_id"],
                     **{key: scheduled[key] for key in COUNTS},
                     "first_rejects": scheduled.get("first_rejects", [])}
        return {**contact_outcome(state, params), "follow_up": follow_up}

    decide(state) >> [contact_reached(state), callback]
    report_callback(schedule_callback.output, state)


dialer_contact_followup()
