"""What both dialer sensors share: poke through the trigger's own check, defer, validate the event."""

from __future__ import annotations

import time
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_provider_dialers.compat import AirflowFailException, AirflowSensorTimeout, AirflowSkipException
from airflow_provider_dialers.errors import DialerError, DialerTransientError
from airflow_provider_dialers.triggers.base import EVENT_STATUSES, retry_policy_from

if TYPE_CHECKING:
    from airflow_provider_dialers.triggers.base import DialerPollingTrigger

#: Added to the sensor's timeout for Airflow's own deferral timeout, a backstop for a triggerer
#: that is down. The trigger's absolute deadline fires first and reports the last state seen.
MIN_DEFER_TIMEOUT_GRACE = 300.0


class DialerSensorFailure(DialerError, AirflowFailException):
    """The campaign or contact reached a final state that is not the one awaited (a failure state).

    An ``AirflowFailException``: the task fails without retries, since waiting again cannot change it.
    """


class DialerSensorError(DialerError):
    """The dialer could not be asked (too many transient errors, bad credentials, unknown contact ...)
    while deferred, or the trigger's event was not understood. The task's retries apply."""


def default_deferrable() -> bool:
    """``[operators] default_deferrable`` (False when unset), read when the sensor is built."""
    from airflow_provider_dialers.compat import conf

    return conf.getboolean("operators", "default_deferrable", fallback=False)


class DialerSensor(BaseSensorOperator):
    """Base of the vendor-neutral dialer sensors: they ask a capability, never a vendor by name.

    Each poke runs the same check the trigger runs (``trigger.poll_once()``: one capability call
    through a hook for the connection's type). The pokes of one ``execute`` (poke mode pokes in a
    loop) share one hook, so the vendor's login is made once per task try, not once per poke; the
    hook is closed when ``execute`` ends, however it ends. In deferrable mode the state is checked
    once on the worker first: if it is already final, the task ends without deferring.

    :param dialer_conn_id: an ``expertflow_ecm``, ``maxcontact``, ``sinch_obi`` or ``ameyo``
        connection; its type picks the hook.
    :param campaign_id: the dialer's campaign id.
    :param deferrable: wait in the triggerer, holding no worker slot (default:
        ``[operators] default_deferrable``). ``poke_interval`` is then the trigger's poll interval
        and ``timeout`` its absolute deadline, counted from the first check.
    :param max_consecutive_errors: deferrable mode: transient errors tolerated in a row before
        the task fails. In poke/reschedule mode each poke has the hook's retries, and an error that
        outlasts them fails the poke (the task's retries apply).
    :param retry_policy: the hook's retry policy for each check, as a dict of
        :class:`~airflow_provider_dialers.retry_policy.RetryPolicy` fields (``{"max_attempts": 2}``);
        default: the hook's own.
    """

    template_fields: Sequence[str] = ("dialer_conn_id", "campaign_id")
    ui_color = "#e3ecf7"

    def __init__(
        self,
        *,
        dialer_conn_id: str,
        campaign_id: str | int,
        deferrable: bool | None = None,
        max_consecutive_errors: int = 3,
        retry_policy: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.dialer_conn_id = dialer_conn_id
        self.campaign_id = campaign_id
        self.deferrable = default_deferrable() if deferrable is None else bool(deferrable)
        if int(max_consecutive_errors) < 1:
            raise ValueError(f"max_consecutive_errors must be at least 1, got {max_consecutive_errors}")
        self.max_consecutive_errors = int(max_consecutive_errors)
        self.retry_policy = dict(retry_policy) if retry_policy else None
        retry_policy_from(self.retry_policy)  # a typo fails when the DAG is parsed, not at run time
        # While execute runs: the trigger whose kept hook every poke uses (see execute).
        self._polling_trigger: DialerPollingTrigger | None = None

    @abstractmethod
    def build_trigger(self, deadline: float) -> DialerPollingTrigger:
        """The trigger that waits for this sensor (from the rendered arguments)."""

    # -- poke / reschedule ----------------------------------------------------------------------
    def poke(self, context: Any) -> PokeReturnValue | bool:
        # Outside execute (a poke called on its own) the trigger is built for this poke alone and
        # its hook closed straight after.
        trigger = self._polling_trigger
        if trigger is None:
            trigger = self.build_trigger(deadline=time.time() + self.timeout)
        outcome = trigger.poll_once()
        if outcome.status == "failure":
            raise DialerSensorFailure(outcome.message)
        self.log.info("%s", outcome.message)
        if outcome.status == "success":
            return PokeReturnValue(is_done=True, xcom_value=outcome.result)
        return False

    def execute(self, context: Any) -> Any:
        # One trigger, keeping one hook, for every poke of this run: one login instead of one per
        # poke. Closed however the run ends (done, timeout, failure, reschedule, deferral).
        polling_trigger = self.build_trigger(deadline=time.time() + self.timeout)
        polling_trigger.keep_hook()
        self._polling_trigger = polling_trigger
        try:
            return self._poke_or_defer(context)
        finally:
            self._polling_trigger = None
            polling_trigger.release_hook()

    # -- deferrable -----------------------------------------------------------------------------
    def _poke_or_defer(self, context: Any) -> Any:
        if not self.deferrable:
            return super().execute(context)
        deadline = time.time() + self.timeout
        trigger = self.build_trigger(deadline)  # validates the arguments before anything is sent
        try:
            first = self.poke(context)
        except DialerSensorFailure as failure:
            # As BaseSensorOperator does for a failed poke: soft_fail / never_fail turn it into a skip.
            if self.soft_fail or getattr(self, "never_fail", False):
                raise AirflowSkipException(f"skipped ({'soft_fail' if self.soft_fail else 'never_fail'}): "
                                           f"{failure}") from failure
            raise
        except DialerTransientError as exc:
            # The trigger tolerates transient errors; no reason to fail before it has tried.
            self.log.warning("First check failed transiently (%s); deferring, the trigger retries", exc)
            first = False
        if first:
            return first.xcom_value  # already final: no deferral, no triggerer round trip
        grace = max(MIN_DEFER_TIMEOUT_GRACE, 2 * float(self.poke_interval))
        self.log.info("Deferring: polling every %ss until %s (deadline, epoch %.0f)",
                      self.poke_interval, time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(deadline)), deadline)
        self.defer(trigger=trigger, method_name="execute_complete",
                   timeout=timedelta(seconds=self.timeout + grace))

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> Any:
        """Resume after the trigger's event: its result on success, an exception otherwise."""
        if not isinstance(event, dict) or event.get("status") not in EVENT_STATUSES:
            raise DialerSensorError(f"unexpected trigger event {event!r}; expected a dict with a status of "
                                    "success, failure, error or timeout")
        status = event["status"]
        message = event.get("message") or f"the trigger reported {status}"
        if status == "success":
            self.log.info("%s", message)
            return event.get("result")
        if status == "failure":
            raise DialerSensorFailure(message)
        if status == "timeout":
            raise AirflowSensorTimeout(message)
        if event.get("permanent"):  # e.g. credentials refused: the task's retries would meet it again
            raise DialerSensorFailure(message)
        raise DialerSensorError(message)
