"""Orders ingestion: the orders changed in a run's data interval, loaded idempotently.

``ingest_orders`` asks getOrders for ``LastUpdatedAfter = start`` / ``LastUpdatedBefore = end``
(both inclusive at Amazon, so a boundary order may come twice: the upsert makes that
harmless), pages with NextToken, fetches each new order's items with getOrderItems and
upserts ``raw.orders`` / ``raw.order_items`` on the order id (this module is the only writer of
``raw.orders``, ``raw.order_items`` and ``raw.order_packages``). No buyer personal data is
requested or stored. An order never moves backwards: an older LastUpdateDate does not
overwrite a newer one (backfills after newer runs are safe).

The Orders API serves data only up to about two minutes before now: a window whose end is
that fresh is waited for (up to ``max_wait`` seconds) or, beyond that, clamped and reported.

Nothing is lost to quiet paging: every page is followed to the last one on both API versions
(``SpApiClient.get_orders`` / ``search_orders``), and the window is recorded in
``ops.orders_window`` only after the last page was read and the loaded orders were counted
against what the API returned (``check_window``). An interrupted read raises and records nothing.

Order facts for templates (carrier, tracking number, ship date, delivery, return window) come
from the packages of merchant-fulfilled orders (Orders 2026-01-01 ``packages``; v0 has no way
to read tracking): the 2026-01-01 read asks for them inline, ``refresh_packages`` follows
packages still on their way (any API version), and ``order_facts`` reads them back.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from seller_inbox.domain import marketplaces as mp
from seller_inbox.gates import GateFailed
from seller_inbox.spapi import AuthorizationRevoked

log = logging.getLogger(__name__)
UTC = timezone.utc
FRESHNESS = timedelta(minutes=2, seconds=5)   # Amazon's 2 minutes plus a little clock slack


def _utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _ts(v: str | None) -> datetime | None:
    if not v:
        return None
    return datetime.fromisoformat(v.replace("Z", "+00:00"))


def _money(m: dict | None) -> tuple[Decimal | None, str | None]:
    if not m or m.get("Amount") in (None, ""):
        return None, (m or {}).get("CurrencyCode")
    return Decimal(str(m["Amount"])), m.get("CurrencyCode")


def order_row(store_id: str, o: dict) -> dict:
    """Map one Orders v0 ``Order`` to a raw.orders row (no buyer data is read)."""
    total, ccy = _money(o.get("OrderTotal"))
    m = mp.BY_ID.get(o.get("MarketplaceId", ""))
    return {
        "amazon_order_id": o["AmazonOrderId"], "store_id": store_id,
        "marketplace": m.code if m else (o.get("MarketplaceId") or "?"),
        "marketplace_id": o.get("MarketplaceId"),
        "order_status": o["OrderStatus"], "fulfillment_channel": o.get("FulfillmentChannel"),
        "purchase_date": _ts(o["PurchaseDate"]), "last_update_date": _ts(o["LastUpdateDate"]),
        "earliest_ship_date": _ts(o.get("EarliestShipDate")), "latest_ship_date": _ts(o.get("LatestShipDate")),
        "earliest_delivery_date": _ts(o.get("EarliestDeliveryDate")),
        "latest_delivery_date": _ts(o.get("LatestDeliveryDate")),
        "order_total": total, "currency": ccy or (m.currency if m else None),
        "items_shipped": o.get("NumberOfItemsShipped"), "items_unshipped": o.get("NumberOfItemsUnshipped"),
        "sales_channel": o.get("SalesChannel"), "ship_service_level": o.get("ShipServiceLevel"),
        "is_prime": o.get("IsPrime"), "is_business_order": o.get("IsBusinessOrder"),
    }


def item_row(order_id: str, it: dict) -> dict:
    price, _ = _money(it.get("ItemPrice"))
    return {"amazon_order_id": order_id, "order_item_id": it["OrderItemId"], "asin": it["ASIN"],
            "seller_sku": it.get("SellerSKU"), "title": it.get("Title"), "quantity": int(it["QuantityOrdered"]),
            "quantity_shipped": it.get("QuantityShipped"), "item_price": price}


_STATUS_2026 = {"PENDING": "Pending", "UNSHIPPED": "Unshipped", "PARTIALLY_SHIPPED": "PartiallyShipped",
                "SHIPPED": "Shipped", "CANCELLED": "Canceled", "UNFULFILLABLE": "Unfulfillable",
                "PENDING_AVAILABILITY": "PendingAvailability"}


def _money_2026(m: dict | None) -> tuple[Decimal | None, str | None]:
    if not m or m.get("amount") in (None, ""):
        return None, (m or {}).get("currencyCode")
    return Decimal(str(m["amount"])), m.get("currencyCode")


def order_row_2026(store_id: str, o: dict) -> tuple[dict, list[dict]]:
    """Map one Orders 2026-01-01 ``Order`` (includedData FULFILLMENT, PROCEEDS) to the same
    raw.orders row and raw.order_items rows as the v0 path; no buyer data is requested."""
    ch = o.get("salesChannel") or {}
    m = mp.BY_ID.get(ch.get("marketplaceId", ""))
    f = o.get("fulfillment")
    if not f:
        raise ValueError(f"store {store_id}: order {o.get('orderId')} came without fulfillment data "
                         f"(searchOrders must be called with includedData=FULFILLMENT)")
    status = _STATUS_2026[f["fulfillmentStatus"]]
    total, ccy = _money_2026((o.get("proceeds") or {}).get("grandTotal"))
    items, shipped, unshipped = [], 0, 0
    for it in o.get("orderItems", []):
        p = it.get("product") or {}
        unit, iccy = _money_2026((p.get("price") or {}).get("unitPrice"))
        q = int(it["quantityOrdered"])
        done = (it.get("fulfillment") or {}).get("quantityFulfilled")
        shipped += done or 0
        unshipped += (it.get("fulfillment") or {}).get("quantityUnfulfilled") or 0
        items.append({"amazon_order_id": o["orderId"], "order_item_id": it["orderItemId"], "asin": p.get("asin"),
                      "seller_sku": p.get("sellerSku"), "title": p.get("title"), "quantity": q,
                      "quantity_shipped": done, "item_price": unit * q if unit is not None else None})
        ccy = ccy or iccy
    ship, deliver = f.get("shipByWindow") or {}, f.get("deliverByWindow") or {}
    programs = o.get("programs") or []
    row = {
        "amazon_order_id": o["orderId"], "store_id": store_id,
        "marketplace": m.code if m else (ch.get("marketplaceId") or "?"), "marketplace_id": ch.get("marketplaceId"),
        "order_status": status,
        "fulfillment_channel": {"AMAZON": "AFN", "MERCHANT": "MFN"}.get(f.get("fulfilledBy") or ""),
        "purchase_date": _ts(o["createdTime"]), "last_update_date": _ts(o["lastUpdatedTime"]),
        "earliest_ship_date": _ts(ship.get("earliestDateTime")), "latest_ship_date": _ts(ship.get("latestDateTime")),
        "earliest_delivery_date": _ts(deliver.get("earliestDateTime")),
        "latest_delivery_date": _ts(deliver.get("latestDateTime")),
        "order_total": total, "currency": ccy or (m.currency if m else None),
        "items_shipped": shipped, "items_unshipped": 0 if status == "Canceled" else unshipped,
        "sales_channel": ch.get("marketplaceName"), "ship_service_level": f.get("fulfillmentServiceLevel"),
        "is_prime": "PRIME" in programs, "is_business_order": "AMAZON_BUSINESS" in programs,
    }
    return row, items


_ORDER_COLS = ("amazon_order_id", "store_id", "marketplace", "marketplace_id", "order_status", "fulfillment_channel",
               "purchase_date", "last_update_date", "earliest_ship_date", "latest_ship_date",
               "earliest_delivery_date", "latest_delivery_date", "order_total", "currency", "items_shipped",
               "items_unshipped", "sales_channel", "ship_service_level", "is_prime", "is_business_order")
_UPSERT_ORDER = (
    f"INSERT INTO raw.orders ({', '.join(_ORDER_COLS)}) VALUES ({', '.join('%(' + c + ')s' for c in _ORDER_COLS)}) "
    "ON CONFLICT (amazon_order_id) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in _ORDER_COLS if c != "amazon_order_id")
    + ", loaded_at = now() WHERE raw.orders.last_update_date < EXCLUDED.last_update_date "
    "RETURNING (xmax = 0) AS inserted"
)
_ITEM_COLS = ("amazon_order_id", "order_item_id", "asin", "seller_sku", "title", "quantity", "quantity_shipped",
              "item_price")
_UPSERT_ITEM = (
    f"INSERT INTO raw.order_items ({', '.join(_ITEM_COLS)}) VALUES ({', '.join('%(' + c + ')s' for c in _ITEM_COLS)}) "
    "ON CONFLICT (amazon_order_id, order_item_id) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in _ITEM_COLS[2:])
)


_PKG_COLS = ("amazon_order_id", "package_reference_id", "store_id", "carrier", "shipping_service", "tracking_number",
             "created_time", "ship_time", "package_status", "detailed_status", "delivered_seen_at")
_PKG_CHANGING = _PKG_COLS[3:10]
# rewritten only when a value changed; delivered_seen_at keeps the first sighting of DELIVERED
_UPSERT_PACKAGE = (
    f"INSERT INTO raw.order_packages ({', '.join(_PKG_COLS)}) "
    f"VALUES ({', '.join('%(' + c + ')s' for c in _PKG_COLS)}) "
    "ON CONFLICT (amazon_order_id, package_reference_id) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in _PKG_CHANGING)
    + ", delivered_seen_at = COALESCE(raw.order_packages.delivered_seen_at, EXCLUDED.delivered_seen_at)"
    ", loaded_at = now() WHERE ("
    + ", ".join(f"raw.order_packages.{c}" for c in _PKG_CHANGING) + ") IS DISTINCT FROM ("
    + ", ".join(f"EXCLUDED.{c}" for c in _PKG_CHANGING) + ") "
    "OR (raw.order_packages.delivered_seen_at IS NULL AND EXCLUDED.delivered_seen_at IS NOT NULL)"
)
# statuses after which a package no longer changes: not asked for again
PACKAGE_FINAL = ("DELIVERED", "CANCELLED")


def package_rows(store_id: str, o: dict, seen_at: datetime) -> list[dict]:
    """Map the ``packages`` of one Orders 2026-01-01 ``Order`` to raw.order_packages rows.
    ``seen_at``: when this answer was read (the first DELIVERED sighting becomes the delivery time)."""
    out = []
    for p in o.get("packages") or []:
        st = p.get("packageStatus") or {}
        out.append({
            "amazon_order_id": o["orderId"], "package_reference_id": str(p["packageReferenceId"]),
            "store_id": store_id, "carrier": p.get("carrier"), "shipping_service": p.get("shippingService"),
            "tracking_number": p.get("trackingNumber"), "created_time": _ts(p.get("createdTime")),
            "ship_time": _ts(p.get("shipTime")), "package_status": st.get("status"),
            "detailed_status": st.get("detailedStatus"),
            "delivered_seen_at": seen_at if st.get("status") == "DELIVERED" else None,
        })
    return out


class OrdersWindowIncomplete(GateFailed):
    """The orders loaded for a window do not add up to what the API returned for it."""


def check_window(store_id: str, start: datetime, end: datetime, api: str, pages: int, page_sizes_sum: int,
                 iterated: int, returned_ids: set[str], loaded: int) -> None:
    """Gate on one window's read: raise ``OrdersWindowIncomplete`` unless it adds up.

    Neither getOrders (v0) nor searchOrders (2026-01-01) returns a total count (their models
    have none), so the API's own figures are the pages themselves: the orders seen must equal
    the sum of the page sizes, and the distinct orders found in ``raw.orders`` for the store
    must equal the distinct order ids returned. The sum of page sizes may exceed the distinct
    ids (an order updated while paging can come twice; the upsert keeps one row).
    """
    problems = []
    if iterated != page_sizes_sum:
        problems.append(f"{iterated} orders read but the {pages} pages held {page_sizes_sum}")
    if loaded != len(returned_ids):
        problems.append(f"expected {len(returned_ids)} distinct orders, {loaded} loaded in raw.orders for the store")
    if problems:
        raise OrdersWindowIncomplete(
            f"store {store_id}: orders window {start.isoformat()} to {end.isoformat()} ({api}) is incomplete: "
            f"{'; '.join(problems)}; it is not marked complete. Rerun the window; if it persists, check "
            f"whether these orders are stored under another store (two stores on one seller account).")


def effective_end(end: datetime, now: datetime | None = None) -> datetime:
    """The latest LastUpdatedBefore the Orders API accepts for ``end`` right now."""
    now = _utc(now or datetime.now(UTC))
    return min(_utc(end), now - FRESHNESS)


def ingest_orders(store: Any, dsn: str, start: datetime, end: datetime, *, client: Any = None,
                  max_wait: float = 180.0, refresh_items: bool = False, orders_api: str | None = None) -> dict:
    """Load the orders of ``store`` last updated in ``[start, end]``; return counts.

    ``client``: an SpApiClient/SpApiHook to use (default: ``SpApiHook`` on the store's
    ``spapi`` connection). ``orders_api``: ``"v0"`` (getOrders, then getOrderItems per new
    order; orders whose items are already stored are not asked again unless
    ``refresh_items``) or ``"2026-01-01"`` (searchOrders, items inline: one call per 100
    orders, far quicker for backfills; v0 is deprecated from 2027-03-27). Default: the
    connection's ``orders_api`` extra, else v0. A revoked authorization met here marks the
    store revoked (``ops.store_auth`` + one alert) before the error propagates.
    """
    from seller_inbox.auth import assert_store_usable

    start, end = _utc(start), _utc(end)
    if end < start:
        raise ValueError(f"store {store.id}: orders window ends ({end}) before it starts ({start})")
    assert_store_usable(store, dsn)
    eff = effective_end(end)
    if eff < end:
        gap = (end - eff).total_seconds()
        if gap <= max_wait:
            log.info("store %s: window end %s is within the Orders API's 2-minute freshness limit; waiting %.0f s",
                     store.id, end.isoformat(), gap)
            time.sleep(gap)
            eff = end
        else:
            log.warning("store %s: window end %s is in the future or too fresh; loading up to %s only",
                        store.id, end.isoformat(), eff.isoformat())
    if eff < start:
        return {"store_id": store.id, "window_start": start.isoformat(), "window_end": end.isoformat(),
                "loaded_until": None, "orders": 0, "new_orders": 0, "updated_orders": 0, "unchanged_orders": 0,
                "items": 0, "pages": 0, "item_calls": 0, "note": "window not yet available from the Orders API"}

    mids = [m.info.marketplace_id for m in store.marketplaces]
    own = client is None
    if own:
        from seller_inbox.spapi.hook import store_client

        client = store_client(store, dsn)
    try:
        return _ingest(store, dsn, start, end, eff, client, mids, refresh_items, orders_api)
    except AuthorizationRevoked as exc:
        from seller_inbox.auth import mark_revoked

        mark_revoked(store, dsn, exc, refresh_token=getattr(client.credentials, "refresh_token", None))
        raise
    finally:
        if own:
            client.close()


def _ingest(store, dsn, start, end, eff, client, mids, refresh_items, orders_api) -> dict:
    """Read the window's orders, upsert them, check and record the window; return the counts.

    A ``TokenWait`` (the bucket asks for a long wait) keeps what was read and loaded in
    ``ops.orders_read`` and propagates: the task is rescheduled and goes on from there."""
    from seller_inbox import orders_read, warehouse
    from seller_inbox.spapi import TokenWait

    api = orders_api or getattr(client.credentials, "orders_api", "v0")
    conn = warehouse.connect(dsn)
    try:
        read = orders_read.load(conn, store.id, start, end, api) or orders_read.OrdersRead(store.id, start, end, eff,
                                                                                           api)
        eff = read.loaded_until
        try:
            _read_orders(store, client, mids, read)
            rows, inline_items, inline_packages = _order_rows(store, api, read.seen)
            counts = _load_orders(conn, client, rows, inline_items, inline_packages, refresh_items)
        except TokenWait:
            orders_read.save(conn, read)
            raise
        _record_window(conn, store, read, len(rows))
    finally:
        conn.close()
    stats = getattr(client, "stats", {})
    return {"store_id": store.id, "window_start": start.isoformat(), "window_end": end.isoformat(),
            "loaded_until": eff.isoformat(), "orders": len(rows), "new_orders": counts["new"],
            "updated_orders": counts["updated"], "unchanged_orders": counts["unchanged"], "items": counts["items"],
            "pages": read.paging["pages"], "item_calls": counts["item_calls"], "orders_api": api,
            "packages": counts["packages"], "attempts": read.attempts,
            "api_throttled": stats.get("throttled", 0), "api_retries": stats.get("retries", 0)}


def _read_orders(store, client, mids: list[str], read) -> None:
    """Read the window's pages into ``read`` (from where an earlier attempt stopped): every order
    the API returns for [start, loaded_until], by order id (paging duplicates collapse to the
    newest version), and the paging figures ``check_window`` counts against."""
    from seller_inbox.spapi import SpApiRequestError

    if read.done:
        return
    try:
        _read_pages(store, client, mids, read)
    except SpApiRequestError as exc:
        if not (read.resumed and read.cursor.token):
            raise
        # Amazon no longer accepts the saved page token (its lifetime is not documented): read the
        # window again from its first page rather than fail
        log.warning("store %s: saved page token for %s rejected (%s); reading the window again",
                    store.id, read.window_start.isoformat(), exc)
        read.restart()
        _read_pages(store, client, mids, read)


def _read_pages(store, client, mids: list[str], read) -> None:
    paging, seen, start, eff = read.paging, read.seen, read.window_start, read.loaded_until

    def on_page(page: int, size: int) -> None:
        paging["pages"] = page
        paging["page_sizes_sum"] += size

    if read.api == "2026-01-01":
        orders = client.search_orders(mids, last_updated_after=start, last_updated_before=eff,
                                      included_data=["FULFILLMENT", "PROCEEDS", "PACKAGES"], on_page=on_page,
                                      cursor=read.cursor)
        id_key, updated_key = "orderId", "lastUpdatedTime"
    elif read.api == "v0":
        orders = client.get_orders(mids, last_updated_after=start, last_updated_before=eff, on_page=on_page,
                                   cursor=read.cursor)
        id_key, updated_key = "AmazonOrderId", "LastUpdateDate"
    else:
        raise ValueError(f"store {store.id}: unknown orders API {read.api!r} (v0 or 2026-01-01)")
    for o in orders:   # ends only after the last page; an interrupted read raises from here
        paging["iterated"] += 1
        prev = seen.get(o[id_key])
        if prev is None or prev[updated_key] <= o[updated_key]:
            seen[o[id_key]] = o   # paging duplicates collapse to the newest version


def _order_rows(store, api: str, seen: dict[str, dict]) -> tuple[list[dict], dict, dict]:
    """The raw.orders rows, and (2026-01-01 only) the items and packages that came inline, by order id."""
    inline_items: dict[str, list[dict]] = {}
    inline_packages: dict[str, list[dict]] = {}
    if api != "2026-01-01":
        return [order_row(store.id, o) for o in seen.values()], inline_items, inline_packages
    from seller_inbox import clock

    seen_at = clock.now()
    rows = []
    for o in seen.values():
        row, its = order_row_2026(store.id, o)
        rows.append(row)
        inline_items[row["amazon_order_id"]] = its
        inline_packages[row["amazon_order_id"]] = package_rows(store.id, o, seen_at)
    return rows, inline_items, inline_packages


def _load_orders(conn, client, rows: list[dict], inline_items: dict, inline_packages: dict,
                 refresh_items: bool) -> dict:
    """Upsert the rows in purchase order, 100 per transaction; v0 orders whose items are not
    stored yet (or all, with ``refresh_items``) get one getOrderItems each. Returns the counts."""
    with conn.cursor() as cur:
        cur.execute("SELECT DISTINCT amazon_order_id FROM raw.order_items WHERE amazon_order_id = ANY(%s)",
                    ([r["amazon_order_id"] for r in rows],))
        have_items = {r[0] for r in cur.fetchall()}
    conn.commit()
    counts = dict.fromkeys(("new", "updated", "unchanged", "items", "item_calls", "packages"), 0)
    batch: list[tuple[dict, list[dict] | None]] = []
    try:
        for row in sorted(rows, key=lambda r: (r["purchase_date"], r["amazon_order_id"])):
            items = inline_items.get(row["amazon_order_id"])
            if items is None and (refresh_items or row["amazon_order_id"] not in have_items):
                items = [item_row(row["amazon_order_id"], it) for it in client.get_order_items(row["amazon_order_id"])]
                counts["item_calls"] += 1
            batch.append((row, items))
            if len(batch) >= 100:
                _upsert_batch(conn, batch, inline_packages, counts)
    finally:   # also when the bucket defers the task: the items already fetched are kept, not asked again
        _upsert_batch(conn, batch, inline_packages, counts)
    return counts


def _upsert_batch(conn, batch: list[tuple[dict, list[dict] | None]], inline_packages: dict, counts: dict) -> None:
    """One transaction: the batch's orders, their items and packages; counts updated; batch emptied."""
    import psycopg2.extras

    with conn, conn.cursor() as cur:
        for row, items in batch:
            cur.execute(_UPSERT_ORDER, row)
            res = cur.fetchone()
            if res is None:
                counts["unchanged"] += 1
            elif res[0]:
                counts["new"] += 1
            else:
                counts["updated"] += 1
            if items:
                psycopg2.extras.execute_batch(cur, _UPSERT_ITEM, items)
                counts["items"] += len(items)
            pkgs = inline_packages.get(row["amazon_order_id"])
            if pkgs:
                psycopg2.extras.execute_batch(cur, _UPSERT_PACKAGE, pkgs)
                counts["packages"] += len(pkgs)
    batch.clear()


def set_aside(cur, store_id: str, keys: list[str]) -> None:
    """Take the store's orders ``keys`` and their items out of ``raw.orders`` / ``raw.order_items``
    (a data-quality gate quarantined them: ``gates.SET_ASIDE``); the caller keeps the transaction."""
    cur.execute("DELETE FROM raw.order_items WHERE amazon_order_id = ANY(%s) AND amazon_order_id IN "
                "(SELECT amazon_order_id FROM raw.orders WHERE store_id = %s)", (keys, store_id))
    cur.execute("DELETE FROM raw.orders WHERE store_id = %s AND amazon_order_id = ANY(%s)", (store_id, keys))


def _record_window(conn, store, read, n_orders: int) -> None:
    """Check the window adds up (``check_window``), then record it in ``ops.orders_window`` (and
    drop its saved read)."""
    from seller_inbox import orders_read

    start, eff, api, paging, seen = read.window_start, read.loaded_until, read.api, read.paging, read.seen
    with conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM raw.orders WHERE store_id = %s AND amazon_order_id = ANY(%s)",
                    (store.id, list(seen)))
        check_window(store.id, start, eff, api, paging["pages"], paging["page_sizes_sum"], paging["iterated"],
                     set(seen), cur.fetchone()[0])
        cur.execute("SELECT count(*) FROM raw.order_items WHERE amazon_order_id = ANY(%s)", (list(seen),))
        items_stored = cur.fetchone()[0]   # the window's state, so a rerun rewrites nothing
        if paging["page_sizes_sum"] > len(seen):
            log.warning("store %s: %d orders came more than once while paging %s to %s (kept the newest)",
                        store.id, paging["page_sizes_sum"] - len(seen), start.isoformat(), eff.isoformat())
        cur.execute(
            "INSERT INTO ops.orders_window (store_id, window_start, window_end, orders, items, pages, "
            "orders_api, orders_returned) VALUES (%s,%s,%s,%s,%s,%s,%s,%s) "
            "ON CONFLICT (store_id, window_start, window_end) DO UPDATE SET "
            "orders = EXCLUDED.orders, items = EXCLUDED.items, pages = EXCLUDED.pages, "
            "orders_api = EXCLUDED.orders_api, orders_returned = EXCLUDED.orders_returned, finished_at = now() "
            "WHERE (ops.orders_window.orders, ops.orders_window.items, ops.orders_window.pages, "
            "ops.orders_window.orders_api, ops.orders_window.orders_returned) IS DISTINCT FROM "
            "(EXCLUDED.orders, EXCLUDED.items, EXCLUDED.pages, EXCLUDED.orders_api, EXCLUDED.orders_returned)",
            (store.id, start, eff, n_orders, items_stored, paging["pages"], api, paging["page_sizes_sum"]))
        orders_read.forget(cur, store.id, start, read.window_end)


def load_referenced_orders(store: Any, dsn: str, order_ids: list[str], *, client: Any = None,
                           limit: int = 60) -> dict:
    """Fetch orders that messages name but no orders window has loaded yet (bought before the
    store was connected, or not updated since). One getOrder per order, rate-limited like every
    call; at most ``limit`` per run so a large backlog spreads over runs instead of stalling one.
    Unknown ids (a buyer's typo, another seller's order) are skipped.
    """
    import psycopg2.extras

    from seller_inbox import warehouse
    from seller_inbox.spapi import SpApiNotFound

    if not order_ids:
        return {"requested": 0, "loaded": 0, "not_found": 0}
    conn = warehouse.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT amazon_order_id FROM raw.orders WHERE amazon_order_id = ANY(%s)", (list(order_ids),))
            have = {r[0] for r in cur.fetchall()}
        conn.commit()
        missing = sorted(set(order_ids) - have)[:limit]
        if not missing:
            return {"requested": 0, "loaded": 0, "not_found": 0}
        own = client is None
        if own:
            from seller_inbox.spapi.hook import store_client

            client = store_client(store, dsn)
        api = getattr(client.credentials, "orders_api", "v0")
        loaded = not_found = 0
        try:
            for oid in missing:
                try:
                    if api == "2026-01-01":
                        row, items = order_row_2026(store.id, client.get_order_2026(oid, ["FULFILLMENT", "PROCEEDS"]))
                    else:
                        row = order_row(store.id, client.get_order(oid))
                        items = [item_row(oid, it) for it in client.get_order_items(oid)]
                except SpApiNotFound:
                    not_found += 1
                    continue
                with conn, conn.cursor() as cur:
                    cur.execute(_UPSERT_ORDER, row)
                    cur.fetchall()
                    if items:
                        psycopg2.extras.execute_batch(cur, _UPSERT_ITEM, items)
                loaded += 1
        finally:
            if own:
                client.close()
    finally:
        conn.close()
    return {"requested": len(missing), "loaded": loaded, "not_found": not_found}


def refresh_packages(store: Any, dsn: str, now: datetime | None = None, *, client: Any = None,
                     limit: int = 200, order_ids: list[str] | None = None) -> dict:
    """Read the packages of the store's shipped merchant-fulfilled orders whose packages may
    still change (none stored yet, or not all delivered), one getOrder (2026-01-01,
    includedData=PACKAGES) each, and upsert them. Works whatever ``orders_api`` the store
    ingests with: v0 cannot read tracking at all.

    Orders more than 30 days past their latest delivery date are left alone (Amazon's messaging
    and review windows are closed by then); at most ``limit`` orders per call, the least recently
    changed first, so a backlog spreads over runs. ``order_ids`` restricts the refresh to these.
    """
    import psycopg2.extras

    from seller_inbox import clock, warehouse
    from seller_inbox.spapi import SpApiNotFound

    now = _utc(now or clock.now())
    conn = warehouse.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                """SELECT o.amazon_order_id FROM raw.orders o
                   LEFT JOIN LATERAL (SELECT max(k.loaded_at) AS checked,
                                             bool_and(k.package_status = ANY(%(final)s)) AS done
                                      FROM raw.order_packages k WHERE k.amazon_order_id = o.amazon_order_id) p ON true
                   WHERE o.store_id = %(s)s AND o.fulfillment_channel = 'MFN'
                     AND o.order_status IN ('Shipped', 'PartiallyShipped')
                     AND COALESCE(o.latest_delivery_date, o.purchase_date) + interval '30 days' >= %(now)s
                     AND o.purchase_date <= %(now)s
                     AND (p.done IS NULL OR NOT p.done)
                     AND (%(ids)s::text[] IS NULL OR o.amazon_order_id = ANY(%(ids)s::text[]))
                   ORDER BY p.checked NULLS FIRST, o.purchase_date, o.amazon_order_id
                   LIMIT %(limit)s""",
                {"s": store.id, "final": list(PACKAGE_FINAL), "now": now, "limit": limit,
                 "ids": list(order_ids) if order_ids is not None else None})
            wanted = [r[0] for r in cur.fetchall()]
        if not wanted:
            return {"checked": 0, "packages": 0, "not_found": 0}
        own = client is None
        if own:
            from seller_inbox.spapi.hook import store_client

            client = store_client(store, dsn)
        n = not_found = 0
        try:
            for oid in wanted:
                try:
                    o = client.get_order_2026(oid, ["PACKAGES"])
                except SpApiNotFound:
                    not_found += 1
                    continue
                rows = package_rows(store.id, o, now)
                if rows:
                    with conn, conn.cursor() as cur:
                        psycopg2.extras.execute_batch(cur, _UPSERT_PACKAGE, rows)
                    n += len(rows)
        finally:
            if own:
                client.close()
    finally:
        conn.close()
    return {"checked": len(wanted), "packages": n, "not_found": not_found}


def order_facts(cur: Any, store_id: str, order_id: str) -> dict | None:
    """What a template may state about one order of the store, from ``core.order_facts``
    (None if the order is not in the warehouse). Keys:

    - ``order_id``, ``marketplace``, ``status`` (v0 spelling: Shipped, Unshipped, Canceled...),
      ``fulfillment_channel`` (AFN = Amazon ships, MFN = the seller ships);
    - ``ship_by`` (latest promised ship time), ``ship_date`` (when the first package was handed
      to the carrier; None for FBA orders and before shipping);
    - ``carrier``, ``tracking_number`` (first package; None for FBA orders, whose tracking Amazon
      shows the buyer itself), ``packages`` (number of packages), ``tracking_numbers`` (all, in
      package order), ``package_status`` (DELIVERED only when every package is);
    - ``delivery_window_start`` / ``delivery_window_end`` (the promised delivery window);
    - ``delivered_at`` (when ingestion first saw every package delivered — no later than the
      true time by one refresh; None while unknown);
    - ``return_window_end`` (30 days after delivery, or after the latest promised delivery while
      the delivery is unknown).

    All times are aware UTC datetimes: convert to the marketplace's zone for display, and
    compare with "now" before calling any of them future (a past window is not a promise).
    """
    cur.execute(
        """SELECT f.amazon_order_id, f.marketplace, f.order_status, f.fulfillment_channel, f.latest_ship_date,
                  f.ship_date, f.carrier, f.tracking_number, COALESCE(f.packages, 0), f.package_status,
                  f.earliest_delivery_date, f.latest_delivery_date, f.delivered_at, f.return_window_end,
                  ARRAY(SELECT k.tracking_number FROM raw.order_packages k
                        WHERE k.amazon_order_id = f.amazon_order_id AND k.tracking_number IS NOT NULL
                        ORDER BY k.package_reference_id)
           FROM core.order_facts f WHERE f.store_id = %s AND f.amazon_order_id = %s""",
        (store_id, order_id))
    r = cur.fetchone()
    if r is None:
        return None
    if isinstance(r, dict):   # a RealDictCursor
        r = tuple(r.values())
    keys = ("order_id", "marketplace", "status", "fulfillment_channel", "ship_by", "ship_date", "carrier",
            "tracking_number", "packages", "package_status", "delivery_window_start", "delivery_window_end",
            "delivered_at", "return_window_end", "tracking_numbers")
    return dict(zip(keys, r))
