"""Airflow glue: the per-store DAG factory and the task entry point. Nothing else here.

DAG files (one per kind, ``dags/si_<kind>.py``) call ``build_dags((kind,))``; it reads the store
registry (cheap: pydantic + yaml) and builds, for every enabled store, that kind's DAG:

* ``si_<store>_pipeline`` on data intervals (hourly by default), so a backfill re-processes
  exactly its window. Two branches that fail alone (docs/operations.md):

  - mail (needs no SP-API): migrate → ingest_mail → gate_ingest_mail → classify →
    gate_classify → alert → gate_alert;
  - SP-API: migrate → preflight (authorization) → ingest_orders → gate_ingest_orders;

  then act (needs both) → gate_act, and kpi → gate_kpi, which runs whatever happened to
  the orders branch and records which inputs were missing. A revoked token therefore stops
  orders, act and delivery, never mail ingestion, classification or alerts.
* ``si_<store>_urgent`` — the mail branch on what just arrived, scheduled on the asset
  ``seller_inbox://mail/<store>`` whose watcher (``realtime.watch``) holds the mailbox in the
  triggerer (docs/realtime.md).
* ``si_<store>_auth`` — refreshes the LWA token and checks the authorization (every 6 h).
* ``si_<store>_deliver`` — drains ``core.outbox``: the only code that sends to a buyer
  (docs/delivery.md). Every few minutes (``controls.deliver_cron``) and whenever the
  pipeline's act task queued something (its outlet, the asset ``outbox_asset(store)``). It
  has no data interval: backfilling it means nothing. First ``review_scan`` queues the day's
  review requests and, for stores that opt in (registry ``proactive``), delivery
  confirmations, once per store and local day (a no-op on every other run); then ``deliver``
  sends what is due — whatever the scan did — and ``gate_deliver`` checks what went out.
* ``si_<store>_reminders`` — every 5 minutes, whatever the pipeline's schedule: ``remind``
  takes in new mail and sends the SLA reminders that are due (``alerts.reminders``).

Tasks are ``PythonOperator``s calling ``run_stage``, which imports the domain code only at
execution time. Every task has an execution timeout. Workers build only the DAG they run
(``get_parsing_context()``).
"""

from __future__ import annotations

import logging
import os
import re
from datetime import datetime, timedelta, timezone

from seller_inbox.config import Registry, RegistryError, StoreConfig, get_registry
from seller_inbox.errors import FinalError

DAG_PREFIX = "si_"
_DAG_ID = re.compile(r"^si_(?P<store>.+)_(?P<kind>pipeline|auth|deliver|performance|reminders|urgent)$")
KINDS = ("pipeline", "auth", "deliver", "performance", "reminders", "urgent")
START_DATE = datetime(2026, 1, 1, tzinfo=timezone.utc)
# no data interval starting at or after this moment (ISO 8601) is scheduled: see _end_date
SCHEDULE_UNTIL_ENV = "SELLER_INBOX_SCHEDULE_UNTIL"

PIPELINE_STAGES: list[tuple[str, list[str]]] = [
    # (task id, upstream task ids)
    ("migrate", []),
    # mail branch: buyer messages come by e-mail and need no SP-API
    ("ingest_mail", ["migrate"]),
    ("gate_ingest_mail", ["ingest_mail"]),
    ("classify", ["gate_ingest_mail"]),
    ("gate_classify", ["classify"]),
    ("alert", ["gate_classify"]),
    ("gate_alert", ["alert"]),
    # SP-API branch: a revoked or broken authorization stops only this and what needs it
    ("preflight", ["migrate"]),
    ("ingest_orders", ["preflight"]),
    ("gate_ingest_orders", ["ingest_orders"]),
    ("act", ["gate_alert", "gate_ingest_orders"]),
    ("gate_act", ["act"]),
    # KPIs from whatever came in (trigger rule below); the task records missing inputs
    ("kpi", ["gate_alert", "gate_act"]),
    ("gate_kpi", ["kpi"]),
]
# tasks that run once their upstream tasks are done, whatever their state
ALL_DONE = {"kpi", "deliver"}  # deliver: a failed daily scan never holds back replies
# the longest a task may run before Airflow kills it (and retries): nothing hangs silently
TIMEOUTS = {"ingest_mail": 30, "ingest_orders": 45, "classify": 30, "alert": 10, "act": 20, "kpi": 15,
            "refresh_auth": 10, "deliver": 15, "review_scan": 30, "remind": 4}
DEFAULT_TIMEOUT = 10  # minutes: migrations, gates, preflight
# stages that keep their progress when an SP-API bucket wait longer than a few seconds
# reschedules them (docs/spapi.md, "Waiting for tokens"): they give the worker slot back and go
# on where they stopped; other stages sleep through their (short) waits
RESUMABLE = {"ingest_orders"}
AUTH_STAGES: list[tuple[str, list[str]]] = [("refresh_auth", [])]
# the daily review-request scan runs beside deliver (a no-op but once a day): replies never wait on it
DELIVER_STAGES: list[tuple[str, list[str]]] = [("review_scan", []), ("deliver", ["review_scan"]),
                                               ("gate_deliver", ["deliver"])]
# Amazon's performance and feedback reports, daily; the wait defers to the triggerer (seller_inbox.reports)
PERFORMANCE_STAGES: list[tuple[str, list[str]]] = [
    ("migrate", []), ("request_reports", ["migrate"]), ("wait_reports", ["request_reports"]),
    ("load_reports", ["wait_reports"]), ("gate_performance", ["load_reports"])]
PERFORMANCE_CRON = "30 5 * * *"
# SLA reminders on Amazon's clock, not the pipeline's: every 5 minutes (seller_inbox.alerts.reminders)
REMINDER_STAGES: list[tuple[str, list[str]]] = [("remind", [])]
REMINDERS_CRON = "*/5 * * * *"
# the mail branch on what just arrived, started by the mailbox watcher (seller_inbox.realtime)
URGENT_STAGES: list[tuple[str, list[str]]] = [
    ("ingest_mail", []), ("gate_ingest_mail", ["ingest_mail"]), ("classify", ["gate_ingest_mail"]),
    ("gate_classify", ["classify"]), ("alert", ["gate_classify"]), ("gate_alert", ["alert"])]
STAGES = {"pipeline": PIPELINE_STAGES, "auth": AUTH_STAGES, "deliver": DELIVER_STAGES,
          "performance": PERFORMANCE_STAGES, "reminders": REMINDER_STAGES, "urgent": URGENT_STAGES}
OUTBOX_ASSET = "seller_inbox://outbox/{store}"
MAIL_ASSET = "seller_inbox://mail/{store}"

DOCS = {
    "pipeline": (
        "### {name} ({id}) — 买家消息流水线 / message pipeline\n"
        "Marketplaces: {mps}. Each run takes in the mail and orders of its data interval, "
        "gates them, classifies, alerts, drafts or sends replies as the store allows, and "
        "recomputes the KPI days it touches. Backfill with `airflow backfill create`."
    ),
    "auth": "### {name} ({id}) — SP-API 授权检查 / authorization check\nRefreshes the LWA token and records `ops.store_auth`.",
    "deliver": (
        "### {name} ({id}) — 发送 / delivery\nSends what `core.outbox` holds and is due: replies by SMTP, "
        "review requests and proactive messages through the SP-API. Kill switches, quiet hours, caps and "
        "the compliance linter are read at send time (docs/delivery.md). `review_scan` queues the day's "
        "review requests and, for stores that opt in (`proactive`), delivery confirmations, once a day from "
        "08:00 local time; `deliver` then sends what is due, whatever the scan did."
    ),
    "performance": (
        "### {name} ({id}) — 亚马逊绩效报告 / Amazon's performance figures\nDaily: requests the V2 seller "
        "performance report and the feedback report per marketplace, waits for them in the triggerer, loads "
        "`raw.seller_performance` and `raw.seller_feedback` (docs/performance-report.md)."
    ),
    "urgent": (
        "### {name} ({id}) — 实时高风险提醒 / real-time alerts\nStarted by the mailbox watcher in the triggerer "
        "when mail arrives: ingests the new mail, classifies it and alerts high-risk messages at once, with the "
        "pipeline's tables, gates and exactly-once alert log (docs/realtime.md)."
    ),
    "reminders": (
        "### {name} ({id}) — SLA 回复提醒 / reply reminders\nEvery 5 minutes: takes in the mailbox's new mail "
        "(so a reply sent from Seller Central whose copy is there counts), then sends the 12 h, 20 h and 24 h "
        "reminders that are due, once each (docs/reminders.md)."
    ),
}


def dag_id(store_id: str, kind: str) -> str:
    return f"{DAG_PREFIX}{store_id}_{kind}"


def outbox_asset(store_id: str):
    """The asset the act task updates and the deliver DAG listens to."""
    from airflow.sdk import Asset

    return Asset(OUTBOX_ASSET.format(store=store_id))


def mail_asset(store: StoreConfig):
    """The store's mailbox as an asset, watched by a trigger in the triggerer (the urgent DAG's schedule)."""
    from airflow.sdk import Asset

    from seller_inbox.realtime.watch import watcher_for

    return Asset(MAIL_ASSET.format(store=store.id), watchers=[watcher_for(store)])


def _schedule(store: StoreConfig, kind: str):
    from airflow.sdk import AssetOrTimeSchedule, CronDataIntervalTimetable, CronTriggerTimetable

    if kind == "urgent":
        return [mail_asset(store)]

    if kind == "deliver":
        from seller_inbox.delivery.controls import deliver_cron

        return AssetOrTimeSchedule(timetable=CronTriggerTimetable(deliver_cron(store), timezone="UTC"),
                                   assets=[outbox_asset(store.id)])
    if kind == "reminders":  # due times, not data intervals: nothing to backfill
        return CronTriggerTimetable(REMINDERS_CRON, timezone="UTC")
    cron = {"pipeline": store.schedules.pipeline, "performance": PERFORMANCE_CRON}.get(kind, store.schedules.auth)
    return CronDataIntervalTimetable(cron, timezone="UTC")


def _store_from_dag_id(value: str | None) -> str | None:
    m = _DAG_ID.match(value or "")
    return m.group("store") if m else None


def _end_date(kind: str) -> datetime | None:
    """The last moment a scheduled data interval may start, from ``SCHEDULE_UNTIL_ENV``.

    The interactive demo pins its world at the end of its window: past midnight the scheduler
    would start a run for a day its simulator and mailboxes do not hold, and that run's gates
    fail. Airflow creates the intervals that start at or before ``end_date``, hence the
    microsecond. Unset (production), schedules never end."""
    until = os.environ.get(SCHEDULE_UNTIL_ENV)
    if not until or kind not in ("pipeline", "performance"):
        return None
    t = datetime.fromisoformat(until)
    return (t if t.tzinfo else t.replace(tzinfo=timezone.utc)) - timedelta(microseconds=1)


def _default_args(owner: str) -> dict:
    return {
        "owner": owner,
        "on_failure_callback": on_task_failure,
        "on_success_callback": on_task_success,
        "retries": 2,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=20),
    }


def _build(store: StoreConfig, kind: str, owner: str):
    from airflow.providers.standard.operators.python import PythonOperator
    from airflow.sdk import DAG

    stages = STAGES[kind]
    dag = DAG(
        dag_id=dag_id(store.id, kind),
        schedule=_schedule(store, kind),
        start_date=START_DATE,
        end_date=_end_date(kind),
        catchup=False,
        max_active_runs=1,
        max_active_tasks=4,
        default_args=_default_args(owner),
        tags=["seller-inbox", f"store:{store.id}", f"region:{store.region}", kind],
        doc_md=DOCS[kind].format(name=store.name, id=store.id, mps=", ".join(store.marketplace_codes)),
        description=f"{store.name}: {kind}",
    )
    ops = {}
    for task_id, upstream in stages:
        timeout = timedelta(minutes=TIMEOUTS.get(task_id, DEFAULT_TIMEOUT))
        if kind == "performance" and task_id != "migrate":
            from seller_inbox.reports.tasks import report_task

            op = report_task(task_id, store.id, execution_timeout=timeout, dag=dag)
        else:
            op = PythonOperator(
                task_id=task_id,
                python_callable=run_stage,
                op_kwargs={"stage": task_id, "store_id": store.id, **({"kind": kind} if kind == "urgent" else {})},
                execution_timeout=timeout,
                trigger_rule="all_done" if task_id in ALL_DONE else "all_success",
                outlets=[outbox_asset(store.id)] if task_id == "act" else [],
                dag=dag,
            )
        for up in upstream:
            ops[up] >> op
        ops[task_id] = op
    return dag


def build_dags(kinds: tuple[str, ...] = KINDS, registry: Registry | None = None) -> dict[str, object]:
    """The DAGs of ``kinds`` for the registry's enabled stores, keyed by dag id (for
    ``globals().update``). One DAG file per kind (``dags/``): each file parses well inside
    Airflow's import timeout at a thousand stores, and the DAG processor parses them in parallel
    (docs/operations.md, "Many stores"). A worker builds only the DAG it runs."""
    from airflow.sdk import get_parsing_context

    m = _DAG_ID.match(get_parsing_context().dag_id or "")
    if m and m.group("kind") not in kinds:
        return {}
    reg = registry or get_registry()
    only = m.group("store") if m else None
    out: dict[str, object] = {}
    for store in reg.enabled_stores:
        if only and store.id != only:
            continue
        for kind in kinds:
            d = _build(store, kind, reg.defaults.owner)
            out[d.dag_id] = d
    return out


def run_stage(stage: str, store_id: str, kind: str = "pipeline", **context) -> dict:
    """Task entry point: resolve store, warehouse and interval, then call the stage (the urgent
    DAG's stages are ``seller_inbox.realtime.urgent``'s)."""
    from seller_inbox import stages
    from seller_inbox.realtime import urgent
    from seller_inbox.warehouse import dsn

    store = get_registry().store(store_id)
    start = context.get("data_interval_start")
    end = context.get("data_interval_end")
    if start is None or end is None:  # manual run without a logical date: the last hour
        end = datetime.now(timezone.utc)
        start = end - timedelta(hours=1)
    ti = context.get("ti")
    run = stages.RunInfo(
        dag_id=context["dag"].dag_id if context.get("dag") else "",
        run_id=context.get("run_id") or "",
        task_id=stage,
        try_number=getattr(ti, "try_number", 1) if ti else 1,
        run_type=str(getattr(getattr(context.get("dag_run"), "run_type", ""), "value",
                             getattr(context.get("dag_run"), "run_type", "")) or ""),
    )
    from seller_inbox.spapi.buckets import DEFER_AFTER_S, defer_waits_over
    from seller_inbox.spapi.errors import TokenWait

    try:
        with defer_waits_over(DEFER_AFTER_S if stage in RESUMABLE else None):
            return getattr(urgent if kind == "urgent" else stages, stage)(store, dsn(), start, end, run)
    except TokenWait as wait:
        from airflow.sdk.exceptions import AirflowRescheduleException

        logging.getLogger(__name__).info("%s; rescheduled", wait)
        raise AirflowRescheduleException(
            reschedule_date=datetime.now(timezone.utc) + timedelta(seconds=max(1.0, wait.seconds))) from wait
    except Exception as exc:
        if is_final(exc):  # retrying cannot help: fail now, keep the message that says what to do
            from airflow.sdk.exceptions import AirflowFailException

            raise AirflowFailException(str(exc)) from exc
        raise


def on_task_failure(context) -> None:
    """A task failed for good: open an incident and alert the store's channels now."""
    _task_callback(context, failed=True)


def on_task_success(context) -> None:
    """A task succeeded: resolve its incident (recovery notice) and deliver queued component alerts."""
    _task_callback(context, failed=False)


def _task_callback(context, failed: bool) -> None:
    import logging

    log = logging.getLogger(__name__)
    try:
        from seller_inbox import incidents
        from seller_inbox.warehouse import dsn

        dag_id = context["dag"].dag_id
        task_id = context["ti"].task_id
        run_id = context.get("run_id") or ""
        store = get_registry().store(_store_from_dag_id(dag_id) or "")
    except Exception:  # noqa: BLE001 - a callback must never fail the task it reports on
        log.exception("seller-inbox task callback could not resolve its store")
        return
    error = context.get("exception")
    try:
        url = dsn()
        if failed:
            incidents.task_failed(store, url, dag_id, task_id, run_id, error)
            incidents.deliver_now(store, url)
        elif incidents.task_succeeded(store, url, dag_id, task_id, run_id) or task_id in incidents.DELIVER_ON_SUCCESS:
            incidents.deliver_now(store, url)
    except Exception as exc:  # noqa: BLE001 - the warehouse is down: tell people without it
        log.exception("store %s: incident bookkeeping failed", store.id)
        if failed:
            incidents.send_direct(store, f"[seller-inbox] {store.id}: {dag_id} › {task_id} failed",
                                  f"{dag_id} › {task_id} failed (run {run_id}): {error}. "
                                  f"The warehouse was unreachable too: {type(exc).__name__}: {exc}")


def is_final(exc: BaseException) -> bool:
    """A cause a retry cannot change (``seller_inbox.errors.FinalError``): bad data caught by a gate,
    revoked or wrong credentials, a store marked unusable, a bad registry. Everything else
    (network, 5xx, locks) is retried."""
    return isinstance(exc, FinalError)


__all__ = ["build_dags", "run_stage", "dag_id", "RegistryError"]
