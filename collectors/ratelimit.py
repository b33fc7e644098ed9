"""Client-side pacing below the AWS API quotas, and API call / throttle counters.

AWS meters each API per account and Region with a token bucket (a burst, refilled at a steady
rate). The collector keeps its own bucket per (account, Region, service, API) a margin below the
published figures, so a run shares the quota with the account's other callers instead of
living on retries. botocore's adaptive retry mode handles the throttles that still happen;
they are counted here through the `needs-retry` event.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# A quota: (burst, refill per second), keyed by (boto3 service name, API operation). Each source
# declares the quotas of the APIs it calls next to its code (`Source.quotas`); the Regions outside
# LARGE_REGIONS get `small_region_quotas` where AWS publishes less.
Quota = tuple[float, float]
QuotaKey = tuple[str, str]
LARGE_REGIONS = frozenset({"us-east-1", "us-west-2", "eu-west-1"})
THROTTLE_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
    }
)


@dataclass(frozen=True)
class Quotas:
    """The published quotas of the APIs the collector paces, per (service, operation)."""

    large: Mapping[QuotaKey, Quota] = field(default_factory=dict)
    small_region: Mapping[QuotaKey, Quota] = field(default_factory=dict)

    def get(self, service: str, operation: str, region: str) -> Quota | None:
        """Published (burst, refill/s) of an API in a Region, or None when it is not paced."""
        key = (service, operation)
        if region not in LARGE_REGIONS and key in self.small_region:
            return self.small_region[key]
        return self.large.get(key)


def default_quotas() -> Quotas:
    """The quotas every registered source declares."""
    from collectors.sources import SOURCES  # the sources import this module

    large: dict[QuotaKey, Quota] = {}
    small: dict[QuotaKey, Quota] = {}
    for src in SOURCES.values():
        large.update(src.quotas)
        small.update(src.small_region_quotas)
    return Quotas(large, small)


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
    """Thread-safe counters: API calls and throttles by "service.Operation", seconds spent pacing."""

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
    """One bucket per (account, Region, service, API), sized at `margin` x the published quota.

    Keyed by service too: CloudWatch and X-Ray also have a ListTagsForResource, with quotas of their own."""

    def __init__(
        self,
        margin: float = 0.8,
        *,
        quotas: Quotas | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        stats: ApiStats | None = None,
    ):
        if not 0 < margin <= 1:
            raise ValueError("margin must be in (0, 1]")
        self.margin = margin
        self._clock = clock
        self._sleep = sleep
        self.quotas = quotas if quotas is not None else default_quotas()
        self._buckets: dict[tuple[str, str, str, str], TokenBucket] = {}
        self._lock = threading.Lock()
        self.stats = stats or ApiStats()

    def bucket(self, account: str, region: str, service: str, operation: str) -> TokenBucket | None:
        """The bucket pacing one API of one service, created on first use; None for APIs without a quota."""
        key = (account, region, service, operation)
        with self._lock:
            if key not in self._buckets:
                q = self.quotas.get(service, operation, region)
                if q is None:
                    return None
                burst, rate = q
                self._buckets[key] = TokenBucket(
                    max(1.0, burst * self.margin), rate * self.margin, clock=self._clock
                )
            return self._buckets[key]

    def acquire(self, account: str, region: str, service: str, operation: str) -> float:
        """Block until one call of `operation` fits the bucket; return the seconds waited."""
        b = self.bucket(account, region, service, operation)
        wait = b.reserve() if b else 0.0
        if wait > 0:
            self._sleep(wait)
            self.stats.add_paced(wait)
        return wait

    def attach(self, client: Any, account: str, region: str) -> None:
        """Pace every HTTP attempt of `client` and count its calls and throttles."""
        events = client.meta.events
        service = client.meta.service_model.service_name  # boto3's name: stepfunctions, cloudwatch, ...

        def count_call(model: Any, **_: Any) -> None:
            self.stats.add("calls", f"{service}.{model.name}")

        def pace(request: Any, event_name: str, **_: Any) -> None:
            # Fires per HTTP attempt, so retries consume tokens like they consume quota.
            self.acquire(account, region, service, event_name.rsplit(".", 1)[-1])

        def count_throttle(response: Any, operation: Any, **_: Any) -> None:
            if response is not None and is_throttle(response[1].get("Error", {}).get("Code")):
                self.stats.add("throttles", f"{service}.{operation.name}")

        # First among the most specific handlers, so a Stubber's response does not hide the call.
        events.register_first("before-call.*.*", count_call)
        events.register("before-send", pace)
        events.register("needs-retry", count_throttle)
