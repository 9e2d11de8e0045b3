"""``SpApiClient``: the client core plus one mixin per API (docs/spapi.md lists the layout)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from seller_inbox.spapi.core import ClientCore
from seller_inbox.spapi.credentials import SpApiCredentials
from seller_inbox.spapi.errors import SpApiError
from seller_inbox.spapi.lwa import Lwa
from seller_inbox.spapi.messaging import Messaging
from seller_inbox.spapi.orders_2026 import Orders2026
from seller_inbox.spapi.orders_v0 import OrdersV0
from seller_inbox.spapi.paging import Paging
from seller_inbox.spapi.reports import Reports
from seller_inbox.spapi.solicitations import Solicitations
from seller_inbox.spapi.tokens import Tokens


class SpApiClient(OrdersV0, Orders2026, Messaging, Solicitations, Reports, Tokens, Lwa, Paging, ClientCore):
    """SP-API access for one store: buckets, retries, call log, typed errors. No Airflow needed."""

    def __init__(self, credentials: SpApiCredentials | None = None, store_id: str | None = None, dsn: str | None = None,
                 marketplace_ids: list[str] | None = None, sleep: Callable[[float], None] = time.sleep):
        self._init_core(credentials, store_id, dsn, marketplace_ids, sleep)

    def test_connection(self) -> tuple[bool, str]:
        """An LWA exchange and an empty getOrders window: proves the connection end to end."""
        try:
            tok = self.refresh_access_token()
            mids = self._marketplace_ids
            if not mids:
                from seller_inbox.domain import marketplaces as mp
                mids = [m.marketplace_id for m in mp.MARKETPLACES.values() if m.region == self.credentials.region][:1]
            end = datetime.now(UTC) - timedelta(minutes=5)
            next(iter(self.get_orders(mids, last_updated_after=end - timedelta(minutes=1),
                                      last_updated_before=end, max_per_page=1)), None)
            return True, f"LWA token OK (expires in {tok['expires_in']} s); getOrders OK at {self.credentials.base_url}"
        except SpApiError as exc:
            return False, str(exc)


def client_for(credentials: SpApiCredentials, store_id: str, dsn: str | None = None,
               marketplace_ids: list[str] | None = None) -> SpApiClient:
    return SpApiClient(credentials, store_id, dsn, marketplace_ids)
