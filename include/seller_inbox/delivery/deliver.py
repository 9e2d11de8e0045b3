"""deliver_store: drain one store's ``core.outbox`` — the only code that sends to a buyer.

One run, under a per-store advisory lock (two runs never send side by side):

1. housekeeping: approvals not given within the store's approval time and replies whose
   buyer message is older than ``max_reply_age_hours`` become ``expired``; aliases of closed
   threads and older than 30 days are deleted;
2. reconciliation: a row left in ``sending`` by a killed run is checked (SMTP: its
   Message-ID in the Sent folder; API: the channel's ``already_done``) before anything is
   retried, so a buyer never gets two copies; an API send nobody can settle within
   ``UNKNOWN_AFTER`` becomes ``failed`` ("outcome unknown; check Seller Central"), alerted once;
3. every due row (``queued`` in auto mode, ``approved``, ``held`` whose time has come) is
   checked at send time — kill switches, opt-out, quiet hours, per-order limit, daily cap,
   the linter — then claimed as ``sending`` with its Message-ID / request id (committed),
   sent, and marked ``sent`` (a reply is also recorded as the seller_reply it is, so the
   KPIs count it at once), ``failed`` (5xx) or put back with a backoff (4xx).

Test hooks: ``SELLER_INBOX_DELIVER_CRASH_AFTER_SEND=1`` / ``..._BEFORE_SEND=1`` SIGKILL the
process right after / before the SMTP transaction or API call (crash tests).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import os
import signal
from collections import Counter
from datetime import datetime, timedelta, timezone

from seller_inbox.alerts import queue
from seller_inbox.delivery import aliases, controls, outbox
from seller_inbox.delivery import smtp as smtp_mod

log = logging.getLogger(__name__)

CRASH_AFTER_SEND_ENV = "SELLER_INBOX_DELIVER_CRASH_AFTER_SEND"
CRASH_BEFORE_SEND_ENV = "SELLER_INBOX_DELIVER_CRASH_BEFORE_SEND"
LOCK_CLASS = 727500
MAX_ATTEMPTS = 5
RETRY_DELAY = timedelta(minutes=1)      # after the first temporary failure; doubles each time
RECONCILE_GRACE = timedelta(minutes=2)  # a Sent copy may lag the SMTP transaction a little
MAX_ROWS = 500                          # per run; the rest goes in the next run minutes later
UNKNOWN_AFTER = timedelta(hours=3)      # an API send nobody can settle is given up (failed) after this
UNKNOWN_ALERT = "delivery_unknown"      # ops.alert_log kind: one alert per such row
API_MODULES = {"solicitations": ("seller_inbox.delivery.solicitations", "send_review_request"),
               "messaging": ("seller_inbox.delivery.messaging", "send_proactive")}

_ROW = """
SELECT o.idempotency_key, o.store_id, o.message_id, o.order_id, o.action, o.channel, o.template, o.locale,
       o.subject, o.body, o.mode, o.status, o.status_reason, o.attempts, o.outbound_id, o.in_reply_to,
       o.thread_references, o.held_until, o.expires_at, o.sending_at, o.decided_by, o.decided_at, o.created_at,
       coalesce(o.marketplace, m.marketplace) AS marketplace, coalesce(o.thread_id, m.thread_id) AS thread_id,
       m.received_at AS message_received_at, coalesce(t.buyer_alias_hash, m.buyer_alias_hash) AS buyer_alias_hash
FROM core.outbox o
LEFT JOIN core.message m ON m.store_id = o.store_id AND m.message_id = o.message_id
LEFT JOIN core.thread t ON t.thread_id = coalesce(o.thread_id, m.thread_id)
"""


def deliver_store(store, dsn: str, *, now: datetime | None = None, sp_client=None) -> dict:
    """Send what is due for ``store``; return counts (sent, held, expired, blocked, failed, ...)."""
    import psycopg2

    from seller_inbox import clock, warehouse
    from seller_inbox.config import get_registry

    now = now or clock.now()
    run = _Run(store, dsn, now, get_registry().defaults.global_kill_switch, sp_client)
    conn = warehouse.connect(dsn, application_name=f"seller-inbox-deliver-{store.id}")
    got = False
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", (LOCK_CLASS, store.id))
            got = cur.fetchone()[0]
        conn.commit()
        if not got:
            return {"busy": 1}
        run.conn = conn
        run.housekeeping()
        run.reconcile()
        run.drain()
        run.forget_aliases()
        run.refresh_kpis()
    finally:
        run.close()
        if got:  # unlock explicitly: a closed session's locks go only once its backend has exited
            try:
                conn.rollback()
                with conn.cursor() as cur:
                    cur.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", (LOCK_CLASS, store.id))
                conn.commit()
            except psycopg2.Error:
                pass  # the session is gone, and its locks with it
        conn.close()
    out = dict(sorted(run.stats.items()))
    log.info("deliver %s: %s", store.id, out)
    if run.smtp_down:
        raise RuntimeError(f"store {store.id}: {run.smtp_down}; replies wait for the next run "
                           f"(check the Airflow connection {store.connections.smtp!r})")
    return out


def _prior(row: dict) -> str:
    """The status a row returns to when it is put back in the queue."""
    return "approved" if row.get("decided_by") else "queued"


class _Run:
    def __init__(self, store, dsn, now, global_kill, sp_client):
        self.store, self.dsn, self.now, self.global_kill = store, dsn, now, global_kill
        self.stats: Counter = Counter()
        self.conn = None
        self.sender = None
        self.smtp_down: str | None = None
        self.sp_client = sp_client
        self.answered_since: datetime | None = None

    # ------------------------------------------------------------------ helpers
    def _rows(self, where: str, params: dict) -> list[dict]:
        import psycopg2.extras

        with self.conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute(_ROW + " WHERE o.store_id = %(store)s AND " + where
                        + " ORDER BY o.created_at, o.idempotency_key LIMIT %(limit)s",
                        {"store": self.store.id, "limit": MAX_ROWS, **params})
            rows = [dict(r) for r in cur.fetchall()]
        self.conn.commit()
        return rows

    def _set(self, row: dict, status: str, reason: str | None, *, expect: str | None = None, **cols) -> bool:
        """Move a row to ``status`` (only from ``expect``, default its current status); commit."""
        with self.conn.cursor() as cur:
            ok = outbox.set_status(cur, row["idempotency_key"], status, reason, expect=expect or row["status"], **cols)
        self.conn.commit()
        return ok

    def close(self) -> None:
        if self.sender is not None:
            self.sender.close()

    # ------------------------------------------------------------------ 1. housekeeping
    def housekeeping(self) -> None:
        s = self.store
        with self.conn.cursor() as cur:
            self.stats["expired"] += outbox.expire(
                cur, s.id, self.now, approval_ttl=controls.approval_ttl(s),
                approval_ttl_hours=int(controls.approval_ttl(s).total_seconds() // 3600),
                max_reply_age=timedelta(hours=s.max_reply_age_hours), max_reply_age_hours=s.max_reply_age_hours)
        self.conn.commit()

    def forget_aliases(self) -> None:
        """After sending: aliases of threads this run closed go now, so a rerun finds nothing to do."""
        with self.conn.cursor() as cur:
            self.stats["aliases_deleted"] += aliases.purge(cur, self.store.id, self.now)
        self.conn.commit()

    # ------------------------------------------------------------------ 2. reconciliation
    def reconcile(self) -> None:
        for row in self._rows("o.status = 'sending'", {}):
            if row["channel"] == "smtp":
                self._reconcile_smtp(row)
            else:
                self._reconcile_api(row)

    def _reconcile_smtp(self, row: dict) -> None:
        mid = row["outbound_id"]
        with self.conn.cursor() as cur:
            cur.execute("SELECT 1 FROM raw.mail_message WHERE store_id = %s AND message_id = %s", (self.store.id, mid))
            found = cur.fetchone() is not None
        self.conn.commit()
        sender = self._sender()
        if not found:
            since = row["sending_at"] or self.now
            found = smtp_mod.in_sent_folder(self.store, mid, since, max(self.now, datetime.now(timezone.utc)))
        if found:
            self._record_sent(row, "sent (confirmed in the Sent folder after an interrupted run)")
            self.stats["reconciled_sent"] += 1
        elif sender is not None and not sender.sent_copy:
            self._set(row, "failed", "interrupted during sending and the provider keeps no Sent copy: "
                      "check the buyer thread, then send by hand if it is missing")
            self.stats["failed"] += 1
        elif row["sending_at"] and self.now - row["sending_at"] < RECONCILE_GRACE:
            self.stats["unreconciled"] += 1  # the Sent copy may still be on its way: look again next run
        else:
            self._set(row, _prior(row), "interrupted before the mail left: sending again")
            self.stats["reconciled_retry"] += 1

    def _reconcile_api(self, row: dict) -> None:
        try:
            mod, _ = self._api(row["channel"])
            done = mod.already_done(self._sp_client(), self.store, row)
        except Exception as exc:  # noqa: BLE001 - cannot tell now: look again next run
            log.warning("store %s: cannot check %s: %s", self.store.id, row["idempotency_key"], type(exc).__name__)
            done = None
        if done is True:
            self._record_sent(row, "sent (Amazon has it: confirmed after an interrupted run)")
            self.stats["reconciled_sent"] += 1
        elif done is False:
            self._set(row, _prior(row), "interrupted before Amazon took it: sending again")
            self.stats["reconciled_retry"] += 1
        elif row["sending_at"] and self.now - row["sending_at"] >= UNKNOWN_AFTER:
            self._give_up(row)
        else:
            self.stats["unreconciled"] += 1

    def _give_up(self, row: dict) -> None:
        """An API send whose answer was lost and that the API cannot confirm (the Messaging API
        lists nothing sent): ``failed`` — never sent again, it may have reached the buyer — and
        one alert for a person to look in Seller Central."""
        reason = "outcome unknown; check Seller Central (the order's messages) before sending anything by hand"
        if not self._set(row, "failed", reason):
            return
        msg = (f"store {self.store.id}: {row['action']} for order {row['order_id']} ({row['idempotency_key']}): "
               f"{reason}")
        with self.conn.cursor() as cur:
            queue(cur, self.store.id, UNKNOWN_ALERT, row["idempotency_key"],
                  {"message": msg, "order_id": row["order_id"], "action": row["action"]})
        self.conn.commit()
        self.stats["failed"] += 1
        self.stats["outcome_unknown"] += 1

    # ------------------------------------------------------------------ 3. drain
    def drain(self) -> None:
        due = self._rows(
            """o.status IN ('queued', 'approved', 'held') AND (o.mode = 'auto' OR o.decided_by IS NOT NULL)
               AND (o.held_until IS NULL OR o.held_until <= %(now)s)
               AND (o.next_attempt_at IS NULL OR o.next_attempt_at <= %(now)s)""", {"now": self.now})
        for row in due:
            if row["channel"] == "smtp" and self.smtp_down:
                self.stats["waiting_smtp"] += 1
                continue
            self._one(row)

    def _check(self, row: dict) -> tuple[str, str, dict] | None:
        """Why the row may not go now: (status, reason, extra columns), or None to send it."""
        s, now = self.store, self.now
        with self.conn.cursor() as cur:
            kill = controls.kill_switch(cur, s, self.global_kill)
            if kill:
                return "held", f"kill switch on ({kill})", {"held_until": None}
            if row["buyer_alias_hash"] or row["order_id"]:
                cur.execute(
                    """SELECT reason FROM core.buyer_opt_out b WHERE b.store_id = %(s)s AND (b.buyer_alias_hash = %(h)s
                         OR b.buyer_alias_hash IN (SELECT buyer_alias_hash FROM core.thread WHERE store_id = %(s)s AND order_id = %(o)s))
                       LIMIT 1""", {"s": s.id, "h": row["buyer_alias_hash"], "o": row["order_id"]})
                opted = cur.fetchone()
                if opted:
                    return "blocked", f"buyer opted out ({opted[0]})", {}
            proactive = row["action"] in controls.PROACTIVE_ACTIONS
            if proactive or controls.holds_replies_at_night(s):
                release = controls.quiet_release(s, row["marketplace"], now)
                if release is not None:
                    return "held", f"quiet hours until {release:%Y-%m-%d %H:%M} UTC", {"held_until": release}
            if row["order_id"]:
                cur.execute("SELECT count(*) FROM core.outbox WHERE store_id = %s AND order_id = %s AND status = 'sent'",
                            (s.id, row["order_id"]))
                if cur.fetchone()[0] >= controls.per_order_limit(s):
                    return "blocked", f"per-order limit reached ({controls.per_order_limit(s)} sent for this order)", {}
            cur.execute("""SELECT count(*), min(sent_at) FROM core.outbox
                           WHERE store_id = %s AND status = 'sent' AND sent_at > %s""", (s.id, now - controls.CAP_WINDOW))
            n, oldest = cur.fetchone()
        self.conn.commit()
        cap = controls.daily_cap(s)
        if n >= cap:
            release = (oldest or now) + controls.CAP_WINDOW
            return "held", f"daily cap reached ({cap} sent in the last day)", {"held_until": release}
        from seller_inbox import compliance

        findings = [f.as_dict() for f in compliance.lint(row["subject"] or "", row["body"] or "", order_id=row["order_id"],
                                                         locale=row["locale"], kind=_lint_kind(row["action"]))]
        if findings:
            return "blocked", "compliance: " + ", ".join(f["code"] for f in findings), {"lint_findings": json.dumps(findings)}
        return None

    def _one(self, row: dict) -> None:
        verdict = self._check(row)
        if verdict is not None:
            status, reason, cols = verdict
            if (status, reason) != (row["status"], row["status_reason"]) or cols.get("held_until") != row["held_until"]:
                self._set(row, status, reason, **cols)
            self.stats[status] += 1
            return
        if row["channel"] == "smtp":
            self._send_smtp(row)
        else:
            self._send_api(row)

    def _claim(self, row: dict, outbound_id: str) -> bool:
        ok = self._set(row, "sending", row["status_reason"] if row["status"] != "held" else None,
                       outbound_id=outbound_id, sending_at=self.now, attempts=row["attempts"] + 1,
                       held_until=None, next_attempt_at=None)
        if ok:
            row.update(outbound_id=outbound_id, status="sending", attempts=row["attempts"] + 1, sending_at=self.now)
        return ok

    def _retry_later(self, row: dict, error: str) -> None:
        if row["attempts"] >= MAX_ATTEMPTS:
            self._set(row, "failed", f"gave up after {row['attempts']} attempts: {error}", last_error=error)
            self.stats["failed"] += 1
            return
        wait = RETRY_DELAY * (2 ** (row["attempts"] - 1))
        self._set(row, _prior(row), f"temporary failure, retry after {wait}", last_error=error,
                  next_attempt_at=self.now + wait)
        self.stats["retry_later"] += 1

    # ------------------------------------------------------------------ SMTP
    def _sender(self):
        if self.sender is None and not self.smtp_down:
            try:
                self.sender = smtp_mod.Sender(self.store.connections.smtp)
            except smtp_mod.SmtpError as exc:
                self.smtp_down = exc.reason
            except Exception as exc:  # noqa: BLE001 - missing connection: one line, replies wait
                self.smtp_down = f"SMTP connection {self.store.connections.smtp!r} unusable: {type(exc).__name__}: {exc}"
        return self.sender

    def _alias(self, row: dict) -> str | None:
        with self.conn.cursor() as cur:
            alias = aliases.recall(cur, row["thread_id"])
        self.conn.commit()
        return alias or _alias_from_mailbox(self.store, self.conn, row["message_id"])

    def _send_smtp(self, row: dict) -> None:
        sender = self._sender()
        if sender is None:
            self.stats["waiting_smtp"] += 1
            return
        to = self._alias(row)
        if not to:
            self._set(row, "failed", "no buyer relay alias for this thread (not kept, or older than 30 days)")
            self.stats["failed"] += 1
            return
        try:
            sender.connect()
        except smtp_mod.Temporary as exc:  # nothing claimed, nothing sent: every reply waits for the next run
            self.smtp_down = exc.reason
            self.stats["waiting_smtp"] += 1
            return
        mid = row["outbound_id"] or smtp_mod.message_id_for(row["idempotency_key"], sender.domain)
        if not self._claim(row, mid):
            self.stats["raced"] += 1
            return
        msg = smtp_mod.build(row, to, sender.from_address, self.now)
        _crash_hook(CRASH_BEFORE_SEND_ENV)
        try:
            sender.send(msg, to)
        except smtp_mod.Temporary as exc:
            self._retry_later(row, exc.reason)
            return
        except smtp_mod.Permanent as exc:
            self._set(row, "failed", f"refused by the mail server: {exc.reason}", last_error=exc.reason)
            self.stats["failed"] += 1
            return
        except smtp_mod.Uncertain as exc:
            with self.conn.cursor() as cur:
                outbox.note_error(cur, row["idempotency_key"], exc.reason)
            self.conn.commit()
            self.stats["unreconciled"] += 1
            return
        _crash_hook(CRASH_AFTER_SEND_ENV)
        self._record_sent(row, None)

    def _record_sent(self, row: dict, reason: str | None) -> None:
        """``sent`` and, for a reply, the seller_reply message it is (KPIs count it at once; the
        Sent-folder copy ingested later has the same Message-ID and is not stored twice)."""
        from seller_inbox.mail import messages

        with self.conn.cursor() as cur:
            if outbox.mark_sent(cur, row["idempotency_key"], reason, self.now) and row["channel"] == "smtp" \
                    and row["action"] == "reply":
                messages.record_seller_reply(cur, self.store.id, row, self.now)
                if row.get("message_received_at"):
                    t = row["message_received_at"]
                    self.answered_since = t if self.answered_since is None else min(self.answered_since, t)
        self.conn.commit()
        self.stats["sent"] += 1

    # ------------------------------------------------------------------ SP-API channels
    def _api(self, channel: str):
        modname, fn = API_MODULES[channel]
        mod = importlib.import_module(modname)
        return mod, getattr(mod, fn)

    def _sp_client(self):
        if self.sp_client is None:
            from seller_inbox.spapi import client_for, load_credentials

            self.sp_client = client_for(load_credentials(self.store.connections.spapi), self.store.id, self.dsn)
        return self.sp_client

    def _send_api(self, row: dict) -> None:
        try:
            _, send = self._api(row["channel"])
        except (ImportError, AttributeError, KeyError):
            self.stats["channel_unavailable"] += 1
            return
        rid = row["outbound_id"] or "si-" + hashlib.sha256(row["idempotency_key"].encode()).hexdigest()[:32]
        if not self._claim(row, rid):
            self.stats["raced"] += 1
            return
        _crash_hook(CRASH_BEFORE_SEND_ENV)
        try:
            res = send(self._sp_client(), self.store, row)
        except Exception as exc:  # noqa: BLE001 - outcome unknown: reconciled through already_done next run
            log.warning("store %s: %s raised %s; checked again next run", self.store.id, row["idempotency_key"],
                        type(exc).__name__)
            with self.conn.cursor() as cur:
                outbox.note_error(cur, row["idempotency_key"], f"{type(exc).__name__}: {str(exc)[:300]}")
            self.conn.commit()
            self.stats["unreconciled"] += 1
            return
        _crash_hook(CRASH_AFTER_SEND_ENV)
        status, reason = (res or {}).get("status"), str((res or {}).get("reason") or "")[:300]
        if status == "sent":
            self._record_sent(row, f"request {res.get('request_id')}" if res.get("request_id") else None)
        elif status in ("done_already", "not_offered"):
            self._set(row, "skipped", f"{status.replace('_', ' ')}: {reason}" if reason else status.replace("_", " "))
            self.stats["skipped"] += 1
        else:
            self._set(row, "failed", reason or "the API refused", last_error=reason or None)
            self.stats["failed"] += 1

    # ------------------------------------------------------------------ KPIs
    def refresh_kpis(self) -> None:
        """Recompute the KPI days of the buyer messages answered in this run."""
        if self.answered_since is None:
            return
        from seller_inbox.kpi import compute_store_daily

        compute_store_daily(self.store, self.dsn, self.answered_since, self.now + timedelta(seconds=1), now=self.now)


def _lint_kind(action: str) -> str:
    """The linter's kind for an outbox action: the actions are named like the kinds (docs/delivery.md)."""
    from seller_inbox.compliance import KINDS

    return action if action in KINDS else "reply"


def _crash_hook(env: str) -> None:
    if os.environ.get(env) == "1":
        os.kill(os.getpid(), signal.SIGKILL)


def _alias_from_mailbox(store, conn, message_id: str | None) -> str | None:
    """The relay alias read again from the buyer's own mail in the mailbox (when none was kept)."""
    if not message_id:
        return None
    with conn.cursor() as cur:
        cur.execute("SELECT source, source_ref FROM raw.mail_message WHERE store_id = %s AND message_id = %s",
                    (store.id, message_id))
        hit = cur.fetchone()
    conn.commit()
    if not hit or not hit[1]:
        return None
    from email.parser import BytesHeaderParser
    from email.utils import getaddresses

    from airflow.sdk import BaseHook

    from seller_inbox.domain.relay import RELAY_ALIAS_DOMAIN
    from seller_inbox.mail.sources import open_source

    source = open_source(BaseHook.get_connection(store.connections.mailbox))
    try:
        item = source.fetch(hit[0].partition(":")[2], "inbox", hit[1])
    finally:
        source.close()
    if item is None or not item.raw:
        return None
    for _, addr in getaddresses(BytesHeaderParser().parsebytes(item.raw).get_all("From", [])):
        if RELAY_ALIAS_DOMAIN.search(addr.strip().lower()):
            return addr.strip()
    return None
