"""The act stage: modes per intent, safety guards, and one outbox row per message forever."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from seller_inbox import config
from seller_inbox.act import act_on_messages

from tests.integration.conftest_spapi import sandbox, set_conn  # noqa: F401 (fixture)

from .rows import add_message, add_order

# 15:00 in New York: outside the demo store's quiet hours
NOW = datetime(2026, 11, 20, 20, 0, tzinfo=timezone.utc)
START, END = NOW - timedelta(hours=6), NOW


@pytest.fixture
def registry(tmp_path, monkeypatch):
    """A copy of the demo registry the test may change (kill switches)."""
    src = Path(config.DEFAULT_REGISTRY)
    data = yaml.safe_load(src.read_text())

    def write(**defaults):
        data["defaults"].update(defaults)
        p = tmp_path / "stores.yaml"
        p.write_text(yaml.safe_dump(data))
        monkeypatch.setenv("SELLER_INBOX_STORES", str(p))
        return config.load_registry(p)

    return write


def _outbox(db):
    with db.cursor() as cur:
        cur.execute("SELECT message_id, mode, status, status_reason, template, locale, body FROM core.outbox ORDER BY message_id")
        return cur.fetchall()


def test_modes_and_guards(db, warehouse_dsn, registry):
    us = registry().store("us-outdoor")
    add_order(db, us.id, "111-0000001-0000001", NOW - timedelta(days=3))
    add_message(db, us.id, "<1-auto>", NOW - timedelta(hours=2))                               # order_status: auto
    add_message(db, us.id, "<2-lowconf>", NOW - timedelta(hours=2), low_confidence=True)       # auto → draft
    add_message(db, us.id, "<3-question>", NOW - timedelta(hours=3), intent="product_question", order_id=None)  # draft
    add_message(db, us.id, "<4-damaged>", NOW - timedelta(hours=3), intent="damaged_defective")  # listen: shadow
    add_message(db, us.id, "<5-answered>", NOW - timedelta(hours=4), first_reply_at=NOW - timedelta(hours=1))
    add_message(db, us.id, "<6-unknown-order>", NOW - timedelta(hours=1), order_id="111-9999999-9999999")
    out = act_on_messages(us, warehouse_dsn, START, END, now=NOW, fetch_orders=False)
    rows = {r[0]: r for r in _outbox(db)}
    assert set(rows) == {"<1-auto>", "<2-lowconf>", "<3-question>", "<4-damaged>", "<5-answered>", "<6-unknown-order>"}
    assert rows["<4-damaged>"][1:3] == ("listen", "shadow")  # what would have been sent, never sent
    assert rows["<1-auto>"][1:3] == ("auto", "queued")
    assert "111-0000001-0000001" in rows["<1-auto>"][6] and "[ANSWER]" not in rows["<1-auto>"][6]
    assert rows["<2-lowconf>"][1:4] == ("draft", "pending_approval", "low-confidence label")
    # a product question has its skeleton (templating.INTENT_TEMPLATES): a person writes the answer
    assert rows["<3-question>"][1:3] == ("draft", "pending_approval") and rows["<3-question>"][4] == "product_question"
    assert rows["<4-damaged>"][4] == "delivery_problem"
    assert rows["<5-answered>"][2:4] == ("skipped", "already answered")
    assert rows["<6-unknown-order>"][1:3] == ("draft", "pending_approval")
    assert out["decisions"] == {"queued": 1, "pending_approval": 3, "skipped": 1, "shadow": 1}


def test_orders_named_by_messages_are_fetched_so_replies_state_facts(db, warehouse_dsn, registry, sandbox, monkeypatch):
    """A buyer asks about an order bought before any orders window: act loads it over the SP-API."""
    from seller_inbox_dev.sandbox.data import generate_orders

    us = registry().store("us-outdoor")
    set_conn(monkeypatch, sandbox, us)
    order = next(o for o in generate_orders(us.seller_id, NOW - timedelta(days=12), NOW - timedelta(days=10), orders_per_day=12)
                 if o.order_status == "Shipped" or o.order_status == "Delivered")
    add_message(db, us.id, "<asks>", NOW - timedelta(hours=2), order_id=order.amazon_order_id)
    add_message(db, us.id, "<typo>", NOW - timedelta(hours=2), order_id="111-0000000-0000000")
    out = act_on_messages(us, warehouse_dsn, START, END, now=NOW)
    assert {k: out["orders_fetched"][k] for k in ("requested", "loaded", "not_found")} == {
        "requested": 2, "loaded": 1, "not_found": 1}
    rows = {r[0]: r for r in _outbox(db)}
    assert rows["<asks>"][1:3] == ("auto", "queued") and rows["<asks>"][4] == "order_status"
    assert order.amazon_order_id in rows["<asks>"][6]
    assert rows["<typo>"][1:3] == ("draft", "pending_approval")  # no facts: a person answers


def test_rerun_and_backfill_never_queue_twice(db, warehouse_dsn, registry):
    us = registry().store("us-outdoor")
    add_order(db, us.id, "111-0000001-0000001", NOW - timedelta(days=3))
    add_message(db, us.id, "<1>", NOW - timedelta(hours=2))
    act_on_messages(us, warehouse_dsn, START, END, now=NOW, fetch_orders=False)
    first = _outbox(db)
    act_on_messages(us, warehouse_dsn, START, END, now=NOW + timedelta(minutes=5), fetch_orders=False)
    assert _outbox(db) == first and len(first) == 1


def test_backfill_of_old_mail_sends_nothing(db, warehouse_dsn, registry):
    us = registry().store("us-outdoor")
    old = NOW - timedelta(days=5)
    add_order(db, us.id, "111-0000001-0000001", old - timedelta(days=3))
    add_message(db, us.id, "<old>", old)
    act_on_messages(us, warehouse_dsn, old - timedelta(hours=1), old + timedelta(hours=1), now=NOW, fetch_orders=False)
    ((mid, mode, status, reason, *_),) = _outbox(db)
    assert (mode, status) == ("auto", "expired") and reason.startswith("stale")


def test_a_backfill_run_never_queues_a_send(db, warehouse_dsn, registry):
    """Even a fresh message re-processed by a backfill waits for a person; stale ones expire."""
    us = registry().store("us-outdoor")
    add_order(db, us.id, "111-0000001-0000001", NOW - timedelta(days=3))
    add_message(db, us.id, "<fresh>", NOW - timedelta(hours=2))
    add_message(db, us.id, "<stale>", NOW - timedelta(hours=2 + us.max_reply_age_hours))
    act_on_messages(us, warehouse_dsn, NOW - timedelta(days=3), END, now=NOW, fetch_orders=False, backfill=True)
    rows = {r[0]: r[1:4] for r in _outbox(db)}
    assert rows["<fresh>"] == ("draft", "pending_approval", "backfill run: never sends by itself, a person decides")
    assert rows["<stale>"][:2] == ("auto", "expired")


def test_replies_carry_what_delivery_needs(db, warehouse_dsn, registry):
    us = registry().store("us-outdoor")
    add_order(db, us.id, "111-0000001-0000001", NOW - timedelta(days=3))
    add_message(db, us.id, "<q@relay>", NOW - timedelta(hours=2))
    act_on_messages(us, warehouse_dsn, START, END, now=NOW, fetch_orders=False)
    with db.cursor() as cur:
        cur.execute("SELECT channel, marketplace, in_reply_to, expires_at, outbound_id FROM core.outbox")
        assert cur.fetchall() == [("smtp", "US", "<q@relay>", NOW - timedelta(hours=2 + 36) + timedelta(hours=72), None)]


def test_kill_switch_is_read_at_send_time_not_when_queued(db, warehouse_dsn, registry):
    """act queues as usual; the deliverer holds it while the switch is on (tests/integration/test_delivery.py)."""
    us = registry(global_kill_switch=True).store("us-outdoor")
    add_order(db, us.id, "111-0000001-0000001", NOW - timedelta(days=3))
    add_message(db, us.id, "<1>", NOW - timedelta(hours=2))
    act_on_messages(us, warehouse_dsn, START, END, now=NOW, fetch_orders=False)
    ((_, mode, status, reason, *_),) = _outbox(db)
    assert (mode, status, reason) == ("auto", "queued", None)


def test_replies_are_written_in_the_buyers_language(db, warehouse_dsn, registry):
    eu = registry().store("eu-home")  # order_status: draft
    add_order(db, eu.id, "302-0000001-0000001", NOW - timedelta(days=3), marketplace="FR")
    add_message(db, eu.id, "<fr>", NOW - timedelta(hours=2), marketplace="FR", language="fr",
                order_id="302-0000001-0000001")
    act_on_messages(eu, warehouse_dsn, START, END, now=NOW, fetch_orders=False)
    ((_, mode, status, _, template, locale, body),) = _outbox(db)
    assert (mode, status, template, locale) == ("draft", "pending_approval", "order_status", "fr")
    assert body.startswith("Bonjour")


def test_where_is_my_order_reply_states_carrier_and_tracking_in_the_buyers_language(db, warehouse_dsn, sandbox,
                                                                                       monkeypatch):
    """Orders v0 carries no tracking: act loads the order and its packages (Orders 2026-01-01
    PACKAGES) and the reply names carrier and tracking number, never a past date as the future."""
    from seller_inbox.orders import order_facts
    from seller_inbox_dev.sandbox.data import delivery, generate_orders, packages

    from tests.integration.conftest_spapi import demo_stores

    sandbox.state.reset()
    now = datetime.now(timezone.utc).replace(microsecond=0)
    seed = sandbox.state.config.seed
    stores = demo_stores()
    cases = []
    for store_id, mkt, lang, greeting in (("us-outdoor", "US", "en", "Hello"), ("eu-home", "DE", "de", "Guten Tag")):
        store = stores[store_id]
        set_conn(monkeypatch, sandbox, store)
        # from 14 days back: 9 days held no delivered DE parcel at some hours (scan over 2 years: 0 vs >= 6)
        shipped = [o for o in generate_orders(store.seller_id, now - timedelta(days=14), now - timedelta(days=2), seed,
                                              as_of=now, orders_per_day=sandbox.state.config.orders_per_day)
                   if o.fulfillment_channel == "MFN" and o.order_status == "Shipped" and o.marketplace == mkt]
        on_way = next(o for o in shipped if (delivery(o, seed).delivered_at or now) > now + timedelta(hours=1))
        arrived = next(o for o in shipped if (delivery(o, seed).delivered_at or now) < now - timedelta(hours=1))
        for n, o in enumerate((on_way, arrived)):
            add_message(db, store_id, f"<{store_id}-{n}>", now - timedelta(hours=1), marketplace=mkt, language=lang,
                        order_id=o.amazon_order_id)
            cases.append((store, o, f"<{store_id}-{n}>", greeting))
        out = act_on_messages(store, warehouse_dsn, now - timedelta(hours=2), now, now=now)
        assert out["orders_fetched"]["loaded"] == 2 and out["orders_fetched"]["packages_checked"] == 2
    rows = {r[0]: r for r in _outbox(db)}
    delivered = []
    for store, o, mid, greeting in cases:
        _, mode, status, _, template, locale, body = rows[mid]
        assert template == "order_status" and body.startswith(greeting), body
        assert (mode, status) == (("auto", "queued") if store.id == "us-outdoor" else ("draft", "pending_approval"))
        p = packages(o, seed)[0]
        assert p.carrier in body and p.tracking_number in body, body
        with db.cursor() as cur:
            facts = order_facts(cur, store.id, o.amazon_order_id)
        today = now.astimezone(store.marketplace(o.marketplace).zone).date()
        end = facts["delivery_window_end"].astimezone(store.marketplace(o.marketplace).zone).date()
        if facts["delivered_at"] is not None:      # delivered: said so, no promise
            delivered.append(mid)
            assert ("delivered" in body if locale == "en" else "zugestellt" in body), body
        elif end < today:                          # a window already past is never a promise
            assert "should arrive" not in body and "sollte" not in body, body
    assert len(delivered) == 2   # both stores' arrived parcels were read as delivered
