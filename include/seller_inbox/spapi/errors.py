"""Typed SP-API errors. ``SpApiFinalError`` (a ``FinalError``) is never retried; the others may be.

Every message names the store and says what to do; the builders below keep that wording in
one place for the client core and the LWA module.
"""

from __future__ import annotations

from seller_inbox.errors import AlertWritten, FinalError


class SpApiError(RuntimeError):
    """An SP-API problem for one store; the message names the store and what to do."""

    retryable = False

    def __init__(self, message: str, *, store_id: str | None = None, operation: str | None = None,
                 status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.store_id, self.operation, self.status, self.code = store_id, operation, status, code


class SpApiFinalError(SpApiError, FinalError):
    """Never retried: retrying cannot help (authorization, permissions, bad request)."""


class SpApiConfigError(SpApiFinalError):
    """The ``spapi`` connection is missing or malformed."""


class AuthorizationRevoked(SpApiFinalError, AlertWritten):
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


class TokenWait(Exception):
    """The store's bucket has no token for ``seconds`` (longer than ``buckets.DEFER_AFTER_S``):
    nothing was sent; the task gives its worker slot back and is rescheduled. Deliberately not
    an ``SpApiError``: no error handler may swallow it as a failed call."""

    def __init__(self, store_id: str | None, operation: str, seconds: float):
        super().__init__(f"store {store_id}: waiting for SP-API tokens for {operation}, {seconds:.0f} s "
                         f"(the task is rescheduled and gives its worker slot back meanwhile)")
        self.store_id, self.operation, self.seconds = store_id, operation, seconds


class SpApiPagingError(SpApiError):
    """A page token came back that was already followed: paging on would loop forever (an API bug)."""


def what_to_do(kind: str, conn_id: str | None) -> str:
    conn = f"connection {conn_id!r}" if conn_id else "the store's spapi connection"
    return {
        "revoked": f"the seller must re-authorize the app in Seller Central (Apps & Services > Manage Your "
                   f"Apps), then put the new refresh token into {conn}",
        "client": f"check the LWA client id/secret in {conn} (was the secret rotated?)",
        "denied": f"check that the app has the role this operation needs and that the authorization in "
                  f"{conn} is current; re-authorize if it was revoked",
        "request": "fix the request (parameters or body); retrying the same request will fail again",
    }[kind]


def throttled(store_id: str | None, operation: str, attempt: int, code: str | None) -> SpApiThrottled:
    return SpApiThrottled(
        f"store {store_id}: {operation} still throttled (429) after {attempt} attempts; the store's "
        f"quota is used by something else too, or the usage plan is lower than documented — retry later.",
        store_id=store_id, operation=operation, status=429, code=code)


def unavailable(store_id: str | None, operation: str, attempt: int, status: int | None, code: str | None,
                message: str | None, idempotent: bool = True) -> SpApiUnavailable:
    if idempotent:
        text = (f"store {store_id}: {operation} failed with {status or code} ({message}) after {attempt} "
                f"attempts; Amazon (or the network) is unavailable — retry later.")
    else:
        text = (f"store {store_id}: {operation} outcome unknown ({status or code}: {message}); not retried "
                f"because it may have been delivered — check before sending again.")
    return SpApiUnavailable(text, store_id=store_id, operation=operation, status=status, code=code)


def rejected(store_id: str | None, operation: str, status: int, code: str | None, message: str | None,
             conn_id: str | None) -> SpApiFinalError:
    """A 4xx other than 429: 403 is ``AccessDenied``, 404 ``SpApiNotFound``, the rest ``SpApiRequestError``."""
    if status == 403:
        return AccessDenied(f"store {store_id}: {operation} denied (403 {code}: {message}); "
                            f"{what_to_do('denied', conn_id)}.", store_id=store_id, operation=operation,
                            status=status, code=code)
    cls = SpApiNotFound if status == 404 else SpApiRequestError
    return cls(f"store {store_id}: {operation} rejected ({status} {code}: {message}); "
               f"{what_to_do('request', conn_id)}.", store_id=store_id, operation=operation,
               status=status, code=code)
