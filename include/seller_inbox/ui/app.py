"""The Seller Inbox UI: a FastAPI app mounted into Airflow's API server by the plugin.

Pages (HTML, Chinese and English): ``kpis``, ``health``, ``approvals`` (with the kill switches
and the listen-mode shadow drafts), ``messages``; the same data as JSON under ``api/``; the gates'
Great Expectations Data Docs as files under ``data-docs/`` (``seller_inbox.data_docs``). Approve /
reject / kill switch are POSTs (form + CSRF token, or JSON with a Bearer token).

Protection. A plugin app is mounted with ``app.mount()`` and inherits none of the API server's
dependencies, so this app authenticates every route itself, with the API server's own code:
an app-wide dependency calls ``airflow.api_fastapi.core_api.security.get_user`` (the
dependency behind every ``/api/v2`` route: ``Authorization: Bearer <JWT>`` first, else the
``_token`` cookie the Airflow UI holds, validated by the configured auth manager's
``get_user_from_token``: signature, audience, expiry, revocation). Then the auth manager
decides: ``is_authorized_custom_view(resource_name="Seller Inbox")`` for every request, and for
approve / reject / the kill switch also ``is_authorized_dag(method="PUT", access_entity=HITL_DETAIL)``: the
right Airflow asks before a human answers a human-in-the-loop task. Without a valid login an
API route answers 401 and a page redirects to the auth manager's login URL.

Layout: one router per page with its JSON twin (``routes_kpis``, ``routes_health``,
``routes_approvals``, ``routes_messages``, ``routes_data_docs``), the login / refusal / warehouse
errors in ``errors``, the login check and CSRF token in ``security``, HTML in ``render``, shared
request helpers in ``web``. This module only assembles them.
"""

from __future__ import annotations

from fastapi import Depends, FastAPI

# The modules assembled here; then, re-exported, the names this module held before the routes
# moved out (tests and callers import e.g. data_docs_file from here).
from seller_inbox.ui import (
    errors,
    routes_approvals,
    routes_data_docs,
    routes_health,
    routes_kpis,
    routes_messages,
)
from seller_inbox.ui.errors import queries_error  # noqa: F401
from seller_inbox.ui.render import TEMPLATES, fmt_minutes, fmt_rate, fmt_ts  # noqa: F401
from seller_inbox.ui.routes_data_docs import (  # noqa: F401
    DATA_DOCS_CSP,
    DATA_DOCS_TYPES,
    data_docs_file,
)
from seller_inbox.ui.security import (  # noqa: F401
    RESOURCE_NAME,
    LoginRequired,
    Refused,
    airflow_user,
    csrf_token,
)
from seller_inbox.ui.web import ROUTES, path_for  # noqa: F401

# in this order: the routes' order is the order FastAPI matches them in
ROUTERS = (routes_kpis.router, routes_health.router, routes_approvals.router, routes_messages.router,
           routes_data_docs.router)


def create_app() -> FastAPI:
    """The UI app: every route behind ``airflow_user``, the error handlers, the routers."""
    app = FastAPI(title="Seller Inbox", docs_url=None, redoc_url=None, openapi_url=None,
                  dependencies=[Depends(airflow_user)])
    errors.add_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    return app
