"""The buyer's relay alias, needed at send time, kept only encrypted and only as long as needed.

Ingestion calls ``remember`` with the plain alias of each buyer message (the warehouse
otherwise keeps only its hash); the deliverer calls ``recall``. ``purge`` deletes aliases of
closed threads (no open buyer message, nothing left to send) and any older than
``KEEP_DAYS``. ``rotate`` re-encrypts every alias with the newest key. The plain alias is
never logged, returned in a task result, or written anywhere in clear.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from seller_inbox.delivery import crypto

log = logging.getLogger(__name__)
KEEP_DAYS = 30
# outbox states in which a reply may still be sent: the alias must stay while one exists
LIVE = ("pending_approval", "queued", "approved", "held", "sending")


def remember(cur, store_id: str, thread_id: str, alias_plain: str, *, now: datetime | None = None, ring=None) -> bool:
    """Store (or refresh) the thread's alias, encrypted. False when no key is configured:
    replies then fall back to reading the alias from the mailbox at send time."""
    if not (thread_id and alias_plain):
        return False
    try:
        token = crypto.encrypt(alias_plain.strip(), ring)
    except crypto.CryptoNotConfigured as exc:
        log.warning("store %s: buyer aliases are not kept (%s)", store_id, exc)
        return False
    now = now or datetime.now(timezone.utc)
    cur.execute(
        """INSERT INTO core.thread_alias (thread_id, store_id, alias_enc, remembered_at, delete_after)
           VALUES (%s, %s, %s, %s, %s)
           ON CONFLICT (thread_id) DO UPDATE SET alias_enc = EXCLUDED.alias_enc,
               remembered_at = EXCLUDED.remembered_at, delete_after = EXCLUDED.delete_after""",
        (thread_id, store_id, token, now, now + timedelta(days=KEEP_DAYS)))
    return True


def recall(cur, thread_id: str | None, ring=None) -> str | None:
    """The thread's plain alias, or None (never stored, purged, or no key can read it)."""
    if not thread_id:
        return None
    cur.execute("SELECT alias_enc FROM core.thread_alias WHERE thread_id = %s", (thread_id,))
    row = cur.fetchone()
    if not row:
        return None
    from cryptography.fernet import InvalidToken

    try:
        return crypto.decrypt(row[0], ring)
    except InvalidToken:
        log.error("thread %s: its alias was encrypted with a key no longer configured in %s", thread_id, crypto.CONN_ID)
        return None


def purge(cur, store_id: str, now: datetime) -> int:
    """Delete aliases older than KEEP_DAYS and those of closed threads; return how many."""
    cur.execute(
        """DELETE FROM core.thread_alias a
           WHERE a.store_id = %(s)s AND (a.delete_after <= %(now)s OR (
                 EXISTS (SELECT 1 FROM core.thread t WHERE t.thread_id = a.thread_id AND t.status <> 'open')
             AND NOT EXISTS (SELECT 1 FROM core.outbox o WHERE o.thread_id = a.thread_id AND o.status = ANY(%(live)s))))""",
        {"s": store_id, "now": now, "live": list(LIVE)})
    return cur.rowcount


def rotate(dsn: str, ring=None) -> int:
    """Re-encrypt every alias with the newest key (then the old key can be dropped)."""
    from seller_inbox import warehouse

    ring = ring or crypto.keyring()
    n = 0
    with warehouse.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT thread_id, alias_enc FROM core.thread_alias FOR UPDATE")
        for tid, token in cur.fetchall():
            new = ring.rotate(token.encode("ascii")).decode("ascii")
            if new != token:
                cur.execute("UPDATE core.thread_alias SET alias_enc = %s WHERE thread_id = %s", (new, tid))
                n += 1
    conn.close()
    return n


def mark_opted_out(cur, store_id: str, buyer_alias_hash: str, reason: str) -> None:
    """An Amazon bounce said this buyer opted out: nothing more is sent to them."""
    cur.execute(
        """INSERT INTO core.buyer_opt_out (store_id, buyer_alias_hash, reason) VALUES (%s, %s, %s)
           ON CONFLICT (store_id, buyer_alias_hash) DO NOTHING""", (store_id, buyer_alias_hash, reason[:200]))
