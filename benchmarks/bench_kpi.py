"""One store's KPI day over a warehouse of 10 million messages: time and EXPLAIN.

    python benchmarks/bench_kpi.py [--messages 10000000] [--stores 100] [--keep URL]

Builds a throwaway database (migrated like any warehouse), fills it with SQL generate_series:
--messages rows of core.message over 365 days and --stores stores (7 in 10 buyer messages, two
per thread, 9 in 10 of them answered; 3 in 10 seller replies; 1 in 1,000 an A-to-z notice naming
one of the store's orders), one order per 10 messages (each loaded 10 minutes after its last update,
the store's previous KPI run having seen those loaded before the day), then times what the kpi task of one daily
run does for one store (``kpi.compute_store_daily``: the day, the 2 days that settle, the days
whose replies or defects changed, their ODR windows, the reconciliation) and prints the plan of
the store_daily statement for that day (EXPLAIN ANALYZE, rolled back). Loading is made faster by
an UNLOGGED core.message without its thread foreign key; neither changes the plans.
Target (issue 13): under 1 s.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mail import _fresh_db  # noqa: E402 - one helper for a throwaway database

T0 = datetime(2025, 12, 1, tzinfo=timezone.utc)
DAYS = 365

FILL = """
ALTER TABLE core.message DROP CONSTRAINT IF EXISTS message_thread_id_fkey;
ALTER TABLE core.message SET UNLOGGED;
INSERT INTO raw.orders (amazon_order_id, store_id, marketplace, order_status, fulfillment_channel,
                        purchase_date, last_update_date, loaded_at)
SELECT 'B' || n, CASE WHEN n %% %(stores)s = 0 THEN 'us-outdoor' ELSE 'bench-' || (n %% %(stores)s) END, 'US',
       'Shipped', CASE WHEN n %% 3 = 0 THEN 'AFN' ELSE 'MFN' END,
       %(t0)s::timestamptz + (n::float8 / %(orders)s) * interval '%(days)s days',
       %(t0)s::timestamptz + (n::float8 / %(orders)s) * interval '%(days)s days' + interval '2 days',
       %(t0)s::timestamptz + (n::float8 / %(orders)s) * interval '%(days)s days' + interval '2 days 10 minutes'
FROM generate_series(0, %(orders)s - 1) n;
INSERT INTO core.message (store_id, message_id, thread_id, kind, direction, marketplace, order_id, received_at,
                          no_response_needed, intent, risk, sla_due_at, first_reply_at)
SELECT store, 'm' || g, store || ':' || (g / %(stores)s / 2),
       kind, CASE WHEN kind = 'seller_reply' THEN 'outbound' ELSE 'inbound' END, 'US',
       CASE WHEN kind = 'amazon_notice' THEN 'B' || ((g / 10 / %(stores)s) * %(stores)s + g %% %(stores)s) END,
       at, g %% 97 = 0,
       CASE WHEN kind = 'amazon_notice' THEN 'a_to_z_claim' WHEN g %% 3 = 0 THEN 'order_status' ELSE 'product_question' END,
       CASE WHEN g %% 50 = 0 THEN 'high' ELSE 'low' END,
       at + interval '1 day',
       CASE WHEN kind = 'buyer_message' AND g %% 10 <> 1 THEN at + ((g::bigint * 7919) %% 2000) * interval '1 minute' END
FROM (SELECT g, CASE WHEN g %% %(stores)s = 0 THEN 'us-outdoor' ELSE 'bench-' || (g %% %(stores)s) END AS store,
             CASE WHEN g %% 1000 = 999 THEN 'amazon_notice' WHEN g %% 10 < 7 THEN 'buyer_message' ELSE 'seller_reply' END AS kind,
             %(t0)s::timestamptz + (g::float8 / %(messages)s) * interval '%(days)s days' AS at
      FROM generate_series(0, %(messages)s - 1) g) x;
ANALYZE core.message; ANALYZE raw.orders;
"""


def fill(url: str, messages: int, stores: int) -> float:
    from seller_inbox import warehouse

    conn = warehouse.connect(url)
    t = time.perf_counter()
    with conn, conn.cursor() as cur:
        cur.execute(FILL, {"messages": messages, "stores": stores, "orders": messages // 10, "t0": T0, "days": DAYS})
    conn.close()
    return time.perf_counter() - t


def explain(url: str, store, day_start: datetime, now: datetime) -> str:
    """The plan of the store_daily statement for one local day (executed, then rolled back)."""
    from seller_inbox import kpi, metrics, warehouse
    from seller_inbox.domain.response_clock import RESPONSE_WINDOW

    m = store.marketplaces[0]
    d = day_start.astimezone(m.zone).date()
    p = {"store": store.id, "mp": m.code, "tz": m.zone.key, "d0": d, "d1": d, "response_window": RESPONSE_WINDOW,
         "now": now, "today": now.astimezone(m.zone).date(), "primary": True, "fcr": metrics.FCR_FOLLOW_UP}
    conn = warehouse.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + kpi._SQL, p)
            return "\n".join(r[0] for r in cur.fetchall())
    finally:
        conn.rollback()
        conn.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=10_000_000)
    ap.add_argument("--stores", type=int, default=100)
    ap.add_argument("--keep", help="use this already filled warehouse URL (no fill, not dropped)")
    args = ap.parse_args()

    from seller_inbox.config import load_registry
    from seller_inbox.kpi import compute_store_daily
    from seller_inbox.warehouse import migrate

    drop = None
    if args.keep:
        url = args.keep
    else:
        url, drop = _fresh_db()
    try:
        if drop:
            migrate(url)
            print(f"filling {args.messages:,} messages, {args.messages // 10:,} orders, {args.stores} stores…", flush=True)
            print(f"fill: {fill(url, args.messages, args.stores):.0f} s", flush=True)
        store = load_registry().store("us-outdoor")
        day = T0 + timedelta(days=300, hours=5)  # a New York day, 300 days into the data
        now = day + timedelta(days=1, hours=1)
        # the store's previous KPI run saw every order loaded until this day began (ops.kpi_orders_seen):
        # the steady state of a desk running daily, not a first run over a year of orders
        from seller_inbox import warehouse

        conn = warehouse.connect(url)
        with conn, conn.cursor() as cur:
            cur.execute("""INSERT INTO ops.kpi_orders_seen (store_id, marketplace, loaded_until) VALUES ('us-outdoor', 'US', %s)
                           ON CONFLICT (store_id, marketplace) DO UPDATE SET loaded_until = EXCLUDED.loaded_until""", (day,))
        conn.close()
        runs = []
        for _ in range(3):  # the first reads cold pages; a rerun rewrites nothing
            t = time.perf_counter()
            out = compute_store_daily(store, url, day, day + timedelta(days=1), now=now)
            runs.append(time.perf_counter() - t)
        print(f"one store's KPI day (us-outdoor, {day:%Y-%m-%d}; {out['days_recomputed']} local days recomputed, "
              f"ODR windows and reconciliation included): first {runs[0]:.3f} s, reruns "
              f"{', '.join(f'{r:.3f}' for r in runs[1:])} s   (target < 1 s)")
        print("\nEXPLAIN ANALYZE of the kpi.store_daily statement for that one day:")
        print(explain(url, store, day, now))
    finally:
        if drop:
            drop()


if __name__ == "__main__":
    main()
