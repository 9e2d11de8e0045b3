"""The daily review-request scan: queue one ``review_request`` outbox row per delivered order
that Amazon offers a solicitation for, never for an order the buyer had trouble with.

Per store: refresh the packages of merchant-fulfilled orders still on their way (delivery
status), pick the shipped orders whose 5-to-30-day window after delivery may be open (known
delivery or promised window) and that have no review-request row yet, drop excluded
orders (below) before asking Amazon anything, ask getSolicitationActionsForOrder, and insert
a ``queued`` row for each order it offers (``ON CONFLICT DO NOTHING``: once per order, whatever
reruns). The deliverer sends the rows after its own checks (docs/delivery.md), and
``solicitations.send_review_request`` checks offer and exclusions again at send time.

Excluded: canceled or undeliverable orders, and any order with a message (buyer message or
Amazon notice) about a return, refund, A-to-z claim, non-delivery, damage or wrong item, or of
high risk, and any buyer who opted out (``core.buyer_opt_out``, or an opt-out bounce linked to
the order, its threads or the buyer's alias).
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta, timezone
from typing import Any, Callable

from seller_inbox.delivery.solicitations import OFFER
from seller_inbox.domain import taxonomy as tx
from seller_inbox.domain.relay import OPT_OUT_PATTERN

log = logging.getLogger(__name__)
UTC = timezone.utc

# what makes a review request tone-deaf or risky: every high/medium intent about the order itself
EXCLUDING_INTENTS = tuple(sorted((tx.HIGH_INTENTS | tx.MEDIUM_INTENTS) - {"account_health"}))
# a bounce saying the buyer opted out of messages (PostgreSQL and Python regex alike, case-insensitive)
WINDOW_OPENS, WINDOW_CLOSES = timedelta(days=5), timedelta(days=30)
LATE_SLACK = timedelta(days=3)   # parcels arriving after the promised window
KEY = "review_request:{store}:{order}"

_EXCLUSION = """
WITH aliases AS (
    SELECT DISTINCT t.buyer_alias_hash FROM core.thread t
    WHERE t.store_id = %(s)s AND t.order_id = %(o)s AND t.buyer_alias_hash IS NOT NULL
), threads AS (
    SELECT t.thread_id FROM core.thread t
    WHERE t.store_id = %(s)s AND (t.order_id = %(o)s OR t.buyer_alias_hash IN (SELECT * FROM aliases))
)
SELECT reason FROM (
    SELECT 1 AS rank, 'order ' || lower(o.order_status) AS reason FROM raw.orders o
    WHERE o.amazon_order_id = %(o)s AND o.store_id = %(s)s AND o.order_status IN ('Canceled', 'Unfulfillable')
  UNION ALL
    SELECT 2, 'package undeliverable' FROM raw.order_packages k
    WHERE k.amazon_order_id = %(o)s AND k.package_status = 'UNDELIVERABLE'
  UNION ALL
    SELECT 3, 'buyer opted out' FROM core.buyer_opt_out b
    WHERE b.store_id = %(s)s AND b.buyer_alias_hash IN (SELECT * FROM aliases)
  UNION ALL
    SELECT 4, 'opt-out bounce' FROM core.message m
    WHERE m.store_id = %(s)s AND m.kind = 'auto_reply'
      AND (coalesce(m.subject, '') || ' ' || coalesce(m.body_text, '')) ~* %(optout)s
      AND (m.order_id = %(o)s OR m.buyer_alias_hash IN (SELECT * FROM aliases)
           OR m.thread_id IN (SELECT * FROM threads)
           OR m.in_reply_to IN (SELECT r.message_id FROM core.message r
                                WHERE r.store_id = %(s)s AND r.thread_id IN (SELECT * FROM threads)))
  UNION ALL
    SELECT 5, CASE WHEN m.intent = ANY(%(intents)s) THEN 'message: ' || m.intent ELSE 'high-risk message' END
    FROM core.message m
    WHERE m.store_id = %(s)s AND m.order_id = %(o)s AND m.kind IN ('buyer_message', 'amazon_notice')
      AND (m.intent = ANY(%(intents)s) OR m.risk = 'high')
) x ORDER BY rank LIMIT 1
"""


def exclusion(cur: Any, store_id: str, order_id: str) -> str | None:
    """Why no review may be requested for this order (None: nothing against it)."""
    cur.execute(_EXCLUSION, {"s": store_id, "o": order_id, "optout": OPT_OUT_PATTERN,
                             "intents": list(EXCLUDING_INTENTS)})
    r = cur.fetchone()
    return r[0] if r else None


# Generous on purpose (Amazon decides): from 5 days after the earliest promised delivery to 30
# days after the known delivery (first seen; an upper bound) or the latest promised one plus a
# few days for late parcels; merchant parcels last seen on their way are left for the next scan.
_CANDIDATES = """
SELECT f.amazon_order_id, f.marketplace, f.delivered_at,
       COALESCE(f.delivered_at, f.latest_delivery_date + %(late)s) + %(closes)s AS closes_at
FROM core.order_facts f
WHERE f.store_id = %(s)s AND f.order_status = 'Shipped'
  AND f.earliest_delivery_date + %(opens)s <= %(now)s
  AND COALESCE(f.delivered_at, f.latest_delivery_date + %(late)s) + %(closes)s >= %(now)s
  AND (f.package_status IS NULL OR f.package_status = 'DELIVERED')
  AND NOT EXISTS (SELECT 1 FROM core.outbox x WHERE x.idempotency_key = 'review_request:' || %(s)s || ':' || f.amazon_order_id)
ORDER BY closes_at, f.amazon_order_id
LIMIT %(limit)s
"""


def scan_review_requests(store: Any, dsn: str, now: datetime | None = None, *, client: Any = None,
                         limit: int = 500, refresh: bool = True) -> dict:
    """Queue today's review requests for ``store``; return counts: ``candidates``, ``queued``,
    ``not_offered``, ``excluded`` (and ``excluded_by`` reason), ``not_found``, ``deferred``
    (left for the next scan because Amazon throttled or failed) and ``packages_checked``.

    ``now`` bounds the windows (default: the clock); Amazon's answer is always about the real
    present, so a scan of a past day queues only what Amazon still offers. At most ``limit``
    orders are asked per scan, those whose window closes first.
    """
    from seller_inbox import clock, warehouse
    from seller_inbox.delivery import outbox
    from seller_inbox.orders import refresh_packages

    now = now or clock.now()
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now
    counts: dict[str, Any] = {"store_id": store.id, "candidates": 0, "queued": 0, "not_offered": 0, "excluded": 0,
                              "excluded_by": {}, "not_found": 0, "deferred": 0, "packages_checked": 0}
    own = client is None
    if own:
        from seller_inbox.spapi.hook import store_client

        client = store_client(store, dsn)
    conn = warehouse.connect(dsn)
    try:
        if refresh:
            counts["packages_checked"] = refresh_packages(store, dsn, now, client=client)["checked"]
        with conn, conn.cursor() as cur:
            cur.execute(_CANDIDATES, {"s": store.id, "now": now, "opens": WINDOW_OPENS, "closes": WINDOW_CLOSES,
                                      "late": LATE_SLACK, "limit": limit})
            candidates = cur.fetchall()
        counts["candidates"] = len(candidates)
        for i, (oid, mkt, delivered_at, closes_at) in enumerate(candidates):
            with conn, conn.cursor() as cur:
                why = exclusion(cur, store.id, oid)
            if why:
                counts["excluded"] += 1
                counts["excluded_by"][why] = counts["excluded_by"].get(why, 0) + 1
                continue
            m = store.marketplace(mkt) if mkt in store.marketplace_codes else None
            if m is None:
                counts["not_found"] += 1
                continue
            try:
                actions = ask_amazon(counts, store, oid, "getSolicitationActionsForOrder", len(candidates) - i,
                                     lambda: client.get_solicitation_actions(oid, m.info.marketplace_id))
            except ScanStopped:
                break
            if actions is NOT_FOUND:
                continue
            offered = OFFER in actions
            if not offered:
                counts["not_offered"] += 1
                continue
            basis = "delivered" if delivered_at else "promised delivery"
            with conn, conn.cursor() as cur:
                counts["queued"] += outbox.queue_review_request(
                    cur, key=KEY.format(store=store.id, order=oid), store_id=store.id, order_id=oid, marketplace=mkt,
                    expires=closes_at, reason=f"offered by Amazon on {now:%Y-%m-%d} ({basis} window)")
    finally:
        conn.close()
        if own:
            client.close()
    return counts


# ------------------------------------------------------------------ asking Amazon about one candidate
NOT_FOUND = object()


class ScanStopped(Exception):
    """Amazon throttled or failed: the rest of the candidates wait for the next scan."""


def ask_amazon(counts: dict, store: Any, order_id: str, what: str, left: int, call: Callable[[], Any]) -> Any:
    """Amazon's answer about one candidate order (the scans' shared rule). An order Amazon does
    not know, or a request it rejects, is counted ``not_found`` and gives ``NOT_FOUND``;
    throttling or an outage records the ``left`` orders as ``deferred`` and raises ``ScanStopped``."""
    from seller_inbox.spapi import (
        SpApiNotFound,
        SpApiRequestError,
        SpApiThrottled,
        SpApiUnavailable,
    )

    try:
        return call()
    except SpApiNotFound:
        pass
    except SpApiRequestError as exc:
        log.warning("store %s: order %s: %s rejected: %s", store.id, order_id, what, exc)
    except (SpApiThrottled, SpApiUnavailable) as exc:
        counts["deferred"] = left
        log.warning("store %s: %s: scan stopped, %d orders left for the next scan: %s", store.id, what, left, exc)
        raise ScanStopped(str(exc)) from exc
    counts["not_found"] += 1
    return NOT_FOUND


# ------------------------------------------------------------------ once a day (the deliver DAG)
SCAN_FROM = time(8, 0)                 # local time of the store's first marketplace
RESCAN_AFTER = timedelta(hours=1)      # a scan Amazon cut short is tried again after this
LOCK_CLASS = 727501


def daily_scan(store: Any, dsn: str, now: datetime | None = None, *, client: Any = None) -> dict:
    """Run ``scan_review_requests`` once per store and local day, from 08:00 in the store's first
    marketplace's zone (quiet hours would hold the sends anyway). The deliver DAG calls this on
    every run; ``ops.review_scan_day`` makes every call after the day's scan a no-op, except that
    a scan cut short by Amazon (``deferred``) runs again after ``RESCAN_AFTER``. The scan itself
    refreshes the packages of merchant orders first (``orders.refresh_packages``), whatever
    Orders API version the store reads with."""
    return once_a_day(store, dsn, now, table="review_scan_day", lock_class=LOCK_CLASS, name="review",
                      scan=lambda t: scan_review_requests(store, dsn, t, client=client))


def once_a_day(store: Any, dsn: str, now: datetime | None, *, table: str, lock_class: int, name: str,
               scan: Callable[[datetime], dict]) -> dict:
    """Run ``scan(now)`` once per store and local day from ``SCAN_FROM`` in the store's first
    marketplace's zone, recorded in ``ops.<table>`` (one row per store and local day); a scan
    whose counts say ``deferred > 0`` runs again after ``RESCAN_AFTER``. One scan of a store at a
    time (advisory lock ``lock_class``). Shared by the daily scans of the deliver DAG."""
    import json

    import psycopg2
    from psycopg2 import sql

    from seller_inbox import clock, warehouse

    now = now or clock.now()
    local = now.astimezone(store.marketplaces[0].zone)
    out: dict[str, Any] = {"store_id": store.id, "local_day": local.date().isoformat()}
    if local.time() < SCAN_FROM:
        return {**out, "scan": f"waits for {SCAN_FROM:%H:%M} local time"}
    days = sql.Identifier("ops", table)
    conn = warehouse.connect(dsn, application_name=f"seller-inbox-{name}-scan-{store.id}")
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", (lock_class, store.id))
            if not cur.fetchone()[0]:
                return {**out, "scan": "busy: another scan of this store is running"}
            cur.execute(sql.SQL("SELECT complete, scanned_at FROM {} WHERE store_id = %s AND local_day = %s")
                        .format(days), (store.id, local.date()))
            done = cur.fetchone()
        if done and (done[0] or now - done[1] < RESCAN_AFTER):
            return {**out, "scan": "done today" if done[0] else "cut short today; tried again later"}
        counts = scan(now)
        with conn.cursor() as cur:
            cur.execute(
                sql.SQL("""INSERT INTO {} (store_id, local_day, complete, counts, scanned_at)
                   VALUES (%s, %s, %s, %s, %s)
                   ON CONFLICT (store_id, local_day) DO UPDATE SET complete = EXCLUDED.complete,
                       counts = EXCLUDED.counts, scanned_at = EXCLUDED.scanned_at""").format(days),
                (store.id, local.date(), counts["deferred"] == 0, json.dumps(counts), now))
        return {**out, "scan": "ran", **counts}
    finally:
        try:  # unlock explicitly: a closed session's locks go only once its backend has exited
            with conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock_all()")
        except psycopg2.Error:
            pass  # the session is gone, and its locks with it
        conn.close()
