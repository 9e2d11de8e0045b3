"""Request helpers the UI's routes share: language, store filter, route paths, JSON values,
and running a warehouse query off the event loop."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from seller_inbox.ui import i18n, queries

# Route paths by name. ``request.url_for`` cannot be used: in a mounted app the scope's
# router is the API server's, which does not know these names.
ROUTES = {"index": "/", "kpis": "/kpis", "health": "/health", "approvals": "/approvals", "messages": "/messages",
          "approve": "/approvals/approve", "reject": "/approvals/reject", "kill_switch": "/approvals/kill-switch",
          "message": "/message", "message_label": "/message/label", "data_docs": "/data-docs/"}


def lang(request: Request) -> str:
    return i18n.pick_language(request.query_params.get("lang"), request.headers.get("accept-language"))


def is_api(request: Request) -> bool:
    root = request.scope.get("root_path", "")
    path = request.url.path
    if root and path.startswith(root):
        path = path[len(root):]
    return path.startswith("/api/")


def path_for(request: Request, name: str) -> str:
    """Absolute path of a route of this app, under whatever prefix it is mounted."""
    return request.scope.get("root_path", "").rstrip("/") + ROUTES[name]


def store_param(request: Request) -> str | None:
    s = (request.query_params.get("store") or "").strip()
    return s or None


def chart_days(request: Request) -> int:
    try:
        d = int(request.query_params.get("days", "30"))
    except ValueError:
        d = 30
    return d if d in queries.CHART_DAYS else 30


def jsonable(v: Any) -> Any:
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, (datetime, date)):
        return v.isoformat()
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    return v


def warehouse(fn, *args, **kw):
    """Run fn(conn, ...) on a fresh warehouse connection (in a worker thread)."""
    def run():
        with queries.connect() as conn:
            return fn(conn, *args, **kw)

    return run_in_threadpool(run)
