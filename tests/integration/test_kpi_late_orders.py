"""Orders loaded outside an orders window (the act stage's getOrder for an order a buyer names)
count in the next KPI run, whatever their LastUpdateDate: no day keeps a short order count."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from seller_inbox.act import act_on_messages
from seller_inbox.config import load_registry
from seller_inbox.kpi import compute_store_daily

from tests.integration.conftest_spapi import rows, sandbox, set_conn  # noqa: F401 (fixture)

from .rows import add_message, add_order

NOW = datetime(2026, 11, 20, 20, 0, tzinfo=timezone.utc)   # 15:00 in New York: outside quiet hours
START, END = NOW - timedelta(hours=6), NOW


def _counts(db, store_id, day):
    """(orders in raw.orders purchased that New York day, kpi.store_daily.orders for it)."""
    raw = rows(db, """SELECT count(*) FROM raw.orders WHERE store_id = %s AND marketplace = 'US'
                      AND (purchase_date AT TIME ZONE 'America/New_York')::date = %s""", store_id, day)[0][0]
    kpi = rows(db, "SELECT orders FROM kpi.store_daily WHERE store_id = %s AND marketplace = 'US' AND day = %s",
               store_id, day)
    return raw, kpi[0][0] if kpi else None


def test_an_order_act_loads_with_an_old_last_update_counts_in_the_next_kpi_run(db, warehouse_dsn, sandbox,
                                                                              monkeypatch):
    from seller_inbox_dev.sandbox.data import generate_orders

    us = load_registry().store("us-outdoor")
    set_conn(monkeypatch, sandbox, us)
    order = next(o for o in generate_orders(us.seller_id, NOW - timedelta(days=40), NOW - timedelta(days=38),
                                            orders_per_day=12) if o.order_status in ("Shipped", "Delivered"))
    assert order.last_update_date < START - timedelta(days=20)   # far outside the run's interval
    day = order.purchase_date.astimezone(load_registry().store("us-outdoor").marketplaces[0].zone).date()
    # that day was already computed, with the one order the orders windows had loaded
    add_order(db, us.id, "111-0000001-0000001", order.purchase_date)
    compute_store_daily(us, warehouse_dsn, order.purchase_date, order.purchase_date + timedelta(hours=1), now=NOW)
    assert _counts(db, us.id, day) == (1, 1)

    # today a buyer asks about the order: act loads it with getOrder (its LastUpdateDate is weeks old)
    add_message(db, us.id, "<asks>", NOW - timedelta(hours=2), order_id=order.amazon_order_id)
    out = act_on_messages(us, warehouse_dsn, START, END, now=NOW)
    assert out["orders_fetched"]["loaded"] == 1
    assert _counts(db, us.id, day)[0] == 2

    # the KPI run of the same interval counts it on its purchase day
    compute_store_daily(us, warehouse_dsn, START, END, now=NOW)
    assert _counts(db, us.id, day) == (2, 2)
    # and a rerun rewrites nothing
    assert compute_store_daily(us, warehouse_dsn, START, END, now=NOW)["rows_changed"] == 0
