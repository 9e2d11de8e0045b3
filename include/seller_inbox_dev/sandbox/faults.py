"""Fault switches for tests: per seller and operation, with a probability and/or a count.

Kinds:
- ``error``: answer ``status`` (500 or 503) with an ``errors`` body;
- ``throttle``: answer 429 even when the bucket has tokens (a 429 storm);
- ``slow``: wait ``delay`` seconds, then answer normally;
- ``timeout``: wait ``delay`` seconds, then answer 503 (the client should have timed out);
- ``report_fatal`` / ``report_cancelled``: reports created for the seller end FATAL / CANCELLED;
- ``report_stuck``: reports created for the seller stay IN_PROGRESS ``delay`` more (real) seconds;
- ``deny``: answer 403 ``Unauthorized`` (Amazon refusing this call: a solicitation already sent
  from Seller Central, a message type withdrawn) without revoking anything;
- ``revoke``: the seller revokes the app at this request (403 now, ``invalid_grant`` at LWA after:
  revocation mid-paging); otherwise revocation is a seller state (``SandboxState.revoke``);
- ``repeat_token``: a page requested with a NextToken/paginationToken answers that same token
  again (an API bug a client must not follow forever).
``after`` lets the first N matching requests through before a fault can fire (a fault on
page 3 of a window).
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

KINDS = ("error", "throttle", "slow", "timeout", "report_fatal", "report_cancelled", "report_stuck", "revoke",
         "repeat_token", "deny")


@dataclass
class Fault:
    kind: str
    seller_id: str = "*"
    operation: str = "*"
    probability: float = 1.0
    count: int | None = None        # fire at most this many times (None: unlimited)
    status: int = 500
    delay: float = 0.0
    after: int = 0                  # let this many matching requests through first
    fired: int = 0
    seen: int = 0

    def matches(self, seller_id: str, operation: str) -> bool:
        return (self.seller_id in ("*", seller_id)) and (self.operation in ("*", operation))

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in
                ("kind", "seller_id", "operation", "probability", "count", "status", "delay", "after", "fired")}


@dataclass
class FaultBook:
    seed: int = 0
    faults: list[Fault] = field(default_factory=list)

    def __post_init__(self):
        self._lock = threading.Lock()
        self._rng = random.Random(self.seed)

    def add(self, kind: str, seller_id: str = "*", operation: str = "*", probability: float = 1.0,
            count: int | None = None, status: int = 500, delay: float = 0.0, after: int = 0) -> Fault:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; kinds: {', '.join(KINDS)}")
        f = Fault(kind, seller_id, operation, float(probability), count, int(status), float(delay), int(after))
        with self._lock:
            self.faults.append(f)
        return f

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()

    def draw(self, seller_id: str, operation: str, kinds: tuple[str, ...]) -> Fault | None:
        """The first matching fault of the given kinds that fires for this request."""
        with self._lock:
            for f in self.faults:
                if f.kind not in kinds or not f.matches(seller_id, operation):
                    continue
                if f.count is not None and f.fired >= f.count:
                    continue
                f.seen += 1
                if f.seen <= f.after:
                    continue
                if f.probability >= 1.0 or self._rng.random() < f.probability:
                    f.fired += 1
                    return f
        return None

    def list(self) -> list[dict]:
        with self._lock:
            return [f.to_dict() for f in self.faults]
