"""The act stage: decide, per classified buyer message, what the store allows us to do.

It only *queues*: the deliver DAG is the one path that sends (docs/delivery.md), and it reads
kill switches, quiet hours, caps and the linter again at send time. ``listen`` records a
``shadow`` row (what would have been sent, never sent); ``draft`` renders a reply and queues
it for human approval; ``auto`` renders, lints and queues it for sending. Guards, in order:
messages already answered (skipped), stale messages (expired: a late reply does harm), a
backfill (never sends: fresh replies wait for a person), low-confidence labels and
templates that need a human (demoted to draft), compliance findings (blocked). Every
decision is one ``core.outbox`` row keyed by an idempotency key, inserted once: no retry,
rerun or backfill can queue the same reply twice.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from seller_inbox import compliance, templating
from seller_inbox.config import StoreConfig

GENERIC = "generic_reply"

_SELECT = """
SELECT m.message_id, m.marketplace, m.order_id, m.intent, m.language, m.low_confidence,
       m.received_at, m.first_reply_at, m.topic, m.thread_id, r.parsed->'references' AS refs
FROM core.message m
LEFT JOIN raw.mail_message r ON r.store_id = m.store_id AND r.message_id = m.message_id
WHERE m.store_id = %s AND m.kind = 'buyer_message' AND m.intent IS NOT NULL
  AND m.received_at >= %s AND m.received_at < %s
ORDER BY m.received_at
"""


def idempotency_key(store_id: str, message_id: str, action: str = "reply") -> str:
    return f"{action}:{store_id}:{message_id}"


def template_for(intent: str | None) -> str:
    """The template answering ``intent`` (templating.INTENT_TEMPLATES), else the skeleton a person completes."""
    return templating.INTENT_TEMPLATES.get(intent or "", GENERIC)


def answers_from_facts(template: str) -> bool:
    """A template that states order facts and needs no person to write the answer (may go in auto)."""
    return not templating.CATALOG[template].needs_person


def order_context(order_id: str, facts: dict | None, tz) -> dict:
    """What the templates may state about the order (docs/templates.md), from ``orders.order_facts``:
    dates in the marketplace's zone; ``Delivered`` once every package is; the return deadline only
    once the delivery is known (before that it would be a guess)."""
    if not facts:
        return {"id": order_id}

    def d(v):
        return v.astimezone(tz).date() if v else None

    delivered = d(facts["delivered_at"])
    return {
        "id": order_id,
        "status": "Delivered" if delivered else facts["status"],
        "ship_by": d(facts["ship_by"]), "ship_date": d(facts["ship_date"]),
        "carrier": facts["carrier"], "tracking_number": facts["tracking_number"],
        "delivery_start": d(facts["delivery_window_start"]),
        "delivery_end": delivered or d(facts["delivery_window_end"]),
        "return_by": d(facts["return_window_end"]) if delivered else None,
    }


def _references(refs) -> str | None:
    """The buyer mail's References as one header value (the reply adds the buyer's Message-ID)."""
    if isinstance(refs, str):
        refs = refs.split()
    return " ".join(r for r in (refs or []) if isinstance(r, str) and r) or None


def decide(store: StoreConfig, row: dict, now: datetime, global_kill: bool = False, *,
           backfill: bool = False, facts: dict | None = None) -> dict | None:
    """The outbox row for one message (``global_kill`` is read at send time, not here).

    ``facts``: ``orders.order_facts`` of the message's order (None: not in the warehouse)."""
    mode = store.mode_for(row["intent"])
    m = store.marketplace(row["marketplace"]) if row["marketplace"] in store.marketplace_codes else store.marketplaces[0]
    template = template_for(row["intent"])
    reason = None
    if answers_from_facts(template) and facts is None:
        template, reason = GENERIC, "order not loaded yet: needs a person"
    if mode == "auto" and (row["low_confidence"] or not answers_from_facts(template)):
        mode, reason = "draft", reason or ("low-confidence label" if row["low_confidence"] else "needs a person")
    locale = templating.resolve_locale(template, [row["language"], m.info.language]) or "en"
    ctx = {
        "store": {"id": store.id, "name": store.name},
        "order": order_context(row["order_id"], facts, m.zone),
        "message": {"subject_topic": row["topic"], "intent": row["intent"]},
        "today": now.astimezone(m.zone).date(),
    }
    subject, body = templating.render(template, locale, ctx)
    findings = [f.as_dict() for f in compliance.lint(subject, body, order_id=row["order_id"], locale=locale,
                                                     kind=templating.CATALOG[template].kind)]
    max_age = timedelta(hours=store.max_reply_age_hours)
    if mode == "listen":
        status, reason = "shadow", "listen mode: what would have been sent"
    elif row["first_reply_at"] is not None:
        status, reason = "skipped", "already answered"
    elif now - row["received_at"] > max_age:
        status, reason = "expired", f"stale: older than {store.max_reply_age_hours} h (backfill or outage)"
    elif backfill:
        mode, status, reason = "draft", "pending_approval", "backfill run: never sends by itself, a person decides"
    elif mode == "draft":
        status = "pending_approval"
    elif findings:
        status, reason = "blocked", "compliance: " + ", ".join(f["code"] for f in findings)
    else:
        status = "queued"
    return {
        "idempotency_key": idempotency_key(store.id, row["message_id"]),
        "store_id": store.id, "message_id": row["message_id"], "order_id": row["order_id"],
        "action": "reply", "channel": "smtp", "template": template, "locale": locale, "subject": subject, "body": body,
        "mode": mode, "status": status, "status_reason": reason, "lint_findings": json.dumps(findings),
        "thread_id": row.get("thread_id"), "marketplace": m.code, "in_reply_to": row["message_id"],
        "thread_references": _references(row.get("refs")), "expires_at": row["received_at"] + max_age,
    }


_REFERENCED = """
SELECT DISTINCT m.order_id, m.intent, o.amazon_order_id IS NOT NULL AS loaded FROM core.message m
LEFT JOIN raw.orders o ON o.amazon_order_id = m.order_id
WHERE m.store_id = %s AND m.kind = 'buyer_message' AND m.order_id IS NOT NULL
  AND m.received_at >= %s AND m.received_at < %s
"""


def _fetch_orders(store: StoreConfig, dsn: str, start: datetime, end: datetime, now: datetime) -> dict | None:
    """Load, through the SP-API, what replies need to state facts: orders the messages name that
    no orders window loaded, and the packages (carrier, tracking number) of those asked about
    with a facts template — Orders v0 never carries tracking, and a parcel may have shipped since
    the order was read (``orders.refresh_packages`` asks only about shipped merchant orders whose
    parcels are not all delivered). Listen-mode intents cost no API call."""
    from seller_inbox import warehouse

    with warehouse.connect(dsn) as c, c.cursor() as cur:
        cur.execute(_REFERENCED, (store.id, start, end))
        refs = [(oid, intent, loaded) for oid, intent, loaded in cur.fetchall()
                if intent and store.mode_for(intent) != "listen"]
    c.close()
    missing = sorted({oid for oid, _, loaded in refs if not loaded})
    facts = sorted({oid for oid, intent, _ in refs if answers_from_facts(template_for(intent))})
    if not (missing or facts):
        return None
    from seller_inbox.orders import load_referenced_orders, refresh_packages
    from seller_inbox.spapi.hook import store_client

    client = store_client(store, dsn)
    try:
        out = load_referenced_orders(store, dsn, missing, client=client)
        if facts:
            out["packages_checked"] = refresh_packages(store, dsn, now, client=client, order_ids=facts)["checked"]
        return out
    finally:
        client.close()


def act_on_messages(store: StoreConfig, dsn: str, start: datetime, end: datetime,
                    now: datetime | None = None, *, fetch_orders: bool = True, backfill: bool = False) -> dict:
    """Decide and queue replies for the store's classified buyer messages in [start, end).

    ``backfill``: the run re-processes a past window; nothing it decides is sent without a person.

    ``fetch_orders``: first load, through the SP-API, the orders and parcels these messages ask
    about (``_fetch_orders``), so replies can state facts (False: decide on what is stored).
    """
    import psycopg2.extras

    from seller_inbox import warehouse
    from seller_inbox.delivery import outbox
    from seller_inbox.orders import order_facts

    now = now or datetime.now(timezone.utc)
    fetched = _fetch_orders(store, dsn, start, end, now) if fetch_orders else None
    conn = warehouse.connect(dsn)
    counts: dict[str, int] = {}
    try:
        with conn, conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute(_SELECT, (store.id, start, end))
            rows = []
            for msg in cur.fetchall():
                facts = order_facts(cur, store.id, msg["order_id"]) if msg["order_id"] else None
                rows.append(decide(store, msg, now, backfill=backfill, facts=facts))
            rows = [r for r in rows if r]
            outbox.enqueue(cur, rows)
            for r in rows:
                counts[r["status"]] = counts.get(r["status"], 0) + 1
    finally:
        conn.close()
    return {"decisions": counts, "orders_fetched": fetched}
