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

# intents answered with facts we hold; everything else gets a draft skeleton for a person
AUTO_TEMPLATES = {"order_status": "order_status"}
GENERIC = "generic_reply"

_SELECT = """
SELECT m.message_id, m.marketplace, m.order_id, m.intent, m.language, m.low_confidence,
       m.received_at, m.first_reply_at, m.topic, m.thread_id, r.parsed->'references' AS refs,
       o.order_status, o.latest_ship_date, o.earliest_delivery_date, o.latest_delivery_date,
       (SELECT max(i.quantity) FROM raw.order_items i WHERE i.amazon_order_id = o.amazon_order_id) AS qty
FROM core.message m
LEFT JOIN raw.orders o ON o.amazon_order_id = m.order_id
LEFT JOIN raw.mail_message r ON r.store_id = m.store_id AND r.message_id = m.message_id
WHERE m.store_id = %s AND m.kind = 'buyer_message' AND m.intent IS NOT NULL
  AND m.received_at >= %s AND m.received_at < %s
ORDER BY m.received_at
"""


def idempotency_key(store_id: str, message_id: str, action: str = "reply") -> str:
    return f"{action}:{store_id}:{message_id}"


def _order_context(row: dict, tz) -> dict:
    def d(v):
        return v.astimezone(tz).date().isoformat() if v else None

    window = None
    if row["earliest_delivery_date"] and row["latest_delivery_date"]:
        a, b = d(row["earliest_delivery_date"]), d(row["latest_delivery_date"])
        window = a if a == b else f"{a} – {b}"
    return {
        "id": row["order_id"], "status": row["order_status"], "ship_by": d(row["latest_ship_date"]),
        "ship_date": None, "delivery_window": window,
    }


def _references(refs) -> str | None:
    """The buyer mail's References as one header value (the reply adds the buyer's Message-ID)."""
    if isinstance(refs, str):
        refs = refs.split()
    return " ".join(r for r in (refs or []) if isinstance(r, str) and r) or None


def decide(store: StoreConfig, row: dict, now: datetime, global_kill: bool = False, *,
           backfill: bool = False) -> dict | None:
    """The outbox row for one message (``global_kill`` is read at send time, not here)."""
    mode = store.mode_for(row["intent"])
    m = store.marketplace(row["marketplace"]) if row["marketplace"] in store.marketplace_codes else store.marketplaces[0]
    template = AUTO_TEMPLATES.get(row["intent"], GENERIC)
    reason = None
    if template == AUTO_TEMPLATES.get(row["intent"]) and not row["order_status"]:
        template, reason = GENERIC, "order not loaded yet: needs a person"
    if mode == "auto" and (row["low_confidence"] or template == GENERIC):
        mode, reason = "draft", reason or ("low-confidence label" if row["low_confidence"] else "needs a person")
    locale = templating.resolve_locale(template, [row["language"], m.info.language]) or "en"
    ctx = {
        "store": {"id": store.id, "name": store.name},
        "order": _order_context(row, m.zone) if row["order_id"] else {"id": None},
        "message": {"subject_topic": row["topic"], "intent": row["intent"]},
    }
    subject, body = templating.render(template, locale, ctx)
    findings = [f.as_dict() for f in compliance.lint(subject, body, order_id=row["order_id"])]
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
SELECT DISTINCT m.order_id, m.intent FROM core.message m
LEFT JOIN raw.orders o ON o.amazon_order_id = m.order_id
WHERE m.store_id = %s AND m.kind = 'buyer_message' AND m.order_id IS NOT NULL AND o.amazon_order_id IS NULL
  AND m.received_at >= %s AND m.received_at < %s
"""


def act_on_messages(store: StoreConfig, dsn: str, start: datetime, end: datetime,
                    now: datetime | None = None, *, fetch_orders: bool = True, backfill: bool = False) -> dict:
    """Decide and queue replies for the store's classified buyer messages in [start, end).

    ``backfill``: the run re-processes a past window; nothing it decides is sent without a person.

    ``fetch_orders``: first load, through the SP-API, the orders these messages name that no
    orders window has loaded yet, so replies can state facts (False: decide on what is stored).
    """
    import psycopg2
    import psycopg2.extras

    now = now or datetime.now(timezone.utc)
    fetched = None
    if fetch_orders:
        with psycopg2.connect(dsn) as c, c.cursor() as cur:
            cur.execute(_REFERENCED, (store.id, start, end))
            wanted = [oid for oid, intent in cur.fetchall() if intent and store.mode_for(intent) != "listen"]
        c.close()
        if wanted:
            from seller_inbox.orders import load_referenced_orders

            fetched = load_referenced_orders(store, dsn, wanted)
    conn = psycopg2.connect(dsn)
    counts: dict[str, int] = {}
    try:
        with conn, conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute(_SELECT, (store.id, start, end))
            rows = [decide(store, r, now, backfill=backfill) for r in cur.fetchall()]
            rows = [r for r in rows if r]
            if rows:
                cols = list(rows[0])
                psycopg2.extras.execute_values(
                    cur,
                    f"INSERT INTO core.outbox ({', '.join(cols)}) VALUES %s ON CONFLICT (idempotency_key) DO NOTHING",
                    [tuple(r[c] for c in cols) for r in rows],
                )
            for r in rows:
                counts[r["status"]] = counts.get(r["status"], 0) + 1
    finally:
        conn.close()
    return {"decisions": counts, "orders_fetched": fetched}
