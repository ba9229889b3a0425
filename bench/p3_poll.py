"""P3 "poll cost": HTTP requests per completion-sensor poke at 100 and at 100,000 contacts.

Starts its own sandbox (in this process), seeds one campaign of each of ExpertFlow ECM, Sinch OBI
and Ameyo with 100 and with 100,000 contacts (straight into the sandbox's state: uploading 100,000
contacts over HTTP would measure the upload, not the poll), and counts the requests the sandbox
receives for one ``CampaignCompletionSensor`` poke:

* while the campaign runs (every contact still to be dialled), and once it is complete (every
  contact settled: the poke that ends the wait, with the counts by outcome it returns);
* with a fresh hook (``sensor.poke()``: a reschedule-mode poke, or the first poke of a run; the
  login and, for Ameyo, the logout included) and with the hook a run keeps between pokes (poke
  mode and the deferred trigger: no login after the first poke).

Target: ECM and Sinch pokes cost the same at both sizes and at most 3 requests; Ameyo's grow with
its pages of :attr:`AmeyoHook.contacts_page_size` customers, ``ceil(n / page size)``.

    python bench/p3_poll.py

``run()`` returns, per vendor, ``small`` / ``large`` (a running campaign's poke with a fresh hook,
the poke that repeats while waiting), ``small_contacts`` / ``large_contacts`` and the other cases
(``complete_small``, ``complete_large``, ``kept_hook`` ...).
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

SMALL_CONTACTS = 100
LARGE_CONTACTS = 100_000
#: Sandbox vendor name -> the sandbox connection the sensor uses.
CONNECTIONS = {"expertflow": "expertflow_ecm_default", "sinch": "sinch_obi_default", "ameyo": "ameyo_default"}
TARGET_REQUESTS = 3


# -- seeding, straight into the sandbox's state ---------------------------------------------------------
# The sandbox serves from its own thread; these run while no request is in flight.


def seed_ecm_campaign(core: Any, contacts: int) -> str:
    """A running ECM campaign (default strategy) with ``contacts`` Pending contacts; its id."""
    ecm = core.vendors["expertflow"]
    strategy_id = next(iter(ecm.strategies))
    campaign_id = ecm._add_campaign({"name": f"P3 poll {contacts} {len(ecm.campaigns)}", "ciscoCampaignId": "5001",
                                     "strategyId": strategy_id, "type": "0", "status": "1", "enabled": True})
    campaign = ecm.campaigns[campaign_id]
    for n in range(contacts):
        ecm._add_callback(campaign, ecm._callback_fields({"phone1": f"+1{campaign_id:03d}{n:07d}"}))
    return str(campaign_id)


def settle_ecm_campaign(core: Any, campaign_id: str) -> None:
    """Every contact of the campaign terminal: 3 in 4 Connected, the others RetriesCompleted."""
    from airflow_provider_dialers.hooks.expertflow import RequestState

    ecm = core.vendors["expertflow"]
    mine = (c for c in ecm.callbacks.values() if c["campaignId"] == int(campaign_id))
    for n, callback in enumerate(mine):
        callback["requestState"] = int(RequestState.CONNECTED if n % 4 else RequestState.RETRIES_COMPLETED)


def seed_sinch_campaign(core: Any, contacts: int) -> str:
    """An Active Sinch OBI campaign with ``contacts`` customers not called yet; its id."""
    from airflow_provider_dialers.sandbox.sinch import state as obi

    sandbox = core.vendors["sinch"]
    now = datetime.now(timezone.utc)
    campaign = obi.Campaign(id=sandbox.new_id(), name=f"P3 poll {contacts}", status="Active",
                            dialer_status="OPEN", dialer_id=next(iter(obi.DIALERS)),
                            dialing_mode="PROGRESSIVE", queue_id=next(iter(obi.QUEUES)), registered=now)
    for n in range(contacts):
        numbers = [f"+35840{n:07d}"]
        customer = obi.Customer(id=sandbox.new_id(), external_id=f"p3-{n}", numbers=numbers,
                                attributes=obi.phone_attributes(numbers), date=now, modification_date=now)
        campaign.customers[customer.id] = customer
    sandbox.campaigns[campaign.id] = campaign
    return campaign.id


def settle_sinch_campaign(core: Any, campaign_id: str) -> None:
    """Every customer handled (SUCCESS or REFUSAL) and the campaign Handled, as the dialer leaves it."""
    from airflow_provider_dialers.sandbox.sinch import state as obi

    campaign = core.vendors["sinch"].campaigns[campaign_id]
    for n, customer in enumerate(campaign.customers.values()):
        customer.result = customer.call_result = obi.SUCCESS if n % 4 else obi.REFUSAL
        customer.call_count = 1
        customer.date = obi.NEVER
    campaign.status, campaign.dialer_status = "Handled", "COMPLETED"


def seed_ameyo_campaign(core: Any, contacts: int) -> str:
    """A new Ameyo campaign with one enabled lead (maxAttempt 3) of ``contacts`` NOT_TRIED customers; its id."""
    ameyo = core.vendors["ameyo"]
    campaign_id, lead_id = max(ameyo.campaigns) + 1, max(ameyo.leads) + 1
    ameyo.campaigns[campaign_id] = {"campaignId": campaign_id, "campaignName": f"P3 poll {contacts}",
                                    "campaignType": "Outbound Voice Campaign", "running": True}
    ameyo.leads[lead_id] = {"id": lead_id, "campaignId": campaign_id, "leadId": lead_id, "priority": 1,
                            "weightage": 1, "enabled": True, "maxAttempt": 3, "churnCount": 0,
                            "fetchOrderDetails": [{"ascending": False}]}
    for n in range(contacts):
        ameyo._add_customer(ameyo._next_customer_id, campaign_id, lead_id, {"phone1": f"98{campaign_id:02d}{n:07d}"})
        ameyo._next_customer_id += 1
    return str(campaign_id)


def settle_ameyo_campaign(core: Any, campaign_id: str) -> None:
    """Every customer of the campaign CONNECTED after one attempt."""
    for customer in core.vendors["ameyo"].customers.values():
        if customer["campaignId"] == int(campaign_id):
            customer["columns"].update(status="CONNECTED", attempts=1)


SEED: dict[str, tuple[Callable[[Any, int], str], Callable[[Any, str], None]]] = {
    "expertflow": (seed_ecm_campaign, settle_ecm_campaign),
    "sinch": (seed_sinch_campaign, settle_sinch_campaign),
    "ameyo": (seed_ameyo_campaign, settle_ameyo_campaign),
}


# -- measuring --------------------------------------------------------------------------------------------


def completion_sensor(vendor: str, campaign_id: str) -> Any:
    from airflow_provider_dialers.sensors import CampaignCompletionSensor

    return CampaignCompletionSensor(task_id=f"p3_{vendor}_{campaign_id}", dialer_conn_id=CONNECTIONS[vendor],
                                    campaign_id=campaign_id, deferrable=False)


def requests_during(core: Any, vendor: str, action: Callable[[], Any]) -> tuple[Any, int]:
    """``action()``'s result and how many requests of ``vendor`` the sandbox received meanwhile."""
    before = core.request_counts[vendor]
    result = action()
    return result, core.request_counts[vendor] - before


def fresh_poke_cost(core: Any, vendor: str, campaign_id: str) -> tuple[Any, int]:
    """One ``sensor.poke()`` on its own: a fresh hook (login, and Ameyo's logout, included)."""
    sensor = completion_sensor(vendor, campaign_id)
    return requests_during(core, vendor, lambda: sensor.poke({}))


@contextmanager
def kept_hook_polls(vendor: str, campaign_id: str) -> Iterator[Any]:
    """The sensor's trigger keeping one hook between polls, as ``sensor.execute()`` (poke mode) and
    the deferred trigger's ``run()`` do; released (hook closed) on exit."""
    trigger = completion_sensor(vendor, campaign_id).build_trigger(deadline=time.time() + 3600)
    trigger.keep_hook()
    try:
        yield trigger
    finally:
        trigger.release_hook()


def measure_vendor(core: Any, vendor: str, contacts: int) -> dict[str, int]:
    """Requests per poke for one campaign of ``contacts``: running and complete, fresh and kept hook."""
    seed, settle = SEED[vendor]
    campaign_id = seed(core, contacts)
    costs: dict[str, int] = {}
    with kept_hook_polls(vendor, campaign_id) as trigger:
        trigger.poll_once()  # the run's first poll logs in; the next ones reuse the session
        outcome, costs["running_kept_hook"] = requests_during(core, vendor, trigger.poll_once)
        assert not outcome.done, outcome.message
        _, costs["running"] = fresh_poke_cost(core, vendor, campaign_id)
        settle(core, campaign_id)
        outcome, costs["complete_kept_hook"] = requests_during(core, vendor, trigger.poll_once)
        assert outcome.status == "success", outcome.message
        assert outcome.result["total"] == contacts, outcome.result
    done, costs["complete"] = fresh_poke_cost(core, vendor, campaign_id)
    assert done.is_done and done.xcom_value["total"] == contacts, done
    return costs


def ameyo_page_bytes(core: Any, campaign_id: str, page_size: int) -> int:
    """Bytes of one getContacts answer of ``page_size`` customers as the progress check asks for them
    (sandbox customers: phone1 only; real ones carry every customer field)."""
    from airflow_provider_dialers.hooks.ameyo import PROGRESS_COLUMNS, other_columns_map

    answer = core.vendors["ameyo"]._get_contacts({
        "campaignId": int(campaign_id), "chooseEnabledLeads": True,
        "otherColumns": other_columns_map(PROGRESS_COLUMNS), "orderBy": "customer_id",
        "limitOffset": f"LIMIT {page_size}"})
    return len(json.dumps(answer, ensure_ascii=False).encode())


def measure(core: Any) -> dict[str, dict[str, Any]]:
    """Every vendor's figures (see :func:`run`) against an in-process sandbox's ``core``."""
    from airflow_provider_dialers.hooks.ameyo import AmeyoHook

    results: dict[str, dict[str, Any]] = {}
    for vendor in SEED:
        small = measure_vendor(core, vendor, SMALL_CONTACTS)
        large = measure_vendor(core, vendor, LARGE_CONTACTS)
        results[vendor] = {
            "small": small["running"], "large": large["running"],
            "small_contacts": SMALL_CONTACTS, "large_contacts": LARGE_CONTACTS,
            "ratio": large["running"] / small["running"],
            "complete_small": small["complete"], "complete_large": large["complete"],
            "kept_hook": {"small": small["running_kept_hook"], "large": large["running_kept_hook"],
                          "complete_small": small["complete_kept_hook"],
                          "complete_large": large["complete_kept_hook"]},
        }
    page_size = AmeyoHook.contacts_page_size
    results["ameyo"]["page_size"] = page_size
    results["ameyo"]["pages"] = {"small": math.ceil(SMALL_CONTACTS / page_size),
                                 "large": math.ceil(LARGE_CONTACTS / page_size)}
    large_campaign = max(core.vendors["ameyo"].campaigns)
    results["ameyo"]["page_bytes"] = ameyo_page_bytes(core, str(large_campaign), page_size)
    return results


def run() -> dict[str, dict[str, Any]]:
    """Start a sandbox, measure, stop it. Per vendor: ``small`` / ``large`` (requests for one poke of a
    running campaign, fresh hook), ``small_contacts`` / ``large_contacts``, ``ratio`` (large / small),
    ``complete_small`` / ``complete_large`` (the poke that finds the campaign complete, fresh hook),
    ``kept_hook`` (the same four with the hook a run keeps between pokes); Ameyo adds ``page_size``,
    ``pages`` and ``page_bytes``. ``os.environ`` is restored afterwards."""
    from airflow_provider_dialers.sandbox import Sandbox

    saved_env = dict(os.environ)
    try:
        with Sandbox(in_process=True) as sandbox:
            os.environ.update(sandbox.connection_env(timeout=120.0))
            return measure(sandbox.core)
    finally:
        os.environ.clear()
        os.environ.update(saved_env)


def _format_table(results: dict[str, dict[str, Any]]) -> list[str]:
    rows = []
    for vendor, figures in results.items():
        kept = figures["kept_hook"]
        for label, small, large in (
            ("running, fresh hook", figures["small"], figures["large"]),
            ("running, kept hook", kept["small"], kept["large"]),
            ("complete, fresh hook", figures["complete_small"], figures["complete_large"]),
            ("complete, kept hook", kept["complete_small"], kept["complete_large"]),
        ):
            rows.append(f"{vendor:<11} {label:<21} {small:>6} {large:>9} {large / small:>7.2f}")
    return rows


def main() -> int:
    os.environ.setdefault("AIRFLOW_HOME", "/tmp/airflow-bench-p3")
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")  # not every poke's progress line
    started = time.monotonic()
    results = run()
    print(f"HTTP requests per CampaignCompletionSensor poke ({SMALL_CONTACTS:,} vs {LARGE_CONTACTS:,} contacts)")
    print(f"{'vendor':<11} {'poke':<21} {SMALL_CONTACTS:>6,} {LARGE_CONTACTS:>9,} {'ratio':>7}")
    for line in _format_table(results):
        print(line)
    ameyo = results["ameyo"]
    print(f"Ameyo: getContacts pages of {ameyo['page_size']:,} customers: {ameyo['pages']['small']} and "
          f"{ameyo['pages']['large']} pages (ceil(n / page size)); one full page is "
          f"{ameyo['page_bytes'] / 1e6:.1f} MB in the sandbox")
    running_ok = all(results[v]["small"] == results[v]["large"] <= TARGET_REQUESTS for v in ("expertflow", "sinch"))
    print(f"ECM and Sinch running pokes equal and <= {TARGET_REQUESTS}: {'yes' if running_ok else 'NO'}; "
          f"{time.monotonic() - started:.0f} s")
    print(json.dumps(results))
    return 0 if running_ok else 1


if __name__ == "__main__":
    sys.exit(main())
