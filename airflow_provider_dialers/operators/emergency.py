"""The global emergency stop: the dialer's own where it has one, else emulated by pausing campaigns.

MaxContact calls it *Global Emergency* (``set_global_emergency``: every campaign stops). ECM and
Sinch have no such switch, so the operator emulates it with capabilities every such hook has:
``list_campaigns`` and ``set_campaign_status``. Either way, enabling remembers exactly which
campaigns it stopped, in an Airflow Variable keyed by the connection id, so that disabling it, in a
later DAG run, brings back exactly those and nothing else (a campaign paused before the emergency
stays paused). A native stop hands the record back to the hook, which restarts what the dialer's
own "disable" left stopped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import pendulum
from airflow.sdk import Variable

from airflow_provider_dialers.errors import (
    DialerEmergencyActiveError,
    DialerError,
    DialerNotSupportedError,
    DialerValidationError,
)
from airflow_provider_dialers.operators.base import DialerOperator

if TYPE_CHECKING:
    from airflow_provider_dialers.capabilities import CampaignSummary, DialerCapabilities

#: How ``list_campaigns`` statuses spell the capability's two states (compared case-insensitively):
VARIABLE_PREFIX = "dialer_emergency_stop__"
_TRUE_WORDS, _FALSE_WORDS = frozenset({"true", "1", "yes", "on"}), frozenset({"false", "0", "no", "off"})


def emergency_variable_key(conn_id: str) -> str:
    """The Variable that remembers which campaigns an emulated emergency paused on ``conn_id``."""
    return f"{VARIABLE_PREFIX}{conn_id}"


@dataclass
class EmergencyStopRecord:
    """What an emergency stop stopped (ids, in stopping order), when it began, and how: ``emulated``
    (the operator paused them) or ``native`` (the dialer's own emergency stopped them). ``active``:
    the stop is on (a record exists for the connection)."""

    paused: list[str] = field(default_factory=list)
    at: str | None = None
    mode: str = "emulated"
    active: bool = False

    def merged(
        self, campaign_ids: Sequence[str], now: pendulum.DateTime, mode: str | None = None
    ) -> EmergencyStopRecord:
        """This record plus ``campaign_ids`` (a second enable adds to the first, never replaces it)."""
        new = [cid for cid in campaign_ids if cid not in self.paused]
        return EmergencyStopRecord(paused=self.paused + new, at=self.at or now.isoformat(), mode=mode or self.mode,
                                   active=True)


class EmergencyStopStore:
    """The :class:`EmergencyStopRecord` of one connection, kept in an Airflow Variable as JSON
    ``{"paused": [ids], "at": iso time, "mode": "emulated"|"native"}`` so it outlives the DAG run
    that stopped the campaigns."""

    def __init__(self, conn_id: str) -> None:
        self.key = emergency_variable_key(conn_id)

    def load(self) -> EmergencyStopRecord:
        value = Variable.get(self.key, default=None, deserialize_json=True)
        if not value:
            return EmergencyStopRecord()
        return EmergencyStopRecord(paused=[str(cid) for cid in value.get("paused", [])], at=value.get("at"),
                                   mode=value.get("mode") or "emulated", active=True)

    def save(self, record: EmergencyStopRecord) -> None:
        Variable.set(self.key, {"paused": record.paused, "at": record.at, "mode": record.mode},
                     serialize_json=True)

    def clear(self) -> None:
        Variable.delete(self.key)


def emergency_state(conn_id: str) -> dict[str, Any] | None:
    """The global emergency stop recorded by ``GlobalEmergencyOperator`` on ``conn_id``: None when
    none is on, else ``{"since": iso time, "mode": "native"|"emulated", "stopped": [campaign ids]}``
    (readable from DAG code, e.g. to skip a scheduled resume)."""
    record = EmergencyStopStore(conn_id).load()
    if not record.active:
        return None
    return {"since": record.at, "mode": record.mode, "stopped": list(record.paused)}


def refuse_during_emergency(conn_id: str, action: str) -> None:
    """Raise :class:`DialerEmergencyActiveError` when an emergency stop is on for ``conn_id``."""
    state = emergency_state(conn_id)
    if state is not None:
        raise DialerEmergencyActiveError(
            f"{action} refused: a global emergency stop is on for connection {conn_id!r} since "
            f"{state['since']} ({state['mode']}, campaigns stopped: {state['stopped']}). End it with "
            "GlobalEmergencyOperator(enabled=False), or pass override_emergency=True to run this anyway.")


class GlobalEmergencyOperator(DialerOperator):
    """Stop every campaign of a dialer at once (``enabled=True``), or end that stop (``False``).

    *Native* where the dialer has a global emergency (MaxContact: its Global Emergency stops all
    campaigns): enabling records the campaigns it stopped in the Variable
    ``dialer_emergency_stop__<conn_id>``; disabling hands that record to the hook, which ends the
    emergency and restarts those of them the dialer left stopped (and only those). *Emulated* where
    it has none (ECM, Sinch): enabling pauses every campaign whose status is running and records
    their ids in the same Variable; disabling resumes exactly those. Either way the Variable is
    deleted once every recorded campaign runs again, and enabling twice adds to the record. A dialer
    that can neither (Ameyo has no campaign status endpoint) fails with ``DialerNotSupportedError``.

    :param enabled: True to stop, False to resume (templated: "true"/"false" are accepted).
    :returns: ``{"mode": "native"|"emulated", "enabled": bool, "paused": [ids], "resumed": [ids]}``.
    """

    template_fields: Sequence[str] = ("dialer_conn_id", "enabled")
    ui_color = "#f4d6d6"

    def __init__(self, *, dialer_conn_id: str, enabled: bool | str, **kwargs: Any) -> None:
        super().__init__(dialer_conn_id=dialer_conn_id, **kwargs)
        self.enabled = enabled

    def run(self, context: Any) -> dict[str, Any]:
        enabled = _as_bool(self.enabled)
        store = EmergencyStopStore(self.dialer_conn_id)
        record = store.load()
        try:
            if enabled and self.hook.native_emergency:
                # Written ahead: what runs now is what the dialer's emergency stops; a task killed
                # after the enable still leaves the record the end of the stop restarts from.
                running = [c["id"] for c in self.hook.list_campaigns() if c["running"]]
                record = record.merged(running, pendulum.now("UTC"), mode="native")
                store.save(record)
            if enabled or record.mode != "native":
                changed = self.hook.set_global_emergency(enabled)
            else:  # the hook restarts what the dialer's own "disable" leaves stopped, of what was recorded
                changed = self.hook.set_global_emergency(False, stopped=record.paused)
        except DialerNotSupportedError as no_native_switch:
            self.log.info("%s has no global emergency of its own: emulating it (%s)",
                          self.hook.vendor_name, no_native_switch)
            return self._emulate(enabled)
        result = _result("native", enabled, changed.get("campaigns_stopped", []),
                         changed.get("campaigns_restarted", []))
        self.log.info("%s global emergency %s: stopped %s, restarted %s", self.hook.vendor_name,
                      "enabled" if enabled else "disabled", result["paused"], result["resumed"])
        self._keep_native_record(store, record, result, changed.get("campaigns_not_restarted", []))
        return result

    def _keep_native_record(self, store: EmergencyStopStore, record: EmergencyStopRecord,
                            result: dict[str, Any], not_restarted: Sequence[str]) -> None:
        """Record what a native enable stopped; after a disable, forget it, or keep what could not
        be restarted for a retry."""
        if result["enabled"]:
            kept = record.merged(result["paused"], pendulum.now("UTC"), mode="native")
            store.save(kept)
            self.log.info("Recorded in Variable %s for the end of the emergency: %s", store.key, kept.paused)
        elif not_restarted:
            store.save(EmergencyStopRecord(paused=list(not_restarted), at=record.at, mode="native", active=True))
            raise DialerError(f"emergency stop: could not restart campaigns {list(not_restarted)}; they stay "
                              f"recorded in Variable {store.key} for a retry", vendor=self.hook.vendor_name)
        elif record.active:
            store.clear()

    # -- emulation ---------------------------------------------------------------------------------
    def _emulate(self, enabled: bool) -> dict[str, Any]:
        campaigns = self.hook.list_campaigns()
        self._require_campaign_states(campaigns)
        store = EmergencyStopStore(self.dialer_conn_id)
        if enabled:
            running = [c["id"] for c in campaigns if c["running"]]
            return _result("emulated", True, self._pause(running, store), [])
        return _result("emulated", False, [], self._resume_recorded(store))

    def _require_campaign_states(self, campaigns: Sequence[CampaignSummary]) -> None:
        # Checked before anything changes: without a way to pause, or to see which campaigns run,
        # nothing would be paused and the stop would look successful while campaigns kept dialling.
        cannot_pause = _inherits_default(self.hook, "set_campaign_status")
        states_unknown = any(c["running"] is None for c in campaigns)
        if cannot_pause or states_unknown:
            raise DialerNotSupportedError(
                "cannot stop campaigns in an emergency: it has no global emergency endpoint and no "
                "way to pause campaigns to emulate one"
                + (" (its API cannot tell which campaigns are running)" if states_unknown else ""),
                vendor=self.hook.vendor_name,
            )

    def _pause(self, running: list[str], store: EmergencyStopStore) -> list[str]:
        """Pause the running campaigns; the record is saved first, so even a task killed half-way
        through leaves every campaign it may have paused resumable."""
        record = store.load().merged(running, pendulum.now("UTC"))
        store.save(record)
        self.log.info("Emergency stop on %s: pausing %d running campaigns %s (%d recorded in total)",
                      self.dialer_conn_id, len(running), running, len(record.paused))
        failed = self._set_each(running, "paused")
        if failed:
            raise DialerError(f"emergency stop: could not pause campaigns {failed}; they may still be "
                              "dialling (re-run the task)", vendor=self.hook.vendor_name)
        return running

    def _resume_recorded(self, store: EmergencyStopStore) -> list[str]:
        """Resume the campaigns the emergency paused; the ones that fail stay recorded for a retry."""
        record = store.load()
        if not record.paused:
            self.log.info("No campaign recorded as stopped for %s (Variable %s): nothing to resume",
                          self.dialer_conn_id, store.key)
            if record.active:
                store.clear()  # the stop is over
            return []
        self.log.info("Ending the emergency stop of %s (since %s): resuming %s",
                      self.dialer_conn_id, record.at, record.paused)
        failed = self._set_each(record.paused, "running")
        if failed:
            store.save(EmergencyStopRecord(paused=failed, at=record.at, active=True))
            raise DialerError(f"emergency stop: could not resume campaigns {failed}; they stay recorded "
                              f"in Variable {store.key} for a retry", vendor=self.hook.vendor_name)
        store.clear()
        return record.paused

    def _set_each(self, campaign_ids: Sequence[str], status: Literal["running", "paused"]) -> list[str]:
        """Set every campaign's status, carrying on past failures (in an emergency, stop all that
        can be stopped); the ids that failed."""
        failed: list[str] = []
        for campaign_id in campaign_ids:
            try:
                self.hook.set_campaign_status(campaign_id, status)
            except DialerNotSupportedError:
                raise
            except DialerError as exc:
                self.log.error("Campaign %s could not be set %s: %s", campaign_id, status, exc)
                failed.append(campaign_id)
            else:
                self.log.info("Campaign %s is now %s", campaign_id, status)
        return failed


def _inherits_default(hook: DialerCapabilities, capability: str) -> bool:
    """Whether the hook keeps the interface's "not supported" default for ``capability``."""
    from airflow_provider_dialers.capabilities import DialerCapabilities  # run time only: light DAG parse

    return getattr(type(hook), capability) is getattr(DialerCapabilities, capability)


def _as_bool(value: bool | str) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in _TRUE_WORDS | _FALSE_WORDS:
        return word in _TRUE_WORDS
    raise DialerValidationError("enabled", f"must be true or false, got {value!r}")


def _result(mode: str, enabled: bool, paused: Sequence[str], resumed: Sequence[str]) -> dict[str, Any]:
    return {"mode": mode, "enabled": enabled, "paused": list(paused), "resumed": list(resumed)}
