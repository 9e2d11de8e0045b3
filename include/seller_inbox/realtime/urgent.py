"""The urgent DAG's stages (``si_<store>_urgent``, started by the mailbox watcher's asset events):
the pipeline's mail branch on what just arrived — ingest from the watermark, gate, classify,
gate, alert high-risk messages, gate.

Each calls the scheduled pipeline's own stage code (``seller_inbox.stages``) on a window ending
now instead of a data interval, so tables, idempotency and gates are the pipeline's: a mail
already stored is skipped (``source_ref``, Message-ID), a message already classified by this
classifier version is left alone, an alert already in ``ops.alert_log`` is not sent again,
whichever of the two DAGs gets there first. The urgent run records no coverage
(``ops.ingest_coverage``): the scheduled pipeline still reads its whole interval and stays the
safety net and the way to backfill. SLA reminders are the reminders DAG's
(``alerts.reminders``); the fan-out of other components' alerts stays with the pipeline.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

# how far back an urgent run looks (received time): the watermark bounds what IMAP reads, this
# bounds classification and alert queries; older mail is the scheduled pipeline's
LOOKBACK = timedelta(days=1)  # a look-back, not the 24-hour response clock (domain.response_clock)
AHEAD = timedelta(minutes=5)  # mailbox clocks a little ahead of ours


def window(now: datetime | None = None) -> tuple[datetime, datetime]:
    """[start, end) of an urgent run: real time (mail arrives now), and the stage clock's now if it
    is pinned earlier (``clock.now()``: the demo's world)."""
    from seller_inbox import clock

    real = now or datetime.now(timezone.utc)
    return min(real, clock.now()) - LOOKBACK, max(real, clock.now()) + AHEAD


def ingest_mail(store, dsn: str, start, end, run) -> dict:
    """New mail only: IMAP reads UIDs above the stored watermark; Maildir skips stored names."""
    from seller_inbox.mail.ingest import ingest_mailbox

    start, end = window()
    out = ingest_mailbox(store, dsn, start, end, since_watermark=True)
    return {**out, "read_from": start.isoformat(), "read_to": end.isoformat()}


def gate_ingest_mail(store, dsn, start, end, run) -> dict:
    from seller_inbox import stages

    return stages.gate_ingest_mail(store, dsn, *window(), run)


def classify(store, dsn: str, start, end, run) -> dict:
    from seller_inbox import stages

    return stages.classify(store, dsn, *window(), run)


def gate_classify(store, dsn, start, end, run) -> dict:
    from seller_inbox import stages

    return stages.gate_classify(store, dsn, *window(), run)


def alert(store, dsn: str, start, end, run) -> dict:
    """Risk alerts for the window (exactly once per message and channel: ``ops.alert_log``)."""
    from seller_inbox import stages
    from seller_inbox.alerts import dispatch_alerts

    start, end = window()
    return dispatch_alerts(store, dsn, start, end, stages._now(), run_url=run.url(), fanout=False)


def gate_alert(store, dsn, start, end, run) -> dict:
    from seller_inbox import stages

    return stages.gate_alert(store, dsn, *window(), run)
