"""ExpertFlow ECM's REST API on ``DialerHook``: the connection, the plumbing, one method per endpoint.

Campaigns, the DNC list and preference settings are here; campaign contacts (callbacks) and call
strategies are in the mixins :mod:`.api_callbacks` and :mod:`.api_strategies`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import time as clock_time
from typing import Any, Literal, cast

from airflow_provider_dialers.errors import register_secret
from airflow_provider_dialers.vendors.expertflow.api_callbacks import CallbackEndpoints
from airflow_provider_dialers.vendors.expertflow.api_strategies import StrategyEndpoints
from airflow_provider_dialers.vendors.expertflow.auth import EcmBearerAuth
from airflow_provider_dialers.vendors.expertflow.wire import (
    CAMPAIGN,
    DNC,
    PREFERENCES,
    READINGS,
    CampaignId,
    CampaignType,
    EcmPreferenceSettings,
    campaign_body,
    campaign_ref,
    csv_bytes,
    normalize_campaign,
    without_none,
)


class ExpertflowEcmApi(CallbackEndpoints, StrategyEndpoints):
    """ExpertFlow ECM's endpoints (13.2, 13.3), each as documented; the capabilities are on
    :class:`~airflow_provider_dialers.vendors.expertflow.hook.ExpertflowEcmHook`.
    """

    #: Where the references are silent, the readings handled either way (docs/readings.md).
    known_readings = READINGS

    def _test_connection_call(self) -> str:
        return f"{len(self.get_campaigns())} campaigns (ECM release {self.api_version})"

    # -- login ---------------------------------------------------------------------------------
    def get_login_details(self) -> dict[str, Any]:
        """License and user details from the login answer (``GET /umm/api/login``), tokens removed.

        ECM has no other license endpoint: this reuses the hook's current login and logs in only
        when there is none. Retry-safe: yes (a login changes nothing).
        """
        auth = cast(EcmBearerAuth, self.auth)
        auth.current()
        return dict(auth.login_details)

    # -- campaigns -------------------------------------------------------------------------------
    def get_cisco_campaigns(self) -> list[dict[str, Any]]:
        """The UCCE/UCCX campaigns an ECM campaign can be linked to
        (``GET /umm/ecm/campaign/fetchCiscoCampaigns``).

        Retry-safe: yes (read).
        """
        return self._call_json("GET", f"{CAMPAIGN}/fetchCiscoCampaigns", list, retry_safe=True)

    def create_ecm_campaign(
        self,
        *,
        name: str,
        cisco_campaign_id: str | int,
        strategy_id: str | int,
        start_time: str | clock_time,
        end_time: str | clock_time,
        week_days: str | Iterable[int],
        campaign_type: CampaignType | int = CampaignType.IVR,
        enabled: bool = True,
        crm_campaign_id: str | None = None,
        description: str | None = None,
        sms_template: str | None = None,
    ) -> dict[str, Any]:
        """Create an ECM campaign linked to a Cisco campaign (``POST /umm/ecm/campaign/createCampaign``).

        ``start_time``/``end_time`` are the daily window ("HH:MM"), ``week_days`` 0 (Sunday) .. 6.
        ECM answers 201 (13.3) or 200 (13.2); both are accepted. Returns the campaign.
        Retry-safe: no (a re-sent create makes a second campaign).
        """
        return self._create_campaign_at(
            "createCampaign", {"ciscoCampaignId": cisco_campaign_id},
            name=name, strategy_id=strategy_id, start_time=start_time, end_time=end_time,
            week_days=week_days, campaign_type=campaign_type, enabled=enabled,
            crm_campaign_id=crm_campaign_id, description=description, sms_template=sms_template,
        )

    def create_campaign_by_skill_group(
        self,
        *,
        name: str,
        skill_group: str,
        strategy_id: str | int,
        start_time: str | clock_time,
        end_time: str | clock_time,
        week_days: str | Iterable[int],
        campaign_type: CampaignType | int = CampaignType.AGENT,
        enabled: bool = True,
        crm_campaign_id: str | None = None,
        description: str | None = None,
        dialer_type: str | None = None,
        sms_template: str | None = None,
    ) -> dict[str, Any]:
        """Create an ECM campaign linked to the UCCE campaign of a skill group
        (``POST /umm/ecm/campaign/createCampaignBySkilllGroup``, the documented spelling).

        ``dialer_type`` is the Cisco dialing mode, e.g. "PREDICTIVE". Returns the campaign.
        Retry-safe: no (a re-sent create makes a second campaign).
        """
        return self._create_campaign_at(
            "createCampaignBySkilllGroup", without_none({"skillGroup": skill_group, "dialerType": dialer_type}),
            name=name, strategy_id=strategy_id, start_time=start_time, end_time=end_time,
            week_days=week_days, campaign_type=campaign_type, enabled=enabled,
            crm_campaign_id=crm_campaign_id, description=description, sms_template=sms_template,
        )

    def _create_campaign_at(self, endpoint: str, link: dict[str, Any], **fields: Any) -> dict[str, Any]:
        """POST a new campaign (``fields`` as :func:`campaign_body` takes them) with what links it to
        its Cisco campaign; the campaign as ECM answers it. Not retry-safe: a re-sent create duplicates."""
        body = {**campaign_body(**fields), **link}
        campaign = self._call_json("POST", f"{CAMPAIGN}/{endpoint}", dict, retry_safe=False, json_body=body)
        return normalize_campaign(campaign)

    def update_campaign(
        self,
        changes: Mapping[str, Any],
        campaign_id: CampaignId | None = None,
        *,
        crm_campaign_id: str | None = None,
    ) -> dict[str, Any]:
        """Change fields of a campaign (``PUT /umm/ecm/campaign/update``); returns the whole campaign.

        ``changes`` uses ECM's field names (``name``, ``startTime``, ``endTime``, ``weekDays``,
        ``strategyId``, ``enabled``, ``description``, ``smsTemplate``, ...).
        Retry-safe: yes (it sets values; sending it twice leaves the same campaign).
        """
        body = {**changes, **campaign_ref(campaign_id, crm_campaign_id, id_key="id")}
        campaign = self._call_json("PUT", f"{CAMPAIGN}/update", dict, retry_safe=True, json_body=body)
        return normalize_campaign(campaign)

    def get_campaigns(self) -> list[dict[str, Any]]:
        """All campaigns (``GET /umm/ecm/campaign``).

        ``status`` is "1" while the campaign runs and "0" while paused. The reference's answers
        spell two keys ``startTIme`` and ``weekdays``; ``startTime`` and ``weekDays`` are added.
        Retry-safe: yes (read).
        """
        return [normalize_campaign(c) for c in self._call_json("GET", CAMPAIGN, list, retry_safe=True)]

    def get_campaign(
        self, campaign_id: CampaignId | None = None, *, crm_campaign_id: str | None = None
    ) -> dict[str, Any] | None:
        """One campaign by ECM id or CRM campaign id, or None (``GET /umm/ecm/campaign``, filtered here:
        ECM has no single-campaign read). Retry-safe: yes (read)."""
        key, wanted = next(iter(campaign_ref(campaign_id, crm_campaign_id, id_key="id").items()))
        return next((c for c in self.get_campaigns() if str(c.get(key)) == str(wanted)), None)

    def delete_campaign(
        self, campaign_id: CampaignId | None = None, *, crm_campaign_id: str | None = None
    ) -> str:
        """Delete a campaign (``DELETE /umm/ecm/campaign/delete?id=`` or ``?crmCampaignId=``).

        Retry-safe: yes (deleting by id; a repeat finds nothing more to delete).
        """
        params = campaign_ref(campaign_id, crm_campaign_id, id_key="id")
        return self._call_message("DELETE", f"{CAMPAIGN}/delete", retry_safe=True, params=params)

    def pause_campaign(
        self, campaign_id: CampaignId | None = None, *, crm_campaign_id: str | None = None
    ) -> str:
        """Stop a campaign from dialing: ``POST /umm/ecm/campaign/pause?id=`` (13.2) or
        ``POST /umm/ecm/campaign/campaignUpdateStatus`` (13.3). Returns ECM's confirmation.

        Retry-safe: yes (it sets a state).
        """
        return self._set_campaign_status("pause", campaign_id, crm_campaign_id)

    def resume_campaign(
        self, campaign_id: CampaignId | None = None, *, crm_campaign_id: str | None = None
    ) -> str:
        """Let a paused campaign dial again: ``POST /umm/ecm/campaign/resume?id=`` (13.2) or
        ``POST /umm/ecm/campaign/campaignUpdateStatus`` (13.3). Returns ECM's confirmation.

        Retry-safe: yes (it sets a state).
        """
        return self._set_campaign_status("resume", campaign_id, crm_campaign_id)

    def _set_campaign_status(
        self, action: Literal["pause", "resume"], campaign_id: CampaignId | None, crm_campaign_id: str | None
    ) -> str:
        ref = campaign_ref(campaign_id, crm_campaign_id, id_key="id")
        if self.api_version == "13.2":
            return self._call_message("POST", f"{CAMPAIGN}/{action}", retry_safe=True, params=ref)
        # 13.3 documents the endpoint but not its body: we send the campaign reference and
        # {"status": "pause"|"resume"} (see docs/expertflow.md).
        return self._call_message(
            "POST", f"{CAMPAIGN}/campaignUpdateStatus", retry_safe=True, json_body={**ref, "status": action}
        )

    # -- DNC --------------------------------------------------------------------------------------
    def list_dnc_contacts(self) -> list[dict[str, Any]]:
        """The DNC (do not call) list (``GET /umm/ecm/contact``). Retry-safe: yes (read)."""
        return self._call_json("GET", DNC, list, retry_safe=True)

    def add_dnc_contact(self, primary_number: str, name: str | None = None) -> dict[str, Any] | None:
        """Put one number on the DNC list (``POST /umm/ecm/contact/save``); returns the DNC contact,
        or None when the server answers without it.

        13.3 documents the DNC object as the answer; 13.2 documents none (reading
        ``ecm_dnc_save_answer``): an empty 200 or a sentence is a success too (an HTML page, XML or
        ``null`` still raises). Confirm such a save with :meth:`list_dnc_contacts`.
        Retry-safe: no (a re-sent save adds a second entry; check :meth:`list_dnc_contacts`).
        """
        body = without_none({"name": name, "primaryNumber": primary_number})
        path = f"{DNC}/save"
        response = self.request("POST", path, retry_safe=False, json_body=body)
        if not response.text.lstrip().startswith("{"):
            self._message(response, f"POST {path}")  # empty, or a sentence: no DNC object
            return None
        entry = self.decode(response, f"POST {path}", dict)
        return entry if "id" in entry or "primaryNumber" in entry else None  # else a status object

    def update_dnc_contact(
        self, contact_id: int, *, primary_number: str | None = None, name: str | None = None
    ) -> dict[str, Any]:
        """Change a DNC contact (``POST /umm/ecm/contact/update``, ECM 13.3); returns it.

        Retry-safe: yes (it sets values).
        """
        self._require_13_3("POST /umm/ecm/contact/update")
        body = without_none({"id": contact_id, "name": name, "primaryNumber": primary_number})
        return self._call_json("POST", f"{DNC}/update", dict, retry_safe=True, json_body=body)

    def delete_dnc_contact(self, contact_id: int) -> str:
        """Take a contact off the DNC list (``DELETE /umm/ecm/contact/delete?id=``; 13.3 answers 204).

        Retry-safe: yes (deleting by id).
        """
        return self._call_message("DELETE", f"{DNC}/delete", retry_safe=True, params={"id": contact_id})

    def upload_dnc_csv(
        self, contacts: Iterable[str | tuple[str, str | None]] | str | bytes, filename: str = "dnc.csv"
    ) -> str:
        """Put many numbers on the DNC list (``POST /umm/ecm/contact/uploadCsv``, multipart file).

        ``contacts``: numbers, ``(number, name)`` pairs, or a ready CSV ("contact-number,optional-name"
        lines). Returns ECM's confirmation. Retry-safe: no (a re-sent file adds the entries twice).
        """
        if isinstance(contacts, (str, bytes)):
            content = contacts
        else:
            content = csv_bytes((entry,) if isinstance(entry, str) else entry for entry in contacts)
        files = {"file": (filename, content, "text/csv")}
        return self._call_message("POST", f"{DNC}/uploadCsv", retry_safe=False, files=files)

    # -- preference settings (13.3) ----------------------------------------------------------------
    def get_preference_settings(self) -> dict[str, Any]:
        """The preference settings in effect (``POST /umm/ecm/preferenceSettings``, ECM 13.3).

        The answer holds a DB password, registered as a secret. Retry-safe: yes (read).
        """
        self._require_13_3("POST /umm/ecm/preferenceSettings")
        return self._preference_call(PREFERENCES, {}, retry_safe=True)

    def save_preference_settings(self, settings: EcmPreferenceSettings) -> dict[str, Any]:
        """Store preference settings (``POST /umm/ecm/preferenceSettings/save``, ECM 13.3); returns them.

        Retry-safe: no (a re-sent save stores a second record).
        """
        self._require_13_3("POST /umm/ecm/preferenceSettings/save")
        return self._preference_call(f"{PREFERENCES}/save", settings.to_body(), retry_safe=False)

    def update_preference_settings(self, settings_id: int, settings: EcmPreferenceSettings) -> dict[str, Any]:
        """Change stored preference settings (``POST /umm/ecm/preferenceSettings/update``, ECM 13.3).

        Retry-safe: yes (it sets values).
        """
        self._require_13_3("POST /umm/ecm/preferenceSettings/update")
        body = {"id": settings_id, **settings.to_body()}
        return self._preference_call(f"{PREFERENCES}/update", body, retry_safe=True)

    def delete_preference_settings(self, settings_id: int) -> str:
        """Delete preference settings (``POST /umm/ecm/preferenceSettings/delete?id=``, ECM 13.3).

        Retry-safe: yes (deleting by id).
        """
        self._require_13_3("POST /umm/ecm/preferenceSettings/delete")
        params = {"id": settings_id}
        return self._call_message("POST", f"{PREFERENCES}/delete", retry_safe=True, params=params)

    def _preference_call(self, path: str, body: dict[str, Any], *, retry_safe: bool) -> dict[str, Any]:
        register_secret(body.get("password"), "ecm_db_password")
        settings = self._call_json("POST", path, dict, retry_safe=retry_safe, json_body=body)
        register_secret(settings.get("password"), "ecm_db_password")
        return settings
