"""Task failures that always reach people: Airflow callbacks → ``ops.incident`` → the store's channels.

Every task of every store DAG has these callbacks (``airflow_glue``). A final failure opens
an incident (one per DAG and task until it succeeds again) and alerts the store's channels
at once — from the failing task's own process, so the alert never waits for a later stage
of a run that has stopped. The next success of that task resolves it with a recovery
notice. Errors that raise their own alert (a failed gate, a revoked authorization) open the
incident silently and only trigger delivery of that alert.

If the warehouse itself is unreachable the alert is sent straight to the channels (no
de-duplication is possible then) so that a dead database is not a silent one either.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from seller_inbox.alerts import queue
from seller_inbox.errors import AlertWritten

log = logging.getLogger(__name__)
UTC = timezone.utc
# an authorization incident clears with auth's own notice (auth_recovered), not a second one
AUTH_CAUSES = {"StoreUnusable", "AuthorizationRevoked"}
# tasks whose success may have queued alert rows worth delivering now (auth reminders, gate warnings)
DELIVER_ON_SUCCESS = {"refresh_auth", "gate_ingest_mail", "gate_ingest_orders", "gate_classify", "gate_alert",
                      "gate_act", "gate_kpi", "gate_deliver", "ingest_mail"}


def _root(exc: BaseException | None) -> BaseException | None:
    """The domain error behind Airflow's wrapper (``run_stage`` raises AirflowFailException from it)."""
    seen = 0
    while exc is not None and exc.__cause__ is not None and seen < 10:
        exc, seen = exc.__cause__, seen + 1
    return exc


def _self_alerting(exc: BaseException | None) -> bool:
    exc = _root(exc)
    # its component already wrote a specific alert row (gate_failed, auth_revoked)
    return isinstance(exc, AlertWritten)


def _one_line(text: str, limit: int = 400) -> str:
    """An error as stored and alerted: one line, bounded, redacted (an exception's text can quote
    a value from a buyer's mail, and ``ops.incident`` must not keep it)."""
    from seller_inbox.redaction import redact

    line = redact(" ".join(str(text).split())[: limit * 2])
    return line if len(line) <= limit else line[: limit - 1] + "…"


def task_failed(store, dsn: str, dag_id: str, task_id: str, run_id: str, error: BaseException | None,
                now: datetime | None = None) -> bool:
    """Open (or extend) the incident for this task; alert when it opens. Returns True if opened."""
    from seller_inbox import warehouse

    now = now or datetime.now(UTC)
    key = f"{dag_id}.{task_id}"
    root = _root(error)
    message = _one_line(f"{type(root).__name__}: {root}" if root is not None else "task failed")
    conn = warehouse.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                """UPDATE ops.incident SET failures = failures + 1, last_failed_at = %s, last_error = %s, last_run_id = %s
                   WHERE store_id = %s AND incident_key = %s AND resolved_at IS NULL RETURNING 1""",
                (now, message, run_id, store.id, key))
            if cur.fetchone():
                return False
            cur.execute(
                """INSERT INTO ops.incident (store_id, incident_key, opened_at, last_failed_at, last_error, cause, last_run_id)
                   VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING 1""",
                (store.id, key, now, now, message, type(root).__name__ if root is not None else None, run_id))
            opened = cur.fetchone() is not None
            if opened and not _self_alerting(error):
                queue(cur, store.id, "task_failed", f"{key}@{now.isoformat()}", {
                    "dag_id": dag_id, "task_id": task_id, "run_id": run_id,
                    "message": f"{dag_id} › {task_id} failed (run {run_id}): {message}. It is retried on the "
                               f"next run; see the task log in Airflow, fix the cause, then clear the task."})
        return opened
    finally:
        conn.close()


def task_succeeded(store, dsn: str, dag_id: str, task_id: str, run_id: str, now: datetime | None = None) -> bool:
    """Resolve this task's open incident, with a recovery notice. Returns True if one was open."""
    from seller_inbox import warehouse

    now = now or datetime.now(UTC)
    key = f"{dag_id}.{task_id}"
    conn = warehouse.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                """UPDATE ops.incident SET resolved_at = %s
                   WHERE store_id = %s AND incident_key = %s AND resolved_at IS NULL
                   RETURNING opened_at, failures, cause""", (now, store.id, key))
            row = cur.fetchone()
            if row is None:
                return False
            opened_at, failures, cause = row
            if cause in AUTH_CAUSES:
                return True
            queue(cur, store.id, "recovered", f"{key}@{opened_at.isoformat()}", {
                "dag_id": dag_id, "task_id": task_id, "run_id": run_id,
                "message": f"{dag_id} › {task_id} works again (run {run_id}) after {failures} failed run(s) "
                           f"since {opened_at:%Y-%m-%d %H:%M} UTC."})
        return True
    finally:
        conn.close()


def deliver_now(store, dsn: str, now: datetime | None = None) -> dict:
    """Send the store's queued component alerts (auth, gates, incidents) to its channels now."""
    from seller_inbox.alerts import dispatch_alerts

    now = now or datetime.now(UTC)
    return dispatch_alerts(store, dsn, now, now, now)


def send_direct(store, title: str, text: str) -> int:
    """Last resort when the warehouse is down: straight to every channel, no bookkeeping."""
    from seller_inbox.alerts import channels as ch

    sent = 0
    for c in store.alert_channels:
        try:
            ch.send(c.type, c.conn_id, title, text, text)
            sent += 1
        except Exception as exc:  # noqa: BLE001 - one channel down must not stop the others
            log.error("store %s: direct alert via %s failed: %s", store.id, c.type, exc)
    return sent
