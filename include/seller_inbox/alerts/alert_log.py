"""Every write of ``ops.alert_log``, the exactly-once guard for alerts, as small functions on the
caller's cursor (the caller keeps its transaction: a claim is committed before anything is
sent). Other components queue their alerts here (``alerts.queue``); the dispatcher claims,
finishes and retries deliveries (``alerts.dispatch``); no other module writes the table
(docs/data-dictionary.md). Cheap to import.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

# a failed row is due again at next_attempt_at (rows failed before 0301: 30 s after the failure)
DUE = "coalesce(next_attempt_at, updated_at + interval '30 seconds') <= now()"


def log_once(cur: Any, store_id: str, kind: str, subject: str, payload: dict) -> bool:
    """A ``log`` row for (store, kind, subject), written as sent; True if it is new."""
    cur.execute(
        "INSERT INTO ops.alert_log (store_id, alert_kind, subject_key, channel, status, payload, sent_at) "
        "VALUES (%s, %s, %s, 'log', 'sent', %s, now()) ON CONFLICT DO NOTHING RETURNING 1",
        (store_id, kind, subject, json.dumps(payload, default=str)))
    return cur.fetchone() is not None


def claim(cur: Any, store_id: str, kind: str, subject: str, channel: str, payload: dict, now: datetime) -> bool:
    """Claim one delivery (``sending``, first attempt); False if the row exists already."""
    cur.execute(
        """INSERT INTO ops.alert_log (store_id, alert_kind, subject_key, channel, status, payload, created_at, updated_at, attempts)
           VALUES (%s, %s, %s, %s, 'sending', %s, %s, now(), 1)
           ON CONFLICT DO NOTHING RETURNING 1""",
        (store_id, kind, subject, channel, json.dumps(payload, default=str, ensure_ascii=False), now))
    return cur.fetchone() is not None


def finish(cur: Any, store_id: str, kind: str, subject: str, channel: str, error: str | None, *,
           attempted: bool, retry_after: float | None, delay: float) -> None:
    """Mark the claimed row sent or failed. A failure is due again after ``retry_after`` or the
    backoff from ``delay`` seconds, whichever is longer; a deferral that sent nothing
    (``attempted=False``) is no attempt."""
    cur.execute(
        """UPDATE ops.alert_log SET status = %(status)s, error = %(error)s, updated_at = now(),
                  sent_at = CASE WHEN %(ok)s THEN now() ELSE sent_at END,
                  attempts = attempts - %(uncounted)s,
                  next_attempt_at = CASE WHEN %(ok)s THEN NULL ELSE now() + make_interval(secs => greatest(
                      %(retry_after)s, %(delay)s * power(2, least(greatest(attempts - %(uncounted)s - 1, 0), 7)))) END
           WHERE store_id = %(store)s AND alert_kind = %(kind)s AND subject_key = %(subject)s AND channel = %(channel)s""",
        {"status": "failed" if error else "sent", "error": error, "ok": error is None, "uncounted": 0 if attempted else 1,
         "retry_after": float(retry_after or 0), "delay": float(delay),
         "store": store_id, "kind": kind, "subject": subject, "channel": channel})


def claim_pending(cur: Any, store_id: str, kind: str, subject: str, channel: str, payload: dict) -> bool:
    """Claim a row another component queued as ``pending`` for one channel, with the rendered
    ``payload``; False if someone else got it."""
    cur.execute(
        """UPDATE ops.alert_log SET status = 'sending', payload = %s, updated_at = now()
           WHERE store_id = %s AND alert_kind = %s AND subject_key = %s AND channel = %s AND status = 'pending'
           RETURNING 1""",
        (json.dumps(payload, default=str, ensure_ascii=False), store_id, kind, subject, channel))
    return cur.fetchone() is not None


def claim_retry(cur: Any, store_id: str, kind: str, subject: str, channel: str, stale: timedelta) -> Any:
    """Claim a failed delivery that is due, or a claim older than ``stale`` (conditional: a
    concurrent dispatcher gets nothing); the claimed row (its ``payload``), None if not claimed."""
    cur.execute(
        f"""UPDATE ops.alert_log SET status = 'sending', attempts = attempts + 1, updated_at = now()
           WHERE store_id = %s AND alert_kind = %s AND subject_key = %s AND channel = %s
             AND ((status = 'failed' AND {DUE}) OR (status = 'sending' AND updated_at < now() - %s))
           RETURNING payload""",
        (store_id, kind, subject, channel, stale))
    return cur.fetchone()
