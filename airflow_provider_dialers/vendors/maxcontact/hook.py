"""MaxContact's vendor-neutral capabilities over its Management API (document version 1.3).

Capabilities (:class:`~airflow_provider_dialers.capabilities.DialerCapabilities`): create/find/list
campaigns, set their status, the native global emergency and a campaign's progress (its Status).
Uploading contacts, callbacks, DNC and contact states are not supported: the Management API cannot
upload leads or read their outcomes. The campaign spec check and the Status mapping live in
:mod:`airflow_provider_dialers.vendors.maxcontact.records`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from airflow_provider_dialers.capabilities import (
    CallbackRow,
    CampaignProgress,
    CampaignStatusWord,
    CampaignSummary,
    ContactRow,
    ContactState,
    DncResult,
    RowOutcome,
    UploadOptions,
)
from airflow_provider_dialers.compat import connection_form_methods
from airflow_provider_dialers.errors import DialerError, DialerTransientError
from airflow_provider_dialers.vendors.maxcontact import records
from airflow_provider_dialers.vendors.maxcontact.api import MaxContactApi
from airflow_provider_dialers.vendors.maxcontact.wire import EMERGENCY_DISABLE, CampaignStatus


class MaxContactHook(MaxContactApi):
    """Hook for the MaxContact *Management API* ("Management Remote Control"), document version 1.3.

    Connection: host = the server's base URL (``https://<customer>.maxcontact.com``), login and
    password = the Token API user. One method per documented endpoint; each returns the parsed
    ``Data`` of the ManagementActionResponse. MaxContact calls campaigns *Campaigns*, lead lists
    *Lists*, agent groups *Teams* and agents *Users*.
    """

    #: The connection form for Airflow before 3.2, which reads it from these two methods (compat.py).
    get_connection_form_widgets, get_ui_field_behaviour = connection_form_methods(MaxContactApi.conn_type)

    # -- capabilities (vendor-neutral; see capabilities.DialerCapabilities) ----------------------
    #: What MaxContact's Management API is for, quoted in every "not supported" answer.
    _API_SCOPE: ClassVar[str] = (
        "MaxContact's Management API manages campaigns, lists, teams, users and skills only"
    )
    required_campaign_fields = records.REQUIRED_CAMPAIGN_FIELDS
    campaign_name_field = "CampaignName"  # unique in MaxContact: what makes creation retry-safe
    native_emergency = True  # Global Emergency stops every campaign
    #: The campaigns this hook's global emergency stopped (what a disable without a record restarts).
    _emergency_stopped: tuple[str, ...] = ()

    def create_campaign(self, spec: Mapping[str, Any]) -> str:
        """Create a *Campaign* from the reference's fields (``CampaignName``, ``Type``, ...); its id.

        The spec is checked before sending (:func:`records.campaign_from_spec`). The create call
        itself cannot be re-sent blindly, but names are unique in MaxContact: when the answer is
        lost after the server may have acted, the campaign is looked up by name instead.
        """
        campaign = records.campaign_from_spec(spec)
        try:
            return str(self.create_campaign_entity(campaign)["Id"])
        except DialerTransientError as exc:
            found = self.find_campaign(campaign["CampaignName"]) if exc.may_have_been_processed else None
            if found is None:
                raise
            self.log.info("MaxContact: the lost create answer was processed: campaign %s exists", found)
            return found

    def find_campaign(self, name: str) -> str | None:
        """The id of the campaign whose ``CampaignName`` is exactly ``name``, or None."""
        return next((c["id"] for c in self.list_campaigns() if c["name"] == name), None)

    def set_campaign_status(self, campaign_id: str, status: CampaignStatusWord) -> None:
        """``running`` -> Status Running, ``paused`` -> Paused (``update_campaign_status``)."""
        self.update_campaign_status(records.campaign_number(campaign_id), records.status_for_word(status))

    def list_campaigns(self) -> list[CampaignSummary]:
        """Every campaign; status is the Appendix 2 description ("Running", "Not Running"...)."""
        return [
            CampaignSummary(id=str(c["Id"]), name=str(c.get("CampaignName", "")),
                            status=records.status_description(c.get("Status")),
                            running=CampaignStatus.from_vendor(c.get("Status")) is CampaignStatus.RUNNING)
            for c in self.get_campaigns()
        ]

    def set_global_emergency(self, enabled: bool, stopped: Sequence[str] | None = None) -> dict[str, Any]:
        """MaxContact's own global emergency; what it changed: ``{"enabled", "campaigns_stopped",
        "campaigns_restarted"}`` (and on disable ``campaigns_not_restarted``). The campaigns are read
        before and after (2 extra reads).

        Enable stops every campaign: ``campaigns_stopped`` lists those whose Status went from Running
        to stopped. The caller records them (GlobalEmergencyOperator keeps them in an Airflow
        Variable), and this hook remembers them for its life.

        Disable "revert[s] the system back to normal", which a server may read as restarting the
        stopped campaigns or as only ending the mode (reading ``mc_emergency_disable``; remembered).
        Either way the campaigns of ``stopped`` (default: what this hook stopped) that are still Not
        Running afterwards are restarted here, and only those: a campaign paused before the
        emergency, or changed by someone during it, is left as it is. ``campaigns_not_restarted``
        lists those whose restart was refused (the caller keeps them recorded for a retry).
        """
        before = self.get_campaigns()
        if enabled:
            self.enable_global_emergency()
            changes = records.emergency_changes(True, before, self.get_campaigns())
            self._emergency_stopped = (*self._emergency_stopped, *changes["campaigns_stopped"])
            return changes
        self.disable_global_emergency()
        after = self.get_campaigns()
        changes = records.emergency_changes(False, before, after)
        recorded = [str(cid) for cid in (self._emergency_stopped if stopped is None else stopped)]
        left = records.left_stopped(recorded, after)
        if left or set(recorded) & set(changes["campaigns_restarted"]):
            self.learn(EMERGENCY_DISABLE, "flag_only" if left else "restart_stopped")
        restarted, failed = self._restart(left)
        self._emergency_stopped = tuple(failed)
        changes["campaigns_restarted"] = sorted({*changes["campaigns_restarted"], *restarted}, key=int)
        changes["campaigns_not_restarted"] = failed
        return changes

    def _restart(self, campaign_ids: Sequence[str]) -> tuple[list[str], list[str]]:
        """Set each campaign Running, carrying on past refusals; (restarted, refused)."""
        if campaign_ids:
            self.log.info("MaxContact: the global emergency ended but campaigns %s are still Not Running "
                          "(the server only ended the mode): restarting them", list(campaign_ids))
        restarted, failed = [], []
        for campaign_id in campaign_ids:
            try:
                self.update_campaign_status(records.campaign_number(campaign_id), CampaignStatus.RUNNING)
            except DialerError as exc:
                self.log.error("MaxContact: campaign %s could not be restarted: %s", campaign_id, exc)
                failed.append(campaign_id)
            else:
                restarted.append(campaign_id)
        return restarted, failed

    def get_campaign_progress(self, campaign_id: str) -> CampaignProgress:
        """One ``get_campaign`` call: complete once the Status is Not Running or Flushed.

        The API gives no lead counts or outcomes; ``detail`` says so (see the records'
        ``COMPLETE_STATUSES`` for why Flushed counts and Paused does not).
        """
        campaign = self.get_campaign(records.campaign_number(campaign_id))
        return records.campaign_progress(str(campaign_id), campaign)

    def upload_contacts(
        self, campaign_id: str, rows: Sequence[ContactRow], *, options: UploadOptions
    ) -> list[RowOutcome]:
        raise self.not_supported(
            "upload contacts", f"{self._API_SCOPE}; leads are imported into Lists outside it"
        )

    def add_callbacks(
        self, campaign_id: str, rows: Sequence[CallbackRow], *, options: UploadOptions
    ) -> list[RowOutcome]:
        raise self.not_supported("schedule callbacks", f"{self._API_SCOPE}; it has no callback endpoint")

    def add_dnc(self, numbers: Sequence[str]) -> DncResult:
        raise self.not_supported("manage a DNC list", f"{self._API_SCOPE}; it cannot edit do-not-call lists")

    def remove_dnc(self, numbers: Sequence[str]) -> DncResult:
        raise self.not_supported("manage a DNC list", f"{self._API_SCOPE}; it cannot edit do-not-call lists")

    def list_dnc(self) -> set[str]:
        raise self.not_supported("read a DNC list", f"{self._API_SCOPE}; it cannot read do-not-call lists")

    def get_contact_state(self, campaign_id: str, contact_ref: str) -> ContactState:
        raise self.not_supported(
            "report a contact's state", f"{self._API_SCOPE}; it cannot read leads or their outcomes"
        )


__all__ = ["MaxContactHook"]
