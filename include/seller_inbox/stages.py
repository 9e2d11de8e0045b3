"""The pipeline stages, one function each, called by the Airflow tasks (``airflow_glue.run_stage``).

Every stage takes ``(store, dsn, start, end, run)`` — the store's config, the warehouse URL
and the run's data interval [start, end) — and returns a small dict of counts that Airflow
keeps as the task's XCom. Domain modules are imported inside each function so that DAG
parsing never pays for them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from seller_inbox.config import StoreConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunInfo:
    dag_id: str = ""
    run_id: str = ""
    task_id: str = ""
    try_number: int = 1
    run_type: str = ""  # scheduled, manual, backfill, asset_triggered

    @property
    def catches_up(self) -> bool:
        """A backfill reads exactly its window; any other run also reads what no run read before it."""
        return self.run_type != "backfill"

    def url(self, base: str | None = None) -> str | None:
        """Link to this task run in the Airflow UI (for alerts)."""
        import os
        from urllib.parse import quote

        base = base or os.environ.get("AIRFLOW__API__BASE_URL") or os.environ.get("SELLER_INBOX_UI_URL")
        if not (base and self.dag_id and self.run_id):
            return None
        return f"{base.rstrip('/')}/dags/{self.dag_id}/runs/{quote(self.run_id, safe='')}/tasks/{self.task_id}"


def _now() -> datetime:
    from seller_inbox import clock

    return clock.now()


def migrate(store: StoreConfig, dsn: str, start, end, run: RunInfo) -> dict:
    """Bring the warehouse schema up to date (every branch needs it; safe to run concurrently)."""
    from seller_inbox.warehouse import migrate as _migrate

    return {"migrations_applied": _migrate(dsn), "interval": [start.isoformat(), end.isoformat()]}


def preflight(store: StoreConfig, dsn: str, start, end, run: RunInfo) -> dict:
    """Fail the SP-API branch fast if the store's authorization is known to be revoked.

    Only orders, act and delivery wait on this: mail, classification and alerts go on."""
    from seller_inbox.auth import assert_store_usable

    row = assert_store_usable(store, dsn)
    return {"auth_status": (row or {}).get("status", "unchecked")}


def _covered(store: StoreConfig, dsn: str, source: str, start, end, run: RunInfo, rows: int) -> None:
    from seller_inbox.coverage import record_coverage

    record_coverage(dsn, store.id, source, start, end, rows, run.run_id)


def _read_from(store: StoreConfig, dsn: str, source: str, start, run: RunInfo):
    """Where this run's ingest of ``source`` starts: back to the last complete read after an outage."""
    if not run.catches_up:
        return start
    from seller_inbox.coverage import alert_gap, catch_up_start

    read_from, gap = catch_up_start(dsn, store.id, source, start)
    if gap is not None:
        log.warning("store %s: %s not read since %s; this run reads from %s", store.id, source, gap, read_from)
        alert_gap(dsn, store.id, source, gap, start, read_from)
    return read_from


def _window(store: StoreConfig, dsn: str, source: str, start, end, run: RunInfo):
    """The (possibly extended) window this run's ingest of ``source`` read: later stages use it too."""
    from seller_inbox.coverage import run_read_from

    return run_read_from(dsn, store.id, source, run.run_id, start, end)


def ingest_mail(store: StoreConfig, dsn: str, start, end, run: RunInfo) -> dict:
    from seller_inbox.mail.ingest import ingest_mailbox

    start = _read_from(store, dsn, "mail", start, run)
    out = ingest_mailbox(store, dsn, start, end)
    _covered(store, dsn, "mail", start, end, run, out.get("seen", 0))  # mails in the window: same on a rerun
    return {**out, "read_from": start.isoformat()}


def ingest_orders(store: StoreConfig, dsn: str, start, end, run: RunInfo) -> dict:
    from seller_inbox.orders import ingest_orders as _ingest

    start = _read_from(store, dsn, "orders", start, run)
    out = _ingest(store, dsn, start, end)
    until = out.get("loaded_until")  # None or earlier than end: a window too fresh was cut short
    if until is not None:
        _covered(store, dsn, "orders", start, min(datetime.fromisoformat(until), end), run, out.get("orders", 0))
    return {**out, "read_from": start.isoformat()}


def _gate(stage: str, store, dsn, start, end, run) -> dict:
    from seller_inbox.gates import run_gate

    return run_gate(stage, store, dsn, start, end, run_id=run.run_id, now=_now())


def gate_ingest_mail(store, dsn, start, end, run):
    return _gate("ingest_mail", store, dsn, _window(store, dsn, "mail", start, end, run), end, run)


def gate_ingest_orders(store, dsn, start, end, run):
    return _gate("ingest_orders", store, dsn, _window(store, dsn, "orders", start, end, run), end, run)


def classify(store: StoreConfig, dsn: str, start, end, run: RunInfo) -> dict:
    from seller_inbox.classify import classify_store_messages

    return classify_store_messages(store, dsn, _window(store, dsn, "mail", start, end, run), end)


def gate_classify(store, dsn, start, end, run):
    return _gate("classify", store, dsn, _window(store, dsn, "mail", start, end, run), end, run)


def alert(store: StoreConfig, dsn: str, start, end, run: RunInfo) -> dict:
    from seller_inbox.alerts import dispatch_alerts

    return dispatch_alerts(store, dsn, _window(store, dsn, "mail", start, end, run), end, _now(), run_url=run.url())


def gate_alert(store, dsn, start, end, run):
    return _gate("alert", store, dsn, _window(store, dsn, "mail", start, end, run), end, run)


def act(store: StoreConfig, dsn: str, start, end, run: RunInfo) -> dict:
    from seller_inbox.act import act_on_messages

    # a backfill re-processes a past window: it never queues anything that sends by itself
    return act_on_messages(store, dsn, _window(store, dsn, "mail", start, end, run), end, now=_now(),
                           backfill=run.run_type == "backfill")


def gate_act(store, dsn, start, end, run):
    return _gate("act", store, dsn, _window(store, dsn, "mail", start, end, run), end, run)


def kpi(store: StoreConfig, dsn: str, start, end, run: RunInfo) -> dict:
    """Recompute the KPI days of the interval from whatever came in; name the inputs that did not.

    Runs even when the orders branch failed (trigger rule ``all_done``): message KPIs need no
    orders. ``inputs_missing`` lists the sources without a complete read of this interval."""
    from seller_inbox.coverage import missing_sources
    from seller_inbox.kpi import compute_store_daily

    start = _kpi_start(store, dsn, start, end, run)
    out = compute_store_daily(store, dsn, start, end, now=_now())
    missing = missing_sources(dsn, store.id, start, end)
    if missing:
        log.warning("store %s: KPIs for %s–%s computed without a complete read of: %s (see ops.ingest_gaps)",
                    store.id, start, end, ", ".join(missing))
    return {**out, "inputs_missing": missing}


def _kpi_start(store, dsn, start, end, run):
    return min(_window(store, dsn, "mail", start, end, run), _window(store, dsn, "orders", start, end, run))


def gate_kpi(store, dsn, start, end, run):
    return _gate("kpi", store, dsn, _kpi_start(store, dsn, start, end, run), end, run)


def deliver(store: StoreConfig, dsn: str, start, end, run: RunInfo) -> dict:
    """Drain the store's outbox (the deliver DAG): the only stage that sends to buyers.

    It has no data interval: it sends what is due now, whatever run triggered it."""
    from seller_inbox.delivery.deliver import deliver_store
    from seller_inbox.warehouse import migrate

    migrate(dsn)
    return deliver_store(store, dsn, now=_now())


def review_scan(store: StoreConfig, dsn: str, start, end, run: RunInfo) -> dict:
    """The daily scans (deliver DAG, beside ``deliver``): review requests, then the proactive
    messages the store opted in to (registry ``proactive``), each once per store and local day
    from 08:00; the deliver runs send what they queue (docs/delivery.md)."""
    from seller_inbox.delivery import proactive_scan
    from seller_inbox.delivery.review_scan import daily_scan
    from seller_inbox.warehouse import migrate

    migrate(dsn)
    now = _now()
    out = daily_scan(store, dsn, now=now)
    # the review scan that just ran refreshed the packages: not read twice
    return {**out, "proactive": proactive_scan.daily_scan(store, dsn, now=now, refresh=out.get("scan") != "ran")}


def gate_deliver(store, dsn, start, end, run):
    """What went out in the day before now was allowed to (the deliver DAG has no interval)."""
    from datetime import timedelta

    now = _now()
    return _gate("deliver", store, dsn, now - timedelta(days=1), now + timedelta(seconds=1), run)


def remind(store: StoreConfig, dsn: str, start, end, run: RunInfo) -> dict:
    """SLA reminders (the reminders DAG, every 5 minutes): the mailbox first, so a reply sent
    from Seller Central counts, then every reminder due now, once (``alerts.reminders``). No
    data interval: what is due depends on the clock, not on the run."""
    from seller_inbox.alerts.reminders import remind_store
    from seller_inbox.warehouse import migrate

    migrate(dsn)
    return remind_store(store, dsn, _now(), run_url=run.url())


def refresh_auth(store: StoreConfig, dsn: str, start, end, run: RunInfo) -> dict:
    from seller_inbox.warehouse import migrate
    from seller_inbox.auth import check_store_auth

    migrate(dsn)
    return check_store_auth(store, dsn, now=_now())
