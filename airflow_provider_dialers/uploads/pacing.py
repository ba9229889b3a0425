"""Back-off that adapts: how many batches an upload keeps in flight, lowered when the dialer says it
is overloaded and raised again while it answers.

Additive increase, multiplicative decrease (AIMD): the limit starts at ``max_concurrency``; an HTTP
429 or 503 answer (with or without ``Retry-After``) halves it, never below 1; a run of answers without
one (:func:`success_run`) raises it by 1, never above ``max_concurrency``. As in TCP, one overload
counts once: after a decrease from L, the next L answers (those of the requests in flight when it
was lowered) cannot lower it again. The hook tells
the limiter of each answer (``DialerHook.add_throttle_listener``); the engine sends a new batch only
while fewer than :attr:`ConcurrencyLimiter.limit` are in flight, so while the dialer is overloaded
the retrying threads are not joined by new requests. The thread whose request was refused still
retries it on its own (after ``Retry-After``, or its backoff): the limiter decides what is sent
next, not when a refused request is sent again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

log = logging.getLogger(__name__)

#: The answers that mean "too much at once": too many requests, service unavailable.
THROTTLE_STATUSES = frozenset({429, 503})
#: Answers in a row without a 429/503 before the limit goes up by one (at least this many).
MIN_SUCCESS_RUN = 8
#: Fewest seconds between two log lines about the limit (changes in between are summed up).
LOG_INTERVAL_SECONDS = 5.0


def success_run(limit: int) -> int:
    """Answers in a row without a 429/503 that raise the limit by one from ``limit``: two windows'
    worth (``2 * limit``), and at least :data:`MIN_SUCCESS_RUN`, so that a probe above what the
    dialer admits (which costs a refused request and its ``Retry-After`` wait) stays rare.

    :param limit: the current limit.
    """
    return max(MIN_SUCCESS_RUN, 2 * limit)


class ConcurrencyLimiter:
    """An AIMD limit on the batches in flight, fed with every HTTP status the dialer answers.

    Thread-safe: :meth:`observe` is called from the upload threads, :attr:`limit` read by the engine.

    :param ceiling: ``max_concurrency``: where the limit starts and the most it goes back up to.
    :param adaptive: False keeps the limit at ``ceiling`` (429/503 answers are still counted).
    :param label: names the upload in log lines (the dialer's name).
    :param clock: seconds, monotonic (``time.monotonic``); tests pass their own.
    """

    def __init__(self, ceiling: int, *, adaptive: bool = True, label: str = "dialer",
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ceiling = max(1, int(ceiling))
        self.adaptive = adaptive
        self.label = label
        self.clock = clock
        self._limit = self.ceiling
        self._lowest = self.ceiling
        self._throttled = 0
        self._successes = 0  # answers in a row without a 429/503 since the last change
        self._holdoff = 0  # answers still to come that cannot lower the limit again (one overload, once)
        self._lock = threading.Lock()
        self._logged_at: float | None = None
        self._unlogged_throttles = 0  # 429/503 answers since the last log line
        self._unlogged_change = False

    @property
    def limit(self) -> int:
        """The batches allowed in flight now (between 1 and ``ceiling``)."""
        return self._limit

    @property
    def concurrency_min(self) -> int:
        """The lowest limit reached so far."""
        return self._lowest

    @property
    def throttled(self) -> int:
        """The 429/503 answers seen so far (each retried attempt counts)."""
        return self._throttled

    def observe(self, status: int) -> None:
        """Take one HTTP answer's status: 429/503 lowers the limit, a run of others raises it.

        :param status: the answer's HTTP status code.
        """
        with self._lock:
            self._holdoff = max(-1, self._holdoff - 1)
            if status in THROTTLE_STATUSES:
                self._throttled += 1
                self._unlogged_throttles += 1
                self._successes = 0
                if self.adaptive and self._limit > 1 and self._holdoff < 0:
                    self._holdoff = self._limit
                    self._change(max(1, self._limit // 2))
            elif status < 500 and self.adaptive and self._limit < self.ceiling:  # 502/504: neither
                self._successes += 1
                if self._successes >= success_run(self._limit):
                    self._change(self._limit + 1)

    def _change(self, new_limit: int) -> None:
        """Set the limit (the lock held) and log it, at most once per :data:`LOG_INTERVAL_SECONDS`."""
        self._limit = new_limit
        self._lowest = min(self._lowest, new_limit)
        self._successes = 0
        self._unlogged_change = True
        now = self.clock()
        if self._logged_at is None or now - self._logged_at >= LOG_INTERVAL_SECONDS:
            self._log_limit(now)

    def _log_limit(self, now: float) -> None:
        log.info("%s: %d requests in flight at most now (of %d; %d answers were 429/503 since the last line; "
                 "lowest so far %d)", self.label, self._limit, self.ceiling, self._unlogged_throttles, self._lowest)
        self._logged_at = now
        self._unlogged_throttles = 0
        self._unlogged_change = False

    def summary(self) -> dict[str, int]:
        """What the upload's result reports: ``concurrency_min`` and ``throttled``."""
        return {"concurrency_min": self._lowest, "throttled": self._throttled}

    @contextmanager
    def listening(self, dialer: Any) -> Iterator[ConcurrencyLimiter]:
        """Hear the dialer's answers while the block runs, logging under its ``vendor_name`` (a dialer
        without ``add_throttle_listener``, such as a test fake, is not heard: the limit stays put).

        :param dialer: the hook the upload sends through.
        """
        self.label = getattr(dialer, "vendor_name", self.label)
        add = getattr(dialer, "add_throttle_listener", None)
        remove = add(self.observe) if callable(add) else None
        try:
            yield self
        finally:
            if callable(remove):
                remove()
            with self._lock:
                if self._unlogged_change:  # the last change came too soon after a line: said now
                    self._log_limit(self.clock())
            if self._throttled:
                log.info("%s: %d answers were 429/503 during the upload; requests in flight went as low "
                         "as %d (of %d)%s", self.label, self._throttled, self._lowest, self.ceiling,
                         "" if self.adaptive else " (adaptive_concurrency off: the limit stayed put)")
