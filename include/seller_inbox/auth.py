"""Per-store SP-API authorization health: token refresh, proof call, ``ops.store_auth``, alerts.

``check_store_auth`` (the token-refresh DAG's task) exchanges the refresh token for a fresh
LWA access token, proves it with one cheap Orders call, and records in ``ops.store_auth``:
last success / last error, the authorization date and days left of the 365-day
re-authorization, and the client secret's age against the 180-day rotation. It writes alert
rows into ``ops.alert_log`` (channel ``log``; delivered elsewhere later), once per subject:

- ``auth_revoked``: LWA answered ``invalid_grant`` (subject: the refresh token's fingerprint);
- ``reauth_due``: the authorization expires within 30 days (subject: the authorization date);
- ``secret_rotation``: the client secret is due for rotation within 30 days (subject: its date);
- ``auth_recovered``: a revoked authorization works again (subject: when it was revoked).

A revoked store is marked ``revoked``; ``assert_store_usable`` (first task of the store's
other DAGs) then fails fast with that reason. Other stores are never touched.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import date, datetime, timedelta, timezone
from typing import Any

from seller_inbox.spapi import (
    REAUTH_DAYS,
    SECRET_ROTATION_DAYS,
    AccessDenied,
    AuthorizationRevoked,
    InvalidClientCredentials,
    SpApiError,
)

log = logging.getLogger(__name__)
UTC = timezone.utc
REAUTH_WARN_DAYS = 30
SECRET_WARN_DAYS = 30


class StoreUnusable(AuthorizationRevoked):
    """Raised by ``assert_store_usable``: the store's authorization is known to be revoked."""


def _fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


def _alert(cur, store_id: str, kind: str, subject: str, payload: dict) -> bool:
    """Queue one alert unless this subject was alerted before."""
    from seller_inbox.alerts import queue

    return queue(cur, store_id, kind, subject, payload)


def _save(cur, row: dict) -> None:
    cols = list(row)
    cur.execute(
        f"INSERT INTO ops.store_auth ({', '.join(cols)}) VALUES ({', '.join('%(' + c + ')s' for c in cols)}) "
        "ON CONFLICT (store_id) DO UPDATE SET " + ", ".join(f"{c} = EXCLUDED.{c}" for c in cols if c != "store_id")
        # rewrite only when something changed: reruns leave the row as it was
        + f" WHERE ({', '.join('ops.store_auth.' + c for c in cols)}) IS DISTINCT FROM ({', '.join('EXCLUDED.' + c for c in cols)})",
        row)


def _previous(cur, store_id: str) -> dict:
    cur.execute("SELECT status, last_success_at, revoked_at FROM ops.store_auth WHERE store_id = %s", (store_id,))
    r = cur.fetchone()
    return {"status": r[0], "last_success_at": r[1], "revoked_at": r[2]} if r else {}


def check_store_auth(store: Any, dsn: str, now: datetime | None = None, *, client: Any = None) -> dict:
    """Refresh and prove the store's SP-API authorization; record it; alert; raise if revoked.

    Returns the ``ops.store_auth`` row written (plus ``alerts``: kinds newly raised).
    Raises ``AuthorizationRevoked`` (after recording and alerting) when LWA says
    ``invalid_grant``, and the other ``SpApiError`` kinds on other failures.
    """
    from seller_inbox import warehouse

    now = now or datetime.now(UTC)
    own = client is None
    if own:
        from seller_inbox.spapi.hook import store_client

        client = store_client(store, dsn)
    conn = warehouse.connect(dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            prev = _previous(cur, store.id)
        row: dict = {"store_id": store.id, "seller_id": store.seller_id, "checked_at": now}
        creds = _read_credentials(conn, client, row, prev, now)
        row.update(_due_dates(creds, now.astimezone(UTC).date()))
        error = _prove(client, store, row, prev, now)
        with conn.cursor() as cur:
            _save(cur, row)
            alerts = _queue_alerts(cur, store, creds, row, prev, error)
        if error is not None:
            raise error
        return {**row, "alerts": alerts}
    finally:
        conn.close()
        if own:
            client.close()


def _read_credentials(conn, client: Any, row: dict, prev: dict, now: datetime) -> Any:
    """The store's credentials; when they cannot be read, the error is recorded, then raised."""
    try:
        return client.credentials
    except SpApiError as exc:
        row.update(status="error", last_error_at=now, last_error=str(exc),
                   last_success_at=prev.get("last_success_at"))
        with conn.cursor() as cur:
            _save(cur, row)
        raise


def _due_dates(creds: Any, today: date) -> dict:
    """The authorization's and the client secret's dates, age and renewal deadlines."""
    auth_at, secret_at = creds.authorized_at, creds.client_secret_created_at
    return {"authorized_at": auth_at,
            "days_until_reauth": (auth_at + timedelta(days=REAUTH_DAYS) - today).days if auth_at else None,
            "client_secret_created_at": secret_at,
            "client_secret_age_days": (today - secret_at).days if secret_at else None,
            "reauth_due_on": auth_at + timedelta(days=REAUTH_DAYS) if auth_at else None,
            "secret_rotation_due_on": secret_at + timedelta(days=SECRET_ROTATION_DAYS) if secret_at else None}


def _prove(client: Any, store: Any, row: dict, prev: dict, now: datetime) -> SpApiError | None:
    """Refresh the access token and use it once; the outcome goes into ``row``. Returns the
    SP-API error met (raised by the caller once recorded), or None."""
    try:
        client.refresh_access_token()  # the token itself stays in memory
        # prove the token works on the API itself: an empty one-minute window, one page of one order
        end = now.astimezone(UTC) - timedelta(minutes=3)
        mids = [m.info.marketplace_id for m in store.marketplaces]
        next(iter(client.get_orders(mids, last_updated_after=end - timedelta(minutes=1),
                                    last_updated_before=end, max_per_page=1)), None)
        row.update(status="ok", last_success_at=now,
                   revoked_at=None, last_error=None, last_error_at=None)
        return None
    except AuthorizationRevoked as exc:
        row.update(status="revoked", last_error_at=now, last_error=str(exc),
                   last_success_at=prev.get("last_success_at"),
                   revoked_at=prev.get("revoked_at") if prev.get("status") == "revoked" else now)
        return exc
    except (InvalidClientCredentials, AccessDenied, SpApiError) as exc:
        row.update(status="error", last_error_at=now, last_error=str(exc),
                   last_success_at=prev.get("last_success_at"))
        return exc


def _queue_alerts(cur, store: Any, creds: Any, row: dict, prev: dict, error: SpApiError | None) -> list[str]:
    """Queue the alerts this check calls for (each once per subject); returns the kinds newly queued."""
    alerts: list[str] = []
    auth_at, secret_at = row["authorized_at"], row["client_secret_created_at"]
    days_left, secret_age = row["days_until_reauth"], row["client_secret_age_days"]
    if row["status"] == "revoked":
        if _alert(cur, store.id, "auth_revoked", f"refresh_token:{_fingerprint(creds.refresh_token)}",
                  {"message": str(error), "seller_id": store.seller_id, "store_name": store.name,
                   "connection": creds.conn_id}):
            alerts.append("auth_revoked")
    if row["status"] == "ok" and prev.get("status") == "revoked":
        if _alert(cur, store.id, "auth_recovered", f"recovered:{prev.get('revoked_at')}",
                  {"message": f"store {store.id}: SP-API authorization works again (revoked since "
                              f"{prev.get('revoked_at')}); orders, replies and delivery resume on the next run.",
                   "seller_id": store.seller_id}):
            alerts.append("auth_recovered")
    if days_left is not None and days_left <= REAUTH_WARN_DAYS:
        msg = (f"store {store.id}: SP-API authorization from {auth_at} must be renewed by "
               f"{row['reauth_due_on']} ({days_left} days left); the seller re-authorizes the app in "
               f"Seller Central, then update refresh_token and authorized_at in {creds.conn_id or 'the connection'}.")
        if _alert(cur, store.id, "reauth_due", f"authorized_at:{auth_at}",
                  {"message": msg, "days_until_reauth": days_left, "due_on": row["reauth_due_on"]}):
            alerts.append("reauth_due")
    if secret_age is not None and secret_age >= SECRET_ROTATION_DAYS - SECRET_WARN_DAYS:
        msg = (f"store {store.id}: the LWA client secret from {secret_at} is {secret_age} days old; rotate it "
               f"by {row['secret_rotation_due_on']} (every {SECRET_ROTATION_DAYS} days) in the developer "
               f"console and update {creds.conn_id or 'the connection'} (password, client_secret_created_at).")
        if _alert(cur, store.id, "secret_rotation", f"secret_created_at:{secret_at}",
                  {"message": msg, "client_secret_age_days": secret_age,
                   "due_on": row["secret_rotation_due_on"]}):
            alerts.append("secret_rotation")
    return alerts


def mark_revoked(store: Any, dsn: str, error: Exception, refresh_token: str | None = None,
                 now: datetime | None = None) -> None:
    """Record a revocation seen by any task (not only the token-refresh DAG) and alert once."""
    from seller_inbox import warehouse

    now = now or datetime.now(UTC)
    conn = warehouse.connect(dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            prev = _previous(cur, store.id)
            cur.execute(
                "INSERT INTO ops.store_auth (store_id, seller_id, status, last_error_at, last_error, revoked_at, "
                "checked_at) VALUES (%s, %s, 'revoked', %s, %s, %s, %s) ON CONFLICT (store_id) DO UPDATE SET "
                "status = 'revoked', last_error_at = EXCLUDED.last_error_at, last_error = EXCLUDED.last_error, "
                "revoked_at = COALESCE(ops.store_auth.revoked_at, EXCLUDED.revoked_at), checked_at = EXCLUDED.checked_at",
                (store.id, store.seller_id, now, str(error), prev.get("revoked_at") if prev.get("status") == "revoked"
                 else now, now))
            subject = f"refresh_token:{_fingerprint(refresh_token)}" if refresh_token else f"revoked:{now.date()}"
            _alert(cur, store.id, "auth_revoked", subject,
                   {"message": str(error), "seller_id": store.seller_id, "store_name": store.name})
    finally:
        conn.close()


def assert_store_usable(store: Any, dsn: str) -> dict | None:
    """Fail fast if the store's authorization is recorded as revoked; return its auth row."""
    from seller_inbox import warehouse

    conn = warehouse.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT status, last_error, revoked_at, checked_at, days_until_reauth FROM ops.store_auth "
                        "WHERE store_id = %s", (store.id,))
            r = cur.fetchone()
    finally:
        conn.close()
    if r is None:
        return None
    row = {"status": r[0], "last_error": r[1], "revoked_at": r[2], "checked_at": r[3], "days_until_reauth": r[4]}
    if row["status"] == "revoked":
        raise StoreUnusable(
            f"store {store.id}: SP-API authorization is revoked (since {row['revoked_at']}, last checked "
            f"{row['checked_at']}): {row['last_error']} — skipping this store's work until it is re-authorized; "
            f"after updating the connection, run its token-refresh DAG.",
            store_id=store.id, code="revoked")
    return row
