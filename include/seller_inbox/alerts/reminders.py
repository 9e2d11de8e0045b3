"""SLA reminders on Amazon's clock: the one place they are decided and sent.

A buyer message that still needs a reply gets a reminder at each step of
``response_clock.REMINDERS`` (12 h, 20 h, and a final one when the 24 hours are up). The
per-store DAG ``si_<store>_reminders`` calls ``remind_store`` every 5 minutes, whatever the
pipeline's schedule, so a step goes out within 5 minutes of its due time. Each run:

1. takes in the mailbox first (``mail.ingest``, the pipeline's own ingest: stored mail is
   skipped, nothing is doubled, the "no response needed" marks are refreshed) over the last
   ``LOOKBACK``, so a reply typed in Seller Central whose copy already sits in the mailbox
   counts before anything is decided. If the mailbox cannot be read, reminders still go out
   (a reminder too many costs a glance, a missed one costs the metric), saying so, and the
   task then fails with one line naming the store and connection;
2. for every buyer message still unanswered, not marked "no response needed", received
   within ``LOOKBACK``: sends the *latest* step that is due, once per (message, step, channel)
   (``ops.alert_log``'s key). A run that comes late (scheduler down) therefore sends one
   reminder, not a burst of all three, and the reminder says how late it is and that earlier
   steps were skipped;
3. retries failed alert deliveries that are due (a channel that was down), as dispatch does.

The pipeline's alert stage sends no reminders (``alerts.dispatch``): one home, no double sends.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta

from seller_inbox.alerts import channels as ch
from seller_inbox.alerts import dispatch
from seller_inbox.alerts.templates import REMINDER_LATE, REMINDER_NO_MAIL, REMINDER_SKIPPED
from seller_inbox.domain import response_clock
from seller_inbox.domain.taxonomy import NO_REPLY_OWED

log = logging.getLogger(__name__)

STEPS = response_clock.REMINDERS
# older messages get no reminder (the final one is a day overdue by then); also how far back the
# mailbox is read, so a reply to any message that may still be reminded about is seen
LOOKBACK = dispatch.MAX_AGE
# a reminder sent later than this after its due time says it is late (runs are 5 min apart)
LATE_AFTER = timedelta(minutes=10)
MAIL_END_SLACK = timedelta(seconds=1)  # the mailbox is read up to now, not into the future


class MailboxUnread(RuntimeError):
    """The mailbox could not be read before deciding: reminders went out anyway."""


def remind_store(store, dsn: str, now: datetime, *, run_url: str | None = None, read_mail: bool = True,
                 send_budget: float = ch.ALERT_SEND_BUDGET_S) -> dict:
    """Take in the mailbox, then send the reminders due at ``now``; return counts.

    Raises ``MailboxUnread`` after sending when the mailbox could not be read."""
    mail, mail_error = ({"read": False}, None)
    if read_mail:
        mail, mail_error = take_in_mail(store, dsn, now)
    stats = send_due(store, dsn, now, run_url=run_url, send_budget=send_budget,
                     note=REMINDER_NO_MAIL.get(store.alert_language, REMINDER_NO_MAIL["en"]) if mail_error else None)
    out = {**stats, "mail": mail}
    log.info("store %s: reminders %s", store.id, out)
    if mail_error:
        raise MailboxUnread(f"store {store.id}: mailbox connection {store.connections.mailbox!r} could not be read "
                            f"({mail_error}); reminders were sent without the newest mail — fix the connection")
    return out


def take_in_mail(store, dsn: str, now: datetime) -> tuple[dict, str | None]:
    """Ingest the store's mailbox over [now - LOOKBACK, now]: (counts, None) or ({}, error)."""
    from seller_inbox.mail.ingest import ingest_mailbox

    try:
        got = ingest_mailbox(store, dsn, now - LOOKBACK, now + MAIL_END_SLACK)
    except Exception as exc:  # noqa: BLE001 - any reader failure: remind anyway, then fail the task
        log.error("store %s: mailbox not read before reminders: %s: %s", store.id, type(exc).__name__, exc)
        return {"read": False}, f"{type(exc).__name__}: {exc}"[:300]
    return {"read": True, **{k: got.get(k, 0) for k in ("seen", "stored", "duplicates", "quarantined")}}, None


def _due_sql() -> tuple[str, list]:
    """The latest step due per message, as SQL (from STEPS, latest first) and its parameters."""
    cases = " ".join(f"WHEN m.received_at <= %(now)s - %(after_{i})s THEN {i}" for i in reversed(range(len(STEPS))))
    return f"CASE {cases} END", {f"after_{i}": after for i, (_, after) in enumerate(STEPS)}


def due_messages(conn, store, now: datetime, channels: list[str]) -> list[dict]:
    """Unanswered buyer messages whose latest due step has not reached every channel yet."""
    step_sql, params = _due_sql()
    kinds = [k for k, _ in STEPS]
    return dispatch._rows(conn, f"""
        SELECT * FROM (
            SELECT {dispatch._MSG_COLS}, ({step_sql}) AS step FROM core.message m
            WHERE m.store_id = %(store)s AND m.direction = 'inbound' AND m.kind = 'buyer_message'
              AND m.first_reply_at IS NULL AND NOT m.no_response_needed
              AND NOT (coalesce(m.intent, '') = ANY(%(no_reply)s))
              AND m.received_at > %(oldest)s AND m.received_at <= %(now)s - %(after_0)s) d
        WHERE (SELECT count(*) FROM ops.alert_log a
               WHERE a.store_id = %(store)s AND a.subject_key = d.message_id AND a.channel = ANY(%(channels)s)
                 AND a.alert_kind = (%(kinds)s::text[])[d.step + 1]) < %(n_channels)s
        ORDER BY received_at, message_id""",
        {**params, "store": store.id, "now": now, "oldest": now - LOOKBACK, "no_reply": sorted(NO_REPLY_OWED),
         "channels": channels, "kinds": kinds, "n_channels": len(channels)})


def late_note(lang: str, late: timedelta, skipped: bool) -> str:
    tpl = REMINDER_LATE.get(lang, REMINDER_LATE["en"])
    more = REMINDER_SKIPPED.get(lang, REMINDER_SKIPPED["en"]) if skipped else ""
    return tpl.format(minutes=int(late.total_seconds() // 60), skipped=more)


def send_due(store, dsn: str, now: datetime, *, run_url: str | None = None, note: str | None = None,
             send_budget: float = ch.ALERT_SEND_BUDGET_S) -> dict:
    """Send the latest due step of every unanswered message (once per channel), then due retries."""
    from seller_inbox import warehouse

    keys = dispatch.channel_keys(store)
    stats: Counter = Counter()
    budget = ch.SendBudget(send_budget)
    send = dispatch._Sender(store, keys, store.alert_language, now, run_url, stats, budget)
    late_by: list[float] = []
    conn = warehouse.connect(dsn)
    try:
        for row in due_messages(conn, store, now, [k for k, *_ in keys]):
            kind, after = STEPS[row["step"]]
            late = now - (row["received_at"] + after)
            notes = [note] if note else []
            if late > LATE_AFTER:
                notes.insert(0, late_note(send.lang, late, skipped=row["step"] > 0))
                late_by.append(late.total_seconds() / 60)
            row["sla_due_at"] = row.get("sla_due_at") or response_clock.due_at(row["received_at"])
            stats["due"] += 1
            send.message_alert(conn, kind, row, note=" ".join(notes) or None)
        dispatch._retry(conn, store, keys, now, stats, budget)
    finally:
        conn.close()
    if late_by:
        log.warning("store %s: %d reminder(s) sent late, up to %.0f min after their due time (reminders were not "
                    "running); only the latest step of each was sent", store.id, len(late_by), max(late_by))
    return {"store_id": store.id, "due": stats["due"], "late": len(late_by),
            "late_max_min": round(max(late_by), 1) if late_by else 0,
            **{k: stats[k] for k in ("sent", "failed", "deferred", "already_sent", "retried")},
            "by_kind": {k[5:]: v for k, v in sorted(stats.items()) if k.startswith("sent_")}}
