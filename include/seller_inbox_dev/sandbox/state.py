"""The simulator's configuration and state: sellers, tokens, recorded mutations, reports, statistics."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from seller_inbox_dev.sandbox import CLIENT_ID, CLIENT_SECRET
from seller_inbox_dev.sandbox import data as simdata
from seller_inbox_dev.sandbox.buckets import BucketBook
from seller_inbox_dev.sandbox.faults import FaultBook


@dataclass
class SandboxConfig:
    seed: int = 42
    extra_sellers: int = 0
    sellers: tuple[str, ...] = ()          # further seller ids to accept (profiles derived)
    time_scale: float = 1.0                # multiplies every bucket rate, divides report durations
    rate_overrides: dict = field(default_factory=dict)  # operation -> (rate, burst)
    orders_per_day: int | None = None      # override every seller's daily volume
    # busy sellers: seller id -> mean orders per UTC day, winning over ``orders_per_day`` (windows
    # of hundreds of orders to page through; same seed, same orders)
    seller_orders_per_day: dict = field(default_factory=dict)
    report_queue_seconds: float = 20.0     # IN_QUEUE for this long (real seconds / time_scale)
    report_processing_seconds: float = 40.0
    fault_seed: int = 0
    as_of: datetime | None = None          # pin the data clock (reproducible demos); None = real time
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET


class Problem(Exception):
    """An error response in the models' shape."""

    def __init__(self, status: int, code: str, message: str, details: str | None = None):
        self.status, self.code, self.message, self.details = status, code, message, details


class SandboxState:
    def __init__(self, config: SandboxConfig):
        self.config = config
        self.buckets = BucketBook(config.time_scale, config.rate_overrides)
        self.faults = FaultBook(config.fault_seed)
        self.lock = threading.Lock()
        self.sellers = {s.seller_id: s for s in simdata.sellers(config.extra_sellers)}
        for sid in (*config.sellers, *config.seller_orders_per_day):
            self.sellers.setdefault(sid, simdata.seller_profile(sid))
        self.revoked: set[str] = set()
        self.tokens: dict[str, dict] = {}
        self.messages: list[dict] = []
        self.solicitations: dict[tuple[str, str], dict] = {}
        self.reports: dict[str, dict] = {}
        self.documents: dict[str, dict] = {}   # id -> {content, media, gzip}
        self.stats: Counter = Counter()
        self._report_seq = 50000000000 + config.seed * 1000

    # ---- controls used by tests (also over HTTP under /_sandbox/)
    def revoke(self, seller_id: str) -> None:
        with self.lock:
            self.revoked.add(seller_id)

    def restore(self, seller_id: str) -> None:
        with self.lock:
            self.revoked.discard(seller_id)

    def add_seller(self, seller_id: str) -> None:
        with self.lock:
            self.sellers.setdefault(seller_id, simdata.seller_profile(seller_id))

    def mutations(self, seller_id: str | None = None) -> list[dict]:
        with self.lock:
            rows = list(self.messages) + list(self.solicitations.values())
        rows = [r for r in rows if seller_id in (None, r["seller_id"])]
        return sorted(rows, key=lambda r: r["at"])

    def stat(self, seller_id: str | None = None, operation: str | None = None,
             status: int | None = None) -> int:
        with self.lock:
            return sum(n for (s, o, st), n in self.stats.items()
                       if seller_id in (None, s) and operation in (None, o) and status in (None, st))

    def reset(self, time_scale: float | None = None, rate_overrides: dict | None = None) -> None:
        with self.lock:
            self.faults.clear()
            self.revoked.clear()
            self.messages.clear()
            self.solicitations.clear()
            self.reports.clear()
            self.documents.clear()
            self.stats.clear()
        if time_scale is not None:
            self.config.time_scale = float(time_scale)
        self.buckets.reset(time_scale, rate_overrides)

    # ---- data access
    def volume(self, seller_id: str) -> int | None:
        """The seller's mean orders per day here (None: its profile's own volume)."""
        return self.config.seller_orders_per_day.get(seller_id, self.config.orders_per_day)

    def order(self, seller_id: str, order_id: str, now: datetime) -> simdata.SimOrder:
        o = simdata.find_order(seller_id, order_id, self.config.seed, orders_per_day=self.volume(seller_id))
        o = o.as_of(now) if o is not None else None
        if o is None:
            raise Problem(404, "NotFound", f"Order {order_id} was not found for this seller.")
        return o

    def orders_between(self, seller_id: str, start: datetime, end: datetime, as_of: datetime):
        return simdata.generate_orders(seller_id, start, end, self.config.seed, as_of=as_of,
                                       orders_per_day=self.volume(seller_id))
