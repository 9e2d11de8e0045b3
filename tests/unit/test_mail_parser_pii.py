"""The parser keeps buyers' personal data out of what it stores, also outside relay mails:
names of a person writing directly (subject, text, attachment names), message ids that carry
an address, and names in raw 8-bit headers (decoded, not left as mojibake that redaction
cannot see)."""

from __future__ import annotations

import base64

from seller_inbox.mail.parser import parse_bytes

SALT = b"pii-test"


def _mail(headers: list[tuple[str, bytes | str]], body: bytes = b"Hello,\nwhere is my parcel?\n",
          ctype: str = "text/plain; charset=utf-8", attachment: str | None = None) -> bytes:
    head = b"".join(k.encode() + b": " + (v if isinstance(v, bytes) else v.encode()) + b"\n" for k, v in headers)
    head += b"Date: Mon, 23 Nov 2026 10:00:00 +0000\nMIME-Version: 1.0\n"
    if attachment is None:
        return head + f"Content-Type: {ctype}\n\n".encode() + body
    b = "XyZ"
    return (head + f'Content-Type: multipart/mixed; boundary="{b}"\n\n--{b}\nContent-Type: {ctype}\n\n'.encode()
            + body + f'\n--{b}\nContent-Type: application/pdf\nContent-Disposition: attachment; filename="{attachment}"\n'
            f"Content-Transfer-Encoding: base64\n\n{base64.b64encode(b'%PDF-1.4').decode()}\n--{b}--\n".encode())


def test_a_person_writing_directly_is_redacted_in_subject_text_and_file_names():
    raw = _mail([("From", "Anna Kowalski <anna.kowalski@example.org>"), ("To", "shop@store.example"),
                 ("Subject", "Anna Kowalski: order question"), ("Message-ID", "<m1@example.org>")],
                body=b"Hello, this is Kowalski again. Where is my parcel?\n", attachment="Anna_Kowalski_receipt.pdf")
    p = parse_bytes(raw, salt=SALT)
    assert p.kind == "unknown"
    assert "Anna" not in p.subject and "Kowalski" not in p.subject and "[NAME]" in p.subject
    assert "Kowalski" not in p.text
    assert p.attachments[0]["name"] == "[NAME]_[NAME]_receipt.pdf"


def test_message_ids_carrying_an_address_are_hashed_stably():
    raw = _mail([("From", "Anna Kowalski <anna.kowalski@gmail.com>"), ("To", "shop@store.example"),
                 ("Subject", "parcel"), ("Message-ID", "<anna.kowalski@gmail.com>"),
                 ("In-Reply-To", "<shop-reply-1@store.example>"),
                 ("References", "<jan.nowak@yahoo.de> <shop-reply-1@store.example>")])
    p = parse_bytes(raw, salt=SALT)
    stored = [p.message_id, p.in_reply_to, *p.references]
    assert not any("anna" in s or "nowak" in s for s in stored)
    assert p.message_id.endswith("@id.invalid>")
    assert p.in_reply_to == "<shop-reply-1@store.example>"          # ordinary ids stay as they are
    assert p.references[1] == "<shop-reply-1@store.example>" and p.references[0].endswith("@id.invalid>")
    # the seller's reply to it threads to the same (hashed) id
    reply = _mail([("From", "Shop <shop@store.example>"), ("To", "anna.kowalski@gmail.com"), ("Subject", "Re: parcel"),
                   ("Message-ID", "<shop-reply-2@store.example>"), ("In-Reply-To", "<anna.kowalski@gmail.com>")],
                  body=b"It left today.\n")
    r = parse_bytes(reply, salt=SALT)
    assert r.in_reply_to == p.message_id
    # a provider's own message id is not an address
    own = parse_bytes(_mail([("From", "Anna <anna.kowalski@gmail.com>"), ("Subject", "x"),
                             ("Message-ID", "<CAF3xyz123=abc@mail.gmail.com>")]), salt=SALT)
    assert own.message_id == "<CAF3xyz123=abc@mail.gmail.com>"


def test_relay_alias_as_message_id_is_hashed():
    alias = "q8w7e6r5t4y3u2@marketplace.amazon.de"
    raw = _mail([("From", f'"Jonas - Amazon Marketplace" <{alias}>'), ("To", "shop@store.example"),
                 ("Subject", "Anfrage von Amazon-Kunde Jonas"), ("Message-ID", f"<{alias}>")])
    p = parse_bytes(raw, salt=SALT)
    assert p.kind == "buyer_message" and "q8w7e6r5t4y3u2" not in p.message_id


def test_raw_gb18030_headers_are_decoded_and_the_name_redacted():
    name, subject = "张伟", "张伟的订单问题"
    for ctype in ("text/plain; charset=gb2312", "text/plain; charset=us-ascii"):  # declared, and not at all
        raw = _mail([("From", b'"' + name.encode("gb18030") + b'" <zw2026@example.cn>'), ("To", "shop@store.example"),
                     ("Subject", subject.encode("gb18030")), ("Message-ID", "<gb1@example.cn>")],
                    body="你好，我的包裹在哪里？".encode("gb18030") if "gb2312" in ctype else b"Where is my parcel?\n",
                    ctype=ctype)
        p = parse_bytes(raw, salt=SALT)
        assert p.subject == "[NAME]的订单问题", ctype
        assert name not in p.subject and not any("\u00c0" <= c <= "\u00ff" for c in p.subject)
        if "gb2312" in ctype:
            assert p.text == "你好，我的包裹在哪里？"


def test_raw_shift_jis_and_utf8_headers_are_decoded():
    alias = "k1l2m3n4o5p6@marketplace.amazon.co.jp"
    raw = _mail([("From", b'"' + "山田".encode("cp932") + b' - Amazon Marketplace" <' + alias.encode() + b">"),
                 ("To", "shop@store.example"), ("Subject", "山田様からのお問い合わせ".encode("cp932")),
                 ("Message-ID", "<sj1@example.jp>")], body="商品が届きません。山田".encode("cp932"),
                ctype="text/plain; charset=shift_jis")
    p = parse_bytes(raw, salt=SALT)
    assert p.kind == "buyer_message" and p.marketplace == "JP"
    assert "山田" not in p.subject and "山田" not in p.text and "[NAME]" in p.subject
    utf = parse_bytes(_mail([("From", "Zoë Müller <zoe@example.org>".encode()), ("Subject", "Größe Zoë Müller".encode()),
                             ("Message-ID", "<u1@example.org>")]), salt=SALT)
    assert utf.subject == "Größe [NAME]"
    latin = parse_bytes(_mail([("From", "Zoë Müller <zoe@example.org>".encode("cp1252")),
                               ("Subject", "Größe bitte".encode("cp1252")), ("Message-ID", "<l1@example.org>")],
                              ctype="text/plain; charset=iso-8859-1"), salt=SALT)
    assert latin.subject == "Größe bitte"
