"""Server-side token buckets: one per (seller, operation), Amazon's rate and burst.

A bucket starts full (``burst`` tokens) and refills at ``rate`` tokens per second; a request
that finds less than one token gets 429. ``time_scale`` multiplies every rate (tests run
Amazon's plans faster); the default 1.0 is Amazon's real plan from the models (``rates.py``).
"""

from __future__ import annotations

import threading
import time

from seller_inbox_dev.sandbox.rates import RATES


class TokenBucket:
    def __init__(self, rate: float, burst: int, clock=time.monotonic):
        self.rate = float(rate)
        self.burst = float(burst)
        self.tokens = float(burst)
        self._clock = clock
        self._last = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = self._clock()
            self.tokens = min(self.burst, self.tokens + (now - self._last) * self.rate)
            self._last = now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                return True
            return False


class BucketBook:
    """All buckets of one simulator: created lazily per seller and operation."""

    def __init__(self, time_scale: float = 1.0, overrides: dict[str, tuple[float, int]] | None = None):
        self.time_scale = float(time_scale)
        self.overrides = dict(overrides or {})
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    def plan(self, operation: str) -> tuple[float, int]:
        """(rate per second, burst) in force for an operation, after scaling/overrides."""
        if operation in self.overrides:
            return self.overrides[operation]
        rate, burst = RATES[operation]
        return rate * self.time_scale, burst

    def take(self, seller_id: str, operation: str) -> bool:
        key = (seller_id, operation)
        with self._lock:
            b = self._buckets.get(key)
            if b is None:
                b = self._buckets[key] = TokenBucket(*self.plan(operation))
        return b.take()

    def reset(self, time_scale: float | None = None, overrides: dict | None = None) -> None:
        with self._lock:
            if time_scale is not None:
                self.time_scale = float(time_scale)
            if overrides is not None:
                self.overrides = dict(overrides)
            self._buckets.clear()
