"""The simulator's order generator: deterministic, window-consistent, realistic volumes."""

import re
from collections import Counter
from datetime import datetime, timedelta, timezone

from seller_inbox_dev.sandbox.data import DEMO_SELLERS, generate_orders, sellers

UTC = timezone.utc
WEEK = (datetime(2026, 10, 5, tzinfo=UTC), datetime(2026, 10, 12, tzinfo=UTC))


def test_deterministic_and_seed_sensitive():
    a = generate_orders("A1DEMOUSOUTDOOR", *WEEK, seed=42)
    b = generate_orders("A1DEMOUSOUTDOOR", *WEEK, seed=42)
    c = generate_orders("A1DEMOUSOUTDOOR", *WEEK, seed=7)
    assert a == b
    assert {o.amazon_order_id for o in a} != {o.amazon_order_id for o in c}


def test_any_window_slices_the_same_stream():
    full = generate_orders("A2DEMOEUHOME", *WEEK)
    start, end = WEEK[0] + timedelta(days=2, hours=5), WEEK[0] + timedelta(days=4, hours=13)
    part = generate_orders("A2DEMOEUHOME", start, end)
    assert part == [o for o in full if start <= o.purchase_date < end]
    assert [o.purchase_date for o in full] == sorted(o.purchase_date for o in full)


def test_realistic_week_per_store():
    for seller in DEMO_SELLERS.values():
        orders = generate_orders(seller.seller_id, *WEEK)
        assert 200 <= len(orders) <= 800, (seller.seller_id, len(orders))
        assert len({o.amazon_order_id for o in orders}) == len(orders)
        assert {o.marketplace for o in orders} == set(seller.marketplaces)
        assert set(Counter(o.fulfillment_channel for o in orders)) == {"AFN", "MFN"}
        statuses = Counter(o.order_status for o in orders)
        assert statuses["Shipped"] > statuses["Canceled"] > 0
        for o in orders:
            assert re.fullmatch(r"\d{3}-\d{7}-\d{7}", o.amazon_order_id)
            assert o.purchase_date <= o.last_update_date
            assert o.earliest_ship_date <= o.latest_ship_date < o.earliest_delivery_date <= o.latest_delivery_date
            assert o.items and all(i.quantity >= 1 and i.asin.startswith("B0") for i in o.items)
            assert o.order_total == sum(i.item_price for i in o.items)


def test_as_of_projects_status_and_drops_future_purchases():
    orders = generate_orders("A3DEMOJPGADGETS", *WEEK)
    shipped = next(o for o in orders if o.final_status == "Shipped")
    early = shipped.as_of(shipped.purchase_date + timedelta(seconds=1))
    assert early.order_status == "Pending" and early.last_update_date == shipped.purchase_date
    assert shipped.as_of(shipped.shipped_at).order_status == "Shipped"
    cut = WEEK[0] + timedelta(days=3)
    projected = generate_orders("A3DEMOJPGADGETS", *WEEK, as_of=cut)
    assert projected and all(o.purchase_date <= cut and o.last_update_date <= cut for o in projected)


def test_extra_sellers_are_generated():
    extra = sellers(extra=5)
    assert len(extra) == 8 and len({s.seller_id for s in extra}) == 8
    assert generate_orders(extra[-1].seller_id, *WEEK)


def test_order_found_by_id():
    from seller_inbox_dev.sandbox.data import find_order
    orders = generate_orders("A2DEMOEUHOME", *WEEK)
    for o in orders[::50]:
        assert find_order("A2DEMOEUHOME", o.amazon_order_id) == o
    assert find_order("A2DEMOEUHOME", "123-1234567-1234567") is None


def test_busy_volume_is_deterministic_for_a_seed_with_unique_ids():
    """A busy seller (the simulator's ``seller_orders_per_day``) pages through 500+ orders a window."""
    day = (WEEK[0], WEEK[0] + timedelta(days=2))
    busy = generate_orders("A1DEMOUSOUTDOOR", *day, seed=42, orders_per_day=330)
    assert busy == generate_orders("A1DEMOUSOUTDOOR", *day, seed=42, orders_per_day=330)
    assert len(busy) > 500 and len({o.amazon_order_id for o in busy}) == len(busy)
    assert busy != generate_orders("A1DEMOUSOUTDOOR", *day, seed=7, orders_per_day=330)
    quiet = generate_orders("A1DEMOUSOUTDOOR", *day, seed=42)
    assert len(quiet) < 200
