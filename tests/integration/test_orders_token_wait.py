"""A long bucket wait gives the worker slot back and loses nothing (docs/spapi.md, "Waiting for
tokens"): inside ``defer_waits_over`` the client raises ``TokenWait`` instead of sleeping, the
orders read keeps its pages in ``ops.orders_read`` and the next attempt goes on from the page
it stopped at — over the simulator's HTTP API (fast), with the client keeping Amazon's real
rates, and a real PostgreSQL. "Time passing" between attempts is the bucket row refilled.
"""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from seller_inbox.orders import ingest_orders
from seller_inbox.spapi import TokenWait
from seller_inbox.spapi.buckets import defer_waits_over
from seller_inbox_dev.sandbox.data import MAX_UPDATE_LAG
from tests.integration.conftest_spapi import past_window, rows, set_conn, stores  # noqa: F401 (fixtures)

SELLER = "A1DEMOUSOUTDOOR"
STORE = "us-outdoor"


@pytest.fixture(scope="module")
def sandbox():
    from seller_inbox_dev.sandbox.server import start

    h = start(time_scale=1000.0, orders_per_day=12, seller_orders_per_day={SELLER: 330})
    yield h
    h.stop()


def _bucket(db, operation: str, tokens: float, store_id: str = STORE) -> None:
    """Set the store's client-side bucket (as if that much time had passed, or had not)."""
    with db.cursor() as cur:
        cur.execute("INSERT INTO ops.api_bucket (store_id, operation, tokens, updated_at) "
                    "VALUES (%s, %s, %s, clock_timestamp()) ON CONFLICT (store_id, operation) DO UPDATE "
                    "SET tokens = EXCLUDED.tokens, updated_at = EXCLUDED.updated_at", (store_id, operation, tokens))
    db.commit()


def _want(sandbox, start, end, seller: str = SELLER) -> set[str]:
    out = sandbox.state.orders_between(seller, start - MAX_UPDATE_LAG, end + timedelta(seconds=1), end + timedelta(days=30))
    return {o.amazon_order_id for o in out if start <= o.last_update_date <= end}


@pytest.fixture
def real_rates(sandbox, stores, monkeypatch, db):  # noqa: F811
    """us-outdoor's client keeps Amazon's real rates (searchOrders: one call per 3 minutes after
    its burst) while the simulator answers at once; every other store unchanged."""
    set_conn(monkeypatch, sandbox, stores[STORE], rate_scale=1.0, orders_api="2026-01-01")
    with db.cursor() as cur:
        cur.execute("DELETE FROM ops.api_bucket WHERE store_id = %s", (STORE,))
    db.commit()
    return stores[STORE]


def test_a_read_cut_by_a_long_wait_goes_on_from_its_page(sandbox, real_rates, db, warehouse_dsn):
    store = real_rates
    start, end = past_window(days=2)
    want = _want(sandbox, start, end)
    pages = math.ceil(len(want) / 100)
    assert pages >= 5
    _bucket(db, "searchOrders", 3.0)  # three pages now, the fourth a real 3 minutes later

    with defer_waits_over(), pytest.raises(TokenWait) as waited:
        ingest_orders(store, warehouse_dsn, start, end)
    assert waited.value.seconds > 60 and "us-outdoor" in str(waited.value) and "searchOrders" in str(waited.value)
    assert rows(db, "SELECT pages, next_token IS NOT NULL, attempts FROM ops.orders_read") == [(3, True, 1)]
    assert rows(db, "SELECT count(*) FROM ops.orders_window") == [(0,)]   # not complete: not recorded
    assert rows(db, "SELECT outcome, status FROM ops.api_calls WHERE outcome = 'deferred'") == [("deferred", None)]
    # the token it did not use went back: a refill to 3 - 3 + 1 = 1 token, minus nothing more
    assert rows(db, "SELECT round(tokens) FROM ops.api_bucket WHERE operation = 'searchOrders'") == [(0,)]

    _bucket(db, "searchOrders", 18.0)  # the minutes passed
    with defer_waits_over():
        res = ingest_orders(store, warehouse_dsn, start, end)
    assert res["orders"] == len(want) and res["pages"] == pages and res["attempts"] == 2
    # every page was asked for once over both attempts: none read twice, none skipped
    assert sandbox.state.stat(seller_id=SELLER, operation="searchOrders", status=200) == pages
    assert {r[0] for r in rows(db, "SELECT amazon_order_id FROM raw.orders WHERE store_id = %s", STORE)} == want
    assert rows(db, "SELECT orders, pages, orders_returned FROM ops.orders_window") == [(len(want), pages, len(want))]
    assert rows(db, "SELECT count(*) FROM ops.orders_read") == [(0,)]


def test_a_saved_page_token_amazon_no_longer_takes_reads_the_window_again(sandbox, real_rates, db, warehouse_dsn):
    store = real_rates
    start, end = past_window(days=2, end_days_ago=12)
    want = _want(sandbox, start, end)
    _bucket(db, "searchOrders", 2.0)
    with defer_waits_over(), pytest.raises(TokenWait):
        ingest_orders(store, warehouse_dsn, start, end)
    with db.cursor() as cur:   # the token expired meanwhile
        cur.execute("UPDATE ops.orders_read SET next_token = 'expired-token'")
    db.commit()
    _bucket(db, "searchOrders", 18.0)
    with defer_waits_over():
        res = ingest_orders(store, warehouse_dsn, start, end)
    assert res["orders"] == len(want) and res["pages"] == math.ceil(len(want) / 100)
    assert rows(db, "SELECT count(*) FROM ops.orders_read") == [(0,)]


def test_outside_the_deferral_scope_waits_are_slept_as_before(sandbox, stores, monkeypatch, db,  # noqa: F811
                                                              warehouse_dsn):
    store = next(s for s in stores.values() if s.id != STORE)
    set_conn(monkeypatch, sandbox, store, rate_scale=1.0, orders_api="v0")
    start, end = past_window(days=1, end_days_ago=20)
    _bucket(db, "getOrders", 0.9, store.id)   # the next token in 6 s: deferred inside the scope, slept outside
    res = ingest_orders(store, warehouse_dsn, start, end)
    assert res["orders"] == len(_want(sandbox, start, end, store.seller_id)) and res["attempts"] == 1
    assert rows(db, "SELECT count(*) FROM ops.api_calls WHERE outcome = 'deferred'") == [(0,)]
    assert rows(db, "SELECT waited_ms BETWEEN 5000 AND 8000 FROM ops.api_calls WHERE operation = 'getOrders'") == [(True,)]


def test_items_fetched_before_a_deferral_are_kept_and_not_asked_again(sandbox, stores, monkeypatch, db,  # noqa: F811
                                                                        warehouse_dsn):
    store = next(s for s in stores.values() if s.id != STORE)   # an ordinary store: a dozen orders a day
    set_conn(monkeypatch, sandbox, store, rate_scale=1.0, orders_api="v0")
    start, end = past_window(days=4)
    want = _want(sandbox, start, end, store.seller_id)
    assert 30 < len(want) < 56   # more than getOrderItems' burst, less than two
    attempts = 0
    while True:
        attempts += 1
        try:
            with defer_waits_over(1.0):   # getOrderItems waits ~2 s a call once its burst is spent
                res = ingest_orders(store, warehouse_dsn, start, end)
            break
        except TokenWait as wait:
            assert wait.operation == "getOrderItems" and attempts < 4
            _bucket(db, "getOrderItems", 28.0, store.id)   # the minute passed
    assert attempts == 2 and res["orders"] == len(want) and res["attempts"] == 2
    assert sandbox.state.stat(seller_id=store.seller_id, operation="getOrders", status=200) == 1
    # each order's items were asked for once over both attempts
    assert sandbox.state.stat(seller_id=store.seller_id, operation="getOrderItems", status=200) == len(want)
    assert rows(db, "SELECT count(DISTINCT amazon_order_id) FROM raw.order_items") == [(len(want),)]
