"""ContactStateSensor: wait until one contact of a campaign reaches a state."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_provider_dialers.sensors.base import DialerSensor
from airflow_provider_dialers.triggers.contact import ContactStateTrigger


class ContactStateSensor(DialerSensor):
    """Wait until one contact reaches a target state; fail at once on a failure state.

    The contact is what each vendor calls it: an ECM campaign contact (a *callback*, found by
    phone or callback id), a Sinch *customer* (by ``externalId``, customer id or number), an
    Ameyo *customer record* (by customer id, ``phone1`` or ``external_id``). MaxContact's API
    cannot read leads: the sensor fails with ``DialerNotSupportedError``. An unknown contact fails
    with the hook's ``DialerRequestError``.

    States are the vendor's own names, compared case-insensitively: ECM ``RequestState``
    (``CONNECTED``, ``RETRIES_COMPLETED``, ...), Sinch ``CustomerResult`` (``SUCCESS``,
    ``MAXCALLS``, ...), Ameyo call statuses (``CONNECTED``, ``NOT_TRIED``, ...). Each vendor's
    final states are explicit sets in its hook or mapping (``ContactState.terminal``).

    :param contact: external id, phone number or the vendor's id (templated).
    :param target_states: states to wait for (templated; a list or comma-separated text). Empty:
        any final state of the vendor's.
    :param failure_states: states that fail the task at once, without retries (templated).
    :param fail_on_other_terminal: with ``target_states``: a final state in neither list fails the
        task at once (default; the dialer will not change it by itself), or, if False, the sensor
        keeps waiting until its timeout.
    :returns: (XCom) ``ContactState.to_dict()``: ``contact_ref``, ``state``, ``terminal``,
        ``attempts`` and ``history`` (the vendor's own record fields).
    """

    template_fields: Sequence[str] = (*DialerSensor.template_fields, "contact", "target_states", "failure_states")

    def __init__(
        self,
        *,
        dialer_conn_id: str,
        campaign_id: str | int,
        contact: str | int,
        target_states: Sequence[str] | str | None = None,
        failure_states: Sequence[str] | str | None = None,
        fail_on_other_terminal: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(dialer_conn_id=dialer_conn_id, campaign_id=campaign_id, **kwargs)
        self.contact = contact
        self.target_states = target_states
        self.failure_states = failure_states
        self.fail_on_other_terminal = fail_on_other_terminal

    def build_trigger(self, deadline: float) -> ContactStateTrigger:
        return ContactStateTrigger(
            dialer_conn_id=self.dialer_conn_id,
            campaign_id=str(self.campaign_id),
            contact=str(self.contact),
            target_states=self.target_states,
            failure_states=self.failure_states,
            fail_on_other_terminal=self.fail_on_other_terminal,
            deadline=deadline,
            poll_interval=self.poke_interval,
            max_consecutive_errors=self.max_consecutive_errors,
            retry_policy=self.retry_policy,
        )
