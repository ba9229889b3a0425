"""Wait for one contact of a campaign to reach a state: :class:`ContactStateTrigger` and its check."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from airflow_provider_dialers.triggers.base import DialerPollingTrigger, PollOutcome

if TYPE_CHECKING:
    from airflow_provider_dialers.common.hook import DialerHook


def normalise_states(states: Iterable[str] | str | None, name: str) -> list[str]:
    """State names upper-cased and stripped, duplicates dropped, in order.

    Accepts a list, or text separated by commas (a rendered template). States are compared
    case-insensitively: ``connected`` matches ECM's ``CONNECTED``.
    """
    if states is None:
        return []
    if isinstance(states, str):
        states = states.split(",")
    normalised: list[str] = []
    for state in states:
        if not isinstance(state, str):
            raise TypeError(f"{name}: state names are text, got {state!r}")
        word = state.strip().upper()
        if word and word not in normalised:
            normalised.append(word)
    return normalised


def check_state_sets(target_states: Iterable[str], failure_states: Iterable[str]) -> None:
    """A state cannot be both awaited and a failure."""
    both = sorted(set(target_states) & set(failure_states))
    if both:
        raise ValueError(f"states {both} are in both target_states and failure_states")


def check_contact_state(
    hook: DialerHook,
    campaign_id: str,
    contact: str,
    target_states: list[str],
    failure_states: list[str],
    fail_on_other_terminal: bool = True,
) -> PollOutcome:
    """One ``get_contact_state`` call, judged against the (normalised) state sets.

    * a state in ``failure_states`` -> ``failure``;
    * ``target_states`` given: a state in it -> ``success``; a terminal state outside both sets
      -> ``failure`` when ``fail_on_other_terminal`` (the dialer will not change it by itself),
      else keep waiting;
    * no ``target_states``: any terminal state -> ``success`` (terminal as the vendor defines it:
      ``ContactState.terminal``).

    An unknown contact raises the hook's ``DialerRequestError``.
    """
    state = hook.get_contact_state(campaign_id, contact)
    result = state.to_dict()
    name = state.state.strip().upper()
    where = f"contact {contact!r} of campaign {campaign_id}"
    if name in failure_states:
        return PollOutcome("failure", f"{where} reached failure state {state.state}", result)
    if target_states:
        if name in target_states:
            return PollOutcome("success", f"{where} reached {state.state}", result)
        if state.terminal and fail_on_other_terminal:
            return PollOutcome(
                "failure",
                f"{where} ended in {state.state}, a final state that is not one of {target_states}; "
                "the dialer will not change it by itself",
                result,
            )
        waiting_for = f"one of {target_states}"
    elif state.terminal:
        return PollOutcome("success", f"{where} reached final state {state.state}", result)
    else:
        waiting_for = "a final state"
    attempts = f", {state.attempts} attempts" if state.attempts is not None else ""
    return PollOutcome(None, f"{where} is {state.state}{attempts}; waiting for {waiting_for}", result)


class ContactStateTrigger(DialerPollingTrigger):
    """Poll one contact's state until it reaches a target (or a failure) state, then yield one
    event whose result is the contact's state and history (``ContactState.to_dict()``).

    The contact is what each vendor calls it: an ECM campaign contact (callback), a Sinch
    customer, an Ameyo customer record; found by external id, phone or the vendor's id as the
    hook's ``get_contact_state`` allows. Deferred to by
    :class:`~airflow_provider_dialers.sensors.ContactStateSensor`. The common parameters are
    :class:`~airflow_provider_dialers.triggers.base.DialerPollingTrigger`'s.

    :param campaign_id: the dialer's campaign id.
    :param contact: external id, phone number or the vendor's id of the contact.
    :param target_states: state names to wait for (any case); empty: any final state.
    :param failure_states: state names that end the wait with a failure at once.
    :param fail_on_other_terminal: with ``target_states``, whether a final state in neither set
        is a failure (default) or the wait goes on.
    """

    classpath = "airflow_provider_dialers.triggers.contact.ContactStateTrigger"

    def __init__(
        self,
        *,
        campaign_id: str,
        contact: str,
        target_states: Iterable[str] | None = None,
        failure_states: Iterable[str] | None = None,
        fail_on_other_terminal: bool = True,
        **polling: Any,
    ) -> None:
        super().__init__(**polling)
        self.campaign_id = str(campaign_id)
        self.contact = str(contact)
        self.target_states = normalise_states(target_states, "target_states")
        self.failure_states = normalise_states(failure_states, "failure_states")
        check_state_sets(self.target_states, self.failure_states)
        self.fail_on_other_terminal = bool(fail_on_other_terminal)

    @property
    def subject(self) -> str:
        return f"contact {self.contact!r} of campaign {self.campaign_id} on {self.dialer_conn_id}"

    def serialize_fields(self) -> dict[str, Any]:
        return {
            "campaign_id": self.campaign_id,
            "contact": self.contact,
            "target_states": list(self.target_states),
            "failure_states": list(self.failure_states),
            "fail_on_other_terminal": self.fail_on_other_terminal,
        }

    def check(self, hook: DialerHook) -> PollOutcome:
        return check_contact_state(hook, self.campaign_id, self.contact, self.target_states,
                                   self.failure_states, self.fail_on_other_terminal)
