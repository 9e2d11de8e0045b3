"""The SP-API client (hook) against the simulator: buckets, 429s, retries, final errors, call log."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from seller_inbox_dev.sandbox.data import generate_orders
from seller_inbox.spapi import (
    OPERATIONS,
    AccessDenied,
    SpApiNotFound,
    SpApiRequestError,
    SpApiUnavailable,
    token_cache,
    token_cache_size,
)
from seller_inbox.spapi.hook import SpApiHook, store_client
from tests.integration.conftest_spapi import past_window, rows, set_conn, stores  # noqa: F401

SELLER = "A2DEMOEUHOME"
DE = "A1PA6795UKMFR9"
# slower than the other modules' scale: timing assertions stay robust on a loaded machine
TIME_SCALE = 50.0


@pytest.fixture(scope="module")
def sandbox():
    from seller_inbox_dev.sandbox.server import start

    h = start(time_scale=TIME_SCALE, orders_per_day=12)
    yield h
    h.stop()


def some_orders(sandbox, n: int, seller: str = SELLER):
    start, end = past_window(days=3)
    out = generate_orders(seller, start, end, sandbox.state.config.seed,
                          orders_per_day=sandbox.state.config.orders_per_day)
    return out[:n]


def hook(store, dsn):
    return store_client(store, dsn)


def lwa_token(sandbox, seller: str) -> str:
    r = httpx.post(sandbox.lwa_url, data={"grant_type": "refresh_token", "refresh_token": f"Atzr|sandbox-{seller}",
                                          "client_id": "sandbox-client", "client_secret": "sandbox-secret"})
    return r.json()["access_token"]


def test_raw_burst_is_throttled_but_the_client_is_not(sandbox, stores, db, warehouse_dsn):
    orders = some_orders(sandbox, 30)
    op = OPERATIONS["getOrderItems"]
    rate = op.rate * TIME_SCALE                                       # 25/s here, 0.5/s at Amazon
    n = 2 * op.burst + 30
    # a naive client: bursting past the bucket gets 429 (without the rate header)
    tok = lwa_token(sandbox, SELLER)
    with httpx.Client(base_url=sandbox.url, headers={"x-amz-access-token": tok}) as c:
        codes = [c.get(f"/orders/v0/orders/{orders[i % 30].amazon_order_id}/orderItems") for i in range(n)]
    assert sum(r.status_code == 429 for r in codes) > 0
    assert all("x-amzn-RateLimit-Limit" not in r.headers for r in codes if r.status_code == 429)
    assert all(r.headers["x-amzn-RateLimit-Limit"] == f"{rate:g}" for r in codes if r.status_code == 200)

    # the project's client, same work for another seller (fresh bucket): no 429, near the minimum time
    store = stores["jp-gadgets"]
    jp = some_orders(sandbox, 30, "A3DEMOJPGADGETS")
    h = hook(store, warehouse_dsn)
    h.get_order_items(jp[0].amazon_order_id)                           # LWA + first call
    t0 = time.monotonic()
    for i in range(n - 1):
        h.get_order_items(jp[(i + 1) % 30].amazon_order_id)
    elapsed = time.monotonic() - t0
    h.close()
    assert sandbox.state.stat(seller_id="A3DEMOJPGADGETS", status=429) == 0
    assert rows(db, "SELECT count(*) FROM ops.api_calls WHERE store_id = 'jp-gadgets' AND outcome <> 'ok'") == [(0,)]
    minimum = (n - op.burst) / rate
    assert elapsed >= minimum * 0.9
    # a guard against gross regressions only (a loaded CI box is slower); the benchmark prints the real ratio
    assert minimum / elapsed >= 0.5, (minimum, elapsed)


def test_two_tasks_of_one_store_share_its_bucket(sandbox, stores, db, warehouse_dsn):
    store = stores["eu-home"]
    orders = some_orders(sandbox, 20)
    op = OPERATIONS["getOrderItems"]
    errors: list[Exception] = []

    def task():
        h = hook(store, warehouse_dsn)
        try:
            for o in orders * 2:
                h.get_order_items(o.amazon_order_id)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            h.close()

    threads = [threading.Thread(target=task) for _ in range(3)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    assert not errors
    assert sandbox.state.stat(seller_id=SELLER, status=429) == 0
    assert sandbox.state.stat(seller_id=SELLER, operation="getOrderItems", status=200) == 120
    # together they kept to one bucket: at least the time the shared plan needs
    assert elapsed >= (120 - op.burst) / (op.rate * TIME_SCALE) * 0.9


def test_5xx_and_429_storms_are_retried_with_every_attempt_logged(sandbox, stores, db, warehouse_dsn):
    store = stores["eu-home"]
    o = some_orders(sandbox, 1)[0]
    sandbox.state.faults.add("error", SELLER, "getOrder", status=500, count=2)
    sandbox.state.faults.add("error", SELLER, "getOrder", status=503, count=1)
    sandbox.state.faults.add("throttle", SELLER, "getOrder", count=2)
    h = hook(store, warehouse_dsn)
    assert h.get_order(o.amazon_order_id)["AmazonOrderId"] == o.amazon_order_id
    h.close()
    got = rows(db, "SELECT attempt, status, outcome FROM ops.api_calls WHERE operation = 'getOrder' ORDER BY id")
    assert [g[1:] for g in got] == [(500, "retry"), (500, "retry"), (503, "retry"), (429, "throttled"),
                                    (429, "throttled"), (200, "ok")]
    assert [g[0] for g in got] == [1, 2, 3, 4, 5, 6]


def test_timeouts_are_retried(sandbox, stores, db, warehouse_dsn, monkeypatch):
    store = stores["eu-home"]
    set_conn(monkeypatch, sandbox, store, timeout=0.3)
    o = some_orders(sandbox, 1)[0]
    sandbox.state.faults.add("timeout", SELLER, "getOrderItems", delay=0.8, count=1)
    h = hook(store, warehouse_dsn)
    assert h.get_order_items(o.amazon_order_id)[0]["ASIN"] == o.items[0].asin
    h.close()
    assert [r[0] for r in rows(db, "SELECT outcome FROM ops.api_calls WHERE operation = 'getOrderItems' "
                                   "ORDER BY id")] == ["retry", "ok"]


def test_bounded_retries_end_with_a_clear_error(sandbox, stores, db, warehouse_dsn, monkeypatch):
    store = stores["eu-home"]
    set_conn(monkeypatch, sandbox, store, max_attempts=3)
    o = some_orders(sandbox, 1)[0]
    sandbox.state.faults.add("error", SELLER, "getOrder", status=503)
    h = hook(store, warehouse_dsn)
    with pytest.raises(SpApiUnavailable, match="eu-home.*getOrder.*3 attempts"):
        h.get_order(o.amazon_order_id)
    h.close()
    assert rows(db, "SELECT count(*) FROM ops.api_calls WHERE operation = 'getOrder'") == [(3,)]


def test_messages_are_never_resent_after_a_5xx(sandbox, stores, db, warehouse_dsn):
    store = stores["eu-home"]
    o = next(x for x in some_orders(sandbox, 40) if x.marketplace == "DE" and x.order_status == "Shipped")
    sandbox.state.faults.add("error", SELLER, "createUnexpectedProblem", status=500, count=1)
    h = hook(store, warehouse_dsn)
    with pytest.raises(SpApiUnavailable, match="not retried"):
        h.send_message("unexpectedProblem", o.amazon_order_id, DE, text="Your parcel is delayed by a day.")
    assert sandbox.state.stat(operation="createUnexpectedProblem") == 1
    # a 429 is safe to retry: Amazon did not take the message
    sandbox.state.faults.add("throttle", SELLER, "createUnexpectedProblem", count=1)
    h.send_message("unexpectedProblem", o.amazon_order_id, DE, text="Your parcel is delayed by a day.")
    h.close()
    sent = [m for m in sandbox.state.mutations(SELLER) if m["type"] == "message"]
    assert len(sent) == 1 and sent[0]["amazon_order_id"] == o.amazon_order_id


def test_final_errors_are_not_retried(sandbox, stores, db, warehouse_dsn):
    store = stores["eu-home"]
    h = hook(store, warehouse_dsn)
    with pytest.raises(SpApiNotFound, match="eu-home"):
        h.get_order("302-0000000-0000000")
    o = next(x for x in some_orders(sandbox, 40) if x.marketplace == "DE")
    with pytest.raises(SpApiRequestError, match="400"):
        h.get_messaging_actions(o.amazon_order_id, "A13V1IB3VIYZZH")   # wrong marketplace for that order
    with pytest.raises(AccessDenied, match="eu-home"):
        h.call("getOrderBuyerInfo", lambda c: c.get_order_buyer_info(o.amazon_order_id), api="orders")
    h.close()
    outcomes = rows(db, "SELECT operation, outcome, count(*) FROM ops.api_calls WHERE operation <> 'lwaToken' "
                        "GROUP BY 1, 2 ORDER BY 1, 2")
    # one error each; the 403 had one fresh-token retry before it was final
    assert outcomes == [("getMessagingActionsForOrder", "error", 1), ("getOrder", "error", 1),
                        ("getOrderBuyerInfo", "error", 1), ("getOrderBuyerInfo", "retry", 1)]


def test_token_cache_serves_many_stores(sandbox, stores, db, warehouse_dsn, monkeypatch):
    assert token_cache_size() >= 1000
    token_cache().clear()
    for s in stores.values():
        h = hook(s, warehouse_dsn)
        for o in some_orders(sandbox, 5, s.seller_id):
            h.get_order(o.amazon_order_id)
        h.close()
    assert sandbox.state.stat(operation="lwa") == 3   # one LWA exchange per store, then the cache


def test_test_connection(sandbox, stores, db, warehouse_dsn):
    ok, msg = hook(stores["us-outdoor"], warehouse_dsn).test_connection()
    assert ok and "LWA token OK" in msg
    # the Airflow way: the connection's hook (Admin > Connections > Test), get_conn() is the client
    from airflow.sdk import BaseHook

    airflow_hook = BaseHook.get_connection(stores["us-outdoor"].connections.spapi).get_hook()
    assert isinstance(airflow_hook, SpApiHook) and isinstance(airflow_hook, BaseHook)
    assert airflow_hook.test_connection()[0] and airflow_hook.get_conn().store_id == stores["us-outdoor"].connections.spapi
    sandbox.state.revoke("A1DEMOUSOUTDOOR")
    ok, msg = hook(stores["us-outdoor"], warehouse_dsn).test_connection()
    assert not ok and "revoked" in msg and "us-outdoor" in msg


def test_a_demo_run_starts_with_full_buckets_like_its_fresh_simulator(db, warehouse_dsn):
    from seller_inbox import warehouse
    from seller_inbox.spapi import PgBuckets
    from seller_inbox_dev.demo.run import fresh_buckets

    conn = warehouse.connect(warehouse_dsn, autocommit=True)
    b = PgBuckets(lambda: conn)
    waits = [b.reserve(s, "searchOrders", 0.0056, 20) for s in ("demo-a", "other") for _ in range(21)]
    assert waits[20] > 100 and waits[41] > 100  # both drained: the next call waits minutes
    assert fresh_buckets(warehouse_dsn, ["demo-a"]) == 1
    assert b.reserve("demo-a", "searchOrders", 0.0056, 20) == 0  # full again
    assert b.reserve("other", "searchOrders", 0.0056, 20) > 100  # another store's state is untouched
    conn.close()
