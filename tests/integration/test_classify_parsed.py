"""The classifier trusts what the mail parser decided: real mails go through ingest (Maildir ->
parser -> core.message on PostgreSQL) and classify_store_messages; the stored kind decides the
sender rules (no sender address is stored), the stored text is not cut again, and the parser's
language hint is the fallback for a message without a marketplace."""

from __future__ import annotations

from datetime import timedelta

from seller_inbox.classify import classify_store_messages
from seller_inbox_dev.demo.mail import _mail
from seller_inbox.mail.ingest import ingest_source
from seller_inbox.mail.sources import MaildirSource

from .test_mail_support import Box, buyer_mail, make_store, rows, t

FOLDERS = {"inbox": "INBOX", "sent": "Sent"}
OID = "302-1234567-7654321"


def test_notices_bounces_and_buyer_mail_classified_from_the_stored_kind(db, warehouse_dsn, tmp_path):
    store = make_store("cls-parsed", code="DE")
    box = Box(tmp_path / "box")
    w = t("2026-11-10T08:00:00")
    # Amazon's claim notice: the subject alone says nothing about A-to-z, the sender would
    box.inbox(_mail("Amazon <atoz-guarantee-no-reply@amazon.de>", "shop@store.example",
                    f"Ihre Bestellung {OID}", w, "<n1@amazon.de>",
                    f"Sehr geehrter Verkäufer,\n\nein Käufer hat einen A-bis-z-Garantieantrag für die Bestellung {OID} "
                    "gestellt.\nBitte antworten Sie innerhalb von 3 Tagen.\n"), w, "n1")
    box.inbox(buyer_mail("<b1@a>", w + timedelta(hours=1), "Laut Sendungsverfolgung wurde das Paket zugestellt, "
                         "aber bei mir ist nichts angekommen.", alias="k7j6h5g4@marketplace.amazon.de", name="Jonas"),
              w + timedelta(hours=1), "b1")
    box.inbox(_mail("Mail Delivery System <MAILER-DAEMON@mx.example>", "shop@store.example",
                    "Undelivered Mail Returned to Sender", w + timedelta(hours=2), "<d1@mx.example>",
                    "Your message to <k7j6h5g4@marketplace.amazon.de> could not be delivered.\n"),
              w + timedelta(hours=2), "d1")
    c = ingest_source(store, warehouse_dsn, MaildirSource(box.root), w - timedelta(hours=1), w + timedelta(days=1),
                      folders=FOLDERS)
    assert c["stored"] == 3
    kinds = dict(rows(db, "SELECT message_id, kind FROM core.message WHERE store_id = 'cls-parsed'"))
    assert kinds == {"<n1@amazon.de>": "amazon_notice", "<b1@a>": "buyer_message", "<d1@mx.example>": "auto_reply"}

    out = classify_store_messages(store, warehouse_dsn, w - timedelta(hours=1), w + timedelta(days=1))
    assert out["classified"] == 3
    got = {r[0]: r[1:] for r in rows(db, "SELECT message_id, intent, risk, confidence, language FROM core.message "
                                         "WHERE store_id = 'cls-parsed'")}
    assert got["<n1@amazon.de>"][:3] == ("a_to_z_claim", "high", 0.99)   # decided by the stored kind
    assert got["<d1@mx.example>"][:3] == ("auto_reply", "low", 0.99)
    assert got["<b1@a>"][0] == "not_received" and got["<b1@a>"][3] == "de"


def test_language_hint_is_the_fallback_without_a_marketplace(db, warehouse_dsn):
    store = make_store("cls-hint", code="DE")
    w = t("2026-11-11T08:00:00")
    with db.cursor() as cur:
        for mid, mk, hint in (("<h1@x>", None, "fr"), ("<h2@x>", None, None), ("<h3@x>", "DE", "fr")):
            cur.execute("""INSERT INTO core.message (store_id, message_id, kind, direction, marketplace, subject,
                               body_text, language_hint, received_at)
                           VALUES ('cls-hint', %s, 'buyer_message', 'inbound', %s, '', 'Merci !', %s, %s)""",
                        (mid, mk, hint, w))
    classify_store_messages(store, warehouse_dsn, w - timedelta(hours=1), w + timedelta(hours=1))
    lang = dict(rows(db, "SELECT message_id, language FROM core.message WHERE store_id = 'cls-hint'"))
    # short text: the message's marketplace, else the parser's hint, else the store's marketplace
    assert lang == {"<h1@x>": "fr", "<h2@x>": "de", "<h3@x>": "de"}
