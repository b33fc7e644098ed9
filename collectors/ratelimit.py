"""Client-side pacing below the Step Functions API quotas, and API call / throttle counters.

AWS meters each API per account and Region with a token bucket (a burst, refilled at a steady
rate). The collector keeps its own bucket per (account, Region, API) a margin below the
published figures, so a run shares the quota with the account's other callers instead of
living on retries. botocore's adaptive retry mode handles the throttles that still happen;
they are counted here through the `needs-retry` event.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

# (burst, refill per second) in us-east-1, us-west-2 and eu-west-1.
QUOTAS: dict[str, tuple[float, float]] = {
    "GetExecutionHistory": (400, 20),
    "DescribeExecution": (300, 15),
    "DescribeStateMachine": (200, 20),
    "ListExecutions": (200, 5),
    "ListStateMachines": (100, 5),
    "ListTagsForResource": (100, 1),
    # The tagging API publishes no per-API figure; stay modest.
    "GetResources": (20, 5),
}
# Where the other Regions get less.
SMALL_REGION_QUOTAS: dict[str, tuple[float, float]] = {
    "ListExecutions": (100, 2),
    "DescribeExecution": (250, 10),
}
LARGE_REGIONS = frozenset({"us-east-1", "us-west-2", "eu-west-1"})
THROTTLE_CODES = frozenset({
    "ThrottlingException", "Throttling", "ThrottledException", "TooManyRequestsException",
    "RequestLimitExceeded", "RequestThrottled", "RequestThrottledException", "SlowDown",
})


def quota(operation: str, region: str) -> tuple[float, float] | None:
    """Published (burst, refill/s) of an API in a Region, or None when it is not paced."""
    if region not in LARGE_REGIONS and operation in SMALL_REGION_QUOTAS:
        return SMALL_REGION_QUOTAS[operation]
    return QUOTAS.get(operation)


def is_throttle(code: str | None) -> bool:
    """True for the error codes AWS uses to say "slow down"."""
    return code in THROTTLE_CODES


class TokenBucket:
    """A thread-safe token bucket; callers reserve tokens and sleep the returned delay."""

    def __init__(self, capacity: float, rate: float, *, clock: Callable[[], float] = time.monotonic):
        if capacity <= 0 or rate <= 0:
            raise ValueError("capacity and rate must be positive")
        self.capacity = capacity
        self.rate = rate
        self._clock = clock
        self._tokens = float(capacity)
        self._updated = clock()
        self._lock = threading.Lock()

    def reserve(self, n: float = 1.0) -> float:
        """Take `n` tokens (possibly borrowing from the future); return seconds to wait first."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            self._tokens -= n
            # Borrowed tokens queue callers in arrival order: each waits for its own refill.
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    @property
    def tokens(self) -> float:
        """Tokens available now (negative while callers are queued)."""
        with self._lock:
            return min(self.capacity, self._tokens + (self._clock() - self._updated) * self.rate)


class ApiStats:
    """Thread-safe counters: API calls and throttles by operation, seconds spent pacing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.throttles: Counter[str] = Counter()
        self.paced_seconds = 0.0

    def add(self, kind: str, operation: str, n: int = 1) -> None:
        with self._lock:
            getattr(self, kind)[operation] += n

    def add_paced(self, seconds: float) -> None:
        with self._lock:
            self.paced_seconds += seconds

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready copy of the counters."""
        with self._lock:
            return {
                "calls": dict(sorted(self.calls.items())),
                "throttles": dict(sorted(self.throttles.items())),
                "paced_seconds": round(self.paced_seconds, 3),
            }


class RateLimiter:
    """One bucket per (account, Region, API), sized at `margin` x the published quota."""

    def __init__(
        self,
        margin: float = 0.8,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        stats: ApiStats | None = None,
    ):
        if not 0 < margin <= 1:
            raise ValueError("margin must be in (0, 1]")
        self.margin = margin
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[tuple[str, str, str], TokenBucket] = {}
        self._lock = threading.Lock()
        self.stats = stats or ApiStats()

    def bucket(self, account: str, region: str, operation: str) -> TokenBucket | None:
        """The bucket pacing one API, created on first use; None for APIs without a quota."""
        key = (account, region, operation)
        with self._lock:
            if key not in self._buckets:
                q = quota(operation, region)
                if q is None:
                    return None
                burst, rate = q
                self._buckets[key] = TokenBucket(max(1.0, burst * self.margin), rate * self.margin,
                                                 clock=self._clock)
            return self._buckets[key]

    def acquire(self, account: str, region: str, operation: str) -> float:
        """Block until one call of `operation` fits the bucket; return the seconds waited."""
        b = self.bucket(account, region, operation)
        wait = b.reserve() if b else 0.0
        if wait > 0:
            self._sleep(wait)
            self.stats.add_paced(wait)
        return wait

    def attach(self, client: Any, account: str, region: str) -> None:
        """Pace every HTTP attempt of `client` and count its calls and throttles."""
        events = client.meta.events

        def count_call(model: Any, **_: Any) -> None:
            self.stats.add("calls", model.name)

        def pace(request: Any, event_name: str, **_: Any) -> None:
            # Fires per HTTP attempt, so retries consume tokens like they consume quota.
            self.acquire(account, region, event_name.rsplit(".", 1)[-1])

        def count_throttle(response: Any, operation: Any, **_: Any) -> None:
            if response is not None and is_throttle(response[1].get("Error", {}).get("Code")):
                self.stats.add("throttles", operation.name)

        # First among the most specific handlers, so a Stubber's response does not hide the call.
        events.register_first("before-call.*.*", count_call)
        events.register("before-send", pace)
        events.register("needs-retry", count_throttle)
