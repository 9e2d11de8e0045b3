"""Orders API v0: getOrders (windows, NextToken paging), getOrder, getOrderItems.

Usage plans from the model ``ordersV0.json`` (selling-partner-api-models); see docs/spapi.md
for how to add an operation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from seller_inbox.spapi.operation import table
from seller_inbox.spapi.paging import PageCursor, window

LIBRARY_API = "orders"
ORDERS_FRESHNESS = timedelta(minutes=2)     # Orders API data reaches only about two minutes before now

_ORDER = "/orders/v0/orders/{orderId}"
OPERATIONS = table(
    ("getOrders", "orders/v0", "GET", "/orders/v0/orders", 0.0167, 20),
    ("getOrder", "orders/v0", "GET", _ORDER, 0.5, 30),
    ("getOrderBuyerInfo", "orders/v0", "GET", _ORDER + "/buyerInfo", 0.5, 30),
    ("getOrderAddress", "orders/v0", "GET", _ORDER + "/address", 0.5, 30),
    ("getOrderItems", "orders/v0", "GET", _ORDER + "/orderItems", 0.5, 30),
    ("getOrderItemsBuyerInfo", "orders/v0", "GET", _ORDER + "/orderItems/buyerInfo", 0.5, 30),
)


class OrdersV0:
    """Client mixin: the Orders v0 calls (``self.call`` is the client core's)."""

    def get_orders(self, marketplace_ids: list[str] | None = None, *, last_updated_after: datetime | None = None,
                   last_updated_before: datetime | None = None, created_after: datetime | None = None,
                   created_before: datetime | None = None, max_per_page: int = 100,
                   on_page: Callable[[int, int], None] | None = None,
                   cursor: PageCursor | None = None) -> Iterator[dict]:
        """Yield every order of the window (getOrders, following NextToken to the last page).

        ``on_page(page_number, orders_on_page)`` is called as each page arrives; the iterator
        ends normally only after the last page (no NextToken), so a caller that reaches its
        end has read the whole window."""
        mids = list(marketplace_ids or self._marketplace_ids or [])
        params: dict[str, Any] = {"MarketplaceIds": ",".join(mids), "MaxResultsPerPage": max_per_page}
        params.update(window(("LastUpdatedAfter", "LastUpdatedBefore", "CreatedAfter", "CreatedBefore"),
                             last_updated_after, last_updated_before, created_after, created_before))

        def request(token: str | None) -> Callable[[Any], Any]:
            # v0: a NextToken request carries only the token (it keeps the filters) and the
            # required MarketplaceIds
            kw = {"NextToken": token, "MarketplaceIds": params["MarketplaceIds"]} if token else dict(params)
            return lambda c: c.get_orders(**kw)

        return self._paged("getOrders", LIBRARY_API, request, "Orders", on_page, cursor)

    def get_order(self, order_id: str) -> dict:
        return self.call("getOrder", lambda c: c.get_order(order_id), api=LIBRARY_API).payload

    def get_order_items(self, order_id: str) -> list[dict]:
        items: list[dict] = []
        next_token = None
        while True:
            kw = {"NextToken": next_token} if next_token else {}
            res = self.call("getOrderItems", lambda c, kw=kw: c.get_order_items(order_id, **kw), api=LIBRARY_API)
            items += (res.payload or {}).get("OrderItems", [])
            next_token = (res.payload or {}).get("NextToken")
            if not next_token:
                return items
