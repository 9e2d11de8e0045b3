"""Every write of ``core.message`` and ``core.thread`` (a thread's row is derived from its
messages), as small functions on the caller's cursor: the caller keeps its transaction and
its locks. Ingestion inserts and threads, the classifier labels, the deliverer records the
replies it sent, a data-quality gate sets messages aside; no other module writes these
tables (docs/data-dictionary.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


# ------------------------------------------------------------------ ingestion
def insert_threads(cur: Any, rows: list[tuple]) -> None:
    """Create threads ``(thread_id, store_id, marketplace, buyer_alias_hash, order_id)`` not yet there."""
    from psycopg2.extras import execute_values

    execute_values(
        cur,
        """INSERT INTO core.thread (thread_id, store_id, marketplace, buyer_alias_hash, order_id)
           VALUES %s ON CONFLICT (thread_id) DO NOTHING""", rows)


def insert_messages(cur: Any, rows: list[tuple]) -> None:
    """Insert parsed mails (in ``ingest._insert_mails``' column order); a Message-ID already
    stored for the store is left as it is."""
    from psycopg2.extras import execute_values

    execute_values(
        cur,
        """INSERT INTO core.message (store_id, message_id, thread_id, kind, direction, marketplace,
               order_id, asin, buyer_alias_hash, in_reply_to, topic, subject, body_text, language_hint,
               attachments, received_at, no_response_needed, sla_due_at) VALUES %s
           ON CONFLICT (store_id, message_id) DO NOTHING""", rows, page_size=500)


def attach_replies(cur: Any, sid: str, new_ids: list[str]) -> set[str]:
    """Put outbound mails into their buyer's thread; return every thread id touched."""
    touched: set[str] = set()
    # 1. outbound mails answering a known message (In-Reply-To): that message's thread.
    #    Covers both new replies and older replies whose buyer message arrives only now.
    cur.execute(
        """UPDATE core.message m SET thread_id = x.new_tid
           FROM (
             SELECT m2.message_id, m2.thread_id AS old_tid, p.thread_id AS new_tid
             FROM core.message m2 JOIN core.message p ON p.store_id = m2.store_id AND p.message_id = m2.in_reply_to
             WHERE m2.store_id = %(s)s AND m2.direction = 'outbound' AND p.thread_id IS NOT NULL
               AND m2.thread_id IS DISTINCT FROM p.thread_id
               AND (m2.message_id = ANY(%(ids)s) OR p.message_id = ANY(%(ids)s))
           ) x
           WHERE m.store_id = %(s)s AND m.message_id = x.message_id
           RETURNING x.old_tid, x.new_tid""", {"s": sid, "ids": new_ids})
    touched |= {t for r in cur.fetchall() for t in r if t}
    # 2. outbound mails without order id and no resolvable In-Reply-To: the alias's latest thread
    #    with a buyer message before the reply.
    cur.execute(
        """UPDATE core.message m SET thread_id = x.thread_id
           FROM (
             SELECT DISTINCT ON (r.message_id) r.message_id, b.thread_id, r.thread_id AS old_tid
             FROM core.message r
             JOIN core.message b ON b.store_id = r.store_id AND b.buyer_alias_hash = r.buyer_alias_hash
                                 AND b.kind = 'buyer_message' AND b.received_at <= r.received_at
             WHERE r.store_id = %(s)s AND r.message_id = ANY(%(ids)s) AND r.direction = 'outbound'
               AND r.order_id IS NULL AND r.buyer_alias_hash IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM core.message p WHERE p.store_id = r.store_id
                               AND p.message_id = r.in_reply_to AND p.thread_id IS NOT NULL)
             ORDER BY r.message_id, b.received_at DESC
           ) x
           WHERE m.store_id = %(s)s AND m.message_id = x.message_id AND m.thread_id IS DISTINCT FROM x.thread_id
           RETURNING x.old_tid, x.thread_id""", {"s": sid, "ids": new_ids})
    touched |= {t for r in cur.fetchall() for t in r if t}
    cur.execute("SELECT DISTINCT thread_id FROM core.message WHERE store_id=%s AND message_id = ANY(%s) "
                "AND thread_id IS NOT NULL", (sid, new_ids))
    touched |= {r[0] for r in cur.fetchall()}
    return touched


def recompute_threads(cur: Any, sid: str, thread_ids: list[str]) -> None:
    """Reply links (first later seller reply per buyer message) and thread stats for these threads."""
    cur.execute(
        """UPDATE core.message b SET first_reply_at = x.reply_at, reply_message_id = x.reply_id
           FROM (
             SELECT DISTINCT ON (b2.message_id) b2.message_id AS bid, r.received_at AS reply_at, r.message_id AS reply_id
             FROM core.message b2
             LEFT JOIN core.message r ON r.store_id = b2.store_id AND r.thread_id = b2.thread_id
                  AND r.kind = 'seller_reply' AND r.received_at > b2.received_at
             WHERE b2.store_id = %(s)s AND b2.thread_id = ANY(%(t)s) AND b2.kind = 'buyer_message'
             ORDER BY b2.message_id, r.received_at NULLS LAST, r.message_id
           ) x
           WHERE b.store_id = %(s)s AND b.message_id = x.bid
             AND (b.first_reply_at IS DISTINCT FROM x.reply_at OR b.reply_message_id IS DISTINCT FROM x.reply_id)""",
        {"s": sid, "t": thread_ids})
    cur.execute(
        """UPDATE core.thread t SET
             first_buyer_message_at = s.fb, first_seller_reply_at = s.fr, last_message_at = s.lm,
             message_count = s.n, marketplace = COALESCE(t.marketplace, s.mp),
             status = CASE WHEN s.nb > 0 AND s.nb = s.nrn THEN 'no_response_needed'
                           WHEN s.unanswered > 0 THEN 'open' ELSE 'answered' END
           FROM (
             SELECT thread_id,
                    min(received_at) FILTER (WHERE kind = 'buyer_message') AS fb,
                    min(first_reply_at) FILTER (WHERE kind = 'buyer_message') AS fr,
                    max(received_at) AS lm, count(*) AS n, max(marketplace) AS mp,
                    count(*) FILTER (WHERE kind = 'buyer_message') AS nb,
                    count(*) FILTER (WHERE kind = 'buyer_message' AND no_response_needed) AS nrn,
                    count(*) FILTER (WHERE kind = 'buyer_message' AND NOT no_response_needed
                                       AND first_reply_at IS NULL) AS unanswered
             FROM core.message WHERE store_id = %(s)s AND thread_id = ANY(%(t)s) GROUP BY thread_id
           ) s
           WHERE t.thread_id = s.thread_id""", {"s": sid, "t": thread_ids})
    cur.execute(
        """DELETE FROM core.thread t WHERE t.store_id = %(s)s AND t.thread_id = ANY(%(t)s)
             AND NOT EXISTS (SELECT 1 FROM core.message m WHERE m.thread_id = t.thread_id)""",
        {"s": sid, "t": thread_ids})


def mirror_no_response_needed(cur: Any, sid: str, src_name: str, marks: dict[str, bool]) -> list[str]:
    """Set ``no_response_needed`` from the mailbox keyword (``{source_ref: mark}``) on stored
    messages of ``src_name``; return the threads of the messages changed."""
    cur.execute(
        """UPDATE core.message m SET no_response_needed = v.nrn
           FROM raw.mail_message r, unnest(%s::text[], %s::boolean[]) AS v(ref, nrn)
           WHERE r.store_id = %s AND r.source = %s AND r.source_ref = v.ref
             AND m.store_id = r.store_id AND m.message_id = r.message_id
             AND m.no_response_needed IS DISTINCT FROM v.nrn
           RETURNING m.thread_id""",
        (list(marks), list(marks.values()), sid, src_name))
    return sorted({r[0] for r in cur.fetchall() if r[0]})


# ------------------------------------------------------------------ the classifier
def label(cur: Any, store_id: str, version: str, values: list[tuple]) -> None:
    """Store the classifier's labels ``(message_id, intent, risk, language, confidence,
    low_confidence)`` under ``version``. A row a person labelled (``labelled_at``) keeps that
    person's intent and risk: only its language and version change."""
    from psycopg2.extras import execute_values

    if not values:
        return
    keep = "CASE WHEN m.labelled_at IS NULL THEN {new} ELSE m.{col} END"
    execute_values(
        cur,
        "UPDATE core.message AS m SET intent = " + keep.format(new="v.intent", col="intent") + ", risk = "
        + keep.format(new="v.risk", col="risk") + ", language = v.language, confidence = "
        + keep.format(new="v.confidence::real", col="confidence") + ", low_confidence = "
        + keep.format(new="v.low_confidence::boolean", col="low_confidence") + ", "
        "classifier_version = " + cur.mogrify("%s", (version,)).decode() + ", classified_at = now() "
        "FROM (VALUES %s) AS v(message_id, intent, risk, language, confidence, low_confidence) "
        "WHERE m.store_id = " + cur.mogrify("%s", (store_id,)).decode() + " AND m.message_id = v.message_id",
        values, page_size=1000,
    )


def relabel(cur: Any, store_id: str, message_id: str, intent: str, risk: str, user: str) -> None:
    """A person's intent/risk for a message (the UI's correction, ``classify.feedback.correct``):
    marked ``labelled_by``/``labelled_at`` so the classifier never overwrites it."""
    cur.execute("""UPDATE core.message SET intent = %s, risk = %s, labelled_by = %s, labelled_at = now()
                   WHERE store_id = %s AND message_id = %s""", (intent, risk, user, store_id, message_id))


# ------------------------------------------------------------------ the deliverer
def record_seller_reply(cur: Any, store_id: str, row: dict, sent_at: datetime) -> None:
    """Record a reply the deliverer sent (an outbox ``row``) as the seller_reply it is, and link
    it to the buyer message (the Sent-folder copy ingested later has the same Message-ID and is
    not stored twice)."""
    cur.execute(
        """INSERT INTO core.message (store_id, message_id, thread_id, kind, direction, marketplace, order_id,
               buyer_alias_hash, in_reply_to, subject, body_text, language_hint, received_at)
           VALUES (%s, %s, %s, 'seller_reply', 'outbound', %s, %s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (store_id, message_id) DO NOTHING""",
        (store_id, row["outbound_id"], row["thread_id"], row["marketplace"], row["order_id"],
         row["buyer_alias_hash"], row["in_reply_to"] or row["message_id"], row["subject"],
         (row["body"] or "")[:4000], (row["locale"] or "")[:2] or None, sent_at))
    if row["thread_id"]:
        recompute_threads(cur, store_id, [row["thread_id"]])
    else:  # a message outside any thread: link the reply directly
        cur.execute("""UPDATE core.message SET first_reply_at = %s, reply_message_id = %s
                       WHERE store_id = %s AND message_id = %s AND first_reply_at IS NULL""",
                    (sent_at, row["outbound_id"], store_id, row["message_id"]))


# ------------------------------------------------------------------ data-quality gates
def set_aside(cur: Any, store_id: str, keys: list[str]) -> None:
    """Take messages out of core.message (raw.mail_message keeps the parsed mail for release)."""
    cur.execute("SELECT pg_advisory_xact_lock(727200, hashtext(%s))", (store_id,))  # the ingest batch lock
    cur.execute("DELETE FROM core.message WHERE store_id = %s AND message_id = ANY(%s) RETURNING thread_id",
                (store_id, keys))
    threads = sorted({r[0] for r in cur.fetchall() if r[0]})
    if threads:
        recompute_threads(cur, store_id, threads)
