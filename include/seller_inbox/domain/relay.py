"""The grammar of Amazon's relay mails, notices, bounces and auto-replies (docs/domain.md, "Relay mails").

A buyer writes through Amazon's Buyer-Seller Messaging; the seller receives a relay mail from
an alias ``<random>@marketplace.amazon.<tld>`` whose body frames the buyer's words between a
begin and an end marker line, preceded by order/item lines and followed by Amazon's footer and
a ``[commMgrTok:...]`` token. Amazon's own notices (A-to-z claims, account health) come from
``amazon.<tld>`` addresses; bounces and out-of-office replies are recognised by sender, subject
and body. The mail parser, the classifier and the simulator's mail generator all read this
module, so what is generated, parsed and classified cannot drift apart.

Standard library only, no I/O. Every pattern applied to mail text runs in linear time (line
scans, bounded or possessive quantifiers): mail is hostile input.
"""

from __future__ import annotations

import re

from seller_inbox.domain import identifiers as ids
from seller_inbox.domain import marketplaces as mp


def _guarded(rx: re.Pattern) -> re.Pattern:
    """``rx`` behind a look-ahead for the characters its matches can start with (read off its parse:
    literals, classes, alternatives). The same matches; ``search`` then tries the alternatives only
    where one can start, instead of at every character (alternations under re.I are scanned
    position by position). ``rx`` as it is when its start is not that simple."""
    from re import _constants as sre, _parser

    def first(items) -> set[int] | None:
        for op, av in items:
            if op is sre.AT:  # zero-width: \b, ^
                continue
            if op is sre.LITERAL:
                return {av}
            if op is sre.SUBPATTERN:
                return first(av[-1])
            if op is sre.BRANCH:
                alts = [first(alt) for alt in av[1]]
                return None if any(a is None for a in alts) else set().union(*alts)
            if op is sre.IN and all(o is sre.LITERAL for o, _ in av):
                return {a for _, a in av}
            return None
        return None

    chars = first(_parser.parse(rx.pattern, rx.flags))
    if not chars:
        return rx
    body = re.sub(r"^\(\?[aiLmsux]+\)", "", rx.pattern)  # the flags are carried by rx.flags
    guarded = re.compile("(?=[" + "".join(re.escape(chr(c)) for c in sorted(chars)) + "])(?:" + body + ")", rx.flags)
    return guarded if guarded.groups == rx.groups and guarded.groupindex == rx.groupindex else rx

# --------------------------------------------------------------------------- Amazon's domains
# Longest first, so "com.mx" is tried before "com".
TLDS = tuple(sorted({m.domain for m in mp.MARKETPLACES.values()}, key=lambda d: (-len(d), d)))
_TLD = "(" + "|".join(re.escape(t) for t in TLDS) + ")"
# a relay alias anywhere in text, e.g. a bounce naming the buyer it could not reach
RELAY_ALIAS_RE = re.compile(rf"[\w.+-]{{1,64}}@marketplace\.amazon\.{_TLD}(?![\w-])", re.I)
# the address is a relay alias; group 1: the marketplace's domain tail
RELAY_ALIAS_DOMAIN = re.compile(rf"@marketplace\.amazon\.{_TLD}$", re.I)
# any Amazon address of a served marketplace (relay aliases included); group 1: domain tail
AMAZON_SENDER = re.compile(rf"@(?:[\w-]+\.)*amazon\.{_TLD}$", re.I)
# Amazon's own mail hosts (Amazon SES sends the relay mails): their message ids name nobody
AMAZON_MAIL_DOMAIN = re.compile(rf"{AMAZON_SENDER.pattern}|@(?:[\w-]+\.)*amazonses\.com$", re.I)
# Seller Central / storefront links in a notice say which marketplace it is about
SELLER_CENTRAL_LINK = re.compile(rf"(?:sellercentral(?:-europe|-japan)?|www)\.amazon\.{_TLD}(?![\w-])", re.I)


def relay_alias(local: str, marketplace: str) -> str:
    """The relay alias ``<local>@marketplace.amazon.<tld>`` of a marketplace code (the simulator's)."""
    return f"{local}@marketplace.amazon.{mp.get(marketplace).domain}"


def marketplace_of_domain(tail: str | None) -> str | None:
    """Marketplace code for an ``amazon.<tail>`` domain tail, or None."""
    m = mp.BY_DOMAIN.get((tail or "").lower().rstrip("."))
    return m.code if m else None


# --------------------------------------------------------------------------- special senders
ATOZ_SENDER = _guarded(re.compile(r"(?:atoz|a-to-z|guarantee|garantie|claims?)[\w.+-]*@", re.I))
HEALTH_SENDER = _guarded(re.compile(
    r"(?:seller-performance|performance-notification|seller-notification|account-health|policy|compliance|"
    r"listing-quality|product-compliance|notice-dispute)[\w.+-]*@", re.I))
BOUNCE_SENDER = re.compile(r"^(?:mailer-daemon|postmaster|mail-daemon|no-?reply-bounce)@", re.I)

# --------------------------------------------------------------------------- the relay frame
# What Amazon writes (and the simulator generates), per served language.
FRAME_MARKERS = {
    "en": ("------------- Begin message -------------", "------------- End message -------------"),
    "de": ("------------- Beginn der Nachricht -------------", "------------- Ende der Nachricht -------------"),
    "fr": ("------------- Début du message -------------", "------------- Fin du message -------------"),
    "it": ("------------- Inizio messaggio -------------", "------------- Fine messaggio -------------"),
    "es": ("------------- Inicio del mensaje -------------", "------------- Fin del mensaje -------------"),
    "ja": ("------------- メッセージ開始 -------------", "------------- メッセージ終了 -------------"),
}
# A marker line: >= 5 separators, a label, >= 5 separators. Recognised per line (``markers``): a
# single regex for it backtracks cubically on a long separator line.
MARKER_SEPARATORS = "-=_~－ー─"
_MARKER_START = re.compile(r"(?m)^[ \t]*+[-=_~－ー─]{5}")
BEGIN_WORDS = re.compile(
    r"(?i)begin|start|beginn|anfang|début|debut|inizio|comienzo|inicio|principio|開始|ここから|本文")
END_WORDS = re.compile(r"(?i)\bend\b|ende|fin\b|fine\b|final|終了|ここまで")

# The order and item lines above the frame.
ORDER_LINES = {"en": "Order ID {o}:", "de": "Bestellnummer {o}:", "fr": "N° de commande {o} :",
               "it": "Numero ordine {o}:", "es": "Número de pedido {o}:", "ja": "注文番号 {o}:"}
# An order line's label and id (and its punctuation): a buyer who writes "注文番号：… 届きません。" on
# one line keeps the rest of the line.
ORDER_LINE_RE = re.compile(r"(?im)^[ \t]*(?:Order ID|Bestellnummer|N° de commande|Numéro de commande|Numero ordine|"
                           r"N\.? ordine|Número de pedido|N[ºo°] de pedido|注文番号|Order #)"
                           rf"[ \t]*[:：#]?[ \t]*(?:{ids.ORDER_ID})?[ \t]*[:：.。,、]?[ \t]*")
ITEM_LINE_RE = re.compile(r"(?m)^[^\n]*(?:\[ASIN[^\]\[\n]*\]|\bASIN\s*[:：]\s*[A-Z0-9]{10})[^\n]*$")

# Amazon's conversation token at the end of a relay mail.
COMM_TOKEN_RE = re.compile(r"\[?commMgrTok:[A-Za-z0-9_-]+\]?")


def comm_token(value: str) -> str:
    return f"[commMgrTok:{value}]"


# Amazon's footer below the frame ({tld}: the marketplace's domain tail).
FOOTERS = {
    "en": "For Your Information: To help arbitrate disputes and preserve trust and safety, we retain all messages "
          "buyers and sellers send through Amazon.{tld} for two years.\n\nWas this email helpful? "
          "https://sellercentral.amazon.{tld}/messaging/feedback\nMark as no response needed: "
          "https://sellercentral.amazon.{tld}/messaging/nrn",
    "de": "Zu Ihrer Information: Um bei der Schlichtung von Streitigkeiten zu helfen, speichern wir alle Nachrichten "
          "zwei Jahre lang.\n\nWar diese E-Mail hilfreich? https://sellercentral.amazon.{tld}/messaging/feedback",
    "fr": "Pour information : Afin de faciliter le règlement des litiges, nous conservons tous les messages pendant "
          "deux ans.\n\nCet e-mail vous a-t-il été utile ? https://sellercentral.amazon.{tld}/messaging/feedback",
    "it": "Per tua informazione: Per aiutare a risolvere le controversie conserviamo tutti i messaggi per due anni."
          "\n\nQuesta e-mail ti è stata utile? https://sellercentral.amazon.{tld}/messaging/feedback",
    "es": "Para tu información: Para ayudar a resolver disputas, conservamos todos los mensajes durante dos años."
          "\n\n¿Te ha resultado útil este e-mail? https://sellercentral.amazon.{tld}/messaging/feedback",
    "ja": "ご参考：トラブル防止のため、メッセージは2年間保存されます。\n\nこのメールは役に立ちましたか？ "
          "https://sellercentral.amazon.{tld}/messaging/feedback",
}
# Where the sender's own text ends and Amazon's footer begins (any language).
FOOTER_RE = re.compile(
    r"(?im)^[ \t>]*+(?:For Your Information\s*:|To help arbitrate disputes|Was this email helpful|Was this e-mail helpful|"
    r"Mark as no response needed|Do not reply|Please do not reply|We want you to buy with confidence|"
    r"Zu Ihrer Information|Zur Information|Um bei der Schlichtung|War diese E-Mail hilfreich|Als .?keine Antwort erforderlich|"
    r"Pour information|Pour votre information|Afin de faciliter|Cet e-mail vous a-t-il été utile|Marquer comme .?aucune réponse|"
    r"Per tua informazione|Per vostra informazione|Per aiutare a risolvere|Questa e-mail ti è stata utile|Contrassegna come|"
    r"Para tu información|Para su información|Para ayudar a resolver|¿Te ha resultado útil|Marcar como .?no se necesita|"
    r"ご参考|トラブル防止のため|このメールは役に立ちましたか|「返信不要」|返信不要としてマーク|"
    r"Sent from Amazon Seller Central|Amazon Services|To respond to this (?:customer|buyer|message)|"
    r"You can (?:reply|respond) to this (?:message|e-?mail)|Reply to this (?:e-?mail|message) or visit|"
    r"This (?:e-?mail|message) was sent (?:by|from|through) Amazon|Copyright \d{4} Amazon|© ?\d{4} Amazon|"
    r"Um diesem Kunden zu antworten|Pour répondre à (?:ce client|cet acheteur)|Per rispondere a questo cliente|"
    r"Para responder a este cliente|このお客様に返信するには)"
)

# --------------------------------------------------------------------------- quoted history
# The start of quoted history (the first match cuts the rest).
QUOTE_HEADER_RE = re.compile(
    r"(?im)^[ \t]*+(?:"
    r"On\b[^\n]{3,200}\bwrote:?[ \t]*$|"
    r"Am\b[^\n]{3,200}\bschrieb[^\n]{0,100}:[ \t]*$|"
    r"Le\b[^\n]{3,200}\ba écrit[ \t]*:?[ \t]*$|"
    r"Il\b[^\n]{3,200}\bha scritto[ \t]*:?[ \t]*$|"
    r"El\b[^\n]{3,200}\bescribió[ \t]*:?[ \t]*$|"
    r"Op\b[^\n]{3,200}\bschreef[^\n]{0,100}:[ \t]*$|"
    # (the look-ahead: only a line ending in ":" can end so; it spares the backtracking on every other line)
    r"(?=[^\n]*:[ \t]*$)[^\n]{0,100}(?:wrote|schrieb|a écrit|ha scritto|escribió|schreef)[ \t]*:[ \t]*$|"
    r"\d{4}年\d{1,2}月\d{1,2}日[^\n]{0,120}(?::|：|書きました)[ \t]*$|"
    r"[^\n]{0,80}のメッセージ[:：]?[ \t]*$|"
    r"-{2,}[ \t]*(?:Original Message|Ursprüngliche Nachricht|Message d'origine|Messaggio originale|Mensaje original|"
    r"元のメッセージ|Forwarded message|Weitergeleitete Nachricht)[ \t]*-{2,}|"
    r"_{10,}[ \t]*$|"
    r"(?:From|Von|De|Da|差出人)[ \t]*:[^\n]*\n(?:[^\n]*\n){0,2}[ \t]*(?:Sent|Gesendet|Envoyé|Inviato|Enviado|送信日時|Date|Datum|To|An|À|A|Para)[ \t]*:"
    r")"
)
QUOTED_LINE_RE = re.compile(r"(?m)^[ \t]*+>.*(?:\n|$)")
URL_RE = re.compile(r"<?(?:https?://|www\.)[^\s<>\"')\]]+>?")
_BLANKS = re.compile(r"\n[ \t\xa0]*+\n(?:[ \t\xa0]*+\n)++")

# --------------------------------------------------------------------------- subjects
_REPLY_PREFIX = r"(?:re|aw|wg|fw|fwd|tr|r|rif|rv|res|sv|vs|antw|antwort|返信|転送|回复|答复)\s*(?:\[\d+\])?\s*[:：]"
SUBJECT_PREFIX = re.compile(rf"^(?:\s*{_REPLY_PREFIX}\s*)+", re.I)
SUBJECT_ORDER = re.compile(
    r"\s*[(\[（]?\s*(?:Order|Bestellung|Bestellnummer|Commande|Ordine|Pedido|Encomenda|Orden|注文番号|注文|Bestelling|"
    rf"Zamówienie|Order ID|Order #)\s*(?:ID|Nr\.?|n[°º.]|#|番号)?\s*[:：#]?\s*{ids.ORDER_ID}\s*[)\]）]?")
# "<topic> from Amazon customer <Name>" and its localised forms; groups "topic" and "name".
RELAY_SUBJECTS = [re.compile(p, re.I) for p in (
    r"^(?P<topic>.*?)\s+(?:from|by)\s+(?:an\s+)?Amazon\s+customer\s+(?P<name>[^()\[\]]*?)\s*(?=$|[(\[])",
    r"^(?P<topic>.*?)\s+(?:von|vom)\s+(?:dem\s+|einem\s+)?Amazon[- ]Kunde[n]?\s+(?P<name>[^()\[\]]*?)\s*(?=$|[(\[])",
    r"^(?P<topic>.*?)\s+(?:de la part du|de la part d'un|du)\s+client\s+Amazon\s+(?P<name>[^()\[\]]*?)\s*(?=$|[(\[])",
    r"^(?P<topic>.*?)\s+(?:dal|da un|dal\s+)?\s*cliente\s+(?:di\s+)?Amazon\s+(?P<name>[^()\[\]]*?)\s*(?=$|[(\[])",
    r"^(?P<topic>.*?)\s+(?:del|de un|de)\s+cliente\s+(?:de\s+)?Amazon\s+(?P<name>[^()\[\]]*?)\s*(?=$|[(\[])",
    r"^(?:Amazon(?:\.co\.jp)?\s*の?\s*(?:お客様|購入者)\s*)(?P<name>[^()\[\]（）]*?)\s*(?:様|さん)?\s*(?:から|より)の?\s*(?P<topic>[^()\[\]（）]*?)\s*(?=$|[(\[（])",
    r"^(?P<topic>[^()\[\]（）]*?)\s*[:：]?\s*(?:Amazon(?:\.co\.jp)?\s*の?\s*)?(?:お客様|購入者)\s*(?P<name>[^()\[\]（）]*?)\s*(?:様|さん)?\s*(?:から|より)(?:の)?(?:お問い合わせ|問い合わせ|メッセージ)?\s*(?=$|[(\[（])",
)]
# subject words -> marketplace, when nothing better is known
SUBJECT_MARKETPLACE_HINTS = [
    (re.compile(r"Amazon-Kunde|Bestellung|Anfrage"), "DE"),
    (re.compile(r"client Amazon|Commande|Demande"), "FR"),
    (re.compile(r"cliente Amazon|Ordine|Richiesta"), "IT"),
    (re.compile(r"cliente de Amazon|Pedido|Consulta"), "ES"),
    (re.compile(r"[\u3040-\u30ff]|注文"), "JP"),
]
# Auto-reply and bounce subjects as mail programs write them: the phrase is the whole subject, or
# it leads and a colon (or bracket) follows — "Automatic reply: <subject>", "Abwesenheitsnotiz",
# "【自動返信】…", "Undeliverable: <subject>", "Delivery Status Notification (Failure)". The same
# words opening a buyer's own subject decide nothing ("Absent le 12, livrez chez le voisin",
# "不在票が入っていました", "Pedido no entregado", "Colis non remis"): the body and the model do
# (docs/domain.md, "Relay mails"). A buyer's complaint must never be filed as a machine's mail.
_AUTO_REPLY_WORDS = (
    r"automatic reply|auto(?:matic)?[\s-]*reply|auto(?:matic)?[\s-]*response|autoreply|auto|"
    r"out of (?:the )?office(?:\s+auto-?reply)?|abwesenheits?notiz|automatische antwort|abwesend|"
    r"r[ée]ponse automatique|absence|absent|risposta automatica|fuori (?:sede|ufficio)|"
    r"respuesta autom[áa]tica|fuera de (?:la )?oficina|automatisch antwoord|afwezig|自動返信|自動応答|"
    r"不在(?:通知|のお知らせ)?|自动回复")
# (after the Re:/AW: prefixes)
AUTO_REPLY_SUBJECT = re.compile(
    rf"(?i)^\s*(?:[\[【(（]\s*(?:{_AUTO_REPLY_WORDS})\s*[\]】)）]|(?:{_AUTO_REPLY_WORDS})\s*(?:[:：]|$|{_REPLY_PREFIX}))")
# the auto-reply/bounce prefixes stripped from a subject before its topic is read
AUTO_PREFIX = re.compile(
    r"(?i)^(?:\s*(?:automatic reply|auto[- ]?reply|autoreply|auto|out of (?:the )?office|abwesenheitsnotiz|"
    r"automatische antwort|réponse automatique|risposta automatica|respuesta automática|自動返信|自動応答|"
    r"undeliverable|unzustellbar|non remis)\s*[:：]\s*)+")
# bounce (non-delivery report) subjects (after the Fwd:/Re: prefixes), "Mancato recapito del messaggio"
BOUNCE_SUBJECT = re.compile(
    r"(?i)^\s*(?:undeliverable|undelivered mail(?: returned to sender)?|delivery status notification|"
    r"mail delivery (?:failed|failure|subsystem)|delivery failure|message not delivered|returned mail|"
    r"could not be delivered|failure notice|unzustellbar|nicht zustellbar|non remis|échec de la remise|"
    r"non recapitabile|non distribuibile|mancato recapito|no se puede entregar|no entregado|onbestelbaar|"
    r"配信できません(?:でした)?|配信不能|送信できませんでした|退信|无法送达)"
    r"(?:\s+(?:(?:of the|of|del|della|dello|du|de la|de|des|der)\s+)?(?:mail|message|messaggio|mensaje|"
    r"nachricht|e-?mail|courriel))?\s*(?:[:：(（]|$)"
    # Amazon's own notice that a message to a buyer's alias did not go through (opt-out, closed alias)
    r"|^\s*your\s+(?:e-?mail|message)\s+to\s+\S+@\S+\s+(?:could\s+not\s+be|was\s+not|has\s+not\s+been)\s+delivered")


def is_auto_reply_subject(subject: str) -> bool:
    """An out-of-office / automatic-reply subject as a mail program writes it (after Re:/AW:)."""
    return bool(AUTO_REPLY_SUBJECT.search(SUBJECT_PREFIX.sub("", subject)))


def is_bounce_subject(subject: str) -> bool:
    """A non-delivery report's subject (after Fwd:/Re:, for a bounce a colleague forwarded)."""
    return bool(BOUNCE_SUBJECT.search(SUBJECT_PREFIX.sub("", subject)))


# the seller marked the message "no response needed" (IMAP keyword or header)
NO_RESPONSE = re.compile(r"(?i)x-no-response-needed|\$?noresponseneeded")

# --------------------------------------------------------------------------- notices
ATOZ_TEXT = _guarded(re.compile(
    r"a-?to-?z|a\s+to\s+z\s+(?:guarantee|claim)|a-bis-z|a\s+bis\s+z|garantie\s+(?:de\s+)?a\s+(?:à|a)\s+z"
    r"|garanzia\s+dalla\s+a\s+alla\s+z|garant[ií]a\s+de\s+la\s+a\s+a\s+la\s+z|a-tot-z|a-till-z|"
    r"gwarancj\w*\s+od\s+a\s+do\s+z|garantia\s+de\s+a\s+a\s+z|"
    r"マーケットプレイス保証|Aから\s?Zまで保証|A-?Z保証|a-z-garantie|a-z guarantee|a-z claim", re.I))
ACCOUNT_HEALTH_TEXT = _guarded(re.compile(
    r"policy\s+(?:warning|violation)|account\s+health|selling\s+privileges|listing[s]?\s+(?:has\s+been\s+|have\s+been\s+|was\s+|were\s+)?(?:deactivated|removed|suppressed)"
    r"|account\s+(?:deactivat|suspen|at\s+risk|review)|performance\s+notification|order\s+defect\s+rate|"
    r"intellectual\s+property|authenticity\s+complaint|plan\s+of\s+action|"
    r"richtlinienwarnung|richtlinienversto[sß]|kontozustand|verkaufsberechtigung|angebot\s+deaktiviert|deaktiviert|leistungsbenachrichtigung|"
    r"avertissement|violation\s+de\s+(?:la\s+)?politique|sant[ée]\s+du\s+compte|privil[eè]ges\s+de\s+vente|d[ée]sactiv|"
    r"avviso\s+(?:relativo\s+alle\s+)?(?:policy|normative)|violazione\s+(?:delle\s+)?(?:normative|policy)|stato\s+dell'account|privilegi\s+di\s+vendita|disattivat|"
    r"advertencia|infracci[oó]n\s+de\s+(?:la\s+)?pol[ií]tica|estado\s+de\s+la\s+cuenta|privilegios\s+de\s+venta|desactivad|"
    r"ポリシー違反|アカウント健全性|出品停止|出品が停止|出品者の権限|アカウントの停止|規約違反|警告|"
    r"beleidsschending|schending\s+van\s+het\s+beleid|accountstatus|gedeactiveerd|verkoopprivileges|"
    r"policy[öo]vertr[äa]delse|kontoh[äa]lsa|inaktiverat|s[äa]ljbeh[öo]righet|"
    r"naruszeni\w*\s+zasad|kondycj\w*\s+konta|dezaktywowan|uprawnie[nń]\s+do\s+sprzeda[zż]y|"
    r"viola[çc][ãa]o\s+de\s+pol[ií]tica|sa[úu]de\s+da\s+conta|desativad|privil[ée]gios\s+de\s+venda|"
    r"违反政策|政策警告|账户状况|账户健康|销售权限|已被停用", re.I))
# bodies that say they are automatic, and delivery failures: one of these decides
AUTO_REPLY_BODY = _guarded(re.compile(
    r"this\s+is\s+an\s+automatic(?:ally\s+generated)?\s+(?:reply|response|message)|"
    r"delivery\s+to\s+the\s+following\s+recipients?\s+failed|the\s+following\s+message\s+to\s+<|"
    r"(?:your|this|the|a)\s+message\s+(?:that\s+you\s+sent\s+|you\s+sent\s+)?could\s+not\s+be\s+delivered|"
    r"could\s+not\s+be\s+delivered\s+to\s+(?:one\s+or\s+more|the\s+following|all|any)\b|has\s+opted\s+out\s+of|"
    r"diese\s+nachricht\s+wurde\s+automatisch|ceci\s+est\s+une\s+r[ée]ponse\s+automatique|"
    r"questa\s+[èe]\s+una\s+risposta\s+automatica|esta\s+es\s+una\s+respuesta\s+autom[áa]tica|"
    r"このメールは自動(?:返信|送信)|自動返信メール", re.I | re.S))
# "I am away": buyers write it too ("si je suis absent, déposez-le sous le porche", "日中は不在にしております"),
# so it decides only beside what an out-of-office reply goes on to say (when the writer is back,
# that mail waits or is read later)
OUT_OF_OFFICE = _guarded(re.compile(
    r"i\s+am\s+(?:currently\s+)?out\s+of\s+(?:the\s+)?office|"
    r"ich\s+bin\s+(?:bis|vom|derzeit|zurzeit)\b.*\b(?:abwesend|nicht\s+im\s+b[üu]ro)|"
    r"je\s+suis\s+(?:actuellement\s+)?absente?|sono\s+(?:attualmente\s+)?fuori\s+(?:sede|ufficio)|"
    r"estoy\s+(?:actualmente\s+)?fuera\s+de\s+la\s+oficina|不在にしております", re.I | re.S))
OUT_OF_OFFICE_REPLY = re.compile(
    r"will\s+(?:respond|reply|get\s+back|answer|read)|limited\s+access|(?:no|without)\s+access\s+to|"
    r"(?:upon|on|after)\s+my\s+return|when\s+i(?:'m|\s+am)\s+back|when\s+i\s+return|back\s+in\s+the\s+office|"
    r"wieder\s+(?:erreichbar|im\s+b[üu]ro|da\b)|keinen?\s+zugriff|nach\s+meiner\s+r[üu]ckkehr|eingeschr[äa]nkt|"
    r"nicht\s+weitergeleitet|(?:à|a|dès|des)\s+mon\s+retour|r[ée]pondrai|acc[èe]s\s+limit[ée]|pas\s+acc[èe]s|"
    r"sans\s+acc[èe]s|absente?\s+du\s+bureau|al\s+(?:mio\s+)?rientro|risponder[òo]|accesso\s+limitato|"
    r"senza\s+accesso|non\s+ho\s+accesso|a\s+mi\s+(?:regreso|vuelta)|responder[ée]|acceso\s+limitado|"
    r"sin\s+acceso|no\s+tengo\s+acceso|戻り次第|返信いたします|ご連絡いたします|順次", re.I)


def auto_reply_body(body: str) -> bool:
    """Whether the start of ``body`` reads as an automatic reply or a delivery failure."""
    head = body[:1500]
    return bool(AUTO_REPLY_BODY.search(head) or (OUT_OF_OFFICE.search(head) and OUT_OF_OFFICE_REPLY.search(head)))


# headers that mark machine-sent mail (RFC 3834 and common autoresponders)
AUTO_HEADERS = ("auto-submitted", "x-autoreply", "x-autorespond", "precedence")

# Amazon's bounce for a buyer who opted out of unsolicited messages (any marketplace language):
# nothing more may be sent to that buyer (docs/delivery.md)
OPT_OUT_PATTERN = (
    r"opted\s+out|opt-out|unsolicited messages|abgemeldet|keine\s+nachrichten|"
    r"ne\s+souhaite\s+pas\s+recevoir|d[ée]sinscri|non\s+desidera\s+ricevere|"
    r"no\s+desea\s+recibir|dado\s+de\s+baja|受信を拒否|受け取りを拒否|配信停止")
OPT_OUT = re.compile(OPT_OUT_PATTERN, re.I)


# --------------------------------------------------------------------------- the buyer's words
def markers(body: str) -> list[tuple[int, int, str]]:
    """(line start, line end, label) of every relay marker line; one pass over the lines."""
    out = []
    for m in _MARKER_START.finditer(body):
        start = m.start()
        end = body.find("\n", start)
        if end < 0:
            end = len(body)
        line = body[start:end].strip(" \t")
        lead = len(line) - len(line.lstrip(MARKER_SEPARATORS))
        if lead == len(line):  # separators only: two runs of five
            if lead < 10:
                continue
            label = ""
        else:
            trail = len(line) - len(line.rstrip(MARKER_SEPARATORS))
            if trail < 5:
                continue
            label = line[lead:len(line) - trail].strip(" \t")
        out.append((start, end, label))
    return out


def _frame(body: str) -> tuple[tuple | None, tuple | None]:
    begin = end = None
    for m in markers(body):
        if begin is None and BEGIN_WORDS.search(m[2]):
            begin = m
        elif begin is not None and END_WORDS.search(m[2]):
            end = m
            break
    return begin, end


def cut_quotes(t: str) -> str:
    """Text above the first quoted-history header, without ``>`` lines."""
    m = QUOTE_HEADER_RE.search(t)
    if m:
        t = t[: m.start()]
    return QUOTED_LINE_RE.sub("", t)


def _cut_footer(t: str) -> str:
    f = FOOTER_RE.search(t)
    return t[: f.start()] if f else t


def _clean(t: str) -> str:
    if "commMgrTok:" in t:  # (the token's literal: most texts have none, and the scan is then skipped)
        t = COMM_TOKEN_RE.sub("", t)
    t = URL_RE.sub("", t)
    t = "\n".join(line.rstrip() for line in t.replace("\r", "").split("\n"))
    return _BLANKS.sub("\n\n", t).strip()


def own_text(body: str, kind: str = "buyer_message") -> str:
    """What the sender wrote: inside the relay frame, or (no frame) above the quotes and footer.

    ``kind`` is the mail parser's kind: buyer messages also lose the order/item lines, notices
    keep quoted-looking lines (they are Amazon's text, not history)."""
    body = body or ""
    begin, end = _frame(body)
    if begin is not None:
        t = body[begin[1]: end[0] if end is not None else len(body)]
        if end is None:
            t = _cut_footer(t)
        return _clean(cut_quotes(t))
    t = body
    if kind in ("buyer_message", "seller_reply", "auto_reply"):
        t = cut_quotes(t)
    t = _cut_footer(t)
    if kind == "buyer_message":
        t = ORDER_LINE_RE.sub("", t)
        if "ASIN" in t:  # an item line names its ASIN (case-sensitive): no line scan without one
            t = ITEM_LINE_RE.sub("", t)
    return _clean(t)


def buyer_text(body: str | None) -> str:
    """What the buyer wrote in a relay mail body (the same cut the mail parser stores)."""
    return own_text(body or "", "buyer_message")
