"""Daily KPIs per store and marketplace, recomputed from core tables and upserted.

The grain is the marketplace-local calendar day (what the seller sees in Seller Central).
The columns are the declarations of ``seller_inbox.metrics`` (one home per metric); this module
turns them into one statement per table. A run recomputes every local day that overlaps
[start - 2 days, end) — late marks for a day settle 24 h after it — and every earlier day its
window changed: the purchase day of orders updated, claimed or rated in the window (defects are
dated by the order, as Amazon dates them) and of orders loaded since the last run whatever
their update date (the act stage's getOrder), the receipt day of messages answered in it or in the
first-contact follow-up window before it. kpi.order_defect_rate gets the ODR windows ending
``metrics.ODR_LAG_DAYS`` before each of those days. Rows are rewritten only when a value changed, so reruns and backfills converge on
the same rows without churn. Definitions follow Amazon's Seller Central metrics (docs/data-dictionary.md): 24-hour clock
including weekends; "no response needed" and auto-replies excluded; a message unanswered
for more than 24 h counts as late; one still inside its 24 h is pending, not late.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from seller_inbox import metrics
from seller_inbox.config import StoreConfig
from seller_inbox.domain.response_clock import RESPONSE_WINDOW
from seller_inbox.domain.taxonomy import NO_REPLY_OWED

SETTLE = timedelta(days=2)

# The rows each source gives the metrics of seller_inbox.metrics (their ``from_``), one local day.
_LOCAL_RANGE = """{col} >= (%(d0)s::date::timestamp AT TIME ZONE %(tz)s)
      AND {col} <  ((%(d1)s::date + 1)::timestamp AT TIME ZONE %(tz)s)"""
# a buyer message needs a reply unless marked so or its intent owes none (taxonomy.NO_REPLY_OWED)
_NEEDING = ("(NOT {a}.no_response_needed AND coalesce({a}.intent, '') NOT IN ("
            + ", ".join(f"'{i}'" for i in sorted(NO_REPLY_OWED)) + "))")
_SOURCES = {
    "messages": f"""SELECT (m.received_at AT TIME ZONE %(tz)s)::date AS day, m.*, {_NEEDING.format(a="m")} AS needing
    FROM core.message m
    WHERE m.store_id = %(store)s AND m.marketplace = %(mp)s AND m.kind = 'buyer_message'
      AND {_LOCAL_RANGE.format(col="m.received_at")}""",
    "notices": f"""SELECT (received_at AT TIME ZONE %(tz)s)::date AS day, order_id, message_id
    FROM core.message
    WHERE store_id = %(store)s AND kind = 'amazon_notice' AND intent = 'a_to_z_claim'
      AND (marketplace = %(mp)s OR (marketplace IS NULL AND %(primary)s))
      AND {_LOCAL_RANGE.format(col="received_at")}""",
    # a thread's first buyer message needing a response (a message outside any thread is its own
    # thread); settled: its first reply is 7 days old, or the buyer wrote again / the seller replied again
    "threads": f"""SELECT f.day,
           f.first_reply_at IS NOT NULL AND (%(now)s >= f.first_reply_at + %(fcr)s OR x.again) AS settled,
           f.first_reply_at IS NOT NULL AND %(now)s >= f.first_reply_at + %(fcr)s AND NOT x.again AS resolved
    FROM source_messages f
    CROSS JOIN LATERAL (SELECT EXISTS (
        SELECT 1 FROM core.message o WHERE o.store_id = f.store_id AND o.thread_id = f.thread_id
          AND o.received_at > f.first_reply_at AND o.received_at <= f.first_reply_at + %(fcr)s
          AND (o.kind = 'seller_reply' OR (o.kind = 'buyer_message' AND {_NEEDING.format(a="o")}))) AS again) x
    WHERE f.needing AND NOT EXISTS (
        SELECT 1 FROM core.message e WHERE e.store_id = f.store_id AND e.thread_id = f.thread_id
          AND e.kind = 'buyer_message' AND {_NEEDING.format(a="e")}
          AND (e.received_at, e.message_id) < (f.received_at, f.message_id))""",
    "orders": f"""SELECT (purchase_date AT TIME ZONE %(tz)s)::date AS day, a_to_z_claim_at, negative_feedback_on
    FROM kpi.order_defects
    WHERE store_id = %(store)s AND marketplace = %(mp)s AND {_LOCAL_RANGE.format(col="purchase_date")}""",
}


def _store_daily_sql() -> str:
    """kpi.store_daily's statement, built from the metric declarations."""
    used = [s for s in _SOURCES if metrics.aggregates("store_daily", s)]
    ctes = [f"source_{s} AS (\n    {_SOURCES[s]}\n)" for s in used]
    ctes += [f"agg_{s} AS (\n    SELECT day,\n        {metrics.aggregates('store_daily', s)}\n"
             f"    FROM source_{s} GROUP BY day\n)" for s in used]
    joins = " ".join(f"LEFT JOIN agg_{s} USING (day)" for s in used)
    vals = metrics.coalesced("store_daily")
    return (f"WITH days AS (\n    SELECT generate_series(%(d0)s::date, %(d1)s::date, interval '1 day')::date AS day\n), "
            + ", ".join(ctes)
            + f", vals AS (\n    SELECT day, {vals} FROM days {joins}\n)\n"
            f"INSERT INTO kpi.store_daily AS k (store_id, marketplace, day, {metrics.columns('store_daily')})\n"
            f"SELECT %(store)s, %(mp)s, day,\n    {metrics.final_select('store_daily')}\n"
            f"FROM vals WHERE day <= %(today)s\n"
            + metrics.upsert_tail("store_daily", "store_id, marketplace, day"))


def _odr_sql() -> str:
    """kpi.order_defect_rate's statement: one row per channel and window end in [e0, e1]."""
    w = metrics.ODR_WINDOW_DAYS - 1
    vals = metrics.coalesced("order_defect_rate")
    return f"""WITH ends AS (
    SELECT generate_series(%(e0)s::date, %(e1)s::date, interval '1 day')::date AS window_end
), od AS (
    SELECT (purchase_date AT TIME ZONE %(tz)s)::date AS day, fulfillment_channel, a_to_z_claim_at, negative_feedback_on
    FROM kpi.order_defects
    WHERE store_id = %(store)s AND marketplace = %(mp)s AND order_status IS DISTINCT FROM 'Canceled'
      AND purchase_date >= ((%(e0)s::date - {w})::timestamp AT TIME ZONE %(tz)s)
      AND purchase_date <  ((%(e1)s::date + 1)::timestamp AT TIME ZONE %(tz)s)
), agg AS (
    SELECT e.window_end, od.fulfillment_channel,
        {metrics.aggregates("order_defect_rate", "window_orders")}
    FROM ends e JOIN od ON od.day BETWEEN e.window_end - {w} AND e.window_end
    GROUP BY 1, 2
), vals AS (SELECT window_end, fulfillment_channel, {vals} FROM agg)
INSERT INTO kpi.order_defect_rate AS k (store_id, marketplace, fulfillment_channel, window_end, window_start,
    {metrics.columns("order_defect_rate")})
SELECT %(store)s, %(mp)s, fulfillment_channel, window_end, window_end - {w},
    {metrics.final_select("order_defect_rate")}
FROM vals
""" + metrics.upsert_tail("order_defect_rate", "store_id, marketplace, fulfillment_channel, window_end")


# kpi.reconciliation: Amazon's report rows against ours for the same window (UTC days) and channel
_AMAZON = {"amazon_orders": "p.order_count", "amazon_a_to_z_claims": "p.claims_count",
           "amazon_negative_feedback": "p.negative_feedback_count", "amazon_chargebacks": "p.chargebacks_count",
           "amazon_defective_orders": "p.defects_count", "amazon_order_defect_rate": "p.order_defect_rate",
           "amazon_a_to_z_claim_rate": "round(p.claims_count::numeric / nullif(p.order_count, 0), 5)"}


def _reconciliation_sql() -> str:
    """Amazon's report rows of the store against ours over the same window and channel.

    Ours counts the defects known when Amazon made the report (a claim filed later is in neither),
    and a window is compared only where our data covers it (``comparable``): orders read
    completely over the window, mail from the window's start until the report was made (claim
    notices arrive after the order), by ``ops.ingest_coverage``. Anything else is "not
    comparable yet", never flagged: a desk that started reading a week ago has none of the
    60-day window."""
    ours = {f"our_{m.name}": f"o.{m.name}" for m in metrics.of("order_defect_rate")}
    diffs = {"odr_difference": f"o.order_defect_rate - {_AMAZON['amazon_order_defect_rate']}",
             "a_to_z_claim_rate_difference": f"o.a_to_z_claim_rate - {_AMAZON['amazon_a_to_z_claim_rate']}"}
    comparable = "coalesce(p.orders_read_since <= p.w0 AND p.mail_read_since <= p.w0, false)"
    # our ODR cannot see chargebacks (Amazon gives only their count): it drifts when it is above
    # Amazon's, or below Amazon's without its chargebacks, by more than the tolerance
    without_chargebacks = ("round(greatest(p.defects_count - coalesce(p.chargebacks_count, 0), 0)::numeric"
                           " / nullif(p.order_count, 0), 5)")
    drift = (f"coalesce(o.order_defect_rate - p.order_defect_rate > %(tol)s, false)"
             f" OR coalesce({without_chargebacks} - o.order_defect_rate > %(tol)s, false)"
             f" OR coalesce(abs({diffs['a_to_z_claim_rate_difference']}) > %(tol)s, false)")
    values = {**_AMAZON, **ours, **diffs, "tolerance": "%(tol)s",
              "flagged": f"{comparable} AND ({drift})", "report_made_at": "p.made",
              "orders_read_since": "p.orders_read_since", "mail_read_since": "p.mail_read_since",
              "comparable": comparable}
    names = list(values)
    return f"""WITH cov AS (   -- the stretches of each source read completely, adjacent intervals merged
    SELECT source, unnest(range_agg(tstzrange(interval_start, interval_end))) AS stretch
    FROM ops.ingest_coverage WHERE store_id = %(store)s GROUP BY source
), rep AS (
    SELECT p.*, (p.window_start::timestamp AT TIME ZONE 'UTC') AS w0,
           ((p.window_end + 1)::timestamp AT TIME ZONE 'UTC') AS w1,
           coalesce((SELECT r.requested_at FROM ops.report_request r WHERE r.report_id = p.report_id),
                    ((p.window_end + 1 + {metrics.ODR_LAG_DAYS})::timestamp AT TIME ZONE 'UTC')) AS made
    FROM raw.seller_performance p
    WHERE p.store_id = %(store)s AND p.window_end >= %(since)s
), p AS (
    SELECT rep.*,
           (SELECT lower(stretch) FROM cov WHERE source = 'orders'
             AND stretch @> (rep.w1 - interval '1 microsecond')) AS orders_read_since,
           (SELECT lower(stretch) FROM cov WHERE source = 'mail'
             AND stretch @> (rep.made - interval '1 microsecond')) AS mail_read_since
    FROM rep
)
INSERT INTO kpi.reconciliation AS k (store_id, marketplace, fulfillment_channel, window_start, window_end,
    {", ".join(names)})
SELECT p.store_id, p.marketplace, p.fulfillment, p.window_start, p.window_end,
    {", ".join(values.values())}
FROM p
CROSS JOIN LATERAL (
    SELECT {metrics.named_final("order_defect_rate")}
    FROM (SELECT {metrics.aggregates("order_defect_rate", "window_orders")}
          FROM (SELECT CASE WHEN d.a_to_z_claim_at <= p.made THEN d.a_to_z_claim_at END AS a_to_z_claim_at,
                       CASE WHEN d.negative_feedback_on <= (p.made AT TIME ZONE 'UTC')::date
                            THEN d.negative_feedback_on END AS negative_feedback_on
                FROM kpi.order_defects d
                WHERE d.store_id = p.store_id AND d.marketplace = p.marketplace AND d.fulfillment_channel = p.fulfillment
                  AND d.order_status IS DISTINCT FROM 'Canceled'
                  AND d.purchase_date >= p.w0 AND d.purchase_date < p.w1) d) a
) o
ON CONFLICT (store_id, marketplace, fulfillment_channel, window_start, window_end) DO UPDATE SET
    {", ".join(f"{n} = EXCLUDED.{n}" for n in names)}, computed_at = now()
WHERE ({", ".join("k." + n for n in names)}) IS DISTINCT FROM ({", ".join("EXCLUDED." + n for n in names)})"""


_SQL = _store_daily_sql()
_ODR = _odr_sql()
_RECONCILE = _reconciliation_sql()


# the earliest moment whose KPI day this interval's data can change: orders updated in the
# window count on their purchase day (orders loaded whatever their update date: ``_LOADED``), and
# so do orders an Amazon notice or a feedback named in it
# (defects are dated by the order; any notice or rating, a cheap superset of the defects, read by
# index rather than through kpi.order_defects); replies sent in the window, or up to the
# first-contact follow-up window before it, on their message's day
_EARLIEST = """
SELECT least(
    (SELECT min(purchase_date) FROM raw.orders
      WHERE store_id = %(store)s AND marketplace = %(mp)s
        AND last_update_date >= %(start)s AND last_update_date < %(end)s),
    (SELECT min(o.purchase_date) FROM core.message n
       JOIN raw.orders o ON o.amazon_order_id = n.order_id AND o.store_id = n.store_id AND o.marketplace = %(mp)s
      WHERE n.store_id = %(store)s AND n.kind = 'amazon_notice'
        AND n.received_at >= %(start)s AND n.received_at < %(end)s),
    (SELECT min(o.purchase_date) FROM raw.seller_feedback f
       JOIN raw.orders o ON o.amazon_order_id = f.amazon_order_id AND o.store_id = f.store_id AND o.marketplace = %(mp)s
      WHERE f.store_id = %(store)s AND f.feedback_date >= %(start)s::date - 1 AND f.feedback_date <= %(end)s::date),
    -- OFFSET 0: read the replies of the window by index, not the store's messages oldest first
    (SELECT min(received_at) FROM (SELECT received_at FROM core.message
      WHERE store_id = %(store)s AND marketplace = %(mp)s AND kind = 'buyer_message'
        AND first_reply_at >= %(start)s::timestamptz - %(fcr)s AND first_reply_at < %(end)s OFFSET 0) r))
"""
MAX_LOOKBACK = timedelta(days=400)

# Orders loaded or changed since the last KPI run of the store's marketplace (raw.orders.loaded_at,
# whoever wrote them: an orders window, or the act stage's getOrder for an order a buyer names,
# whose LastUpdateDate may lie weeks before any interval): their purchase days are recomputed
# too, and ops.kpi_orders_seen moves to the latest loaded_at seen. LOADED_SLACK: a writer whose
# transaction began before that moment but committed after this run read is still seen next time
# (loaded_at is its transaction's start); its orders are merely recomputed once more.
LOADED_SLACK = timedelta(hours=1)
_LOADED = """
SELECT min(purchase_date), max(purchase_date), max(loaded_at) FROM raw.orders
 WHERE store_id = %(store)s AND marketplace = %(mp)s
   AND loaded_at > coalesce((SELECT loaded_until - %(slack)s FROM ops.kpi_orders_seen
                              WHERE store_id = %(store)s AND marketplace = %(mp)s), '-infinity')
"""
_SEEN = """
INSERT INTO ops.kpi_orders_seen AS s (store_id, marketplace, loaded_until) VALUES (%(store)s, %(mp)s, %(until)s)
ON CONFLICT (store_id, marketplace) DO UPDATE SET loaded_until = EXCLUDED.loaded_until
WHERE s.loaded_until < EXCLUDED.loaded_until
"""


def compute_store_daily(store: StoreConfig, dsn: str, start: datetime, end: datetime,
                        now: datetime | None = None) -> dict:
    """Recompute kpi.store_daily for every marketplace of the store and the days the run touches,
    kpi.order_defect_rate for the ODR windows ending ODR_LAG_DAYS before those days, and the
    store's kpi.reconciliation against Amazon's report rows (raw.seller_performance)."""
    from seller_inbox import warehouse

    now = now or datetime.now(timezone.utc)
    changed = days = odr_changed = reconciled = 0
    lag = timedelta(days=metrics.ODR_LAG_DAYS)
    conn = warehouse.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            for i, m in enumerate(store.marketplaces):
                tz = m.zone
                p = {"store": store.id, "mp": m.code, "start": start, "end": end, "fcr": metrics.FCR_FOLLOW_UP}
                cur.execute(_EARLIEST, p)
                earliest = cur.fetchone()[0]
                cur.execute(_LOADED, {**p, "slack": LOADED_SLACK})
                loaded_first, loaded_last, loaded_until = cur.fetchone()
                if loaded_first is not None:
                    earliest = loaded_first if earliest is None else min(earliest, loaded_first)
                since = start - SETTLE
                if earliest is not None:
                    since = max(min(since, earliest), start - MAX_LOOKBACK)
                today = now.astimezone(tz).date()
                d0 = since.astimezone(tz).date()
                d1 = (end - timedelta(microseconds=1)).astimezone(tz).date()
                if loaded_last is not None:  # a backfill's run may see orders bought after its interval
                    d1 = max(d1, min(loaded_last.astimezone(tz).date(), today))
                p.update(tz=tz.key, d0=d0, d1=d1, response_window=RESPONSE_WINDOW, now=now, today=today, primary=i == 0)
                cur.execute(_SQL, p)
                changed += cur.rowcount
                days += (d1 - d0).days + 1
                if d0 <= today:
                    cur.execute(_ODR, {**p, "e0": d0 - lag, "e1": min(d1, today) - lag})
                    odr_changed += cur.rowcount
                if loaded_until is not None:
                    cur.execute(_SEEN, {**p, "until": loaded_until})
            cur.execute(_RECONCILE, {"store": store.id, "tol": metrics.RECONCILE_TOLERANCE,
                                     "since": (now - MAX_LOOKBACK).date()})
            reconciled = cur.rowcount
    finally:
        conn.close()
    return {"days_recomputed": days, "rows_changed": changed, "odr_rows_changed": odr_changed,
            "reconciliation_rows_changed": reconciled}


SUMMARY_SQL = f"""
SELECT store_id,
       string_agg(DISTINCT marketplace, ',' ORDER BY marketplace) AS marketplaces,
       count(DISTINCT day) AS days,
       {metrics.rollups("store_daily", only="summary")}
FROM kpi.store_daily
WHERE day >= %(d0)s AND day <= %(d1)s
GROUP BY store_id ORDER BY store_id
"""


def summary(dsn: str, d0, d1) -> tuple[list[str], list[tuple]]:
    """One row per store over [d0, d1]: the table the run command prints (the metrics declared
    ``summary=True``; labels from ``summary_labels``)."""
    from seller_inbox import warehouse

    conn = warehouse.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(SUMMARY_SQL, {"d0": d0, "d1": d1})
            return [d[0] for d in cur.description], cur.fetchall()
    finally:
        conn.close()


def summary_labels() -> dict[str, tuple[str, str]]:
    """Column of ``summary`` to (English label with its Chinese, unit)."""
    out = {"store_id": ("store 店铺", ""), "marketplaces": ("mkts", ""), "days": ("days", "count")}
    for m in metrics.of("store_daily"):
        if m.summary:
            out[m.name] = (f"{m.label_en} {m.label_zh}", m.unit)
    return out
