"""Airflow plugin: the Seller Inbox pages (KPIs, store health, approvals, open messages).

Thin on purpose: it registers the FastAPI app from ``seller_inbox.ui`` under ``/seller-inbox``
and four entries in the Airflow UI's navigation. The app is built lazily on its first request
and authenticates every route with the API server's own JWT check (see
``seller_inbox.ui.app``): Airflow does not put plugin apps behind its login.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from seller_inbox.ui import APP_NAME, URL_PREFIX, asgi_app

_CATEGORY = "Seller Inbox 买家消息"
_PREFIX = URL_PREFIX.strip("/")


def _view(slug: str, name: str) -> dict:
    # href is relative (no leading slash) so it works behind a base_url path; url_route makes the
    # Airflow UI show the page inside its own frame at /plugin/<url_route>.
    return {"name": name, "href": f"{_PREFIX}/{slug}", "url_route": f"seller-inbox-{slug}",
            "destination": "nav", "category": _CATEGORY}


class SellerInboxPlugin(AirflowPlugin):
    name = "seller_inbox"
    fastapi_apps = [{"app": asgi_app, "url_prefix": URL_PREFIX, "name": APP_NAME}]
    external_views = [
        _view("kpis", "KPIs · KPI 看板"),
        _view("health", "Store health · 店铺健康"),
        _view("approvals", "Approvals · 待审批回复"),
        _view("messages", "Open messages · 待回复消息"),
    ]
