"""Proactive messages through the Messaging API: only a type Amazon offers now, in the buyer's
language, within the type's limits, exactly once; crashes and Amazon's failures settle safely.
Real simulator over HTTP, real PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from seller_inbox import marketplaces as mp
from seller_inbox.delivery import messaging
from seller_inbox.sandbox.data import delivery, generate_orders
from seller_inbox.spapi import SpApiHook, SpApiThrottled
from tests.integration.conftest_spapi import rows, sandbox, stores  # noqa: F401 (fixtures)

UTC = timezone.utc
SELLER = "A2DEMOEUHOME"
TEXT_DE = ("Guten Tag, Ihre Bestellung {oid} ist unterwegs. Bitte teilen Sie uns mit, ob die Zustellung "
           "an Ihre Adresse am Donnerstag möglich ist.")


def hook(store, dsn):
    return SpApiHook(store.connections.spapi, store_id=store.id, dsn=dsn,
                     marketplace_ids=[m.info.marketplace_id for m in store.marketplaces])


def buyer_locale(o) -> str:
    """The simulator's GetAttributes answer (a few buyers browse in English)."""
    lang = mp.get(o.marketplace).language
    return "en-GB" if (lang != "en" and int(o.amazon_order_id[-2:]) < 8) else f"{lang}-{o.marketplace}"


def recent_orders(sandbox, days_ago_from=4, days_ago_to=2):
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
