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


def preflight(store: StoreConfig, dsn: str, start, end, run: RunInfo) -> dict:
    """Bring the schema up to date and fail fast if the store's authorization is revoked."""
    from seller_inbox.warehouse import migrate

    applied = migrate(dsn)
    from seller_inbox.auth import assert_store_usable

    assert_store_usable(store, dsn)
    return {"migrations_applied": applied, "interval": [start.isoformat(), end.isoformat()]}


def ingest_mail(store: StoreConfig, dsn: str, start, end, run: RunInfo) -> dict:
    from seller_inbox.mail.ingest import ingest_mailbox

    return ingest_mailbox(store, dsn, start, end)


def ingest_orders(store: StoreConfig, dsn: str, start, end, run: RunInfo) -> dict:
    from seller_inbox.orders import ingest_orders as _ingest

    return _ingest(store, dsn, start, end)


def _gate(stage: str, store, dsn, start, end, run) -> dict:
    from seller_inbox.gates import run_gate

    return run_gate(stage, store, dsn, start, end, run_id=run.run_id)


def gate_ingest(store, dsn, start, end, run):
    return _gate("ingest", store, dsn, start, end, run)


def classify(store: StoreConfig, dsn: str, start, end, run: RunInfo) -> dict:
    from seller_inbox.classify import classify_store_messages

    return classify_store_messages(store, dsn, start, end)


def gate_classify(store, dsn, start, end, run):
    return _gate("classify", store, dsn, start, end, run)


def alert(store: StoreConfig, dsn: str, start, end, run: RunInfo) -> dict:
    from seller_inbox.alerts import dispatch_alerts

    return dispatch_alerts(store, dsn, start, end, _now(), run_url=run.url())


def act(store: StoreConfig, dsn: str, start, end, run: RunInfo) -> dict:
    from seller_inbox.act import act_on_messages

    return act_on_messages(store, dsn, start, end, now=_now())


def gate_act(store, dsn, start, end, run):
    return _gate("act", store, dsn, start, end, run)


def kpi(store: StoreConfig, dsn: str, start, end, run: RunInfo) -> dict:
    from seller_inbox.kpi import compute_store_daily

    return compute_store_daily(store, dsn, start, end, now=_now())


def gate_kpi(store, dsn, start, end, run):
    return _gate("kpi", store, dsn, start, end, run)


def refresh_auth(store: StoreConfig, dsn: str, start, end, run: RunInfo) -> dict:
    from seller_inbox.warehouse import migrate
    from seller_inbox.auth import check_store_auth

    migrate(dsn)
    return check_store_auth(store, dsn, now=_now())
