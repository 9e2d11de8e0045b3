"""Login with Amazon (LWA): exchanging a store's refresh token for access tokens, and caching them.

The exchange and the cache are ours, not python-amazon-sp-api's: the library reaches them only
through its public ``auth_token_client_class`` parameter (``library.LwaTokenClient``). Owning
them lets one cache serve many stores (keyed by LWA URL, app and refresh token), lets the client
drop one store's token after a 403, and lets ``refresh_access_token`` force a fresh exchange.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import OrderedDict
from datetime import UTC, datetime, timedelta

from seller_inbox.spapi.credentials import SpApiCredentials
from seller_inbox.spapi.errors import (
    AuthorizationRevoked,
    InvalidClientCredentials,
    SpApiError,
    SpApiFinalError,
    SpApiRequestError,
    SpApiUnavailable,
    what_to_do,
)

LWA_OPERATION = "lwaToken"           # how LWA exchanges appear in ops.api_calls
REAUTH_DAYS = 365                    # public apps: re-authorize every 365 days
SECRET_ROTATION_DAYS = 180           # LWA client secret rotation
TOKEN_CACHE_ENV = "SELLER_INBOX_SPAPI_TOKEN_CACHE"  # LWA token cache entries (default 1024)
TOKEN_TTL_ENV = "SP_API_AUTH_CACHE_TTL"             # seconds a token is reused (default 3200, under its hour)


class LwaRejected(Exception):
    """LWA answered with an error (``error``/``error_description``/HTTP status)."""

    def __init__(self, error_code: str | None, message: str | None, status_code: int | None):
        super().__init__(f"{status_code} {error_code}: {message}")
        self.error_code, self.message, self.status_code = error_code, message, status_code


class TokenCache:
    """Access tokens by key, each kept for ``ttl`` seconds, the least recently used dropped past ``maxsize``."""

    def __init__(self, maxsize: int, ttl: float):
        self.maxsize, self.ttl = maxsize, ttl
        self._items: OrderedDict[str, tuple[float, dict]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> dict | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is None or hit[0] <= time.monotonic():
                self._items.pop(key, None)
                return None
            self._items.move_to_end(key)
            return hit[1]

    def put(self, key: str, token: dict) -> None:
        with self._lock:
            self._items[key] = (time.monotonic() + self.ttl, token)
            self._items.move_to_end(key)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)

    def pop(self, key: str) -> None:
        with self._lock:
            self._items.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_CACHE = TokenCache(int(os.environ.get(TOKEN_CACHE_ENV, "1024")), float(os.environ.get(TOKEN_TTL_ENV, "3200")))


def token_cache() -> TokenCache:
    """The process's LWA token cache (shared by every store's client)."""
    return _CACHE


def token_cache_size() -> int:
    return _CACHE.maxsize


class LwaExchange:
    """One store's refresh-token exchange at its LWA URL, through the shared cache."""

    def __init__(self, creds: SpApiCredentials):
        self.creds = creds
        raw = f"{creds.lwa_url}|{creds.client_id}|{creds.refresh_token}|"
        self.key = "access_token_" + hashlib.sha256(raw.encode()).hexdigest()

    def fetch(self) -> dict:
        """Exchange now (no cache). Raises LwaRejected, httpx transport errors, ValueError (not JSON)."""
        import httpx

        c = self.creds
        r = httpx.post(c.lwa_url, data={"grant_type": "refresh_token", "client_id": c.client_id,
                                        "refresh_token": c.refresh_token, "client_secret": c.client_secret},
                       headers={"User-Agent": "seller-inbox",
                                "content-type": "application/x-www-form-urlencoded;charset=UTF-8"},
                       timeout=c.timeout, verify=not c.lwa_url.startswith("http://"))
        body = r.json()
        if r.status_code != 200:
            raise LwaRejected(body.get("error"), body.get("error_description"), r.status_code)
        return body

    def access_token(self) -> dict:
        token = _CACHE.get(self.key)
        if token is None:
            token = self.fetch()
            _CACHE.put(self.key, token)
        return token

    def store(self, token: dict) -> None:
        _CACHE.put(self.key, token)

    def evict(self) -> None:
        _CACHE.pop(self.key)


def map_error(exc: LwaRejected, store_id: str | None, conn_id: str | None) -> SpApiError:
    """An LWA rejection as the typed error a caller acts on (revoked, bad secret, unavailable)."""
    code, status, msg = exc.error_code, exc.status_code, exc.message or str(exc)
    kw = {"store_id": store_id, "operation": LWA_OPERATION, "status": status, "code": code}
    if code == "invalid_grant":
        return AuthorizationRevoked(f"store {store_id}: SP-API authorization revoked or expired (LWA invalid_grant: "
                                    f"{msg}); {what_to_do('revoked', conn_id)}.", **kw)
    if code == "invalid_client":
        return InvalidClientCredentials(f"store {store_id}: LWA rejected the app credentials (invalid_client: "
                                        f"{msg}); {what_to_do('client', conn_id)}.", **kw)
    if status is not None and status >= 500:
        return SpApiUnavailable(f"store {store_id}: LWA unavailable ({status} {code}: {msg})", **kw)
    return SpApiRequestError(f"store {store_id}: LWA token request failed ({status} {code}: {msg}); "
                             f"{what_to_do('client', conn_id)}.", **kw)


class Lwa:
    """Client mixin: the LWA exchange as an operation of its own (logged as ``lwaToken``)."""

    def _lwa(self) -> LwaExchange:
        return LwaExchange(self.credentials)

    def _lwa_failed(self, exc: LwaRejected, attempt: int, t0: float) -> SpApiError:
        """Log a failed exchange; raise it when final, return it when a retry may help."""
        err = map_error(exc, self.store_id, self.credentials.conn_id)
        self._record_call(LWA_OPERATION, err.status, int((time.monotonic() - t0) * 1000), attempt,
                          "error" if isinstance(err, SpApiFinalError) else "retry", err.code)
        if isinstance(err, SpApiFinalError):
            raise err from None
        return err

    def refresh_access_token(self) -> dict:
        """Exchange the refresh token now (bypassing the cache), cache the new token, return
        ``{"expires_in": seconds, "expires_at": datetime}``. Raises AuthorizationRevoked etc."""
        import httpx

        creds = self.credentials
        exchange = self._lwa()
        for attempt in range(1, creds.max_attempts + 1):
            t0 = time.monotonic()
            try:
                token = exchange.fetch()
            except LwaRejected as exc:
                err = self._lwa_failed(exc, attempt, t0)
                if attempt == creds.max_attempts:
                    raise err from None
            except (httpx.TransportError, ValueError) as exc:
                last = attempt == creds.max_attempts
                self._record_call(LWA_OPERATION, None, int((time.monotonic() - t0) * 1000), attempt,
                                  "error" if last else "retry", type(exc).__name__)
                if last:
                    raise SpApiUnavailable(f"store {self.store_id}: LWA unreachable at {creds.lwa_url} ({exc}); "
                                           f"retry later.", store_id=self.store_id, operation=LWA_OPERATION) from None
            else:
                self._record_call(LWA_OPERATION, 200, int((time.monotonic() - t0) * 1000), attempt, "ok")
                exchange.store(token)
                secs = int(token.get("expires_in", 3600))
                return {"expires_in": secs, "expires_at": datetime.now(UTC) + timedelta(seconds=secs)}
            self._sleep(self._backoff(attempt))
        raise AssertionError("unreachable")


