"""Campaign operators: create (or reuse) a campaign, run or pause it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from airflow_provider_dialers.errors import DialerValidationError
from airflow_provider_dialers.operators.base import DialerOperator

CAMPAIGN_STATUSES = ("running", "paused")


class CreateCampaignOperator(DialerOperator):
    """Create a campaign, or reuse the one that already has its name; push its id to XCom.

    ``campaign`` holds the vendor's own campaign fields as its reference names them (ECM: ``name``,
    ``startTime``, ``endTime``, ``strategyId``, ``type``, ``ciscoCampaignId``, ``weekDays``,
    ``enabled``...; MaxContact: ``CampaignName``, ``Type``...). The hook checks the reference's
    required fields before sending anything.

    Retry-safe: the campaign is looked up by name first, so a retry after a crash finds the
    campaign the first try created instead of creating a second one.

    :param if_exists: ``reuse`` (default) returns the existing campaign's id; ``fail`` fails the task.
    :returns: the campaign id (also pushed: XCom ``created``, True when this task created it).
    """

    template_fields: Sequence[str] = ("dialer_conn_id", "campaign", "if_exists")
    template_fields_renderers = {"campaign": "json"}

    def __init__(
        self,
        *,
        dialer_conn_id: str,
        campaign: Mapping[str, Any],
        if_exists: Literal["reuse", "fail"] = "reuse",
        **kwargs: Any,
    ) -> None:
        super().__init__(dialer_conn_id=dialer_conn_id, **kwargs)
        self.campaign = campaign
        self.if_exists = if_exists

    def run(self, context: Any) -> str:
        if self.if_exists not in ("reuse", "fail"):
            raise ValueError(f"if_exists must be 'reuse' or 'fail', got {self.if_exists!r}")
        hook = self.hook
        if not isinstance(self.campaign, Mapping):
            raise DialerValidationError("campaign", "must be a dict of the vendor's campaign fields",
                                        vendor=hook.vendor_name)
        name_field = hook.campaign_name_field
        name = self.campaign.get(name_field)
        if not isinstance(name, str) or not name.strip():
            raise DialerValidationError(name_field, "the campaign's name is required (it makes retries safe)",
                                        vendor=hook.vendor_name)
        existing = hook.find_campaign(name)
        if existing is not None:
            if self.if_exists == "fail":
                raise DialerValidationError(name_field, f"a campaign named {name!r} already exists (id {existing})",
                                            vendor=hook.vendor_name)
            self.log.info("%s campaign %r already exists (id %s): reusing it", hook.vendor_name, name, existing)
            context["ti"].xcom_push(key="created", value=False)
            return existing
        campaign_id = hook.create_campaign(self.campaign)
        self.log.info("Created %s campaign %r: id %s", hook.vendor_name, name, campaign_id)
        context["ti"].xcom_push(key="created", value=True)
        return campaign_id


class SetCampaignStatusOperator(DialerOperator):
    """Run or pause a campaign (ECM pause/resume, MaxContact campaign status, Sinch Active/Passive).

    While a global emergency stop recorded by ``GlobalEmergencyOperator`` is on for the connection,
    ``running`` is refused before anything is sent (``DialerEmergencyActiveError``).

    :param status: ``running`` or ``paused``.
    :param override_emergency: start the campaign even during an emergency stop.
    :returns: ``{"campaign_id": ..., "status": ...}``.
    """

    template_fields: Sequence[str] = ("dialer_conn_id", "campaign_id", "status")

    def __init__(
        self,
        *,
        dialer_conn_id: str,
        campaign_id: str | int,
        status: Literal["running", "paused"] = "running",
        override_emergency: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(dialer_conn_id=dialer_conn_id, **kwargs)
        self.campaign_id = campaign_id
        self.status = status
        self.override_emergency = override_emergency

    def run(self, context: Any) -> dict[str, str]:
        if self.status not in CAMPAIGN_STATUSES:
            raise DialerValidationError("status", f"must be one of {CAMPAIGN_STATUSES}, got {self.status!r}")
        campaign_id = str(self.campaign_id)
        if self.status == "running":
            from airflow_provider_dialers.operators.emergency import emergency_state, refuse_during_emergency

            if not self.override_emergency:
                refuse_during_emergency(self.dialer_conn_id, f"starting campaign {campaign_id}")
            elif (state := emergency_state(self.dialer_conn_id)) is not None:
                self.log.warning("A global emergency stop is on for %s since %s; starting campaign %s anyway "
                                 "(override_emergency=True)", self.dialer_conn_id, state["since"], campaign_id)
        self.hook.set_campaign_status(campaign_id, self.status)
        self.log.info("%s campaign %s is now %s", self.hook.vendor_name, campaign_id, self.status)
        return {"campaign_id": campaign_id, "status": self.status}
