"""Data-quality gates: a GX Core validation after each stage, on the batch that stage wrote.

Suites are data (``data/gates/<stage>.yaml``): SQL that selects the run's batch, and GX
expectations by class name. A failing gate records the failing expectations and a sample
of failing rows in ``ops.gate_run``, writes a ``gate_failed`` alert row, and raises
``GateFailed`` so Airflow fails the gate task and stops that store's downstream tasks —
other stores' DAGs are untouched. GX is imported here only, lazily (it costs seconds).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path

import yaml

from seller_inbox.config import StoreConfig

log = logging.getLogger(__name__)
SUITES = Path(__file__).resolve().parent / "data" / "gates"
MAX_FAILING_ROWS = 50


class GateFailed(RuntimeError):
    """Raised by a failing gate; its message names store, stage and what failed."""


def load_suite(stage: str) -> dict:
    path = SUITES / f"{stage}.yaml"
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GateFailed(f"no data-quality suite for stage {stage!r} ({path})") from None


def _resolve(kwargs: dict, store: StoreConfig) -> dict:
    subst = {"$marketplaces": store.marketplace_codes}
    return {k: subst.get(v, v) if isinstance(v, str) else v for k, v in kwargs.items()}


def _context():
    import great_expectations as gx

    ctx = gx.get_context(mode="ephemeral")
    try:
        ctx.variables.progress_bars = {"globally": False, "metric_calculations": False}
    except Exception:  # noqa: BLE001 - older/newer GX without this knob: only cosmetic
        pass
    return ctx


def validate_frame(df, expectations: list[dict], key: list[str], store: StoreConfig) -> tuple[bool, list[dict], list[dict]]:
    """Run expectations on a DataFrame. Returns (success, failed expectations, failing rows)."""
    import great_expectations as gx

    if df.empty:
        return True, [], []
    ctx = _context()
    batch = (
        ctx.data_sources.add_pandas("gate")
        .add_dataframe_asset(name="batch")
        .add_batch_definition_whole_dataframe("all")
        .get_batch(batch_parameters={"dataframe": df})
    )
    suite = gx.ExpectationSuite(name="gate")
    for e in expectations:
        cls = getattr(gx.expectations, e["type"], None)
        if cls is None:
            raise GateFailed(f"unknown expectation type {e['type']!r} in a gate suite")
        suite.add_expectation(cls(**_resolve(e.get("kwargs", {}), store)))
    result = batch.validate(
        suite, result_format={"result_format": "COMPLETE", "unexpected_index_column_names": key}
    )
    failed, rows = [], []
    for r in result.results:
        if r.success:
            continue
        cfg = r.expectation_config
        res = r.result or {}
        failed.append({
            "expectation": cfg.type,
            "column": cfg.kwargs.get("column") or f"{cfg.kwargs.get('column_A')},{cfg.kwargs.get('column_B')}",
            "unexpected_count": res.get("unexpected_count"),
            "observed_value": _jsonable(res.get("observed_value")),
        })
        for row in (res.get("unexpected_index_list") or [])[:MAX_FAILING_ROWS]:
            rows.append({"expectation": cfg.type, **{k: _jsonable(v) for k, v in row.items()}})
    return bool(result.success), failed, rows[:MAX_FAILING_ROWS]


def _jsonable(v):
    if isinstance(v, float) and v != v:  # pandas' NaN for a NULL: JSON has no NaN
        return None
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return str(v)


def run_gate(stage: str, store: StoreConfig, dsn: str, start: datetime, end: datetime, run_id: str = "") -> dict:
    """Validate the stage's batch for [start, end); record the outcome; raise GateFailed on failure."""
    import pandas as pd
    import psycopg2

    suite = load_suite(stage)
    params = {"store_id": store.id, "start": start, "end": end,
              "zones": json.dumps({m.code: m.zone.key for m in store.marketplaces})}
    all_failed, all_rows, checked = [], [], 0
    conn = psycopg2.connect(dsn)
    try:
        for b in suite["batches"]:
            with conn.cursor() as cur:
                cur.execute(b["sql"], params)
                cols = [d[0] for d in cur.description]
                df = pd.DataFrame(cur.fetchall(), columns=cols)
            checked += len(df)
            ok, failed, rows = validate_frame(df, b["expectations"], b.get("key", []), store)
            all_failed += [{"batch": b["name"], **f} for f in failed]
            all_rows += [{"batch": b["name"], **r} for r in rows]
        success = not all_failed
        with conn, conn.cursor() as cur:
            cur.execute(
                """INSERT INTO ops.gate_run (store_id, stage, interval_start, interval_end, success,
                       rows_checked, failed_expectations, failing_rows, run_id)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
                   ON CONFLICT (store_id, stage, interval_start, interval_end) DO UPDATE SET
                       success = EXCLUDED.success, rows_checked = EXCLUDED.rows_checked,
                       failed_expectations = EXCLUDED.failed_expectations,
                       failing_rows = EXCLUDED.failing_rows, run_id = EXCLUDED.run_id,
                       evaluated_at = now()
                   WHERE (ops.gate_run.success, ops.gate_run.rows_checked, ops.gate_run.failed_expectations,
                          ops.gate_run.failing_rows)
                         IS DISTINCT FROM (EXCLUDED.success, EXCLUDED.rows_checked,
                          EXCLUDED.failed_expectations, EXCLUDED.failing_rows)""",
                (store.id, stage, start, end, success, checked, json.dumps(all_failed),
                 json.dumps(all_rows), run_id),
            )
            if not success:
                summary = "; ".join(f"{f['batch']}.{f['column']}: {f['expectation']} ({f['unexpected_count']} rows)" for f in all_failed[:5])
                cur.execute(
                    """INSERT INTO ops.alert_log (store_id, alert_kind, subject_key, channel, status, payload, sent_at)
                       VALUES (%s, 'gate_failed', %s, 'log', 'sent', %s, now())
                       ON CONFLICT DO NOTHING""",
                    (store.id, f"{stage}:{start.isoformat()}", json.dumps({"stage": stage, "summary": summary})),
                )
    finally:
        conn.close()
    if not success:
        msg = (f"store {store.id}: data-quality gate '{stage}' failed for {start:%Y-%m-%d %H:%M}–{end:%Y-%m-%d %H:%M} UTC: "
               f"{summary}. Failing rows are in ops.gate_run; fix the data or the stage, then clear this task.")
        log.error(msg)
        raise GateFailed(msg)
    log.info("store %s: gate %s passed on %d rows", store.id, stage, checked)
    return {"stage": stage, "rows_checked": checked, "success": True}
