"""Wait for a dialer campaign to complete: :class:`CampaignCompletionTrigger` and its check."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_dialers.triggers.base import DialerPollingTrigger, PollOutcome

if TYPE_CHECKING:
    from airflow_provider_dialers.capabilities import CampaignProgress
    from airflow_provider_dialers.common.hook import DialerHook


def check_campaign_completion(hook: DialerHook, campaign_id: str) -> PollOutcome:
    """One ``get_campaign_progress`` call, judged: ``success`` once the campaign is complete.

    What "complete" means is the vendor's (its hook decides; docs/<vendor>.md, "Capabilities"
    notes say it per vendor). The cost is the capability's: a bounded number of requests whatever
    the campaign's size where the API has counters (ECM, Sinch, MaxContact), pages for Ameyo.

    When complete, the result carries the counts by outcome: the progress' own ``outcomes``, or,
    where progress leaves them out to stay cheap, the hook's ``get_outcome_counts`` if it has one
    (ECM), read once at the end. The hook is asked what it can do; no vendor is named here.
    """
    progress = hook.get_campaign_progress(campaign_id)
    if not progress.complete:
        return PollOutcome(None, describe_progress(progress), progress.to_dict())
    result = progress.to_dict()
    if not progress.outcomes:
        outcome_counts = getattr(hook, "get_outcome_counts", None)
        if callable(outcome_counts):
            counts: Mapping[str, int] = outcome_counts(campaign_id)
            result["outcomes"] = {name: count for name, count in counts.items() if count}
    return PollOutcome("success", f"campaign {campaign_id} is complete: {_counts(result)}", result)


def describe_progress(progress: CampaignProgress) -> str:
    """``not complete yet: status Active, 4 of 6 pending (detail)``."""
    parts = []
    if progress.status is not None:
        parts.append(f"status {progress.status}")
    if progress.pending is not None:
        parts.append(f"{progress.pending} of {progress.total} pending" if progress.total is not None
                     else f"{progress.pending} pending")
    text = "not complete yet" + (": " + ", ".join(parts) if parts else "")
    return text + (f" ({progress.detail})" if progress.detail else "")


def _counts(result: Mapping[str, Any]) -> str:
    outcomes = result.get("outcomes") or {}
    if outcomes:
        return ", ".join(f"{name} {count}" for name, count in sorted(outcomes.items()))
    return f"status {result.get('status')}" + (f" ({result['detail']})" if result.get("detail") else "")


class CampaignCompletionTrigger(DialerPollingTrigger):
    """Poll a campaign's progress until it is complete (any dialer: ECM campaign, MaxContact
    campaign, Sinch OBI campaign, Ameyo campaign), then yield one ``success`` event whose result
    is the progress (``CampaignProgress.to_dict()``, with the counts by outcome).

    Deferred to by :class:`~airflow_provider_dialers.sensors.CampaignCompletionSensor`. The common
    parameters are :class:`~airflow_provider_dialers.triggers.base.DialerPollingTrigger`'s.

    :param campaign_id: the dialer's campaign id.
    """

    classpath = "airflow_provider_dialers.triggers.campaign.CampaignCompletionTrigger"

    def __init__(self, *, campaign_id: str, **polling: Any) -> None:
        super().__init__(**polling)
        self.campaign_id = str(campaign_id)

    @property
    def subject(self) -> str:
        return f"campaign {self.campaign_id} on {self.dialer_conn_id}"

    def serialize_fields(self) -> dict[str, Any]:
        return {"campaign_id": self.campaign_id}

    def check(self, hook: DialerHook) -> PollOutcome:
        return check_campaign_completion(hook, self.campaign_id)
