"""How the hooks retry transient failures: a light module, so DAG code (a sensor's
``retry_policy`` argument) can build one at parse time without loading the HTTP stack."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """How transient failures are retried: exponential backoff with jitter, ``Retry-After`` capped."""

    max_attempts: int = 5
    backoff_initial: float = 0.5
    backoff_max: float = 20.0
    retry_after_cap: float = 60.0

    def wait_seconds(self, attempt_number: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt ``attempt_number`` (1-based)."""
        if retry_after is not None:
            return min(retry_after, self.retry_after_cap)
        backoff = min(self.backoff_max, self.backoff_initial * 2 ** (attempt_number - 1))
        return backoff * (0.5 + random.random() / 2)  # jitter spreads concurrent retries apart
