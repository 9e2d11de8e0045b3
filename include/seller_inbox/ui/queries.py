"""Every warehouse read and write of the UI: parameterised SQL over one psycopg2 connection.

The connection comes from ``seller_inbox.warehouse.dsn()`` at request time (``connect``).
Reads return plain dicts; the two writes (``approve``, ``reject``) lock the outbox row and
change it only while it is still ``pending_approval`` (the statements live with the table's
other writes in ``delivery.outbox``).
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any, Iterator

from seller_inbox import metrics

REAUTH_WARN_DAYS = 30          # Amazon's self-authorization lasts 365 days: warn 30 days ahead
SECRET_ROTATION_DAYS = 180     # LWA client secrets must be rotated every 180 days
SECRET_WARN_DAYS = 30
CHART_DAYS = (7, 30, 90)
MAX_ROWS = 500


@contextmanager
def connect() -> Iterator[Any]:
    """One connection per request, to the warehouse ``dsn()`` names right now."""
    from seller_inbox import warehouse
    from seller_inbox.warehouse import dsn

    conn = warehouse.connect(dsn(), connect_timeout=5, application_name="seller-inbox-ui")
    try:
        yield conn
    finally:
        conn.close()


def _rows(conn, sql: str, params: dict | tuple | None = None) -> list[dict]:
    from psycopg2.extras import RealDictCursor

    with conn.cursor(cursor_factory=RealDictCursor) as cur:
        cur.execute(sql, params)
        return [dict(r) for r in cur.fetchall()]


def _read(conn, sql: str, params: dict | tuple | None = None) -> list[dict]:
    """A read in its own short transaction (never leaves the connection idle in transaction)."""
    try:
        return _rows(conn, sql, params)
    finally:
        conn.rollback()


def store_ids(conn) -> list[str]:
    rows = _read(conn, """SELECT store_id FROM kpi.store_daily
                          UNION SELECT store_id FROM core.outbox
                          UNION SELECT store_id FROM ops.store_auth
                          UNION SELECT store_id FROM ops.quarantine WHERE status = 'open' ORDER BY 1""")
    return [r["store_id"] for r in rows]


def store_names() -> dict[str, str]:
    """Display names from the store registry, best effort (ids alone are fine too)."""
    try:
        from seller_inbox.config import get_registry

        return {s.id: s.name for s in get_registry().stores}
    except Exception:  # noqa: BLE001 - the registry is optional for the UI
        return {}


# ---------------------------------------------------------------- KPIs
def kpi_overview(conn, store: str | None, chart_days: int) -> dict:
    """Windows (7/30/90 d), 60-day claims, high-risk counts and daily series per store+marketplace."""
    p = {"store": store}
    windows = _read(conn, """
        SELECT store_id, marketplace, window_days, buyer_messages, needing_response, late_responses,
               late_response_rate, avg_response_minutes
        FROM kpi.response_windows
        WHERE (%(store)s::text IS NULL OR store_id = %(store)s)
        ORDER BY store_id, marketplace, window_days""", p)
    claims = _read(conn, """
        SELECT store_id, marketplace, orders, a_to_z_claims, a_to_z_claim_rate
        FROM kpi.claims_60d WHERE (%(store)s::text IS NULL OR store_id = %(store)s)""", p)
    end = _read(conn, "SELECT max(day) AS d FROM kpi.store_daily WHERE (%(store)s::text IS NULL OR store_id = %(store)s)", p)[0]["d"]
    daily: list[dict] = []
    odr_daily: list[dict] = []
    start = None
    if end is not None:
        start = end - timedelta(days=chart_days - 1)
        daily = _read(conn, """
            SELECT store_id, marketplace, day, buyer_messages, late_responses, a_to_z_claims,
                   high_risk_messages, late_response_rate, avg_response_minutes
            FROM kpi.store_daily
            WHERE (%(store)s::text IS NULL OR store_id = %(store)s) AND day BETWEEN %(start)s AND %(end)s
            ORDER BY store_id, marketplace, day""", {**p, "start": start, "end": end})
        # the ODR Amazon shows on a day: the window ending ODR_LAG_DAYS before it, channels together
        odr_daily = _read(conn, f"""
            SELECT store_id, marketplace, window_end + {metrics.ODR_LAG_DAYS} AS day,
                   round(100 * sum(defective_orders)::numeric / nullif(sum(orders), 0), 3) AS odr_percent
            FROM kpi.order_defect_rate
            WHERE (%(store)s::text IS NULL OR store_id = %(store)s)
              AND window_end BETWEEN %(start)s::date - {metrics.ODR_LAG_DAYS} AND %(end)s::date - {metrics.ODR_LAG_DAYS}
            GROUP BY store_id, marketplace, window_end""", {**p, "start": start, "end": end})
    open_high = _read(conn, """
        SELECT store_id, marketplace, count(*) AS n FROM core.open_messages
        WHERE risk = 'high' AND (%(store)s::text IS NULL OR store_id = %(store)s)
        GROUP BY store_id, marketplace""", p)

    period = kpi_period(conn, store, start, end) if start else []
    odr = _read(conn, f"""
        SELECT DISTINCT ON (store_id, marketplace, fulfillment_channel) store_id, marketplace, fulfillment_channel,
               window_start, window_end, {metrics.columns("order_defect_rate")}, target, above_target
        FROM kpi.odr_trend WHERE (%(store)s::text IS NULL OR store_id = %(store)s)
        ORDER BY store_id, marketplace, fulfillment_channel, window_end DESC""", p)

    recon = _read(conn, """
        SELECT DISTINCT ON (store_id, marketplace, fulfillment_channel) *
        FROM kpi.reconciliation WHERE (%(store)s::text IS NULL OR store_id = %(store)s)
        ORDER BY store_id, marketplace, fulfillment_channel, window_end DESC, window_start DESC""", p)

    groups: dict[tuple[str, str], dict] = {}

    def g(store_id: str, mkt: str) -> dict:
        return groups.setdefault((store_id, mkt), {
            "store_id": store_id, "marketplace": mkt, "windows": {}, "claims": None, "period": None, "odr": [], "recon": [],
            "high_risk_period": 0, "high_risk_open": 0, "series": {}, "odr_series": {}})

    for r in period:
        g(r["store_id"], r["marketplace"])["period"] = r
    for r in odr:
        g(r["store_id"], r["marketplace"])["odr"].append(r)
    for r in recon:
        g(r["store_id"], r["marketplace"])["recon"].append(r)

    for w in windows:
        g(w["store_id"], w["marketplace"])["windows"][w["window_days"]] = w
    for c in claims:
        g(c["store_id"], c["marketplace"])["claims"] = c
    for d in daily:
        e = g(d["store_id"], d["marketplace"])
        e["series"][d["day"]] = d
        e["high_risk_period"] += d["high_risk_messages"] or 0
    for d in odr_daily:
        g(d["store_id"], d["marketplace"])["odr_series"][d["day"]] = d["odr_percent"]
    for o in open_high:
        g(o["store_id"], o["marketplace"] or "-")["high_risk_open"] = o["n"]
    days = [start + timedelta(days=i) for i in range(chart_days)] if start else []
    for e in groups.values():
        e["days"] = days
    return {"groups": [groups[k] for k in sorted(groups)], "start": start, "end": end}


def kpi_period(conn, store: str | None, start: date, end: date) -> list[dict]:
    """Every store_daily metric shown in the UI, rolled up over [start, end] per store and marketplace
    (the declarations of seller_inbox/metrics.py)."""
    return _read(conn, f"""
        SELECT store_id, marketplace, {metrics.rollups("store_daily", only="ui")}
        FROM kpi.store_daily
        WHERE (%(store)s::text IS NULL OR store_id = %(store)s) AND day BETWEEN %(start)s AND %(end)s
        GROUP BY store_id, marketplace ORDER BY store_id, marketplace""", {"store": store, "start": start, "end": end})


# ---------------------------------------------------------------- store health
def store_health(conn, store: str | None, today: date | None = None) -> dict:
    p = {"store": store}
    auth = _read(conn, "SELECT * FROM ops.store_auth WHERE (%(store)s::text IS NULL OR store_id = %(store)s) ORDER BY store_id", p)
    today = today or date.today()
    for a in auth:
        days_left = a.get("days_until_reauth")
        if days_left is None and a.get("reauth_due_on"):
            days_left = (a["reauth_due_on"] - today).days
        age = a.get("client_secret_age_days")
        if age is None and a.get("client_secret_created_at"):
            age = (today - a["client_secret_created_at"]).days
        a["reauth_days_left"] = days_left
        a["secret_age"] = age
        a["reauth_due"] = days_left is not None and days_left <= REAUTH_WARN_DAYS
        a["reauth_overdue"] = days_left is not None and days_left < 0
        a["secret_due"] = age is not None and age >= SECRET_ROTATION_DAYS - SECRET_WARN_DAYS
        a["secret_overdue"] = age is not None and age >= SECRET_ROTATION_DAYS
    gates = _read(conn, """
        SELECT id, store_id, stage, interval_start, interval_end, rows_checked, failed_expectations,
               failing_rows, run_id, evaluated_at
        FROM ops.gate_run
        WHERE NOT success AND (%(store)s::text IS NULL OR store_id = %(store)s)
        ORDER BY evaluated_at DESC, id DESC LIMIT 20""", p)
    for gr in gates:
        for k in ("failed_expectations", "failing_rows"):
            if isinstance(gr[k], str):
                gr[k] = json.loads(gr[k])
        cols: list[str] = []
        for r in gr["failing_rows"][:10]:
            for c in r:
                if c not in cols:
                    cols.append(c)
        gr["sample_columns"] = cols
        gr["sample_rows"] = gr["failing_rows"][:10]
    calls = _read(conn, """
        SELECT store_id, outcome, count(*) AS n, coalesce(sum(waited_ms), 0) / 1000.0 AS waited_s FROM ops.api_calls
        WHERE called_at > now() - interval '1 day' AND (%(store)s::text IS NULL OR store_id = %(store)s)
        GROUP BY store_id, outcome ORDER BY store_id, outcome""", p)
    throttled_ops = _read(conn, """
        SELECT store_id, operation, count(*) AS n FROM ops.api_calls
        WHERE called_at > now() - interval '1 day' AND outcome = 'throttled'
          AND (%(store)s::text IS NULL OR store_id = %(store)s)
        GROUP BY store_id, operation ORDER BY n DESC, store_id, operation LIMIT 20""", p)
    per_store: dict[str, dict] = {}
    for c in calls:
        s = per_store.setdefault(c["store_id"], {"store_id": c["store_id"], "ok": 0, "throttled": 0, "retry": 0,
                                                 "error": 0, "deferred": 0, "waited_s": 0.0, "total": 0})
        s[c["outcome"]] = s.get(c["outcome"], 0) + c["n"]
        s["waited_s"] += float(c["waited_s"])   # slept before a request, or waited out with the slot freed
        if c["outcome"] != "deferred":   # a deferral sent no request
            s["total"] += c["n"]
    for s in per_store.values():
        s["throttle_share"] = (s["throttled"] / s["total"]) if s["total"] else None
    return {"auth": auth, "gates": gates, "calls": [per_store[k] for k in sorted(per_store)],
            "throttled_ops": throttled_ops, "quarantine": quarantine_health(conn, store),
            "incidents": open_incidents(conn, store), "gaps": ingest_gaps(conn, store),
            "dq": data_quality(conn, store)}


def open_incidents(conn, store: str | None) -> list[dict]:
    """Tasks failing now (docs/operations.md): since when, how often, the last error."""
    return _read(conn, """
        SELECT store_id, incident_key, opened_at, last_failed_at, failures, left(last_error, 300) AS last_error
        FROM ops.incident WHERE resolved_at IS NULL AND (%(store)s::text IS NULL OR store_id = %(store)s)
        ORDER BY opened_at DESC LIMIT 50""", {"store": store})


def ingest_gaps(conn, store: str | None) -> list[dict]:
    """Stretches no run read (ops.ingest_gaps), with the backfill that fills each."""
    rows = _read(conn, """
        SELECT store_id, source, gap_start, gap_end, extract(epoch FROM gap_length) / 3600.0 AS hours
        FROM ops.ingest_gaps WHERE (%(store)s::text IS NULL OR store_id = %(store)s)
        ORDER BY gap_start DESC LIMIT 50""", {"store": store})
    for r in rows:
        r["hours"] = round(float(r["hours"]), 1)
        # --to-date is the last interval's (inclusive) start: the gap's end is not re-read
        r["command"] = (f"airflow backfill create --dag-id si_{r['store_id']}_pipeline "
                        f"--from-date {r['gap_start']:%Y-%m-%dT%H:%M} "
                        f"--to-date {r['gap_end'] - timedelta(seconds=1):%Y-%m-%dT%H:%M:%S} "
                        "--reprocess-behavior failed --max-active-runs 1")
    return rows


DQ_DAYS = 14


def data_quality(conn, store: str | None, days: int = DQ_DAYS) -> dict:
    """Expectations that did not hold, per day and level (chart), and rows set aside lately."""
    p = {"store": store, "days": days}
    daily = _read(conn, """
        SELECT interval_start::date AS day, level, count(*) FILTER (WHERE NOT success) AS failed, count(*) AS checked
        FROM ops.dq_results
        WHERE interval_start > now() - make_interval(days => %(days)s)
          AND (%(store)s::text IS NULL OR store_id = %(store)s)
        GROUP BY 1, 2 ORDER BY 1, 2""", p)
    set_aside = _read(conn, """
        SELECT store_id, stage, batch, row_key, expectation, interval_start, quarantined_at FROM ops.dq_quarantine
        WHERE released_at IS NULL AND (%(store)s::text IS NULL OR store_id = %(store)s)
        ORDER BY quarantined_at DESC, row_key LIMIT 20""", p)
    checked = sum(r["checked"] for r in daily)
    return {"daily": daily, "set_aside": set_aside, "checked": checked,
            "failed": {lvl: sum(r["failed"] for r in daily if r["level"] == lvl) for lvl in ("error", "quarantine", "warn")}}


QUARANTINE_LATEST = 3       # latest open items shown per store
QUARANTINE_REASON_CHARS = 200


def quarantine_health(conn, store: str | None) -> list[dict]:
    """Per store with open quarantined mail: open count, new / resolved in 24 h, latest items."""
    p = {"store": store, "n": QUARANTINE_LATEST, "chars": QUARANTINE_REASON_CHARS}
    stores = _read(conn, """
        SELECT store_id, count(*) FILTER (WHERE status = 'open') AS open,
               count(*) FILTER (WHERE status = 'open' AND quarantined_at > now() - interval '1 day') AS new_24h,
               count(*) FILTER (WHERE status = 'resolved' AND resolved_at > now() - interval '1 day') AS resolved_24h
        FROM ops.quarantine WHERE (%(store)s::text IS NULL OR store_id = %(store)s)
        GROUP BY store_id HAVING count(*) FILTER (WHERE status = 'open') > 0 ORDER BY store_id""", p)
    latest = _read(conn, """
        SELECT store_id, source_ref, left(reason, %(chars)s) AS reason, received_at, last_seen_at, attempts FROM (
            SELECT *, row_number() OVER (PARTITION BY store_id ORDER BY last_seen_at DESC, source_ref) AS rn
            FROM ops.quarantine WHERE status = 'open' AND (%(store)s::text IS NULL OR store_id = %(store)s)) q
        WHERE rn <= %(n)s ORDER BY store_id, rn""", p)
    for s in stores:
        s["latest"] = [x for x in latest if x["store_id"] == s["store_id"]]
    return stores


# ---------------------------------------------------------------- approvals
_OUTBOX_COLS = """idempotency_key, store_id, message_id, order_id, action, template, locale, subject, body,
                  mode, status, status_reason, lint_findings, created_at, decided_at, decided_by"""


def pending_approvals(conn, store: str | None) -> list[dict]:
    return _read(conn, f"""
        SELECT {_OUTBOX_COLS} FROM core.outbox
        WHERE status = 'pending_approval' AND (%(store)s::text IS NULL OR store_id = %(store)s)
        ORDER BY created_at, idempotency_key LIMIT {MAX_ROWS}""", {"store": store})


def recent_decisions(conn, store: str | None, limit: int = 10) -> list[dict]:
    return _read(conn, f"""
        SELECT {_OUTBOX_COLS} FROM core.outbox
        WHERE status IN ('approved', 'rejected') AND decided_at IS NOT NULL
          AND (%(store)s::text IS NULL OR store_id = %(store)s)
        ORDER BY decided_at DESC LIMIT %(limit)s""", {"store": store, "limit": limit})


class Decision(dict):
    """Outcome of approve/reject: ``ok``, and on refusal ``error`` (not_found, not_pending, lint)."""


def approve(conn, key: str, user: str, *, subject: str | None = None, body: str | None = None) -> Decision:
    """Approve a pending reply, re-linting the (possibly edited) text; refuse on any finding."""
    from seller_inbox.classify import feedback
    from seller_inbox.compliance import KINDS, lint
    from seller_inbox.delivery import outbox

    try:
        rows = _rows(conn, f"SELECT {_OUTBOX_COLS} FROM core.outbox WHERE idempotency_key = %s FOR UPDATE", (key,))
        if not rows:
            conn.rollback()
            return Decision(ok=False, error="not_found")
        row = rows[0]
        if row["status"] != "pending_approval":
            conn.rollback()
            return Decision(ok=False, error="not_pending", status=row["status"])
        new_subject = (row["subject"] or "") if subject is None else subject.strip()
        new_body = (row["body"] or "").strip() if body is None else body.replace("\r\n", "\n").strip()
        edited = new_subject != (row["subject"] or "").strip() or new_body != (row["body"] or "").strip()
        findings = [f.as_dict() for f in lint(new_subject, new_body, order_id=row["order_id"], locale=row["locale"],
                                              kind=row["action"] if row["action"] in KINDS else "reply")]
        if not new_body:
            findings.append({"code": "empty_body", "detail": "the body is empty"})
        if findings:
            conn.rollback()
            return Decision(ok=False, error="lint", findings=findings, subject=new_subject, body=new_body)
        reason = "body edited by the reviewer" if edited else None
        with conn.cursor() as cur:
            # approved rows go out with the next deliver run (every few minutes, docs/delivery.md),
            # which checks again the kill switches, quiet hours, caps, the linter and the message age
            done = outbox.approve(cur, key, user, subject=new_subject, body=new_body, edited=edited, reason=reason)
            if done and edited:  # a heavy rewrite is a labelled example (classify.feedback)
                feedback.record_draft_edit(cur, row["store_id"], row["message_id"], row["body"], new_body, user,
                                           row["template"])
        conn.commit()
        return Decision(ok=done, edited=edited) if done else Decision(ok=False, error="not_pending", status="?")
    except Exception:
        conn.rollback()
        raise


def reject(conn, key: str, user: str, reason: str | None = None) -> Decision:
    from seller_inbox.delivery import outbox

    try:
        with conn.cursor() as cur:
            done = outbox.reject(cur, key, user, reason)
            if not done:
                cur.execute("SELECT status FROM core.outbox WHERE idempotency_key = %s", (key,))
                r = cur.fetchone()
        conn.commit()
        if done:
            return Decision(ok=True)
        return Decision(ok=False, error="not_found") if r is None else Decision(ok=False, error="not_pending", status=r[0])
    except Exception:
        conn.rollback()
        raise


# ---------------------------------------------------------------- open messages
def open_messages(conn, store: str | None, risk: str | None = None) -> list[dict]:
    return _read(conn, f"""
        SELECT store_id, marketplace, message_id, order_id, intent, risk, language, received_at,
               sla_due_at, hours_left
        FROM core.open_messages
        WHERE (%(store)s::text IS NULL OR store_id = %(store)s)
          AND (%(risk)s::text IS NULL OR risk = %(risk)s)
        ORDER BY sla_due_at NULLS LAST, received_at LIMIT {MAX_ROWS}""", {"store": store, "risk": risk})


def message_detail(conn, store: str, message_id: str) -> dict | None:
    """One message (redacted text, labels, SLA) with its desk-feedback history, newest first."""
    from seller_inbox.classify import feedback

    rows = _read(conn, """
        SELECT store_id, marketplace, message_id, kind, direction, order_id, subject, body_text, intent, risk,
               language, confidence, low_confidence, classifier_version, labelled_by, labelled_at, received_at,
               sla_due_at, first_reply_at
        FROM core.message WHERE store_id = %s AND message_id = %s""", (store, message_id))
    if not rows:
        return None
    try:
        with conn.cursor() as cur:
            rows[0]["history"] = feedback.history(cur, store, message_id)
    finally:
        conn.rollback()
    return rows[0]


def correct_label(conn, store: str, message_id: str, intent: str, risk: str, user: str) -> Decision:
    """A person's intent/risk for a message (``classify.feedback.correct``): the message takes it and
    the change is recorded as a labelled example. Refusals: ``error`` is an i18n key."""
    from seller_inbox.classify import feedback

    try:
        with conn.cursor() as cur:
            res = feedback.correct(cur, store, message_id, intent, risk, user)
        conn.commit()
        return Decision(ok=True, **res)
    except feedback.LabelRefused as exc:
        conn.rollback()
        return Decision(ok=False, error=exc.key, detail=str(exc))
    except Exception:
        conn.rollback()
        raise


# ---------------------------------------------------------------- listen mode, kill switches
SHADOW_SHOWN = 50            # latest shadow drafts listed; the summary counts all of the window
SHADOW_COUNTED = 5000


def shadow_drafts(conn, store: str | None, days: int | None = None) -> dict:
    """Listen mode judged (``delivery.shadow``): per store over the last ``days`` (14), shadow
    drafts N, those a person later answered M, and K answered differently; plus the latest drafts
    with the person's reply and its similarity."""
    from seller_inbox.delivery import shadow

    days = days or shadow.WINDOW_DAYS
    rows = _read(conn, """
        SELECT o.idempotency_key, o.store_id, o.message_id, o.order_id, o.template, o.locale, o.subject, o.body,
               o.created_at, m.received_at, m.intent, r.message_id AS reply_id, r.body_text AS reply_body,
               r.received_at AS replied_at
        FROM core.outbox o
        JOIN core.message m ON m.store_id = o.store_id AND m.message_id = o.message_id
        LEFT JOIN LATERAL (
            SELECT r.message_id, r.body_text, r.received_at FROM core.message r
            WHERE r.store_id = o.store_id AND r.kind = 'seller_reply' AND r.received_at >= m.received_at
              AND (r.in_reply_to = m.message_id OR (m.thread_id IS NOT NULL AND r.thread_id = m.thread_id))
            ORDER BY r.received_at, r.message_id LIMIT 1) r ON true
        WHERE o.status = 'shadow' AND m.received_at > now() - make_interval(days => %(days)s)
          AND (%(store)s::text IS NULL OR o.store_id = %(store)s)
        ORDER BY m.received_at DESC, o.idempotency_key LIMIT %(limit)s""",
                 {"store": store, "days": days, "limit": SHADOW_COUNTED})
    summary: dict[str, dict] = {}
    for r in rows:
        s = summary.setdefault(r["store_id"], {"store_id": r["store_id"], "shadow": 0, "answered": 0, "differently": 0})
        s["shadow"] += 1
        r["similarity"] = None
        r["differently"] = None
        if r["reply_id"]:
            s["answered"] += 1
            r["similarity"] = round(shadow.similarity(r["body"], r["reply_body"]), 2)
            r["differently"] = r["similarity"] < shadow.DIFFERENT_BELOW
            s["differently"] += r["differently"]
    return {"days": days, "threshold": shadow.DIFFERENT_BELOW, "summary": [summary[k] for k in sorted(summary)],
            "rows": rows[:SHADOW_SHOWN]}


def _registry():
    try:
        from seller_inbox.config import get_registry

        return get_registry()
    except Exception:  # noqa: BLE001 - the registry is optional for the UI
        return None


def kill_switches(conn) -> list[dict]:
    """Every kill switch with who flipped it and when (``delivery.controls.switches``)."""
    from seller_inbox.delivery import controls

    try:
        with conn.cursor() as cur:
            return controls.switches(cur, _registry())
    finally:
        conn.rollback()


def flip_kill_switch(conn, scope: str, on: bool, user: str, reason: str | None) -> Decision:
    """Flip a kill switch from the approvals page (audited in ops.delivery_control_log)."""
    from seller_inbox.delivery import controls

    reg = _registry()
    known = {controls.GLOBAL} | {s.id for s in (reg.stores if reg else [])}
    if scope not in known:
        return Decision(ok=False, error="not_found")
    try:
        with conn.cursor() as cur:
            controls.flip(cur, scope, on, user, (reason or "").strip()[:500] or None)
        conn.commit()
    except Exception:
        conn.rollback()
        raise
    return Decision(ok=True)
