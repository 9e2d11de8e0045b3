"""Loading the run's finished reports: ``raw.seller_performance`` and ``raw.seller_feedback``
(this module's tables; docs/data-dictionary.md).

Each document is downloaded through the client's ``get_report_document`` (the client
decompresses a GZIP document), read by ``parse`` and upserted on the natural key, rewriting a
row only when a value changed: a rerun over the same documents rewrites nothing. Feedback
comments are redacted before they are stored; the rater e-mail is never read.
"""

from __future__ import annotations

import logging

from seller_inbox.reports import FEEDBACK, PERFORMANCE, parse, requests

log = logging.getLogger(__name__)

_PERF_COLS = ("order_count", "defects_count", "claims_count", "chargebacks_count", "negative_feedback_count",
              "order_defect_rate", "target_value", "target_condition", "status")
_PERF_SQL = f"""
    INSERT INTO raw.seller_performance AS p (store_id, marketplace, fulfillment, window_start, window_end,
                                            {", ".join(_PERF_COLS)}, report_id)
    VALUES (%(store_id)s, %(marketplace)s, %(fulfillment)s, %(window_start)s, %(window_end)s,
            {", ".join(f"%({c})s" for c in _PERF_COLS)}, %(report_id)s)
    ON CONFLICT (store_id, marketplace, fulfillment, window_start, window_end) DO UPDATE
    SET {", ".join(f"{c} = EXCLUDED.{c}" for c in _PERF_COLS)}, report_id = EXCLUDED.report_id, loaded_at = now()
    WHERE ({", ".join(f"p.{c}" for c in _PERF_COLS)}) IS DISTINCT FROM ({", ".join(f"EXCLUDED.{c}" for c in _PERF_COLS)})"""
_FEEDBACK_SQL = """
    INSERT INTO raw.seller_feedback AS f (store_id, amazon_order_id, marketplace, feedback_date, rating, comment,
                                         has_response, report_id)
    VALUES (%(store_id)s, %(order_id)s, %(marketplace)s, %(date)s, %(rating)s, %(comment)s, %(has_response)s,
            %(report_id)s)
    ON CONFLICT (store_id, amazon_order_id) DO UPDATE
    SET marketplace = EXCLUDED.marketplace, feedback_date = EXCLUDED.feedback_date, rating = EXCLUDED.rating,
        comment = EXCLUDED.comment, has_response = EXCLUDED.has_response, report_id = EXCLUDED.report_id,
        loaded_at = now()
    WHERE (f.marketplace, f.feedback_date, f.rating, f.comment, f.has_response)
          IS DISTINCT FROM (EXCLUDED.marketplace, EXCLUDED.feedback_date, EXCLUDED.rating, EXCLUDED.comment,
                            EXCLUDED.has_response)"""


def _where(store_id: str, r: dict) -> str:
    return f"store {store_id}: report {r['report_id']} ({r['report_type']}, {r['marketplace']})"


def _redacted(text: str, marketplace: str) -> str:
    from seller_inbox.domain import marketplaces as mp
    from seller_inbox.redaction import redact

    return redact(text, language=mp.get(marketplace).language) if text else text


def load_report(cur, store_id: str, r: dict, text: str) -> tuple[int, int]:
    """Upsert one document's rows; ``(rows in the document, rows written)``."""
    where = _where(store_id, r)
    written = 0
    if r["report_type"] == PERFORMANCE:
        rows = parse.performance_rows(text, where)
        for row in rows:
            cur.execute(_PERF_SQL, {**row, "store_id": store_id, "report_id": r["report_id"]})
            written += cur.rowcount
    elif r["report_type"] == FEEDBACK:
        window = None
        if r.get("data_start") and r.get("data_end"):
            window = (r["data_start"].date(), r["data_end"].date())
        rows = parse.feedback_rows(text, where, window)
        for row in rows:
            cur.execute(_FEEDBACK_SQL, {**row, "comment": _redacted(row["comment"], r["marketplace"]),
                                        "store_id": store_id, "marketplace": r["marketplace"],
                                        "report_id": r["report_id"]})
            written += cur.rowcount
    else:
        raise parse.ReportFormatError(f"{where}: no loader for this report type")
    requests.record_loaded(cur, r["report_id"], len(rows))
    return len(rows), written


def load_run(conn, client, store_id: str, run_id: str) -> dict:
    """Download and load every DONE report of the run; CANCELLED ones (no data) count 0 rows."""
    out = {"reports": 0, "rows": 0, "written": 0, "cancelled": 0}
    with conn.cursor() as cur:
        reports = requests.run_reports(cur, store_id, run_id)
    for r in reports:
        if r["processing_status"] == "CANCELLED":
            with conn, conn.cursor() as cur:
                requests.record_loaded(cur, r["report_id"], 0)
            out["cancelled"] += 1
            continue
        if r["processing_status"] != "DONE":
            raise parse.ReportFormatError(f"{_where(store_id, r)} is {r['processing_status']}, not DONE: "
                                          "wait_reports should have failed; rerun the DAG run")
        doc = client.get_report_document(r["document_id"], download=True)
        with conn, conn.cursor() as cur:
            n, w = load_report(cur, store_id, r, doc.get("document") or "")
        out["reports"] += 1
        out["rows"] += n
        out["written"] += w
        log.info("%s: %d rows, %d written", _where(store_id, r), n, w)
    return out

