"""The labelled corpus: generated deterministically from hand-written phrase banks.

``data/classify/phrasebank.v1.txt`` holds per-intent, per-language phrases; lines marked
``lang!:`` are HELD-OUT phrasings that only the held-out split uses (so the evaluation
measures phrasings the model never saw, not recombinations of training sentences). The
same holds for greetings, closings, product names, threat/safety/anger sentences and the
Amazon notice / auto-reply templates below (``_T`` training, ``_H`` held-out).

Hard cases mixed in on both sides: very short texts, typos, ALL CAPS, multi-intent
messages labelled by the taxonomy's precedence, quoted history, Amazon's relay frame,
mixed-language greetings, emojis, polite threats, safety problems, notices forwarded
without their headers.

``python -m seller_inbox_dev.classify.corpus`` (or ``seller-inbox classify corpus``) rewrites
``data/classify/corpus.v1.jsonl``; the output is byte-identical for the same inputs.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

from seller_inbox.domain import relay
from seller_inbox.domain.languages import TEMPLATE_LOCALES
from seller_inbox.domain import taxonomy as tx
from seller_inbox.classify.lang import detect_language, fallback_reason, marketplace_language

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "classify"
BANK_FILE = DATA_DIR / "phrasebank.v1.txt"
CORPUS_FILE = DATA_DIR / "corpus.v1.jsonl"
# whole messages written one by one in buyers' styles, for training only (docs/taxonomy.md,
# "Hand-written training messages"); the frozen evaluation sets never share a text with it
HANDWRITTEN_FILE = DATA_DIR / "handwritten_train.v1.jsonl"
# a message a person wrote or labelled (a hand-written training message, a desk correction)
# counts as this many training messages: a few hundred weigh against thousands of generated ones
REAL_TEXT_REPEAT = 3
SEED = 20261126
MIN_TRAIN_PER_INTENT = 160

# languages of the greeting a buyer may mix into another language's message
_LATIN_GREETING_LANGS = tuple(lang for lang in TEMPLATE_LOCALES if lang not in ("ja", "zh"))
BUYER_INTENTS = [i for i in tx.INTENTS if i not in ("a_to_z_claim", "account_health", "auto_reply")]
LANG_WEIGHTS = {"en": 30, "de": 16, "fr": 14, "it": 13, "es": 13, "ja": 11, "nl": 2, "zh": 1, "sv": 2, "pl": 2, "pt": 2}
LANG_MARKETS = {"en": ["US", "US", "US", "UK", "CA", "DE", "FR", "IT", "ES"], "de": ["DE"], "fr": ["FR"],
                "it": ["IT"], "es": ["ES", "ES", "MX"], "ja": ["JP"], "nl": ["NL"], "zh": ["US", "DE", "JP"],
                "sv": ["SE", "SE", "DE"], "pl": ["PL", "PL", "DE"], "pt": ["BR", "BR", "ES"]}
TLD = {"US": "com", "UK": "co.uk", "CA": "ca", "DE": "de", "FR": "fr", "IT": "it", "ES": "es", "MX": "com.mx",
       "JP": "co.jp", "NL": "nl", "SE": "se", "PL": "pl", "BR": "com.br"}
NEG_REVIEW = re.compile(r"1 star|bad review|one-star|1-Sterne|schlechte Bewertung|einen Stern|une étoile|avis négatif|"
                        r"note minimale|una stella|recensione negativa|voto minimo|una estrella|reseña negativa|"
                        r"nota mínima|星1|低評価|最低評価|één ster|slechte review|差评|expect a detailed review", re.I)


THREAT_MARK = "{threat}"  # ends a request phrase that also threatens (a claim, a chargeback): risk high


def _parse_bank(path: Path) -> tuple[dict, set[str]]:
    bank: dict = {}
    threats: set[str] = set()
    section = None
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@"):
            section = line[1:].strip()
            bank.setdefault(section, {"train": {}, "held": {}})
            continue
        head, _, rest = line.partition(":")
        held = head.endswith("!")
        lang = head.rstrip("!").strip()
        phrases = []
        for p in (p.strip() for p in rest.split("|")):
            if p.endswith(THREAT_MARK):
                p = p[: -len(THREAT_MARK)].strip()
                threats.add(p)
            if p:
                phrases.append(p)
        bank[section]["held" if held else "train"].setdefault(lang, []).extend(phrases)
    return bank, threats


def load_bank(path: Path = BANK_FILE) -> dict[str, dict[str, dict[str, list[str]]]]:
    """{section: {"train"|"held": {lang: [phrases]}}}, the threat marks removed."""
    return _parse_bank(path)[0]


def threat_phrases(path: Path = BANK_FILE) -> set[str]:
    """Request phrases marked ``{threat}`` in the bank: a message built on one is high risk, as the
    taxonomy says of any claim or chargeback threat, whatever its intent."""
    return _parse_bank(path)[1]


# --- Amazon notices and auto-replies (templates; {oid} order id, {asin}) -------------------
_ATOZ = {
    "train": {
        "en": [("A-to-z Guarantee claim on order {oid}", "Dear Seller,\nA buyer has filed an A-to-z Guarantee claim for order {oid}. Reason: item not received. Please respond within 72 hours with tracking information or a refund. If you do not respond, the claim may be granted and the amount debited from your account."),
               ("A-to-z Guarantee Claim - action required", "Hello,\nWe are contacting you about an A-to-z Guarantee claim filed by the buyer of order {oid}. Go to Performance > A-to-z Guarantee Claims in Seller Central to respond.")],
        "de": [("A-bis-z-Garantieantrag zu Bestellung {oid}", "Sehr geehrter Verkäufer,\nein Käufer hat für die Bestellung {oid} einen Antrag auf die A-bis-z-Garantie gestellt. Bitte antworten Sie innerhalb von 72 Stunden.")],
        "fr": [("Réclamation au titre de la Garantie A à Z pour la commande {oid}", "Bonjour,\nUn acheteur a déposé une réclamation au titre de la Garantie A à Z pour la commande {oid}. Veuillez répondre sous 72 heures.")],
        "it": [("Reclamo Garanzia dalla A alla Z per l'ordine {oid}", "Gentile venditore,\nun cliente ha presentato un reclamo Garanzia dalla A alla Z per l'ordine {oid}. Rispondi entro 72 ore.")],
        "es": [("Reclamación de la Garantía de la A a la Z del pedido {oid}", "Estimado vendedor:\nUn comprador ha presentado una reclamación de la Garantía de la A a la Z para el pedido {oid}. Responde en un plazo de 72 horas.")],
        "ja": [("注文番号 {oid} のAmazonマーケットプレイス保証の申請", "出品者様\n購入者様より、注文番号 {oid} についてAmazonマーケットプレイス保証の申請がありました。72時間以内にご回答ください。")],
        "nl": [("A-tot-z-garantieclaim voor bestelling {oid}", "Beste verkoper,\nEen koper heeft een claim ingediend onder de A-tot-z-garantie voor bestelling {oid}. Reageer binnen 72 uur.")],
        "sv": [("A-till-z-garantianspråk för order {oid}", "Hej,\nEn köpare har gjort ett anspråk enligt A-till-z-garantin för order {oid}. Svara inom 72 timmar i Seller Central.")],
        "pl": [("Roszczenie z gwarancji od A do Z dla zamówienia {oid}", "Szanowny Sprzedawco,\nkupujący złożył roszczenie z gwarancji od A do Z dotyczące zamówienia {oid}. Prosimy o odpowiedź w ciągu 72 godzin.")],
        "pt": [("Reclamação da Garantia de A a Z do pedido {oid}", "Prezado vendedor,\num comprador abriu uma reclamação da Garantia de A a Z para o pedido {oid}. Responda em até 72 horas.")],
        "zh": [("订单 {oid} 的亚马逊商城交易保障索赔", "卖家您好，\n买家已就订单 {oid} 提交亚马逊商城交易保障索赔（A-to-z）。请在72小时内回复。")],
    },
    "held": {
        "en": [("Decision on A-to-z Guarantee claim for order {oid}", "Hello,\nWe reviewed the A-to-z Guarantee claim on order {oid} and granted it in the buyer's favour. The claim amount has been debited from your seller account. You may appeal within 30 days.")],
        "de": [("Entscheidung zum A-bis-z-Garantieantrag {oid}", "Hallo,\nwir haben den Garantieantrag zur Bestellung {oid} zugunsten des Käufers entschieden. Der Betrag wurde Ihrem Verkäuferkonto belastet.")],
        "fr": [("Décision concernant la réclamation A à Z {oid}", "Bonjour,\nNous avons accordé la réclamation au titre de la garantie A à Z sur la commande {oid}. Le montant a été débité de votre compte vendeur.")],
        "it": [("Decisione sul reclamo Garanzia dalla A alla Z {oid}", "Gentile venditore,\nabbiamo accolto il reclamo Garanzia dalla A alla Z relativo all'ordine {oid}. L'importo è stato addebitato sul tuo account.")],
        "es": [("Decisión sobre la reclamación de la Garantía de la A a la Z {oid}", "Hola:\nHemos concedido la reclamación de la Garantía de la A a la Z del pedido {oid}. El importe se ha cargado en tu cuenta de vendedor.")],
        "ja": [("Amazonマーケットプレイス保証の申請結果（注文番号 {oid}）", "出品者様\n注文番号 {oid} の保証申請は購入者様に有利な形で承認されました。金額は出品者アカウントから差し引かれます。")],
    },
}
_HEALTH = {
    "train": {
        "en": [("Policy Warning", "Hello,\nWe have received a complaint about your listing {asin} (product safety). This is a policy warning. Repeated violations may result in the removal of your selling privileges. Visit Account Health for details."),
               ("Your listing has been deactivated", "Hello,\nWe have deactivated the listing for ASIN {asin} because it may violate our policies. To reactivate, submit the requested documents on the Account Health page."),
               ("Notification: your Order Defect Rate is above target", "Hello,\nYour Order Defect Rate is above our target of 1%. Your account is at risk of deactivation. Please submit a plan of action.")],
        "de": [("Richtlinienwarnung", "Hallo,\nwir haben eine Beschwerde zu Ihrem Angebot {asin} erhalten. Dies ist eine Richtlinienwarnung. Weitere Verstöße können zum Entzug Ihrer Verkaufsberechtigung führen."),
               ("Ihr Angebot wurde deaktiviert", "Hallo,\nwir haben das Angebot für ASIN {asin} deaktiviert. Details finden Sie unter Kontozustand.")],
        "fr": [("Avertissement concernant nos politiques", "Bonjour,\nNous avons reçu une réclamation concernant votre offre {asin}. Des violations répétées peuvent entraîner la suppression de vos privilèges de vente.")],
        "it": [("Avviso relativo alle normative", "Gentile venditore,\nabbiamo ricevuto un reclamo per la tua offerta {asin}. Violazioni ripetute possono comportare la rimozione dei privilegi di vendita.")],
        "es": [("Advertencia sobre políticas", "Hola:\nHemos recibido una queja sobre tu oferta {asin}. Las infracciones reiteradas pueden suponer la retirada de tus privilegios de venta.")],
        "ja": [("ポリシー違反の警告", "出品者様\nASIN {asin} の出品についてご連絡いたします。ポリシー違反が繰り返された場合、出品者の権限が削除される可能性があります。")],
        "nl": [("Waarschuwing: beleidsschending", "Hallo,\nWe hebben een klacht ontvangen over uw aanbieding {asin}. Herhaalde schendingen kunnen leiden tot het intrekken van uw verkoopprivileges.")],
        "sv": [("Varning: policyöverträdelse", "Hej,\nVi har tagit emot ett klagomål på ditt erbjudande {asin}. Upprepade överträdelser kan leda till att din säljbehörighet dras in. Se Kontohälsa.")],
        "pl": [("Ostrzeżenie dotyczące zasad", "Witaj,\notrzymaliśmy skargę dotyczącą Twojej oferty {asin}. Powtarzające się naruszenia zasad mogą skutkować utratą uprawnień do sprzedaży. Sprawdź kondycję konta.")],
        "pt": [("Aviso de violação de política", "Olá,\nRecebemos uma reclamação sobre o seu anúncio {asin}. Violações repetidas podem levar à remoção dos seus privilégios de venda. Consulte a Saúde da conta.")],
        "zh": [("政策警告", "卖家您好，\n我们收到了关于您的商品 {asin} 的投诉。再次违反政策可能导致您的销售权限被移除。请查看账户状况页面。")],
    },
    "held": {
        "en": [("Action required: your Amazon selling account", "Hello,\nYour account health rating has dropped to At Risk because of intellectual property complaints against ASIN {asin}. Address the issues within 7 days to avoid deactivation."),
               ("Listing removed: authenticity complaint", "Hello,\nWe removed your listing {asin} after an authenticity complaint from a customer. Provide invoices from your supplier to appeal.")],
        "de": [("Handlung erforderlich: Kontozustand gefährdet", "Hallo,\nIhr Kontozustand ist gefährdet. Wegen Beschwerden zu ASIN {asin} droht die Deaktivierung Ihres Verkäuferkontos.")],
        "fr": [("Action requise : santé du compte", "Bonjour,\nLa santé de votre compte est à risque en raison de réclamations sur l'ASIN {asin}. Votre compte pourrait être désactivé.")],
        "it": [("Azione richiesta: stato dell'account", "Gentile venditore,\nlo stato del tuo account è a rischio a causa di reclami sull'ASIN {asin}. L'account potrebbe essere disattivato.")],
        "es": [("Acción necesaria: estado de la cuenta", "Hola:\nEl estado de tu cuenta está en riesgo por quejas sobre el ASIN {asin}. Tu cuenta podría ser desactivada.")],
        "ja": [("出品停止のお知らせ", "出品者様\nASIN {asin} の出品は、知的財産権の侵害の申し立てにより停止されました。アカウント健全性ページをご確認ください。")],
    },
}
_AUTO = {
    "train": {
        "en": [("Automatic reply: {subj}", "Thank you for your email. I am currently out of the office until Monday with limited access to email."),
               ("Out of Office", "I'm on vacation and will respond when I'm back. This is an automatic reply."),
               ("Delivery Status Notification (Failure)", "Delivery to the following recipient failed permanently: the buyer has opted out of unsolicited messages.\n\nTechnical details of permanent failure: 550 5.1.1 user unknown")],
        "de": [("Automatische Antwort: {subj}", "Vielen Dank für Ihre Nachricht. Ich bin bis zum 15. nicht im Büro und habe keinen Zugriff auf meine E-Mails."),
               ("Abwesenheitsnotiz", "Ich bin derzeit abwesend und ab Montag wieder erreichbar. Diese Nachricht wurde automatisch erstellt.")],
        "fr": [("Réponse automatique : {subj}", "Bonjour, je suis absente du bureau jusqu'au lundi 10 et je répondrai à votre message à mon retour.")],
        "it": [("Risposta automatica: {subj}", "Grazie per il messaggio. Sono fuori ufficio fino a lunedì con accesso limitato alla posta.")],
        "es": [("Respuesta automática: {subj}", "Gracias por su mensaje. Estoy fuera de la oficina hasta el lunes y responderé a mi regreso.")],
        "ja": [("自動返信: {subj}", "このメールは自動返信です。ただいま休暇中のため、月曜日以降に順次ご返信いたします。")],
    },
    "held": {
        "en": [("Auto-Reply: {subj}", "Hi! Thanks for reaching out. I'm travelling with no signal until the 20th; your message will be read after that."),
               ("Undeliverable: {subj}", "Your message could not be delivered to one or more recipients. The recipient's mailbox is full.")],
        "de": [("Abwesend: {subj}", "Guten Tag, ich bin im Urlaub und ab dem 3. wieder da. Ihre E-Mail wird nicht weitergeleitet.")],
        "fr": [("Absence : {subj}", "Ceci est une réponse automatique. Je suis en congé et n'ai pas accès à mes e-mails.")],
        "it": [("Fuori sede: {subj}", "Questa è una risposta automatica. Sono in ferie fino al 5 e leggerò la posta al rientro.")],
        "es": [("Fuera de la oficina: {subj}", "Esta es una respuesta automática. Estoy de vacaciones sin acceso al correo hasta el día 5.")],
        "ja": [("不在のお知らせ: {subj}", "誠に勝手ながら、ただいま不在にしております。戻り次第ご連絡いたします。")],
    },
}
_NOTICE_FROM = {
    "a_to_z_claim": {"train": ["atoz-guarantee-no-reply@amazon.{tld}", "seller-guarantee@amazon.{tld}"], "held": ["no-reply@amazon.{tld}"]},
    "account_health": {"train": ["seller-performance@amazon.{tld}", "performance-notifications@amazon.{tld}"], "held": ["seller-notification@amazon.{tld}", "donotreply@amazon.{tld}"]},
}
_RELAY_SUBJECT = {
    "en": ["Inquiry from Amazon customer {name} (Order: {oid})", "Order delivery inquiry from Amazon customer {name} (Order: {oid})",
           "Product details inquiry from Amazon customer {name} (Order: {oid})", "Return policy inquiry from Amazon customer {name} (Order: {oid})"],
    "de": ["Anfrage von Amazon-Kunde {name} (Bestellung: {oid})", "Anfrage zur Lieferung von Amazon-Kunde {name} (Bestellung: {oid})"],
    "fr": ["Demande de renseignements du client Amazon {name} (Commande : {oid})"],
    "it": ["Richiesta dal cliente Amazon {name} (Ordine: {oid})"],
    "es": ["Consulta del cliente de Amazon {name} (Pedido: {oid})"],
    "ja": ["Amazonのお客様 {name} からのお問い合わせ (注文番号: {oid})"],
}
_NAMES = ["Cherri", "Tom", "Anna", "Luca", "Marie", "Javier", "Yuki", "Sven", "Lisa", "Paolo", "Hiro", "Emma"]
_QUOTE = {
    "en": "On Mon, 3 Nov 2026 at 10:12, Seller Support wrote:\n> Thank you for your message. We will check and get back to you.\n> Best regards",
    "de": "Am 03.11.2026 um 10:12 schrieb Verkäufer-Support:\n> Vielen Dank für Ihre Nachricht. Wir prüfen das.\n> Viele Grüße",
    "fr": "Le lun. 3 nov. 2026 à 10:12, Service vendeur a écrit :\n> Merci pour votre message. Nous vérifions.",
    "it": "Il giorno lun 3 nov 2026 alle 10:12 Assistenza venditore ha scritto:\n> Grazie per il messaggio, verifichiamo subito.",
    "es": "El lun, 3 nov 2026 a las 10:12, Atención al vendedor escribió:\n> Gracias por su mensaje. Lo revisamos.",
    "ja": "2026年11月3日(月) 10:12 Seller Support wrote:\n> お問い合わせありがとうございます。確認いたします。",
}
_EMOJI = ["🙏", "😡", "😊", "📦", "😢", "👍", "🤔", "!!", "??", "🙂🙂"]


def _order_id(rng: random.Random) -> str:
    return f"{rng.randint(100, 999)}-{rng.randint(0, 9999999):07d}-{rng.randint(0, 9999999):07d}"


def _asin(rng: random.Random) -> str:
    return "B0" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(8))


def _typo(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    cands = [i for i, w in enumerate(words) if len(w) > 4 and w.isalpha()]
    for i in rng.sample(cands, min(len(cands), 2)):
        w = words[i]
        j = rng.randrange(1, len(w) - 2)
        op = rng.choice(("swap", "drop", "double"))
        if op == "swap":
            w = w[:j] + w[j + 1] + w[j] + w[j + 2:]
        elif op == "drop":
            w = w[:j] + w[j + 1:]
        else:
            w = w[:j] + w[j] + w[j:]
        words[i] = w
    return " ".join(words)


class _Gen:
    def __init__(self, bank: dict, split: str, rng: random.Random, threats: set[str]):
        self.bank, self.split, self.rng, self.threats = bank, split, rng, threats
        self.key = "held" if split == "heldout" else "train"

    def pick(self, section: str, lang: str, fallback_en: bool = True) -> str | None:
        opts = self.bank.get(section, {}).get(self.key, {}).get(lang)
        if not opts and fallback_en:
            return None
        return self.rng.choice(opts) if opts else None

    def lang(self, available: list[str]) -> str:
        langs = [lg for lg in LANG_WEIGHTS if lg in available]
        return self.rng.choices(langs, weights=[LANG_WEIGHTS[lg] for lg in langs])[0]

    def fill(self, phrase: str, lang: str) -> str:
        if "{item}" in phrase:
            phrase = phrase.replace("{item}", self.pick("_item", lang) or "it")
        return phrase

    def buyer(self, intent: str) -> dict:
        """One buyer message for ``intent``: a core phrase, maybe a second request, a tone, a
        frame (greeting, order id, closing) and surface noise (typos, capitals, emoji, quotes)."""
        rng = self.rng
        lang, market, parts, label, risk, tags = self._requests(intent)
        label, risk = self._tone(lang, label, risk, parts, tags)
        self._aside(lang, label, parts, tags)
        sep = "" if lang in ("ja", "zh") else " "
        self._frame(lang, parts, tags, sep)
        body = sep.join(p.strip(" ") if not p.startswith("\n") else p for p in parts).replace(" \n", "\n").replace("\n ", "\n")
        body, risk = self._surface(body, lang, risk, tags)
        name = rng.choice(_NAMES)
        subj_lang = lang if lang in _RELAY_SUBJECT else "en"
        subject = rng.choice(_RELAY_SUBJECT[subj_lang]).format(name=name, oid=_order_id(rng))
        from_addr = f"{''.join(rng.choice('abcdefghijklmnopqrstuvwxyz0123456789') for _ in range(14))}@marketplace.amazon.{TLD[market]}"
        return self._row(intent=label, risk=risk, lang=lang, market=market, subject=subject, body=body,
                         from_addr=from_addr, tags=tags, kind="buyer_message")

    def _requests(self, intent: str) -> tuple:
        """The core request and, sometimes, a second one (the label goes by precedence)."""
        rng = self.rng
        core_bank = self.bank[intent][self.key]
        lang = self.lang(list(core_bank))
        market = rng.choice(LANG_MARKETS[lang])
        raw = rng.choice(core_bank[lang])
        core = self.fill(raw, lang)
        intents = [intent]
        parts = [core]
        tags: list[str] = []
        risk = tx.intent_risk(intent)
        if raw in self.threats:
            risk = "high"
            tags.append("threat")
        if intent == "feedback_review" and NEG_REVIEW.search(core):
            risk = tx.max_risk(risk, "medium")
        if rng.random() < 0.18:  # multi-intent: a second request, label by precedence
            other = rng.choice([i for i in BUYER_INTENTS if i != intent and lang in self.bank[i][self.key]])
            raw_extra = rng.choice(self.bank[other][self.key][lang])
            extra = self.fill(raw_extra, lang)
            if raw_extra in self.threats:
                risk = "high"
                tags.append("threat")
            if other == "feedback_review" and NEG_REVIEW.search(extra):
                risk = tx.max_risk(risk, "medium")
            parts = [extra, core] if rng.random() < 0.5 else [core, extra]
            intents.append(other)
            tags.append("multi_intent")
        label = tx.by_precedence(intents)
        return lang, market, parts, label, tx.max_risk(risk, tx.intent_risk(label)), tags

    def _tone(self, lang: str, label: str, risk: str, parts: list, tags: list) -> tuple[str, str]:
        """Sometimes a threat, a safety problem or anger, which raise the risk."""
        rng = self.rng
        r = rng.random()
        if r < 0.10 and lang in self.bank["_threat"][self.key]:
            parts.append(rng.choice(self.bank["_threat"][self.key][lang]))
            risk = "high"
            tags.append("threat")
        elif r < 0.17 and lang in self.bank["_safety"][self.key] and label in ("damaged_defective", "product_question", "return_refund", "other"):
            # a product that burns, smokes or hurts is defective: precedence decides the intent
            parts.append(rng.choice(self.bank["_safety"][self.key][lang]))
            label = tx.by_precedence([label, "damaged_defective"])
            risk = "high"
            tags.append("safety")
        elif r < 0.23 and lang in self.bank["_angry"][self.key]:
            parts.append(rng.choice(self.bank["_angry"][self.key][lang]))
            risk = tx.max_risk(risk, "medium")
            tags.append("angry")
        return label, risk

    def _aside(self, lang: str, label: str, parts: list, tags: list) -> None:
        """Sometimes a sentence that asks for nothing (context, a remark, a problem denied: "the
        box was dented but nothing inside is broken"): it must not change the intent. Not beside
        a missing parcel or a broken product, which some asides would contradict."""
        rng = self.rng
        if rng.random() < 0.15 and label not in ("not_received", "damaged_defective"):
            a = self.pick("_aside", lang)
            if a:
                parts.insert(rng.randrange(len(parts) + 1), self.fill(a, lang))
                tags.append("aside")

    def _frame(self, lang: str, parts: list, tags: list, sep: str) -> None:
        """A greeting (sometimes in another language), an order id, a closing; or a short message."""
        rng = self.rng
        if len(parts) == 1 and rng.random() < 0.12:
            tags.append("short")
            return
        if rng.random() < 0.6:
            g = self.pick("_greet", lang)
            if g and rng.random() < 0.06:  # mixed language greeting
                other_lang = rng.choice(_LATIN_GREETING_LANGS)
                g = self.pick("_greet", other_lang) or g
                tags.append("mixed_greeting")
            if g:
                parts.insert(0, g + ("\n" if rng.random() < 0.5 else sep))
        if rng.random() < 0.3:
            oid = _order_id(rng)
            ctx = {"en": f"Order {oid}.", "de": f"Bestellung {oid}.", "fr": f"Commande {oid}.", "it": f"Ordine {oid}.",
                   "es": f"Pedido {oid}.", "ja": f"注文番号：{oid}。", "nl": f"Bestelling {oid}.", "zh": f"订单号{oid}。",
                   "sv": f"Order {oid}.", "pl": f"Zamówienie {oid}.", "pt": f"Pedido {oid}."}[lang]
            parts.insert(1 if len(parts) > 1 else 0, ctx)
        if rng.random() < 0.55:
            c = self.pick("_close", lang)
            if c:
                parts.append("\n" + c)

    def _surface(self, body: str, lang: str, risk: str, tags: list) -> tuple[str, str]:
        """Typos, shouting, emoji, quoted history, and sometimes the whole relay frame around it."""
        rng = self.rng
        if rng.random() < (0.08 if self.split == "heldout" else 0.2) and lang not in ("ja", "zh"):
            body = _typo(body, rng)
            tags.append("typo")
        if rng.random() < 0.05 and lang not in ("ja", "zh") and len(body) > 25:
            body = body.upper()
            risk = tx.max_risk(risk, "medium")
            tags.append("all_caps")
        if rng.random() < 0.08:
            body = body + " " + rng.choice(_EMOJI)
            tags.append("emoji")
        if rng.random() < 0.08 and lang in _QUOTE:
            body = body + "\n\n" + _QUOTE[lang]
            tags.append("quoted_history")
        if rng.random() < 0.15:
            oid = _order_id(rng)
            body = (relay.ORDER_LINES["en"].format(o=oid) +
                    f"\n1 of {self.pick('_item', 'en') or 'item'} [ASIN: {_asin(rng)}]\n\n" +
                    relay.FRAME_MARKERS["en"][0] + "\n\n" + body + "\n\n" + relay.FRAME_MARKERS["en"][1] +
                    "\n\nFor Your Safety: Amazon does not send emails asking for your password.\n" +
                    relay.comm_token(_asin(rng)))
            tags.append("relay_frame")
        return body, risk

    def notice(self, intent: str) -> dict:
        rng = self.rng
        table = {"a_to_z_claim": _ATOZ, "account_health": _HEALTH, "auto_reply": _AUTO}[intent][self.key]
        lang = self.lang(list(table))
        market = rng.choice(LANG_MARKETS[lang])
        subj, body = rng.choice(table[lang])
        oid, asin = _order_id(rng), _asin(rng)
        subj = subj.format(oid=oid, asin=asin, subj=rng.choice(["Re: your order", "Your Amazon order", "Re: " + oid]))
        body = body.format(oid=oid, asin=asin)
        tags: list[str] = []
        kind = "auto_reply" if intent == "auto_reply" else "amazon_notice"
        if intent == "auto_reply":
            if "Delivery Status" in subj or "Undeliverable" in subj:
                from_addr = rng.choice(["mailer-daemon@googlemail.com", "postmaster@outlook.com", "MAILER-DAEMON@amazonses.com"])
            else:
                from_addr = f"{''.join(rng.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(12))}@marketplace.amazon.{TLD[market]}"
        else:
            from_addr = rng.choice(_NOTICE_FROM[intent][self.key]).format(tld=TLD[market])
        r = rng.random()
        if r < 0.3:  # forwarded by a colleague without headers: only the model can tell
            subj, from_addr, kind = "Fwd: " + subj if rng.random() < 0.5 else "", "", "buyer_message"
            tags.append("no_headers")
        risk = tx.intent_risk(intent)
        return self._row(intent=intent, risk=risk, lang=lang, market=market, subject=subj, body=body,
                         from_addr=from_addr, tags=tags, kind=kind)

    def _row(self, *, intent, risk, lang, market, subject, body, from_addr, tags, kind) -> dict:
        from seller_inbox.domain.relay import own_text

        reason = fallback_reason(own_text(body, kind))  # the text the parser stores
        if reason == "han":   # the contract: Chinese on any marketplace but kanji-only Japanese on JP
            lang_label = detect_language(own_text(body, kind), market)[0]
            tags = tags + ["lang_han_fallback"] if lang_label != lang else tags
        elif reason in ("short", "empty"):
            lang_label = marketplace_language(market)
            tags = tags + [f"lang_{reason}_fallback"] if lang_label != lang else tags
        else:
            lang_label = lang
        return {"subject": subject, "body": body, "marketplace": market, "from_addr": from_addr, "kind": kind,
                "intent": intent, "risk": risk, "language": lang_label, "tags": sorted(set(tags)), "split": self.split}


def generate(per_intent_train: int = 500, per_intent_heldout: int = 70, seed: int = SEED) -> list[dict]:
    bank, threats = _parse_bank(BANK_FILE)
    rows: list[dict] = []
    for split, n in (("train", per_intent_train), ("heldout", per_intent_heldout)):
        rng = random.Random(f"{seed}:{split}")
        gen = _Gen(bank, split, rng, threats)
        seen: set[str] = set()
        for intent in tx.INTENTS:
            made, tries = 0, 0
            while made < n and tries < n * 20:
                tries += 1
                row = gen.notice(intent) if intent in ("a_to_z_claim", "account_health", "auto_reply") else gen.buyer(intent)
                key = row["body"] if intent not in ("a_to_z_claim", "account_health", "auto_reply") else row["body"] + row["subject"] + row["from_addr"]
                if key in seen:
                    continue
                seen.add(key)
                rows.append(row)
                made += 1
        if split == "train":  # top up intents that multi-intent relabelling left short
            from collections import Counter

            have = Counter(r["intent"] for r in rows if r["split"] == "train")
            for intent in tx.INTENTS:
                tries = 0
                while have[intent] < MIN_TRAIN_PER_INTENT and tries < 2000:
                    tries += 1
                    row = gen.buyer(intent) if intent in BUYER_INTENTS else gen.notice(intent)
                    if row["intent"] != intent or row["body"] in seen:
                        continue
                    seen.add(row["body"])
                    rows.append(row)
                    have[intent] += 1
    for i, row in enumerate(rows):
        row["id"] = f"{'tr' if row['split'] == 'train' else 'ho'}-{i:05d}"
    # multi-intent generation labels some rows with a higher intent than asked for: fine
    return [{"id": r["id"], **{k: v for k, v in r.items() if k != "id"}} for r in rows]


def write(path: Path = CORPUS_FILE) -> Path:
    rows = generate()
    with open(path, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n")
    return path


def load(path: Path = CORPUS_FILE, split: str | None = None) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if split is None or r["split"] == split]


def load_handwritten(path: Path = HANDWRITTEN_FILE) -> list[dict]:
    """The hand-written training messages, each row checked like a frozen evaluation row (one
    line naming file, line and field when one is malformed)."""
    from seller_inbox_dev.classify.evaluate import read_labelled

    return read_labelled(path, "the hand-written training messages")


def training_rows() -> list[dict]:
    """Everything ``classify train`` learns from: the corpus' training split, then each
    hand-written training message ``REAL_TEXT_REPEAT`` times."""
    extra = [{**r, "id": f"{r['id']}#{k}", "split": "train"} for r in load_handwritten() for k in range(REAL_TEXT_REPEAT)]
    return load(split="train") + extra


if __name__ == "__main__":  # pragma: no cover
    p = write()
    rows = load(p)
    from collections import Counter

    print(p, len(rows), Counter((r["split"], r["intent"]) for r in rows))


NONE = "_none"  # segment-level class: greetings, closings, threats, complaints (no request)


def segment_rows(split: str = "train", seed: int = SEED) -> list[dict]:
    """Sentence-level training rows from the phrase bank (training phrases only).

    Each request phrase is labelled with its intent; safety sentences count as
    ``damaged_defective``; greetings, closings, threats, complaints and asides are ``_none``.
    """
    if split != "train":
        raise ValueError("segment rows exist for the training split only")
    bank = load_bank()
    rng = random.Random(f"{seed}:segments")
    rows: list[dict] = []
    for section, sides in bank.items():
        if section == "_item":
            continue
        label = {"_safety": "damaged_defective", "_threat": NONE, "_angry": NONE, "_greet": NONE, "_close": NONE,
                 "_aside": NONE}.get(section, section)
        for lang, phrases in sides["train"].items():
            items = bank["_item"]["train"].get(lang) or ["it"]
            for ph in phrases:
                text = ph.replace("{item}", rng.choice(items)) if "{item}" in ph else ph
                rows.append({"text": text, "intent": label, "lang": lang})
                # the sentences of a multi-sentence phrase, as inference sees them
                from seller_inbox.classify.model import segments

                parts = segments(text)
                if len(parts) > 1:
                    rows.extend({"text": p, "intent": label, "lang": lang} for p in parts)
                if lang not in ("ja", "zh") and label != NONE:  # augmentation: misspelt copies
                    for _ in range(2):
                        rows.append({"text": _typo(text, rng), "intent": label, "lang": lang})
    return rows
