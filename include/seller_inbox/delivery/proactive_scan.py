"""The daily proactive-message scan: for a store whose registry ``proactive`` list holds
``confirmDeliveryDetails``, queue one delivery confirmation per merchant-fulfilled order on its
way (docs/delivery.md).

Per store: refresh the packages of merchant orders (``orders.refresh_packages``), pick the
orders that shipped (a package handed to the carrier, with a tracking number), are not
delivered, were bought within the last 30 days and have no such row yet; drop excluded orders
(``review_scan.exclusion``: canceled or undeliverable, a negative or high-risk message, an
opted-out buyer) before asking Amazon anything; ask getMessagingActionsForOrder whether the type
is offered now and GetAttributes for the buyer's locale (else the marketplace's language);
render ``delivery_confirmation`` in that language with carrier and tracking number, lint it and
queue it (``messaging.queue_proactive``: once per order and type, whatever reruns). A text the
linter flags, or a buyer language without the template, is not queued (counted and logged).
The deliverer sends the rows after its own checks (quiet hours hold them until morning), and
``messaging.send_proactive`` checks offer, locale and text again at send time.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any

from seller_inbox.delivery import messaging
from seller_inbox.delivery.review_scan import (
    NOT_FOUND,
    ScanStopped,
    ask_amazon,
    exclusion,
    once_a_day,
)

log = logging.getLogger(__name__)
UTC = timezone.utc

KIND = "confirmDeliveryDetails"     # the Messaging API type (spapi.MESSAGE_KINDS)
TEMPLATE = "delivery_confirmation"
PURCHASE_WINDOW = timedelta(days=30)  # no confirmation for orders bought longer ago
LOCK_CLASS = 727502

_CANDIDATES = """
SELECT f.amazon_order_id, f.marketplace, f.purchase_date
FROM core.order_facts f
WHERE f.store_id = %(s)s AND f.fulfillment_channel = 'MFN' AND f.order_status IN ('Shipped', 'PartiallyShipped')
  AND f.purchase_date <= %(now)s AND f.purchase_date + %(window)s >= %(now)s
  AND f.ship_date IS NOT NULL AND f.tracking_number IS NOT NULL  -- the first package's, which the text names
  AND f.delivered_at IS NULL AND f.package_status IS DISTINCT FROM 'DELIVERED'
  AND NOT EXISTS (SELECT 1 FROM core.outbox x WHERE x.idempotency_key = replace(%(key)s, '{}', f.amazon_order_id))
ORDER BY f.purchase_date, f.amazon_order_id
LIMIT %(limit)s
"""


def enabled(store: Any) -> bool:
    """Whether the store opted in to delivery confirmations (registry ``proactive``)."""
    return KIND in store.proactive


def compose(store: Any, m: Any, facts: dict, buyer_locale: str | None,
            now: datetime) -> tuple[str | None, str, str | None]:
    """The confirmation for one order: ``(body, locale, problem)``; ``problem`` (one line) says
    why nothing may be queued. ``locale``: the buyer's (GetAttributes), else the marketplace's
    language; the text is rendered in its language, or not at all."""
    from seller_inbox import compliance, templating
    from seller_inbox.act import (
        order_context,  # the one mapping of order facts to template variables
    )
    from seller_inbox.spapi import MESSAGE_KINDS

    oid = facts["order_id"]
    locale = buyer_locale or m.info.language
    try:
        lang = compliance.buyer_language(locale)
    except ValueError:
        lang = None
    if lang not in templating.locales_for(TEMPLATE):
        return None, locale, f"no {TEMPLATE} template in the buyer's language"
    ctx = {"store": {"id": store.id, "name": store.name}, "order": order_context(oid, facts, m.zone),
           "today": now.astimezone(m.zone).date()}
    _, body = templating.render(TEMPLATE, lang, ctx)
    findings = compliance.lint("", body, order_id=oid, locale=locale, kind="proactive", channel="messaging",
                               max_chars=MESSAGE_KINDS[KIND][1])
    if findings:
        return None, locale, "compliance: " + ", ".join(f.code for f in findings)
    if facts["tracking_number"] not in body:
        return None, locale, "the text does not carry the tracking number"
    return body, locale, None


def scan_proactive(store: Any, dsn: str, now: datetime | None = None, *, client: Any = None,
                   limit: int = 500, refresh: bool = True) -> dict:
    """Queue today's delivery confirmations for ``store`` (nothing unless it opted in); return
    counts: ``candidates``, ``queued``, ``not_offered``, ``excluded`` (and ``excluded_by``
    reason), ``not_found``, ``not_queued`` (and ``not_queued_by`` problem: linter findings, no
    template in the buyer's language), ``deferred`` (left for the next scan because Amazon
    throttled or failed) and ``packages_checked``. At most ``limit`` orders per scan, the
    oldest purchases first."""
    from seller_inbox import clock, warehouse
    from seller_inbox.orders import order_facts, refresh_packages

    now = now or clock.now()
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now
    counts: dict[str, Any] = {"store_id": store.id, "kind": KIND, "candidates": 0, "queued": 0, "not_offered": 0,
                              "excluded": 0, "excluded_by": {}, "not_found": 0, "not_queued": 0,
                              "not_queued_by": {}, "deferred": 0, "packages_checked": 0}
    if not enabled(store):
        return counts
    own = client is None
    if own:
        from seller_inbox.spapi.hook import store_client

        client = store_client(store, dsn)
    conn = warehouse.connect(dsn)
    try:
        if refresh:
            counts["packages_checked"] = refresh_packages(store, dsn, now, client=client)["checked"]
        with conn, conn.cursor() as cur:
            cur.execute(_CANDIDATES, {"s": store.id, "now": now, "window": PURCHASE_WINDOW, "limit": limit,
                                      "key": messaging.idempotency_key(store.id, "{}", KIND)})
            candidates = cur.fetchall()
        counts["candidates"] = len(candidates)
        for i, (oid, mkt, purchased) in enumerate(candidates):
            with conn, conn.cursor() as cur:
                why = exclusion(cur, store.id, oid)
                facts = order_facts(cur, store.id, oid)
            if why:
                counts["excluded"] += 1
                counts["excluded_by"][why] = counts["excluded_by"].get(why, 0) + 1
                continue
            m = store.marketplace(mkt) if mkt in store.marketplace_codes else None
            if m is None or facts is None:
                counts["not_found"] += 1
                continue
            try:
                actions = ask_amazon(counts, store, oid, "getMessagingActionsForOrder", len(candidates) - i,
                                     lambda: client.get_messaging_actions(oid, m.info.marketplace_id))
                if actions is NOT_FOUND:
                    continue
                if KIND not in actions:
                    counts["not_offered"] += 1
                    continue
                attributes = ask_amazon(counts, store, oid, "GetAttributes", len(candidates) - i,
                                        lambda: client.get_attributes(oid, m.info.marketplace_id))
                if attributes is NOT_FOUND:
                    continue
            except ScanStopped:
                break
            buyer_locale = (attributes or {}).get("locale")
            body, locale, problem = compose(store, m, facts, buyer_locale, now)
            if problem:
                counts["not_queued"] += 1
                counts["not_queued_by"][problem] = counts["not_queued_by"].get(problem, 0) + 1
                log.warning("store %s: order %s: %s not queued (buyer locale %s): %s", store.id, oid, KIND, locale,
                            problem)
                continue
            with conn, conn.cursor() as cur:
                counts["queued"] += messaging.queue_proactive(
                    cur, store.id, oid, KIND, marketplace=mkt, body=body, locale=locale, template=TEMPLATE,
                    expires_at=purchased + PURCHASE_WINDOW)
    finally:
        conn.close()
        if own:
            client.close()
    return counts


def daily_scan(store: Any, dsn: str, now: datetime | None = None, *, client: Any = None,
               refresh: bool = True) -> dict:
    """Run ``scan_proactive`` once per store and local day from 08:00 in the store's first
    marketplace's zone (``ops.proactive_scan_day``; a scan Amazon cut short runs again after an
    hour), like the review-request scan. A store that did not opt in costs nothing: no
    database, no API call. ``refresh=False`` when the packages were just refreshed."""
    if not enabled(store):
        return {"store_id": store.id, "scan": "not enabled (registry: proactive)"}
    return once_a_day(store, dsn, now, table="proactive_scan_day", lock_class=LOCK_CLASS, name="proactive",
                      scan=lambda t: scan_proactive(store, dsn, t, client=client, refresh=refresh))
