"""Orders API 2026-01-01: searchOrders (pagination.nextToken paging) and getOrder.

Usage plans from the model ``orders_2026-01-01.json``; our key for its getOrder is
``getOrder2026`` (v0 has a getOrder too).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from seller_inbox.spapi.operation import table
from seller_inbox.spapi.paging import PageCursor, window

LIBRARY_API = "orders2026"

OPERATIONS = table(
    ("searchOrders", "orders/2026-01-01", "GET", "/orders/2026-01-01/orders", 0.0056, 20),
    ("getOrder2026", "orders/2026-01-01", "GET", "/orders/2026-01-01/orders/{orderId}", 0.5, 30),
)


class Orders2026:
    """Client mixin: the Orders 2026-01-01 calls."""

    def search_orders(self, marketplace_ids: list[str] | None = None, *, last_updated_after: datetime | None = None,
                      last_updated_before: datetime | None = None, created_after: datetime | None = None,
                      created_before: datetime | None = None, included_data: list[str] | None = None,
                      max_per_page: int = 100, on_page: Callable[[int, int], None] | None = None,
                   cursor: PageCursor | None = None) -> Iterator[dict]:
        """Yield every order of the window (searchOrders, following pagination.nextToken to the
        last page); ``on_page`` and the end of iteration as in ``get_orders``."""
        mids = list(marketplace_ids or self._marketplace_ids or [])
        params: dict[str, Any] = {"marketplaceIds": mids, "maxResultsPerPage": max_per_page}
        if included_data:
            params["includedData"] = list(included_data)
        params.update(window(("lastUpdatedAfter", "lastUpdatedBefore", "createdAfter", "createdBefore"),
                             last_updated_after, last_updated_before, created_after, created_before))

        def request(token: str | None) -> Callable[[Any], Any]:
            # 2026-01-01: every other parameter must come again, unchanged, with paginationToken
            kw = dict(params, paginationToken=token) if token else dict(params)
            return lambda c: c.search_orders(**kw)

        return self._paged("searchOrders", LIBRARY_API, request, "orders", on_page, cursor)

    def get_order_2026(self, order_id: str, included_data: list[str] | None = None) -> dict:
        kw = {"includedData": list(included_data)} if included_data else {}
        return self.call("getOrder2026", lambda c: c.get_order(order_id, **kw), api=LIBRARY_API).payload.get("order")
