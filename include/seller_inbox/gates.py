"""Data-quality gates: a GX Core validation after each stage, on the batch that stage wrote.

Suites are data (``data/gates/<stage>.yaml``): SQL that selects the run's batch, and GX
expectations by class name with a ``level`` each (docs/data-quality.md):

* ``error`` — a defect of the batch as a whole (duplicates, a stage that produced nothing,
  volume collapsed, an unsafe send): the gate fails, ``GateFailed`` stops that store's
  downstream tasks of this branch, other stores are untouched;
* ``quarantine`` — a defect of single rows (unknown marketplace, malformed order id,
  unredacted personal data): those rows are set aside (``ops.dq_quarantine``, and taken out
  of the table the next stages read) and the rest goes on, with a warning alert. When more
  than the batch's ``max_quarantine_share`` of its rows would be set aside, the defect is
  the batch's: the gate fails instead;
* ``warn`` — recorded and alerted, nothing stops.

Every expectation's outcome is kept in ``ops.dq_results`` (charted in the UI), the run's
summary and a sample of failing keys in ``ops.gate_run``; the GX validation results feed the
Data Docs the UI serves (``data_docs``). GX is imported here only, lazily (it costs seconds).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

from seller_inbox import data_docs, gate_suites
from seller_inbox.alerts import queue
from seller_inbox.config import StoreConfig
from seller_inbox.errors import AlertWritten, FinalError
from seller_inbox.gate_suites import LEVELS, SUITES, expectation_name  # noqa: F401 - re-exported

log = logging.getLogger(__name__)
MAX_FAILING_ROWS = 50
DEFAULT_MAX_QUARANTINE_SHARE = 0.5


class GateFailed(FinalError, AlertWritten, RuntimeError):
    """Raised by a failing gate; its message names store, stage and what failed."""


def load_suite(stage: str) -> dict:
    try:
        return gate_suites.load_suite(stage)
    except gate_suites.SuiteMissing as err:
        raise GateFailed(str(err)) from None


def _substitutions(store: StoreConfig) -> dict:
    from seller_inbox.domain.identifiers import ORDER_ID
    from seller_inbox.redaction import UNREDACTED_PHONE_CHECK

    return {"$marketplaces": store.marketplace_codes, "$unredacted_phone": UNREDACTED_PHONE_CHECK,
            "$order_id": f"^{ORDER_ID}$"}


def _resolve(kwargs: dict, subst: dict) -> dict:
    return {k: subst.get(v, v) if isinstance(v, str) else v for k, v in kwargs.items()}


def _context():
    import great_expectations as gx

    ctx = gx.get_context(mode="ephemeral")
    try:
        ctx.variables.progress_bars = {"globally": False, "metric_calculations": False}
    except Exception:  # noqa: BLE001 - older/newer GX without this knob: only cosmetic
        pass
    return ctx


def validate_frame(df, expectations: list[dict], key: list[str], store: StoreConfig, stage: str = "",
                   batch_name: str = "batch", keep: list | None = None) -> list[dict]:
    """Run expectations on a DataFrame; one result per expectation, in suite order:
    ``{name, expectation, column, level, success, unexpected_count, observed_value, rows}``
    where ``rows`` are the key values of every failing row. With ``keep``, the GX suite and
    validation result are appended to it as ``(batch_name, key, suite, result)`` for the Data Docs."""
    import great_expectations as gx

    if df.empty:
        return []
    subst = _substitutions(store)
    ctx = _context()
    batch = (
        ctx.data_sources.add_pandas(store.id)
        .add_dataframe_asset(name=f"{stage}.{batch_name}" if stage else batch_name)
        .add_batch_definition_whole_dataframe("all")
        .get_batch(batch_parameters={"dataframe": df})
    )
    suite = gx.ExpectationSuite(name=data_docs.suite_name(store.id, stage or "gate", batch_name))
    levels, names = [], []
    for e in expectations:
        cls = getattr(gx.expectations, e["type"], None)
        if cls is None:
            raise GateFailed(f"unknown expectation type {e['type']!r} in a gate suite")
        name = gate_suites.name_of(e)
        level = store.gates.levels.get(f"{stage}.{name}", e.get("level", "error"))  # the store's override wins
        if level not in LEVELS:
            raise GateFailed(f"expectation {e['type']}: level {level!r} is not one of {', '.join(LEVELS)}")
        if level == "quarantine" and not key:
            raise GateFailed(f"expectation {e['type']}: level quarantine needs the batch's key columns")
        suite.add_expectation(cls(**_resolve(e.get("kwargs", {}), subst), notes=f"{name} · level {level}",
                                  meta={"gate_position": len(levels), "attributes": {"name": name, "level": level}}))
        levels.append(level)
        names.append(name)
    fmt = {"result_format": "COMPLETE"}
    if key:
        fmt["unexpected_index_column_names"] = key
    result = batch.validate(suite, result_format=fmt)
    # GX may return results grouped by column, not in suite order: put them back by position
    result.results = sorted(result.results, key=lambda r: (r.expectation_config.meta or {}).get("gate_position", -1))
    got = [r.expectation_config.type for r in result.results]
    want = [e.expectation_type for e in suite.expectations]
    if got != want:  # results are matched to levels by position: never silently mismatch them
        raise GateFailed(f"GX returned results in another order than the suite ({got} vs {want})")
    if keep is not None:
        keep.append((batch_name, list(key), suite, result))
    out = []
    for r, level, name in zip(result.results, levels, names):
        cfg = r.expectation_config
        res = r.result or {}
        # key columns only: a failing row's text (an unredacted address) must not be copied into ops.gate_run
        rows = [{k: _jsonable(row.get(k)) for k in key} for row in (res.get("unexpected_index_list") or [])
                if isinstance(row, dict)]
        # in key order, not the table's physical order (which an UPDATE reshuffles): a rerun over
        # unchanged data must record the same sample, or ops.gate_run changes for nothing
        rows.sort(key=lambda row: tuple(str(row[k]) for k in key))
        out.append({
            "name": name,
            "expectation": cfg.type,
            "column": cfg.kwargs.get("column") or f"{cfg.kwargs.get('column_A')},{cfg.kwargs.get('column_B')}",
            "level": level,
            "success": bool(r.success),
            "unexpected_count": res.get("unexpected_count"),
            "observed_value": _jsonable(res.get("observed_value")),
            "rows": rows,
        })
    return out


def _jsonable(v):
    if isinstance(v, float) and v != v:  # pandas' NaN for a NULL: JSON has no NaN
        return None
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return str(v)


# How a batch's quarantined rows leave the flow (the stages after the gate read these tables):
# per batch name of the suites, the module owning the batch's table, whose ``set_aside(cur,
# store_id, keys)`` takes them out (docs/data-dictionary.md). Imported when rows are set aside.
SET_ASIDE = {"messages": "seller_inbox.mail.messages", "orders": "seller_inbox.orders"}


def _set_aside(batch_name: str, cur, store_id: str, keys: list[str]) -> None:
    import importlib

    importlib.import_module(SET_ASIDE[batch_name]).set_aside(cur, store_id, keys)


def run_gate(stage: str, store: StoreConfig, dsn: str, start: datetime, end: datetime, run_id: str = "",
             now: datetime | None = None) -> dict:
    """Validate the stage's batches for [start, end); record the outcome; set aside quarantined
    rows; raise GateFailed when an error-level expectation fails."""
    from seller_inbox import clock, warehouse

    suite = load_suite(stage)
    params = {"store_id": store.id, "start": start, "end": end, "now": now or clock.now(),
              "min_expected_mails": store.gates.min_expected_mails,
              "zones": json.dumps({m.code: m.zone.key for m in store.marketplaces})}
    kept: list[tuple] = []  # GX suites and results of this run, for the Data Docs
    conn = warehouse.connect(dsn)
    try:
        results, set_aside, checked = _validate_batches(conn, suite, stage, store, params, kept)
        errors = [r for r in results if not r["success"] and r["level"] == "error"]
        quarantined = [r for r in results if not r["success"] and r["level"] == "quarantine"]
        warnings = [r for r in results if not r["success"] and r["level"] == "warn"]
        success = not errors
        failed = [{k: r.get(k) for k in ("batch", "expectation", "column", "level", "unexpected_count", "observed_value")}
                  for r in results if not r["success"]]
        sample = [{"batch": r["batch"], "expectation": r["expectation"], "level": r["level"], **row}
                  for r in results if not r["success"] for row in r["rows"]][:MAX_FAILING_ROWS]
        with conn, conn.cursor() as cur:
            _record(cur, store.id, stage, start, end, run_id, success, checked, failed, sample, results)
            _quarantine_rows(cur, store.id, stage, start, end, set_aside, quarantined)
            _queue_alert(cur, store.id, stage, start, end, errors, quarantined, warnings, set_aside)
    finally:
        conn.close()
    data_docs.record(kept, store.id, stage, start, end, run_id, render=bool(failed),  # never raises
                     levels={(r["batch"], r["name"]): r["level"] for r in results})
    if not success:
        msg = (f"store {store.id}: data-quality gate '{stage}' failed for {start:%Y-%m-%d %H:%M}–{end:%Y-%m-%d %H:%M} UTC: "
               f"{_summary(errors)}. Failing rows are in ops.gate_run; fix the data or the stage, then clear this task.")
        log.error(msg)
        raise GateFailed(msg)
    out = {"stage": stage, "rows_checked": checked, "success": True,
           "quarantined": sum(len(v) for v in set_aside.values()), "warnings": len(warnings)}
    log.info("store %s: gate %s passed on %d rows (%d set aside, %d warnings)", store.id, stage, checked,
             out["quarantined"], out["warnings"])
    return out


def _validate_batches(conn, suite: dict, stage: str, store: StoreConfig, params: dict,
                      kept: list) -> tuple[list[dict], dict[str, list[str]], int]:
    """Read and validate each batch of the suite. Returns every expectation's result (tagged
    with its batch and key), the row keys to set aside by batch, and the rows checked."""
    import pandas as pd

    results: list[dict] = []
    set_aside: dict[str, list[str]] = {}
    checked = 0
    for b in suite["batches"]:
        with conn.cursor() as cur:
            cur.execute(b["sql"], params)
            cols = [d[0] for d in cur.description]
            df = pd.DataFrame(cur.fetchall(), columns=cols)
        conn.commit()
        checked += len(df)
        key = b.get("key", [])
        res = validate_frame(df, b["expectations"], key, store, stage, batch_name=b["name"], keep=kept)
        share = store.gates.max_quarantine_share or b.get("max_quarantine_share", DEFAULT_MAX_QUARANTINE_SHARE)
        bad_keys = _keys_to_set_aside(res, key, share * len(df))
        if bad_keys:
            if b["name"] not in SET_ASIDE:
                raise GateFailed(f"gate suite {stage}: batch {b['name']!r} has quarantine-level expectations "
                                 f"but no way to set rows aside (known: {', '.join(SET_ASIDE)})")
            set_aside[b["name"]] = bad_keys
        results += [{"batch": b["name"], "key": key, **x} for x in res]
    return results, set_aside, checked


def _keys_to_set_aside(res: list[dict], key: list[str], most: float) -> list[str]:
    """The keys of the rows failing a quarantine-level expectation; none when there are more
    than ``most``: then those failures become error-level (escalated) in ``res``."""
    bad_keys = sorted({str(r[key[0]]) for x in res if x["level"] == "quarantine" and not x["success"]
                       for r in x["rows"] if r.get(key[0]) is not None}) if key else []
    if bad_keys and len(bad_keys) > most:
        # most of the batch is bad: that is the batch's defect, not a few odd rows
        for x in res:
            if x["level"] == "quarantine" and not x["success"]:
                x["level"], x["escalated"] = "error", True
        bad_keys = []
    return bad_keys


def _quarantine_rows(cur, store_id: str, stage: str, start: datetime, end: datetime,
                     set_aside: dict[str, list[str]], quarantined: list[dict]) -> None:
    """Take the rows out of the flow and list them in ``ops.dq_quarantine`` with the expectation
    that set each aside (the first one, in suite order)."""
    for batch_name, keys in set_aside.items():
        _set_aside(batch_name, cur, store_id, keys)
        by_key: dict[str, str] = {}
        for r in quarantined:
            if r["batch"] == batch_name:
                for row in r["rows"]:
                    by_key.setdefault(str(row.get(r["key"][0])), r["name"])
        cur.execute(
            """INSERT INTO ops.dq_quarantine (store_id, stage, batch, row_key, expectation, interval_start, interval_end)
               SELECT %s, %s, %s, k, e, %s, %s FROM unnest(%s::text[], %s::text[]) AS x(k, e)
               ON CONFLICT (store_id, stage, batch, row_key) DO UPDATE SET expectation = EXCLUDED.expectation,
                   released_at = NULL""",
            (store_id, stage, batch_name, start, end, list(by_key), list(by_key.values())))


def _queue_alert(cur, store_id: str, stage: str, start: datetime, end: datetime, errors: list[dict],
                 quarantined: list[dict], warnings: list[dict], set_aside: dict[str, list[str]]) -> None:
    """One alert for the run, of its worst level: gate_failed, gate_quarantined or gate_warning."""
    subject = f"{stage}:{start.isoformat()}"
    summary = _summary(errors or quarantined or warnings)
    if errors:
        queue(cur, store_id, "gate_failed", subject, {"stage": stage, "summary": summary, "message":
               f"{stage} {start:%Y-%m-%d %H:%M}–{end:%Y-%m-%d %H:%M} UTC: {summary}. Failing rows are in "
               f"ops.gate_run; fix the data or the stage, then clear the gate task in Airflow."})
    elif quarantined:
        n = sum(len(v) for v in set_aside.values())
        queue(cur, store_id, "gate_quarantined", subject, {"stage": stage, "summary": summary, "rows": n,
               "message": f"{stage} {start:%Y-%m-%d %H:%M}–{end:%Y-%m-%d %H:%M} UTC: {n} rows set aside "
                          f"({summary}); the rest went on. See ops.dq_quarantine; "
                          f"`seller-inbox quarantine list --store {store_id}`."})
    elif warnings:
        queue(cur, store_id, "gate_warning", subject, {"stage": stage, "summary": summary,
               "message": f"{stage} {start:%Y-%m-%d %H:%M}–{end:%Y-%m-%d %H:%M} UTC: {summary}"})


def _summary(results: list[dict]) -> str:
    return "; ".join(f"{r['batch']}.{r['column']}: {r['name']} ({r['unexpected_count'] if r['unexpected_count'] is not None else r['observed_value']}"
                     f"{' rows' if r['unexpected_count'] is not None else ''}"
                     f"{', too many rows to set aside' if r.get('escalated') else ''})" for r in results[:5])


def _record(cur, store_id, stage, start, end, run_id, success, checked, failed, sample, results) -> None:
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
        (store_id, stage, start, end, success, checked, json.dumps(failed), json.dumps(sample), run_id),
    )
    if not results:
        return
    from psycopg2.extras import execute_values

    execute_values(
        cur,
        """INSERT INTO ops.dq_results (store_id, stage, interval_start, interval_end, batch, expectation, level,
               success, unexpected_count, observed_value) VALUES %s
           ON CONFLICT (store_id, stage, interval_start, interval_end, batch, expectation) DO UPDATE SET
               level = EXCLUDED.level, success = EXCLUDED.success, unexpected_count = EXCLUDED.unexpected_count,
               observed_value = EXCLUDED.observed_value, evaluated_at = now()
           WHERE (ops.dq_results.level, ops.dq_results.success, ops.dq_results.unexpected_count,
                  ops.dq_results.observed_value) IS DISTINCT FROM
                 (EXCLUDED.level, EXCLUDED.success, EXCLUDED.unexpected_count, EXCLUDED.observed_value)""",
        [(store_id, stage, start, end, r["batch"], r["name"], r["level"], r["success"], r["unexpected_count"],
          json.dumps(r["observed_value"])) for r in results])
