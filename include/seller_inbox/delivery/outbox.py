"""Every write of ``core.outbox``, as small functions on the caller's cursor (the caller keeps
its transaction and commits). Rows are queued (by the act stage and the daily scans), decided
by a reviewer (the UI) and moved through their states by the deliverer (docs/delivery.md);
no other module writes the table (docs/data-dictionary.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


# ------------------------------------------------------------------ queueing (once per idempotency key)
def enqueue(cur: Any, rows: list[dict]) -> None:
    """Insert the act stage's decided rows (all with the same columns); a key already queued is
    left as it is, so a rerun adds nothing."""
    import psycopg2.extras

    if not rows:
        return
    cols = list(rows[0])
    psycopg2.extras.execute_values(
        cur,
        f"INSERT INTO core.outbox ({', '.join(cols)}) VALUES %s ON CONFLICT (idempotency_key) DO NOTHING",
        [tuple(r[c] for c in cols) for r in rows],
    )


def queue_review_request(cur: Any, *, key: str, store_id: str, order_id: str, marketplace: str, reason: str,
                         expires: datetime) -> bool:
    """Queue one review request (``queued``, auto); True if inserted, False if the order has one."""
    cur.execute(
        """
INSERT INTO core.outbox (idempotency_key, store_id, order_id, action, channel, marketplace, template, mode,
                         status, status_reason, expires_at)
VALUES (%(key)s, %(s)s, %(o)s, 'review_request', 'solicitations', %(mkt)s, 'review_request', 'auto',
        'queued', %(reason)s, %(expires)s)
ON CONFLICT (idempotency_key) DO NOTHING RETURNING 1
""",
        {"key": key, "s": store_id, "o": order_id, "mkt": marketplace, "expires": expires, "reason": reason})
    return cur.fetchone() is not None


def queue_proactive(cur: Any, key: str, store_id: str, order_id: str, *, marketplace: str, template: str | None,
                    locale: str, body: str, expires_at: datetime | None) -> bool:
    """Queue one proactive message (``queued``, auto); True if inserted, False if already there."""
    cur.execute(
        """INSERT INTO core.outbox (idempotency_key, store_id, order_id, action, channel, marketplace, template,
                                    locale, body, mode, status, expires_at)
           VALUES (%s, %s, %s, 'proactive', 'messaging', %s, %s, %s, %s, 'auto', 'queued', %s)
           ON CONFLICT (idempotency_key) DO NOTHING RETURNING 1""",
        (key, store_id, order_id, marketplace, template, locale, body, expires_at))
    return cur.fetchone() is not None


# ------------------------------------------------------------------ a reviewer's decision (the UI)
def approve(cur: Any, key: str, user: str, *, subject: str, body: str, edited: bool, reason: str | None) -> bool:
    """Approve a row still ``pending_approval`` with its (possibly edited) text; True if it was."""
    cur.execute(
        """UPDATE core.outbox
           SET status = 'approved', subject = %s, body = %s, lint_findings = '[]'::jsonb,
               original_body = CASE WHEN %s THEN coalesce(original_body, body) ELSE original_body END,
               decided_by = %s, decided_at = now(), updated_at = now(),
               status_reason = coalesce(%s, status_reason)
           WHERE idempotency_key = %s AND status = 'pending_approval'""",
        (subject, body, edited, user, reason, key))
    return cur.rowcount == 1


def reject(cur: Any, key: str, user: str, reason: str | None) -> bool:
    """Reject a row still ``pending_approval``; True if it was."""
    cur.execute(
        """UPDATE core.outbox
           SET status = 'rejected', decided_by = %s, decided_at = now(), updated_at = now(),
               status_reason = %s
           WHERE idempotency_key = %s AND status = 'pending_approval'""",
        (user, (reason or "").strip()[:500] or "rejected by reviewer", key))
    return cur.rowcount == 1


# ------------------------------------------------------------------ the deliverer's transitions
def set_status(cur: Any, key: str, status: str, reason: str | None, *, expect: str, **cols: Any) -> bool:
    """Move a row to ``status`` (with ``cols``) only from ``expect``; True if it moved."""
    sets = ", ".join(f"{c} = %({c})s" for c in cols)
    cur.execute(
        f"""UPDATE core.outbox SET status = %(status)s, status_reason = %(reason)s, updated_at = now()
            {', ' + sets if sets else ''}
            WHERE idempotency_key = %(key)s AND status = %(expect)s""",
        {"status": status, "reason": reason, "key": key, "expect": expect, **cols})
    return cur.rowcount == 1


def expire(cur: Any, store_id: str, now: datetime, *, approval_ttl: Any, approval_ttl_hours: int,
           max_reply_age: Any, max_reply_age_hours: int) -> int:
    """Expire the store's approvals not given within ``approval_ttl``, replies to buyer messages
    older than ``max_reply_age`` and rows past their send-by time; return how many."""
    cur.execute(
        """UPDATE core.outbox SET status = 'expired', updated_at = now(),
                  status_reason = 'approval not given within ' || %(ttl_h)s || ' h'
           WHERE store_id = %(s)s AND status = 'pending_approval' AND created_at + %(ttl)s <= %(now)s""",
        {"s": store_id, "ttl": approval_ttl, "ttl_h": approval_ttl_hours, "now": now})
    n = cur.rowcount
    cur.execute(
        """UPDATE core.outbox o SET status = 'expired', updated_at = now(),
                  status_reason = 'buyer message older than ' || %(h)s || ' h: a late automatic reply does more harm than good'
           FROM core.message m
           WHERE o.store_id = %(s)s AND o.action = 'reply' AND m.store_id = o.store_id AND m.message_id = o.message_id
             AND o.status IN ('pending_approval', 'queued', 'approved', 'held')
             AND m.received_at + %(age)s <= %(now)s""",
        {"s": store_id, "h": max_reply_age_hours, "age": max_reply_age, "now": now})
    n += cur.rowcount
    cur.execute(
        """UPDATE core.outbox SET status = 'expired', updated_at = now(), status_reason = 'past its send-by time'
           WHERE store_id = %(s)s AND status IN ('pending_approval', 'queued', 'approved', 'held')
             AND expires_at <= %(now)s""", {"s": store_id, "now": now})
    return n + cur.rowcount


def mark_sent(cur: Any, key: str, reason: str | None, sent_at: datetime) -> bool:
    """A row the deliverer claimed (``sending``) is ``sent``; True if it was still claimed."""
    cur.execute("""UPDATE core.outbox SET status = 'sent', status_reason = %s, sent_at = %s, updated_at = now(),
                          last_error = NULL WHERE idempotency_key = %s AND status = 'sending'""",
                (reason, sent_at, key))
    return bool(cur.rowcount)


def note_error(cur: Any, key: str, error: str) -> None:
    """Keep the error of a send whose outcome is unknown (the row stays ``sending``)."""
    cur.execute("UPDATE core.outbox SET last_error = %s, updated_at = now() WHERE idempotency_key = %s",
                (error, key))
