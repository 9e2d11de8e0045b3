"""The client core: one SP-API call under the store's bucket, with retries, typed errors and the call log.

429 is always retried (Amazon did not process the request). 5xx, timeouts and transport errors
are retried only for idempotent calls; for a message or solicitation the outcome is unknown,
so it is raised (``SpApiUnavailable``) for the caller's outbox to decide. A 403 is retried once
with a fresh LWA token; other 4xx are final. The API modules add the calls themselves.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any

from seller_inbox.spapi import errors, library
from seller_inbox.spapi.buckets import LocalBuckets, PgBuckets, defer_after
from seller_inbox.spapi.credentials import SpApiCredentials
from seller_inbox.spapi.lwa import LwaRejected
from seller_inbox.spapi.operations import OPERATIONS

log = logging.getLogger(__name__)


class ClientCore:
    """SP-API access for one store: buckets, retries, call log, typed errors. No Airflow needed."""

    def _init_core(self, credentials: SpApiCredentials | None, store_id: str | None, dsn: str | None,
                   marketplace_ids: list[str] | None, sleep: Callable[[float], None]) -> None:
        self._creds = credentials
        self.store_id = store_id
        self.dsn = dsn
        self._marketplace_ids = marketplace_ids
        self._sleep = sleep
        self._db = None
        self._buckets = PgBuckets(self._warehouse_conn) if dsn else LocalBuckets()
        self._rng = random.Random()
        self.stats = {"calls": 0, "throttled": 0, "retries": 0, "errors": 0, "deferred": 0, "waited_s": 0.0}

    @property
    def credentials(self) -> SpApiCredentials:
        return self._creds

    def _warehouse_conn(self):
        if self._db is None or self._db.closed:
            from seller_inbox import warehouse

            self._db = warehouse.connect(self.dsn)
            self._db.autocommit = True
            with self._db.cursor() as cur:
                # bucket reservations and the call log are bookkeeping: no fsync wait per API call
                cur.execute("SET synchronous_commit = off")
        return self._db

    def close(self) -> None:
        if self._db is not None:   # the library clients stay cached for this thread's next client
            self._db.close()
            self._db = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def plan(self, operation: str) -> tuple[float, float]:
        """(rate/s, burst) this client keeps to: the usage plan, a hair under the server's."""
        op = OPERATIONS[operation]
        rate = op.rate * self.credentials.rate_scale
        # 3% under the rate and a fifteenth of the burst (at least one token) kept back absorb network
        # and scheduling jitter, so requests released on schedule never reach Amazon early.
        return rate * 0.97, max(1.0, op.burst - max(1.0, op.burst // 15))

    def _record_call(self, operation: str, status: int | None, latency_ms: int | None, attempt: int, outcome: str,
                     error_code: str | None = None, waited_ms: int | None = None) -> None:
        if outcome != "deferred":   # a deferral sent nothing
            self.stats["calls"] += 1
        key = {"throttled": "throttled", "retry": "retries", "error": "errors", "deferred": "deferred"}.get(outcome)
        if key:
            self.stats[key] += 1
        if not self.dsn:
            return
        try:
            with self._warehouse_conn().cursor() as cur:
                cur.execute(
                    "INSERT INTO ops.api_calls (store_id, operation, status, latency_ms, attempt, outcome, "
                    "error_code, waited_ms) VALUES (%s,%s,%s,%s,%s,%s,%s,%s)",
                    (self.store_id, operation, status, latency_ms, attempt, outcome, error_code, waited_ms))
        except Exception as exc:  # noqa: BLE001 - the call log must never break a call
            log.warning("store %s: could not record api call: %s", self.store_id, exc)

    def _backoff(self, attempt: int, floor: float = 0.0) -> float:
        c = self.credentials
        d = min(c.backoff_cap, c.backoff_base * (2 ** (attempt - 1)))
        return max(floor, d / 2 + self._rng.uniform(0, d / 2))

    @staticmethod
    def _attempt(client: Any, fn: Callable[[Any], Any]) -> tuple:
        """Run ``fn(client)`` once: ``(status, error code, message, result, transient)``."""
        import httpx
        from sp_api.base.exceptions import SellingApiException

        client.last_response = None
        try:
            result = fn(client)
        except SellingApiException as exc:
            resp = client.last_response
            status = resp.status_code if resp is not None else getattr(exc, "code", None)
            return status, getattr(exc, "amzn_code", None), getattr(exc, "message", None), None, False
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            return None, type(exc).__name__, str(exc)[:200], None, True
        except ValueError as exc:  # a body that is not JSON (a gateway's error page)
            resp = client.last_response
            status = resp.status_code if resp is not None else None
            return status, type(exc).__name__, str(exc)[:200], None, status is None or status >= 500 or status == 429
        resp = client.last_response
        status = resp.status_code if resp is not None else 200
        if status >= 400:  # a non-2xx without an ``errors`` body: the library did not raise
            return status, f"HTTP{status}", (resp.text[:200] if resp is not None else ""), result, False
        return status, None, None, result, False

    def call(self, operation: str, fn: Callable[[Any], Any], *, api: str, marketplace_id: str | None = None,
             idempotent: bool = True):
        """Run ``fn(library_client)`` for ``operation`` under the store's bucket, with retries and logging
        (``api``: the API module's ``LIBRARY_API``)."""
        client = library.api_client(self.credentials, api, marketplace_id, self._marketplace_ids, self.store_id)
        rate, burst = self.plan(operation)
        last_error: errors.SpApiError | None = None
        evicted = False
        for attempt in range(1, self.credentials.max_attempts + 1):
            wait = self._buckets.reserve(self.store_id, operation, rate, burst)
            limit = defer_after()
            if limit is not None and wait > limit:
                self._buckets.refund(self.store_id, operation, rate, burst)
                self._record_call(operation, None, None, attempt, "deferred", waited_ms=int(wait * 1000))
                raise errors.TokenWait(self.store_id, operation, wait)
            if wait > 0:
                self.stats["waited_s"] += wait
                self._sleep(wait)
            t0 = time.monotonic()
            try:
                status, code, message, result, transient = self._attempt(client, fn)
            except LwaRejected as exc:
                last_error = self._lwa_failed(exc, attempt, t0)
                self._sleep(self._backoff(attempt))
                continue
            latency, waited = int((time.monotonic() - t0) * 1000), int(wait * 1000)
            if status is not None and 200 <= status < 300 and code is None:
                self._record_call(operation, status, latency, attempt, "ok", waited_ms=waited)
                return result
            if status == 429:
                self._record_call(operation, status, latency, attempt, "throttled", code or "QuotaExceeded", waited)
                self._buckets.drain(self.store_id, operation, rate, burst)
                last_error = errors.throttled(self.store_id, operation, attempt, code)
                self._sleep(self._backoff(attempt, floor=1.0 / rate))
                continue
            if status is None or status >= 500 or transient:
                self._record_call(operation, status, latency, attempt, "retry" if idempotent else "error", code,
                                  waited)
                last_error = errors.unavailable(self.store_id, operation, attempt, status, code, message, idempotent)
                if not idempotent:
                    raise last_error
                self._sleep(self._backoff(attempt))
                continue
            if status == 403 and not evicted:
                # the cached access token may be stale (revoked authorization, server restart, clock
                # skew): drop it and try once more with a fresh LWA exchange, which reports a revoked
                # authorization as invalid_grant (AuthorizationRevoked) instead of a bare 403
                self._record_call(operation, status, latency, attempt, "retry", code, waited)
                self._lwa().evict()
                evicted = True
                continue
            self._record_call(operation, status, latency, attempt, "error", code, waited)
            raise errors.rejected(self.store_id, operation, status, code, message, self.credentials.conn_id)
        assert last_error is not None
        raise last_error
