"""Every KPI column against values computed by hand on a small fixed dataset (docs/kpis.md).

US (America/New_York; DST ends Sun 2026-11-01 02:00 EDT -> 01:00 EST, so that day has 25 hours)
and DE (Europe/Berlin; DST ends Sun 2026-10-25 03:00 CEST -> 02:00 CET). Replies are linked the
way ingestion links them (``mail.messages.recompute_threads``), not set by hand.

US, local day Sat 2026-10-31 (a weekend)
  m1  23:59 EDT (03:59 UTC Nov 1), order_status, thread T1; seller reply r1 exactly 24 h later
      (a copy of a Seller Central reply: no outbox row) -> on time, 1440 min; FCR resolved
  o1  AFN, 20:00 EDT; its A-to-z claim notice arrives 40 days later (2026-12-11 00:00 UTC)
US, local day Sun 2026-11-01 (25 hours: 04:00 UTC Nov 1 .. 05:00 UTC Nov 2)
  m2  01:30 EDT (05:30 UTC), m3 01:30 EST (06:30 UTC): two buyer messages in thread T2, one
      reply r2 at 16:30 UTC -> 660 and 600 min, on time; buyer follow-up m4 on Nov 3 -> T2 not FCR
  m6  15:00 UTC, not_received, high risk, thread T3; an auto-reply at 15:01 UTC (never a
      response); seller reply r3 at 16:00 UTC Nov 2 -> 1500 min, late; no follow-up -> FCR resolved
  m7  buyer message labelled auto_reply (an out-of-office from the buyer's side): not needing
  m8  marked "no response needed": not needing
  o2  MFN 01:30 EST, negative feedback (1 star); o3 MFN 23:30 EST (04:30 UTC Nov 2), 4 stars
  n1  A-to-z notice about an order we never saw (18:00 UTC)
US, Nov 2: o4 MFN.  Nov 3: m4 (T2's follow-up, 12:00 UTC), never answered -> late.
DE, local day Sat 2026-10-24: d3 23:59 CEST (21:59 UTC), never answered -> late
DE, local day Sun 2026-10-25 (25 hours): d1 02:30 CEST (00:30 UTC) answered after 23 h 59 min;
  d2 02:30 CET (01:30 UTC) answered after 24 h 01 min -> late; od1 MFN 02:30 CEST
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from seller_inbox import metrics
from seller_inbox.config import load_registry
from seller_inbox.domain.response_clock import due_at
from seller_inbox.kpi import compute_store_daily
from seller_inbox.mail.messages import recompute_threads

UTC = timezone.utc
NOW = datetime(2027, 1, 15, tzinfo=UTC)  # every outcome settled (24 h, 7-day follow-ups)


def t(*a) -> datetime:
    return datetime(*a, tzinfo=UTC)


US_INTERVAL = (t(2026, 10, 31, 4), t(2026, 12, 11, 5))   # Oct 31 .. Dec 10, New York days
DE_INTERVAL = (t(2026, 10, 23, 22), t(2026, 10, 25, 23))  # Oct 24 .. Oct 25, Berlin days
O1 = "111-0000001-0000031"


def _thread(cur, store, tid, mp, order_id):
    cur.execute("INSERT INTO core.thread (thread_id, store_id, marketplace, order_id) VALUES (%s,%s,%s,%s)",
                (tid, store, mp, order_id))


def _msg(cur, store, mid, at, *, tid=None, kind="buyer_message", mp="US", order_id=None, intent="order_status",
         risk="low", nrn=False):
    direction = "outbound" if kind in ("seller_reply", "auto_reply") else "inbound"
    cur.execute("""INSERT INTO core.message (store_id, message_id, thread_id, kind, direction, marketplace, order_id,
                       received_at, no_response_needed, intent, risk, sla_due_at)
                   VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)""",
                (store, mid, tid, kind, direction, mp, order_id, at, nrn, intent if kind != "seller_reply" else None,
                 risk, due_at(at) if kind == "buyer_message" else None))


def _order(cur, store, oid, at, channel, mp="US"):
    cur.execute("""INSERT INTO raw.orders (amazon_order_id, store_id, marketplace, order_status, fulfillment_channel,
                       purchase_date, last_update_date) VALUES (%s,%s,%s,'Shipped',%s,%s,%s)""",
                (oid, store, mp, channel, at, at))


def _feedback(cur, store, oid, day, rating, mp="US"):
    cur.execute("""INSERT INTO raw.seller_feedback (store_id, amazon_order_id, marketplace, feedback_date, rating, report_id)
                   VALUES (%s,%s,%s,%s,%s,'test')""", (store, oid, mp, day, rating))


def claim_notice(db):
    """o1's A-to-z claim, 40 days after the order."""
    with db.cursor() as cur:
        _msg(cur, "us-outdoor", "<claim-o1>", t(2026, 12, 11, 0), kind="amazon_notice", order_id=O1,
             intent="a_to_z_claim", risk="high")


def load(db, with_claim=True):
    us, de = "us-outdoor", "eu-home"
    with db.cursor() as cur:
        for tid, order_id in (("T1", O1), ("T2", "111-0000002-0000032"), ("T3", "111-0000003-0000033"),
                              ("T4", None), ("T5", None)):
            _thread(cur, us, tid, "US", order_id)
        _msg(cur, us, "<m1>", t(2026, 11, 1, 3, 59), tid="T1", order_id=O1)
        _msg(cur, us, "<r1>", t(2026, 11, 2, 3, 59), tid="T1", kind="seller_reply", order_id=O1)
        _msg(cur, us, "<m2>", t(2026, 11, 1, 5, 30), tid="T2")
        _msg(cur, us, "<m3>", t(2026, 11, 1, 6, 30), tid="T2")
        _msg(cur, us, "<r2>", t(2026, 11, 1, 16, 30), tid="T2", kind="seller_reply")
        _msg(cur, us, "<m4>", t(2026, 11, 3, 12, 0), tid="T2")
        _msg(cur, us, "<m6>", t(2026, 11, 1, 15, 0), tid="T3", intent="not_received", risk="high")
        _msg(cur, us, "<a3>", t(2026, 11, 1, 15, 1), tid="T3", kind="auto_reply", intent="auto_reply")
        _msg(cur, us, "<r3>", t(2026, 11, 2, 16, 0), tid="T3", kind="seller_reply")
        _msg(cur, us, "<m7>", t(2026, 11, 1, 16, 0), tid="T4", intent="auto_reply")
        _msg(cur, us, "<m8>", t(2026, 11, 1, 17, 0), tid="T5", intent="product_question", nrn=True)
        _msg(cur, us, "<n1>", t(2026, 11, 1, 18, 0), kind="amazon_notice", order_id="111-9999999-9999999",
             intent="a_to_z_claim", risk="high")
        recompute_threads(cur, us, ["T1", "T2", "T3", "T4", "T5"])
        _order(cur, us, O1, t(2026, 11, 1, 0, 0), "AFN")
        _order(cur, us, "111-0000002-0000032", t(2026, 11, 1, 6, 30), "MFN")
        _order(cur, us, "111-0000003-0000033", t(2026, 11, 2, 4, 30), "MFN")
        _order(cur, us, "111-0000004-0000034", t(2026, 11, 2, 12, 0), "MFN")
        _feedback(cur, us, "111-0000002-0000032", date(2026, 11, 10), 1)
        _feedback(cur, us, "111-0000003-0000033", date(2026, 11, 12), 4)

        for tid in ("D1", "D2", "D3"):
            _thread(cur, de, tid, "DE", None)
        _msg(cur, de, "<d1>", t(2026, 10, 25, 0, 30), tid="D1", mp="DE")
        _msg(cur, de, "<e1>", t(2026, 10, 26, 0, 29), tid="D1", mp="DE", kind="seller_reply")
        _msg(cur, de, "<d2>", t(2026, 10, 25, 1, 30), tid="D2", mp="DE")
        _msg(cur, de, "<e2>", t(2026, 10, 26, 1, 31), tid="D2", mp="DE", kind="seller_reply")
        _msg(cur, de, "<d3>", t(2026, 10, 24, 21, 59), tid="D3", mp="DE")
        recompute_threads(cur, de, ["D1", "D2", "D3"])
        _order(cur, de, "302-0000001-0000001", t(2026, 10, 25, 0, 30), "MFN", mp="DE")
    if with_claim:
        claim_notice(db)


def _daily(db, store, mp, day) -> dict:
    with db.cursor() as cur:
        cur.execute(f"SELECT {metrics.columns('store_daily')} FROM kpi.store_daily "
                    "WHERE store_id=%s AND marketplace=%s AND day=%s", (store, mp, day))
        row = cur.fetchone()
    assert row is not None, (store, mp, day)
    return dict(zip([m.name for m in metrics.of("store_daily")], row))


def _odr(db, store, mp, channel, window_end) -> dict:
    with db.cursor() as cur:
        cur.execute(f"SELECT window_start, {metrics.columns('order_defect_rate')} FROM kpi.order_defect_rate "
                    "WHERE store_id=%s AND marketplace=%s AND fulfillment_channel=%s AND window_end=%s",
                    (store, mp, channel, window_end))
        row = cur.fetchone()
    assert row is not None, (store, mp, channel, window_end)
    return dict(zip(["window_start"] + [m.name for m in metrics.of("order_defect_rate")], row))


def D(x: str) -> Decimal:
    return Decimal(x)


EMPTY = dict(buyer_messages=0, needing_response=0, responded=0, responded_within_24h=0, late_responses=0,
             pending_within_sla=0, avg_response_minutes=None, median_response_minutes=None, late_response_rate=None,
             high_risk_messages=0, wismo_messages=0, wismo_share=None, fcr_threads=0, first_contact_resolved=0,
             first_contact_resolution_rate=None, orders=0, a_to_z_claims=0, a_to_z_claim_rate=None,
             negative_feedback_orders=0, a_to_z_notices=0)

EXPECTED_DAILY = {
    ("us-outdoor", "US", date(2026, 10, 31)): {
        **EMPTY, "buyer_messages": 1, "needing_response": 1, "responded": 1, "responded_within_24h": 1,
        "avg_response_minutes": D("1440.0"), "median_response_minutes": D("1440.0"), "late_response_rate": D("0.0000"),
        "wismo_messages": 1, "wismo_share": D("1.0000"), "fcr_threads": 1, "first_contact_resolved": 1,
        "first_contact_resolution_rate": D("1.0000"), "orders": 1, "a_to_z_claims": 1, "a_to_z_claim_rate": D("1.00000")},
    ("us-outdoor", "US", date(2026, 11, 1)): {
        **EMPTY, "buyer_messages": 5, "needing_response": 3, "responded": 3, "responded_within_24h": 2,
        "late_responses": 1, "avg_response_minutes": D("920.0"), "median_response_minutes": D("660.0"),
        "late_response_rate": D("0.3333"), "high_risk_messages": 1, "wismo_messages": 3, "wismo_share": D("0.6000"),
        "fcr_threads": 2, "first_contact_resolved": 1, "first_contact_resolution_rate": D("0.5000"), "orders": 2,
        "a_to_z_claim_rate": D("0.00000"), "negative_feedback_orders": 1, "a_to_z_notices": 1},
    ("us-outdoor", "US", date(2026, 11, 2)): {**EMPTY, "orders": 1, "a_to_z_claim_rate": D("0.00000")},
    ("us-outdoor", "US", date(2026, 11, 3)): {
        **EMPTY, "buyer_messages": 1, "needing_response": 1, "late_responses": 1, "late_response_rate": D("1.0000"),
        "wismo_messages": 1, "wismo_share": D("1.0000")},
    ("us-outdoor", "US", date(2026, 12, 10)): {**EMPTY, "a_to_z_notices": 1},
    ("eu-home", "DE", date(2026, 10, 24)): {
        **EMPTY, "buyer_messages": 1, "needing_response": 1, "late_responses": 1, "late_response_rate": D("1.0000"),
        "wismo_messages": 1, "wismo_share": D("1.0000")},
    ("eu-home", "DE", date(2026, 10, 25)): {
        **EMPTY, "buyer_messages": 2, "needing_response": 2, "responded": 2, "responded_within_24h": 1,
        "late_responses": 1, "avg_response_minutes": D("1440.0"), "median_response_minutes": D("1440.0"),
        "late_response_rate": D("0.5000"), "wismo_messages": 2, "wismo_share": D("1.0000"), "fcr_threads": 2,
        "first_contact_resolved": 2, "first_contact_resolution_rate": D("1.0000"), "orders": 1,
        "a_to_z_claim_rate": D("0.00000")},
}

# the ODR as of Dec 10 (its window ends 14 days earlier): orders of Sep 28 .. Nov 26, New York days
EXPECTED_ODR = {
    "AFN": dict(window_start=date(2026, 9, 28), orders=1, a_to_z_claims=1, negative_feedback=0, defective_orders=1,
                order_defect_rate=D("1.00000"), a_to_z_claim_rate=D("1.00000")),
    "MFN": dict(window_start=date(2026, 9, 28), orders=3, a_to_z_claims=0, negative_feedback=1, defective_orders=1,
                order_defect_rate=D("0.33333"), a_to_z_claim_rate=D("0.00000")),
}


@pytest.fixture
def stores():
    reg = load_registry()
    return reg.store("us-outdoor"), reg.store("eu-home")


def test_every_kpi_column_equals_the_hand_computed_value(db, warehouse_dsn, stores):
    us, de = stores
    load(db)
    compute_store_daily(us, warehouse_dsn, *US_INTERVAL, now=NOW)
    compute_store_daily(de, warehouse_dsn, *DE_INTERVAL, now=NOW)
    assert set(EMPTY) == {m.name for m in metrics.of("store_daily")}  # every column is checked
    for (store, mp, day), want in EXPECTED_DAILY.items():
        assert _daily(db, store, mp, day) == want, (store, mp, day)
    for channel, want in EXPECTED_ODR.items():
        assert _odr(db, "us-outdoor", "US", channel, date(2026, 11, 26)) == want, channel
    # a window holding none of the orders gives no row; a day before the first order, neither
    with db.cursor() as cur:
        cur.execute("SELECT min(window_end) FROM kpi.order_defect_rate WHERE store_id = 'us-outdoor'")
        assert cur.fetchone()[0] == date(2026, 10, 31)  # the first window holding o1 (AFN)
        cur.execute("SELECT count(*) FROM kpi.order_defect_rate WHERE store_id = 'us-outdoor' AND fulfillment_channel = 'MFN' "
                    "AND window_end < '2026-11-01'")
        assert cur.fetchone()[0] == 0


def test_a_claim_40_days_after_the_order_counts_on_the_order_day(db, warehouse_dsn, stores):
    us, _ = stores
    load(db, with_claim=False)
    compute_store_daily(us, warehouse_dsn, *US_INTERVAL, now=NOW)
    assert _daily(db, "us-outdoor", "US", date(2026, 10, 31))["a_to_z_claims"] == 0
    assert _odr(db, "us-outdoor", "US", "AFN", date(2026, 11, 26))["a_to_z_claims"] == 0
    # the notice arrives on Dec 10 (New York); only that day's interval runs
    claim_notice(db)
    out = compute_store_daily(us, warehouse_dsn, t(2026, 12, 10, 5), t(2026, 12, 11, 5), now=t(2026, 12, 11, 6))
    assert out["days_recomputed"] >= 41  # back to the order's day, Oct 31
    row = _daily(db, "us-outdoor", "US", date(2026, 10, 31))
    assert (row["a_to_z_claims"], row["a_to_z_claim_rate"]) == (1, D("1.00000"))
    assert _daily(db, "us-outdoor", "US", date(2026, 12, 10))["a_to_z_notices"] == 1
    assert _odr(db, "us-outdoor", "US", "AFN", date(2026, 11, 26)) == EXPECTED_ODR["AFN"]
    assert _odr(db, "us-outdoor", "US", "AFN", date(2026, 10, 31))["a_to_z_claims"] == 1  # every window holding it


def _snapshot(db) -> list[str]:
    with db.cursor() as cur:
        cur.execute("SELECT k::text FROM kpi.store_daily k ORDER BY store_id, marketplace, day")
        rows = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT k::text FROM kpi.order_defect_rate k ORDER BY store_id, marketplace, fulfillment_channel, window_end")
        return rows + [r[0] for r in cur.fetchall()]


def test_a_day_its_backfill_and_a_rerun_give_byte_identical_rows(db, warehouse_dsn, stores):
    """The scheduled run of Nov 1 (New York), a backfill of the same interval later, then a rerun:
    the same rows, computed_at included (a row is rewritten only when a value changes)."""
    us, de = stores
    load(db)
    day = (t(2026, 11, 1, 4), t(2026, 11, 2, 5))
    compute_store_daily(us, warehouse_dsn, *day, now=NOW)
    compute_store_daily(de, warehouse_dsn, *DE_INTERVAL, now=NOW)
    first = _snapshot(db)
    assert len(first) > 10
    backfill = compute_store_daily(us, warehouse_dsn, *day, now=NOW + timedelta(days=30))
    assert backfill["rows_changed"] == 0 and backfill["odr_rows_changed"] == 0
    assert _snapshot(db) == first
    compute_store_daily(us, warehouse_dsn, *day, now=NOW + timedelta(days=30))
    compute_store_daily(de, warehouse_dsn, *DE_INTERVAL, now=NOW + timedelta(days=30))
    assert _snapshot(db) == first
    assert _daily(db, "us-outdoor", "US", date(2026, 11, 1)) == EXPECTED_DAILY[("us-outdoor", "US", date(2026, 11, 1))]


def test_first_contact_resolution_waits_for_its_seven_days(db, warehouse_dsn, stores):
    """T3 was answered on Nov 2 16:00 UTC: unknown until Nov 9 16:00, then resolved."""
    us, _ = stores
    load(db)
    day = (t(2026, 11, 1, 4), t(2026, 11, 2, 5))
    compute_store_daily(us, warehouse_dsn, *day, now=t(2026, 11, 9, 15))
    row = _daily(db, "us-outdoor", "US", date(2026, 11, 1))
    assert (row["fcr_threads"], row["first_contact_resolved"]) == (1, 0)  # T2 (follow-up) known, T3 not yet
    compute_store_daily(us, warehouse_dsn, t(2026, 11, 9, 5), t(2026, 11, 10, 5), now=t(2026, 11, 9, 17))
    row = _daily(db, "us-outdoor", "US", date(2026, 11, 1))
    assert (row["fcr_threads"], row["first_contact_resolved"]) == (2, 1)


def _amazon(db, channel, orders, claims, negative, chargebacks, defects, rate):
    with db.cursor() as cur:
        cur.execute("""INSERT INTO raw.seller_performance (store_id, marketplace, fulfillment, window_start, window_end,
                           order_count, claims_count, chargebacks_count, negative_feedback_count, defects_count,
                           order_defect_rate, target_value, status, target_condition, report_id)
                       VALUES ('us-outdoor', 'US', %s, '2026-09-28', '2026-11-26', %s, %s, %s, %s, %s, %s, 0.01,
                               'GOOD', 'LESS_THAN', 'r1')""", (channel, orders, claims, chargebacks, negative, defects, rate))


def _covered(db, source, start, end):
    with db.cursor() as cur:
        cur.execute("INSERT INTO ops.ingest_coverage (store_id, source, interval_start, interval_end) "
                    "VALUES ('us-outdoor', %s, %s, %s)", (source, start, end))


def test_reconciliation_agrees_and_flags_a_seeded_discrepancy_with_a_warning_alert(db, warehouse_dsn, stores):
    from seller_inbox.gates import run_gate

    us, _ = stores
    load(db)
    # Amazon agrees with us but for a chargeback on o4, which only Amazon sees: within what it explains
    _amazon(db, "MFN", 3, 0, 1, 1, 2, D("0.66667"))
    _amazon(db, "AFN", 1, 0, 0, 0, 0, D("0"))         # seeded: Amazon denied o1's claim, we still count it
    # Amazon's window is 2026-09-28 .. 11-26 (UTC days), its report made on 12-10 (no ops.report_request
    # row: the end of the report day, 12-11 00:00 UTC, counts). The desk read orders from 09-29 and
    # mail up to 12-01 only: not comparable yet, so never flagged (AFN's difference is not drift)
    _covered(db, "orders", t(2026, 9, 29), t(2026, 12, 1))
    _covered(db, "mail", t(2026, 9, 20), t(2026, 12, 1))
    compute_store_daily(us, warehouse_dsn, *US_INTERVAL, now=NOW)
    with db.cursor() as cur:
        cur.execute("""SELECT fulfillment_channel, comparable, flagged, orders_read_since, mail_read_since, report_made_at,
                              odr_difference FROM kpi.reconciliation ORDER BY 1""")
        assert cur.fetchall() == [("AFN", False, False, t(2026, 9, 29), None, t(2026, 12, 11), D("1.00000")),
                                  ("MFN", False, False, t(2026, 9, 29), None, t(2026, 12, 11), D("-0.33334"))]
    assert run_gate("kpi", us, warehouse_dsn, *US_INTERVAL, now=NOW)["warnings"] == 0
    # now the desk has read both far enough (adjacent intervals make one stretch): the windows compare
    _covered(db, "orders", t(2026, 9, 1), t(2026, 9, 29))
    _covered(db, "mail", t(2026, 12, 1), t(2026, 12, 12))
    out = compute_store_daily(us, warehouse_dsn, *US_INTERVAL, now=NOW)
    assert out["reconciliation_rows_changed"] == 2
    with db.cursor() as cur:
        cur.execute("""SELECT fulfillment_channel, our_orders, our_defective_orders, our_order_defect_rate,
                              amazon_order_defect_rate, odr_difference, a_to_z_claim_rate_difference, flagged,
                              comparable, orders_read_since, mail_read_since
                       FROM kpi.reconciliation ORDER BY 1""")
        assert cur.fetchall() == [
            ("AFN", 1, 1, D("1.00000"), D("0.00000"), D("1.00000"), D("1.00000"), True, True, t(2026, 9, 1), t(2026, 9, 20)),
            ("MFN", 3, 1, D("0.33333"), D("0.66667"), D("-0.33334"), D("0.00000"), False, True, t(2026, 9, 1), t(2026, 9, 20))]
    again = compute_store_daily(us, warehouse_dsn, *US_INTERVAL, now=NOW)
    assert again["reconciliation_rows_changed"] == 0
    verdict = run_gate("kpi", us, warehouse_dsn, *US_INTERVAL, now=NOW)
    assert verdict["success"] and verdict["warnings"] == 1  # warn level: nothing stops
    with db.cursor() as cur:
        cur.execute("SELECT alert_kind, payload->>'summary' FROM ops.alert_log WHERE store_id = 'us-outdoor'")
        (kind, summary), = cur.fetchall()
    assert kind == "gate_warning" and "ours_agree_with_amazon" in summary
    # Amazon's figure catches up (the claim was granted after all): the flag and the warning go
    with db.cursor() as cur:
        cur.execute("UPDATE raw.seller_performance SET claims_count = 1, defects_count = 1, order_defect_rate = 1 "
                    "WHERE fulfillment = 'AFN'")
    compute_store_daily(us, warehouse_dsn, *US_INTERVAL, now=NOW)
    assert run_gate("kpi", us, warehouse_dsn, *US_INTERVAL, now=NOW)["warnings"] == 0
