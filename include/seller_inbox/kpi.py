"""Daily KPIs per store and marketplace, recomputed from core tables and upserted.

The grain is the marketplace-local calendar day (what the seller sees in Seller Central).
A run recomputes every local day that overlaps [start - 2 days, end) — late marks for a
day settle 24 h after it — and every earlier day its window changed: the purchase day of
orders updated in the window, the receipt day of messages answered in it. Rows are rewritten only when a value changed, so reruns and backfills converge on
the same rows without churn. Definitions follow Amazon's Seller Central metrics (docs/data-dictionary.md): 24-hour clock
including weekends; "no response needed" and auto-replies excluded; a message unanswered
for more than 24 h counts as late; one still inside its 24 h is pending, not late.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from seller_inbox.config import StoreConfig
from seller_inbox.domain.response_clock import RESPONSE_WINDOW

SETTLE = timedelta(days=2)

_SQL = """
WITH days AS (
    SELECT generate_series(%(d0)s::date, %(d1)s::date, interval '1 day')::date AS day
), msg AS (
    SELECT (m.received_at AT TIME ZONE %(tz)s)::date AS day, m.*,
           (NOT m.no_response_needed AND coalesce(m.intent, '') NOT IN ('auto_reply')) AS needing
    FROM core.message m
    WHERE m.store_id = %(store)s AND m.marketplace = %(mp)s
      AND m.kind = 'buyer_message'
      AND m.received_at >= (%(d0)s::date::timestamp AT TIME ZONE %(tz)s)
      AND m.received_at <  ((%(d1)s::date + 1)::timestamp AT TIME ZONE %(tz)s)
), m AS (
    SELECT day,
        count(*) AS buyer_messages,
        count(*) FILTER (WHERE needing) AS needing_response,
        count(*) FILTER (WHERE needing AND first_reply_at IS NOT NULL) AS responded,
        count(*) FILTER (WHERE needing AND first_reply_at <= received_at + %(response_window)s) AS responded_within_24h,
        count(*) FILTER (WHERE needing AND (first_reply_at > received_at + %(response_window)s
                         OR (first_reply_at IS NULL AND %(now)s > received_at + %(response_window)s))) AS late_responses,
        count(*) FILTER (WHERE needing AND first_reply_at IS NULL AND %(now)s <= received_at + %(response_window)s) AS pending_within_sla,
        round(avg(extract(epoch FROM first_reply_at - received_at) / 60)
              FILTER (WHERE needing AND first_reply_at IS NOT NULL)::numeric, 1) AS avg_response_minutes,
        round((percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM first_reply_at - received_at) / 60)
              FILTER (WHERE needing AND first_reply_at IS NOT NULL))::numeric, 1) AS median_response_minutes,
        count(*) FILTER (WHERE risk = 'high') AS high_risk_messages,
        count(*) FILTER (WHERE intent IN ('order_status', 'not_received')) AS wismo_messages
    FROM msg GROUP BY day
), claims AS (
    SELECT (received_at AT TIME ZONE %(tz)s)::date AS day, count(DISTINCT coalesce(order_id, message_id)) AS n
    FROM core.message
    WHERE store_id = %(store)s AND intent = 'a_to_z_claim'
      AND (marketplace = %(mp)s OR (marketplace IS NULL AND %(primary)s))
      AND received_at >= (%(d0)s::date::timestamp AT TIME ZONE %(tz)s)
      AND received_at <  ((%(d1)s::date + 1)::timestamp AT TIME ZONE %(tz)s)
    GROUP BY 1
), o AS (
    SELECT (purchase_date AT TIME ZONE %(tz)s)::date AS day, count(*) AS n
    FROM raw.orders
    WHERE store_id = %(store)s AND marketplace = %(mp)s
      AND purchase_date >= (%(d0)s::date::timestamp AT TIME ZONE %(tz)s)
      AND purchase_date <  ((%(d1)s::date + 1)::timestamp AT TIME ZONE %(tz)s)
    GROUP BY 1
)
INSERT INTO kpi.store_daily AS k (
    store_id, marketplace, day, buyer_messages, needing_response, responded, responded_within_24h,
    late_responses, pending_within_sla, avg_response_minutes, median_response_minutes,
    late_response_rate, high_risk_messages, wismo_messages, wismo_share, orders, a_to_z_claims,
    a_to_z_claim_rate)
SELECT %(store)s, %(mp)s, d.day,
    coalesce(m.buyer_messages, 0), coalesce(m.needing_response, 0), coalesce(m.responded, 0),
    coalesce(m.responded_within_24h, 0), coalesce(m.late_responses, 0), coalesce(m.pending_within_sla, 0),
    m.avg_response_minutes, m.median_response_minutes,
    round(m.late_responses::numeric / nullif(m.needing_response - m.pending_within_sla, 0), 4),
    coalesce(m.high_risk_messages, 0), coalesce(m.wismo_messages, 0),
    round(m.wismo_messages::numeric / nullif(m.buyer_messages, 0), 4),
    coalesce(o.n, 0), coalesce(c.n, 0),
    round(least(coalesce(c.n, 0)::numeric / nullif(o.n, 0), 1), 5)
FROM days d LEFT JOIN m USING (day) LEFT JOIN o USING (day) LEFT JOIN claims c USING (day)
WHERE d.day <= %(today)s
ON CONFLICT (store_id, marketplace, day) DO UPDATE SET
    buyer_messages = EXCLUDED.buyer_messages, needing_response = EXCLUDED.needing_response,
    responded = EXCLUDED.responded, responded_within_24h = EXCLUDED.responded_within_24h,
    late_responses = EXCLUDED.late_responses, pending_within_sla = EXCLUDED.pending_within_sla,
    avg_response_minutes = EXCLUDED.avg_response_minutes,
    median_response_minutes = EXCLUDED.median_response_minutes,
    late_response_rate = EXCLUDED.late_response_rate, high_risk_messages = EXCLUDED.high_risk_messages,
    wismo_messages = EXCLUDED.wismo_messages, wismo_share = EXCLUDED.wismo_share,
    orders = EXCLUDED.orders, a_to_z_claims = EXCLUDED.a_to_z_claims,
    a_to_z_claim_rate = EXCLUDED.a_to_z_claim_rate, computed_at = now()
WHERE (k.buyer_messages, k.needing_response, k.responded, k.responded_within_24h, k.late_responses,
       k.pending_within_sla, k.avg_response_minutes, k.median_response_minutes, k.late_response_rate,
       k.high_risk_messages, k.wismo_messages, k.wismo_share, k.orders, k.a_to_z_claims, k.a_to_z_claim_rate)
  IS DISTINCT FROM
      (EXCLUDED.buyer_messages, EXCLUDED.needing_response, EXCLUDED.responded, EXCLUDED.responded_within_24h,
       EXCLUDED.late_responses, EXCLUDED.pending_within_sla, EXCLUDED.avg_response_minutes,
       EXCLUDED.median_response_minutes, EXCLUDED.late_response_rate, EXCLUDED.high_risk_messages,
       EXCLUDED.wismo_messages, EXCLUDED.wismo_share, EXCLUDED.orders, EXCLUDED.a_to_z_claims,
       EXCLUDED.a_to_z_claim_rate)
"""


# the earliest moment whose KPI day this interval's data can change: orders updated in the
# window count on their purchase day, replies sent in the window on their message's day
_EARLIEST = """
SELECT least(
    (SELECT min(purchase_date) FROM raw.orders
      WHERE store_id = %(store)s AND marketplace = %(mp)s
        AND last_update_date >= %(start)s AND last_update_date < %(end)s),
    (SELECT min(received_at) FROM core.message
      WHERE store_id = %(store)s AND marketplace = %(mp)s AND kind = 'buyer_message'
        AND first_reply_at >= %(start)s AND first_reply_at < %(end)s))
"""
MAX_LOOKBACK = timedelta(days=400)


def compute_store_daily(store: StoreConfig, dsn: str, start: datetime, end: datetime,
                        now: datetime | None = None) -> dict:
    """Recompute kpi.store_daily for every marketplace of the store and the days the run touches."""
    from seller_inbox import warehouse

    now = now or datetime.now(timezone.utc)
    changed = 0
    days = 0
    conn = warehouse.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            for i, m in enumerate(store.marketplaces):
                tz = m.zone
                cur.execute(_EARLIEST, {"store": store.id, "mp": m.code, "start": start, "end": end})
                earliest = cur.fetchone()[0]
                since = start - SETTLE
                if earliest is not None:
                    since = max(min(since, earliest), start - MAX_LOOKBACK)
                d0 = since.astimezone(tz).date()
                d1 = (end - timedelta(microseconds=1)).astimezone(tz).date()
                cur.execute(_SQL, {"store": store.id, "mp": m.code, "tz": tz.key, "d0": d0, "d1": d1,
                                   "response_window": RESPONSE_WINDOW, "now": now, "today": now.astimezone(tz).date(), "primary": i == 0})
                changed += cur.rowcount
                days += (d1 - d0).days + 1
    finally:
        conn.close()
    return {"days_recomputed": days, "rows_changed": changed}


SUMMARY_SQL = """
SELECT store_id,
       string_agg(DISTINCT marketplace, ',' ORDER BY marketplace) AS marketplaces,
       count(DISTINCT day) AS days,
       sum(buyer_messages) AS buyer_messages,
       sum(responded) AS responded,
       sum(late_responses) AS late,
       round(sum(late_responses)::numeric / nullif(sum(needing_response - pending_within_sla), 0), 4) AS late_rate,
       round(sum(avg_response_minutes * responded) / nullif(sum(responded) FILTER (WHERE avg_response_minutes IS NOT NULL), 0) / 60, 1) AS avg_response_h,
       sum(high_risk_messages) AS high_risk,
       round(sum(wismo_messages)::numeric / nullif(sum(buyer_messages), 0), 4) AS wismo_share,
       sum(orders) AS orders,
       sum(a_to_z_claims) AS a_to_z,
       round(sum(a_to_z_claims)::numeric / nullif(sum(orders), 0), 5) AS a_to_z_rate
FROM kpi.store_daily
WHERE day >= %(d0)s AND day <= %(d1)s
GROUP BY store_id ORDER BY store_id
"""


def summary(dsn: str, d0, d1) -> tuple[list[str], list[tuple]]:
    """One row per store over [d0, d1]: the table the run command prints."""
    from seller_inbox import warehouse

    conn = warehouse.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(SUMMARY_SQL, {"d0": d0, "d1": d1})
            return [d[0] for d in cur.description], cur.fetchall()
    finally:
        conn.close()
