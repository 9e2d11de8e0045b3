"""Everything SP-API in one module: the operation table, connection parsing, typed errors,
client-side token buckets shared per store and operation, retries with jitter, the
``ops.api_calls`` log and the Airflow hook ``SpApiHook`` over python-amazon-sp-api.

Importing this module costs only the standard library: python-amazon-sp-api, psycopg2 and
Airflow are imported inside the functions that need them.
"""

from __future__ import annotations

import json
import logging
import os
import random
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Iterator

log = logging.getLogger(__name__)
UTC = timezone.utc


# --------------------------------------------------------------------------- operations
@dataclass(frozen=True)
class Operation:
    name: str        # our key (the model's operationId; the 2026 getOrder is "getOrder2026")
    api: str
    method: str
    path: str        # template as in the model
    rate: float      # requests per second (the model's usage plan)
    burst: int


def _ops(*rows: tuple) -> dict[str, Operation]:
    return {r[0]: Operation(*r) for r in rows}


# Usage plans as documented in the official models (selling-partner-api-models, 2026-08).
OPERATIONS: dict[str, Operation] = _ops(
    ("getOrders", "orders/v0", "GET", "/orders/v0/orders", 0.0167, 20),
    ("getOrder", "orders/v0", "GET", "/orders/v0/orders/{orderId}", 0.5, 30),
    ("getOrderBuyerInfo", "orders/v0", "GET", "/orders/v0/orders/{orderId}/buyerInfo", 0.5, 30),
    ("getOrderAddress", "orders/v0", "GET", "/orders/v0/orders/{orderId}/address", 0.5, 30),
    ("getOrderItems", "orders/v0", "GET", "/orders/v0/orders/{orderId}/orderItems", 0.5, 30),
    ("getOrderItemsBuyerInfo", "orders/v0", "GET", "/orders/v0/orders/{orderId}/orderItems/buyerInfo", 0.5, 30),
    ("searchOrders", "orders/2026-01-01", "GET", "/orders/2026-01-01/orders", 0.0056, 20),
    ("getOrder2026", "orders/2026-01-01", "GET", "/orders/2026-01-01/orders/{orderId}", 0.5, 30),
    ("createRestrictedDataToken", "tokens/2021-03-01", "POST", "/tokens/2021-03-01/restrictedDataToken", 1, 10),
    ("getMessagingActionsForOrder", "messaging/v1", "GET", "/messaging/v1/orders/{amazonOrderId}", 1, 5),
    ("GetAttributes", "messaging/v1", "GET", "/messaging/v1/orders/{amazonOrderId}/attributes", 1, 5),
    ("confirmCustomizationDetails", "messaging/v1", "POST",
     "/messaging/v1/orders/{amazonOrderId}/messages/confirmCustomizationDetails", 1, 5),
    ("createConfirmDeliveryDetails", "messaging/v1", "POST",
     "/messaging/v1/orders/{amazonOrderId}/messages/confirmDeliveryDetails", 1, 5),
    ("createLegalDisclosure", "messaging/v1", "POST",
     "/messaging/v1/orders/{amazonOrderId}/messages/legalDisclosure", 1, 5),
    ("createConfirmOrderDetails", "messaging/v1", "POST",
     "/messaging/v1/orders/{amazonOrderId}/messages/confirmOrderDetails", 1, 5),
    ("createConfirmServiceDetails", "messaging/v1", "POST",
     "/messaging/v1/orders/{amazonOrderId}/messages/confirmServiceDetails", 1, 5),
    ("CreateWarranty", "messaging/v1", "POST", "/messaging/v1/orders/{amazonOrderId}/messages/warranty", 1, 5),
    ("createDigitalAccessKey", "messaging/v1", "POST",
     "/messaging/v1/orders/{amazonOrderId}/messages/digitalAccessKey", 1, 5),
    ("createUnexpectedProblem", "messaging/v1", "POST",
     "/messaging/v1/orders/{amazonOrderId}/messages/unexpectedProblem", 1, 5),
    ("sendInvoice", "messaging/v1", "POST", "/messaging/v1/orders/{amazonOrderId}/messages/invoice", 1, 5),
    ("getSolicitationActionsForOrder", "solicitations/v1", "GET", "/solicitations/v1/orders/{amazonOrderId}", 1, 5),
    ("createProductReviewAndSellerFeedbackSolicitation", "solicitations/v1", "POST",
     "/solicitations/v1/orders/{amazonOrderId}/solicitations/productReviewAndSellerFeedback", 1, 5),
    ("createReport", "reports/2021-06-30", "POST", "/reports/2021-06-30/reports", 0.0167, 15),
    ("getReport", "reports/2021-06-30", "GET", "/reports/2021-06-30/reports/{reportId}", 2, 15),
    ("getReportDocument", "reports/2021-06-30", "GET", "/reports/2021-06-30/documents/{reportDocumentId}", 0.0167, 15),
)

# Messaging kinds (the path segment after /messages/) -> operation and text limit (None: no text).
MESSAGE_KINDS: dict[str, tuple[str, int | None]] = {
    "confirmCustomizationDetails": ("confirmCustomizationDetails", 800),
    "confirmDeliveryDetails": ("createConfirmDeliveryDetails", 2000),
    "legalDisclosure": ("createLegalDisclosure", None),
    "confirmOrderDetails": ("createConfirmOrderDetails", 2000),
    "confirmServiceDetails": ("createConfirmServiceDetails", 2000),
    "warranty": ("CreateWarranty", None),
    "digitalAccessKey": ("createDigitalAccessKey", 400),
    "unexpectedProblem": ("createUnexpectedProblem", 2000),
    "invoice": ("sendInvoice", None),
}

# Orders API freshness: data only up to about two minutes before now.
ORDERS_FRESHNESS = timedelta(minutes=2)

LWA_OPERATION = "lwaToken"           # how LWA exchanges appear in ops.api_calls
DEFAULT_LWA_URL = "https://api.amazon.com/auth/o2/token"
REAUTH_DAYS = 365                    # public apps: re-authorize every 365 days
SECRET_ROTATION_DAYS = 180           # LWA client secret rotation
TOKEN_CACHE_ENV = "SELLER_INBOX_SPAPI_TOKEN_CACHE"  # LWA token cache entries (default 1024)


# --------------------------------------------------------------------------- errors
class SpApiError(RuntimeError):
    """An SP-API problem for one store; the message names the store and what to do."""

    retryable = False

    def __init__(self, message: str, *, store_id: str | None = None, operation: str | None = None,
                 status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.store_id, self.operation, self.status, self.code = store_id, operation, status, code


class SpApiFinalError(SpApiError):
    """Never retried: retrying cannot help (authorization, permissions, bad request)."""


class SpApiConfigError(SpApiFinalError):
    """The ``spapi`` connection is missing or malformed."""


class AuthorizationRevoked(SpApiFinalError):
    """LWA ``invalid_grant``: the seller revoked the app or the 365-day authorization expired."""


class InvalidClientCredentials(SpApiFinalError):
    """LWA ``invalid_client``: the app's client id/secret are wrong (rotated secret?)."""


class AccessDenied(SpApiFinalError):
    """HTTP 403 from SP-API: role missing, token invalid or authorization revoked."""


class SpApiRequestError(SpApiFinalError):
    """HTTP 400/404/...: the request itself is wrong; retrying the same request fails again."""


class SpApiNotFound(SpApiRequestError):
    pass


class SpApiThrottled(SpApiError):
    """Still 429 after every retry."""


class SpApiUnavailable(SpApiError):
    """Still 5xx / timing out after every retry (or a non-idempotent call whose fate is unknown)."""


class SpApiPagingError(SpApiError):
    """A page token came back that was already followed: paging on would loop forever (an API bug)."""


# --------------------------------------------------------------------------- connection
@dataclass(frozen=True)
class SpApiCredentials:
    client_id: str
    client_secret: str
    refresh_token: str
    region: str = "na"
    endpoint: str | None = None          # SP-API base URL override (simulator)
    lwa_endpoint: str | None = None      # LWA token URL override
    authorized_at: date | None = None
    client_secret_created_at: date | None = None
    conn_id: str | None = None
    # client tuning (connection extra; defaults are right for Amazon)
    rate_scale: float = 1.0              # multiply the usage plans (only for a simulator run faster)
    max_attempts: int = 8
    backoff_base: float = 1.0            # seconds; doubles per attempt, with jitter
    backoff_cap: float = 60.0
    timeout: float = 30.0
    orders_api: str = "v0"               # orders ingestion: "v0" (getOrders + getOrderItems) or "2026-01-01"

    @property
    def base_url(self) -> str:
        if self.endpoint:
            return self.endpoint.rstrip("/")
        from seller_inbox.domain.marketplaces import SPAPI_HOSTS
        return "https://" + SPAPI_HOSTS[self.region]

    @property
    def lwa_url(self) -> str:
        return self.lwa_endpoint or DEFAULT_LWA_URL

    def __repr__(self) -> str:  # never print secrets
        return (f"SpApiCredentials(conn_id={self.conn_id!r}, client_id={self.client_id!r}, region={self.region!r}, "
                f"endpoint={self.base_url!r})")

    @classmethod
    def from_connection(cls, conn: Any) -> "SpApiCredentials":
        """Parse an Airflow ``spapi`` connection (login = client id, password = secret, extra JSON)."""
        cid = getattr(conn, "conn_id", None)
        extra = conn.extra_dejson if hasattr(conn, "extra_dejson") else json.loads(getattr(conn, "extra", None) or "{}")

        def fail(field_: str, why: str) -> SpApiConfigError:
            return SpApiConfigError(f"connection {cid!r}: {field_} {why}. Edit the connection "
                                    f"(Admin > Connections) and set it.")

        if not conn.login:
            raise fail("login (LWA client id)", "is empty")
        if not conn.password:
            raise fail("password (LWA client secret)", "is empty")
        if not extra.get("refresh_token"):
            raise fail("extra.refresh_token", "is missing")
        region = extra.get("region", "na")
        if region not in ("na", "eu", "fe"):
            raise fail("extra.region", f"is {region!r}; use na, eu or fe")

        def day(name: str) -> date | None:
            v = extra.get(name)
            if not v:
                return None
            try:
                return date.fromisoformat(str(v)[:10])
            except ValueError:
                raise fail(f"extra.{name}", f"is {v!r}; use YYYY-MM-DD") from None

        def num(name: str, default: float, cast=float):
            v = extra.get(name, default)
            try:
                return cast(v)
            except (TypeError, ValueError):
                raise fail(f"extra.{name}", f"is {v!r}; expected a number") from None

        orders_api = str(extra.get("orders_api", "v0"))
        if orders_api not in ("v0", "2026-01-01"):
            raise fail("extra.orders_api", f"is {orders_api!r}; use v0 or 2026-01-01")
        for u in ("endpoint", "lwa_endpoint"):
            if extra.get(u) and not str(extra[u]).startswith(("http://", "https://")):
                raise fail(f"extra.{u}", f"is {extra[u]!r}; expected an http(s) URL")
        return cls(
            client_id=conn.login, client_secret=conn.password, refresh_token=extra["refresh_token"],
            region=region, endpoint=extra.get("endpoint") or None, lwa_endpoint=extra.get("lwa_endpoint") or None,
            authorized_at=day("authorized_at"), client_secret_created_at=day("client_secret_created_at"),
            conn_id=cid, rate_scale=num("rate_scale", 1.0), max_attempts=num("max_attempts", 8, int),
            backoff_base=num("backoff_base", 1.0), backoff_cap=num("backoff_cap", 60.0),
            timeout=num("timeout", 30.0), orders_api=orders_api,
        )


def load_credentials(conn_id: str) -> SpApiCredentials:
    """Read the connection now (execution time only)."""
    from airflow.sdk import BaseHook

    try:
        conn = BaseHook.get_connection(conn_id)
    except Exception as exc:  # noqa: BLE001 - Airflow raises its own not-found type
        raise SpApiConfigError(f"connection {conn_id!r} is not defined ({exc}). Create an 'spapi' connection "
                               f"with login = LWA client id, password = client secret and extra "
                               f"refresh_token/region.") from None
    return SpApiCredentials.from_connection(conn)


# --------------------------------------------------------------------------- buckets
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

    def __init__(self, conn_factory: Callable[[], Any]):
        self._conn_factory = conn_factory

    def reserve(self, store_id: str, operation: str, rate: float, burst: float) -> float:
        conn = self._conn_factory()
        with conn.cursor() as cur:
            cur.execute(self._SQL, {"s": store_id, "o": operation, "rate": float(rate), "burst": float(burst)})
            tokens = cur.fetchone()[0]
        return max(0.0, -tokens / rate)

    def drain(self, store_id: str, operation: str, rate: float, burst: float) -> None:
        conn = self._conn_factory()
        with conn.cursor() as cur:
            cur.execute(self._DRAIN, {"s": store_id, "o": operation, "rate": float(rate), "burst": float(burst)})


# --------------------------------------------------------------------------- python-amazon-sp-api glue
_SP_API_READY = False
_TOKEN_CLIENTS: dict[str, type] = {}


def _sp_api():
    """Import python-amazon-sp-api with an LWA token cache sized for many stores."""
    global _SP_API_READY
    size = int(os.environ.get(TOKEN_CACHE_ENV, "1024"))
    os.environ.setdefault("SP_API_AUTH_CACHE_SIZE", str(size))
    import sp_api.auth.access_token_client as atc

    if not _SP_API_READY:
        if atc.cache.maxsize < size:  # imported earlier by someone else with the default 10
            from cachetools import TTLCache

            new = TTLCache(maxsize=size, ttl=atc.cache.ttl)
            new.update(dict(atc.cache.items()))
            atc.cache = new
        _SP_API_READY = True
    return atc


def token_cache_size() -> int:
    return _sp_api().cache.maxsize


def _token_client_class(lwa_url: str) -> type:
    """An AccessTokenClient subclass pointed at ``lwa_url``, caching per (LWA URL, app, refresh token)."""
    cls = _TOKEN_CLIENTS.get(lwa_url)
    if cls is not None:
        return cls
    import hashlib
    from urllib.parse import urlsplit

    atc = _sp_api()
    u = urlsplit(lwa_url)

    class _TokenClient(atc.AccessTokenClient):
        scheme = u.scheme + "://"
        host = u.netloc
        path = u.path or "/auth/o2/token"

        def _get_cache_key(self, token_flavor: str = "") -> str:
            raw = f"{lwa_url}|{self.cred.client_id}|{self.cred.refresh_token}|{token_flavor}"
            return "access_token_" + hashlib.sha256(raw.encode()).hexdigest()

    _TOKEN_CLIENTS[lwa_url] = _TokenClient
    return _TokenClient


_THREAD_CLIENTS = threading.local()


def _recording_transport(timeout: float, verify: bool = True):
    from sp_api.base._transport_httpx import HttpxTransport

    class _Recording(HttpxTransport):
        last = None

        def request(self, method, url, **kw):
            self.last = None
            headers = kw.get("headers")
            if headers and "host" in headers:
                # the library derives Host from endpoint[8:], which assumes https://
                from urllib.parse import urlsplit
                kw["headers"] = {**headers, "host": urlsplit(url).netloc}
            r = super().request(method, url, **kw)
            self.last = r
            return r

    return _Recording(timeout=timeout, verify=verify)


# --------------------------------------------------------------------------- the client
class SpApiClient:
    """SP-API access for one store: buckets, retries, call log, typed errors. No Airflow needed."""

    def __init__(self, credentials: SpApiCredentials | None = None, store_id: str | None = None,
                 dsn: str | None = None, marketplace_ids: list[str] | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        # defaults only so that Airflow's cooperative __init__ chain (SpApiHook) can pass through
        self._init_core(credentials, store_id, dsn, marketplace_ids, sleep)

    def _init_core(self, credentials, store_id, dsn, marketplace_ids, sleep) -> None:
        self._creds = credentials
        self.store_id = store_id
        self.dsn = dsn
        self._marketplace_ids = marketplace_ids
        self._sleep = sleep
        self._clients: dict[tuple[str, str], Any] = {}
        self._db = None
        self._buckets = PgBuckets(self._warehouse_conn) if dsn else LocalBuckets()
        self._rng = random.Random()
        self.stats = {"calls": 0, "throttled": 0, "retries": 0, "errors": 0, "waited_s": 0.0}

    # ---- plumbing
    @property
    def credentials(self) -> SpApiCredentials:
        return self._creds

    def _warehouse_conn(self):
        if self._db is None or self._db.closed:
            import psycopg2

            self._db = psycopg2.connect(self.dsn)
            self._db.autocommit = True
            with self._db.cursor() as cur:
                # bucket reservations and the call log are bookkeeping: no fsync wait per API call
                cur.execute("SET synchronous_commit = off")
        return self._db

    def close(self) -> None:
        self._clients.clear()   # the library clients stay cached for this thread's next hook
        if self._db is not None:
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

    def _marketplace(self, marketplace_id: str | None):
        from sp_api.base import Marketplaces

        from seller_inbox.domain import marketplaces as mp

        if marketplace_id is None:
            region_default = {"na": "US", "eu": "DE", "fe": "JP"}[self.credentials.region]
            marketplace_id = (self._marketplace_ids or [mp.get(region_default).marketplace_id])[0]
        for m in Marketplaces:
            if m.marketplace_id == marketplace_id:
                return m
        raise SpApiRequestError(f"store {self.store_id}: unknown marketplace id {marketplace_id}",
                                store_id=self.store_id)

    def _client(self, api: str, marketplace_id: str | None = None):
        key = (api, marketplace_id or "")
        c = self._clients.get(key)
        if c is not None:
            return c
        creds = self.credentials
        # library clients are reused per thread (building one costs TLS contexts); they keep
        # per-request state, so they are never shared between threads
        tkey = (creds.base_url, creds.lwa_url, creds.client_id, creds.refresh_token, creds.timeout, api,
                marketplace_id or "")
        cache = _THREAD_CLIENTS.__dict__.setdefault("clients", {})
        c = cache.get(tkey)
        if c is None:
            c = cache[tkey] = self._new_client(api, marketplace_id)
        self._clients[key] = c
        return c

    def _new_client(self, api: str, marketplace_id: str | None):
        _sp_api()
        from sp_api.api import Messaging, Orders, Reports, Solicitations, Tokens
        from sp_api.api.orders.orders_2026_01_01 import OrdersV20260101

        cls = {"orders": Orders, "orders2026": OrdersV20260101, "messaging": Messaging,
               "solicitations": Solicitations, "reports": Reports, "tokens": Tokens}[api]
        creds = self.credentials
        plain_http = creds.base_url.startswith("http://") and creds.lwa_url.startswith("http://")
        c = cls(self._marketplace(marketplace_id), refresh_token=creds.refresh_token,
                credentials={"lwa_app_id": creds.client_id, "lwa_client_secret": creds.client_secret},
                timeout=creds.timeout, auth_token_client_class=_token_client_class(creds.lwa_url),
                verify=not plain_http)  # no TLS context to build for a plain-HTTP simulator
        c.endpoint = creds.base_url
        c._transport.close()
        c._transport = _recording_transport(creds.timeout, verify=not plain_http)
        return c

    def _record_call(self, operation: str, status: int | None, latency_ms: int | None, attempt: int, outcome: str,
             error_code: str | None = None, waited_ms: int | None = None) -> None:
        self.stats["calls"] += 1
        if outcome == "throttled":
            self.stats["throttled"] += 1
        elif outcome == "retry":
            self.stats["retries"] += 1
        elif outcome == "error":
            self.stats["errors"] += 1
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

    def _what_to_do(self, kind: str) -> str:
        conn = f"connection {self.credentials.conn_id!r}" if self.credentials.conn_id else "the store's spapi connection"
        return {
            "revoked": f"the seller must re-authorize the app in Seller Central (Apps & Services > Manage Your "
                       f"Apps), then put the new refresh token into {conn}",
            "client": f"check the LWA client id/secret in {conn} (was the secret rotated?)",
            "denied": f"check that the app has the role this operation needs and that the authorization in "
                      f"{conn} is current; re-authorize if it was revoked",
            "request": "fix the request (parameters or body); retrying the same request will fail again",
        }[kind]

    def _map_lwa_error(self, exc) -> SpApiError:
        code = getattr(exc, "error_code", None)
        status = getattr(exc, "status_code", None)
        msg = getattr(exc, "message", None) or str(exc)
        if code == "invalid_grant":
            return AuthorizationRevoked(
                f"store {self.store_id}: SP-API authorization revoked or expired (LWA invalid_grant: {msg}); "
                f"{self._what_to_do('revoked')}.", store_id=self.store_id, operation=LWA_OPERATION,
                status=status, code=code)
        if code == "invalid_client":
            return InvalidClientCredentials(
                f"store {self.store_id}: LWA rejected the app credentials (invalid_client: {msg}); "
                f"{self._what_to_do('client')}.", store_id=self.store_id, operation=LWA_OPERATION,
                status=status, code=code)
        if status is not None and status >= 500:
            return SpApiUnavailable(f"store {self.store_id}: LWA unavailable ({status} {code}: {msg})",
                                    store_id=self.store_id, operation=LWA_OPERATION, status=status, code=code)
        return SpApiRequestError(f"store {self.store_id}: LWA token request failed ({status} {code}: {msg}); "
                                 f"{self._what_to_do('client')}.", store_id=self.store_id,
                                 operation=LWA_OPERATION, status=status, code=code)

    def call(self, operation: str, fn: Callable[[Any], Any], *, api: str, marketplace_id: str | None = None,
             idempotent: bool = True):
        """Run ``fn(client)`` for ``operation`` under the store's bucket, with retries and logging.

        429 is always retried (Amazon did not process the request). 5xx, timeouts and transport
        errors are retried only for idempotent calls; for a message/solicitation the outcome
        is unknown, so it is raised (``SpApiUnavailable``) for the caller's outbox to decide.
        """
        import httpx
        from sp_api.auth.exceptions import AuthorizationError
        from sp_api.base.exceptions import SellingApiException

        client = self._client(api, marketplace_id)
        rate, burst = self.plan(operation)
        creds = self.credentials
        last_error: SpApiError | None = None
        evicted = False
        for attempt in range(1, creds.max_attempts + 1):
            wait = self._buckets.reserve(self.store_id, operation, rate, burst)
            if wait > 0:
                self.stats["waited_s"] += wait
                self._sleep(wait)
            t0 = time.monotonic()
            status, code, message, result, transient = None, None, None, None, False
            try:
                result = fn(client)
                resp = getattr(client._transport, "last", None)
                status = resp.status_code if resp is not None else 200
                if status >= 400:  # a non-2xx without an ``errors`` body: the library did not raise
                    code, message = f"HTTP{status}", (resp.text[:200] if resp is not None else "")
            except AuthorizationError as exc:
                err = self._map_lwa_error(exc)
                self._record_call(LWA_OPERATION, err.status, int((time.monotonic() - t0) * 1000), attempt,
                          "retry" if isinstance(err, SpApiUnavailable) else "error", err.code)
                if isinstance(err, SpApiFinalError):
                    raise err from None
                last_error, transient = err, True
                self._sleep(self._backoff(attempt))
                continue
            except SellingApiException as exc:
                resp = getattr(client._transport, "last", None)
                status = resp.status_code if resp is not None else getattr(exc, "code", None)
                code = getattr(exc, "amzn_code", None)
                message = getattr(exc, "message", None)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                status, code, message, transient = None, type(exc).__name__, str(exc)[:200], True
            except ValueError as exc:  # a body that is not JSON (a gateway's error page)
                resp = getattr(client._transport, "last", None)
                status = resp.status_code if resp is not None else None
                code, message = type(exc).__name__, str(exc)[:200]
                transient = status is None or status >= 500 or status == 429
            latency = int((time.monotonic() - t0) * 1000)
            waited = int(wait * 1000)
            if status is not None and 200 <= status < 300 and code is None:
                self._record_call(operation, status, latency, attempt, "ok", waited_ms=waited)
                return result
            if status == 429:
                self._record_call(operation, status, latency, attempt, "throttled", code or "QuotaExceeded", waited)
                self._buckets.drain(self.store_id, operation, rate, burst)
                last_error = SpApiThrottled(
                    f"store {self.store_id}: {operation} still throttled (429) after {attempt} attempts; the store's "
                    f"quota is used by something else too, or the usage plan is lower than documented — retry later.",
                    store_id=self.store_id, operation=operation, status=429, code=code)
                self._sleep(self._backoff(attempt, floor=1.0 / rate))
                continue
            if status is None or status >= 500 or transient:
                last_error = SpApiUnavailable(
                    f"store {self.store_id}: {operation} failed with {status or code} ({message}) "
                    f"after {attempt} attempts; Amazon (or the network) is unavailable — retry later.",
                    store_id=self.store_id, operation=operation, status=status, code=code)
                if not idempotent:
                    self._record_call(operation, status, latency, attempt, "error", code, waited)
                    last_error.args = (f"store {self.store_id}: {operation} outcome unknown ({status or code}: "
                                       f"{message}); not retried because it may have been delivered — check "
                                       f"before sending again.",)
                    raise last_error
                self._record_call(operation, status, latency, attempt, "retry", code, waited)
                self._sleep(self._backoff(attempt))
                continue
            if status == 403 and not evicted:
                # the cached access token may be stale (revoked authorization, server restart, clock
                # skew): drop it and try once more with a fresh LWA exchange, which reports a revoked
                # authorization as invalid_grant (AuthorizationRevoked) instead of a bare 403
                self._record_call(operation, status, latency, attempt, "retry", code, waited)
                self._evict_token(client)
                evicted = True
                continue
            # 4xx other than 429: final
            self._record_call(operation, status, latency, attempt, "error", code, waited)
            if status == 403:
                raise AccessDenied(f"store {self.store_id}: {operation} denied (403 {code}: {message}); "
                                   f"{self._what_to_do('denied')}.", store_id=self.store_id, operation=operation,
                                   status=status, code=code)
            cls = SpApiNotFound if status == 404 else SpApiRequestError
            raise cls(f"store {self.store_id}: {operation} rejected ({status} {code}: {message}); "
                      f"{self._what_to_do('request')}.", store_id=self.store_id, operation=operation,
                      status=status, code=code)
        assert last_error is not None
        raise last_error

    # ---- LWA
    def _evict_token(self, client: Any) -> None:
        try:
            _sp_api().cache.pop(client._auth._get_cache_key(), None)
        except Exception:  # noqa: BLE001
            pass

    def refresh_access_token(self) -> dict:
        """Exchange the refresh token now (bypassing the cache), cache the new token, return
        ``{"expires_in": seconds, "expires_at": datetime}``. Raises AuthorizationRevoked etc."""
        import httpx

        atc = _sp_api()
        creds = self.credentials
        tc_cls = _token_client_class(creds.lwa_url)
        from sp_api.base.credential_provider import CredentialProvider

        cp = CredentialProvider(credentials={"lwa_app_id": creds.client_id,
                                             "lwa_client_secret": creds.client_secret}).credentials
        tc = tc_cls(refresh_token=creds.refresh_token, credentials=cp)
        for attempt in range(1, creds.max_attempts + 1):
            t0 = time.monotonic()
            try:
                token = tc._request(tc.scheme + tc.host + tc.path, tc.data, tc.headers)
            except atc.AuthorizationError as exc:
                err = self._map_lwa_error(exc)
                self._record_call(LWA_OPERATION, err.status, int((time.monotonic() - t0) * 1000), attempt,
                          "error" if isinstance(err, SpApiFinalError) else "retry", err.code)
                if isinstance(err, SpApiFinalError) or attempt == creds.max_attempts:
                    raise err from None
            except (httpx.TransportError, ValueError) as exc:
                self._record_call(LWA_OPERATION, None, int((time.monotonic() - t0) * 1000), attempt,
                          "error" if attempt == creds.max_attempts else "retry", type(exc).__name__)
                if attempt == creds.max_attempts:
                    raise SpApiUnavailable(f"store {self.store_id}: LWA unreachable at {creds.lwa_url} ({exc}); "
                                           f"retry later.", store_id=self.store_id, operation=LWA_OPERATION) from None
            else:
                self._record_call(LWA_OPERATION, 200, int((time.monotonic() - t0) * 1000), attempt, "ok")
                atc.cache[tc._get_cache_key()] = token
                secs = int(token.get("expires_in", 3600))
                return {"expires_in": secs, "expires_at": datetime.now(UTC) + timedelta(seconds=secs)}
            self._sleep(self._backoff(attempt))
        raise AssertionError("unreachable")

    # ---- Orders v0
    def get_orders(self, marketplace_ids: list[str] | None = None, *, last_updated_after: datetime | None = None,
                   last_updated_before: datetime | None = None, created_after: datetime | None = None,
                   created_before: datetime | None = None, max_per_page: int = 100,
                   on_page: Callable[[int, int], None] | None = None) -> Iterator[dict]:
        """Yield every order of the window (getOrders, following NextToken to the last page).

        ``on_page(page_number, orders_on_page)`` is called as each page arrives; the iterator
        ends normally only after the last page (no NextToken), so a caller that reaches its
        end has read the whole window."""
        mids = list(marketplace_ids or self._marketplace_ids or [])
        params: dict[str, Any] = {"MarketplaceIds": ",".join(mids), "MaxResultsPerPage": max_per_page}
        for k, v in (("LastUpdatedAfter", last_updated_after), ("LastUpdatedBefore", last_updated_before),
                     ("CreatedAfter", created_after), ("CreatedBefore", created_before)):
            if v is not None:
                params[k] = _iso(v)

        def request(token: str | None) -> Callable[[Any], Any]:
            # v0: a NextToken request carries only the token (it keeps the filters) and the
            # required MarketplaceIds
            kw = {"NextToken": token, "MarketplaceIds": params["MarketplaceIds"]} if token else dict(params)
            return lambda c: c.get_orders(**kw)

        return self._paged("getOrders", "orders", request, "Orders", on_page)

    def _paged(self, operation: str, api: str, request: Callable[[str | None], Callable[[Any], Any]],
               items: str, on_page: Callable[[int, int], None] | None) -> Iterator[dict]:
        """Follow page tokens until the API stops sending one; a token seen before raises
        ``SpApiPagingError`` (naming the store) instead of looping forever."""
        followed: set[str] = set()
        token: str | None = None
        page = 0
        while True:
            res = self.call(operation, request(token), api=api)
            page += 1
            body = res.payload if isinstance(res.payload, dict) else {}
            orders = body.get(items) or []
            if on_page:
                on_page(page, len(orders))
            yield from orders
            token = next_page_token(res)
            if not token:
                return
            if token in followed:
                raise SpApiPagingError(
                    f"store {self.store_id}: {operation} page {page} returned a page token that was already "
                    f"followed; Amazon's paging repeats for this window, so the window was not read to its end. "
                    f"Retry later; if it persists, report it to Selling Partner API support.",
                    store_id=self.store_id, operation=operation, code="RepeatedPageToken")
            followed.add(token)

    def get_order(self, order_id: str) -> dict:
        return self.call("getOrder", lambda c: c.get_order(order_id), api="orders").payload

    def get_order_items(self, order_id: str) -> list[dict]:
        items: list[dict] = []
        next_token = None
        while True:
            kw = {"NextToken": next_token} if next_token else {}
            res = self.call("getOrderItems", lambda c, kw=kw: c.get_order_items(order_id, **kw), api="orders")
            items += (res.payload or {}).get("OrderItems", [])
            next_token = (res.payload or {}).get("NextToken")
            if not next_token:
                return items

    # ---- Orders 2026-01-01
    def search_orders(self, marketplace_ids: list[str] | None = None, *, last_updated_after: datetime | None = None,
                      last_updated_before: datetime | None = None, created_after: datetime | None = None,
                      created_before: datetime | None = None, included_data: list[str] | None = None,
                      max_per_page: int = 100, on_page: Callable[[int, int], None] | None = None) -> Iterator[dict]:
        """Yield every order of the window (searchOrders, following pagination.nextToken to the
        last page); ``on_page`` and the end of iteration as in ``get_orders``."""
        mids = list(marketplace_ids or self._marketplace_ids or [])
        params: dict[str, Any] = {"marketplaceIds": mids, "maxResultsPerPage": max_per_page}
        if included_data:
            params["includedData"] = list(included_data)
        for k, v in (("lastUpdatedAfter", last_updated_after), ("lastUpdatedBefore", last_updated_before),
                     ("createdAfter", created_after), ("createdBefore", created_before)):
            if v is not None:
                params[k] = _iso(v)

        def request(token: str | None) -> Callable[[Any], Any]:
            # 2026-01-01: every other parameter must come again, unchanged, with paginationToken
            kw = dict(params, paginationToken=token) if token else dict(params)
            return lambda c: c.search_orders(**kw)

        return self._paged("searchOrders", "orders2026", request, "orders", on_page)

    def get_order_2026(self, order_id: str, included_data: list[str] | None = None) -> dict:
        kw = {"includedData": list(included_data)} if included_data else {}
        return self.call("getOrder2026", lambda c: c.get_order(order_id, **kw), api="orders2026").payload.get("order")

    # ---- Tokens
    def create_restricted_data_token(self, resources: list[dict]) -> dict:
        res = self.call("createRestrictedDataToken",
                        lambda c: c.create_restricted_data_token(restrictedResources=resources), api="tokens")
        return res.payload

    # ---- Messaging
    def get_messaging_actions(self, order_id: str, marketplace_id: str) -> list[str]:
        res = self.call("getMessagingActionsForOrder",
                        lambda c: c.get_messaging_actions_for_order(order_id, marketplaceIds=marketplace_id),
                        api="messaging", marketplace_id=marketplace_id)
        return [a.get("name") for a in ((res.payload or {}).get("_links") or {}).get("actions", [])]

    def get_attributes(self, order_id: str, marketplace_id: str) -> dict:
        res = self.call("GetAttributes", lambda c: c.get_attributes(order_id, marketplaceIds=marketplace_id),
                        api="messaging", marketplace_id=marketplace_id)
        return (res.payload or {}).get("buyer", {})

    _SEND = {
        "confirmCustomizationDetails": "confirm_customization_details",
        "confirmDeliveryDetails": "create_confirm_delivery_details",
        "legalDisclosure": "create_legal_disclosure",
        "confirmOrderDetails": "create_confirm_order_details",
        "confirmServiceDetails": "create_confirm_service_details",
        "warranty": "create_warranty",
        "digitalAccessKey": "create_digital_access_key",
        "unexpectedProblem": "create_unexpected_problem",
        "invoice": "send_invoice",
    }

    def send_message(self, kind: str, order_id: str, marketplace_id: str, text: str | None = None,
                     attachments: list[dict] | None = None, **body: Any) -> str | None:
        """Send one message of ``kind`` (a MESSAGE_KINDS key); return Amazon's request id.
        Never retried on 5xx/timeouts."""
        if kind not in MESSAGE_KINDS:
            raise SpApiRequestError(f"store {self.store_id}: unknown message kind {kind!r}; "
                                    f"kinds: {', '.join(MESSAGE_KINDS)}", store_id=self.store_id)
        op, limit = MESSAGE_KINDS[kind]
        if limit is not None and text is not None and len(text) > limit:
            raise SpApiRequestError(f"store {self.store_id}: {kind} text is {len(text)} characters; "
                                    f"the limit is {limit}.", store_id=self.store_id, operation=op)
        payload = dict(body)
        if text is not None:
            payload["text"] = text
        if attachments:
            payload["attachments"] = attachments
        method = self._SEND[kind]
        # the library's messaging client puts its own marketplace (per client) into marketplaceIds
        res = self.call(op, lambda c: getattr(c, method)(order_id, body=payload),
                        api="messaging", marketplace_id=marketplace_id, idempotent=False)
        return request_id(res)

    # ---- Solicitations
    def get_solicitation_actions(self, order_id: str, marketplace_id: str) -> list[str]:
        res = self.call("getSolicitationActionsForOrder",
                        lambda c: c.get_solicitation_actions_for_order(order_id, marketplaceIds=marketplace_id),
                        api="solicitations", marketplace_id=marketplace_id)
        return [a.get("name") for a in ((res.payload or {}).get("_links") or {}).get("actions", [])]

    def create_solicitation(self, order_id: str, marketplace_id: str) -> str | None:
        """Request a product review and seller feedback for the order; return Amazon's request id."""
        # the library drops the required marketplaceIds query parameter unless passed explicitly
        res = self.call("createProductReviewAndSellerFeedbackSolicitation",
                        lambda c: c.create_product_review_and_seller_feedback_solicitation(
                            order_id, marketplaceIds=marketplace_id),
                        api="solicitations", marketplace_id=marketplace_id, idempotent=False)
        return request_id(res)

    # ---- Reports
    def create_report(self, report_type: str, marketplace_ids: list[str] | None = None,
                      data_start: datetime | None = None, data_end: datetime | None = None) -> str:
        body: dict[str, Any] = {"reportType": report_type,
                                "marketplaceIds": list(marketplace_ids or self._marketplace_ids or [])}
        if data_start:
            body["dataStartTime"] = _iso(data_start)
        if data_end:
            body["dataEndTime"] = _iso(data_end)
        res = self.call("createReport", lambda c: c.create_report(**body), api="reports", idempotent=False)
        return res.payload["reportId"]

    def get_report(self, report_id: str) -> dict:
        return self.call("getReport", lambda c: c.get_report(report_id), api="reports").payload

    def get_report_document(self, document_id: str, download: bool = True) -> dict:
        """``{"reportDocumentId", "url", ..., "document": text}`` (document only when download)."""
        res = self.call("getReportDocument", lambda c: c.get_report_document(document_id, download=download),
                        api="reports")
        return res.payload

    # ---- connection check
    def test_connection(self) -> tuple[bool, str]:
        try:
            tok = self.refresh_access_token()
            mids = self._marketplace_ids
            if not mids:
                from seller_inbox.domain import marketplaces as mp
                mids = [m.marketplace_id for m in mp.MARKETPLACES.values() if m.region == self.credentials.region][:1]
            # an empty 1-hour window: proves the token works against the Orders API
            end = datetime.now(UTC) - timedelta(minutes=5)
            next(iter(self.get_orders(mids, last_updated_after=end - timedelta(minutes=1),
                                      last_updated_before=end, max_per_page=1)), None)
            return True, f"LWA token OK (expires in {tok['expires_in']} s); getOrders OK at {self.credentials.base_url}"
        except SpApiError as exc:
            return False, str(exc)


def request_id(res: Any) -> str | None:
    """Amazon's ``x-amzn-RequestId`` of a response (what its support asks for), if any."""
    headers = getattr(res, "headers", None) or {}
    for k, v in dict(headers).items():
        if str(k).lower() == "x-amzn-requestid":
            return v
    return None


def next_page_token(res: Any) -> str | None:
    """The next-page token of an Orders response, wherever python-amazon-sp-api put it.

    v0 keeps ``NextToken`` inside ``payload``. For 2026-01-01 the body is not wrapped, so the
    library passes its top-level ``pagination`` to ``ApiResponse(pagination=...)``: it lands on
    ``res.pagination`` (and ``res.next_token``), not in ``res.payload``. Reading only the payload
    stops after the first page, so every place is read."""
    payload = res.payload if isinstance(getattr(res, "payload", None), dict) else {}
    pagination = getattr(res, "pagination", None)
    for token in (payload.get("NextToken"), (payload.get("pagination") or {}).get("nextToken"),
                  pagination.get("nextToken") if isinstance(pagination, dict) else None,
                  getattr(res, "next_token", None)):
        if token:
            return token
    return None


def _iso(t: datetime) -> str:
    t = t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def client_for(credentials: SpApiCredentials, store_id: str, dsn: str | None = None,
               marketplace_ids: list[str] | None = None) -> SpApiClient:
    return SpApiClient(credentials, store_id, dsn, marketplace_ids)


# --------------------------------------------------------------------------- Airflow glue
class fail_fast:
    """Context manager for DAG tasks: a final SP-API error (revoked authorization, bad secret,
    403, bad request) fails the task without Airflow's retries, keeping the store-naming message.

        with fail_fast():
            ingest_orders(store, dsn, start, end)
    """

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is not None and isinstance(exc, SpApiFinalError):
            from airflow.sdk.exceptions import AirflowFailException

            raise AirflowFailException(str(exc)) from exc
        return False


# --------------------------------------------------------------------------- the Airflow hook
def _make_hook_class():
    from airflow.sdk import BaseHook

    class SpApiHook(BaseHook, SpApiClient):
        """Airflow hook for Amazon SP-API (one store per connection).

        Connection: login = LWA client id, password = LWA client secret; extra JSON:
        ``refresh_token``, ``region`` (na/eu/fe), optional ``endpoint`` / ``lwa_endpoint``
        overrides (the local simulator), ``authorized_at`` and ``client_secret_created_at``
        (YYYY-MM-DD). Credentials are read at first use (execution time), never at parse time.
        """

        conn_name_attr = "spapi_conn_id"
        default_conn_name = "spapi_default"
        conn_type = "spapi"
        hook_name = "Amazon SP-API"

        def __init__(self, conn_id: str = "spapi_default", store_id: str | None = None, dsn: str | None = None,
                     marketplace_ids: list[str] | None = None, **kwargs):
            BaseHook.__init__(self, **kwargs)
            self.spapi_conn_id = conn_id
            self._init_core(None, store_id or conn_id, dsn, marketplace_ids, time.sleep)

        @property
        def credentials(self) -> SpApiCredentials:
            if self._creds is None:
                self._creds = load_credentials(self.spapi_conn_id)
            return self._creds

        def get_conn(self) -> SpApiClient:
            self.credentials
            return self

        @classmethod
        def get_ui_field_behaviour(cls) -> dict:
            return {
                "hidden_fields": ["schema", "port", "host"],
                "relabeling": {"login": "LWA client id", "password": "LWA client secret"},
                "placeholders": {
                    "extra": json.dumps({"refresh_token": "Atzr|...", "region": "eu",
                                         "authorized_at": "2026-01-31", "client_secret_created_at": "2026-01-31",
                                         "endpoint": "(optional) http://127.0.0.1:8700",
                                         "lwa_endpoint": "(optional) http://127.0.0.1:8700/auth/o2/token"}),
                },
            }

    return SpApiHook


def store_hook(store, dsn: str | None = None):
    """The SP-API hook of a registry store (its ``spapi`` connection, every marketplace it sells on)."""
    return __getattr__("SpApiHook")(store.connections.spapi, store_id=store.id, dsn=dsn,
                                    marketplace_ids=[m.info.marketplace_id for m in store.marketplaces])


def __getattr__(name: str):
    # SpApiHook subclasses Airflow's BaseHook: built on first use so importing this module
    # stays stdlib-only (DAG parsing, the simulator).
    if name == "SpApiHook":
        cls = _make_hook_class()
        globals()["SpApiHook"] = cls
        return cls
    raise AttributeError(name)
