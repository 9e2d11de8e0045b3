"""THE mail parser: one relay mail (bytes) in, one redacted ``ParsedMail`` out.

Handles Amazon's buyer-seller relay mails of every marketplace (subjects, markers and
footers in English, German, French, Italian, Spanish and Japanese), the seller's own
replies, Amazon's notices (A-to-z claims, account health, policy warnings), bounces and
out-of-office replies. Uses the stdlib ``email`` package with ``compat32`` (fast) and a
regex HTML-to-text converter; charsets are decoded with fallbacks for mislabelled mail.

Nothing here keeps the raw mail: ``ParsedMail`` holds only redacted text, the hashed
buyer alias and metadata.

Hostile input: line endings are normalised to LF once (CRLF and LF mail parse identically);
every pattern applied to mail text runs in linear time (line scans, bounded or possessive
quantifiers), inputs to the costlier steps are size-capped, and a parse that still overruns
``PARSE_BUDGET_S`` raises ``MailParseError``. Every string in ``ParsedMail`` passes
``sanitize_text`` (no NUL, no lone surrogates) and ids pass ``bound_msgid``.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import hashlib
import hmac
import html
import re
import time
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from email.message import Message
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime, unquote

from seller_inbox.domain import marketplaces as mp
from seller_inbox.redaction import redact

UTC = timezone.utc
KINDS = ("buyer_message", "seller_reply", "amazon_notice", "auto_reply", "unknown")
MAX_TEXT = 20_000          # characters of body text kept
MAX_PART_BYTES = 2_000_000  # bytes of one text part decoded
MAX_SUBJECT = 500
MAX_ATTACHMENTS = 50
MAX_BODY_CHARS = 500_000    # characters of decoded body text (all parts) examined
MAX_HEADER = 16_384        # characters of an address/date header examined
MAX_MSGID = 255            # longer ids are stored hashed (PostgreSQL btree rows are limited)
MAX_REFERENCES = 100       # the newest References kept
MAX_MIME_DEPTH = 50
MAX_NAME = 100             # characters of a buyer display name used for redaction
# CPU seconds (of the parsing thread: a busy machine does not quarantine good mail) one mail may
# take; checked between phases, with every phase linear in its size-capped input.
PARSE_BUDGET_S = 2.0
# The stdlib MIME parser costs (lines x open multipart levels); past this it cannot finish in budget.
MAX_LINE_LEVELS = 2_000_000
MAX_MULTIPARTS = 200
_BOUNDARY_DECL = re.compile(rb"(?i)boundary[ \t]*=")


class MailParseError(ValueError):
    """The mail cannot be parsed; ``reason`` says why (goes to ops.quarantine)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class ParsedMail:
    kind: str
    message_id: str
    in_reply_to: str | None
    references: list[str]
    received_at: datetime
    marketplace: str | None
    order_id: str | None
    asin: str | None
    buyer_alias: str | None          # hashed alias (hex), never the raw address
    topic: str | None
    subject: str                     # redacted
    text: str                        # redacted buyer/seller text (no footer, no quotes)
    language: str | None
    attachments: list[dict] = field(default_factory=list)
    direction: str = "inbound"
    no_response_needed: bool = False
    auto_submitted: bool = False
    size_bytes: int = 0
    truncated: bool = False
    source: str = ""
    # never stored in clear: the deliverer needs it (encrypted at rest, docs/delivery.md)
    alias_plain: str | None = field(default=None, repr=False)
    opted_out: bool = False          # a bounce saying the buyer opted out of unsolicited messages

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "message_id": self.message_id,
            "in_reply_to": self.in_reply_to,
            "received_at": self.received_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "marketplace": self.marketplace,
            "order_id": self.order_id,
            "asin": self.asin,
            "buyer_alias": self.buyer_alias,
            "topic": self.topic,
            "subject": self.subject,
            "text": self.text,
            "language": self.language,
            "attachments": self.attachments,
            "direction": self.direction,
            "references": self.references,
            "no_response_needed": self.no_response_needed,
            "size_bytes": self.size_bytes,
            "truncated": self.truncated,
        }


# --------------------------------------------------------------------------- salt / hashing
def hash_alias(alias: str, salt: bytes | str) -> str:
    key = salt.encode() if isinstance(salt, str) else salt
    return hmac.new(key, alias.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def normalise_alias(addr: str) -> str:
    local, _, domain = addr.strip().lower().partition("@")
    local = local.split("+", 1)[0]
    return f"{local}@{domain}"


# --------------------------------------------------------------------------- charsets
_CHARSET_MAP = {
    "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932", "ms_kanji": "cp932",
    "windows-31j": "cp932", "iso-2022-jp": "iso2022_jp_ext", "csiso2022jp": "iso2022_jp_ext",
    "iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "us-ascii": "ascii", "ascii": "ascii",
    "iso-8859-15": "iso8859_15", "euc-jp": "euc_jp", "gb2312": "gb18030", "gbk": "gb18030",
    "unknown-8bit": "", "x-unknown": "", "default": "", "unknown": "", "utf8": "utf-8",
}


# Codecs that are not a text charset (or not safe on untrusted bytes): decoded as unlabelled.
_NOT_CHARSETS = frozenset({"undefined", "punycode", "idna", "unicode_escape", "raw_unicode_escape",
                           "mbcs", "oem", "charmap"})


def _codec(cs: str) -> str:
    """The Python codec name for a declared charset, or '' when unknown or unusable."""
    cs = _CHARSET_MAP.get(cs, cs)
    if not cs:
        return ""
    try:
        info = codecs.lookup(cs)
    except (LookupError, ValueError, TypeError):
        return ""
    if info.name in _NOT_CHARSETS or not getattr(info, "_is_text_encoding", True):
        return ""
    return cs


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode with the declared charset, falling back sensibly for mislabelled mail.

    The result is ``sanitize_text``-clean with LF line endings."""
    if not data:
        return ""
    cs = _codec((charset or "").strip().strip('"').lower()[:64])
    return _normalise_eol(sanitize_text(_decode(data, cs)))


def _decode(data: bytes, cs: str) -> str:
    if b"\x1b$" in data or b"\x1b(" in data:  # ISO-2022-JP escape sequences, whatever the label
        for c in ("iso2022_jp_ext", "iso2022_jp_2", "iso2022_jp"):
            try:
                return data.decode(c)
            except UnicodeError:
                pass
    if cs in ("ascii", "cp1252", "iso8859_15", ""):
        # mislabelled UTF-8 is the most common lie
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        if not cs:
            cs = "cp1252"
        if cs == "ascii":
            cs = "cp1252"
    if cs:
        try:
            return data.decode(cs)
        except (UnicodeError, LookupError):
            pass
    for c in ("utf-8", "cp932", "cp1252"):
        try:
            return data.decode(c)
        except UnicodeDecodeError:
            pass
    return data.decode("utf-8", "replace")


# --------------------------------------------------------------------------- sanitising
def sanitize_text(s: str) -> str:
    """Text PostgreSQL can store and JSON can carry: NUL removed, lone surrogates -> U+FFFD."""
    if "\x00" in s:
        s = s.replace("\x00", "")
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:  # surrogates; a valid pair is joined, a lone one replaced
        s = s.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return s


def bound_msgid(mid: str) -> str:
    """A storable, indexable message id: sanitised, and over ``MAX_MSGID`` characters replaced
    by a stable hash of itself (same id in, same id out, so threading still works)."""
    mid = sanitize_text(mid)
    if len(mid) <= MAX_MSGID:
        return mid
    return "<%s@hashed.seller-inbox.invalid>" % hashlib.sha256(mid.encode("utf-8")).hexdigest()


def _normalise_eol(s: str) -> str:
    if "\r" in s:
        s = s.replace("\r\n", "\n").replace("\r", "\n")
    return s


def _check_budget(deadline: float, phase: str) -> None:
    if time.thread_time() > deadline:
        raise MailParseError(f"parse exceeded the time budget ({PARSE_BUDGET_S:g} s CPU) while {phase}; "
                             "the mail is too large or too complex, check it by hand")


# --------------------------------------------------------------------------- headers
# RFC 2047 encoded words; the encoded text cannot hold "?" or blanks, which keeps this linear.
_EWORD = re.compile(r"=\?([^?\s]{1,75})\?([qQbB])\?([^?\s]*)\?=")
_EWORD_GAP = re.compile(r"(?<=\?=)[ \t\n\r]+(?==\?)")  # blanks between encoded words are dropped
_QP_HEX = re.compile(rb"=([0-9A-Fa-f]{2})")


def _word_bytes(enc: str, text: str) -> bytes | None:
    if enc in "bB":
        data = text.encode("ascii", "replace")
        try:
            return base64.b64decode(data + b"=" * (-len(data) % 4))
        except (binascii.Error, ValueError):
            return None
    data = text.replace("_", " ").encode("ascii", "replace")
    return _QP_HEX.sub(lambda m: bytes([int(m.group(1), 16)]), data)


def decode_words(v: str) -> str:
    """Decode RFC 2047 encoded words (adjacent words of one charset are joined before decoding,
    so a multi-byte character split across words survives); undecodable words stay as they are."""
    if "=?" not in v:
        return v
    v = _EWORD_GAP.sub("", v)
    out: list[str] = []
    pos = 0
    run: list[bytes] = []
    run_cs = None
    run_end = -1
    for m in _EWORD.finditer(v):
        data = _word_bytes(m.group(2), m.group(3))
        if data is None:
            continue
        cs = m.group(1).split("*", 1)[0].lower()
        if run and (m.start() != run_end or cs != run_cs):
            out.append(decode_bytes(b"".join(run), run_cs))
            run = []
        if not run:
            out.append(v[pos:m.start()])
        run.append(data)
        run_cs, run_end, pos = cs, m.end(), m.end()
    if run:
        out.append(decode_bytes(b"".join(run), run_cs))
    out.append(v[pos:])
    return "".join(out)


def _hval(v, limit: int | None = None) -> str:
    """A header value as clean str (compat32 may hand us surrogate-escaped 8-bit text or a
    ``Header``); ``limit`` caps the characters examined for the costlier header parsers."""
    if v is None:
        return ""
    if not isinstance(v, str):
        v = str(v)
    if limit is not None and len(v) > limit:
        v = v[:limit]
    try:
        v.encode("utf-8")
    except UnicodeEncodeError:  # 8-bit bytes in the header (surrogate-escaped by compat32)
        try:
            v = decode_bytes(v.encode("utf-8", "surrogateescape"), None)
        except UnicodeEncodeError:
            pass  # other surrogates: sanitize_text replaces them
    v = sanitize_text(decode_words(v))
    return " ".join(v.split())


def _first_headers(msg: Message) -> dict[str, str]:
    """Raw header values by lower-case name, first occurrence wins (no ``Header`` objects)."""
    hdr: dict[str, str] = {}
    for k, v in msg.raw_items():
        k = k.lower()
        if k not in hdr:
            hdr[k] = v
    return hdr


# --------------------------------------------------------------------------- html
_HTML_DROP_OPEN = re.compile(r"(?i)<(script|style|head|title)\b|<!--")
_HTML_BREAK = re.compile(r"(?i)<\s*+(br|/p|/div|/tr|/h[1-6]|/li|/table|hr|p|div|tr|li|blockquote|/blockquote)\b[^>]*+>")
_HTML_TAG = re.compile(r"<[^>]++>")
_BLANKS = re.compile(r"\n[ \t\xa0]*+\n(?:[ \t\xa0]*+\n)++")
_HTML_CLOSE: dict[str, re.Pattern] = {}


def _drop_html_blocks(s: str) -> str:
    """Remove script/style/head/title elements and comments. An unclosed one is left for the
    tag stripper; where no closer follows is remembered, so hostile HTML stays linear."""
    out: list[str] = []
    pos = 0
    no_closer_after: dict[str, int] = {}  # closer -> position after which it does not occur
    while True:
        m = _HTML_DROP_OPEN.search(s, pos)
        if m is None:
            break
        name = (m.group(1) or "!--").lower()
        if m.start() >= no_closer_after.get(name, len(s) + 1):
            c = None
        elif name == "!--":
            i = s.find("-->", m.end())
            c = (i, i + 3) if i >= 0 else None
        else:
            rx = _HTML_CLOSE.get(name) or _HTML_CLOSE.setdefault(name, re.compile(rf"(?i)</{name}\s*+>"))
            cm = rx.search(s, m.end())
            c = cm.span() if cm else None
        if c is None:
            no_closer_after[name] = min(no_closer_after.get(name, len(s) + 1), m.start())
            out.append(s[pos:m.end()])
            pos = m.end()
            continue
        out.append(s[pos:m.start()])
        pos = c[1]
    out.append(s[pos:])
    return "".join(out)


def html_to_text(s: str) -> str:
    s = _drop_html_blocks(s)
    # no tag can start after the last ">": leaving that tail out keeps the tag patterns linear
    cut = s.rfind(">") + 1
    head, tail = s[:cut], s[cut:]
    head = _HTML_TAG.sub("", _HTML_BREAK.sub("\n", head))
    s = html.unescape(head + tail).replace("\xa0", " ")
    s = "\n".join(line.strip() for line in _normalise_eol(s).split("\n"))
    return _BLANKS.sub("\n\n", s).strip()


# --------------------------------------------------------------------------- relay patterns
ORDER_RE = re.compile(r"(?<!\d)(\d{3}-\d{7}-\d{7})(?!\d)")
_ASIN_LABEL = re.compile(r"ASIN\s*[:：#]?\s*([A-Z0-9]{10})\b")
_ASIN_B0 = re.compile(r"\b(B0[0-9A-Z]{8})\b")
_ALIAS_ANY = re.compile(r"[\w.+-]{1,64}@marketplace\.amazon\.[a-z]{2,3}(?:\.[a-z]{2})?\b", re.I)
# Amazon's bounce for a buyer who opted out of unsolicited messages (any marketplace language):
# nothing more may be sent to that buyer (docs/delivery.md)
OPT_OUT_PATTERN = (
    r"opted\s+out|opt-out|unsolicited messages|abgemeldet|keine\s+nachrichten|"
    r"ne\s+souhaite\s+pas\s+recevoir|d[ée]sinscri|non\s+desidera\s+ricevere|"
    r"no\s+desea\s+recibir|dado\s+de\s+baja|受信を拒否|受け取りを拒否|配信停止")
OPT_OUT = re.compile(OPT_OUT_PATTERN, re.I)
_ALIAS_DOMAIN = re.compile(r"@marketplace\.amazon\.([a-z.]+)$")
_AMAZON_DOMAIN = re.compile(r"@(?:[\w-]+\.)*amazon\.([a-z.]+)$")
_SC_DOMAIN = re.compile(r"(?:sellercentral(?:-europe|-japan)?|www)\.amazon\.([a-z]{2,3}(?:\.[a-z]{2})?)\b")
# A relay marker line: "----- Begin message -----" (>= 5 separators each side); scanned per line
# (see _markers), a regex for it backtracks cubically on a long separator line.
_SEP = "-=_~－ー─"
_MARKER_START = re.compile(r"(?m)^[ \t]*+[-=_~－ー─]{5}")
_BEGIN_WORDS = re.compile(
    r"(?i)begin|start|beginn|anfang|début|debut|inizio|comienzo|inicio|principio|開始|ここから|本文")
_END_WORDS = re.compile(r"(?i)\bend\b|ende|fin\b|fine\b|final|終了|ここまで")
_TOKEN = re.compile(r"\[?commMgrTok:[A-Za-z0-9_-]+\]?")
_URL = re.compile(r"<?(?:https?://|www\.)[^\s<>\"')\]]+>?")
_SUBJ_PREFIX = re.compile(
    r"^(?:\s*(?:re|aw|wg|fw|fwd|tr|r|rif|rv|res|sv|vs|antw|antwort|返信|転送|回复|答复)\s*(?:\[\d+\])?\s*[:：]\s*)+",
    re.I)
_SUBJ_ORDER = re.compile(
    r"\s*[(\[（]?\s*(?:Order|Bestellung|Bestellnummer|Commande|Ordine|Pedido|Encomenda|Orden|注文番号|注文|Bestelling|"
    r"Zamówienie|Order ID|Order #)\s*(?:ID|Nr\.?|n[°º.]|#|番号)?\s*[:：#]?\s*\d{3}-\d{7}-\d{7}\s*[)\]）]?")
# "<topic> from Amazon customer <Name>" and its localised forms; group "topic" and "name".
_SUBJ_RELAY = [re.compile(p, re.I) for p in (
    r"^(?P<topic>.*?)\s+(?:from|by)\s+(?:an\s+)?Amazon\s+customer\s+(?P<name>[^()\[\]]*?)\s*(?=$|[(\[])",
    r"^(?P<topic>.*?)\s+(?:von|vom)\s+(?:dem\s+|einem\s+)?Amazon[- ]Kunde[n]?\s+(?P<name>[^()\[\]]*?)\s*(?=$|[(\[])",
    r"^(?P<topic>.*?)\s+(?:de la part du|de la part d'un|du)\s+client\s+Amazon\s+(?P<name>[^()\[\]]*?)\s*(?=$|[(\[])",
    r"^(?P<topic>.*?)\s+(?:dal|da un|dal\s+)?\s*cliente\s+(?:di\s+)?Amazon\s+(?P<name>[^()\[\]]*?)\s*(?=$|[(\[])",
    r"^(?P<topic>.*?)\s+(?:del|de un|de)\s+cliente\s+(?:de\s+)?Amazon\s+(?P<name>[^()\[\]]*?)\s*(?=$|[(\[])",
    r"^(?:Amazon(?:\.co\.jp)?\s*の?\s*(?:お客様|購入者)\s*)(?P<name>[^()\[\]（）]*?)\s*(?:様|さん)?\s*(?:から|より)の?\s*(?P<topic>[^()\[\]（）]*?)\s*(?=$|[(\[（])",
    r"^(?P<topic>[^()\[\]（）]*?)\s*[:：]?\s*(?:Amazon(?:\.co\.jp)?\s*の?\s*)?(?:お客様|購入者)\s*(?P<name>[^()\[\]（）]*?)\s*(?:様|さん)?\s*(?:から|より)(?:の)?(?:お問い合わせ|問い合わせ|メッセージ)?\s*(?=$|[(\[（])",
)]
_SUBJ_LANG = [  # subject language hints -> marketplace when nothing better is known
    (re.compile(r"Amazon-Kunde|Bestellung|Anfrage"), "DE"),
    (re.compile(r"client Amazon|Commande|Demande"), "FR"),
    (re.compile(r"cliente Amazon|Ordine|Richiesta"), "IT"),
    (re.compile(r"cliente de Amazon|Pedido|Consulta"), "ES"),
    (re.compile(r"[\u3040-\u30ff]|注文"), "JP"),
]
# Where the buyer's own text ends and Amazon's footer begins (any language).
_FOOTER = re.compile(
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
# Start of quoted history (first match cuts the rest).
_QUOTE = re.compile(
    r"(?im)^[ \t]*+(?:"
    r"On\b[^\n]{3,200}\bwrote:?[ \t]*$|"
    r"Am\b[^\n]{3,200}\bschrieb[^\n]{0,100}:[ \t]*$|"
    r"Le\b[^\n]{3,200}\ba écrit[ \t]*:?[ \t]*$|"
    r"Il\b[^\n]{3,200}\bha scritto[ \t]*:?[ \t]*$|"
    r"El\b[^\n]{3,200}\bescribió[ \t]*:?[ \t]*$|"
    r"[^\n]{0,100}(?:wrote|schrieb|a écrit|ha scritto|escribió)[ \t]*:[ \t]*$|"
    r"\d{4}年\d{1,2}月\d{1,2}日[^\n]{0,120}(?::|：|書きました)[ \t]*$|"
    r"[^\n]{0,80}のメッセージ[:：]?[ \t]*$|"
    r"-{2,}[ \t]*(?:Original Message|Ursprüngliche Nachricht|Message d'origine|Messaggio originale|Mensaje original|"
    r"元のメッセージ|Forwarded message|Weitergeleitete Nachricht)[ \t]*-{2,}|"
    r"_{10,}[ \t]*$|"
    r"(?:From|Von|De|Da|差出人)[ \t]*:[^\n]*\n(?:[^\n]*\n){0,2}[ \t]*(?:Sent|Gesendet|Envoyé|Inviato|Enviado|送信日時|Date|Datum|To|An|À|A|Para)[ \t]*:"
    r")"
)
_QUOTED_LINE = re.compile(r"(?m)^[ \t]*+>.*(?:\n|$)")
_ORDER_LINE = re.compile(r"(?im)^[ \t]*(?:Order ID|Bestellnummer|N° de commande|Numéro de commande|Numero ordine|"
                         r"N\.? ordine|Número de pedido|N[ºo°] de pedido|注文番号|Order #)[^\n]*$")
_ITEM_LINE = re.compile(r"(?m)^[^\n]*(?:\[ASIN[^\]\[\n]*\]|\bASIN\s*[:：]\s*[A-Z0-9]{10})[^\n]*$")
_AUTO_SUBJ = re.compile(
    r"(?i)^(?:automatic reply|auto[- ]?reply|autoreply|auto:|out of (?:the )?office|abwesenheitsnotiz|"
    r"automatische antwort|abwesend|réponse automatique|absence|risposta automatica|fuori sede|"
    r"respuesta automática|fuera de la oficina|自動返信|自動応答|不在)")
_AUTO_PREFIX = re.compile(
    r"(?i)^(?:\s*(?:automatic reply|auto[- ]?reply|autoreply|auto|out of (?:the )?office|abwesenheitsnotiz|"
    r"automatische antwort|réponse automatique|risposta automatica|respuesta automática|自動返信|自動応答|"
    r"undeliverable|unzustellbar|non remis)\s*[:：]\s*)+")
_BOUNCE_SUBJ = re.compile(
    r"(?i)(?:undeliverable|undelivered mail|delivery status notification|mail delivery fail|delivery failure|"
    r"returned mail|could not be delivered|failure notice|unzustellbar|nicht zustellbar|non remis|"
    r"échec de la remise|non recapitabile|mancato recapito|no se puede entregar|no entregado|"
    r"配信できません|配信不能|送信できませんでした)")
_NO_RESPONSE = re.compile(r"(?i)x-no-response-needed|\$?noresponseneeded")

_STOP = {
    "en": frozenset("the and you my to is it for of was this have not with please order i me can your are".split()),
    "de": frozenset("der die das und ich nicht ist mit bitte meine ein eine habe sie wann noch den zu für".split()),
    "fr": frozenset("le la les et je pas est avec mon ma une des vous commande bonjour pour que reçu".split()),
    "it": frozenset("il la che non sono con per mio mia una ho ordine buongiorno grazie del è ancora".split()),
    "es": frozenset("el la que no es con mi una los por pedido hola gracias para del he todavía".split()),
}
_WORD = re.compile(r"[a-zà-ÿß]+")
_KANA = re.compile(r"[\u3040-\u30ff]")


def guess_language(text: str, default: str | None) -> str | None:
    if not text:
        return default
    if _KANA.search(text):
        return "ja"
    words = _WORD.findall(text[:1500].lower())[:250]
    if not words:
        return default
    best, score = default, 1
    for lang, sw in _STOP.items():
        s = sum(1 for w in words if w in sw)
        if s > score:
            best, score = lang, s
    return best


# --------------------------------------------------------------------------- helpers
def _addresses(v: str) -> list[tuple[str, str]]:
    try:
        pairs = getaddresses([v])
    except RecursionError:  # deeply nested "(comments)": no usable address
        return []
    return [(n, a.lower()) for n, a in pairs if a]


def _leaf_parts(msg: Message):
    """The non-multipart parts in document order (like ``walk``, without recursion)."""
    stack = [(msg, 0)]
    while stack:
        part, depth = stack.pop()
        if not part.is_multipart():
            yield part
            continue
        if depth >= MAX_MIME_DEPTH:
            raise MailParseError(f"MIME structure nested too deeply (limit {MAX_MIME_DEPTH} levels)")
        stack.extend((p, depth + 1) for p in reversed(part.get_payload()))


def _filename(part: Message, ph: dict) -> str | None:
    """The part's file name. Raw 8-bit bytes in its headers (compat32 would hand out a
    ``Header`` and lose them) are decoded first; an RFC 2231 charset goes through
    ``decode_bytes`` (``get_filename`` fails on labels such as idna or punycode)."""
    disp, ctype = ph.get("content-disposition"), ph.get("content-type")
    if not (_is_clean(disp) and _is_clean(ctype)):
        part = Message()
        if disp is not None:
            part["Content-Disposition"] = _hval(disp)
        if ctype is not None:
            part["Content-Type"] = _hval(ctype)
    v = part.get_param("filename", None, "content-disposition")
    if v is None:
        v = part.get_param("name", None, "content-type")
    if v is None:
        return None
    if isinstance(v, tuple):  # RFC 2231: (charset, language, percent-decoded text)
        return decode_bytes(unquote(v[2]).encode("raw-unicode-escape"), v[0] or "us-ascii").strip()
    return unquote(v).strip()


def _attachment_size(part: Message, enc: str) -> int:
    """Decoded size in bytes, without decoding base64 (8-bit text counts as stored)."""
    try:
        p = part.get_payload()
    except (UnicodeError, LookupError):  # 8-bit payload labelled with a charset Python cannot apply
        return len(part.get_payload(decode=True) or b"")
    if not isinstance(p, str):
        return 0
    if enc == "base64":
        b64 = "".join(p.split())
        return max(len(b64) * 3 // 4 - (2 if b64.endswith("==") else 1 if b64.endswith("=") else 0), 0)
    return len(p)


def _is_clean(v) -> bool:
    if v is None:
        return True
    try:
        v.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _mp_from_tld(tld: str) -> str | None:
    m = mp.BY_DOMAIN.get(tld.lower().rstrip("."))
    return m.code if m else None


def _parse_date(v: str) -> datetime | None:
    if not v:
        return None
    try:
        d = parsedate_to_datetime(v.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if d is None:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=UTC)
    if not (1990 <= d.year <= 2100):
        return None
    return d.astimezone(UTC)


def _msgids(v: str) -> list[str]:
    return re.findall(r"<[^<>\s]+>", v or "")


def _cut_quotes(t: str) -> str:
    m = _QUOTE.search(t)
    if m:
        t = t[: m.start()]
    return _QUOTED_LINE.sub("", t)


def _clean(t: str) -> str:
    t = _TOKEN.sub("", t)
    t = _URL.sub("", t)
    t = "\n".join(line.rstrip() for line in t.replace("\r", "").split("\n"))
    return _BLANKS.sub("\n\n", t).strip()


def _markers(body: str) -> list[tuple[int, int, str]]:
    """(line start, line end, label) of every relay marker line; one pass over the lines."""
    out = []
    for m in _MARKER_START.finditer(body):
        start = m.start()
        end = body.find("\n", start)
        if end < 0:
            end = len(body)
        line = body[start:end].strip(" \t")
        lead = len(line) - len(line.lstrip(_SEP))
        if lead == len(line):  # separators only: two runs of five
            if lead < 10:
                continue
            label = ""
        else:
            trail = len(line) - len(line.rstrip(_SEP))
            if trail < 5:
                continue
            label = line[lead:len(line) - trail].strip(" \t")
        out.append((start, end, label))
    return out


def extract_text(body: str, kind: str) -> str:
    """Only what the buyer (or seller) wrote: between the markers, or above the quotes."""
    begin = end = None
    for m in _markers(body):
        label = m[2]
        if begin is None and _BEGIN_WORDS.search(label):
            begin = m
        elif begin is not None and _END_WORDS.search(label):
            end = m
            break
    if begin is not None:
        t = body[begin[1]: end[0] if end is not None else len(body)]
        if end is None:
            f = _FOOTER.search(t)
            if f:
                t = t[: f.start()]
        t = _cut_quotes(t)
    else:
        t = body
        if kind in ("buyer_message", "seller_reply", "auto_reply"):
            t = _cut_quotes(t)
        f = _FOOTER.search(t)
        if f:
            t = t[: f.start()]
        if kind == "buyer_message":
            t = _ORDER_LINE.sub("", t)
            t = _ITEM_LINE.sub("", t)
    return _clean(t)


# --------------------------------------------------------------------------- main entry
def parse_bytes(raw: bytes, *, salt: bytes | str, source: str = "", folder_role: str | None = None,
                internal_date: datetime | None = None, flags: str | tuple = "") -> ParsedMail:
    """Parse one mail. ``folder_role`` ('inbox'/'sent') and ``internal_date`` come from the
    mailbox when known; ``flags`` are IMAP flags/keywords (``$NoResponseNeeded`` honoured)."""
    if not raw or not raw.strip():
        raise MailParseError("empty message")
    deadline = time.thread_time() + PARSE_BUDGET_S
    size = len(raw)
    head = raw[:4096]
    if b"\x00" in head:
        raise MailParseError("binary data, not a mail message")
    raw = raw.replace(b"\r\n", b"\n")  # CRLF (IMAP, Dovecot) and LF (Maildir files) parse identically
    lines = raw.count(b"\n")
    levels = raw.lower().count(b"boundary")  # bounds how many multiparts (and how deep) there can be
    if levels > MAX_MULTIPARTS:
        levels = len(_BOUNDARY_DECL.findall(raw))
        if levels > MAX_MULTIPARTS:
            raise MailParseError(f"more than {MAX_MULTIPARTS} MIME multipart sections ({levels})")
    if lines * (2 + levels) > MAX_LINE_LEVELS:
        raise MailParseError(f"mail too complex to parse within the time budget: {lines} lines in up to "
                             f"{levels} MIME multipart levels (limit {MAX_LINE_LEVELS:,} line-levels)")
    try:
        msg = message_from_bytes(raw, policy=compat32)
    except RecursionError:
        raise MailParseError(f"MIME structure nested too deeply (limit {MAX_MIME_DEPTH} levels)") from None
    hdr = _first_headers(msg)
    if not hdr or not any(k in hdr for k in ("from", "subject", "message-id", "date")):
        raise MailParseError("no mail headers found")
    if "from" not in hdr:
        raise MailParseError("missing From header")
    from_list = _addresses(_hval(hdr.get("from"), MAX_HEADER))
    if not from_list:
        raise MailParseError("From header has no address")
    from_name, from_addr = from_list[0]
    to_list = _addresses(_hval(hdr.get("to"), MAX_HEADER)) + _addresses(_hval(hdr.get("cc"), MAX_HEADER))
    subject_raw = _hval(hdr.get("subject"), 8 * MAX_SUBJECT)[:MAX_SUBJECT]

    # dates: top Received header, then Date, then the mailbox's internal date
    received_at = None
    rcv = hdr.get("received")
    if rcv:
        received_at = _parse_date(_hval(rcv, MAX_HEADER).rsplit(";", 1)[-1])
    if received_at is None:
        received_at = _parse_date(_hval(hdr.get("date"), MAX_HEADER))
    if received_at is None and internal_date is not None:
        received_at = internal_date.astimezone(UTC) if internal_date.tzinfo else internal_date.replace(tzinfo=UTC)
    if received_at is None:
        raise MailParseError("no usable date (Received/Date headers missing or invalid)")

    mid_list = _msgids(_hval(hdr.get("message-id")))
    message_id = mid_list[0] if mid_list else "<%s@seller-inbox.invalid>" % hashlib.sha256(raw).hexdigest()[:40]
    irt = _msgids(_hval(hdr.get("in-reply-to")))
    refs = _msgids(_hval(hdr.get("references")))[-MAX_REFERENCES:]
    in_reply_to = irt[0] if irt else (refs[-1] if refs else None)
    _check_budget(deadline, "reading the headers")

    # ---- body parts
    plains: list[str] = []
    htmls: list[str] = []
    body_chars = 0
    attachments: list[dict] = []
    is_report = msg.get_content_type() == "multipart/report"
    truncated = False
    for part in _leaf_parts(msg):
        _check_budget(deadline, "reading the MIME parts")
        ph = _first_headers(part)
        ctype = part.get_content_type()
        disp = _hval(ph.get("content-disposition")).split(";", 1)[0].strip().lower()
        fname = _filename(part, ph)
        if ctype in ("message/delivery-status", "message/disposition-notification"):
            is_report = True
            continue
        if (ctype in ("text/plain", "text/html") and disp != "attachment" and not fname):
            if body_chars >= MAX_BODY_CHARS:
                truncated = True
                continue
            payload = part.get_payload(decode=True) or b""
            if len(payload) > MAX_PART_BYTES:
                payload, truncated = payload[:MAX_PART_BYTES], True
            text = decode_bytes(payload, part.get_content_charset())
            if body_chars + len(text) > MAX_BODY_CHARS:
                text, truncated = text[:MAX_BODY_CHARS - body_chars], True
            body_chars += len(text)
            (plains if ctype == "text/plain" else htmls).append(text)
            continue
        if len(attachments) >= MAX_ATTACHMENTS:
            truncated = True
            continue
        asize = _attachment_size(part, _hval(ph.get("content-transfer-encoding")).lower())
        name = _hval(fname)[:255] if fname else None
        attachments.append({"name": name, "type": sanitize_text(ctype), "size": asize})

    if plains:
        body = "\n".join(plains)
    elif htmls:
        body = html_to_text("\n".join(htmls))
    else:
        body = ""
    _check_budget(deadline, "decoding the body")

    # ---- kind
    from_is_alias = bool(_ALIAS_DOMAIN.search(from_addr))
    to_alias = next((a for _, a in to_list if _ALIAS_DOMAIN.search(a)), None)
    auto_hdr = (hdr.get("auto-submitted") or "").strip().lower()
    # RFC 3834: "auto-replied" is an out-of-office/autoresponder. "auto-generated" is any machine
    # mail - Amazon's own relays and notices may carry it, so it only counts for other senders.
    amazon_any = from_is_alias or bool(_AMAZON_DOMAIN.search(from_addr))
    auto = auto_hdr.startswith("auto-replied") or (auto_hdr.startswith("auto-") and not amazon_any) \
        or "x-autoreply" in hdr or "x-autorespond" in hdr \
        or (hdr.get("precedence") or "").strip().lower() == "auto_reply"
    subj_plain = _SUBJ_PREFIX.sub("", subject_raw)
    local = from_addr.split("@", 1)[0]
    bounce = is_report or local in ("mailer-daemon", "postmaster") or bool(_BOUNCE_SUBJ.search(subject_raw))
    autosubj = bool(_AUTO_SUBJ.search(subj_plain)) or bool(_AUTO_SUBJ.search(subject_raw))
    amazon_sender = (not from_is_alias) and bool(_AMAZON_DOMAIN.search(from_addr))
    if bounce or autosubj or (auto and not amazon_sender):
        kind = "auto_reply"
    elif from_is_alias:
        kind = "buyer_message"
    elif amazon_sender:
        kind = "amazon_notice"
    elif to_alias or folder_role == "sent":
        kind = "seller_reply" if to_alias else "unknown"
    else:
        kind = "unknown"
    direction = "outbound" if (folder_role == "sent" or (to_alias and not from_is_alias and not amazon_sender)) else "inbound"

    # ---- alias, marketplace
    alias_addr = from_addr if from_is_alias else (to_alias if direction == "outbound" else None)
    opted_out = False
    if bounce and alias_addr is None:
        # a bounce of our reply names the buyer's alias it could not reach (recipient, quoted original)
        m = _ALIAS_ANY.search(raw[:65536].decode("latin-1"))
        alias_addr = m.group(0).lower() if m else None
        opted_out = bool(OPT_OUT.search(subject_raw) or OPT_OUT.search(body[:20000]))
    buyer_alias = hash_alias(normalise_alias(alias_addr), salt) if alias_addr else None
    marketplace = None
    if alias_addr:
        m = _ALIAS_DOMAIN.search(alias_addr)
        marketplace = _mp_from_tld(m.group(1)) if m else None
    if marketplace is None:
        m = _SC_DOMAIN.search(body)
        if m:
            marketplace = _mp_from_tld(m.group(1))
    if marketplace is None and amazon_sender:
        m = _AMAZON_DOMAIN.search(from_addr)
        marketplace = _mp_from_tld(m.group(1)) if m else None
    if marketplace is None:
        for rx, code in _SUBJ_LANG:
            if rx.search(subject_raw):
                marketplace = code
                break

    # ---- subject: topic and buyer first name
    names: list[str] = []
    if from_is_alias and from_name:
        n = _hval(from_name)[:MAX_NAME]
        n = re.split(r"\s+[-–]\s+Amazon|\s*[-–]\s*Amazon|\s+via\s+Amazon", n, maxsplit=1, flags=re.I)[0]
        n = n.strip(" \"'")
        if n and "amazon" not in n.lower():
            names.append(n)
            names.extend(w for w in n.split() if len(w) > 1)
    topic = None
    subj_core = _SUBJ_ORDER.sub("", subj_plain).strip()
    subj_core = _SUBJ_PREFIX.sub("", _AUTO_PREFIX.sub("", subj_core)).strip()
    for rx in _SUBJ_RELAY:
        m = rx.search(subj_core)
        if m and m.group("topic") is not None:
            nm = (m.group("name") or "").strip(" \"'")[:MAX_NAME]
            if nm:
                names.append(nm)
                names.extend(w for w in nm.split() if len(w) > 1)
            topic = m.group("topic")
            break
    if topic is None:
        topic = ORDER_RE.sub("", subj_core)

    # ---- order, asin
    om = ORDER_RE.search(subject_raw) or ORDER_RE.search(body)
    order_id = om.group(1) if om else None
    am = _ASIN_LABEL.search(body) or _ASIN_B0.search(body) or _ASIN_B0.search(subject_raw)
    asin = am.group(1) if am else None

    # ---- text
    text = extract_text(body, kind)
    if len(text) > MAX_TEXT:
        text, truncated = text[:MAX_TEXT], True
    _check_budget(deadline, "extracting the text")
    names = sorted(set(names), key=len, reverse=True)
    text = redact(text, names)
    subject = redact(subject_raw, names)
    for a in attachments:
        if a["name"]:
            a["name"] = _redact_filename(a["name"], names)
    if topic:  # redact first (names are case-sensitive), then normalise
        topic = redact(topic, names)
        topic = re.sub(r"[\s:：\-–,.!?#(（]+$", "", " ".join(topic.split())).lower()[:200] or None
    mp_lang = mp.get(marketplace).language if marketplace else None
    language = guess_language(text, mp_lang) if kind in ("buyer_message", "seller_reply") else mp_lang
    if kind not in ("buyer_message", "seller_reply") and text:
        language = guess_language(text, mp_lang)

    if isinstance(flags, str):
        flags = tuple(flags.split())
    nrn = any(_NO_RESPONSE.fullmatch(f.strip("\\")) for f in flags) or "x-no-response-needed" in hdr
    _check_budget(deadline, "redacting")
    return _sanitised(ParsedMail(
        kind=kind, message_id=bound_msgid(message_id),
        in_reply_to=bound_msgid(in_reply_to) if in_reply_to else None,
        references=[bound_msgid(r) for r in refs],
        received_at=received_at, marketplace=marketplace, order_id=order_id, asin=asin,
        buyer_alias=buyer_alias, topic=topic, subject=subject, text=text, language=language,
        attachments=attachments, direction=direction, no_response_needed=nrn,
        auto_submitted=auto, size_bytes=size, truncated=truncated, source=source,
        alias_plain=alias_addr if kind in ("buyer_message", "seller_reply", "auto_reply") else None,
        opted_out=opted_out,
    ))


_STR_FIELDS = tuple(f.name for f in fields(ParsedMail))


def _sanitised(p: ParsedMail) -> ParsedMail:
    """Last guard: every str field (and attachment name/type) passes ``sanitize_text``."""
    for name in _STR_FIELDS:
        v = getattr(p, name)
        if isinstance(v, str):
            setattr(p, name, sanitize_text(v))
    for a in p.attachments:
        for k in ("name", "type"):
            if isinstance(a.get(k), str):
                a[k] = sanitize_text(a[k])
    return p


def _redact_filename(name: str, names: list[str]) -> str:
    name = redact(name, names)
    for n in names:
        if len(n) >= 2:
            name = re.sub(re.escape(n), "[NAME]", name, flags=re.I)
    # a capitalised word joined to a known first name is the surname: John_Miller_receipt.pdf
    return re.sub(r"\[NAME\]([ _.-])[A-ZÀ-Þ][a-zà-ÿß'-]+", r"[NAME]\1[NAME]", name)


def parse_file(path, *, salt: bytes | str) -> ParsedMail:
    with open(path, "rb") as fh:
        return parse_bytes(fh.read(), salt=salt, source=str(path))


def thread_key(store_id: str, alias_hash: str | None, order_id: str | None) -> str:
    """Stable thread id for (store, buyer alias hash, order id)."""
    h = hashlib.sha256(f"{store_id}\x1f{alias_hash or ''}\x1f{order_id or ''}".encode()).hexdigest()
    return "t_" + h[:24]


def sla_due(received_at: datetime) -> datetime:
    return received_at + timedelta(hours=24)
