"""MaxContact sandbox state: the entities, their seed, the reference's rules and the dial simulation."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any, ClassVar

from airflow_provider_dialers.sandbox.core import VendorSandbox
from airflow_provider_dialers.sandbox.maxcontact.answers import Reply, error, invalid
from airflow_provider_dialers.sandbox.maxcontact.readings import READINGS
from airflow_provider_dialers.sandbox.maxcontact.validation import (
    BRIDGE,
    CAMPAIGN_FIELDS,
    FLUSHED,
    IVR,
    LIST_FIELDS,
    NOT_RUNNING,
    PAUSED,
    PREDICTIVE,
    PREVIEW,
    PROGRESSIVE,
    RUNNING,
    TEAM_FIELDS,
    USER_FIELDS,
    Table,
    is_int,
)
from airflow_provider_dialers.sandbox.readings import Reading

#: Leads the sandbox pretends each campaign created through the API was loaded with: the
#: Management API cannot upload leads, so this stands in for an import done elsewhere.
NEW_CAMPAIGN_LEADS = 10
#: Simulated call outcomes, recorded per campaign (never visible through the Management API).
OUTCOMES = ("Sale", "No Sale", "No Answer", "Busy", "Answer Machine", "Callback")
OUTCOME_WEIGHTS = (2, 3, 4, 1, 3, 1)


class MaxContactState(VendorSandbox):
    """MaxContact's entities (campaigns, lists, teams, users, skills), their rules and the dialler."""

    readings: ClassVar[tuple[Reading, ...]] = READINGS

    # -- state -----------------------------------------------------------------------------------
    def seed_state(self) -> None:
        self.campaigns = Table("Campaign", CAMPAIGN_FIELDS)
        self.lists = Table("List", LIST_FIELDS)
        self.teams = Table("Team", TEAM_FIELDS)
        self.users = Table("User", USER_FIELDS)
        self.tables = {
            "campaigns": self.campaigns, "lists": self.lists, "teams": self.teams, "users": self.users,
        }
        self.campaign_lists: dict[int, set[int]] = {}
        self.campaign_teams: dict[int, set[int]] = {}
        # The dial simulation's stand-in for leads (the Management API cannot see them).
        self.leads_left: dict[int, int] = {}
        self.outcomes: dict[int, Counter[str]] = {}
        # Silent in the reference: skills are listed only in the Manager Portal; a fixed catalogue.
        self.skills = {1: "Renewals", 2: "Collections", 3: "Spanish", 4: "Complaints"}
        self.user_skills: dict[int, dict[int, int]] = {2: {1: 7}, 3: {2: 5}}  # user -> skill -> proficiency
        self.global_emergency = False
        self.emergency_stopped: set[int] = set()

        for values in (
            {"ListName": "Spring Renewals 2025", "Description": "Home policies renewing in April",
             "ListType": 0, "CallerIdEnabled": True, "CallerId": "01614960000", "MaxCallbackDays": 7,
             "UseMaxCallbackDays": True, "FetchWeight": 10},
            {"ListName": "Lapsed Customers", "ListType": 1, "MaxCallbackDays": 3, "FetchWeight": 5},
            {"ListName": "Survey Sample Q2", "ListType": 0, "FetchWeight": 1},
            {"ListName": "Callback Queue", "ListType": 2, "MaxCallbackDays": 1, "UseMaxCallbackDays": True},
        ):
            self._seed(self.lists, values)
        for values in (
            {"TenantId": 1, "TeamName": "Renewals", "PrimarySupervisorId": 1, "MaxCallbacksPerDay": 50,
             "ServiceTime": 20, "HoursPerWorkingDay": 7.5},
            {"TenantId": 1, "TeamName": "Collections", "PrimarySupervisorId": 1, "MaxCallbacksPerDay": 30,
             "ServiceTime": 30, "HoursPerWorkingDay": 8.0},
        ):
            self._seed(self.teams, values)
        agents = [("Sam", "Supervisor", 1), ("Alex", "Agent", 1), ("Jo", "Agent", 2),
                  ("Pat", "Newstarter", 0)]
        for index, (first, last, team) in enumerate(agents, start=1):
            login = f"{first}.{last}".lower()
            self._seed(self.users, {"FirstName": first, "LastName": last, "Login": login, "TeamId": team,
                                    "RolePlanId": 2 if index == 1 else 1, "Extension": f"20{index:02d}",
                                    "Password": f"{login}-sandbox"})
        # (campaign, status, lists, teams, leads): two running, one paused, one ready, one retired.
        for values, status, lists, teams, leads in (
            ({"CampaignName": "Spring Renewals", "Type": PROGRESSIVE, "CallerId": "01614960000",
              "DefaultListId": 1, "NotReadyWaitTime": 5, "HoursPerWorkingDay": 7.5}, RUNNING, {1}, {1}, 40),
            ({"CampaignName": "Debt Recovery", "Type": PREDICTIVE, "DegradeToProgressive": True,
              "ProgressiveThreshold": 3, "TargetDropPercent": 3.0, "DefaultListId": 2}, PAUSED, {2}, {2}, 25),
            ({"CampaignName": "Customer Survey IVR", "Type": IVR, "MaxLines": 10, "DefaultListId": 3},
             NOT_RUNNING, {3}, set(), 15),
            ({"CampaignName": "Callback Sweep", "Type": PROGRESSIVE, "DefaultListId": 4},
             RUNNING, {4}, {1}, 6),
            ({"CampaignName": "Winter Promo 2024", "Type": PREVIEW, "Active": False}, FLUSHED, set(), set(), 0),
        ):
            campaign = self._seed(self.campaigns, values)
            campaign["Status"] = status
            self.campaign_lists[campaign["Id"]], self.campaign_teams[campaign["Id"]] = lists, teams
            self.leads_left[campaign["Id"]] = leads
            self.outcomes[campaign["Id"]] = Counter()

    @staticmethod
    def _seed(table: Table, values: Mapping[str, Any]) -> dict[str, Any]:
        row = table.normalized(values, None)
        table.rows[row["Id"]] = row
        return row

    def snapshot(self) -> dict[str, Any]:
        campaigns = [
            {**campaign, "lists": sorted(self.campaign_lists[cid]), "teams": sorted(self.campaign_teams[cid]),
             "leads_left": self.leads_left[cid], "outcomes": dict(self.outcomes[cid])}
            for cid, campaign in sorted(self.campaigns.rows.items())
        ]
        users = [
            {**user, "skills": {str(skill): level
                                for skill, level in sorted(self.user_skills.get(user["Id"], {}).items())}}
            for user in self.users.all_public()
        ]
        return {
            "campaigns": campaigns,
            "lists": self.lists.all_public(),
            "teams": self.teams.all_public(),
            "users": users,
            "skills": {str(skill): name for skill, name in self.skills.items()},
            "global_emergency": self.global_emergency,
            "emergency_stopped": sorted(self.emergency_stopped),
        }

    # -- dialling ----------------------------------------------------------------------------------
    def dial(self, contacts: int) -> int:
        """Settle up to ``contacts`` leads of Running campaigns, one per campaign in turn (by Id);
        a Running campaign without leads left goes back to Not Running: that is "complete"."""
        settled = 0
        while settled < contacts:
            dialling = [cid for cid, c in sorted(self.campaigns.rows.items())
                        if c["Status"] == RUNNING and self.leads_left[cid] > 0]
            if not dialling:
                break
            for cid in dialling[: contacts - settled]:
                self.leads_left[cid] -= 1
                self.outcomes[cid][self.rng.choices(OUTCOMES, OUTCOME_WEIGHTS)[0]] += 1
                settled += 1
        for cid, campaign in self.campaigns.rows.items():
            if campaign["Status"] == RUNNING and self.leads_left[cid] == 0:
                campaign["Status"] = NOT_RUNNING
        return settled

    # -- rules ---------------------------------------------------------------------------------------
    def _save(
        self, table: Table, body: Mapping[str, Any], previous: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """Validate and store a created (``previous`` None) or replaced row."""
        row = table.normalized(body, previous)
        for name, field in table.fields.items():
            target = self.tables.get(field.references or "")
            if target is not None and row[name] and row[name] not in target.rows:
                raise invalid(f"{name} {row[name]}: {target.entity} does not exist")
            if field.unique and any(
                str(other[name]).casefold() == str(row[name]).casefold()
                for other_id, other in table.rows.items() if other_id != row["Id"]
            ):
                raise error(f"A {table.entity} with {name} {row[name]!r} already exists")
        if table is self.campaigns:
            self._apply_campaign_rules(row)
            if previous is None:
                self.campaign_lists[row["Id"]], self.campaign_teams[row["Id"]] = set(), set()
                self.leads_left[row["Id"]] = NEW_CAMPAIGN_LEADS
                self.outcomes[row["Id"]] = Counter()
        table.rows[row["Id"]] = row
        return row

    @staticmethod
    def _apply_campaign_rules(campaign: dict[str, Any]) -> None:
        """The reference's notes: MaxLines applies to Bridge and IVR, NotReadyWaitTime to Predictive
        and Progressive, ProgressiveThreshold to those with DegradeToProgressive. Silent on what
        "not applied" returns: the sandbox stores 0. An inactive campaign cannot keep running."""
        kind = campaign["Type"]
        if kind not in (IVR, BRIDGE):
            campaign["MaxLines"] = 0
        if kind not in (PREDICTIVE, PROGRESSIVE):
            campaign["NotReadyWaitTime"] = 0
        if kind not in (PREDICTIVE, PROGRESSIVE) or not campaign["DegradeToProgressive"]:
            campaign["ProgressiveThreshold"] = 0
        if not campaign["Active"] and campaign["Status"] == RUNNING:
            campaign["Status"] = NOT_RUNNING

    def _set_campaign_status(self, campaign: dict[str, Any], status: int) -> None:
        # Silent in the reference: the conditions a real dialler puts on starting a campaign.
        if status == RUNNING:
            if not campaign["Active"]:
                raise error(f"Campaign {campaign['Id']} is not active")
            if self.global_emergency:
                raise error("Global emergency mode is enabled; campaigns cannot be started")
            if not self.campaign_lists[campaign["Id"]]:
                raise error(f"Campaign {campaign['Id']} has no lists associated")
        campaign["Status"] = status
        self.emergency_stopped.discard(campaign["Id"])  # an explicit choice outlives the emergency

    def _set_global_emergency(self, enabled: bool) -> int:
        """Enable: stop every Running campaign and remember it. Disable ("revert the system back to
        normal", reading ``mc_emergency_disable``): ``restart_stopped`` restarts those still stopped
        and active, ``flag_only`` only ends the mode. Repeating either changes nothing."""
        if enabled == self.global_emergency:
            return 0
        self.global_emergency = enabled
        if enabled:
            self.emergency_stopped = {cid for cid, c in self.campaigns.rows.items() if c["Status"] == RUNNING}
            targets, status = self.emergency_stopped, NOT_RUNNING
        else:
            rows = self.campaigns.rows
            targets = {cid for cid in self.emergency_stopped
                       if rows[cid]["Status"] == NOT_RUNNING and rows[cid]["Active"]}
            if self.reading("mc_emergency_disable") == "flag_only":
                targets = set()
            status = RUNNING
            self.emergency_stopped = set()
        for cid in targets:
            self.campaigns.rows[cid]["Status"] = status
        return len(targets)

    def _skill_reply(self, body: Mapping[str, Any], associate: bool) -> Reply:
        """The SkillUserResult (shape silent in the reference): the ManagementActionResponse's
        status fields plus ``SkillId`` and ``UserIds``. All or nothing: any bad id refuses all."""
        skill_id, user_ids = body.get("SkillId"), body.get("UserIds")
        problem = None
        if not is_int(skill_id) or skill_id not in self.skills:
            problem = f"SkillId {skill_id!r} is not a skill"
        elif not isinstance(user_ids, list) or not user_ids or not all(is_int(u) for u in user_ids):
            problem = "UserIds must be a non-empty array of integers"
        elif unknown := sorted(set(user_ids) - set(self.users.rows)):
            problem = f"Users {unknown} do not exist"
        elif associate and not (is_int(body.get("Proficiency")) and 1 <= body["Proficiency"] <= 10):
            problem = "Proficiency must be an integer from 1 to 10"
        if problem:
            payload = {"Success": False, "ResponseCode": "Invalid Parameters", "ResponseDetail": problem,
                       "SkillId": skill_id, "UserIds": user_ids}
            return Reply(payload, 400, root="SkillUserResult", item="int")
        for user_id in user_ids:
            skills = self.user_skills.setdefault(user_id, {})
            if associate:
                skills[skill_id] = body["Proficiency"]
            else:
                skills.pop(skill_id, None)
        verb = "associated with" if associate else "disassociated from"
        payload = {"Success": True, "ResponseCode": "Success",
                   "ResponseDetail": f"Skill {skill_id} {verb} {len(user_ids)} users",
                   "SkillId": skill_id, "UserIds": user_ids}
        return Reply(payload, root="SkillUserResult", item="int")

    def _add_team_user(self, team_id: int, user_id: int) -> None:
        # A user has one TeamId (User entity): associating moves the user to this team.
        self.users.rows[user_id]["TeamId"] = team_id

    def _remove_team_user(self, team_id: int, user_id: int) -> None:
        user = self.users.rows[user_id]
        if user["TeamId"] == team_id:
            user["TeamId"] = 0

