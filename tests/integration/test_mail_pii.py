"""Buyer personal data never reaches the warehouse: mails with names, addresses, phones and
e-mail addresses (body, signature, HTML, attachment names, seller replies quoting the buyer)
in six languages go through the real ingest; every table is then searched for them."""

from __future__ import annotations

import base64
import re
from datetime import timedelta

from seller_inbox_dev.demo.mail import _mail
from seller_inbox.mail.ingest import ingest_source
from seller_inbox.mail.sources import MaildirSource

from .test_mail_support import Box, make_store, one, rows, t

MAILS = [  # (first name, alias domain, relay subject, body text)
    ("John", "com", "Inquiry from Amazon customer John (Order: 111-0000001-0000001)",
     "Hi, this is John Miller. Please send it to 221B Baker Street, London NW1 6XE instead. My number is "
     "+44 20 7946 0958 or email john.miller@gmail.com.\n\nThanks,\nJohn Miller"),
    ("Mary", "com", "Order delivery inquiry from Amazon customer Mary (Order: 111-0000002-0000002)",
     "Ship to 1600 Pennsylvania Avenue NW, Washington, DC 20500. Call (202) 456-1111.\n\nRegards,\nMary Ann Jones"),
    ("Klaus", "de", "Anfrage zur Lieferung von Amazon-Kunde Klaus (Bestellung: 302-0000003-0000003)",
     "Mein Name ist Klaus Becker, neue Adresse: Hauptstraße 5, 10115 Berlin. Tel. 030 12345678, Mail "
     "klaus.becker@web.de\n\nMit freundlichen Grüßen\nKlaus Becker"),
    ("Sophie", "fr", "Demande de retour de la part du client Amazon Sophie (Commande : 402-0000004-0000004)",
     "Je m'appelle Sophie Laurent, j'habite au 8 rue des Lilas, 75011 Paris. Mon portable : 06 12 34 56 78. "
     "sophie.laurent@orange.fr\n\nCordialement,\nSophie Laurent"),
    ("Marco", "it", "Richiesta di reso dal cliente Amazon Marco (Ordine: 403-0000005-0000005)",
     "Sono Marco Ferrari, abito in Via Garibaldi 12, 20121 Milano. Cell. +39 347 123 4567, "
     "marco.ferrari@libero.it\n\nCordiali saluti,\nMarco Ferrari"),
    ("Javier", "es", "Consulta del cliente de Amazon Javier (Pedido: 404-0000006-0000006)",
     "Me llamo Javier Ortega, mi dirección es Calle de Alcalá 45, 28014 Madrid. Teléfono 612 345 678. "
     "javier.ortega@hotmail.es\n\nSaludos,\nJavier Ortega"),
    ("Taro", "co.jp", "Amazon.co.jp のお客様 Taro からのお問い合わせ (注文番号: 249-0000007-0000007)",
     "山田太郎と申します。〒150-0002 東京都渋谷区渋谷2-21-1 に送ってください。電話番号は090-1234-5678です。"
     "taro.yamada@example.jp\n\nよろしくお願いします。\n山田太郎"),
]
SECRETS = [
    "John", "Miller", "Baker Street", "NW1 6XE", "7946", "john.miller", "Pennsylvania", "20500", "456-1111", "Mary",
    "Jones", "Klaus", "Becker", "Hauptstraße", "10115", "12345678", "web.de", "Sophie", "Laurent", "rue des Lilas",
    "75011", "06 12 34", "orange.fr", "Marco", "Ferrari", "Garibaldi", "20121", "347 123", "libero", "Javier",
    "Ortega", "Alcalá", "28014", "612 345", "hotmail", "山田", "太郎", "渋谷", "150-0002", "090-1234", "yamada",
    "Taro", "@marketplace.amazon", "commMgrTok", "mx.demo.example",
]


def _dump(db) -> str:
    out = []
    for (table,) in rows(db, "SELECT format('%I.%I', table_schema, table_name) FROM information_schema.tables "
                             "WHERE table_schema IN ('raw','core','ops','kpi') AND table_type='BASE TABLE'"):
        out.append(one(db, f"SELECT coalesce(string_agg(row_to_json(x)::text, E'\\n'), '') FROM {table} x"))
    return "\n".join(out)


def test_no_personal_data_survives_into_any_table(db, warehouse_dsn, tmp_path):
    store = make_store("pii-store")
    box = Box(tmp_path / "box")
    w = t("2026-11-05T08:00:00")
    for i, (first, tld, subject, text) in enumerate(MAILS):
        alias = f"pii{i}xq@marketplace.amazon.{tld}"
        when = w + timedelta(minutes=10 * i)
        body = ("\n------------- Begin message -------------\n\n" + text
                + "\n\n------------- End message -------------\n\n[commMgrTok:PII123]\n")
        mid = f"<pii-{i}@email.amazonses.com>"
        box.inbox(_mail(f'"{first} - Amazon Marketplace" <{alias}>', "shop@store.example", subject, when, mid, body,
                        html=(i % 2 == 1)), when, mid)
        # the seller answers by name, quoting the buyer's whole message
        rw = when + timedelta(hours=2)
        reply = (f"Dear {first},\n\nthank you, we updated the order.\n\nBest,\nShop\n\n"
                 f"On Thu, {first} - Amazon Marketplace <{alias}> wrote:\n" + "".join("> " + ln + "\n" for ln in text.split("\n")))
        box.sent(_mail("Shop <shop@store.example>", f'"{first} - Amazon Marketplace" <{alias}>', "RE: " + subject,
                       rw, f"<pii-r{i}@store.example>", reply, extra={"In-Reply-To": mid}), rw, f"r{i}")
    # an attachment whose file name carries the buyer's name, and a bounce quoting an address
    att = (b'From: "John - Amazon Marketplace" <pii0xq@marketplace.amazon.com>\r\nTo: shop@store.example\r\n'
           b"Subject: Inquiry from Amazon customer John (Order: 111-0000001-0000001)\r\n"
           b"Date: Thu, 05 Nov 2026 12:00:00 +0000\r\nMessage-ID: <pii-att@email.amazonses.com>\r\nMIME-Version: 1.0\r\n"
           b'Content-Type: multipart/mixed; boundary="bb"\r\n\r\n--bb\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n'
           b"See the photo.\r\n--bb\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; "
           b'filename="John_Miller_receipt.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
           + base64.encodebytes(b"%PDF-1.4 john.miller@gmail.com") + b"--bb--\r\n")
    box.inbox(att, t("2026-11-05T12:00:00"), "att")
    c = ingest_source(store, warehouse_dsn, MaildirSource(box.root), t("2026-11-05T00:00:00"),
                      t("2026-11-06T00:00:00"), folders={"inbox": "INBOX", "sent": "Sent"})
    assert (c["stored"], c["quarantined"]) == (2 * len(MAILS) + 1, 0)
    assert one(db, "SELECT count(*) FROM core.message WHERE kind='buyer_message' AND reply_message_id IS NOT NULL") == 7
    dump = _dump(db)
    # a secret counts where it stands alone: a postcode like 20121 inside a timestamp's microseconds is no leak
    found = {s: re.search(rf"(?<![0-9]){re.escape(s)}(?![0-9])" if s.isdigit() else re.escape(s), dump) for s in SECRETS}
    leaks = [(s, dump[max(0, m.start() - 150):m.start() + 50]) for s, m in found.items() if m]
    assert not leaks, leaks
    # redaction left placeholders (the text is still useful) and kept the business keys
    for ph in ("[NAME]", "[ADDRESS]", "[PHONE]", "[EMAIL]"):
        assert ph in dump
    assert "302-0000003-0000003" in dump and "[NAME]_[NAME]_receipt.pdf" in dump
