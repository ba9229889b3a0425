"""CampaignCompletionSensor: wait until a dialer campaign is complete."""

from __future__ import annotations

from typing import Any

from airflow_provider_dialers.sensors.base import DialerSensor
from airflow_provider_dialers.triggers.campaign import CampaignCompletionTrigger


class CampaignCompletionSensor(DialerSensor):
    """Wait until a campaign is complete, on any dialer; return its progress with the counts by outcome.

    The campaign is what each vendor calls one: an ECM campaign, a MaxContact campaign, a Sinch
    OBI campaign, an Ameyo campaign. "Complete" is the vendor's, as its hook's
    ``get_campaign_progress`` decides (docs/<vendor>.md, "Capabilities"): ECM, no contact
    in flight; Sinch, no customer left to call; MaxContact, status Not Running or Flushed; Ameyo,
    every customer of the enabled leads settled.

    Each poke costs one ``get_campaign_progress`` call, whatever the campaign's size: on ECM 2
    requests while it runs and 12 on the poke that finds it complete (its outcome counts included);
    2 on Sinch; 1 on MaxContact; Ameyo 1 + one page per 10,000 customers. A run's first poke adds
    the login; later pokes (poke mode, and the trigger) keep the hook and its login.

    :param dialer_conn_id: the dialer connection (its type picks the vendor).
    :param campaign_id: the campaign (templated, e.g. an XCom).
    :param deferrable: wait in the triggerer (see :class:`~airflow_provider_dialers.sensors.base.DialerSensor`).
    :returns: (XCom) ``CampaignProgress.to_dict()``: ``campaign_id``, ``complete``, ``status``,
        ``total``, ``pending``, ``outcomes`` (name -> count) and ``detail``.
    """

    def __init__(self, *, dialer_conn_id: str, campaign_id: str | int, **kwargs: Any) -> None:
        super().__init__(dialer_conn_id=dialer_conn_id, campaign_id=campaign_id, **kwargs)

    def build_trigger(self, deadline: float) -> CampaignCompletionTrigger:
        return CampaignCompletionTrigger(
            dialer_conn_id=self.dialer_conn_id,
            campaign_id=str(self.campaign_id),
            deadline=deadline,
            poll_interval=self.poke_interval,
            max_consecutive_errors=self.max_consecutive_errors,
            retry_policy=self.retry_policy,
        )
