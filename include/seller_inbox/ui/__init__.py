"""The Seller Inbox pages in the Airflow UI (KPIs, store health, approvals, open messages).

``asgi_app`` is what the plugin registers: a tiny ASGI callable that builds the real FastAPI
app (``seller_inbox.ui.app.create_app``) on its first request. Importing this package, and so
the plugin file, costs nothing: Airflow imports plugins in every component (scheduler, DAG
processor, task runners), and only the API server ever serves these pages.
"""

from __future__ import annotations

import threading

URL_PREFIX = "/seller-inbox"
APP_NAME = "Seller Inbox"


class LazyASGIApp:
    """ASGI app that creates the FastAPI app once, on first use, then delegates to it."""

    def __init__(self) -> None:
        self._app = None
        self._lock = threading.Lock()

    @property
    def app(self):
        if self._app is None:
            with self._lock:
                if self._app is None:
                    from seller_inbox.ui.app import create_app

                    self._app = create_app()
        return self._app

    async def __call__(self, scope, receive, send) -> None:
        await self.app(scope, receive, send)

    def __repr__(self) -> str:
        return f"<seller_inbox.ui app at {URL_PREFIX} ({'built' if self._app is not None else 'not built yet'})>"


asgi_app = LazyASGIApp()
