"""Order facts (carrier, tracking number, ship date, delivery, return window) from the simulator's
Orders 2026-01-01 packages into raw.order_packages and core.order_facts, on both API versions."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from seller_inbox.orders import ingest_orders, order_facts, refresh_packages
from seller_inbox_dev.sandbox.data import delivery, generate_orders, package_status, packages
from tests.integration.conftest_spapi import past_window, rows, sandbox, stores  # noqa: F401 (fixtures)

UTC = timezone.utc
FACT_KEYS = {"order_id", "marketplace", "status", "fulfillment_channel", "ship_by", "ship_date", "carrier",
             "tracking_number", "packages", "package_status", "delivery_window_start", "delivery_window_end",
             "delivered_at", "return_window_end", "tracking_numbers"}


def sim_orders(sandbox, store, start, end, as_of=None):
    return {o.amazon_order_id: o for o in generate_orders(
        store.seller_id, start - timedelta(days=6), end, sandbox.state.config.seed,
        as_of=as_of or datetime.now(UTC), orders_per_day=sandbox.state.config.orders_per_day)}


def stored_packages(db):
    return {(r[0], r[1]): r[2:] for r in rows(db, """
        SELECT amazon_order_id, package_reference_id, carrier, tracking_number, ship_time, package_status, loaded_at
        FROM raw.order_packages""")}


def test_2026_ingest_stores_the_packages_once(sandbox, stores, db, warehouse_dsn):
    store = stores["eu-home"]
    # ends 5 days back: a late merchant order ships up to ~4.5 days after payment, so with 3 days an
    # order paid in the window could still lack its label or ship time at some hours (scan: 2 packages)
    start, end = past_window(days=4, end_days_ago=5)
    res = ingest_orders(store, warehouse_dsn, start, end, orders_api="2026-01-01")
    assert res["packages"] > 0
    got = stored_packages(db)
    sim = sim_orders(sandbox, store, start, end)
    loaded = {r[0] for r in rows(db, "SELECT amazon_order_id FROM raw.orders")}
    seed = sandbox.state.config.seed
    want = {(oid, p.package_reference_id): (p.carrier, p.tracking_number, p.ship_time)
            for oid in loaded for p in packages(sim[oid], seed)}
    assert want and {k: v[:3] for k, v in got.items()} == want
    # FBA orders have no packages; every package's status is the simulator's at read time
    assert not {oid for oid, _ in got} & {oid for oid in loaded if sim[oid].fulfillment_channel == "AFN"}
    for (oid, ref), v in got.items():
        p = next(x for x in packages(sim[oid], seed) if x.package_reference_id == ref)
        assert v[3] in {package_status(sim[oid], p, datetime.now(UTC) - timedelta(minutes=5), seed)[0],
                        package_status(sim[oid], p, datetime.now(UTC), seed)[0]}
    # a rerun rewrites nothing
    ingest_orders(store, warehouse_dsn, start, end, orders_api="2026-01-01")
    assert stored_packages(db) == got


def test_v0_stores_refresh_packages_through_get_order(sandbox, stores, db, warehouse_dsn):
    store = stores["us-outdoor"]
    start, end = past_window(days=3, end_days_ago=2)
    res = ingest_orders(store, warehouse_dsn, start, end)     # v0: no tracking in that API
    assert res["orders"] > 0 and rows(db, "SELECT count(*) FROM raw.order_packages") == [(0,)]
    mfn_shipped = rows(db, "SELECT count(*) FROM raw.orders WHERE fulfillment_channel = 'MFN' "
                           "AND order_status = 'Shipped'")[0][0]
    assert mfn_shipped > 0
    r1 = refresh_packages(store, warehouse_dsn)
    assert r1["checked"] == mfn_shipped and r1["packages"] >= mfn_shipped
    calls = rows(db, "SELECT count(*) FROM ops.api_calls WHERE operation = 'getOrder2026' AND outcome = 'ok'")[0][0]
    assert calls == mfn_shipped
    # delivered orders are not asked again; the ones still on their way are
    pending = rows(db, """SELECT count(DISTINCT amazon_order_id) FROM raw.order_packages
                          WHERE package_status <> 'DELIVERED'""")[0][0]
    r2 = refresh_packages(store, warehouse_dsn)
    assert r2["checked"] == pending
    # order_ids limits it
    assert refresh_packages(store, warehouse_dsn, order_ids=["111-0000000-0000000"])["checked"] == 0


def test_order_facts_follow_the_package_over_time(sandbox, stores, db, warehouse_dsn):
    store = stores["eu-home"]
    seed = sandbox.state.config.seed
    start, end = past_window(days=3, end_days_ago=9)
    sim = sim_orders(sandbox, store, start, end)
    o = next(x for x in sim.values() if start <= x.last_update_date <= end and x.fulfillment_channel == "MFN"
             and x.order_status == "Shipped" and delivery(x, seed).delivered_at is not None)
    d = delivery(o, seed).delivered_at
    try:
        # the data clock just after shipping: in transit, no delivery yet
        sandbox.state.config.as_of = o.shipped_at + timedelta(hours=2)
        ingest_orders(store, warehouse_dsn, start, end, orders_api="2026-01-01")
        with db.cursor() as cur:
            f = order_facts(cur, store.id, o.amazon_order_id)
        assert set(f) == FACT_KEYS
        p = packages(o, seed)
        assert f["carrier"] == p[0].carrier and f["tracking_number"] == p[0].tracking_number
        assert f["tracking_numbers"] == [x.tracking_number for x in p] and f["packages"] == len(p)
        assert f["ship_date"] == min(x.ship_time for x in p) and f["package_status"] == "IN_TRANSIT"
        assert f["delivered_at"] is None
        assert f["delivery_window_start"] == o.earliest_delivery_date
        assert f["delivery_window_end"] == o.latest_delivery_date
        assert f["return_window_end"] == o.latest_delivery_date + timedelta(days=30)
        # after the delivery: the refresh sees it, and the return window runs from then
        sandbox.state.config.as_of = d + timedelta(hours=3)
        seen = d + timedelta(hours=3)
        assert refresh_packages(store, warehouse_dsn, seen, order_ids=[o.amazon_order_id])["checked"] == 1
        with db.cursor() as cur:
            f = order_facts(cur, store.id, o.amazon_order_id)
        assert f["package_status"] == "DELIVERED" and f["delivered_at"] == seen
        assert f["return_window_end"] == seen + timedelta(days=30)
        # a later sighting does not move the delivery
        refresh_packages(store, warehouse_dsn, seen + timedelta(days=1), order_ids=[o.amazon_order_id])
        with db.cursor() as cur:
            assert order_facts(cur, store.id, o.amazon_order_id)["delivered_at"] == seen
    finally:
        sandbox.state.config.as_of = None
    # an FBA order: windows only; an unknown order: None
    afn = next(x for x in sim.values() if start <= x.last_update_date <= end and x.fulfillment_channel == "AFN")
    with db.cursor() as cur:
        f = order_facts(cur, store.id, afn.amazon_order_id)
        assert f["carrier"] is None and f["tracking_number"] is None and f["ship_date"] is None
        assert f["packages"] == 0 and f["tracking_numbers"] == [] and f["ship_by"] == afn.latest_ship_date
        assert order_facts(cur, store.id, "302-0000000-0000000") is None
        assert order_facts(cur, "us-outdoor", afn.amazon_order_id) is None   # another store's order
