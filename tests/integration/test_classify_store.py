"""classify_store_messages on a real PostgreSQL warehouse: columns written, idempotent,
reclassifies when the classifier version changes, leaves other stores and outbound mail alone."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from seller_inbox.classify import classifier_version, classify_store_messages
from seller_inbox.config import StoreConfig

T0 = datetime(2026, 11, 20, tzinfo=timezone.utc)


def store(sid="cl-store"):
    return StoreConfig.model_validate({
        "id": sid, "name": "Classify Test", "seller_id": "A1TEST", "region": "eu",
        "marketplaces": [{"code": "DE"}, {"code": "FR"}],
        "connections": {"spapi": "spapi_x", "mailbox": "mailbox_x", "smtp": "smtp_x"},
    })


def add(db, sid, mid, when, body, *, kind="buyer_message", direction="inbound", marketplace="DE", subject="Anfrage"):
    with db.cursor() as cur:
        cur.execute(
            """INSERT INTO core.message (store_id, message_id, kind, direction, marketplace, subject, body_text, received_at)
               VALUES (%s,%s,%s,%s,%s,%s,%s,%s)""", (sid, mid, kind, direction, marketplace, subject, body, when))


def cols(db, sid):
    with db.cursor() as cur:
        cur.execute("""SELECT message_id, intent, risk, language, confidence, low_confidence, classifier_version,
                              classified_at FROM core.message WHERE store_id = %s ORDER BY message_id""", (sid,))
        return cur.fetchall()


def test_classify_window_idempotent_and_versioned(db, warehouse_dsn):
    s = store()
    add(db, s.id, "<1@x>", T0 + timedelta(hours=1), "Laut Sendungsverfolgung zugestellt, aber ich habe nichts bekommen.")
    add(db, s.id, "<2@x>", T0 + timedelta(hours=2), "Pouvez-vous m'envoyer une facture avec TVA ?", marketplace="FR")
    add(db, s.id, "<3@x>", T0 + timedelta(hours=3), "Ich bin bis Montag nicht im Büro.", kind="auto_reply",
        subject="Automatische Antwort: Ihre Nachricht")
    add(db, s.id, "<4@x>", T0 + timedelta(hours=4), "Danke, wir prüfen das.", kind="seller_reply", direction="outbound")
    add(db, s.id, "<5@x>", T0 + timedelta(hours=30), "Wo ist mein Paket?")  # outside the window
    add(db, "other-store", "<6@x>", T0 + timedelta(hours=1), "Wo ist mein Paket?")
    out = classify_store_messages(s, warehouse_dsn, T0, T0 + timedelta(days=1))
    assert out["classified"] == 3 and out["skipped"] == 0
    assert out["by_intent"] == {"auto_reply": 1, "invoice_request": 1, "not_received": 1}
    assert out["by_risk"] == {"high": 1, "low": 2}
    rows = {r[0]: r for r in cols(db, s.id)}
    assert rows["<1@x>"][1:4] == ("not_received", "high", "de")
    assert rows["<2@x>"][1:4] == ("invoice_request", "low", "fr")
    assert rows["<3@x>"][1:4] == ("auto_reply", "low", "de")
    assert rows["<1@x>"][6] == classifier_version() and rows["<1@x>"][7] is not None
    assert rows["<4@x>"][1] is None and rows["<5@x>"][1] is None  # outbound / outside window untouched
    assert cols(db, "other-store")[0][1] is None
    before = cols(db, s.id)
    again = classify_store_messages(s, warehouse_dsn, T0, T0 + timedelta(days=1))
    assert again["classified"] == 0 and again["skipped"] == 3
    assert cols(db, s.id) == before  # not even classified_at moved
    with db.cursor() as cur:  # an older classifier version is redone
        cur.execute("UPDATE core.message SET classifier_version = 'old', intent = 'other' WHERE message_id = '<2@x>'")
    redo = classify_store_messages(s, warehouse_dsn, T0, T0 + timedelta(days=1))
    assert redo["classified"] == 1 and redo["by_intent"] == {"invoice_request": 1}
    forced = classify_store_messages(s, warehouse_dsn, T0, T0 + timedelta(days=1), force=True)
    assert forced["classified"] == 3
    assert [r[:6] for r in cols(db, s.id)] == [r[:6] for r in before]  # same answers


def test_many_messages_in_batches(db, warehouse_dsn):
    s = store("batch-store")
    from seller_inbox_dev.classify import corpus

    rows = [r for r in corpus.load(split="heldout") if r["kind"] == "buyer_message"][:300]
    for i, r in enumerate(rows):
        add(db, s.id, f"<b{i:04d}@x>", T0 + timedelta(seconds=i * 30), r["body"], marketplace=r["marketplace"])
    out = classify_store_messages(s, warehouse_dsn, T0, T0 + timedelta(days=1), batch_size=64)
    assert out["classified"] == 300
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM core.message WHERE store_id = %s AND intent IS NULL", (s.id,))
        assert cur.fetchone()[0] == 0
