"""``seller-inbox warehouse rederive``: rebuild a store's ``core`` messages and ``kpi`` rows from ``raw``.

For a warehouse whose ``core``/``kpi`` rows of a window were lost or damaged (a restore of an
older or ``raw``-only dump, a bad manual DELETE, a KPI bug fixed) while ``raw`` kept what came
in (docs/runbook.md, "Restore the warehouse"). It calls the pipeline's own pieces, in the
pipeline's order, on the rows ``raw`` holds — nothing is read from the mailbox or Amazon, and
nothing is alerted, queued or sent:

1. every ``raw.mail_message`` of [since, until) missing from ``core.message`` is put back from
   its stored (redacted) parse with the ingest's statements (``mail.messages``): threads,
   seller replies attached, reply links and thread figures recomputed. Rows a data-quality gate
   set aside (``ops.dq_quarantine``, not released) stay out, as the gate left them;
2. the classifier labels what has no label of its version (``classify_store_messages``);
3. the KPI days of the window are recomputed (``kpi.compute_store_daily``) as of ``now``.

Not derivable from ``raw``, so never touched here: ``core.outbox`` (the send journal: restore
it from the backup, never rebuild it), encrypted buyer aliases (``core.thread_alias``; the
deliverer falls back to the mailbox), a person's label corrections (``core.label_feedback``
keeps them) and replies the deliverer sent whose Sent-folder copy was not read yet.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

log = logging.getLogger(__name__)
UTC = timezone.utc


def restore_messages(store, dsn: str, since: datetime, until: datetime) -> dict:
    """Put back into ``core.message``/``core.thread`` the raw mails of [since, until) they lack."""
    from psycopg2.extras import Json

    from seller_inbox import warehouse
    from seller_inbox.domain import response_clock
    from seller_inbox.mail import messages
    from seller_inbox.mail.ingest import CORE_KINDS
    from seller_inbox.mail.parser import ParsedMail, thread_key

    conn = warehouse.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(727200, hashtext(%s))", (store.id,))  # the ingest batch lock
            cur.execute(
                """SELECT r.received_at, r.parsed FROM raw.mail_message r
                   WHERE r.store_id = %(s)s AND r.received_at >= %(a)s AND r.received_at < %(b)s
                     AND r.kind = ANY(%(kinds)s)
                     AND NOT EXISTS (SELECT 1 FROM core.message m
                                     WHERE m.store_id = r.store_id AND m.message_id = r.message_id)
                     AND NOT EXISTS (SELECT 1 FROM ops.dq_quarantine q WHERE q.store_id = r.store_id
                                     AND q.batch = 'messages' AND q.row_key = r.message_id AND q.released_at IS NULL)
                   ORDER BY r.received_at, r.message_id""",
                {"s": store.id, "a": since, "b": until, "kinds": list(CORE_KINDS)})
            mails = [ParsedMail.from_dict(d, received_at) for received_at, d in cur.fetchall()]
            threads: dict[str, tuple] = {}
            rows = []
            for p in mails:
                tid = thread_key(store.id, p.buyer_alias, p.order_id) if p.buyer_alias else None
                if tid:
                    threads.setdefault(tid, (tid, store.id, p.marketplace, p.buyer_alias, p.order_id))
                rows.append((store.id, p.message_id, tid, p.kind, p.direction, p.marketplace, p.order_id, p.asin,
                             p.buyer_alias, p.in_reply_to, p.topic, p.subject, p.text, p.language,
                             Json(p.attachments), p.received_at, p.no_response_needed,
                             response_clock.due_at(p.received_at) if p.kind == "buyer_message" else None))
            touched: set[str] = set(threads)
            if threads:
                messages.insert_threads(cur, list(threads.values()))
            if rows:
                messages.insert_messages(cur, rows)
                touched |= messages.attach_replies(cur, store.id, [p.message_id for p in mails])
            if touched:
                messages.recompute_threads(cur, store.id, sorted(touched))
    finally:
        conn.close()
    return {"messages_restored": len(mails), "threads_touched": len(touched)}


def rederive(store, dsn: str, since: datetime, until: datetime, now: datetime | None = None) -> dict:
    """``core`` then ``kpi`` of [since, until) for ``store`` from ``raw``; returns the counts of each step."""
    from seller_inbox import clock
    from seller_inbox.classify import classify_store_messages
    from seller_inbox.kpi import compute_store_daily

    now = now or clock.now()
    out = {"store": store.id, "since": since.isoformat(), "until": until.isoformat()}
    out.update(restore_messages(store, dsn, since, until))
    labelled = classify_store_messages(store, dsn, since, until)
    out["classified"] = labelled.get("classified", 0)
    out["kpi"] = compute_store_daily(store, dsn, since, until, now=now)
    log.info("rederive %s", out)
    return out
