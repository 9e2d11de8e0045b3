"""Review requests: the daily scan queues exactly the orders Amazon offers (5-30 days after
delivery), never excluded ones, once; the send goes once, 403 counts as done, crashes settle.
Real simulator over HTTP, real PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from seller_inbox.delivery import review_scan, solicitations
from seller_inbox.orders import ingest_orders
from seller_inbox_dev.sandbox.data import generate_orders, solicitation_window
from seller_inbox.spapi import SpApiUnavailable
from seller_inbox.spapi.hook import store_client
from tests.integration.conftest_spapi import rows, sandbox, stores  # noqa: F401 (fixtures)
from tests.integration.rows import add_message

UTC = timezone.utc
SELLER = "A2DEMOEUHOME"


def hook(store, dsn):
    return store_client(store, dsn)


@pytest.fixture
def loaded(sandbox, stores, db, warehouse_dsn):
    """eu-home's orders of the last 45 days (to 3 days ago) in the warehouse, with packages;
    returns (store, {order id: simulated order})."""
    store = stores["eu-home"]
    now = datetime.now(UTC)
    start, end = now - timedelta(days=45), now - timedelta(days=3)
    ingest_orders(store, warehouse_dsn, start, end, orders_api="2026-01-01")
    ids = {r[0] for r in rows(db, "SELECT amazon_order_id FROM raw.orders")}
    sim = {o.amazon_order_id: o for o in generate_orders(
        SELLER, start - timedelta(days=7), end, sandbox.state.config.seed, as_of=now,
        orders_per_day=sandbox.state.config.orders_per_day) if o.amazon_order_id in ids}
    assert set(sim) == ids
    return store, sim


def offered_now(sim, seed=42):
    now = datetime.now(UTC)
    out = set()
    for oid, o in sim.items():
        w = solicitation_window(o, seed)
        if o.order_status == "Shipped" and w is not None and w[0] <= now <= w[1]:
            out.add(oid)
    return out


def queued(db):
    return {r[0]: r[1:] for r in rows(db, """SELECT order_id, idempotency_key, action, channel, status, mode,
                                                    marketplace, expires_at FROM core.outbox""")}


def actions_asked(db):
    return rows(db, "SELECT count(*) FROM ops.api_calls WHERE operation = 'getSolicitationActionsForOrder'")[0][0]


def test_scan_queues_what_amazon_offers_once(loaded, db, warehouse_dsn, sandbox):
    store, sim = loaded
    want = offered_now(sim)
    assert len(want) > 20
    res = review_scan.scan_review_requests(store, warehouse_dsn)
    got = queued(db)
    assert set(got) == want and res["queued"] == len(want) and res["excluded"] == 0
    assert res["candidates"] == res["queued"] + res["not_offered"] + res["not_found"]
    for oid, (key, action, channel, status, mode, mkt, expires) in got.items():
        assert key == f"review_request:eu-home:{oid}" and (action, channel, status, mode) == (
            "review_request", "solicitations", "queued", "auto")
        assert mkt == sim[oid].marketplace and expires >= solicitation_window(sim[oid])[1] - timedelta(days=1)
    # the scan only asks; it sends nothing
    assert sandbox.state.mutations(SELLER) == []
    # a rerun queues nothing again and does not ask Amazon about queued orders again
    asked = actions_asked(db)
    again = review_scan.scan_review_requests(store, warehouse_dsn)
    assert again["queued"] == 0 and queued(db) == got
    assert actions_asked(db) - asked == again["candidates"] == res["candidates"] - res["queued"]


def test_every_exclusion_blocks_its_order(loaded, db, warehouse_dsn):
    store, sim = loaded
    want = sorted(offered_now(sim))
    assert len(want) >= 8
    now = datetime.now(UTC)
    o_return, o_atoz, o_risk, o_bounce, o_optout, o_damaged, o_fine, o_undeliv = want[:8]

    def msg(oid, mid, **kw):
        add_message(db, "eu-home", mid, now - timedelta(days=2), marketplace=sim[oid].marketplace, order_id=oid, **kw)

    msg(o_return, "<r1@m>", intent="return_refund", risk="medium", body="I want to send it back")
    msg(o_atoz, "<a1@m>", kind="amazon_notice", intent="a_to_z_claim", risk="high", body="A-to-z claim filed")
    msg(o_risk, "<k1@m>", intent="other", risk="high", body="I will report you")
    msg(o_damaged, "<d1@m>", intent="damaged_defective", risk="medium", body="It arrived broken")
    msg(o_fine, "<f1@m>", intent="order_status", risk="low", body="Thanks, all good")   # not an exclusion
    with db.cursor() as cur:
        # the opt-out bounce answers the seller's reply in the buyer's thread (no alias of its own)
        cur.execute("INSERT INTO core.thread (thread_id, store_id, buyer_alias_hash, order_id) VALUES "
                    "('t_b', 'eu-home', 'h_bounce', %s), ('t_o', 'eu-home', 'h_optout', %s)", (o_bounce, o_optout))
        cur.execute("""INSERT INTO core.message (store_id, message_id, thread_id, kind, direction, order_id,
                           received_at) VALUES ('eu-home', '<reply1@store>', 't_b', 'seller_reply', 'outbound', %s,
                           now() - interval '3 days')""", (o_bounce,))
        cur.execute("""INSERT INTO core.message (store_id, message_id, kind, direction, in_reply_to, subject,
                           body_text, received_at) VALUES ('eu-home', '<dsn1@mx>', 'auto_reply', 'inbound',
                           '<reply1@store>', 'Undelivered Mail Returned to Sender',
                           'Your message could not be delivered: the recipient has opted out of unsolicited messages.',
                           now() - interval '2 days')""")
        # an unrelated bounce (another buyer) excludes nothing
        cur.execute("""INSERT INTO core.message (store_id, message_id, kind, direction, body_text, received_at)
                       VALUES ('eu-home', '<dsn2@mx>', 'auto_reply', 'inbound',
                               'the recipient has opted out of unsolicited messages', now())""")
        cur.execute("INSERT INTO core.buyer_opt_out (store_id, buyer_alias_hash, reason) VALUES "
                    "('eu-home', 'h_optout', 'bounce')")
        cur.execute("UPDATE raw.orders SET order_status = 'Shipped' WHERE amazon_order_id = %s", (o_undeliv,))
        cur.execute("""INSERT INTO raw.order_packages (amazon_order_id, package_reference_id, store_id,
                           package_status) VALUES (%s, 'x9', 'eu-home', 'UNDELIVERABLE')""", (o_undeliv,))
    res = review_scan.scan_review_requests(store, warehouse_dsn, refresh=False)
    got = set(queued(db))
    blocked = {o_return, o_atoz, o_risk, o_bounce, o_optout, o_damaged, o_undeliv}
    assert not got & blocked and o_fine in got and got == set(want) - blocked
    with db.cursor() as cur:
        reasons = {oid: review_scan.exclusion(cur, "eu-home", oid) for oid in want[:8]}
    assert reasons == {o_return: "message: return_refund", o_atoz: "message: a_to_z_claim",
                       o_risk: "high-risk message", o_bounce: "opt-out bounce", o_optout: "buyer opted out",
                       o_damaged: "message: damaged_defective", o_fine: None,
                       o_undeliv: "package undeliverable"}
    # the undeliverable parcel is not even a candidate
    assert res["excluded"] == 6 and sum(res["excluded_by"].values()) == 6


def test_send_exactly_once_and_403_is_done(loaded, db, warehouse_dsn, sandbox):
    store, sim = loaded
    review_scan.scan_review_requests(store, warehouse_dsn)
    got = queued(db)
    a, b, c, d = sorted(got)[:4]
    row = {oid: {"idempotency_key": got[oid][0], "order_id": oid, "marketplace": got[oid][5]} for oid in (a, b, c, d)}
    h = hook(store, warehouse_dsn)
    try:
        assert solicitations.already_done(h, store, row[a]) is False          # never started
        r = solicitations.send_review_request(h, store, row[a])
        sent = [m for m in sandbox.state.mutations(SELLER) if m["type"] == "solicitation"]
        assert r["status"] == "sent" and len(sent) == 1 and sent[0]["amazon_order_id"] == a
        assert r["request_id"] == sent[0]["request_id"]
        assert solicitations.already_done(h, store, row[a]) is True
        again = solicitations.send_review_request(h, store, row[a])
        assert again["status"] == "done_already"
        # without our journal, Amazon's own once-per-order rule holds: no longer offered
        with db.cursor() as cur:
            cur.execute("DELETE FROM ops.spapi_sends")
        assert solicitations.send_review_request(h, store, row[a])["status"] == "not_offered"
        assert solicitations.already_done(h, store, row[a]) is False     # no journal row: never started here
        # 403 from Amazon (sent from Seller Central meanwhile): done, never retried
        sandbox.state.faults.add("deny", SELLER, solicitations.OPERATION, count=2)
        r = solicitations.send_review_request(h, store, row[b])
        assert r["status"] == "done_already" and "403" in r["reason"]
        assert solicitations.already_done(h, store, row[b]) is False     # the send answers done again
        # a 5xx: outcome unknown, raised; Amazon still offers it, so it was not taken: sent once later
        sandbox.state.faults.add("error", SELLER, solicitations.OPERATION, status=503, count=1)
        with pytest.raises(SpApiUnavailable):
            solicitations.send_review_request(h, store, row[c])
        assert solicitations.already_done(h, store, row[c]) is False
        assert solicitations.send_review_request(h, store, row[c])["status"] == "sent"
        # a crash right after Amazon took it (journal says calling): Amazon no longer offers it -> done
        j = solicitations.Journal(h)
        j.begin(row[d]["idempotency_key"], "eu-home", solicitations.OPERATION, d)
        h.create_solicitation(d, solicitations.marketplace_id(store, row[d]))
        assert solicitations.already_done(h, store, row[d]) is True
    finally:
        h.close()
    per_order = {}
    for m in sandbox.state.mutations(SELLER):
        per_order[m["amazon_order_id"]] = per_order.get(m["amazon_order_id"], 0) + 1
    assert per_order == {a: 1, c: 1, d: 1}


def test_exclusions_are_checked_again_at_send_time(loaded, db, warehouse_dsn, sandbox):
    store, sim = loaded
    review_scan.scan_review_requests(store, warehouse_dsn)
    oid, (key, *_rest) = sorted(queued(db).items())[0]
    add_message(db, "eu-home", "<late@m>", datetime.now(UTC), marketplace=sim[oid].marketplace, order_id=oid,
                intent="not_received", risk="high", body="Where is it? Nothing arrived")
    h = hook(store, warehouse_dsn)
    try:
        r = solicitations.send_review_request(h, store, {"idempotency_key": key, "order_id": oid,
                                                         "marketplace": sim[oid].marketplace})
    finally:
        h.close()
    assert r == {"status": "not_offered", "reason": "excluded: message: not_received", "request_id": None}
    assert sandbox.state.mutations(SELLER) == []


def test_scan_when_amazon_fails_defers_and_catches_up(loaded, db, warehouse_dsn, sandbox):
    store, sim = loaded
    sandbox.state.faults.add("error", SELLER, "getSolicitationActionsForOrder", status=503, after=3)
    res = review_scan.scan_review_requests(store, warehouse_dsn)
    assert res["deferred"] == res["candidates"] - 3 > 0
    assert res["queued"] + res["not_offered"] + res["not_found"] == 3 and len(queued(db)) == res["queued"]
    sandbox.state.faults.clear()
    res2 = review_scan.scan_review_requests(store, warehouse_dsn)
    assert set(queued(db)) == offered_now(sim) and res2["queued"] == len(offered_now(sim)) - res["queued"]


def test_the_deliverer_sends_each_queued_request_once(loaded, db, warehouse_dsn, sandbox):
    """The contract with the deliverer: rows queued by the scan go out through deliver_store,
    once each, and a second run sends nothing."""
    from seller_inbox.delivery.deliver import deliver_store

    store, sim = loaded
    res = review_scan.scan_review_requests(store, warehouse_dsn)
    noon = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)   # outside quiet hours
    h = hook(store, warehouse_dsn)
    try:
        deliver_store(store, warehouse_dsn, now=noon, sp_client=h)
        deliver_store(store, warehouse_dsn, now=noon + timedelta(minutes=5), sp_client=h)
    finally:
        h.close()
    out = dict(rows(db, "SELECT status, count(*) FROM core.outbox GROUP BY 1"))
    made = [m["amazon_order_id"] for m in sandbox.state.mutations(SELLER) if m["type"] == "solicitation"]
    assert len(made) == len(set(made)) == out.get("sent", 0) > 0
    assert sum(out.values()) == res["queued"]


def test_the_deliver_dag_scans_once_a_day_after_eight_and_sends_through_the_deliver_stage(loaded, db, warehouse_dsn,
                                                                                          sandbox, monkeypatch):
    """The deliver DAG's review_scan task runs on every deliver run; it scans once per local day,
    from 08:00 in the store's first marketplace (Berlin), and the deliver stage sends the rows."""
    from seller_inbox import clock, stages

    store, sim = loaded
    run = stages.RunInfo(dag_id="si_eu-home_deliver", run_id="r", task_id="review_scan")
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)

    def at(t: datetime, stage: str) -> dict:
        monkeypatch.setenv(clock.ENV, t.isoformat())
        return getattr(stages, stage)(store, warehouse_dsn, None, None, run)

    early = at(day + timedelta(hours=6, minutes=30), "review_scan")      # 07:30 in Berlin
    assert early["scan"].startswith("waits") and queued(db) == {} and actions_asked(db) == 0
    first = at(day + timedelta(hours=9), "review_scan")                   # 10:00 in Berlin
    assert first["scan"] == "ran" and first["queued"] == len(queued(db)) > 0 and first["packages_checked"] >= 0
    asked = actions_asked(db)
    for minutes in (5, 10, 600):                                          # later deliver runs that day
        assert at(day + timedelta(hours=9, minutes=minutes), "review_scan")["scan"] == "done today"
    assert actions_asked(db) == asked
    assert rows(db, "SELECT local_day, complete FROM ops.review_scan_day") == [(day.date(), True)]
    # the deliver stage of a run sends what the scan queued, once each
    out = at(day + timedelta(hours=10), "deliver")
    made = [m["amazon_order_id"] for m in sandbox.state.mutations(SELLER) if m["type"] == "solicitation"]
    assert out.get("sent", 0) == len(made) == len(set(made)) > 0
    at(day + timedelta(hours=10, minutes=5), "deliver")
    assert len([m for m in sandbox.state.mutations(SELLER) if m["type"] == "solicitation"]) == len(made)
    # the next local day scans again (and queues nothing twice)
    nxt = at(day + timedelta(days=1, hours=9), "review_scan")
    assert nxt["scan"] == "ran" and len(rows(db, "SELECT 1 FROM ops.review_scan_day")) == 2


def test_a_scan_cut_short_by_amazon_is_tried_again_after_an_hour(loaded, db, warehouse_dsn, sandbox):
    store, sim = loaded
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    sandbox.state.faults.add("error", SELLER, "getSolicitationActionsForOrder", status=503, after=2)
    cut = review_scan.daily_scan(store, warehouse_dsn, day + timedelta(hours=9))
    assert cut["scan"] == "ran" and cut["deferred"] > 0
    sandbox.state.faults.clear()
    assert review_scan.daily_scan(store, warehouse_dsn, day + timedelta(hours=9, minutes=30))["scan"].startswith("cut short")
    again = review_scan.daily_scan(store, warehouse_dsn, day + timedelta(hours=10, minutes=1))
    assert again["scan"] == "ran" and again["deferred"] == 0
    assert review_scan.daily_scan(store, warehouse_dsn, day + timedelta(hours=12))["scan"] == "done today"
