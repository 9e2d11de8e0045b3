"""Client-side token buckets per store and operation: in process, or shared through PostgreSQL."""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

# Longer bucket waits than this give the worker slot back (docs/spapi.md, "Waiting for tokens"):
# the client raises ``TokenWait`` and the task is rescheduled for when the token is due.
DEFER_AFTER_S = 5.0
_defer_after: contextvars.ContextVar[float | None] = contextvars.ContextVar("spapi_defer_after", default=None)


@contextlib.contextmanager
def defer_waits_over(seconds: float | None = DEFER_AFTER_S) -> Iterator[None]:
    """Within this block a bucket wait longer than ``seconds`` raises ``TokenWait`` instead of
    sleeping. Only code that can resume where it stopped enters it (``airflow_glue.RESUMABLE``):
    the orders read keeps its pages in ``ops.orders_read``. ``None``: sleep as usual."""
    token = _defer_after.set(seconds)
    try:
        yield
    finally:
        _defer_after.reset(token)


def defer_after() -> float | None:
    """The current deferral threshold in seconds, or None (waits are slept)."""
    return _defer_after.get()


class LocalBuckets:
    """In-process reservation buckets (when no warehouse is given): same maths as PgBuckets."""

    _state: dict[tuple[str, str], tuple[float, float]] = {}
    _lock = threading.Lock()

    def reserve(self, store_id: str, operation: str, rate: float, burst: float) -> float:
        with self._lock:
            now = time.monotonic()
            tokens, last = self._state.get((store_id, operation), (burst, now))
            tokens = min(burst, tokens + (now - last) * rate) - 1.0
            self._state[(store_id, operation)] = (tokens, now)
        return max(0.0, -tokens / rate)

    def refund(self, store_id: str, operation: str, rate: float, burst: float) -> None:
        """Give back a reserved token that was not used (the caller deferred instead of waiting)."""
        with self._lock:
            tokens, last = self._state.get((store_id, operation), (burst, time.monotonic()))
            self._state[(store_id, operation)] = (min(burst, tokens + 1.0), last)

    def drain(self, store_id: str, operation: str, rate: float, burst: float) -> None:
        with self._lock:
            now = time.monotonic()
            tokens, last = self._state.get((store_id, operation), (burst, now))
            self._state[(store_id, operation)] = (min(0.0, min(burst, tokens + (now - last) * rate)), now)


class PgBuckets:
    """Token buckets kept in PostgreSQL (``ops.api_bucket``): one row per store and operation.

    Every task of a store, in any worker process or machine, reserves from the same row with
    one atomic statement; the refill uses the database's clock. A caller may drive the row
    negative: that is its place in the queue, and it sleeps ``-tokens/rate`` before calling.

    Why PostgreSQL and not Airflow pools: a pool caps how many tasks run at once, not how many
    requests per second they send, and knows nothing of bursts (getOrders allows 20 at once,
    then one a minute); a pool slot held while a task sleeps also blocks unrelated work. The
    warehouse is already shared by every worker (Local or Celery executor), so one row per
    store and operation gives exact rate+burst semantics across processes and machines, keeps
    each store's quota separate, costs one round trip per call, and survives restarts.
    """

    _SQL = """
        INSERT INTO ops.api_bucket AS b (store_id, operation, tokens, updated_at)
        VALUES (%(s)s, %(o)s, %(burst)s - 1, clock_timestamp())
        ON CONFLICT (store_id, operation) DO UPDATE
        SET tokens = LEAST(%(burst)s, b.tokens + %(rate)s * EXTRACT(EPOCH FROM clock_timestamp() - b.updated_at))
                     - 1,
            updated_at = clock_timestamp()
        RETURNING tokens"""
    _DRAIN = """
        UPDATE ops.api_bucket AS b
        SET tokens = LEAST(0, LEAST(%(burst)s, b.tokens + %(rate)s * EXTRACT(EPOCH FROM clock_timestamp() - b.updated_at))),
            updated_at = clock_timestamp()
        WHERE store_id = %(s)s AND operation = %(o)s"""

    _REFUND = """
        UPDATE ops.api_bucket SET tokens = LEAST(%(burst)s, tokens + 1) WHERE store_id = %(s)s AND operation = %(o)s"""

    def __init__(self, conn_factory: Callable[[], Any]):
        self._conn_factory = conn_factory

    def reserve(self, store_id: str, operation: str, rate: float, burst: float) -> float:
        conn = self._conn_factory()
        with conn.cursor() as cur:
            cur.execute(self._SQL, {"s": store_id, "o": operation, "rate": float(rate), "burst": float(burst)})
            tokens = cur.fetchone()[0]
        return max(0.0, -tokens / rate)

    def refund(self, store_id: str, operation: str, rate: float, burst: float) -> None:
        """Give back a reserved token that was not used (the caller deferred instead of waiting)."""
        conn = self._conn_factory()
        with conn.cursor() as cur:
            cur.execute(self._REFUND, {"s": store_id, "o": operation, "burst": float(burst)})

    def drain(self, store_id: str, operation: str, rate: float, burst: float) -> None:
        conn = self._conn_factory()
        with conn.cursor() as cur:
            cur.execute(self._DRAIN, {"s": store_id, "o": operation, "rate": float(rate), "burst": float(burst)})


def reset(cur, store_ids: list[str]) -> int:
    """Forget the stores' bucket state (full buckets on their next call). Only for when the
    other side's buckets were reset too — the demo starts a fresh simulator each run, and a
    state left by the previous simulator would make the next run wait for tokens Amazon (here:
    the new simulator) would grant. Never a way around a real seller's limits. Returns rows."""
    cur.execute("DELETE FROM ops.api_bucket WHERE store_id = ANY(%s)", (list(store_ids),))
    return cur.rowcount
