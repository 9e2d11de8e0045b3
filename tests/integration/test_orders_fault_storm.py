"""A 30-day orders backfill for three stores under a fault storm (5xx and 429 on ~30% of calls)
loads exactly what a clean run loads; the clean run itself sees no 429."""

from __future__ import annotations

import threading
from datetime import timedelta

from seller_inbox.orders import ingest_orders
import pytest

from tests.integration.conftest_spapi import TIME_SCALE, past_window, rows, stores  # noqa: F401

DAYS = 30


@pytest.fixture(scope="module")
def sandbox():
    """A lighter order volume (6 a day per store) keeps 2 x 30 days x 3 stores quick."""
    from seller_inbox_dev.sandbox.server import start

    h = start(time_scale=TIME_SCALE, orders_per_day=6, fault_seed=7)
    yield h
    h.stop()
SNAPSHOT_ORDERS = """SELECT amazon_order_id, store_id, marketplace, order_status, fulfillment_channel, purchase_date,
    last_update_date, earliest_ship_date, latest_ship_date, earliest_delivery_date, latest_delivery_date,
    order_total, currency, items_shipped, items_unshipped FROM raw.orders ORDER BY 1"""
SNAPSHOT_ITEMS = "SELECT * FROM raw.order_items ORDER BY 1, 2"


def backfill(stores, dsn) -> dict:
    start, _ = past_window(days=DAYS)
    results: dict = {}
    errors: list = []

    def run(store):
        try:
            for d in range(DAYS):
                lo = start + timedelta(days=d)
                res = ingest_orders(store, dsn, lo, lo + timedelta(days=1))
                results.setdefault(store.id, []).append(res)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in stores.values()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


def outcomes(db) -> dict:
    return dict(rows(db, "SELECT outcome, count(*) FROM ops.api_calls GROUP BY 1"))


def test_fault_storm_backfill_loads_exactly_the_clean_result(sandbox, stores, db, warehouse_dsn):
    backfill(stores, warehouse_dsn)
    clean_orders = rows(db, SNAPSHOT_ORDERS)
    clean_items = rows(db, SNAPSHOT_ITEMS)
    clean_calls = outcomes(db)
    assert len(clean_orders) > 3 * DAYS * 4
    assert {r[1] for r in clean_orders} == {"us-outdoor", "eu-home", "jp-gadgets"}
    assert set(clean_calls) == {"ok"}                      # a normal run: no 429, no retry
    assert sandbox.state.stat(status=429) == 0

    with db.cursor() as cur:
        cur.execute("TRUNCATE raw.orders, raw.order_items, ops.orders_window, ops.api_calls CASCADE")
    for status in (500, 503):
        sandbox.state.faults.add("error", probability=0.112, status=status)
    sandbox.state.faults.add("throttle", probability=0.112)

    backfill(stores, warehouse_dsn)

    assert rows(db, SNAPSHOT_ORDERS) == clean_orders
    assert rows(db, SNAPSHOT_ITEMS) == clean_items
    storm = outcomes(db)
    total = sum(storm.values())
    bad = storm.get("retry", 0) + storm.get("throttled", 0)
    assert storm.get("error", 0) == 0
    assert 0.2 < bad / total < 0.4, storm                  # the storm really hit ~30% of calls
    assert sandbox.state.stat(status=500) > 0 and sandbox.state.stat(status=503) > 0
    assert sandbox.state.stat(status=429) > 0
