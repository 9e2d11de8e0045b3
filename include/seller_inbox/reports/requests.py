"""The reports a performance run asked Amazon for (``ops.report_request``, this module's table).

A retried or rerun ``request_reports`` reuses the run's reports that did not fail, so a task
retry never asks Amazon twice (createReport allows one request a minute) and a rerun of a run
reloads the same documents. A run whose report ended FATAL or CANCELLED asks again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from seller_inbox.reports import FEEDBACK, FEEDBACK_DAYS, REPORT_TYPES


def run_reports(cur, store_id: str, run_id: str) -> list[dict]:
    """The run's current report per type and marketplace, newest first within each."""
    cur.execute(
        """SELECT DISTINCT ON (report_type, marketplace) report_id, report_type, marketplace, processing_status,
                  document_id, data_start, data_end, rows_loaded
           FROM ops.report_request WHERE store_id = %s AND run_id = %s
           ORDER BY report_type, marketplace, requested_at DESC, report_id DESC""", (store_id, run_id))
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def request_reports(conn, client, store, run_id: str, end: datetime) -> list[dict]:
    """Ask for both reports in every marketplace of ``store`` unless the run already has them."""
    with conn.cursor() as cur:
        have = {(r["report_type"], r["marketplace"]): r for r in run_reports(cur, store.id, run_id)
                if r["processing_status"] not in ("FATAL", "CANCELLED")}
    for m in store.marketplaces:
        for rtype in REPORT_TYPES:
            if (rtype, m.code) in have:
                continue
            # the performance report covers Amazon's own window; the feedback report a recent one
            start = end - timedelta(days=FEEDBACK_DAYS) if rtype == FEEDBACK else None
            rid = client.create_report(rtype, [m.info.marketplace_id], data_start=start,
                                       data_end=end if rtype == FEEDBACK else None)
            with conn, conn.cursor() as cur:   # recorded at once: a crash after this never asks again
                cur.execute(
                    """INSERT INTO ops.report_request (report_id, store_id, report_type, marketplace, run_id,
                                                       data_start, data_end)
                       VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (report_id) DO NOTHING""",
                    (rid, store.id, rtype, m.code, run_id, start, end if rtype == FEEDBACK else None))
    with conn.cursor() as cur:
        return run_reports(cur, store.id, run_id)


def record_status(cur, report_id: str, view: dict) -> None:
    """Keep the last ``getReport`` answer (rewrites the row only when the status changed)."""
    status = view.get("processingStatus")
    cur.execute(
        """UPDATE ops.report_request SET processing_status = %s, document_id = %s,
                  finished_at = CASE WHEN %s IN ('DONE', 'CANCELLED', 'FATAL') THEN now() END
           WHERE report_id = %s AND (processing_status, document_id) IS DISTINCT FROM (%s, %s)""",
        (status, view.get("reportDocumentId"), status, report_id, status, view.get("reportDocumentId")))


def record_loaded(cur, report_id: str, rows: int) -> None:
    cur.execute("""UPDATE ops.report_request SET rows_loaded = %s, loaded_at = now()
                   WHERE report_id = %s AND rows_loaded IS DISTINCT FROM %s""", (rows, report_id, rows))
