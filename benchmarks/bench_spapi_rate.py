"""Benchmark: how close the project's SP-API client gets to each usage plan without a 429.

Starts the local simulator (real HTTP on 127.0.0.1), then per operation:
1. a naive client bursts past the bucket: counts the 429s it gets;
2. the project's client (``SpApiHook(...).get_conn()`` over python-amazon-sp-api, buckets in PostgreSQL when a
   warehouse URL is given, else in-process) does ``burst + extra`` calls of the same kind:
   it must see no 429, and its elapsed time is compared with the bucket's theoretical minimum
   ``(calls - burst) / rate``.  achieved/allowed = minimum / elapsed (1.0 = perfect).

Amazon's plans are slow (getOrderItems 0.5/s); ``--time-scale`` multiplies every rate on both
sides so a run takes seconds. Usage:

    python benchmarks/bench_spapi_rate.py [--time-scale 20] [--extra 60] [--dsn postgresql://...]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime, timedelta, timezone

UTC = timezone.utc


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-scale", type=float, default=20.0)
    ap.add_argument("--extra", type=int, default=120, help="calls beyond the burst, per operation")
    ap.add_argument("--dsn", default=os.environ.get("SELLER_INBOX_WAREHOUSE_URL"),
                    help="warehouse URL for PostgreSQL-shared buckets and ops.api_calls (optional)")
    # getOrders (0.0167/s) takes minutes even scaled: add it with --ops ...,getOrders
    ap.add_argument("--ops", default="getOrderItems,getOrder,getMessagingActionsForOrder,GetAttributes")
    args = ap.parse_args(argv)

    import httpx

    from seller_inbox_dev.sandbox import refresh_token_for
    from seller_inbox_dev.sandbox.data import generate_orders
    from seller_inbox_dev.sandbox.server import start
    from seller_inbox.spapi import OPERATIONS

    scale = args.time_scale
    sim = start(time_scale=scale, orders_per_day=40)
    seller, store_id, conn_id = "A2DEMOEUHOME", "bench-eu", "spapi_bench_eu"
    extra = sim.connection_extra(seller, rate_scale=scale)
    os.environ["AIRFLOW_CONN_" + conn_id.upper()] = json.dumps(
        {"conn_type": "spapi", "login": "sandbox-client", "password": "sandbox-secret", "extra": extra})
    if args.dsn:
        from seller_inbox.warehouse import migrate
        migrate(args.dsn)
        import psycopg2
        with psycopg2.connect(args.dsn) as c, c.cursor() as cur:
            cur.execute("DELETE FROM ops.api_bucket WHERE store_id = %s", (store_id,))
    from seller_inbox.spapi.hook import SpApiHook

    end = datetime.now(UTC) - timedelta(days=8)
    orders = [o for o in generate_orders(seller, end - timedelta(days=3), end, 42, orders_per_day=40)
              if o.marketplace == "DE"]
    de = orders[0].marketplace_id
    tok = httpx.post(sim.lwa_url, data={"grant_type": "refresh_token", "refresh_token": refresh_token_for(seller),
                                        "client_id": "sandbox-client", "client_secret": "sandbox-secret"}).json()
    naive = httpx.Client(base_url=sim.url, headers={"x-amz-access-token": tok["access_token"]})
    paths = {
        "getOrderItems": lambda o: naive.get(f"/orders/v0/orders/{o.amazon_order_id}/orderItems"),
        "getOrder": lambda o: naive.get(f"/orders/v0/orders/{o.amazon_order_id}"),
        "getMessagingActionsForOrder": lambda o: naive.get(f"/messaging/v1/orders/{o.amazon_order_id}",
                                                           params={"marketplaceIds": de}),
        "GetAttributes": lambda o: naive.get(f"/messaging/v1/orders/{o.amazon_order_id}/attributes",
                                             params={"marketplaceIds": de}),
        "getOrders": lambda o: naive.get("/orders/v0/orders", params={
            "MarketplaceIds": de, "CreatedAfter": (end - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "MaxResultsPerPage": 1}),
    }
    win = (end - timedelta(days=1), end - timedelta(days=1) + timedelta(minutes=30))
    hook_calls = {
        "getOrderItems": lambda h, o: h.get_order_items(o.amazon_order_id),
        "getOrder": lambda h, o: h.get_order(o.amazon_order_id),
        "getMessagingActionsForOrder": lambda h, o: h.get_messaging_actions(o.amazon_order_id, de),
        "GetAttributes": lambda h, o: h.get_attributes(o.amazon_order_id, de),
        "getOrders": lambda h, o: next(iter(h.get_orders([de], created_after=win[0], created_before=win[1],
                                                         max_per_page=1)), None),
    }

    print(f"SP-API rate benchmark: simulator at {sim.url}, time scale x{scale:g} "
          f"(Amazon's plans x{scale:g}), buckets in {'PostgreSQL' if args.dsn else 'process memory'}")
    print(f"{'operation':<30}{'rate/s':>9}{'burst':>7}{'naive 429':>11}{'calls':>7}{'429':>5}"
          f"{'elapsed s':>11}{'minimum s':>11}{'achieved/allowed':>18}")
    worst = 1.0
    for op in args.ops.split(","):
        plan = OPERATIONS[op]
        rate, burst = plan.rate * scale, plan.burst
        n = burst + args.extra
        # 1. a naive burst on a fresh bucket (another seller would be fresh too: reset buckets)
        sim.state.buckets.reset()
        naive_429 = sum(paths[op](orders[i % len(orders)]).status_code == 429 for i in range(n))
        # 2. the project's client on a fresh bucket
        sim.state.buckets.reset()
        sim.state.stats.clear()
        h = SpApiHook(conn_id, store_id=store_id, dsn=args.dsn, marketplace_ids=[de]).get_conn()
        h.refresh_access_token()
        t0 = time.monotonic()
        for i in range(n):
            hook_calls[op](h, orders[i % len(orders)])
        elapsed = time.monotonic() - t0
        h.close()
        got_429 = sim.state.stat(operation=op, status=429)
        minimum = (n - burst) / rate
        ratio = minimum / elapsed
        worst = min(worst, ratio)
        print(f"{op:<30}{rate:>9.3f}{burst:>7}{naive_429:>11}{n:>7}{got_429:>5}{elapsed:>11.2f}{minimum:>11.2f}"
              f"{ratio:>18.3f}")
        if got_429:
            print(f"  !! the client was throttled {got_429} times on {op}", file=sys.stderr)
    print(f"worst achieved/allowed: {worst:.3f} (aim >= 0.9)")
    sim.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
