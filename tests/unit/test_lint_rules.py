"""Each linter rule as a unit: examples it must flag and near misses it must pass, in every
served language (zh for the team's own drafts, nl where cheap)."""

from __future__ import annotations

import pytest

from seller_inbox.compliance import Finding, buyer_language, char_limit, lint
from seller_inbox.compliance import contact, form, language, marketing, review
from seller_inbox.compliance.message import Message


def msg(text: str, lang: str | None = None, **kw) -> Message:
    return Message("", text, lang=lang, **kw)


FLAG = {
    review.positive_only: [
        "en|If you're happy, a review would mean a lot.",
        "en|Please leave a 5-star review.",
        "en|Contact us before leaving a review if anything is wrong.",
        "de|Wenn Sie zufrieden sind, freuen wir uns über eine Bewertung.",
        "de|Bitte geben Sie uns eine positive Bewertung.",
        "fr|Si vous êtes satisfait, laissez-nous un avis.",
        "fr|Merci de nous donner 5 étoiles.",
        "it|Se è soddisfatto, ci lasci una recensione.",
        "it|Ci lasci una recensione positiva, per favore.",
        "es|Si está satisfecho, déjenos una reseña.",
        "es|Por favor, denos 5 estrellas.",
        "ja|ご満足いただけましたら、レビューをお願いします。",
        "ja|高評価をお願いいたします。",
        "zh|麻烦给我们五星好评",
        "zh|满意的话请给个好评",
        "nl|Als u tevreden bent, laat dan een review achter.",
    ],
    review.incentive: [
        "en|Leave a review and we'll send you a $10 gift card",
        "de|Für eine Bewertung erhalten Sie einen Gutschein.",
        "fr|Laissez un avis et recevez un cadeau.",
        "it|Lasci una recensione e riceverà un buono regalo.",
        "es|Déjenos una reseña y le enviaremos un regalo.",
        "ja|レビューを書いていただいた方にクーポンを差し上げます。",
        "zh|好评返现5元",
        "nl|Schrijf een review en ontvang een cadeaubon.",
    ],
    review.change: [
        "en|Could you please remove your review?",
        "de|Könnten Sie Ihre negative Bewertung bitte löschen?",
        "fr|Pourriez-vous supprimer votre avis ?",
        "it|Potrebbe modificare la sua recensione?",
        "es|¿Podría eliminar su reseña?",
        "ja|低評価のレビューを削除していただけませんか",
        "zh|能不能把差评删掉",
        "nl|Wilt u uw review verwijderen?",
    ],
    marketing.promotion: [
        "en|Use code SAVE20", "en|Check out our other products!",
        "de|Jetzt kaufen und sparen!", "de|Mit dem Rabattcode HERBST sparen Sie.",
        "fr|Découvrez nos nouveaux produits.", "fr|Offre spéciale cette semaine.",
        "it|Scopri i nostri nuovi prodotti.", "it|Codice sconto CIAO10.",
        "es|Oferta especial: compra ahora.", "es|Síguenos para más novedades.",
        "ja|次回のご注文で使えるクーポンです。", "ja|期間限定セール開催中です。",
        "zh|新品限时促销", "nl|Gebruik de kortingscode ZOMER10.",
    ],
    contact.external_link: [
        "en|Visit outdoor-gear.com", "en|See http://www.amazon.com/help", "de|Mehr auf www.outdoor-gear.de",
        "fr|Voir https://amazon.fr.example.com/x", "ja|詳細はhttps://outdoor-gear.jp/から", "zh|访问 shop.example.cn 了解",
    ],
    contact.email_address: ["en|Write to help@shop.example.com", "de|Mail an info＠shop.de", "it|scriva a info [at] shop [dot] it"],
    contact.phone_number: [
        "en|Call +1 555 123 4567.", "de|Rufen Sie 030 12345678 an.", "fr|Appelez le 01 23 45 67 89.",
        "it|Chiami lo 02 1234 5678.", "es|Llámenos al +34 912 345 678.", "ja|03-1234-5678までお電話ください。",
        "zh|电话 138 0013 8000",
    ],
    contact.other_channel: [
        "en|Add me on WeChat", "en|Follow @outdoor_gear", "de|Schreiben Sie uns per WhatsApp.", "fr|Sur Instagram.",
        "it|Ci trovi su Telegram.", "es|Escríbanos por WhatsApp.", "ja|LINEでご連絡ください。", "zh|加我微信",
    ],
    form.emoji: ["en|Thanks 😊", "de|Danke :)", "ja|ありがとうございます✨", "zh|谢谢👍"],
    form.markup: ["en|<b>Hello</b>", "de|Zeile<br/>zwei", "fr|Bonjour&nbsp;!"],
    form.placeholder: [
        "en|Hello {{ name }}", "en|Hello {name}", "en|Order %s", "es|Hola $nombre", "en|Dear [NAME],",
        "en|Tracking <<number>>", "de|Hallo <NAME>", "ja|○○様", "zh|某某先生", "en|Hi ${buyer}",
    ],
    form.attachment: [
        "en|Please find attached the invoice.", "de|Im Anhang finden Sie die Rechnung.", "fr|Ci-joint la facture.",
        "it|In allegato la fattura.", "es|Le adjunto la factura.", "ja|請求書を添付いたします。", "zh|附件是发票",
        "nl|In de bijlage vindt u de factuur.",
    ],
}

PASS = {
    review.positive_only: [
        "en|This tent has a 5 star rating from many campers.", "en|We would appreciate your honest review.",
        "de|Der Artikel hat viele gute Bewertungen.", "ja|この商品は高評価をいただいているモデルです。",
        "en|If you're not happy with the size, reply and we will help.",
    ],
    review.incentive: [
        "en|Thank you for your feedback. We have issued a full refund.",
        "en|Our team will review the return and refund you as soon as it arrives.",
        "de|Danke für Ihr Feedback, die Erstattung ist erfolgt.",
    ],
    review.change: [
        "en|We will update you when the carrier confirms.", "fr|Retirez votre colis avec l'avis de passage.",
        "en|Please review the changes to your order.",
    ],
    marketing.promotion: [
        "en|The item was bought during a sale.", "de|Vielen Dank für Ihr Angebot.", "es|La oferta ya no está disponible.",
        "en|Use the code on the label to book the pickup.", "fr|L'article était en promotion lors de votre achat.",
        "it|L'offerta era di un altro venditore.",
    ],
    contact.external_link: [
        "en|Track it at https://www.amazon.com/gp/css/order-history", "de|Unter Meine Bestellungen bei Amazon.de.",
        "ja|https://www.amazon.co.jp/gp/css/order-history からご確認ください。", "en|The parcel weighs 2.4 kg.",
    ],
    contact.email_address: ["en|We answer through Amazon messages only."],
    contact.phone_number: [
        "de|Sendungsnummer 00340434161094042557", "en|Order 111-0000001-0000001 ships on 2026-11-20.",
        "de|Lieferung am 20.11.2026 zwischen 10:00 und 14:00.", "en|UPS 1Z999AA10123456784",
        "ja|追跡番号は 1234-5678-9012 です。", "de|EAN 4012345678901", "en|It costs $24.99 and weighs 1.2 kg.",
        "fr|Livraison le 20/11/2026 ou le 21/11/2026.",
    ],
    contact.other_channel: ["en|Reply to this message on Amazon.", "ja|生産ラインで検査しています。", "en|Mail a@b.de"],
    form.emoji: ["en|Delivery between 10:00 (CET) and 12:00.", "de|Hinweis: bitte beachten."],
    form.markup: ["en|Between 3 < 5 and 7 > 2 it fits.", "en|Track & trace"],
    form.placeholder: ["en|It costs $10 or 50% of the price.", "ja|【ご注文番号】250-0000001-0000001", "en|Size XXL fits."],
    form.attachment: ["en|The label is attached to the box.", "de|Die Anlage des Gartens ist groß."],
}


def _cases(table):
    return [pytest.param(rule, *case.split("|", 1), id=f"{rule.__module__.rsplit('.', 1)[-1]}.{rule.__name__}-{i}")
            for rule, cases in table.items() for i, case in enumerate(cases)]


@pytest.mark.parametrize("rule,lang,text", _cases(FLAG))
def test_rule_flags(rule, lang, text):
    assert rule(msg(text, lang)), f"{rule.__name__} missed: {text}"


@pytest.mark.parametrize("rule,lang,text", _cases(PASS))
def test_rule_passes_near_misses(rule, lang, text):
    assert rule(msg(text, lang)) is None, f"{rule.__name__} flagged: {text}"


@pytest.mark.parametrize("lang,text", [
    ("en", "Vielen Dank für Ihre Nachricht, Ihre Bestellung wurde heute versandt und kommt bald an."),
    ("de", "Guten Tag,\nthank you for your message, your order was shipped today and arrives soon.\nViele Grüße"),
    ("fr", "Grazie per il suo messaggio, il suo ordine è stato spedito oggi e arriverà presto."),
    ("it", "Gracias por su mensaje, su pedido se envió hoy y llegará pronto a su domicilio."),
    ("es", "Merci pour votre message, votre commande a été expédiée aujourd'hui et arrivera bientôt."),
    ("ja", "Thank you for your message, your order was shipped today and arrives soon."),
    ("zh", "ご注文ありがとうございます。本日発送いたしました。"),
    ("ja", "您好，您的订单已经发货，预计下周送达，请注意查收。"),
])
def test_language_rule_flags_other_languages(lang, text):
    assert language.wrong_language(msg(text, lang))


@pytest.mark.parametrize("lang,text", [
    ("de", "Guten Tag,\nIhre Bestellung wurde heute mit DHL versandt.\nOutdoor Gear Co."),
    ("ja", "ご注文ありがとうございます。\nOutdoor Gear Co.\n山田商店"),
    ("en", "Hello,\nyour order has shipped.\nOutdoor Gear GmbH"),
    ("zh", "您好，您的订单已经发货。"),
])
def test_language_rule_passes_the_buyers_language_and_short_lines(lang, text):
    assert language.wrong_language(msg(text, lang)) is None


def test_length_limits_per_kind_and_channel():
    assert char_limit("proactive", "messaging") == 2000 and char_limit("reply", "messaging") == 2000
    assert char_limit("reply", "email") > 2000
    body = "Your order has shipped. " * 100
    assert "too_long" in {f.code for f in lint("", body, kind="proactive", order_id="x")}
    assert "too_long" not in {f.code for f in lint("", body, kind="reply")}
    assert "too_long" in {f.code for f in lint("", body, kind="reply", channel="messaging")}
    assert "too_long" in {f.code for f in lint("", body * 2, kind="review_request")}


def test_proactive_messages_name_the_order_and_attachments_may_be_allowed():
    assert [f.code for f in lint("", "Your order ships today.", kind="proactive", order_id="111-0000001-0000001")] == ["missing_order_id"]
    assert lint("", "Order 111-0000001-0000001 ships today.", kind="proactive", order_id="111-0000001-0000001") == []
    assert lint("", "Please find attached the invoice.", attachments=True) == []


def test_findings_keep_their_shape_and_locales_are_checked():
    (f,) = lint("", "Use code SAVE20")
    assert isinstance(f, Finding) and f.as_dict() == {"code": "marketing", "detail": f.detail, "match": "Use code SAVE20"}
    assert str(f) == f"marketing: {f.detail} (Use code SAVE20)"
    assert buyer_language("de-DE") == "de" and buyer_language("ja_JP") == "ja" and buyer_language(None) is None
    with pytest.raises(ValueError, match="unknown locale 'xx-XX'"):
        buyer_language("xx-XX")
    assert [(f.code, f.match) for f in lint("", "Hello", locale="tr-TR")] == [("wrong_language", "tr-TR")]
    with pytest.raises(ValueError, match="unknown message kind"):
        lint("", "Hello", kind="newsletter")
