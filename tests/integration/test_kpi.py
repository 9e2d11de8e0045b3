"""KPI rows: Amazon's definitions, marketplace-local days, and convergence on rerun."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from seller_inbox.config import load_registry
from seller_inbox.kpi import compute_store_daily, summary

from .rows import add_message, add_order

# 2026-11-20 00:00 in New York is 05:00 UTC
DAY = datetime(2026, 11, 20, 5, 0, tzinfo=timezone.utc)


@pytest.fixture
def us():
    return load_registry().store("us-outdoor")


def _row(db, store, mp, day):
    with db.cursor() as cur:
        cur.execute("""SELECT buyer_messages, needing_response, responded, responded_within_24h, late_responses,
                              pending_within_sla, late_response_rate, avg_response_minutes, orders,
                              a_to_z_claims, high_risk_messages, wismo_messages, computed_at
                       FROM kpi.store_daily WHERE store_id=%s AND marketplace=%s AND day=%s""", (store, mp, day))
        return cur.fetchone()


def test_response_time_and_late_rate_follow_amazons_rules(db, warehouse_dsn, us):
    h = timedelta(hours=1)
    add_message(db, us.id, "<m1>", DAY + 1 * h, first_reply_at=DAY + 3 * h)            # 2 h
    add_message(db, us.id, "<m2>", DAY + 2 * h, first_reply_at=DAY + 2 * h + 30 * h)   # 30 h: late
    add_message(db, us.id, "<m3>", DAY + 3 * h)                                          # never: late
    add_message(db, us.id, "<m4>", DAY + 4 * h, no_response_needed=True)                 # excluded
    add_message(db, us.id, "<m5>", DAY + 5 * h, intent="not_received", risk="high", first_reply_at=DAY + 9 * h)  # 4 h
    add_message(db, us.id, "<n1>", DAY + 6 * h, kind="amazon_notice", intent="a_to_z_claim", risk="high",
                order_id="111-0000009-0000009")
    add_message(db, us.id, "<late-night>", DAY - 1 * h)  # 23:00 local the day before: not this day
    for i in range(4):
        add_order(db, us.id, f"111-000000{i}-0000000", DAY + timedelta(hours=i + 1))
    now = DAY + timedelta(days=3)
    compute_store_daily(us, warehouse_dsn, DAY, DAY + timedelta(days=1), now=now)
    row = _row(db, us.id, "US", DAY.date())
    (msgs, needing, responded, within, late, pending, late_rate, avg_min, orders, claims, high, wismo, _) = row
    assert (msgs, needing, responded, within, late, pending) == (5, 4, 3, 2, 2, 0)
    assert float(late_rate) == 0.5
    assert float(avg_min) == round((120 + 1800 + 240) / 3, 1)
    # the notice names an order we never saw: counted as a notice, but no order of this day is claimed
    assert (orders, claims, high, wismo) == (4, 0, 1, 5)
    with db.cursor() as cur:
        cur.execute("SELECT a_to_z_notices FROM kpi.store_daily WHERE store_id=%s AND day=%s", (us.id, DAY.date()))
        assert cur.fetchone() == (1,)
    assert _row(db, us.id, "US", (DAY - timedelta(days=1)).date())[0] == 1


def test_unanswered_message_is_pending_until_24h_then_late(db, warehouse_dsn, us):
    add_message(db, us.id, "<m1>", DAY + timedelta(hours=1))
    compute_store_daily(us, warehouse_dsn, DAY, DAY + timedelta(days=1), now=DAY + timedelta(hours=10))
    r = _row(db, us.id, "US", DAY.date())
    assert (r[4], r[5], r[6]) == (0, 1, None)
    compute_store_daily(us, warehouse_dsn, DAY, DAY + timedelta(days=1), now=DAY + timedelta(hours=26))
    r = _row(db, us.id, "US", DAY.date())
    assert (r[4], r[5], float(r[6])) == (1, 0, 1.0)


def test_rerun_converges_without_touching_rows(db, warehouse_dsn, us):
    add_message(db, us.id, "<m1>", DAY + timedelta(hours=1), first_reply_at=DAY + timedelta(hours=2))
    now = DAY + timedelta(days=2)
    first = compute_store_daily(us, warehouse_dsn, DAY, DAY + timedelta(days=1), now=now)
    assert first["rows_changed"] > 0
    before = _row(db, us.id, "US", DAY.date())
    again = compute_store_daily(us, warehouse_dsn, DAY, DAY + timedelta(days=1), now=now)
    assert again["rows_changed"] == 0
    assert _row(db, us.id, "US", DAY.date()) == before  # computed_at included


def test_days_are_marketplace_local(db, warehouse_dsn):
    jp = load_registry().store("jp-gadgets")
    # 2026-11-20 16:00 UTC is 2026-11-21 01:00 in Tokyo
    add_message(db, jp.id, "<j1>", datetime(2026, 11, 20, 16, tzinfo=timezone.utc), marketplace="JP", language="ja")
    compute_store_daily(jp, warehouse_dsn, datetime(2026, 11, 20, tzinfo=timezone.utc),
                        datetime(2026, 11, 21, tzinfo=timezone.utc), now=datetime(2026, 11, 25, tzinfo=timezone.utc))
    assert _row(db, jp.id, "JP", datetime(2026, 11, 21).date())[0] == 1
    assert _row(db, jp.id, "JP", datetime(2026, 11, 20).date())[0] == 0
    cols, rows = summary(warehouse_dsn, datetime(2026, 11, 18).date(), datetime(2026, 11, 21).date())
    assert rows[0][cols.index("store_id")] == "jp-gadgets" and rows[0][cols.index("buyer_messages")] == 1


def test_days_changed_by_the_window_are_recomputed(db, warehouse_dsn, us):
    """An order updated today counts on its purchase day; a late reply today fixes its message's day."""
    old = DAY - timedelta(days=6)
    now = DAY + timedelta(days=2)
    add_message(db, us.id, "<old>", old + timedelta(hours=1))
    compute_store_daily(us, warehouse_dsn, old, old + timedelta(days=1), now=now)
    assert _row(db, us.id, "US", old.date())[2] == 0  # not answered
    # today's interval: the seller answers the old message, and an old order ships
    with db.cursor() as cur:
        cur.execute("UPDATE core.message SET first_reply_at = %s WHERE message_id = '<old>'", (DAY + timedelta(hours=2),))
    add_order(db, us.id, "111-0000077-0000077", old + timedelta(hours=3))
    with db.cursor() as cur:
        cur.execute("UPDATE raw.orders SET last_update_date = %s", (DAY + timedelta(hours=3),))
    compute_store_daily(us, warehouse_dsn, DAY, DAY + timedelta(days=1), now=now)
    r = _row(db, us.id, "US", old.date())
    assert (r[2], r[4], r[8]) == (1, 1, 1)  # responded (late), and the order is counted on its purchase day


def test_views_answer_the_common_questions(db, warehouse_dsn, us):
    """Last 30 days by store, worst stores by late response rate, messages about to breach their 24 h
    now, and the ODR trend against Amazon's 1 % target."""
    eu = load_registry().store("eu-home")
    now = datetime.now(timezone.utc)
    h = timedelta(hours=1)
    add_message(db, us.id, "<u1>", now - 50 * h, first_reply_at=now - 49 * h)   # on time
    add_message(db, us.id, "<u2>", now - 50 * h)                                # late
    add_message(db, us.id, "<soon>", now - 21 * h)                              # 3 h left
    add_message(db, us.id, "<fresh>", now - 1 * h)                              # 23 h left
    add_message(db, us.id, "<nrn>", now - 21 * h, no_response_needed=True)     # never breaches
    add_message(db, eu.id, "<e1>", now - 50 * h, marketplace="DE", first_reply_at=now - 40 * h)
    for i in range(50):
        add_order(db, us.id, f"111-0000000-00001{i:02d}", now - timedelta(days=20, hours=i))
    add_message(db, us.id, "<claim>", now - 5 * h, kind="amazon_notice", intent="a_to_z_claim",
                order_id="111-0000000-0000100")
    for s in (us, eu):
        compute_store_daily(s, warehouse_dsn, now - timedelta(days=3), now, now=now)
    with db.cursor() as cur:
        cur.execute("SELECT store_id, buyer_messages, late_responses FROM kpi.last_30_days_by_store ORDER BY 1")
        assert cur.fetchall() == [("eu-home", 1, 0), ("us-outdoor", 5, 1)]
        cur.execute("SELECT rank, store_id, marketplace, late_response_rate FROM kpi.worst_late_response_30d "
                    "ORDER BY rank, marketplace")
        rows = cur.fetchall()
        assert rows[:2] == [(1, "us-outdoor", "US", Decimal("0.5000")), (2, "eu-home", "DE", Decimal("0.0000"))]
        assert {(r[0], r[3]) for r in rows[2:]} == {(3, None)}  # eu-home's other marketplaces: nothing to rate
        cur.execute("SELECT message_id, hours_left FROM kpi.sla_breach_soon ORDER BY hours_left")
        rows = cur.fetchall()
        assert [r[0] for r in rows] == ["<soon>", "<fresh>"] and 2.9 < float(rows[0][1]) <= 3.0
        # the run's days reach back 2 days: the ODR windows ending 14 days before them hold the claimed order
        cur.execute("SELECT orders, defective_orders, order_defect_rate, target, above_target FROM kpi.odr_trend "
                    "WHERE store_id = 'us-outdoor' ORDER BY window_end DESC LIMIT 1")
        assert cur.fetchone() == (50, 1, Decimal("0.02000"), Decimal("0.01"), True)
