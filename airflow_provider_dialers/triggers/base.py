"""The one polling loop every dialer trigger shares.

A dialer trigger asks a vendor-neutral capability (``get_campaign_progress``, ``get_contact_state``)
the same question every ``poll_interval`` seconds until the answer is final, and then yields exactly
one event. The capability is the hooks' own synchronous code (their auth, retry and error handling,
not a second copy): each poll runs it in a worker thread (``asyncio.to_thread``), so the triggerer's
event loop keeps serving every other trigger while a dialer is slow to answer.

Event payload, whatever the trigger::

    {"status": "success" | "failure" | "error" | "timeout",
     "message": "human-readable: what happened",
     "result": {...} | None}     # the last answer seen (progress, contact state), JSON-ready

* ``success``: the answer is final and is what the sensor waits for; ``result`` is its XCom value.
* ``failure``: the answer is final and is not what the sensor waits for (a failure state).
* ``error``: the dialer could not be asked: ``max_consecutive_errors`` transient errors in a row
  (``DialerTransientError``), or at once for any other error (bad credentials, unknown campaign or
  contact, unsupported capability). ``error_type`` names the exception class; ``permanent`` is
  true when a retry cannot fix it (refused credentials, unsupported capability): the sensor then
  fails without using its retries.
* ``timeout``: the absolute ``deadline`` (epoch seconds) passed before a final answer.
"""

from __future__ import annotations

import asyncio
import time
from abc import abstractmethod
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from airflow.triggers.base import BaseTrigger, TriggerEvent

if TYPE_CHECKING:
    from airflow_provider_dialers.common.hook import DialerHook
    from airflow_provider_dialers.retry_policy import RetryPolicy

EventStatus = Literal["success", "failure", "error", "timeout"]
#: Every status an event may carry; ``execute_complete`` refuses anything else.
EVENT_STATUSES: tuple[str, ...] = ("success", "failure", "error", "timeout")
DEFAULT_MAX_CONSECUTIVE_ERRORS = 3


@dataclass(frozen=True)
class PollOutcome:
    """One check's verdict: keep waiting (``status`` None), or the final ``success`` / ``failure``.

    ``result`` is the JSON-ready answer (``CampaignProgress.to_dict()``, ``ContactState.to_dict()``);
    ``message`` says in words what was seen.
    """

    status: Literal["success", "failure"] | None
    message: str
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.status is not None

    def event_payload(self) -> dict[str, Any]:
        assert self.status is not None, "a pending outcome is not an event"
        return event_payload(self.status, self.message, self.result)


def event_payload(
    status: EventStatus, message: str, result: Mapping[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    """An event payload in the shape every dialer trigger yields (see the module's docstring)."""
    return {"status": status, "message": message, "result": dict(result) if result is not None else None,
            **extra}


def retry_policy_from(spec: Mapping[str, Any] | None) -> RetryPolicy | None:
    """A :class:`RetryPolicy` from its JSON form (``{"max_attempts": 1, ...}``); None for the hook's default.

    Unknown keys are refused, so a typo does not silently fall back to the default policy.
    """
    if not spec:
        return None
    from airflow_provider_dialers.retry_policy import RetryPolicy

    known = {f.name for f in fields(RetryPolicy)}
    unknown = sorted(set(spec) - known)
    if unknown:
        raise ValueError(f"retry_policy: unknown keys {unknown}; expected some of {sorted(known)}")
    return RetryPolicy(**dict(spec))


class DialerPollingTrigger(BaseTrigger):
    """Poll a dialer through its hook's capabilities until a final answer, the deadline, or errors.

    Subclasses implement :meth:`check` (synchronous: it runs in a worker thread with the wait's hook)
    and :meth:`serialize_fields` (their own JSON-safe kwargs).

    :param dialer_conn_id: the dialer connection; its type picks the hook.
    :param deadline: absolute wall-clock deadline, in epoch seconds (survives triggerer restarts).
    :param poll_interval: seconds between two checks.
    :param max_consecutive_errors: transient errors (``DialerTransientError``: the hook's own
        retries were not enough) tolerated in a row before an ``error`` event. Any other error
        ends the wait at once.
    :param retry_policy: the hook's :class:`~airflow_provider_dialers.retry_policy.RetryPolicy` for
        each check, as a dict of its fields (JSON-safe); None keeps the hook's default.
    """

    #: The dotted path the triggerer re-creates the trigger from (the public module, not base).
    classpath: ClassVar[str]

    def __init__(
        self,
        *,
        dialer_conn_id: str,
        deadline: float,
        poll_interval: float = 60.0,
        max_consecutive_errors: int = DEFAULT_MAX_CONSECUTIVE_ERRORS,
        retry_policy: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if float(poll_interval) < 0:
            raise ValueError(f"poll_interval must be >= 0 seconds, got {poll_interval}")
        if int(max_consecutive_errors) < 1:
            raise ValueError(f"max_consecutive_errors must be at least 1, got {max_consecutive_errors}")
        self.dialer_conn_id = str(dialer_conn_id)
        self.deadline = float(deadline)
        self.poll_interval = float(poll_interval)
        self.max_consecutive_errors = int(max_consecutive_errors)
        self.retry_policy = dict(retry_policy) if retry_policy else None
        retry_policy_from(self.retry_policy)  # refuse a bad policy when deferring, not in the triggerer
        import threading

        # Between keep_hook() and release_hook() every poll uses one hook (see poll_once). The lock
        # is held for a whole poll and by release_hook: a poll abandoned by a cancelled run() still
        # finishes in its thread before the hook it uses is closed.
        self._keep_hook = False
        self._kept_hook: DialerHook | None = None
        self._kept_hook_lock = threading.Lock()

    # -- to implement -------------------------------------------------------------------------------
    @abstractmethod
    def check(self, hook: DialerHook) -> PollOutcome:
        """Ask the dialer once (synchronously) and judge the answer."""

    @abstractmethod
    def serialize_fields(self) -> dict[str, Any]:
        """The subclass's own kwargs, JSON-safe."""

    @property
    @abstractmethod
    def subject(self) -> str:
        """What is waited on, for messages (``campaign 7 on expertflow_ecm_default``)."""

    # -- serialisation ------------------------------------------------------------------------------
    def serialize(self) -> tuple[str, dict[str, Any]]:
        return self.classpath, {
            **self.serialize_fields(),
            "dialer_conn_id": self.dialer_conn_id,
            "deadline": self.deadline,
            "poll_interval": self.poll_interval,
            "max_consecutive_errors": self.max_consecutive_errors,
            "retry_policy": self.retry_policy,
        }

    # -- polling ------------------------------------------------------------------------------------
    def new_hook(self) -> DialerHook:
        """A hook for the connection's type, with this trigger's retry policy."""
        from airflow_provider_dialers.hooks import get_dialer_hook

        hook_kwargs: dict[str, Any] = {}
        policy = retry_policy_from(self.retry_policy)
        if policy is not None:
            hook_kwargs["retry_policy"] = policy
        return get_dialer_hook(self.dialer_conn_id, **hook_kwargs)

    def keep_hook(self) -> None:
        """Make the following polls share one hook until :meth:`release_hook` (see :meth:`poll_once`)."""
        self._keep_hook = True

    def release_hook(self) -> None:
        """End the sharing and close the shared hook, if any (logout where the vendor has sessions).

        Blocking (a logout is a network call): ``run()`` calls it in a thread. Waits for a poll
        still running in another thread to finish first.
        """
        with self._kept_hook_lock:
            self._keep_hook = False
            hook, self._kept_hook = self._kept_hook, None
        if hook is not None:
            hook.close()

    def poll_once(self) -> PollOutcome:
        """One check. Synchronous and blocking: the trigger runs it in a thread; a sensor's poke
        calls it directly.

        Between :meth:`keep_hook` and :meth:`release_hook` (``run()`` from start to event, a
        sensor's ``execute``) every poll uses the same hook: the vendor's login is made once for the
        whole wait instead of once per poll, and a hook may remember what helps its next check
        (ECM: which state had contacts in flight). A poll that raises closes that hook and the next
        poll builds a fresh one, as every poll did before. Otherwise each poll gets a fresh hook,
        closed afterwards.
        """
        if not self._keep_hook:
            return self._poll_with_fresh_hook()
        with self._kept_hook_lock:
            if not self._keep_hook:  # released while this poll waited for the lock
                return self._poll_with_fresh_hook()
            if self._kept_hook is None:
                self._kept_hook = self.new_hook()
            hook = self._kept_hook
            try:
                return self.check(hook)
            except BaseException:
                # The session may be in any state after an error: start the next poll afresh.
                self._kept_hook = None
                hook.close()
                raise

    def _poll_with_fresh_hook(self) -> PollOutcome:
        hook = self.new_hook()
        try:
            return self.check(hook)
        finally:
            hook.close()

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Check, sleep, check again... and yield exactly one event (see the module's docstring).

        Every check shares one hook (one login for the whole wait). It is closed, in a thread (a
        logout is a network call), before the event is yielded (the triggerer need not resume the
        generator after its event) and when the trigger is cancelled.
        """
        from airflow_provider_dialers.errors import DialerPermanentError, DialerTransientError

        errors = 0
        last: PollOutcome | None = None
        last_error: Exception | None = None
        self.keep_hook()
        try:
            while True:
                try:
                    outcome = await asyncio.to_thread(self.poll_once)
                except DialerTransientError as exc:
                    errors += 1
                    last_error = exc
                    if errors >= self.max_consecutive_errors:
                        payload = event_payload(
                            "error",
                            f"{self.subject}: gave up after {errors} consecutive transient errors; last: {exc}",
                            last.result if last else None, error_type=type(exc).__name__)
                        break
                    self.log.warning("%s: transient error %d of %d tolerated in a row: %s",
                                     self.subject, errors, self.max_consecutive_errors, exc)
                except Exception as exc:  # noqa: BLE001 - not transient: waiting cannot fix it; report it as the event
                    payload = event_payload(
                        "error", f"{self.subject}: {type(exc).__name__}: {exc}",
                        last.result if last else None, error_type=type(exc).__name__,
                        permanent=isinstance(exc, DialerPermanentError))  # a retry cannot fix it
                    break
                else:
                    errors, last_error = 0, None
                    last = outcome
                    if outcome.done:
                        payload = outcome.event_payload()
                        break
                    self.log.info("%s: %s", self.subject, outcome.message)
                remaining = self.deadline - time.time()
                if remaining <= 0:
                    seen = f"; last seen: {last.message}" if last else ""
                    if last_error is not None:
                        seen += f"; last check failed: {last_error}"
                    payload = event_payload(
                        "timeout", f"{self.subject}: the deadline passed before a final answer{seen}",
                        last.result if last else None)
                    break
                await asyncio.sleep(min(self.poll_interval, remaining))
        finally:
            await asyncio.to_thread(self.release_hook)
        yield TriggerEvent(payload)
