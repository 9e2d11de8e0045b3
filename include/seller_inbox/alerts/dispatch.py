"""dispatch_alerts: risk alerts and fan-out of other components' alerts, exactly once per
(store, alert_kind, subject_key, channel). SLA reminders are ``alerts.reminders``' (their own
DAG, every 5 minutes); they share the sender and the exactly-once guard defined here.

The guard is ``ops.alert_log``'s primary key: a delivery is *claimed* by
``INSERT ... ON CONFLICT DO NOTHING`` (status ``sending``) before anything is sent, and
marked ``sent`` or ``failed`` afterwards (the statements are ``alert_log``'s). A rerun, a retry, a backfill or a concurrent task
finds the row and sends nothing. Failed deliveries (channel down, 429) are retried by later
dispatches from ``next_attempt_at`` on (the channel's Retry-After or a backoff doubling from
RETRY_DELAY; up to MAX_ATTEMPTS within RETRY_WINDOW); a claim left in ``sending`` by a
crashed worker is taken over after STALE_CLAIM. One run spends at most its send budget
(``channels.SendBudget``) on the network. A backfill does not alert about messages received
more than MAX_AGE before ``now`` unless ``realert=True``.
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from datetime import datetime, timedelta

from seller_inbox.alerts import alert_log
from seller_inbox.alerts import channels as ch
from seller_inbox.alerts.alert_log import DUE as _DUE
from seller_inbox.alerts.templates import excerpt, render_all
from seller_inbox.domain.taxonomy import RISK_ORDER

log = logging.getLogger(__name__)

MAX_AGE = timedelta(hours=48)
MAX_ATTEMPTS = 5
RETRY_WINDOW = timedelta(hours=48)
STALE_CLAIM = timedelta(minutes=15)
RETRY_DELAY_S = 30  # after the first failed attempt; doubles with each further attempt
# other components' alerts (channel 'log' rows) that reach the store's channels (docs/operations.md)
FANOUT_KINDS = ("auth_revoked", "auth_recovered", "reauth_due", "secret_rotation", "gate_failed", "gate_quarantined",
                "gate_warning", "mail_quarantined", "task_failed", "recovered", "ingest_gap", "delivery_unknown")
RENDERED = {"title", "markdown", "text"}  # a payload with these is sent as it is


def channel_keys(store) -> list[tuple[str, str | None, str, str]]:
    """(alert_log channel key, conn_id, type, min_risk) per configured channel."""
    seen: Counter = Counter()
    out = []
    for c in store.alert_channels:
        seen[c.type] += 1
        key = c.type if seen[c.type] == 1 else f"{c.type}:{c.conn_id}"
        out.append((key, c.conn_id, c.type, c.min_risk))
    return out


def message_link(message_id: str, store_id: str, run_url: str | None) -> str | None:
    base = os.environ.get("SELLER_INBOX_UI_URL")
    if base:
        from urllib.parse import quote

        return f"{base.rstrip('/')}/messages?store={quote(store_id)}&message={quote(message_id, safe='')}"
    return run_url


def _deliver(conn, store_id, kind, subject, channel_key, conn_id, ctype, payload, now, stats, budget, *,
             claimed=False) -> None:
    with conn.cursor() as cur:
        if not claimed and not alert_log.claim(cur, store_id, kind, subject, channel_key, payload, now):
            conn.commit()
            stats["already_sent"] += 1
            return
    conn.commit()  # the claim is durable before anything leaves the building
    error, attempted, retry_after = None, True, None
    try:
        ch.send(ctype, conn_id, payload, budget=budget)
    except Exception as exc:  # noqa: BLE001 - any channel failure is recorded, never fatal
        error = f"{type(exc).__name__}: {exc}"[:500]
        attempted = getattr(exc, "attempted", True)
        retry_after = getattr(exc, "retry_after", None)
        (log.error if attempted else log.warning)(
            "store %s: %s alert %s via %s failed: %s", store_id, kind, subject, channel_key, error)
    with conn.cursor() as cur:
        alert_log.finish(cur, store_id, kind, subject, channel_key, error, attempted=attempted, retry_after=retry_after,
                         delay=RETRY_DELAY_S)
    conn.commit()
    stats["failed" if error else "sent"] += 1
    if not attempted:
        stats["deferred"] += 1
    if not error:
        stats[f"sent_{kind}"] += 1


def _message_ctx(store, row: dict, run_url: str | None) -> dict:
    zone = None
    try:
        zone = store.marketplace(row["marketplace"]).zone.key if row.get("marketplace") else None
    except KeyError:
        zone = None
    return {
        "store_id": store.id, "store_name": store.name, "marketplace": row.get("marketplace"),
        "message_id": row["message_id"], "order_id": row.get("order_id"), "intent": row.get("intent"),
        "risk": row.get("risk"), "received_at": row.get("received_at"), "sla_due_at": row.get("sla_due_at"),
        "excerpt": excerpt(row.get("body_text") or row.get("subject") or ""), "time_zone": zone,
        "link": message_link(row["message_id"], store.id, run_url), "run_url": run_url,
    }


def _payload(kind: str, lang: str, ctx: dict) -> dict:
    facts = {k: v for k, v in ctx.items() if k in ("message_id", "order_id", "intent", "risk", "marketplace",
                                                   "received_at", "sla_due_at", "run_url", "link", "excerpt", "message")}
    return {**facts, **render_all(kind, lang, ctx), "language": lang}


_MSG_COLS = "message_id, marketplace, order_id, intent, risk, received_at, sla_due_at, subject, body_text"


def dispatch_alerts(store, dsn: str, start: datetime, end: datetime, now: datetime, *, run_url: str | None = None,
                    realert: bool = False, max_age: timedelta = MAX_AGE, fanout: bool = True,
                    send_budget: float = ch.ALERT_SEND_BUDGET_S) -> dict:
    """Send this store's alerts for the interval; return counts.

    * risk alerts for inbound messages received in [start, end) whose risk reaches a
      channel's ``min_risk`` (kind ``high_risk`` / ``medium_risk`` / ``low_risk``), unless
      received more than ``max_age`` before ``now`` (``realert=True`` sends them anyway);
    * fan-out of other components' alerts (auth, gates) from the ``log`` channel to the
      store's other channels, and delivery of rows queued as ``pending``;
    * retries of failed deliveries that are due.

    All sends of the run share ``send_budget`` seconds (``channels.SendBudget``); what does
    not fit is left ``failed`` with ``next_attempt_at`` for a later run.
    """
    from seller_inbox import warehouse

    keys = channel_keys(store)
    stats: Counter = Counter()
    budget = ch.SendBudget(send_budget)
    send = _Sender(store, keys, store.alert_language, now, run_url, stats, budget)
    conn = warehouse.connect(dsn)
    try:
        _risk_alerts(conn, send, start, end, None if realert else now - max_age)
        if fanout:
            _fanout(conn, store, keys, send.lang, now, run_url, stats, budget)
        _retry(conn, store, keys, now, stats, budget)
    finally:
        conn.close()
    out = {"store_id": store.id,
           **{k: stats[k] for k in ("sent", "failed", "deferred", "already_sent", "skipped_old", "retried")},
           "by_kind": {k[5:]: v for k, v in sorted(stats.items()) if k.startswith("sent_")}}
    log.info("store %s: alerts %s", store.id, out)
    return out


class _Sender:
    """One dispatch run's context: the store, its channels, the run's clock, counts and budget."""

    def __init__(self, store, keys, lang, now, run_url, stats, budget):
        self.store, self.keys, self.lang, self.now = store, keys, lang, now
        self.run_url, self.stats, self.budget = run_url, stats, budget

    def message_alert(self, conn, kind: str, row: dict, min_risk_of_row: str | None = None, *,
                      note: str | None = None) -> None:
        """Alert ``kind`` about one message on every channel (whose ``min_risk`` the row reaches);
        ``note``: one more line for people (a reminder sent late)."""
        ctx = _message_ctx(self.store, row, self.run_url)
        if note:
            ctx["message"] = note
        payload = _payload(kind, self.lang, ctx)
        for key, conn_id, ctype, min_risk in self.keys:
            if min_risk_of_row is None or RISK_ORDER[min_risk_of_row] >= RISK_ORDER[min_risk]:
                _deliver(conn, self.store.id, kind, row["message_id"], key, conn_id, ctype, payload, self.now,
                         self.stats, self.budget)


def _rows(conn, sql: str, params: tuple) -> list[dict]:
    import psycopg2.extras

    with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    conn.commit()
    return rows


def _risk_alerts(conn, send: _Sender, start: datetime, end: datetime, oldest: datetime | None) -> None:
    """Inbound messages of [start, end) whose risk reaches a channel's ``min_risk``."""
    min_needed = min((RISK_ORDER[m] for _, _, _, m in send.keys), default=2)
    risks = [r for r, v in RISK_ORDER.items() if v >= min_needed]
    rows = _rows(conn, f"""SELECT {_MSG_COLS} FROM core.message
                           WHERE store_id = %s AND direction = 'inbound' AND received_at >= %s AND received_at < %s
                             AND risk = ANY(%s) ORDER BY received_at, message_id""",
                 (send.store.id, start, end, risks))
    for row in rows:
        if oldest is not None and row["received_at"] < oldest:
            send.stats["skipped_old"] += 1
            continue
        send.message_alert(conn, f"{row['risk']}_risk", row, row["risk"])


def _fanout(conn, store, keys, lang, now, run_url, stats, budget) -> None:
    import psycopg2.extras

    others = [(k, c, t) for k, c, t, _ in keys if t != "log"]
    with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute(
            """SELECT alert_kind, subject_key, channel, status, payload, created_at FROM ops.alert_log
               WHERE store_id = %s AND created_at > %s
                 AND ((channel = 'log' AND status = 'sent' AND alert_kind = ANY(%s)) OR status = 'pending')
               ORDER BY created_at, alert_kind, subject_key""",
            (store.id, now - MAX_AGE, list(FANOUT_KINDS)))
        rows = cur.fetchall()
    conn.commit()
    by_type = {k: (c, t) for k, c, t, _ in keys}
    for r in rows:
        src = r["payload"] or {}
        ctx = {"store_id": store.id, "store_name": store.name,
               "message": src.get("message") or src.get("summary") or json.dumps(src, ensure_ascii=False, default=str)[:300],
               "link": run_url}
        payload = src if RENDERED <= set(src) else {**src, **_payload(r["alert_kind"], lang, ctx)}
        if r["status"] == "pending":  # queued by another component for one channel
            key = r["channel"]
            conn_id, ctype = by_type.get(key, (None, key.split(":")[0]))
            with conn.cursor() as cur:
                got = alert_log.claim_pending(cur, store.id, r["alert_kind"], r["subject_key"], key, payload)
            conn.commit()
            if got:
                _deliver(conn, store.id, r["alert_kind"], r["subject_key"], key, conn_id, ctype, payload, now, stats,
                         budget, claimed=True)
            continue
        for key, conn_id, ctype in others:
            _deliver(conn, store.id, r["alert_kind"], r["subject_key"], key, conn_id, ctype, payload, now, stats, budget)


def _retry(conn, store, keys, now, stats, budget) -> None:
    import psycopg2.extras

    by_key = {k: (c, t) for k, c, t, _ in keys}
    with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute(
            f"""SELECT alert_kind, subject_key, channel FROM ops.alert_log
               WHERE store_id = %s AND created_at > %s AND attempts < %s AND channel = ANY(%s)
                 AND ((status = 'failed' AND {_DUE}) OR (status = 'sending' AND updated_at < now() - %s))
               ORDER BY created_at""",
            (store.id, now - RETRY_WINDOW, MAX_ATTEMPTS, list(by_key), STALE_CLAIM))
        rows = cur.fetchall()
    conn.commit()
    for r in rows:
        with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            got = alert_log.claim_retry(cur, store.id, r["alert_kind"], r["subject_key"], r["channel"], STALE_CLAIM)
        conn.commit()
        if not got:
            continue
        payload = got["payload"] or {}
        if not RENDERED <= set(payload):
            continue
        conn_id, ctype = by_key[r["channel"]]
        stats["retried"] += 1
        _deliver(conn, store.id, r["alert_kind"], r["subject_key"], r["channel"], conn_id, ctype, payload, now, stats,
                 budget, claimed=True)
