"""domain.relay is the one relay-mail grammar: the simulator generates with it, the parser and
the classifier read with it, and what one writes the others recognise (docs/domain.md)."""

from __future__ import annotations

import inspect
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from seller_inbox.classify import rules
from seller_inbox.config import StoreConfig
from seller_inbox.domain import marketplaces as mp
from seller_inbox.domain import relay
from seller_inbox.mail import parser
from seller_inbox.mail.parser import parse_bytes
from seller_inbox_dev.demo import mail as demo

SALT = b"relay-test"


@pytest.mark.parametrize("lang", sorted(relay.FRAME_MARKERS))
def test_every_generated_frame_is_recognised(lang):
    begin, end = relay.FRAME_MARKERS[lang]
    footer = relay.FOOTERS[lang].format(tld="de")
    body = (relay.ORDER_LINES[lang].format(o="302-1234567-7654321") + "\n1 of Lamp [ASIN: B01234567X]\n\n"
            f"{begin}\n\nThe lamp arrived broken.\n\n{end}\n\n{footer}\n\n{relay.comm_token('AF9E104T7W2Q2')}\n")
    labels = [label for _, _, label in relay.markers(body)]
    assert len(labels) == 2 and relay.BEGIN_WORDS.search(labels[0]) and relay.END_WORDS.search(labels[1])
    assert relay.FOOTER_RE.search(footer)
    assert relay.buyer_text(body) == "The lamp arrived broken."
    # without its frame (a forwarded copy) the footer, order and item lines still go
    assert relay.buyer_text(body.replace(begin, "").replace(end, "")) == "The lamp arrived broken."


def test_generator_and_parser_share_one_grammar(tmp_path: Path):
    # the generator has no markers, footers or order lines of its own
    src = inspect.getsource(demo)
    for lang, (begin, end) in relay.FRAME_MARKERS.items():
        assert begin not in src and end not in src
    assert "commMgrTok" not in src and "marketplace.amazon." not in src
    for name in ("MARKERS", "FOOTER", "ORDER_LINE"):
        assert not hasattr(demo, name)
    # ... and the parser and classifier read the same objects
    assert parser.OPT_OUT is relay.OPT_OUT and parser._ALIAS_DOMAIN is relay.RELAY_ALIAS_DOMAIN
    assert rules.buyer_text is relay.buyer_text and parser.extract_text("x", "buyer_message") == "x"
    # what the generator writes, the parser takes apart: every demo buyer mail yields only the buyer's words
    store = StoreConfig.model_validate({
        "id": "relay-store", "name": "Relay Test", "seller_id": "A1RELAY", "region": "eu",
        "marketplaces": [{"code": c} for c in ("DE", "FR", "IT", "ES", "UK")],
        "connections": {"spapi": "spapi_x", "mailbox": "mailbox_x", "smtp": "smtp_x"}})
    start = datetime(2026, 11, 2, tzinfo=timezone.utc)
    demo.write_demo_mail(tmp_path, [store], start, start + timedelta(days=4), seed=11)
    buyers = 0
    for f in sorted((tmp_path / store.id).glob("**/new/*")) + sorted((tmp_path / store.id).glob("**/cur/*")):
        raw = f.read_bytes()
        p = parse_bytes(raw, salt=SALT)
        if p.kind != "buyer_message":
            continue
        buyers += 1
        assert p.text and p.marketplace in store.marketplace_codes
        for begin, end in relay.FRAME_MARKERS.values():
            assert begin not in p.text and end not in p.text
        assert "commMgrTok" not in p.text and not relay.FOOTER_RE.search(p.text) and "http" not in p.text
    assert buyers >= 5


def test_amazon_domains_come_from_the_marketplace_table():
    assert set(relay.TLDS) == {m.domain for m in mp.MARKETPLACES.values()}
    for code, m in mp.MARKETPLACES.items():
        alias = relay.relay_alias("a1b2c3", code)
        found = relay.RELAY_ALIAS_DOMAIN.search(alias)
        assert found and relay.marketplace_of_domain(found.group(1)) == code
        assert relay.AMAZON_SENDER.search(f"atoz-guarantee@amazon.{m.domain}")
        assert relay.RELAY_ALIAS_RE.search(f"Your message to <{alias}> could not be delivered").group(0) == alias
    assert not relay.AMAZON_SENDER.search("someone@amazonses.com")
    assert not relay.AMAZON_SENDER.search("phish@amazon.example.com")


def test_buyer_text_cuts_quotes_in_every_served_language_and_keeps_a_japanese_order_line():
    for head in ("On Mon, 3 Nov 2026 at 10:12, Shop wrote:", "Am 03.11.2026 um 10:12 schrieb Shop:",
                 "Le lun. 3 nov. 2026 à 10:12, Shop a écrit :", "Il giorno lun 3 nov 2026 Shop ha scritto:",
                 "El lun, 3 nov 2026, Shop escribió:", "Op ma 3 nov 2026 om 10:12 schreef Shop:",
                 "2026年11月3日(月) 10:12 Shop のメッセージ:"):
        assert relay.buyer_text(f"Where is my parcel?\n\n{head}\n> We shipped it.") == "Where is my parcel?", head
    assert relay.buyer_text("注文番号：302-1234567-7654321。商品が届きません。") == "商品が届きません。"


def test_notices_bounces_auto_replies_and_opt_out():
    assert relay.ATOZ_TEXT.search("A-to-z Guarantee claim filed for order 302-1234567-7654321")
    assert relay.ACCOUNT_HEALTH_TEXT.search("Policy Warning: listing deactivated")
    assert relay.BOUNCE_SUBJECT.search("Undelivered Mail Returned to Sender")
    assert relay.BOUNCE_SENDER.search("MAILER-DAEMON@mx.example")
    assert relay.AUTO_REPLY_SUBJECT.search(relay.SUBJECT_PREFIX.sub("", "AW: Abwesenheitsnotiz"))
    assert relay.OPT_OUT.search("the recipient has opted out of unsolicited messages")
    assert relay.OPT_OUT.search("Der Käufer hat sich abgemeldet")
