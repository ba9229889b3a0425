"""The completion trigger keeps one hook for its whole wait (one login, not one per poll) and closes
it before its event, after an error, and when cancelled; over real HTTP against the sandbox."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from airflow_provider_dialers.triggers import CampaignCompletionTrigger
from airflow_provider_dialers.triggers.base import PollOutcome

ECM, AMEYO = "expertflow_ecm_default", "ameyo_default"
WELCOME, AMEYO_CAMPAIGN = "1", "5"  # both running with contacts not dialled yet; advancing settles them


class SettlingAfter(CampaignCompletionTrigger):
    """Settles the campaign after poll number ``settle_after`` (the dialer works between two polls)."""

    def __init__(self, *, settle: Any, settle_after: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settle, self.settle_after, self.polls = settle, settle_after, 0

    def poll_once(self) -> PollOutcome:
        outcome = super().poll_once()
        self.polls += 1
        if self.polls == self.settle_after:
            self.settle()
        return outcome


def collect(trigger: CampaignCompletionTrigger) -> list[dict[str, Any]]:
    async def run() -> list[dict[str, Any]]:
        return [event.payload async for event in trigger.run()]

    return asyncio.run(run())


@pytest.mark.parametrize(("vendor", "conn_id", "campaign_id"), [
    ("ameyo", AMEYO, AMEYO_CAMPAIGN), ("expertflow", ECM, WELCOME)])
def test_one_login_for_the_whole_wait_and_the_hook_closed_before_the_event(
        sandbox_client, vendor, conn_id, campaign_id):
    trigger = SettlingAfter(dialer_conn_id=conn_id, campaign_id=campaign_id, deadline=time.time() + 3600,
                            poll_interval=0.01, settle_after=3, settle=lambda: sandbox_client.advance(vendor=vendor))
    events = collect(trigger)
    assert [event["status"] for event in events] == ["success"] and trigger.polls == 4
    stats = sandbox_client.stats()
    assert stats["logins"][vendor] == 1
    assert stats["active_credentials"]["ameyo"] == 0  # logged out before the event was yielded
    assert trigger._kept_hook is None and trigger._keep_hook is False


def test_a_failed_poll_closes_the_hook_and_the_next_poll_logs_in_afresh(sandbox_client):
    sandbox_client.add_fault(vendor="expertflow", path="getList", status=503, count=1)
    trigger = SettlingAfter(dialer_conn_id=ECM, campaign_id=WELCOME, deadline=time.time() + 3600, poll_interval=0.01,
                            retry_policy={"max_attempts": 1}, max_consecutive_errors=2, settle_after=1,
                            settle=lambda: sandbox_client.advance(vendor="expertflow"))
    events = collect(trigger)
    assert [event["status"] for event in events] == ["success"]
    assert trigger.polls == 2  # polls that answered: running, then complete (the failed one raised)
    # The failed poll's login, then one for the two polls after it: the kept hook was dropped once.
    assert sandbox_client.stats()["logins"]["expertflow"] == 2


def test_a_cancelled_wait_closes_its_hook(sandbox_client):
    trigger = CampaignCompletionTrigger(dialer_conn_id=AMEYO, campaign_id=AMEYO_CAMPAIGN,
                                        deadline=time.time() + 3600, poll_interval=3600)

    async def cancel_while_sleeping() -> None:
        task = asyncio.create_task(anext(trigger.run()))
        while sandbox_client.stats()["active_credentials"].get("ameyo", 0) == 0 or trigger._kept_hook is None:
            await asyncio.sleep(0.01)  # until the first poll has logged in and kept its hook
        await asyncio.sleep(0.05)  # the poll ends; the trigger sleeps an hour
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_while_sleeping())
    stats = sandbox_client.stats()
    assert (stats["logins"]["ameyo"], stats["active_credentials"]["ameyo"]) == (1, 0)
    assert trigger._kept_hook is None


def test_polls_outside_a_wait_each_use_a_fresh_hook(sandbox_client):
    trigger = CampaignCompletionTrigger(dialer_conn_id=AMEYO, campaign_id=AMEYO_CAMPAIGN, deadline=0)
    for _ in range(2):
        assert trigger.poll_once().status is None
    stats = sandbox_client.stats()
    assert (stats["logins"]["ameyo"], stats["active_credentials"]["ameyo"]) == (2, 0)
