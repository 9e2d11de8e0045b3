"""Language identification, header rules and the risk lexicon (the cheap layers)."""

from __future__ import annotations

import pytest

from seller_inbox.classify.lang import detect_language
from seller_inbox.classify.lexicon import load_lexicon, shouting
from seller_inbox.classify.rules import buyer_text, header_intent


@pytest.mark.parametrize("text,market,lang", [
    ("Where is my package? It has been two weeks already.", "US", "en"),
    ("Wann kommt meine Bestellung? Ich warte seit zwei Wochen.", "DE", "de"),
    ("Bonjour, je n'ai toujours pas reçu mon colis, pouvez-vous vérifier ?", "FR", "fr"),
    ("Buongiorno, il pacco non è ancora arrivato, potete controllare?", "IT", "it"),
    ("Hola, mi pedido todavía no ha llegado, ¿pueden revisarlo?", "ES", "es"),
    ("Hallo, mijn pakket is nog steeds niet aangekomen, kunt u dat nakijken?", "NL", "nl"),
    ("Hello, I ordered on the German store but I write in English, where is my parcel?", "DE", "en"),
    ("発送はいつですか", "US", "ja"),              # kana anywhere means ja, whatever the marketplace
    ("Order 111-1234567-1234567 ありがとう", "DE", "ja"),
    ("返品希望", "JP", "ja"),                      # kanji-only Japanese on amazon.co.jp
    ("我的包裹在哪里", "DE", "zh"),                # Han without kana: Chinese on any marketplace
    ("我的包裹在哪里", "US", "zh"),
    ("请取消我的订单。", "JP", "zh"),               # marks of Chinese (simplified 请/订/单, 我)
    ("显示已签收但是没有收到", "US", "zh"),
    ("ok", "FR", "fr"),                            # very short: the marketplace's language
    ("Danke!", "IT", "it"),
    ("", "ES", "es"),
])
def test_language_contract(text, market, lang):
    assert detect_language(text, market)[0] == lang


def test_amazon_notices_auto_replies_and_bounces_are_decided_by_headers():
    assert header_intent("A-to-z Guarantee claim on order 111-1234567-1234567", "atoz-guarantee-no-reply@amazon.com")[0] == "a_to_z_claim"
    assert header_intent("Garantieantrag", "no-reply@amazon.de", "Ein Käufer hat einen A-bis-z-Garantieantrag gestellt.")[0] == "a_to_z_claim"
    assert header_intent("Policy Warning", "seller-performance@amazon.com")[0] == "account_health"
    assert header_intent("出品停止のお知らせ", "donotreply@amazon.co.jp", kind="amazon_notice")[0] == "account_health"
    assert header_intent("Automatic reply: your order", "x1y2@marketplace.amazon.com")[0] == "auto_reply"
    assert header_intent("Abwesenheitsnotiz", "abc@marketplace.amazon.de")[0] == "auto_reply"
    assert header_intent("Delivery Status Notification (Failure)", "mailer-daemon@googlemail.com")[0] == "auto_reply"
    assert header_intent("Hi", "x@example.com", headers={"Auto-Submitted": "auto-replied"})[0] == "auto_reply"
    # Amazon's A-to-z notices in every served language are decided by the rule, not left to the model
    for subject, sender in (("Roszczenie z gwarancji od A do Z dla zamówienia 405-1234567-1234567", "no-reply@amazon.pl"),
                            ("A-till-z-garantianspråk för order 405-1234567-1234567", "no-reply@amazon.se"),
                            ("Reclamação da Garantia de A a Z do pedido 701-1234567-1234567", "no-reply@amazon.com.br"),
                            ("A-tot-z-garantieclaim voor bestelling 405-1234567-1234567", "no-reply@amazon.nl")):
        assert header_intent(subject, sender) == ("a_to_z_claim", "amazon_atoz"), subject
    # and its account-health notices, by their wording (the sender is not always Seller Performance)
    for subject, body, sender in (
            ("Ostrzeżenie dotyczące zasad", "Twoja oferta została dezaktywowana z powodu naruszenia zasad.", "donotreply@amazon.pl"),
            ("Policyvarning", "Ditt erbjudande har inaktiverats. Se Kontohälsa.", "donotreply@amazon.se"),
            ("Aviso de política", "Seu anúncio foi desativado por violação de política.", "donotreply@amazon.com.br"),
            ("Beleidswaarschuwing", "Uw aanbieding is gedeactiveerd wegens een schending van het beleid.", "donotreply@amazon.nl"),
            ("账户状况通知", "您的商品因违反政策已被停用。", "donotreply@amazon.com")):
        assert header_intent(subject, sender, body, "amazon_notice") == ("account_health", "amazon_account_health"), subject
    # an ordinary buyer message is left to the model
    assert header_intent("Inquiry from Amazon customer Anna (Order: 111-1234567-1234567)",
                         "q9z@marketplace.amazon.com", "Where is my package?") is None
    # a buyer threatening an A-to-z claim is not Amazon's claim notice
    assert header_intent("Order inquiry", "q9z@marketplace.amazon.com", "I will open an A-to-z claim!") is None


RELAY_SUBJECT = "Inquiry from Amazon customer Anna (Order: 111-1234567-1234567)"


@pytest.mark.parametrize("body", [
    "Bonjour, je suis absente du bureau jusqu'au lundi 10 et je répondrai à votre message à mon retour.",
    "Thank you for your email. I am currently out of the office until Monday with limited access to email.",
    "Ich bin bis zum 15. nicht im Büro und habe keinen Zugriff auf meine E-Mails.",
    "Sono fuori ufficio fino a lunedì con accesso limitato alla posta.",
    "誠に勝手ながら、ただいま不在にしております。戻り次第ご連絡いたします。",
    "Ceci est une réponse automatique.",
    "A message that you sent could not be delivered to one or more of its recipients.",
])
def test_an_out_of_office_body_is_an_auto_reply(body):
    assert header_intent(RELAY_SUBJECT, "q9z@marketplace.amazon.com", body)[0] == "auto_reply"


@pytest.mark.parametrize("body", [
    # a buyer saying when they are away is giving a delivery instruction, not sending an auto-reply:
    # read as one, the request would never be answered
    "Si je suis absent, déposez-le sous le porche derrière le banc.",
    "Je suis absent la semaine prochaine, envoyez-le chez ma sœur.",
    "Ich bin bis Freitag abwesend, bitte beim Nachbarn abgeben.",
    "日中は不在にしております。宅配ボックスに入れてください。",
    "The parcel could not be delivered and went back to the depot. Where is it now?",
])
def test_a_buyer_who_is_away_is_not_an_auto_reply(body):
    assert header_intent(RELAY_SUBJECT, "q9z@marketplace.amazon.com", body) is None


@pytest.mark.parametrize("subject", [
    "Automatic reply: Order delivery inquiry (Order: 114-5555555-6666666)", "Abwesenheitsnotiz",
    "AW: Abwesenheitsnotiz", "Réponse automatique : votre commande", "【自動返信】お問い合わせありがとうございます",
    "Out of office Re: Lieferung Ihrer Bestellung", "Undeliverable: Re: your order",
    "Fwd: Undeliverable: Your Amazon order", "Mancato recapito del messaggio", "Onbestelbaar: Re: Ihre Bestellung",
    "Delivery Status Notification (Failure)", "Undelivered Mail Returned to Sender", "failure notice",
    "Your e-mail to x1y2@marketplace.amazon.com could not be delivered (Order: 111-0000000-1111111)",
])
def test_subjects_mail_programs_write_are_auto_replies(subject):
    assert header_intent(subject, "q9z@marketplace.amazon.com", "Hello")[0] == "auto_reply"


# a buyer's own subject may open with the words of a bounce or an out-of-office reply: read as a
# machine's mail, a complaint (here with an A-to-z threat) would get no alert and no answer
BUYER_SUBJECTS = [
    ("Pedido no entregado", "Mi pedido 402-1234567-1234567 no ha llegado y la fecha pasó hace 10 días. "
                            "Si no contestan abriré una reclamación A-to-z.", "ES"),
    ("Colis non remis", "Mon colis n'est jamais arrivé, le suivi indique livré mais je n'ai rien reçu.", "FR"),
    ("Mancato recapito pacco", "Il pacco non è mai arrivato, il tracking dice consegnato.", "IT"),
    ("Paket nicht zustellbar?", "DHL schreibt, mein Paket sei nicht zustellbar. Ich wohne aber dort!", "DE"),
    ("Delivery failure - order never arrived", "My order never arrived, tracking says delivered.", "US"),
    ("不在票が入っていました", "不在票が入っていましたが、再配達の依頼ができません。荷物はどこにありますか？", "JP"),
    ("Absent du 3 au 10", "Je suis absent du 3 au 10, pouvez-vous livrer après le 10 ?", "FR"),
]


@pytest.mark.parametrize("subject, body, market", BUYER_SUBJECTS)
def test_a_buyer_subject_with_the_words_of_a_bounce_or_an_absence_is_read_as_the_buyer_wrote_it(subject, body, market):
    from seller_inbox.classify.pipeline import classify_batch

    assert header_intent(subject, "q9z@marketplace.amazon.com", body, "buyer_message") is None
    res = classify_batch([{"id": 1, "subject": subject, "body": body, "marketplace": market, "kind": "buyer_message"}])[0]
    assert res["intent"] != "auto_reply"


def test_buyer_text_keeps_only_the_buyers_words():
    body = ("Order ID 111-1234567-1234567:\n1 of Lamp [ASIN: B01234567X]\n\n------------- Begin message -------------\n\n"
            "Where is my lamp?\n\nOn Mon, 3 Nov 2026 at 10:12, Seller wrote:\n> We shipped it yesterday.\n"
            "------------- End message -------------\n\nFor Your Safety...\n[commMgrTok:AF9E104T7W2Q2]")
    assert buyer_text(body) == "Where is my lamp?"
    assert buyer_text("Danke!\n> alte Nachricht") == "Danke!"


def cats(text, lang="en"):
    return sorted({h.category for h in load_lexicon().find(text, (lang,))})


def test_lexicon_word_boundaries_and_exclusions():
    assert cats("There is an issue with the tissue box") == []          # "sue" inside words
    assert cats("I will sue you") == ["legal"]
    assert cats("Is it compatible with my Fire TV stick?") == []         # product name, not a fire
    assert cats("The charger caught fire last night") == ["safety"]
    # toys and safety gear named for fires: a missing bag of the fire station set is not a fire
    assert cats("We built the fire station set and bag 4 is missing; the fire truck has no ladder") == []
    assert cats("The fire extinguisher came dented and the fire alarm beeps every minute") == []
    assert cats("There was a fire in the socket when I plugged it in") == ["safety"]
    assert cats("Works great with the smoke detector") == []
    assert cats("It started smoking") == ["safety"]
    assert cats("Ich schalte meinen Rechtsanwalt ein", "de") == ["legal"]  # *anwalt inside a compound
    assert cats("Je n'ai jamais recu, c'est une arnaque", "fr") == ["fraud"]  # accents folded both ways
    assert cats("充電中に発火しました", "ja") == ["safety"]
    assert cats("I'll open an A-to-z claim and file a chargeback", "en") == ["a_to_z", "chargeback"]
    assert cats("I'll report you to Amazon", "en") == ["report_to_amazon"]
    assert cats("Dejaré una reseña negativa", "es") == ["negative_review"]
    assert cats("Mia figlia ha avuto una reazione allergica", "it") == ["safety"]
    # terms of other languages are not applied to an English message ("brand new" is not a Brand)
    assert cats("brand new and still in the box") == []


def test_lexicon_covers_every_served_language_and_is_versioned():
    lex = load_lexicon()
    assert lex.version == "v1"
    import yaml

    from seller_inbox.classify.lexicon import LEXICON_FILE

    data = yaml.safe_load(LEXICON_FILE.read_text(encoding="utf-8"))
    from seller_inbox.domain.languages import SERVED

    for cat in ("chargeback", "a_to_z", "legal", "report_to_amazon", "fraud", "safety", "amazon_notice"):
        assert set(SERVED) <= set(data["categories"][cat]["terms"]), cat


def test_shouting():
    assert shouting("WHERE IS MY PACKAGE I HAVE BEEN WAITING FOR WEEKS")
    assert not shouting("Where is my package? Order 111-1234567-1234567 (ASIN B0ABCDEFGH)")
    assert not shouting("OK")
