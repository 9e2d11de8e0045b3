"""Demo relay-mail generator: realistic mailboxes for the demo stores.

``write_demo_mail(root, stores, start, end, seed)`` writes, per store, a Maildir++ mailbox
under ``root/<store_id>/`` (inbox at the root, seller replies in ``.Sent``) holding every
mail whose own timestamp falls in [start, end):

- buyer messages (10-40 per store per day) in the marketplace's language (EN/DE/FR/IT/ES/JA)
  about the simulator's real orders (``seller_inbox_dev.sandbox.data.generate_orders``: same
  order ids, ASINs and relay aliases the SP-API simulator serves), covering the taxonomy
  intents, pre-sale questions without order id, and a few high-risk ones (A-to-z threats,
  safety problems); some sign with full name, phone or address (redaction has work to do);
- seller replies with realistic delays (most within hours, some after 24 h, some never),
  a store auto-responder (never counts as a reply), "no response needed" marks (Dovecot
  keyword ``$NoResponseNeeded``) on thank-you notes;
- Amazon notices: an A-to-z Guarantee claim notice for exactly the orders the simulator gives
  a claim (``seller_inbox_dev.sandbox.defects``), dated when the claim was filed, so the
  claims we count agree with the simulator's performance report; account-health notices,
  bounces and buyer out-of-office replies.

Deterministic: mails are generated per UTC day from ``(seed, store, day)``; a mail belongs
to the window its own timestamp falls in, so adjacent windows never overlap or miss one.
File names are stable (``<epoch>.<hash>.demo:2,<flags>``): rewriting a window keeps the
existing files and adds nothing.
"""

from __future__ import annotations

import bisect
import hashlib
import os
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime
from pathlib import Path

from seller_inbox.domain import marketplaces as mp
from seller_inbox.domain import relay

UTC = timezone.utc
NRN_KEYWORD = "$NoResponseNeeded"
_LOOKBACK_DAYS = 3   # replies/notices of messages generated up to this many days before the window
_CLAIM_LOOKBACK = timedelta(days=47)   # a claim is filed at most 45 days 23 h after the purchase (defects.py)


# --------------------------------------------------------------------------- orders adapter
def _orders(seller_id: str, start: datetime, end: datetime, seed: int, orders_per_day: int | None = None) -> list:
    """The simulator's orders (one line to switch the source); ``orders_per_day`` as the simulator's."""
    from seller_inbox_dev.sandbox.data import generate_orders

    return generate_orders(seller_id, start, end, seed=seed, orders_per_day=orders_per_day)


def _claims_by_day(store, orders: list, seed: int) -> dict[date, list]:
    """The store's simulator claims by UTC day filed: {day: [(claim_at, order, arrived)]}."""
    from seller_inbox_dev.sandbox.data import delivery
    from seller_inbox_dev.sandbox.defects import defects

    out: dict[date, list] = {}
    for o in orders:
        if o.marketplace not in store.marketplace_codes:
            continue
        c = defects(o, seed).claim_at
        if c is not None:
            dl = delivery(o, seed)
            out.setdefault(c.date(), []).append((c, o, dl is not None and dl.delivered_at is not None))
    return out


# --------------------------------------------------------------------------- texts
LANG_OF = {"US": "en", "CA": "en", "UK": "en", "AU": "en", "SG": "en", "DE": "de", "FR": "fr", "IT": "it",
           "ES": "es", "MX": "es", "JP": "ja", "BR": "en", "NL": "en", "PL": "en", "SE": "en"}

SUBJECT = {
    "en": ("{topic} from Amazon customer {name} (Order: {oid})", "{topic} from Amazon customer {name}"),
    "de": ("{topic} von Amazon-Kunde {name} (Bestellung: {oid})", "{topic} von Amazon-Kunde {name}"),
    "fr": ("{topic} de la part du client Amazon {name} (Commande : {oid})", "{topic} de la part du client Amazon {name}"),
    "it": ("{topic} dal cliente Amazon {name} (Ordine: {oid})", "{topic} dal cliente Amazon {name}"),
    "es": ("{topic} del cliente de Amazon {name} (Pedido: {oid})", "{topic} del cliente de Amazon {name}"),
    "ja": ("Amazon.co.jp のお客様 {name} からの{topic} (注文番号: {oid})", "Amazon.co.jp のお客様 {name} からの{topic}"),
}
TOPIC = {
    "en": {"delivery": "Order delivery inquiry", "return": "Return policy inquiry",
           "product": "Product details inquiry", "general": "Inquiry"},
    "de": {"delivery": "Anfrage zur Lieferung", "return": "Anfrage zur Rücksendung",
           "product": "Anfrage zu Produktdetails", "general": "Anfrage"},
    "fr": {"delivery": "Demande concernant la livraison", "return": "Demande de retour",
           "product": "Demande de renseignements sur le produit", "general": "Demande"},
    "it": {"delivery": "Richiesta sulla consegna", "return": "Richiesta di reso",
           "product": "Richiesta di informazioni sul prodotto", "general": "Richiesta"},
    "es": {"delivery": "Consulta sobre la entrega", "return": "Consulta sobre devoluciones",
           "product": "Consulta sobre detalles del producto", "general": "Consulta"},
    "ja": {"delivery": "配送に関するお問い合わせ", "return": "返品に関するお問い合わせ",
           "product": "商品詳細に関するお問い合わせ", "general": "お問い合わせ"},
}
# intent -> (topic key, needs order, {lang: [texts]}); {item} is the product title
TEXTS: dict[str, tuple[str, bool, dict[str, list[str]]]] = {
    "order_status": ("delivery", True, {
        "en": ["Hi, where is my order? It still shows as not shipped.", "When will my {item} arrive? I need it by the weekend."],
        "de": ["Hallo, wann kommt meine Bestellung? Sie ist noch nicht verschickt.", "Wo ist mein Paket? Die Sendungsverfolgung zeigt nichts an."],
        "fr": ["Bonjour, quand ma commande sera-t-elle expédiée ?", "Où en est mon colis ? Le suivi ne bouge plus."],
        "it": ["Buongiorno, quando arriverà il mio ordine?", "Dov'è il mio pacco? Il tracking non si aggiorna."],
        "es": ["Hola, ¿cuándo llegará mi pedido?", "¿Dónde está mi paquete? El seguimiento no avanza."],
        "ja": ["注文した商品はいつ発送されますか？", "荷物がまだ届きません。配送状況を教えてください。"]}),
    "not_received": ("delivery", True, {
        "en": ["Tracking says delivered but there is nothing here. I checked with my neighbours."],
        "de": ["Laut Sendungsverfolgung zugestellt, aber hier ist nichts angekommen."],
        "fr": ["Le suivi indique livré mais je n'ai jamais reçu le colis."],
        "it": ["Risulta consegnato ma non ho ricevuto nulla."],
        "es": ["El seguimiento dice entregado pero no he recibido nada."],
        "ja": ["配達済みになっていますが、商品が届いていません。"]}),
    "damaged_defective": ("return", True, {
        "en": ["The {item} arrived broken, the box was crushed.", "My {item} stopped working after two days."],
        "de": ["Der Artikel ist beschädigt angekommen, {item} funktioniert nicht.", "Leider ist die Ware defekt."],
        "fr": ["L'article est arrivé cassé, il ne fonctionne pas."],
        "it": ["Il prodotto è arrivato danneggiato e non funziona."],
        "es": ["El producto llegó roto y no funciona. Faltan piezas."],
        "ja": ["商品が壊れて届きました。電源が入りません。"]}),
    "wrong_item": ("return", True, {
        "en": ["I ordered black and received a white one. Wrong item."],
        "de": ["Ich habe die falsche Farbe bekommen, bestellt war Schwarz."],
        "fr": ["J'ai reçu le mauvais article, ce n'est pas ce que j'ai commandé."],
        "it": ["Ho ricevuto un articolo sbagliato, non è quello ordinato."],
        "es": ["He recibido un artículo equivocado, no es lo que pedí."],
        "ja": ["注文した色と違う商品が届きました。"]}),
    "return_refund": ("return", True, {
        "en": ["How do I return the {item}? I no longer need it."], "de": ["Wie kann ich den Artikel zurücksenden? Bitte um Rückerstattung."],
        "fr": ["Comment retourner l'article ? Je souhaite un remboursement."], "it": ["Come posso fare il reso? Vorrei un rimborso."],
        "es": ["¿Cómo devuelvo el producto? Quiero un reembolso."], "ja": ["返品したいのですが、手続きを教えてください。"]}),
    "cancel_order": ("delivery", True, {
        "en": ["Please cancel my order, I ordered by mistake."], "de": ["Bitte stornieren Sie meine Bestellung."],
        "fr": ["Merci d'annuler ma commande, c'était une erreur."], "it": ["Per favore annullate il mio ordine."],
        "es": ["Por favor, cancelen mi pedido."], "ja": ["間違えて注文したのでキャンセルしてください。"]}),
    "address_change": ("delivery", True, {
        "en": ["I moved last week. Can you ship to {address} instead? Call me on {phone} if needed."],
        "de": ["Ich bin umgezogen, bitte liefern Sie an {address}. Telefon: {phone}"],
        "fr": ["J'ai déménagé, pouvez-vous livrer au {address} ? Tél. {phone}"],
        "it": ["Ho cambiato indirizzo, potete spedire a {address}? Tel. {phone}"],
        "es": ["Me he mudado, ¿pueden enviarlo a {address}? Tel. {phone}"],
        "ja": ["住所が変わりました。{address}に送ってください。電話 {phone}"]}),
    "size_fit": ("product", True, {
        "en": ["Does this run small? Which size should I exchange it for?"], "de": ["Welche Größe soll ich nehmen? Fällt es klein aus?"],
        "fr": ["Quelle taille me conseillez-vous ? Ça taille petit ?"], "it": ["Che taglia mi consigliate? Veste piccolo?"],
        "es": ["¿Qué talla me recomiendan? ¿Es de talla pequeña?"], "ja": ["サイズは小さめですか？交換したいです。"]}),
    "product_question": ("product", True, {
        "en": ["Is the {item} compatible with the older model? How do I clean it?"],
        "de": ["Ist der Artikel spülmaschinenfest? Wie reinige ich ihn?"], "fr": ["Le produit passe-t-il au lave-vaisselle ?"],
        "it": ["Il prodotto si può lavare in lavastoviglie?"], "es": ["¿El producto se puede lavar en el lavavajillas?"],
        "ja": ["この商品はiPhone 15に対応していますか？"]}),
    "invoice_request": ("general", True, {
        "en": ["Could you send me an invoice with VAT for my company?"], "de": ["Bitte senden Sie mir eine Rechnung mit ausgewiesener MwSt."],
        "fr": ["Pourriez-vous m'envoyer une facture avec TVA ?"], "it": ["Potete inviarmi la fattura con IVA?"],
        "es": ["¿Me pueden enviar una factura con IVA?"], "ja": ["領収書を発行していただけますか？"]}),
    "feedback_review": ("general", True, {
        "en": ["This is unacceptable. If I do not hear back today I will leave a 1 star review."],
        "de": ["Wenn ich keine Antwort bekomme, gebe ich eine schlechte Bewertung mit 1 Stern."],
        "fr": ["Sans réponse de votre part je laisserai un avis à 1 étoile."], "it": ["Se non rispondete lascerò una recensione negativa."],
        "es": ["Si no me responden dejaré una reseña de 1 estrella."], "ja": ["返事がなければ星1つのレビューを書きます。"]}),
    "thanks": ("general", True, {
        "en": ["Got it, thanks a lot!"], "de": ["Alles angekommen, vielen Dank!"], "fr": ["Bien reçu, merci beaucoup !"],
        "it": ["Ricevuto, grazie mille!"], "es": ["Recibido, ¡muchas gracias!"], "ja": ["無事に届きました。ありがとうございました。"]}),
    "presale": ("product", False, {
        "en": ["Before I buy: is the {item} waterproof?"], "de": ["Bevor ich bestelle: Ist der Artikel aus Edelstahl?"],
        "fr": ["Avant d'acheter : est-ce que l'article est en inox ?"], "it": ["Prima di acquistare: è in acciaio inox?"],
        "es": ["Antes de comprar: ¿es de acero inoxidable?"], "ja": ["購入前の質問です。防水ですか？"]}),
    "a_to_z_threat": ("delivery", True, {
        "en": ["Still nothing after two weeks. I will file an A-to-z claim and dispute the charge with my bank."],
        "de": ["Immer noch nichts. Ich werde einen A-bis-z-Garantieantrag stellen."],
        "fr": ["Toujours rien. Je vais ouvrir une réclamation A à Z."], "it": ["Ancora niente. Aprirò una richiesta di rimborso dalla A alla Z."],
        "es": ["Sigo sin nada. Voy a abrir una reclamación de la Garantía de la A a la Z."],
        "ja": ["まだ届きません。Amazonマーケットプレイス保証を申請します。"]}),
    "safety": ("return", True, {
        "en": ["The {item} got extremely hot and started to smoke while charging. This is dangerous."],
        "de": ["Das Gerät wurde sehr heiß und hat gequalmt. Das ist gefährlich!"],
        "fr": ["L'appareil a chauffé et a commencé à fumer. C'est dangereux."],
        "it": ["Il prodotto si è surriscaldato e ha fatto fumo. È pericoloso."],
        "es": ["El producto se calentó mucho y echó humo. Es peligroso."],
        "ja": ["充電中に本体が熱くなり、煙が出ました。危険です。"]}),
}
WEIGHTS = {"order_status": 22, "not_received": 5, "damaged_defective": 8, "wrong_item": 4, "return_refund": 8,
           "cancel_order": 4, "address_change": 3, "size_fit": 4, "product_question": 8, "invoice_request": 5,
           "feedback_review": 3, "thanks": 8, "presale": 8, "a_to_z_threat": 2, "safety": 1}
SIGN = {"en": "Thanks,", "de": "Viele Grüße", "fr": "Cordialement,", "it": "Cordiali saluti,", "es": "Saludos,",
        "ja": "よろしくお願いします。"}
ADDRESS = {"en": "42 Maple Street, Apt 3", "de": "Lindenstraße 12, 50667 Köln", "fr": "12 rue de la Paix, 69002 Lyon",
           "it": "Via Roma 5, 10121 Torino", "es": "Calle Mayor 7, 46001 Valencia", "ja": "〒530-0001 大阪府大阪市北区梅田1-2-3"}
# Buyers' own e-mail addresses, written under some signatures (redaction must catch them).
PERSONAL_EMAIL = {"en": "emily.r.carter@gmail.com", "de": "lena.hofmann84@web.de", "fr": "chloe.morel@orange.fr",
                  "it": "sara.ricci@libero.it", "es": "lucia.navarro@hotmail.es", "ja": "aoi.fujimoto@docomo.ne.jp"}
# First names and surnames of buyers without an order (buyers with one sign with the order's name).
FIRST_NAMES = {"en": ["Emily", "Jack"], "de": ["Lena", "Felix"], "fr": ["Chloé", "Hugo"], "it": ["Sara", "Luca"],
               "es": ["Lucía", "Pablo"], "ja": ["Aoi", "Ren"]}
SURNAMES = ["Wagner", "Dubois", "Bianchi", "López", "Brown", "Suzuki"]
PHONE = {"en": "(555) 010-4477", "de": "+49 170 1234567", "fr": "06 12 34 56 78", "it": "+39 333 123 4567",
         "es": "+34 612 345 678", "ja": "090-1234-5678"}
REPLY = {
    "en": ("Hi {first},\n\nthank you for your message. We have checked your order and will take care of it today.\n\nBest regards,\n{store}",
           "On {date}, {first} - Amazon Marketplace wrote:"),
    "de": ("Hallo {first},\n\nvielen Dank für Ihre Nachricht. Wir kümmern uns heute darum.\n\nMit freundlichen Grüßen\n{store}",
           "Am {date} schrieb {first} - Amazon Marketplace:"),
    "fr": ("Bonjour {first},\n\nmerci pour votre message. Nous nous en occupons aujourd'hui.\n\nCordialement,\n{store}",
           "Le {date}, {first} - Amazon Marketplace a écrit :"),
    "it": ("Buongiorno {first},\n\ngrazie per il messaggio. Ce ne occupiamo oggi stesso.\n\nCordiali saluti,\n{store}",
           "Il {date} {first} - Amazon Marketplace ha scritto:"),
    "es": ("Hola {first},\n\ngracias por su mensaje. Nos encargamos hoy mismo.\n\nSaludos cordiales,\n{store}",
           "El {date}, {first} - Amazon Marketplace escribió:"),
    "ja": ("{first}様\n\nお問い合わせありがとうございます。本日中に対応いたします。\n\nよろしくお願いいたします。\n{store}",
           "{date} {first} - Amazon Marketplace のメッセージ:"),
}
ACCOUNT_HEALTH = {
    "en": ("Your account is at risk: Late Response Rate above target",
           "Hello,\n\nYour Late Response Rate is above our target of 10%. Please review your Account Health dashboard."),
    "de": ("Ihr Konto ist gefährdet: Rate verspäteter Antworten über dem Zielwert",
           "Guten Tag,\n\nIhre Rate verspäteter Antworten liegt über dem Zielwert von 10 %."),
    "fr": ("Votre compte est à risque : taux de réponses tardives", "Bonjour,\n\nVotre taux de réponses tardives dépasse 10 %."),
    "it": ("Il tuo account è a rischio: tasso di risposte in ritardo", "Buongiorno,\n\nIl tasso di risposte in ritardo supera il 10%."),
    "es": ("Tu cuenta está en riesgo: tasa de respuestas tardías", "Hola,\n\nTu tasa de respuestas tardías supera el 10 %."),
    "ja": ("アカウントの健全性に関するお知らせ: 返信遅延率", "返信遅延率が目標値の10%を超えています。"),
}


# --------------------------------------------------------------------------- Maildir writing
def ensure_maildir(root: Path, folders: tuple[str, ...] = ("Sent",)) -> None:
    """Create a Maildir++ mailbox (inbox at ``root``, ``.<Folder>`` subfolders) with Dovecot's keyword file."""
    for d in [root] + [root / f".{f}" for f in folders]:
        for sub in ("cur", "new", "tmp"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        kw = d / "dovecot-keywords"
        if not kw.exists():
            kw.write_text(f"0 {NRN_KEYWORD}\n", encoding="utf-8")
        if d != root:
            (d / "maildirfolder").touch()
    subs = root / "subscriptions"
    if not subs.exists():
        subs.write_text("".join(f + "\n" for f in folders), encoding="utf-8")


def _existing(folder_dir: Path) -> set[str]:
    out = set()
    for sub in ("cur", "new"):
        try:
            out.update(n.split(":", 1)[0] for n in os.listdir(folder_dir / sub))
        except FileNotFoundError:
            pass
    return out


def deliver(folder_dir: Path, raw: bytes, when: datetime, key: str, *, nrn: bool = False,
            existing: set[str] | None = None) -> bool:
    """Write one mail into a Maildir folder with a stable name; mtime = ``when``. False if it existed.

    ``existing``: the folder's unique names (``_existing``), kept up to date, to avoid a listing per mail."""
    stamp = int(when.timestamp())
    unique = f"{stamp}.M{hashlib.sha256(key.encode()).hexdigest()[:16]}P0.demo"
    if existing is None:
        existing = _existing(folder_dir)
    if unique in existing:
        return False
    existing.add(unique)
    flags = "a" if nrn else ""
    final = folder_dir / "cur" / f"{unique}:2,{flags}"
    tmp = folder_dir / "tmp" / unique
    tmp.write_bytes(raw)
    os.utime(tmp, (stamp, stamp))
    os.replace(tmp, final)
    return True


# --------------------------------------------------------------------------- mail building
def _enc_header(v: str) -> str:
    try:
        v.encode("ascii")
        return v
    except UnicodeEncodeError:
        return Header(v, "utf-8").encode()


def _mail(frm: str, to: str, subject: str, when: datetime, mid: str, text: str, *, html: bool = False,
          extra: dict | None = None, charset: str = "utf-8") -> bytes:
    if html:
        body = "".join(f"<p>{line}</p>" if line else "<br>" for line in text.split("\n"))
        msg = MIMEMultipart("alternative")
        msg.attach(MIMEText(text, "plain", charset))
        msg.attach(MIMEText(f"<html><body>{body}</body></html>", "html", charset))
    else:
        msg = MIMEText(text, "plain", charset)
    msg["Received"] = f"from a8-31.smtp-out.amazonses.com by mx.demo.example; {format_datetime(when)}"
    msg["From"] = frm
    msg["To"] = to
    msg["Subject"] = _enc_header(subject)
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = mid
    for k, v in (extra or {}).items():
        msg[k] = v
    return msg.as_bytes()


def _h(*parts) -> str:
    return hashlib.sha256(":".join(str(p) for p in parts).encode()).hexdigest()


def _signature(rng: random.Random, lang: str, full: str) -> str:
    """Some buyers sign: after a closing formula with their name (sometimes a phone number), or
    with no formula at all, a contact block of name, address, phone and e-mail."""
    r = rng.random()
    if r < 0.35:
        return f"\n\n{SIGN[lang]}\n{full}" + (f"\n{PHONE[lang]}" if rng.random() < 0.3 else "")
    if r < 0.45:
        return f"\n\n{full}\n{ADDRESS[lang]}\n{PHONE[lang]}\n{PERSONAL_EMAIL[lang]}"
    return ""


@dataclass
class _Day:
    """What every mail of one store's generated day shares."""

    store: object
    day: date
    seed: int
    orders: list
    store_addr: str
    rng: random.Random
    day0: datetime
    out: list

    def add(self, folder: str, when: datetime, mid: str, raw: bytes, kind: str, nrn: bool = False) -> None:
        self.out.append((folder, when, mid, raw, kind, nrn))


def _day_plan(store, day: date, seed: int, orders: list, store_addr: str, claims: list = ()) -> list[tuple]:
    """All mails generated for one store and UTC day: (folder, when, key, raw, kind, nrn).
    ``claims``: the simulator's A-to-z claims filed that day (``_claims_by_day``)."""
    d = _Day(store, day, seed, orders, store_addr, random.Random(int(_h(seed, store.id, day.isoformat())[:16], 16)),
             datetime.combine(day, time(0), tzinfo=UTC), [])
    pdates = [o.purchase_date for o in orders]
    autoresponder = int(_h("autoresponder", store.id)[:8], 16) % 3 == 0  # some stores run one
    intents, weights = zip(*WEIGHTS.items())
    for i in range(d.rng.randint(10, 40)):
        when = d.day0 + timedelta(seconds=d.rng.randrange(86400))
        intent = d.rng.choices(intents, weights)[0]
        order = _pick_order(d, intent, when, pdates)
        if order is None and TEXTS[intent][1]:
            continue
        buyer = _buyer(d, order, i)
        mid, subject, text = _buyer_mail(d, intent, when, order, buyer, i)
        _followups(d, intent, when, order, buyer, mid, subject, text, autoresponder)
    _daily_notices(d)
    for claim_at, order, arrived in claims:
        _claim_notice(d, claim_at, order, arrived)
    return d.out


def _pick_order(d: _Day, intent: str, when: datetime, pdates: list):
    """An order the message can be about (purchased a plausible time before), or None."""
    if not TEXTS[intent][1]:
        return None
    lo, hi = {"order_status": (0.2, 6), "cancel_order": (0.05, 1), "address_change": (0.05, 2),
              "presale": (0, 0)}.get(intent, (2, 25))
    i0 = bisect.bisect_left(pdates, when - timedelta(days=hi))
    i1 = bisect.bisect_right(pdates, when - timedelta(days=lo))
    cands = [o for o in d.orders[i0:i1] if o.marketplace in d.store.marketplace_codes]
    return d.rng.choice(cands) if cands else None


def _buyer(d: _Day, order, i: int) -> dict:
    """Who writes: the order's buyer, or (pre-sale) someone with a generated name and alias."""
    if order is not None:
        item = order.items[0]
        full = order.buyer.buyer_name
        return {"code": order.marketplace, "alias": order.buyer.buyer_email, "full": full, "first": full.split()[0],
                "asin": item.asin, "title": item.title}
    code = d.rng.choice(d.store.marketplace_codes)
    first = d.rng.choice(FIRST_NAMES[LANG_OF.get(code, "en")])
    return {"code": code, "alias": relay.relay_alias(_h(d.seed, d.store.id, d.day, i, "alias")[:14], code),
            "full": f"{first} {d.rng.choice(SURNAMES)}", "first": first, "asin": None, "title": "item"}


def _buyer_mail(d: _Day, intent: str, when: datetime, order, b: dict, i: int) -> tuple[str, str, str]:
    """The buyer's message as Amazon relays it; returns (Message-ID, subject, the buyer's text)."""
    topic_key, _, texts = TEXTS[intent]
    lang = LANG_OF.get(b["code"], "en")
    tld = mp.get(b["code"]).domain
    text = d.rng.choice(texts[lang]).format(item=b["title"], address=ADDRESS[lang], phone=PHONE[lang])
    text += _signature(d.rng, lang, b["full"])
    oid = order.amazon_order_id if order else None
    subject = SUBJECT[lang][0 if oid else 1].format(topic=TOPIC[lang][topic_key], name=b["first"], oid=oid)
    head = (relay.ORDER_LINES[lang].format(o=oid) + "\n") if oid else ""
    if b["asin"]:
        head += f"1 of {b['title']} [ASIN: {b['asin']}]\n"
    start, end = relay.FRAME_MARKERS[lang]
    footer = relay.FOOTERS[lang].format(tld=tld)
    token = relay.comm_token(_h(d.seed, b["alias"], when)[:13].upper())
    body = f"{head}\n{start}\n\n{text}\n\n{end}\n\n{footer}\n\n{token}\n"
    mid = f"<{_h(d.seed, d.store.id, d.day, i, 'buyer')[:32]}@email.amazonses.com>"
    nrn = intent == "thanks" and d.rng.random() < 0.6
    raw = _mail(f'"{b["first"]} - Amazon Marketplace" <{b["alias"]}>', d.store_addr, subject, when, mid, body,
                html=d.rng.random() < 0.2)
    d.add("INBOX", when, mid, raw, "buyer_message", nrn)
    return mid, subject, text


def _followups(d: _Day, intent: str, when: datetime, order, b: dict, mid: str, subject: str, text: str,
               autoresponder: bool) -> None:
    """What follows a buyer's message: the store's autoresponder, the seller's reply (most within
    hours, some late, some never), sometimes the buyer's out-of-office. A-to-z claims come from the
    simulator (``_claim_notice``), not from here."""
    lang, tld, alias = LANG_OF.get(b["code"], "en"), mp.get(b["code"]).domain, b["alias"]
    if autoresponder:
        aw = when + timedelta(seconds=d.rng.randint(20, 90))
        amid = f"<auto-{_h(mid)[:24]}@{d.store.id}.demo.example>"
        d.add("Sent", aw, amid, _mail(d.store_addr, alias, "Re: " + subject, aw, amid,
              "Thank you for your message. We answer every message within 24 hours.",
              extra={"Auto-Submitted": "auto-replied", "In-Reply-To": mid}), "auto_reply")
    r = d.rng.random()
    delay = None if intent == "thanks" or r < 0.12 else (
        timedelta(hours=d.rng.uniform(24.5, 60)) if r < 0.22 else timedelta(minutes=d.rng.uniform(15, 60 * 14)))
    if delay is not None:
        rw = when + delay
        rmid = f"<reply-{_h(mid)[:24]}@{d.store.id}.demo.example>"
        greet, quote_head = REPLY[lang]
        rtext = (greet.format(first=b["first"], store=d.store.name) + "\n\n"
                 + quote_head.format(date=format_datetime(when), first=b["first"]) + "\n"
                 + "".join("> " + line + "\n" for line in text.split("\n")))
        prefix = {"de": "AW: ", "fr": "RE : ", "it": "R: ", "es": "RE: "}.get(lang, "RE: ")
        d.add("Sent", rw, rmid, _mail(d.store_addr, alias, prefix + subject, rw, rmid, rtext,
              extra={"In-Reply-To": mid, "References": mid}), "seller_reply")
    if d.rng.random() < 0.03:  # buyer's own out-of-office answering the seller
        ow = when + timedelta(hours=d.rng.uniform(1, 30))
        omid = f"<ooo-{_h(mid)[:24]}@email.amazonses.com>"
        d.add("INBOX", ow, omid, _mail(f'"{b["first"]} - Amazon Marketplace" <{alias}>', d.store_addr,
              "Automatic reply: " + subject, ow, omid, "I am out of the office and will reply later.",
              extra={"Auto-Submitted": "auto-replied"}), "auto_reply")
    # the draws of the random claim notices this once wrote, kept so the other mails stay as they were
    if intent in ("not_received", "a_to_z_threat") and order is not None and d.rng.random() < 0.5:
        d.rng.uniform(48, 70)


def _claim_notice(d: _Day, cw: datetime, order, arrived: bool) -> None:
    """Amazon's notice of an A-to-z Guarantee claim the simulator filed on ``order`` at ``cw``."""
    tld, oid = mp.get(order.marketplace).domain, order.amazon_order_id
    cmid = f"<atoz-{_h(d.seed, d.store.id, oid)[:24]}@amazon.{tld}>"
    reason = "item not as described" if arrived else "item not received"
    d.add("INBOX", cw, cmid, _mail(
        f"Amazon A-to-z Guarantee <atoz-guarantee-no-reply@amazon.{tld}>", d.store_addr,
        f"A-to-z Guarantee claim filed for order {oid}", cw, cmid,
        f"Dear Seller,\n\nThe buyer has filed an A-to-z Guarantee claim for order {oid}.\n"
        f"Reason: {reason}. Please respond within 3 calendar days:\n"
        f"https://sellercentral.amazon.{tld}/guarantee/claims?orderId={oid}\n"), "amazon_notice")


def _daily_notices(d: _Day) -> None:
    """One-off notices of the day: sometimes an account-health notice, sometimes a bounce."""
    codes = d.store.marketplace_codes
    if d.rng.random() < 0.15:
        code = d.rng.choice(codes)
        lang, tld = LANG_OF.get(code, "en"), mp.get(code).domain
        w = d.day0 + timedelta(seconds=d.rng.randrange(86400))
        subj, text = ACCOUNT_HEALTH[lang]
        m_id = f"<ah-{_h(d.seed, d.store.id, d.day, 'ah')[:24]}@amazon.{tld}>"
        d.add("INBOX", w, m_id, _mail(f"Amazon Seller Performance <seller-performance@amazon.{tld}>", d.store_addr,
              subj, w, m_id, text + f"\nhttps://sellercentral.amazon.{tld}/performance/dashboard\n"), "amazon_notice")
    if d.rng.random() < 0.2:
        w = d.day0 + timedelta(seconds=d.rng.randrange(86400))
        m_id = f"<dsn-{_h(d.seed, d.store.id, d.day, 'dsn')[:24]}@mx.demo.example>"
        alias = relay.relay_alias(_h(d.seed, d.day, "gone")[:12], codes[0])
        d.add("INBOX", w, m_id, _mail("Mail Delivery System <MAILER-DAEMON@mx.demo.example>", d.store_addr,
              "Undelivered Mail Returned to Sender", w, m_id,
              f"This is the mail system at host mx.demo.example.\n\nYour message to <{alias}> could not be "
              "delivered: the recipient has opted out of unsolicited messages.\n"), "auto_reply")


def write_demo_mail(maildir_root: Path, stores: list, start: datetime, end: datetime, seed: int = 42, *,
                    orders_per_day: int | None = None, kinds: tuple[str, ...] | None = None) -> dict:
    """Write the demo mails of [start, end) for each store into ``maildir_root/<store_id>/`` (Maildir++).

    ``orders_per_day``: the simulator's volume override, if it runs with one (the mails are about
    its orders and their claims). ``kinds``: write only mails of these kinds (``buyer_message``,
    ``seller_reply``, ``auto_reply``, ``amazon_notice``); the others are still generated, so the
    mails written are the same as in a full run.
    Returns per store id: counts per kind written, ``written`` and ``existing`` (already
    there); plus ``"total"``: the number of mails of the window in all the stores' mailboxes.
    """
    maildir_root = Path(maildir_root)
    start = start if start.tzinfo else start.replace(tzinfo=UTC)
    end = end if end.tzinfo else end.replace(tzinfo=UTC)
    result: dict[str, dict] = {}
    for store in stores:
        root = maildir_root / store.id
        sent = store.mail_folders.get("sent", "Sent")
        ensure_maildir(root, (sent,))
        first_day = (start - timedelta(days=_LOOKBACK_DAYS)).date()
        orders = _orders(store.seller_id, datetime.combine(first_day, time(0), tzinfo=UTC) - _CLAIM_LOOKBACK,
                         end, seed, orders_per_day)
        claims = _claims_by_day(store, orders, seed)
        store_addr = f"{store.name} <support@{store.id}.demo.example>"
        counts = {"written": 0, "existing": 0}
        seen = {"INBOX": _existing(root), "Sent": _existing(root / f".{sent}")}
        day = first_day
        while datetime.combine(day, time(0), tzinfo=UTC) < end:
            for folder, when, key, raw, kind, nrn in _day_plan(store, day, seed, orders, store_addr,
                                                               claims.get(day, ())):
                if not (start <= when < end) or (kinds is not None and kind not in kinds):
                    continue
                fdir = root if folder == "INBOX" else root / f".{sent}"
                if deliver(fdir, raw, when, key, nrn=nrn, existing=seen[folder]):
                    counts["written"] += 1
                    counts[kind] = counts.get(kind, 0) + 1
                else:
                    counts["existing"] += 1
            day += timedelta(days=1)
        result[store.id] = counts
    result["total"] = sum(c["written"] + c["existing"] for c in result.values())
    return result


# --------------------------------------------------------------------------- IMAP delivery
def upload_maildir_to_imap(maildir: Path, host: str, port: int, login: str, password: str, *,
                           sent_folder: str = "Sent", use_ssl: bool = False) -> dict:
    """Deliver a demo Maildir++ mailbox to an IMAP server (e.g. Dovecot) with APPEND.

    The internal date is the file's mtime, the ``$NoResponseNeeded`` keyword is kept.
    Idempotent: a mail whose Message-ID the folder already holds is not appended again.
    """
    import imaplib
    import re

    conn = imaplib.IMAP4_SSL(host, port) if use_ssl else imaplib.IMAP4(host, port)
    conn.login(login, password)
    counts = {"appended": 0, "existing": 0}
    try:
        for folder, d in (("INBOX", Path(maildir)), (sent_folder, Path(maildir) / f".{sent_folder}")):
            if not (d / "cur").exists():
                continue
            conn.create(folder)  # fails harmlessly if it exists
            conn.select(folder)
            have: set[bytes] = set()
            typ, data = conn.uid("SEARCH", None, "ALL")
            uids = (data[0] or b"").split()
            if uids:
                typ, data = conn.uid("FETCH", b",".join(uids).decode(), "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
                for part in data:
                    if isinstance(part, tuple):
                        m = re.search(rb"<[^>\s]+>", part[1])
                        if m:
                            have.add(m.group(0))
            for f in sorted((d / "cur").iterdir()):
                raw = f.read_bytes()
                m = re.search(rb"(?im)^message-id:\s*(<[^>\s]+>)", raw)
                if m and m.group(1) in have:
                    counts["existing"] += 1
                    continue
                flags = f"({NRN_KEYWORD})" if f.name.split(":2,")[-1].find("a") >= 0 and ":2," in f.name else None
                when = datetime.fromtimestamp(f.stat().st_mtime, UTC)
                typ, data = conn.append(folder, flags, imaplib.Time2Internaldate(when), raw)
                if typ != "OK":
                    raise RuntimeError(f"IMAP APPEND to {folder} failed: {data!r}")
                counts["appended"] += 1
    finally:
        try:
            conn.logout()
        except Exception:  # noqa: BLE001
            pass
    return counts


# --------------------------------------------------------------------------- wiring helpers
def default_demo_root() -> Path:
    """Where the embedded demo keeps its mailboxes: ``$SELLER_INBOX_HOME/mail`` (git-ignored)."""
    from seller_inbox.paths import home

    return home() / "maildir"


def demo_connections(stores: list, root: Path | None = None) -> dict[str, str]:
    """``{AIRFLOW_CONN_<ID>: json}`` env entries pointing each store's mailbox at its demo Maildir."""
    import json

    root = Path(root or default_demo_root())
    return {
        f"AIRFLOW_CONN_{s.connections.mailbox.upper()}": json.dumps(
            {"conn_type": "maildir", "extra": {"path": str(root / s.id)}})
        for s in stores
    }
