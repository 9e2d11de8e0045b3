"""Airflow glue: the per-store DAG factory and the task entry point. Nothing else here.

DAG files call ``build_dags()``; it reads the store registry (cheap: pydantic + yaml) and
builds, for every enabled store, two DAGs:

* ``si_<store>_pipeline`` — preflight → ingest_mail + ingest_orders → gate_ingest → classify
  → gate_classify → alert → act → gate_act → kpi → gate_kpi, on data intervals (hourly by
  default), so a backfill re-processes exactly its window;
* ``si_<store>_auth`` — refreshes the LWA token and checks the authorization (every 6 h).

Tasks are ``PythonOperator``s calling ``run_stage``, which imports the domain code only at
execution time. Workers build only the DAG they run (``get_parsing_context()``).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from seller_inbox.config import Registry, RegistryError, StoreConfig, get_registry

DAG_PREFIX = "si_"
_DAG_ID = re.compile(r"^si_(?P<store>.+)_(?P<kind>pipeline|auth)$")
START_DATE = datetime(2026, 1, 1, tzinfo=timezone.utc)

PIPELINE_STAGES: list[tuple[str, list[str]]] = [
    # (task id, upstream task ids)
    ("preflight", []),
    ("ingest_mail", ["preflight"]),
    ("ingest_orders", ["preflight"]),
    ("gate_ingest", ["ingest_mail", "ingest_orders"]),
    ("classify", ["gate_ingest"]),
    ("gate_classify", ["classify"]),
    ("alert", ["gate_classify"]),
    ("act", ["alert"]),
    ("gate_act", ["act"]),
    ("kpi", ["gate_act"]),
    ("gate_kpi", ["kpi"]),
]
AUTH_STAGES: list[tuple[str, list[str]]] = [("refresh_auth", [])]

DOCS = {
    "pipeline": (
        "### {name} ({id}) — 买家消息流水线 / message pipeline\n"
        "Marketplaces: {mps}. Each run takes in the mail and orders of its data interval, "
        "gates them, classifies, alerts, drafts or sends replies as the store allows, and "
        "recomputes the KPI days it touches. Backfill with `airflow backfill create`."
    ),
    "auth": "### {name} ({id}) — SP-API 授权检查 / authorization check\nRefreshes the LWA token and records `ops.store_auth`.",
}


def dag_id(store_id: str, kind: str) -> str:
    return f"{DAG_PREFIX}{store_id}_{kind}"


def _store_from_dag_id(value: str | None) -> str | None:
    m = _DAG_ID.match(value or "")
    return m.group("store") if m else None


def _default_args(owner: str) -> dict:
    return {
        "owner": owner,
        "retries": 2,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=20),
    }


def _build(store: StoreConfig, kind: str, owner: str):
    from airflow.providers.standard.operators.python import PythonOperator
    from airflow.sdk import DAG, CronDataIntervalTimetable

    stages = PIPELINE_STAGES if kind == "pipeline" else AUTH_STAGES
    cron = store.schedules.pipeline if kind == "pipeline" else store.schedules.auth
    dag = DAG(
        dag_id=dag_id(store.id, kind),
        schedule=CronDataIntervalTimetable(cron, timezone="UTC"),
        start_date=START_DATE,
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
        op = PythonOperator(
            task_id=task_id,
            python_callable=run_stage,
            op_kwargs={"stage": task_id, "store_id": store.id},
            dag=dag,
        )
        for up in upstream:
            ops[up] >> op
        ops[task_id] = op
    return dag


def build_dags(registry: Registry | None = None) -> dict[str, object]:
    """All DAGs for the registry's enabled stores, keyed by dag id (for ``globals().update``)."""
    from airflow.sdk import get_parsing_context

    reg = registry or get_registry()
    only = _store_from_dag_id(get_parsing_context().dag_id)
    out: dict[str, object] = {}
    for store in reg.enabled_stores:
        if only and store.id != only:
            continue
        for kind in ("pipeline", "auth"):
            d = _build(store, kind, reg.defaults.owner)
            out[d.dag_id] = d
    return out


def run_stage(stage: str, store_id: str, **context) -> dict:
    """Task entry point: resolve store, warehouse and interval, then call the stage."""
    from seller_inbox import stages
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
    )
    try:
        return getattr(stages, stage)(store, dsn(), start, end, run)
    except Exception as exc:
        if is_final(exc):  # retrying cannot help: fail now, keep the message that says what to do
            from airflow.sdk.exceptions import AirflowFailException

            raise AirflowFailException(str(exc)) from exc
        raise


# errors whose cause a retry cannot change: bad data caught by a gate, revoked or wrong
# credentials, a store marked unusable. Everything else (network, 5xx, locks) is retried.
FINAL_ERRORS = {"GateFailed", "SpApiFinalError", "StoreUnusable", "RegistryError"}


def is_final(exc: BaseException) -> bool:
    return any(c.__name__ in FINAL_ERRORS for c in type(exc).__mro__)


__all__ = ["build_dags", "run_stage", "dag_id", "RegistryError"]
