"""The performance DAG's tasks: ``request_reports`` → ``wait_reports`` (deferrable) →
``load_reports`` → ``gate_performance``; ``airflow_glue`` builds them with ``report_task``.

``wait_reports`` hands the wait to the triggerer (``ReportsTrigger``) and resumes in
``execute_complete``. A report that ends FATAL, or is still processing after ``WAIT_HOURS``,
fails the task at once, without retries, with one line naming the store and the report; the
DAG's failure callback turns that into an incident and an alert like any other task failure.
A CANCELLED report means "no data" (we never cancel one): recorded in ``ops.report_request``
with 0 rows, and the run goes on (docs/performance-report.md).

Importing this module is cheap (DAG parse time): Airflow's operator base class only.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import BaseOperator

from seller_inbox.errors import FinalError

# the longest a run waits for Amazon: a daily run gives up before the next one starts
WAIT_HOURS = 20


class ReportFailed(FinalError, RuntimeError):
    """A report Amazon could not make (FATAL) or did not make in time; retrying will not help."""


def _final(exc: BaseException):
    from airflow.sdk.exceptions import AirflowFailException

    return AirflowFailException(str(exc))


def _stage(stage: str, store, url: str, start: datetime, end: datetime, run_id: str) -> dict:
    from seller_inbox import warehouse
    from seller_inbox.spapi.hook import store_client

    if stage == "gate_performance":
        from seller_inbox import clock
        from seller_inbox.gates import run_gate

        return run_gate("performance", store, url, start, end, run_id=run_id, now=clock.now())
    from seller_inbox.reports import load, requests

    with store_client(store, url) as client:
        conn = warehouse.connect(url)
        try:
            if stage == "request_reports":
                rows = requests.request_reports(conn, client, store, run_id, end)
                return {"reports": [r["report_id"] for r in rows]}
            return load.load_run(conn, client, store.id, run_id)
        finally:
            conn.close()


def run_report_stage(stage: str, store_id: str, **context) -> dict:
    """Entry point of the performance DAG's plain tasks (``request_reports``, ``load_reports``,
    ``gate_performance``)."""
    from seller_inbox.config import get_registry
    from seller_inbox.warehouse import dsn

    end = context.get("data_interval_end") or datetime.now(timezone.utc)
    start = context.get("data_interval_start") or end - timedelta(days=1)
    try:
        return _stage(stage, get_registry().store(store_id), dsn(), start, end, context.get("run_id") or "")
    except FinalError as exc:   # a bad document, revoked credentials, a failed gate: no retry helps
        raise _final(exc) from exc


class WaitForReportsOperator(BaseOperator):
    """Waits in the triggerer for the run's reports (``ops.report_request``) to finish."""

    template_fields = ()
    ui_color = "#f3e9d2"

    def __init__(self, *, store_id: str, **kwargs):
        super().__init__(**kwargs)
        self.store_id = store_id

    def _reports(self, context) -> list[dict]:
        from seller_inbox import warehouse
        from seller_inbox.reports.requests import run_reports
        from seller_inbox.warehouse import dsn

        with warehouse.connect(dsn()) as conn, conn.cursor() as cur:
            return run_reports(cur, self.store_id, context.get("run_id") or "")

    def execute(self, context):
        from seller_inbox.reports import TERMINAL
        from seller_inbox.reports.trigger import ReportsTrigger

        reports = self._reports(context)
        if not reports:
            raise _final(ReportFailed(f"store {self.store_id}: no report was requested for run "
                                      f"{context.get('run_id')}; clear request_reports to ask Amazon again"))
        pending = [r["report_id"] for r in reports if r["processing_status"] not in TERMINAL]
        if not pending:   # a rerun after the reports finished: nothing to wait for
            return self._verdict(reports, {}, timed_out=False)
        deadline = datetime.now(timezone.utc) + timedelta(hours=WAIT_HOURS)
        self.log.info("store %s: deferring until reports %s finish (at most %d h)", self.store_id,
                      ", ".join(pending), WAIT_HOURS)
        self.defer(trigger=ReportsTrigger(self.store_id, pending, deadline.isoformat()),
                   method_name="execute_complete", timeout=timedelta(hours=WAIT_HOURS + 1))

    def execute_complete(self, context, event: dict):
        from seller_inbox import warehouse
        from seller_inbox.reports.requests import record_status
        from seller_inbox.warehouse import dsn

        with warehouse.connect(dsn()) as conn, conn.cursor() as cur:
            for rid, view in event["reports"].items():
                record_status(cur, rid, view)
        return self._verdict(self._reports(context), event, timed_out=event.get("timed_out", False))

    def _verdict(self, reports: list[dict], event: dict, timed_out: bool) -> dict:
        fatal = [r for r in reports if r["processing_status"] == "FATAL"]
        waiting = [r for r in reports if r["processing_status"] not in ("DONE", "CANCELLED", "FATAL")]
        if fatal:
            r = fatal[0]
            raise _final(ReportFailed(
                f"store {self.store_id}: Amazon report {r['report_id']} ({r['report_type']}, {r['marketplace']}) "
                f"ended FATAL{self._details(r)}; clear the DAG run to request it again"
                + (f" ({len(fatal) - 1} more FATAL)" if len(fatal) > 1 else "")))
        if timed_out or waiting:
            r = waiting[0]
            raise _final(ReportFailed(
                f"store {self.store_id}: Amazon report {r['report_id']} ({r['report_type']}, {r['marketplace']}) "
                f"still {r['processing_status']} after {WAIT_HOURS} h; the next daily run asks again "
                "(Amazon sometimes keeps reports for days)"))
        return {"done": sum(r["processing_status"] == "DONE" for r in reports),
                "cancelled_no_data": sum(r["processing_status"] == "CANCELLED" for r in reports),
                "polls": event.get("polls", 0)}

    def _details(self, r: dict) -> str:
        """Amazon's reason from a FATAL report's error document, when it gives one (best effort)."""
        if not r.get("document_id"):
            return ""
        try:
            from seller_inbox.config import get_registry
            from seller_inbox.spapi.hook import store_client

            with store_client(get_registry().store(self.store_id)) as client:
                text = client.get_report_document(r["document_id"], download=True).get("document") or ""
            return ": " + " ".join(text.split())[:200]
        except Exception as exc:  # noqa: BLE001 - the FATAL itself is the news; its details are a bonus
            self.log.warning("store %s: could not read the error document of report %s: %s", self.store_id,
                             r["report_id"], exc)
            return ""


def report_task(task_id: str, store_id: str, **kwargs):
    """The operator of one performance-DAG task (``kwargs``: dag, execution_timeout…)."""
    if task_id == "wait_reports":
        return WaitForReportsOperator(task_id=task_id, store_id=store_id, **kwargs)
    from airflow.providers.standard.operators.python import PythonOperator

    return PythonOperator(task_id=task_id, python_callable=run_report_stage,
                          op_kwargs={"stage": task_id, "store_id": store_id}, **kwargs)
