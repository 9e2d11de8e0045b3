"""Nothing lost to quiet paging: busy windows (500+ orders) over the simulator's HTTP API on both
Orders API versions, a real PostgreSQL, and windows marked complete only when they are."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from seller_inbox.orders import OrdersWindowIncomplete, check_window, ingest_orders
from seller_inbox_dev.sandbox.data import MAX_UPDATE_LAG
from seller_inbox.spapi import AuthorizationRevoked, SpApiPagingError, SpApiUnavailable, next_page_token
from tests.integration.conftest_spapi import past_window, rows, stores  # noqa: F401 (fixtures)

UTC = timezone.utc
SCALE = 1000.0                 # rate limits x1000: the 600+ getOrderItems calls of v0 take seconds
SELLER = "A1DEMOUSOUTDOOR"     # us-outdoor's seller account, made busy here
BUSY = 330                     # orders a day: a 2-day window holds 600+
APIS = ("v0", "2026-01-01")
OPERATION = {"v0": "getOrders", "2026-01-01": "searchOrders"}


@pytest.fixture(scope="module")
def sandbox():
    from seller_inbox_dev.sandbox.server import start

    h = start(time_scale=SCALE, orders_per_day=12, seller_orders_per_day={SELLER: BUSY})
    yield h
    h.stop()


def simulated_window(sandbox, start: datetime, end: datetime) -> dict:
    """The simulator's own orders last updated in [start, end] (what a complete read must load)."""
    out = sandbox.state.orders_between(SELLER, start - MAX_UPDATE_LAG, end + timedelta(seconds=1),
                                       datetime.now(UTC))
    return {o.amazon_order_id: o for o in out if start <= o.last_update_date <= end}


def window_rows(db) -> list[tuple]:
    return rows(db, "SELECT orders, pages, orders_api, orders_returned, items FROM ops.orders_window "
                    "WHERE store_id = 'us-outdoor'")


@pytest.mark.parametrize("api", APIS)
def test_busy_window_loads_every_order_exactly_once_and_a_rerun_changes_nothing(api, sandbox, stores, db,
                                                                                 warehouse_dsn):
    store = stores["us-outdoor"]
    start, end = past_window(days=2)
    want = simulated_window(sandbox, start, end)
    assert len(want) > 500
    pages = math.ceil(len(want) / 100)

    res = ingest_orders(store, warehouse_dsn, start, end, orders_api=api)

    assert res["orders"] == res["new_orders"] == len(want) and res["pages"] == pages
    got = rows(db, "SELECT amazon_order_id, order_status, last_update_date FROM raw.orders "
                   "WHERE store_id = 'us-outdoor' ORDER BY 1")
    assert got == sorted((oid, o.order_status, o.last_update_date) for oid, o in want.items())
    items = rows(db, "SELECT amazon_order_id, asin, quantity FROM raw.order_items ORDER BY 1, 2")
    assert sorted(items) == sorted((oid, i.asin, i.quantity) for oid, o in want.items() for i in o.items)
    # every page was asked for once, and no more (Amazon's page size: 100, no token on the last)
    assert sandbox.state.stat(seller_id=SELLER, operation=OPERATION[api], status=200) == pages
    n_items = sum(len(o.items) for o in want.values())
    assert window_rows(db) == [(len(want), pages, api, len(want), n_items)]

    snap = [rows(db, q) for q in ("SELECT * FROM raw.orders ORDER BY 1", "SELECT * FROM raw.order_items ORDER BY 1, 2",
                                  "SELECT * FROM ops.orders_window")]
    again = ingest_orders(store, warehouse_dsn, start, end, orders_api=api)
    assert again["unchanged_orders"] == len(want) and again["new_orders"] == again["updated_orders"] == 0
    assert again["pages"] == pages and again["item_calls"] == 0
    assert [rows(db, q) for q in ("SELECT * FROM raw.orders ORDER BY 1", "SELECT * FROM raw.order_items ORDER BY 1, 2",
                                  "SELECT * FROM ops.orders_window")] == snap


@pytest.mark.parametrize("api", APIS)
def test_paging_cut_by_server_errors_does_not_mark_the_window_complete(api, sandbox, stores, db, warehouse_dsn):
    store = stores["us-outdoor"]
    start, end = past_window(days=2)
    # pages 1 and 2 answer, then the API fails for longer than the client retries
    sandbox.state.faults.add("error", SELLER, OPERATION[api], status=500, after=2)
    with pytest.raises(SpApiUnavailable, match="us-outdoor"):
        ingest_orders(store, warehouse_dsn, start, end, orders_api=api)
    assert sandbox.state.stat(seller_id=SELLER, operation=OPERATION[api], status=200) == 2
    assert window_rows(db) == []

    sandbox.state.faults.clear()
    res = ingest_orders(store, warehouse_dsn, start, end, orders_api=api)
    assert window_rows(db) == [(res["orders"], res["pages"], api, res["orders"], res["items"])]
    assert res["orders"] == len(simulated_window(sandbox, start, end))


@pytest.mark.parametrize("api", APIS)
def test_authorization_revoked_mid_paging_does_not_mark_the_window_complete(api, sandbox, stores, db,
                                                                             warehouse_dsn):
    store = stores["us-outdoor"]
    start, end = past_window(days=2)
    sandbox.state.faults.add("revoke", SELLER, OPERATION[api], after=3)
    with pytest.raises(AuthorizationRevoked, match="us-outdoor"):
        ingest_orders(store, warehouse_dsn, start, end, orders_api=api)
    assert sandbox.state.stat(seller_id=SELLER, operation=OPERATION[api], status=200) == 3
    assert window_rows(db) == []
    assert rows(db, "SELECT status FROM ops.store_auth WHERE store_id = 'us-outdoor'") == [("revoked",)]


@pytest.mark.parametrize("api", APIS)
def test_a_repeating_page_token_fails_loudly_instead_of_looping(api, sandbox, stores, db, warehouse_dsn):
    store = stores["us-outdoor"]
    start, end = past_window(days=2)
    # page 3 comes back with the token that asked for it
    sandbox.state.faults.add("repeat_token", SELLER, OPERATION[api], after=1)
    with pytest.raises(SpApiPagingError, match="store us-outdoor: .*already followed"):
        ingest_orders(store, warehouse_dsn, start, end, orders_api=api)
    assert sandbox.state.stat(seller_id=SELLER, operation=OPERATION[api], status=200) == 3
    assert window_rows(db) == []


def test_orders_missing_from_the_warehouse_fail_the_window_gate(sandbox, stores, db, warehouse_dsn):
    store = stores["us-outdoor"]
    start, end = past_window(days=2)
    want = simulated_window(sandbox, start, end)
    # one of the window's orders already stored, newer, under another store (two stores on one
    # seller account): the upsert keeps that row, so us-outdoor is one order short
    oid = sorted(want)[0]
    with db.cursor() as cur:
        cur.execute("INSERT INTO raw.orders (amazon_order_id, store_id, marketplace, order_status, purchase_date, "
                    "last_update_date) VALUES (%s, 'eu-home', 'DE', 'Shipped', now(), now())", (oid,))
    with pytest.raises(OrdersWindowIncomplete) as ei:
        ingest_orders(store, warehouse_dsn, start, end, orders_api="2026-01-01")
    msg = str(ei.value)
    assert msg.startswith("store us-outdoor: orders window " + start.isoformat())
    assert f"expected {len(want)} distinct orders, {len(want) - 1} loaded" in msg and "\n" not in msg
    assert window_rows(db) == []


def test_window_gate_compares_orders_read_with_the_page_sizes():
    start, end = past_window(days=1)
    ids = {f"111-0000000-{n:07d}" for n in range(250)}
    # an order updated while paging comes twice: 251 rows over 3 pages, 250 distinct, all loaded
    check_window("us-outdoor", start, end, "v0", 3, 251, 251, ids, 250)
    with pytest.raises(OrdersWindowIncomplete, match="store us-outdoor: .*249 orders read but the 3 pages held 250"):
        check_window("us-outdoor", start, end, "v0", 3, 250, 249, ids, 250)
    with pytest.raises(OrdersWindowIncomplete, match=r"\(2026-01-01\) is incomplete: expected 250 distinct orders, "
                                                     r"0 loaded"):
        check_window("us-outdoor", start, end, "2026-01-01", 3, 250, 250, ids, 0)


def test_page_token_is_read_wherever_the_library_puts_it():
    """python-amazon-sp-api lifts a 2026-01-01 body's ``pagination`` out of ``payload``."""
    from sp_api.base._core import parse_response

    res = parse_response(httpx.Response(200, json={"orders": [{"orderId": "1"}], "pagination": {"nextToken": "p2"},
                                                    "lastUpdatedBefore": "2026-01-01T00:00:00Z"}), method="GET")
    assert "pagination" not in res.payload and res.payload["orders"] == [{"orderId": "1"}]
    assert next_page_token(res) == "p2"
    v0 = parse_response(httpx.Response(200, json={"payload": {"Orders": [], "NextToken": "n2"}}), method="GET")
    assert next_page_token(v0) == "n2"
    for last in ({"orders": []}, {"payload": {"Orders": []}}):
        assert next_page_token(parse_response(httpx.Response(200, json=last), method="GET")) is None


def token(sandbox) -> str:
    return httpx.post(sandbox.lwa_url, data={"grant_type": "refresh_token", "refresh_token": f"Atzr|sandbox-{SELLER}",
                                             "client_id": "sandbox-client",
                                             "client_secret": "sandbox-secret"}).json()["access_token"]


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("api", APIS)
def test_simulator_pages_like_amazon(api, sandbox):
    """Default page size 100; a token only while more orders remain, so a window of exactly 200
    orders is two full pages and no third call."""
    sandbox.state.reset()
    start, end = past_window(days=2)
    created = sorted(sandbox.state.orders_between(SELLER, start, end, datetime.now(UTC)),
                     key=lambda o: (o.purchase_date, o.amazon_order_id))
    # a created-window holding exactly 200 orders (purchase times are whole seconds)
    lo, hi = created[0].purchase_date, created[199].purchase_date
    assert created[200].purchase_date > hi
    names = {"v0": ("/orders/v0/orders", "MarketplaceIds", "CreatedAfter", "CreatedBefore", "MaxResultsPerPage"),
             "2026-01-01": ("/orders/2026-01-01/orders", "marketplaceIds", "createdAfter", "createdBefore",
                            "maxResultsPerPage")}[api]
    path, mids, after, before, size = names
    params = {mids: "ATVPDKIKX0DER", after: iso(lo), before: iso(hi)}
    with httpx.Client(base_url=sandbox.url, headers={"x-amz-access-token": token(sandbox)}, timeout=10) as c:
        assert c.get(path, params={**params, size: 101}).status_code == 400
        got, nxt, pages = [], None, 0
        while True:
            q = dict(params)
            if nxt:
                q["NextToken" if api == "v0" else "paginationToken"] = nxt
            r = c.get(path, params=q)
            assert r.status_code == 200, r.text[:300]
            body = r.json()["payload"] if api == "v0" else r.json()
            batch = body["Orders"] if api == "v0" else body["orders"]
            pages += 1
            assert len(batch) == 100
            got += [o["AmazonOrderId"] if api == "v0" else o["orderId"] for o in batch]
            nxt = body.get("NextToken") if api == "v0" else (body.get("pagination") or {}).get("nextToken")
            if not nxt:
                break
        assert pages == 2 and got == [o.amazon_order_id for o in created[:200]]
        if api == "2026-01-01":
            # the model: the other parameters must come again, unchanged, with the paginationToken
            first = c.get(path, params=params).json()["pagination"]["nextToken"]
            assert c.get(path, params={"paginationToken": first}).status_code == 400
            assert c.get(path, params={**params, before: iso(hi - timedelta(seconds=1)),
                                       "paginationToken": first}).status_code == 400
            small = c.get(path, params={**params, "paginationToken": first, size: 30}).json()
            assert len(small["orders"]) == 30 and small["pagination"]["nextToken"]


@settings(max_examples=16)
@example(api="v0", first=0, count=200, size=100)          # exactly two full pages: no third call
@example(api="2026-01-01", first=0, count=200, size=100)
@example(api="2026-01-01", first=7, count=1, size=100)    # a single order, a single page
@given(api=st.sampled_from(APIS), first=st.integers(0, 300), count=st.integers(1, 250),
       size=st.integers(20, 100))
def test_simulator_pages_return_every_order_once_in_full_pages(sandbox, api, first, count, size):
    """Any created-window and page size: full pages until the last, a token exactly while more
    orders remain, and the pages together are the simulator's own orders for the window."""
    sandbox.state.reset()    # fresh buckets: each example is a separate burst
    start, end = past_window(days=3)
    now = datetime.now(UTC)
    created = sandbox.state.orders_between(SELLER, start, end, now)
    lo = created[first].purchase_date
    hi = created[min(first + count, len(created)) - 1].purchase_date
    want = [o.amazon_order_id for o in created if lo <= o.purchase_date <= hi]
    path, mids, after, before, size_name, token_name = {
        "v0": ("/orders/v0/orders", "MarketplaceIds", "CreatedAfter", "CreatedBefore", "MaxResultsPerPage",
               "NextToken"),
        "2026-01-01": ("/orders/2026-01-01/orders", "marketplaceIds", "createdAfter", "createdBefore",
                       "maxResultsPerPage", "paginationToken")}[api]
    params = {mids: "ATVPDKIKX0DER", after: iso(lo), before: iso(hi), size_name: size}
    got, sizes, nxt = [], [], None
    with httpx.Client(base_url=sandbox.url, headers={"x-amz-access-token": token(sandbox)}, timeout=10) as c:
        while True:
            r = c.get(path, params={**params, token_name: nxt} if nxt else params)
            assert r.status_code == 200, r.text[:300]
            body = r.json()["payload"] if api == "v0" else r.json()
            batch = body["Orders"] if api == "v0" else body["orders"]
            got += [o["AmazonOrderId"] if api == "v0" else o["orderId"] for o in batch]
            sizes.append(len(batch))
            nxt = body.get("NextToken") if api == "v0" else (body.get("pagination") or {}).get("nextToken")
            if not nxt:
                break
    assert got == want
    assert len(sizes) == math.ceil(len(want) / size) and all(n == size for n in sizes[:-1])
