"""Orders ingestion against the real simulator over HTTP and a real PostgreSQL."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from seller_inbox.orders import ingest_orders
from seller_inbox_dev.sandbox.data import MAX_UPDATE_LAG, generate_orders
from tests.integration.conftest_spapi import past_window, rows, sandbox, stores  # noqa: F401 (fixtures)

UTC = timezone.utc


def expected(sandbox, seller_id: str, start: datetime, end: datetime):
    now = datetime.now(UTC)
    out = generate_orders(seller_id, start - MAX_UPDATE_LAG, end + timedelta(seconds=1),
                          sandbox.state.config.seed, as_of=now, orders_per_day=sandbox.state.config.orders_per_day)
    return {o.amazon_order_id: o for o in out if start <= o.last_update_date <= end}


def test_window_loads_exactly_the_orders_changed_in_it(sandbox, stores, db, warehouse_dsn):
    store = stores["eu-home"]
    start, end = past_window(days=10)
    want = expected(sandbox, store.seller_id, start, end)
    assert len(want) > 100  # more than one page of getOrders

    res = ingest_orders(store, warehouse_dsn, start, end)

    assert res["orders"] == res["new_orders"] == len(want)
    assert res["pages"] >= 2
    got = {r[0]: r for r in rows(db, """
        SELECT amazon_order_id, store_id, marketplace, order_status, fulfillment_channel, purchase_date,
               last_update_date, latest_delivery_date, order_total, currency, marketplace_id
        FROM raw.orders""")}
    assert set(got) == set(want)
    for oid, o in want.items():
        g = got[oid]
        assert g[1] == "eu-home" and g[2] == o.marketplace and g[3] == o.order_status
        assert g[4] == o.fulfillment_channel and g[5] == o.purchase_date and g[6] == o.last_update_date
        assert g[7] == o.latest_delivery_date and g[10] == o.marketplace_id
        if o.order_status == "Shipped":
            assert g[8] == o.order_total and g[9] == o.currency
    items = rows(db, "SELECT amazon_order_id, asin, seller_sku, quantity, title FROM raw.order_items")
    want_items = {(oid, i.asin, i.seller_sku, i.quantity, i.title) for oid, o in want.items() for i in o.items}
    assert set(items) == want_items and len(items) == len(want_items)
    assert {r[0] for r in rows(db, "SELECT DISTINCT marketplace FROM raw.orders")} == {"DE", "FR", "IT", "ES"}
    # no buyer personal data anywhere in the raw order tables
    dump = str(rows(db, "SELECT o.*, i.* FROM raw.orders o JOIN raw.order_items i USING (amazon_order_id)"))
    for o in list(want.values())[:50]:
        assert o.buyer.buyer_name not in dump and o.buyer.buyer_email not in dump
    assert "@" not in dump
    # every call logged, none throttled
    calls = rows(db, "SELECT operation, outcome, count(*) FROM ops.api_calls WHERE store_id = 'eu-home' "
                     "GROUP BY 1, 2")
    assert dict(((op, oc), n) for op, oc, n in calls)[("getOrderItems", "ok")] == len(want)
    assert all(oc == "ok" for _, oc, _ in calls)
    assert rows(db, "SELECT orders, pages FROM ops.orders_window WHERE store_id = 'eu-home'") == [
        (len(want), res["pages"])]


def test_rerun_changes_nothing_and_costs_no_item_calls(sandbox, stores, db, warehouse_dsn):
    store = stores["jp-gadgets"]
    start, end = past_window(days=3)
    first = ingest_orders(store, warehouse_dsn, start, end)
    snap = rows(db, "SELECT * FROM raw.orders ORDER BY 1")
    snap_items = rows(db, "SELECT * FROM raw.order_items ORDER BY 1, 2")
    second = ingest_orders(store, warehouse_dsn, start, end)
    assert first["new_orders"] > 20
    assert second["new_orders"] == second["updated_orders"] == second["item_calls"] == 0
    assert second["unchanged_orders"] == first["orders"]
    assert rows(db, "SELECT * FROM raw.orders ORDER BY 1") == snap
    assert rows(db, "SELECT * FROM raw.order_items ORDER BY 1, 2") == snap_items


def test_daily_backfill_equals_one_big_window(sandbox, stores, db, warehouse_dsn):
    store = stores["us-outdoor"]
    start, end = past_window(days=4)
    ingest_orders(store, warehouse_dsn, start, end)
    big = rows(db, "SELECT amazon_order_id, order_status, last_update_date FROM raw.orders ORDER BY 1")
    db.cursor().execute("TRUNCATE raw.orders CASCADE")
    day = start
    while day < end:
        ingest_orders(store, warehouse_dsn, day, day + timedelta(days=1))
        day += timedelta(days=1)
    assert rows(db, "SELECT amazon_order_id, order_status, last_update_date FROM raw.orders ORDER BY 1") == big


def test_fresh_window_respects_the_two_minute_limit(sandbox, stores, db, warehouse_dsn):
    store = stores["us-outdoor"]
    now = datetime.now(UTC)
    t0 = time.monotonic()
    res = ingest_orders(store, warehouse_dsn, now - timedelta(hours=6), now, max_wait=0)
    assert time.monotonic() - t0 < 20
    loaded_until = datetime.fromisoformat(res["loaded_until"])
    assert now - timedelta(minutes=3) < loaded_until <= now - timedelta(minutes=2)
    # the simulator refused nothing (a LastUpdatedBefore fresher than 2 minutes is a 400)
    assert sandbox.state.stat(seller_id=store.seller_id, status=400) == 0
    assert res["orders"] == len(rows(db, "SELECT 1 FROM raw.orders"))
    # a window wholly in the future is reported, not fetched
    future = ingest_orders(store, warehouse_dsn, now + timedelta(hours=1), now + timedelta(hours=2), max_wait=0)
    assert future["orders"] == 0 and future["loaded_until"] is None


def test_window_end_before_start_is_refused(stores, warehouse_dsn):
    start, end = past_window(days=1)
    with pytest.raises(ValueError, match="eu-home"):
        ingest_orders(stores["eu-home"], warehouse_dsn, end, start)


def test_orders_2026_path_loads_the_same_orders_with_far_fewer_calls(sandbox, stores, db, warehouse_dsn):
    store = stores["eu-home"]
    start, end = past_window(days=10)   # more than one page on both APIs
    v0 = ingest_orders(store, warehouse_dsn, start, end, orders_api="v0")
    cols = ("amazon_order_id, store_id, marketplace, marketplace_id, order_status, fulfillment_channel, "
            "purchase_date, last_update_date, earliest_ship_date, latest_ship_date, earliest_delivery_date, "
            "latest_delivery_date, currency, items_shipped, is_prime, is_business_order")
    want = rows(db, f"SELECT {cols} FROM raw.orders ORDER BY 1")
    want_totals = rows(db, "SELECT amazon_order_id, order_total FROM raw.orders WHERE order_status = 'Shipped' "
                           "ORDER BY 1")
    want_items = rows(db, "SELECT amazon_order_id, order_item_id, asin, seller_sku, title, quantity, "
                          "quantity_shipped, item_price FROM raw.order_items ORDER BY 1, 2")
    with db.cursor() as cur:
        cur.execute("TRUNCATE raw.orders, raw.order_items, ops.api_calls CASCADE")
    new = ingest_orders(store, warehouse_dsn, start, end, orders_api="2026-01-01")
    assert new["orders"] == v0["orders"] > 100 and new["item_calls"] == 0 and new["orders_api"] == "2026-01-01"
    assert new["pages"] == v0["pages"] >= 2
    assert rows(db, f"SELECT {cols} FROM raw.orders ORDER BY 1") == want
    assert rows(db, "SELECT amazon_order_id, order_total FROM raw.orders WHERE order_status = 'Shipped' "
                    "ORDER BY 1") == want_totals
    assert rows(db, "SELECT amazon_order_id, order_item_id, asin, seller_sku, title, quantity, quantity_shipped, "
                    "item_price FROM raw.order_items ORDER BY 1, 2") == want_items
    assert rows(db, "SELECT operation, count(*) FROM ops.api_calls WHERE operation <> 'lwaToken' GROUP BY 1") == [
        ("searchOrders", new["pages"])]


def test_pinned_data_clock_makes_recent_orders_reproducible():
    from seller_inbox_dev.sandbox.server import start

    pin = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(hours=6)
    with start(time_scale=200, orders_per_day=12, as_of=pin) as sim:
        import httpx
        tok = httpx.post(sim.lwa_url, data={"grant_type": "refresh_token", "refresh_token": "Atzr|sandbox-A3DEMOJPGADGETS",
                                            "client_id": "sandbox-client", "client_secret": "sandbox-secret"}).json()
        r = httpx.get(sim.url + "/orders/v0/orders", headers={"x-amz-access-token": tok["access_token"]}, params={
            "MarketplaceIds": "A1VC38T7YXB528", "CreatedAfter": (pin - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")})
        got = r.json()["payload"]["Orders"]
    # two days before the pin: one day held no order shipped by then on some dates (e.g. 2026-10-31)
    want = generate_orders("A3DEMOJPGADGETS", pin - timedelta(days=2), pin, 42, as_of=pin, orders_per_day=12)
    assert [(o["AmazonOrderId"], o["OrderStatus"], o["LastUpdateDate"]) for o in got] == [
        (o.amazon_order_id, o.order_status, o.last_update_date.strftime("%Y-%m-%dT%H:%M:%SZ")) for o in want]
    assert {o["OrderStatus"] for o in got} > {"Shipped"}          # some still pending/unshipped as of the pin
