"""Who may use the Seller Inbox UI: the Airflow login check every route depends on, and the
CSRF token of its forms (why the app authenticates itself: see ``seller_inbox.ui.app``)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import date, datetime, timedelta, timezone

from fastapi import HTTPException, Request

RESOURCE_NAME = "Seller Inbox"
_PROCESS_KEY = secrets.token_bytes(32)


class LoginRequired(Exception):
    def __init__(self, detail: str):
        self.detail = detail


class Refused(Exception):
    """A request the user may not make (403), or a form that failed the CSRF check."""

    def __init__(self, key: str, status: int = 403):
        self.key = key
        self.status = status


async def airflow_user(request: Request):
    """The logged-in Airflow user, validated exactly as the API server validates its own routes."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.core_api.security import bearer_scheme, get_user

    creds = await bearer_scheme(request)
    try:
        user = await get_user(request, None, creds)
    except HTTPException as exc:
        if exc.status_code in (401, 403):
            raise LoginRequired(str(exc.detail)) from None
        raise
    am = get_auth_manager()
    write = request.method not in ("GET", "HEAD", "OPTIONS")
    if not am.is_authorized_custom_view(method="POST" if write else "GET", resource_name=RESOURCE_NAME, user=user):
        raise Refused("forbidden")
    if write:
        from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity

        if not am.is_authorized_dag(method="PUT", access_entity=DagAccessEntity.HITL_DETAIL, user=user):
            raise Refused("forbidden")
    request.state.si_user = user
    request.state.si_bearer = bool(creds and creds.scheme.lower() == "bearer")
    return user


def user_name(request: Request) -> str:
    u = request.state.si_user
    return u.get_name() or u.get_id()


def _csrf_key() -> bytes:
    try:
        from airflow.configuration import conf

        secret = conf.get("api", "secret_key", fallback="") or conf.get("api_auth", "jwt_secret", fallback="")
    except Exception:  # noqa: BLE001
        secret = ""
    return secret.encode() if secret else _PROCESS_KEY


def csrf_token(user: str, day: date | None = None) -> str:
    """Synchronizer token for the forms: HMAC of the user and the UTC day (valid today and tomorrow)."""
    day = day or datetime.now(timezone.utc).date()
    return hmac.new(_csrf_key(), f"seller-inbox-csrf|{user}|{day.isoformat()}".encode(), hashlib.sha256).hexdigest()[:40]


def check_csrf(request: Request, supplied: str | None) -> None:
    if request.state.si_bearer:  # an explicit credential, not an ambient cookie: no CSRF risk
        return
    user = user_name(request)
    today = datetime.now(timezone.utc).date()
    valid = (csrf_token(user, today), csrf_token(user, today - timedelta(days=1)))
    if not supplied or not any(hmac.compare_digest(supplied, v) for v in valid):
        raise Refused("csrf_failed")
