"""The warehouse at 10,000 stores: what monthly partitioning of core.message buys.

    .venv/bin/python benchmarks/bench_warehouse.py [--messages 10000000] [--stores 10000]

Builds a throwaway warehouse (migrated like any other), fills core.message and raw.orders with
``bench_kpi``'s generator (--messages over 365 days and --stores stores), then measures, on the
project's table (not partitioned, as the migrations create it) and on the same rows moved into a
table partitioned by month on ``received_at`` (the DDL of docs/operations.md, "Many stores"):

* one store's KPI day (``kpi.compute_store_daily``, what the kpi task does: the day, the days
  that settle, ODR windows, reconciliation), first run and reruns;
* retention, dropping the oldest month: ``DELETE … WHERE received_at < …`` (then ``VACUUM``) on
  the plain table, ``ALTER TABLE … DETACH PARTITION`` + ``DROP TABLE`` on the partitioned one;
* the sizes, and how long moving the rows into the partitioned layout took.

The project's migrations are not changed: the partitioned layout is built here, in the
throwaway database only. Both tables are UNLOGGED while loading (as in bench_kpi), so the
DELETE writes no WAL here: on a real, logged warehouse it costs more, not less.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_kpi import DAYS, T0, fill  # noqa: E402 - one generator for both benchmarks
from bench_mail import _fresh_db  # noqa: E402

# indexes of core.message as the migrations create them (0001, 0007, 0009, 0018), for the parent
INDEXES = """
CREATE INDEX ON core.message (store_id, received_at);
CREATE INDEX ON core.message (order_id);
CREATE INDEX ON core.message (store_id, in_reply_to) WHERE in_reply_to IS NOT NULL;
CREATE INDEX ON core.message (store_id, buyer_alias_hash, received_at) WHERE buyer_alias_hash IS NOT NULL;
CREATE INDEX ON core.message (thread_id, received_at);
CREATE INDEX ON core.message (store_id, risk, received_at) WHERE risk IN ('high', 'medium');
CREATE INDEX ON core.message (store_id, received_at) WHERE kind = 'buyer_message' AND first_reply_at IS NULL;
CREATE INDEX ON core.message (store_id, order_id) WHERE kind = 'amazon_notice';
CREATE INDEX ON core.message (store_id, first_reply_at) WHERE kind = 'buyer_message';
"""


_REF = re.compile(r"core\.message_plain(\s+(?!(?:WHERE|JOIN|LEFT|RIGHT|INNER|FULL|CROSS|GROUP|ORDER|ON|UNION|"
                  r"LIMIT|HAVING|WINDOW)\b)\w+)?")


def months(start: datetime, end: datetime) -> list[datetime]:
    m = start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    out = []
    while m < end:
        out.append(m)
        m = (m + timedelta(days=32)).replace(day=1)
    return out


def partition(cur) -> None:
    """core.message → core.message_plain; a new core.message partitioned by month holding the same
    rows; the views that read core.message pointed at the new table."""
    cur.execute("ALTER TABLE core.message RENAME TO message_plain")
    cur.execute("CREATE TABLE core.message (LIKE core.message_plain INCLUDING DEFAULTS) PARTITION BY RANGE (received_at)")
    for m in months(T0, T0 + timedelta(days=DAYS + 1)):
        nxt = (m + timedelta(days=32)).replace(day=1)
        cur.execute(f"CREATE UNLOGGED TABLE core.message_{m:%Y_%m} PARTITION OF core.message "
                    "FOR VALUES FROM (%s) TO (%s)", (m, nxt))
    cur.execute("INSERT INTO core.message SELECT * FROM core.message_plain")
    cur.execute("ALTER TABLE core.message ADD PRIMARY KEY (store_id, message_id, received_at)")
    cur.execute(INDEXES)
    cur.execute("""SELECT DISTINCT v.oid::regclass::text, pg_get_viewdef(v.oid)
                   FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class
                   WHERE d.refobjid = 'core.message_plain'::regclass AND v.relkind = 'v'""")
    for name, body in cur.fetchall():  # FROM core.message_plain [alias] -> FROM core.message <same alias>
        body = _REF.sub(lambda m: "core.message" + (m.group(1) or " message_plain"), body)
        cur.execute(f"CREATE OR REPLACE VIEW {name} AS {body}")
    cur.execute("""SELECT count(*) FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
                   WHERE d.refobjid = 'core.message_plain'::regclass""")
    left, = cur.fetchone()
    assert left == 0, f"{left} views still read core.message_plain"
    cur.execute("ANALYZE core.message")


def kpi_day(url: str) -> list[float]:
    from seller_inbox.config import load_registry
    from seller_inbox.kpi import compute_store_daily

    store = load_registry().store("us-outdoor")
    day = T0 + timedelta(days=300, hours=5)
    runs = []
    for _ in range(3):
        t = time.perf_counter()
        compute_store_daily(store, url, day, day + timedelta(days=1), now=day + timedelta(days=1, hours=1))
        runs.append(time.perf_counter() - t)
    return runs


def size(cur, rel: str) -> str:
    cur.execute("""SELECT pg_size_pretty(sum(pg_table_size(c.oid))), pg_size_pretty(sum(pg_indexes_size(c.oid)))
                   FROM pg_class c WHERE c.oid = %s::regclass
                      OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = %s::regclass)""", (rel, rel))
    t, i = cur.fetchone()
    return f"table {t}, indexes {i}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=10_000_000)
    ap.add_argument("--stores", type=int, default=10_000)
    args = ap.parse_args()

    from seller_inbox import warehouse

    url, drop = _fresh_db()
    try:
        warehouse.migrate(url)
        print(f"warehouse: {args.messages:,} messages, {args.messages // 10:,} orders, {args.stores:,} stores, "
              f"{DAYS} days from {T0:%Y-%m-%d} ({time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC)", flush=True)
        print(f"fill: {fill(url, args.messages, args.stores):.0f} s", flush=True)
        plain = kpi_day(url)
        conn = warehouse.connect(url)
        conn.autocommit = True
        cur = conn.cursor()
        print(f"not partitioned (the migrations' table): {size(cur, 'core.message')}", flush=True)
        print(f"  one store's KPI day: first {plain[0]:.3f} s, reruns {plain[1]:.3f}, {plain[2]:.3f} s", flush=True)

        t = time.perf_counter()
        with _tx(conn):
            partition(cur)
        moved = time.perf_counter() - t
        parts = len(months(T0, T0 + timedelta(days=DAYS + 1)))
        print(f"partitioned by month ({parts} partitions; rows moved, primary key and 9 indexes built, "
              f"views repointed in {moved:.0f} s): {size(cur, 'core.message')}", flush=True)
        part = kpi_day(url)
        print(f"  one store's KPI day: first {part[0]:.3f} s, reruns {part[1]:.3f}, {part[2]:.3f} s", flush=True)

        first = months(T0, T0 + timedelta(days=1))[0]
        cut = (first + timedelta(days=32)).replace(day=1)
        cur.execute("SELECT count(*) FROM core.message_plain WHERE received_at < %s", (cut,))
        n, = cur.fetchone()
        t = time.perf_counter()
        cur.execute("DELETE FROM core.message_plain WHERE received_at < %s", (cut,))
        delete = time.perf_counter() - t
        t = time.perf_counter()
        cur.execute("VACUUM core.message_plain")
        vacuum = time.perf_counter() - t
        t = time.perf_counter()
        cur.execute(f"ALTER TABLE core.message DETACH PARTITION core.message_{first:%Y_%m}")
        cur.execute(f"DROP TABLE core.message_{first:%Y_%m}")
        dropped = time.perf_counter() - t
        print(f"retention, the oldest month ({first:%Y-%m}, {n:,} messages):", flush=True)
        print(f"  not partitioned: DELETE {delete:.1f} s, then VACUUM {vacuum:.1f} s "
              f"(the space stays with the table: {size(cur, 'core.message_plain')})", flush=True)
        print(f"  partitioned: DETACH PARTITION + DROP TABLE {dropped * 1000:.0f} ms "
              f"(the space goes back at once: {size(cur, 'core.message')})", flush=True)
        conn.close()
    finally:
        drop()


class _tx:
    """BEGIN/COMMIT around a block on an autocommit psycopg2 connection."""

    def __init__(self, conn):
        self.conn = conn

    def __enter__(self):
        self.conn.autocommit = False

    def __exit__(self, exc_type, *_):
        (self.conn.rollback if exc_type else self.conn.commit)()
        self.conn.autocommit = True


if __name__ == "__main__":
    main()
