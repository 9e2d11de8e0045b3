"""Proactive messages through the Messaging API: only a type Amazon offers now, in the buyer's
language, within the type's limits, exactly once; crashes and Amazon's failures settle safely.
Real simulator over HTTP, real PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from seller_inbox.domain import marketplaces as mp
from seller_inbox.delivery import messaging
from seller_inbox_dev.sandbox.data import delivery, generate_orders
from seller_inbox.spapi import SpApiThrottled
from seller_inbox.spapi.hook import store_client
from tests.integration.conftest_spapi import rows, sandbox, stores  # noqa: F401 (fixtures)

UTC = timezone.utc
SELLER = "A2DEMOEUHOME"
TEXT_DE = ("Guten Tag, Ihre Bestellung {oid} ist unterwegs. Bitte teilen Sie uns mit, ob die Zustellung "
           "an Ihre Adresse am Donnerstag möglich ist.")


def hook(store, dsn):
    return store_client(store, dsn)


def buyer_locale(o) -> str:
    """The simulator's GetAttributes answer (a few buyers browse in English)."""
    lang = mp.get(o.marketplace).language
    return "en-GB" if (lang != "en" and int(o.amazon_order_id[-2:]) < 8) else f"{lang}-{o.marketplace}"


def recent_orders(sandbox, days_ago_from=8, days_ago_to=0):
    """Orders as they stand now. The default window holds at least four German-reading DE orders
    in transit and a dozen shipped AFN ones at every half hour of 90 days scanned (a 4-to-2-day
    window held none at some hours of some days, so a test passed or failed by the clock)."""
    now = datetime.now(UTC)
    return generate_orders(SELLER, now - timedelta(days=days_ago_from), now - timedelta(days=days_ago_to),
                           sandbox.state.config.seed, as_of=now, orders_per_day=sandbox.state.config.orders_per_day)


def in_transit(sandbox, o) -> bool:
    d = delivery(o, sandbox.state.config.seed)
    now = datetime.now(UTC)
    return (o.fulfillment_channel == "MFN" and o.order_status == "Shipped" and now < o.latest_delivery_date
            and not (d.delivered_at is not None and now >= d.delivered_at))


def queue(db, o, kind, text, locale):
    with db.cursor() as cur:
        assert messaging.queue_proactive(cur, "eu-home", o.amazon_order_id, kind, marketplace=o.marketplace,
                                         body=text, locale=locale, template="delivery_confirmation")
    return row(db, o, kind)


def row(db, o, kind):
    r = rows(db, "SELECT idempotency_key, order_id, marketplace, locale, body, action, channel, status, mode "
                 "FROM core.outbox WHERE idempotency_key = %s", messaging.idempotency_key("eu-home", o.amazon_order_id,
                                                                                           kind))[0]
    return dict(zip(("idempotency_key", "order_id", "marketplace", "locale", "body", "action", "channel", "status",
                     "mode"), r))


def sent(sandbox):
    return [m for m in sandbox.state.mutations(SELLER) if m["type"] == "message"]


def test_queue_checks_the_type_limits_and_keys_once(sandbox, stores, db):
    o = recent_orders(sandbox)[0]
    r = queue(db, o, "confirmDeliveryDetails", TEXT_DE.format(oid=o.amazon_order_id), "de-DE")
    assert (r["action"], r["channel"], r["status"], r["mode"]) == ("proactive", "messaging", "queued", "auto")
    assert r["idempotency_key"] == f"proactive:eu-home:{o.amazon_order_id}:confirmDeliveryDetails"
    with db.cursor() as cur:
        assert not messaging.queue_proactive(cur, "eu-home", o.amazon_order_id, "confirmDeliveryDetails",
                                             marketplace="DE", body="Noch einmal", locale="de-DE")
        for kind, text, what in (("confirmDeliveryDetails", "x" * 2001, "2001 characters; the limit is 2000"),
                                 ("digitalAccessKey", "x" * 401, "the limit is 400"),
                                 ("legalDisclosure", "siehe Anhang", "carries documents"),
                                 ("unexpectedProblem", "  ", "needs a text"),
                                 ("freeText", "hallo", "unknown message type")):
            with pytest.raises(ValueError) as e:
                messaging.queue_proactive(cur, "eu-home", o.amazon_order_id, kind, marketplace="DE", body=text,
                                          locale="de-DE")
            assert what in str(e.value) and "eu-home" in str(e.value) and "\n" not in str(e.value)


def test_sent_once_in_the_buyers_language(sandbox, stores, db, warehouse_dsn):
    store = stores["eu-home"]
    o = next(x for x in recent_orders(sandbox) if in_transit(sandbox, x) and x.marketplace == "DE"
             and buyer_locale(x) == "de-DE")
    r = queue(db, o, "confirmDeliveryDetails", TEXT_DE.format(oid=o.amazon_order_id), "de-DE")
    h = hook(store, warehouse_dsn)
    try:
        assert messaging.already_done(h, store, r) is False           # never started
        res = messaging.send_proactive(h, store, r)
        assert res["status"] == "sent"
        got = sent(sandbox)
        assert [(m["kind"], m["amazon_order_id"], m["text"]) for m in got] == [
            ("confirmDeliveryDetails", o.amazon_order_id, r["body"])]
        assert res["request_id"] == got[0]["request_id"]
        assert messaging.already_done(h, store, r) is True
        assert messaging.send_proactive(h, store, r)["status"] == "done_already"
    finally:
        h.close()
    assert len(sent(sandbox)) == 1


def test_only_types_offered_now(sandbox, stores, db, warehouse_dsn):
    store = stores["eu-home"]
    delivered = next(x for x in recent_orders(sandbox, 20, 12) if x.fulfillment_channel == "MFN"
                     and x.order_status == "Shipped" and not in_transit(sandbox, x) and x.marketplace == "DE"
                     and buyer_locale(x) == "de-DE")
    afn = next(x for x in recent_orders(sandbox) if x.fulfillment_channel == "AFN" and x.marketplace == "DE"
               and x.order_status == "Shipped" and buyer_locale(x) == "de-DE")
    h = hook(store, warehouse_dsn)
    try:
        for o in (delivered, afn):
            r = queue(db, o, "confirmDeliveryDetails", TEXT_DE.format(oid=o.amazon_order_id), "de-DE")
            res = messaging.send_proactive(h, store, r)
            assert res["status"] == "not_offered" and "confirmDeliveryDetails" in res["reason"]
        # unexpectedProblem is offered for the delivered order
        r = queue(db, delivered, "unexpectedProblem",
                  f"Zu Ihrer Bestellung {delivered.amazon_order_id}: ein Teil wird getrennt nachgeliefert.", "de-DE")
        assert messaging.send_proactive(h, store, r)["status"] == "sent"
    finally:
        h.close()
    assert [m["kind"] for m in sent(sandbox)] == ["unexpectedProblem"]


def test_wrong_language_or_forbidden_text_is_never_sent(sandbox, stores, db, warehouse_dsn):
    store = stores["eu-home"]
    shipped = [x for x in recent_orders(sandbox, 20, 2) if x.order_status == "Shipped" and x.marketplace == "DE"]
    english_reader = next(x for x in shipped if buyer_locale(x) == "en-GB")
    german_reader = next(x for x in shipped if buyer_locale(x) == "de-DE")
    kind = "unexpectedProblem"
    h = hook(store, warehouse_dsn)
    try:
        r = queue(db, english_reader, kind, f"Zu Ihrer Bestellung {english_reader.amazon_order_id}: sie verspätet "
                                            "sich um einen Tag.", "de-DE")
        res = messaging.send_proactive(h, store, r)
        assert res["status"] == "failed" and "en-GB" in res["reason"]
        r = queue(db, german_reader, kind,
                  f"Bestellung {german_reader.amazon_order_id}: schreiben Sie an lager@example.de", "de-DE")
        res = messaging.send_proactive(h, store, r)
        assert res["status"] == "failed" and res["reason"].startswith("compliance:")
        long = dict(r, body="x" * 2001)
        assert "limit is 2000" in messaging.send_proactive(h, store, long)["reason"]
    finally:
        h.close()
    assert sent(sandbox) == []


def test_amazon_failures_never_send_twice(sandbox, stores, db, warehouse_dsn):
    store = stores["eu-home"]
    transit = [x for x in recent_orders(sandbox) if in_transit(sandbox, x) and x.marketplace == "DE"
               and buyer_locale(x) == "de-DE"]
    a, b, c = transit[:3]
    op = "createConfirmDeliveryDetails"
    h = hook(store, warehouse_dsn)
    try:
        # 5xx on the send: outcome unknown, failed for good, never sent again
        sandbox.state.faults.add("error", SELLER, op, status=500, count=1)
        ra = queue(db, a, "confirmDeliveryDetails", TEXT_DE.format(oid=a.amazon_order_id), "de-DE")
        res = messaging.send_proactive(h, store, ra)
        assert res["status"] == "failed" and "outcome unknown" in res["reason"]
        assert messaging.already_done(h, store, ra) is None
        # 429 beyond every retry: nothing was taken; already_done says send again
        sandbox.state.faults.add("throttle", SELLER, op)
        rb = queue(db, b, "confirmDeliveryDetails", TEXT_DE.format(oid=b.amazon_order_id), "de-DE")
        with pytest.raises(SpApiThrottled):
            messaging.send_proactive(h, store, rb)
        sandbox.state.faults.clear()
        assert messaging.already_done(h, store, rb) is False
        assert messaging.send_proactive(h, store, rb)["status"] == "sent"
        # 403 (withdrawn by Amazon between the check and the send): not offered, not retried
        sandbox.state.faults.add("deny", SELLER, op, count=2)
        rc = queue(db, c, "confirmDeliveryDetails", TEXT_DE.format(oid=c.amazon_order_id), "de-DE")
        assert messaging.send_proactive(h, store, rc)["status"] == "not_offered"
    finally:
        h.close()
    assert [m["amazon_order_id"] for m in sent(sandbox)] == [b.amazon_order_id]
    phases = dict(rows(db, "SELECT order_id, phase FROM ops.spapi_sends"))
    assert phases == {a.amazon_order_id: "unknown", b.amazon_order_id: "accepted", c.amazon_order_id: "refused"}


# ------------------------------------------------------------------ the daily delivery-confirmation scan
KIND = "confirmDeliveryDetails"
TRACKING_WORD = {"de": "Sendungsnummer", "en": "tracking number", "fr": "numéro de suivi", "it": "numero di tracking",
                 "es": "número de seguimiento"}


@pytest.fixture
def opted_in(sandbox, stores, db, warehouse_dsn):
    """eu-home opted in to delivery confirmations, its orders of the last 20 days in the warehouse
    with packages; returns (store, {order id: simulated order})."""
    from seller_inbox.orders import ingest_orders

    store = stores["eu-home"].model_copy(update={"proactive": [KIND]})
    now = datetime.now(UTC)
    start, end = now - timedelta(days=20), now - timedelta(minutes=10)
    ingest_orders(store, warehouse_dsn, start, end, orders_api="2026-01-01")
    ids = {r[0] for r in rows(db, "SELECT amazon_order_id FROM raw.orders")}
    sim = {o.amazon_order_id: o for o in generate_orders(
        SELLER, start - timedelta(days=7), now, sandbox.state.config.seed, as_of=now,
        orders_per_day=sandbox.state.config.orders_per_day) if o.amazon_order_id in ids}
    assert set(sim) == ids
    return store, sim


def eligible(sandbox, sim) -> set[str]:
    """Orders Amazon offers a delivery confirmation for now (merchant-fulfilled, on their way)."""
    return {oid for oid, o in sim.items() if in_transit(sandbox, o)}


def confirmations(db) -> dict[str, dict]:
    cols = ("idempotency_key", "action", "channel", "status", "mode", "template", "locale", "marketplace", "body",
            "expires_at")
    return {r[0]: dict(zip(cols, r[1:])) for r in rows(db, f"SELECT order_id, {', '.join(cols)} FROM core.outbox")}


def api_calls(db, op=None) -> int:
    if op is None:
        return rows(db, "SELECT count(*) FROM ops.api_calls")[0][0]
    return rows(db, "SELECT count(*) FROM ops.api_calls WHERE operation = %s", op)[0][0]


def exclude_two(db, sim, oids):
    """A high-risk buyer message on the first order, an opted-out buyer on the second."""
    from tests.integration.rows import add_message

    risky, opted = oids
    add_message(db, "eu-home", "<risk@m>", datetime.now(UTC) - timedelta(hours=3), marketplace=sim[risky].marketplace,
                order_id=risky, intent="other", risk="high", body="I will report you")
    with db.cursor() as cur:
        cur.execute("INSERT INTO core.thread (thread_id, store_id, buyer_alias_hash, order_id) "
                    "VALUES ('t_o', 'eu-home', 'h_optout', %s)", (opted,))
        cur.execute("INSERT INTO core.buyer_opt_out (store_id, buyer_alias_hash, reason) "
                    "VALUES ('eu-home', 'h_optout', 'bounce')")


def test_scan_queues_one_confirmation_per_eligible_order_in_the_buyers_language(opted_in, db, warehouse_dsn,
                                                                                 sandbox):
    from seller_inbox.delivery import proactive_scan
    from seller_inbox.delivery.deliver import deliver_store
    from seller_inbox_dev.sandbox.data import packages

    store, sim = opted_in
    want = eligible(sandbox, sim)
    assert len(want) >= 10
    risky, opted = sorted(want)[:2]
    exclude_two(db, sim, (risky, opted))
    delivered = {oid for oid, o in sim.items() if o.fulfillment_channel == "MFN" and o.order_status == "Shipped"
                 and oid not in want}
    assert delivered
    res = proactive_scan.scan_proactive(store, warehouse_dsn)
    got = confirmations(db)
    assert set(got) == want - {risky, opted} and not set(got) & delivered
    assert res["queued"] == len(got) and res["excluded"] == 2 and res["not_queued"] == 0
    assert res["excluded_by"] == {"high-risk message": 1, "buyer opted out": 1}
    assert res["candidates"] == res["queued"] + res["excluded"] + res["not_offered"] + res["not_found"]
    seed = sandbox.state.config.seed
    for oid, r in got.items():
        o = sim[oid]
        first = packages(o, seed)[0]
        assert r["idempotency_key"] == f"proactive:eu-home:{oid}:{KIND}"
        assert (r["action"], r["channel"], r["status"], r["mode"], r["template"], r["marketplace"]) == (
            "proactive", "messaging", "queued", "auto", "delivery_confirmation", o.marketplace)
        assert r["locale"] == buyer_locale(o)                                  # GetAttributes, not the marketplace
        lang = r["locale"].split("-")[0]
        assert f"{TRACKING_WORD[lang]} {first.tracking_number}" in r["body"] and first.carrier in r["body"]
        assert oid in r["body"] and r["expires_at"] == o.purchase_date + timedelta(days=30)
    assert {buyer_locale(sim[oid]) for oid in got} > {"en-GB", "de-DE"}       # several languages, English readers too
    assert sandbox.state.mutations(SELLER) == []                               # the scan only queues
    # a rerun asks Amazon about nothing already queued and queues nothing twice
    asked = api_calls(db, "getMessagingActionsForOrder")
    again = proactive_scan.scan_proactive(store, warehouse_dsn, refresh=False)
    assert again["queued"] == 0 and confirmations(db) == got
    assert again["candidates"] == res["candidates"] - res["queued"] and again["excluded"] == 2
    assert api_calls(db, "getMessagingActionsForOrder") - asked == again["candidates"] - 2   # excluded: never asked
    # the deliverer sends each once, the text as queued
    noon = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)   # outside quiet hours
    h = hook(store, warehouse_dsn)
    try:
        deliver_store(store, warehouse_dsn, now=noon, sp_client=h)
        deliver_store(store, warehouse_dsn, now=noon + timedelta(minutes=5), sp_client=h)
    finally:
        h.close()
    out = sent(sandbox)
    assert sorted((m["amazon_order_id"], m["kind"], m["text"]) for m in out) == sorted(
        (oid, KIND, r["body"]) for oid, r in got.items())
    assert dict(rows(db, "SELECT status, count(*) FROM core.outbox GROUP BY 1")) == {"sent": len(got)}


def test_quiet_hours_hold_confirmations_until_morning(opted_in, db, warehouse_dsn, sandbox):
    from seller_inbox.delivery import proactive_scan
    from seller_inbox.delivery.deliver import deliver_store

    store, sim = opted_in
    queued = proactive_scan.scan_proactive(store, warehouse_dsn)["queued"]
    assert queued > 0
    berlin = store.marketplaces[0].zone
    today = datetime.now(berlin).date()
    night = datetime(today.year, today.month, today.day, 22, 30, tzinfo=berlin)
    morning = datetime(today.year, today.month, today.day, 8, 0, tzinfo=berlin) + timedelta(days=1)
    h = hook(store, warehouse_dsn)
    try:
        res = deliver_store(store, warehouse_dsn, now=night, sp_client=h)
        assert res.get("held") == queued and sent(sandbox) == []
        held = rows(db, "SELECT DISTINCT status, held_until FROM core.outbox")
        assert held == [("held", morning.astimezone(UTC))]                # DE/FR/IT/ES share the zone's clock
        assert deliver_store(store, warehouse_dsn, now=morning - timedelta(minutes=5), sp_client=h).get("sent", 0) == 0
        res = deliver_store(store, warehouse_dsn, now=morning, sp_client=h)
    finally:
        h.close()
    assert res.get("sent") == queued == len(sent(sandbox))


def test_a_text_the_linter_flags_is_not_queued(sandbox, opted_in, db, warehouse_dsn, caplog):
    from seller_inbox.delivery import proactive_scan

    store, sim = opted_in
    shop = store.model_copy(update={"name": "Home & Kitchen EU, home-kitchen-shop.com"})   # signs with a bare domain
    with caplog.at_level("WARNING", logger="seller_inbox.delivery.proactive_scan"):
        res = proactive_scan.scan_proactive(shop, warehouse_dsn)
    assert res["queued"] == 0 and res["not_queued"] == len(eligible(sandbox, sim)) > 0
    assert res["not_queued_by"] == {"compliance: external_link": res["not_queued"]}
    assert confirmations(db) == {}
    flagged = [r.getMessage() for r in caplog.records if "not queued" in r.getMessage()]
    assert len(flagged) == res["not_queued"] and all("eu-home" in m and "external_link" in m for m in flagged)


def test_a_store_without_the_opt_in_gets_none(sandbox, stores, db, warehouse_dsn, monkeypatch):
    from seller_inbox import clock, stages
    from seller_inbox.delivery import proactive_scan

    store = stores["eu-home"]
    assert store.proactive == []
    assert proactive_scan.scan_proactive(store, warehouse_dsn)["candidates"] == 0
    assert proactive_scan.daily_scan(store, warehouse_dsn)["scan"].startswith("not enabled")
    monkeypatch.setenv(clock.ENV, datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0).isoformat())
    run = stages.RunInfo(dag_id="si_eu-home_deliver", run_id="r", task_id="review_scan")
    out = stages.review_scan(store, warehouse_dsn, None, None, run)
    assert out["proactive"]["scan"].startswith("not enabled")
    assert rows(db, "SELECT count(*) FROM core.outbox WHERE action = 'proactive'") == [(0,)]
    assert api_calls(db, "getMessagingActionsForOrder") == api_calls(db, "GetAttributes") == 0
    assert rows(db, "SELECT count(*) FROM ops.proactive_scan_day") == [(0,)]


def test_the_deliver_dag_scans_once_a_day_and_the_second_scan_calls_nothing(opted_in, db, warehouse_dsn, sandbox,
                                                                           monkeypatch):
    """The deliver DAG's review_scan task runs both daily scans: from 08:00 in Berlin, once per
    local day; later runs that day make no API call at all."""
    from seller_inbox import clock, stages

    store, sim = opted_in
    run = stages.RunInfo(dag_id="si_eu-home_deliver", run_id="r", task_id="review_scan")
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)

    def at(t: datetime, stage: str = "review_scan") -> dict:
        monkeypatch.setenv(clock.ENV, t.isoformat())
        return getattr(stages, stage)(store, warehouse_dsn, None, None, run)

    calls = api_calls(db)
    early = at(day + timedelta(hours=6, minutes=30))                          # 07:30 in Berlin
    assert early["proactive"]["scan"].startswith("waits") and api_calls(db) == calls
    first = at(day + timedelta(hours=9))
    assert first["scan"] == "ran" and first["proactive"]["scan"] == "ran"
    assert first["proactive"]["packages_checked"] == 0                       # the review scan just refreshed them
    assert first["proactive"]["queued"] == len([r for r in confirmations(db).values()
                                                if r["action"] == "proactive"]) > 0
    calls = api_calls(db)
    for minutes in (5, 10, 600):
        later = at(day + timedelta(hours=9, minutes=minutes))
        assert later["scan"] == later["proactive"]["scan"] == "done today"
    assert api_calls(db) == calls
    assert rows(db, "SELECT local_day, complete FROM ops.proactive_scan_day") == [(day.date(), True)]
    # the deliver stage sends them once each
    at(day + timedelta(hours=10), "deliver")
    at(day + timedelta(hours=10, minutes=5), "deliver")
    made = [m["amazon_order_id"] for m in sent(sandbox)]
    assert len(made) == len(set(made)) == first["proactive"]["queued"]


def test_the_text_follows_the_buyers_language_else_the_marketplaces():
    from seller_inbox.delivery.proactive_scan import compose
    from tests.integration.conftest_spapi import demo_stores

    store = demo_stores()["eu-home"]
    fr = store.marketplace("FR")
    now = datetime.now(UTC)
    facts = {"order_id": "405-1234567-1234567", "status": "Shipped", "ship_by": now - timedelta(days=2),
             "ship_date": now - timedelta(days=1), "carrier": "Colissimo", "tracking_number": "6A12345678901",
             "delivery_window_start": now + timedelta(days=1), "delivery_window_end": now + timedelta(days=3),
             "delivered_at": None, "return_window_end": None}
    body, locale, problem = compose(store, fr, facts, None, now)               # GetAttributes gave no locale
    assert (locale, problem) == ("fr", None) and "numéro de suivi 6A12345678901" in body and "Colissimo" in body
    body, locale, problem = compose(store, fr, facts, "en-GB", now)
    assert (locale, problem) == ("en-GB", None) and "tracking number 6A12345678901" in body
    body, locale, problem = compose(store, fr, facts, "nl-NL", now)            # no template in Dutch: not queued
    assert body is None and problem == "no delivery_confirmation template in the buyer's language"
