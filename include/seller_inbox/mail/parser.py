"""THE mail parser: one relay mail (bytes) in, one redacted ``ParsedMail`` out.

Handles Amazon's buyer-seller relay mails of every marketplace (subjects, markers and
footers in English, German, French, Italian, Spanish and Japanese), the seller's own
replies, Amazon's notices (A-to-z claims, account health, policy warnings), bounces and
out-of-office replies. What those mails look like is ``seller_inbox.domain.relay``
(docs/domain.md, "Relay mails"); personal data goes through ``seller_inbox.redaction``.
Uses the stdlib ``email`` package with ``compat32`` (fast) and a regex HTML-to-text
converter; charsets are decoded with fallbacks for mislabelled mail, and raw 8-bit header
bytes by the mail's declared charset or the likeliest of GB18030, Shift_JIS and Windows-1252.

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
from datetime import datetime, timezone
from email import message_from_bytes
from email.message import Message
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime, unquote

from seller_inbox.domain import identifiers as ids
from seller_inbox.domain import marketplaces as mp
from seller_inbox.domain import relay
from seller_inbox.redaction import redact, redact_filename, redact_identifier

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

    @classmethod
    def from_dict(cls, d: dict, received_at: datetime) -> "ParsedMail":
        """The mail ``to_dict`` stored (``raw.mail_message.parsed``), received at ``received_at``."""
        return cls(kind=d["kind"], message_id=d["message_id"], in_reply_to=d.get("in_reply_to"),
                   references=d.get("references") or [], received_at=received_at, marketplace=d.get("marketplace"),
                   order_id=d.get("order_id"), asin=d.get("asin"), buyer_alias=d.get("buyer_alias"),
                   topic=d.get("topic"), subject=d.get("subject") or "", text=d.get("text") or "",
                   language=d.get("language"), attachments=d.get("attachments") or [],
                   direction=d.get("direction") or "inbound", no_response_needed=bool(d.get("no_response_needed")),
                   size_bytes=d.get("size_bytes") or 0, truncated=bool(d.get("truncated")))


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


def _hval(v, limit: int | None = None, charset: str | None = None) -> str:
    """A header value as clean str (compat32 may hand us surrogate-escaped 8-bit text or a
    ``Header``); ``limit`` caps the characters examined for the costlier header parsers;
    ``charset`` is the mail's declared body charset, the best guess for raw 8-bit bytes."""
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
            v = sanitize_text(decode_header_bytes(v.encode("utf-8", "surrogateescape"), charset))
        except UnicodeEncodeError:
            pass  # other surrogates: sanitize_text replaces them
    v = sanitize_text(decode_words(v))
    return " ".join(v.split())


# Raw 8-bit header bytes carry no charset label. Read as Windows-1252 (the old fallback), GBK or
# Shift_JIS bytes become mojibake: a buyer's name then escapes redaction and decodes back later.
_HEADER_GUESSES = ("gb18030", "cp932", "cp1252")
_JA_CHAR = re.compile(r"[\u3000-\u30ff\u4e00-\u9fff\uff01-\uff5e]")


def _plausible(text: str, codec: str) -> float:
    """Share (0..1) of the non-ASCII characters that text in ``codec`` would plausibly hold."""
    non = [i for i, c in enumerate(text) if ord(c) > 127]
    if not non:
        return 1.0

    def ascii_letter(i: int) -> bool:
        return 0 <= i < len(text) and text[i].isascii() and text[i].isalpha()

    ok = 0
    for i in non:
        c = text[i]
        if codec == "cp1252":
            # accented letters, alone or in pairs (öß); mojibake is symbols, capitals and long runs
            run = sum(1 for j in (i - 2, i - 1, i + 1, i + 2) if 0 <= j < len(text) and ord(text[j]) > 127)
            ok += c.isalpha() and (c.islower() or ascii_letter(i + 1)) and run <= 1
            continue
        if ascii_letter(i - 1) and ascii_letter(i + 1):
            continue  # a CJK character wedged inside a Latin word: misread Latin bytes
        if codec == "gb18030":  # common Chinese characters and punctuation are all in GB 2312
            try:
                c.encode("gb2312")
                ok += 1
            except UnicodeEncodeError:
                pass
        else:  # kana, kanji, full-width forms; half-width katakana betray GBK bytes
            ok += bool(_JA_CHAR.match(c))
    return ok / len(non)


def decode_header_bytes(data: bytes, charset: str | None = None) -> str:
    """Decode unlabelled 8-bit header bytes: UTF-8, else the mail's declared (non-Latin) body
    charset, else the likeliest of GB18030, Shift_JIS and Windows-1252 (a declared Latin
    charset wins ties)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    cs = _codec((charset or "").strip().strip('"').lower()[:64])
    latin = cs in ("ascii", "cp1252", "iso8859_15")
    if cs and not latin and cs != "utf-8":
        try:
            return data.decode(cs)
        except (UnicodeError, LookupError):
            pass
    best, score = None, -1.0
    for c in (("cp1252",) + _HEADER_GUESSES) if latin else _HEADER_GUESSES:
        try:
            t = data.decode(c)
        except UnicodeDecodeError:
            continue
        p = _plausible(t, c)
        if p > score:
            best, score = t, p
    return best if best is not None else data.decode("utf-8", "replace")


def _declared_charset(msg: Message) -> str | None:
    """The first charset the mail declares for a part (at most 50 parts looked at)."""
    stack, seen = [msg], 0
    while stack and seen < 50:
        part = stack.pop()
        seen += 1
        try:
            if part.is_multipart():
                payload = part.get_payload()
                stack.extend(reversed(payload) if isinstance(payload, list) else ())
                continue
            cs = part.get_content_charset()
        except (UnicodeError, LookupError, ValueError, TypeError):
            continue
        if cs:
            return cs
    return None


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


# --------------------------------------------------------------------------- relay grammar
# The relay-mail grammar (frame, footers, quotes, subjects, senders) lives in domain/relay.py;
# these names are what the parser (and older importers) call it.
ORDER_RE = re.compile(rf"(?<!\d)({ids.ORDER_ID})(?!\d)")
_ASIN_LABEL = ids.ASIN_LABELLED_RE
_ASIN_B0 = re.compile(rf"\b({ids.ASIN})\b")
_ALIAS_ANY = relay.RELAY_ALIAS_RE
_ALIAS_DOMAIN = relay.RELAY_ALIAS_DOMAIN
OPT_OUT_PATTERN = relay.OPT_OUT_PATTERN
OPT_OUT = relay.OPT_OUT

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


def _filename(part: Message, ph: dict, charset: str | None = None) -> str | None:
    """The part's file name. Raw 8-bit bytes in its headers (compat32 would hand out a
    ``Header`` and lose them) are decoded first; an RFC 2231 charset goes through
    ``decode_bytes`` (``get_filename`` fails on labels such as idna or punycode)."""
    disp, ctype = ph.get("content-disposition"), ph.get("content-type")
    if not (_is_clean(disp) and _is_clean(ctype)):
        part = Message()
        if disp is not None:
            part["Content-Disposition"] = _hval(disp, None, charset)
        if ctype is not None:
            part["Content-Type"] = _hval(ctype, None, charset)
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


def extract_text(body: str, kind: str) -> str:
    """Only what the buyer (or seller) wrote: between the markers, or above the quotes."""
    return relay.own_text(body, kind)


# --------------------------------------------------------------------------- personal data
def _private_id(mid: str, personal: frozenset[str], salt: bytes | str) -> str:
    """``mid`` unless it carries a personal address or name (``redact_identifier``'s judgement,
    or it is one of the mail's own From/Reply-To/To/Cc addresses): then a keyed hash of it.
    Stable, so a reply's In-Reply-To still finds the message it answers."""
    inner = mid[1:-1] if mid.startswith("<") and mid.endswith(">") else mid
    domain = inner.rpartition("@")[2].lower()
    if not relay.AMAZON_MAIL_DOMAIN.search("@" + domain):  # Amazon's own ids name nobody
        out = redact_identifier(mid, salt)
        if out != mid:
            return out
    if inner.strip().lower() in personal:
        return "<redacted.%s@id.invalid>" % hash_alias(inner.strip(), salt)
    return mid


# --------------------------------------------------------------------------- phases
@dataclass
class _Mail:
    """What the phases of ``parse_bytes`` learn about one mail, in order."""

    raw: bytes
    msg: Message
    hdr: dict
    charset_hint: str | None = None
    from_name: str = ""
    from_addr: str = ""
    to_list: list = field(default_factory=list)
    personal: frozenset = frozenset()
    subject_raw: str = ""
    received_at: datetime | None = None
    message_id: str = ""
    in_reply_to: str | None = None
    refs: list = field(default_factory=list)
    body: str = ""
    attachments: list = field(default_factory=list)
    is_report: bool = False
    truncated: bool = False
    kind: str = "unknown"
    direction: str = "inbound"
    auto: bool = False
    bounce: bool = False
    from_is_alias: bool = False
    amazon_sender: bool = False
    to_alias: str | None = None
    alias_addr: str | None = None
    opted_out: bool = False
    marketplace: str | None = None
    names: list = field(default_factory=list)
    topic: str | None = None


def _load(raw: bytes) -> tuple[bytes, Message]:
    """Refuse what cannot be a mail or cannot be parsed in budget; LF line endings; the MIME tree."""
    if not raw or not raw.strip():
        raise MailParseError("empty message")
    if b"\x00" in raw[:4096]:
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
        return raw, message_from_bytes(raw, policy=compat32)
    except RecursionError:
        raise MailParseError(f"MIME structure nested too deeply (limit {MAX_MIME_DEPTH} levels)") from None


def _read_headers(m: _Mail, internal_date: datetime | None, salt: bytes | str) -> None:
    """Addresses, subject, the receive time and the thread ids (personal ids hashed)."""
    hdr = m.hdr
    if not hdr or not any(k in hdr for k in ("from", "subject", "message-id", "date")):
        raise MailParseError("no mail headers found")
    if "from" not in hdr:
        raise MailParseError("missing From header")
    m.charset_hint = _declared_charset(m.msg) if not all(_is_clean(v) for v in hdr.values()) else None
    hv = lambda name, limit=MAX_HEADER: _hval(hdr.get(name), limit, m.charset_hint)  # noqa: E731
    from_list = _addresses(hv("from"))
    if not from_list:
        raise MailParseError("From header has no address")
    m.from_name, m.from_addr = from_list[0]
    m.to_list = _addresses(hv("to")) + _addresses(hv("cc"))
    m.personal = frozenset(a for _, a in from_list + m.to_list + _addresses(hv("reply-to")) + _addresses(hv("sender")))
    m.subject_raw = hv("subject", 8 * MAX_SUBJECT)[:MAX_SUBJECT]
    # dates: top Received header, then Date, then the mailbox's internal date
    rcv = hdr.get("received")
    received_at = _parse_date(hv("received").rsplit(";", 1)[-1]) if rcv else None
    if received_at is None:
        received_at = _parse_date(hv("date"))
    if received_at is None and internal_date is not None:
        received_at = internal_date.astimezone(UTC) if internal_date.tzinfo else internal_date.replace(tzinfo=UTC)
    if received_at is None:
        raise MailParseError("no usable date (Received/Date headers missing or invalid)")
    m.received_at = received_at
    mid_list = _msgids(_hval(hdr.get("message-id")))
    m.message_id = (_private_id(mid_list[0], m.personal, salt) if mid_list
                    else "<%s@seller-inbox.invalid>" % hashlib.sha256(m.raw).hexdigest()[:40])
    irt = _msgids(_hval(hdr.get("in-reply-to")))
    m.refs = [_private_id(r, m.personal, salt) for r in _msgids(_hval(hdr.get("references")))[-MAX_REFERENCES:]]
    m.in_reply_to = _private_id(irt[0], m.personal, salt) if irt else (m.refs[-1] if m.refs else None)


def _read_parts(m: _Mail, deadline: float) -> None:
    """The body text (plain parts, else HTML as text) and the attachments' names, types, sizes."""
    plains: list[str] = []
    htmls: list[str] = []
    body_chars = 0
    m.is_report = m.msg.get_content_type() == "multipart/report"
    for part in _leaf_parts(m.msg):
        _check_budget(deadline, "reading the MIME parts")
        ph = _first_headers(part)
        ctype = part.get_content_type()
        disp = _hval(ph.get("content-disposition"), None, m.charset_hint).split(";", 1)[0].strip().lower()
        fname = _filename(part, ph, m.charset_hint)
        if ctype in ("message/delivery-status", "message/disposition-notification"):
            m.is_report = True
            continue
        if ctype in ("text/plain", "text/html") and disp != "attachment" and not fname:
            if body_chars >= MAX_BODY_CHARS:
                m.truncated = True
                continue
            payload = part.get_payload(decode=True) or b""
            if len(payload) > MAX_PART_BYTES:
                payload, m.truncated = payload[:MAX_PART_BYTES], True
            text = decode_bytes(payload, part.get_content_charset())
            if body_chars + len(text) > MAX_BODY_CHARS:
                text, m.truncated = text[:MAX_BODY_CHARS - body_chars], True
            body_chars += len(text)
            (plains if ctype == "text/plain" else htmls).append(text)
            continue
        if len(m.attachments) >= MAX_ATTACHMENTS:
            m.truncated = True
            continue
        asize = _attachment_size(part, _hval(ph.get("content-transfer-encoding")).lower())
        name = _hval(fname, None, m.charset_hint)[:255] if fname else None
        m.attachments.append({"name": name, "type": sanitize_text(ctype), "size": asize})
    if plains:
        m.body = "\n".join(plains)
    elif htmls:
        m.body = html_to_text("\n".join(htmls))


def _decide_kind(m: _Mail, folder_role: str | None) -> None:
    """buyer_message / seller_reply / amazon_notice / auto_reply / unknown, and the direction."""
    hdr, from_addr, subject_raw = m.hdr, m.from_addr, m.subject_raw
    m.from_is_alias = bool(relay.RELAY_ALIAS_DOMAIN.search(from_addr))
    m.to_alias = next((a for _, a in m.to_list if relay.RELAY_ALIAS_DOMAIN.search(a)), None)
    auto_hdr = (hdr.get("auto-submitted") or "").strip().lower()
    # RFC 3834: "auto-replied" is an out-of-office/autoresponder. "auto-generated" is any machine
    # mail - Amazon's own relays and notices may carry it, so it only counts for other senders.
    amazon_any = bool(relay.AMAZON_SENDER.search(from_addr))
    m.auto = auto_hdr.startswith("auto-replied") or (auto_hdr.startswith("auto-") and not amazon_any) \
        or "x-autoreply" in hdr or "x-autorespond" in hdr \
        or (hdr.get("precedence") or "").strip().lower() == "auto_reply"
    m.bounce = m.is_report or bool(relay.BOUNCE_SENDER.search(from_addr)) or relay.is_bounce_subject(subject_raw)
    autosubj = relay.is_auto_reply_subject(subject_raw)
    m.amazon_sender = amazon_any and not m.from_is_alias
    if m.bounce or autosubj or (m.auto and not m.amazon_sender):
        m.kind = "auto_reply"
    elif m.from_is_alias:
        m.kind = "buyer_message"
    elif m.amazon_sender:
        m.kind = "amazon_notice"
    elif m.to_alias:
        m.kind = "seller_reply"
    outbound = folder_role == "sent" or (m.to_alias and not m.from_is_alias and not m.amazon_sender)
    m.direction = "outbound" if outbound else "inbound"


def _find_alias_and_marketplace(m: _Mail) -> None:
    """The buyer's relay alias (also the one a bounce could not reach) and the marketplace."""
    m.alias_addr = m.from_addr if m.from_is_alias else (m.to_alias if m.direction == "outbound" else None)
    if m.bounce and m.alias_addr is None:
        # a bounce of our reply names the buyer's alias it could not reach (recipient, quoted original)
        a = relay.RELAY_ALIAS_RE.search(m.raw[:65536].decode("latin-1"))
        m.alias_addr = a.group(0).lower() if a else None
        m.opted_out = bool(relay.OPT_OUT.search(m.subject_raw) or relay.OPT_OUT.search(m.body[:20000]))
    if m.alias_addr:
        a = relay.RELAY_ALIAS_DOMAIN.search(m.alias_addr)
        m.marketplace = relay.marketplace_of_domain(a.group(1)) if a else None
    if m.marketplace is None:
        a = relay.SELLER_CENTRAL_LINK.search(m.body)
        m.marketplace = relay.marketplace_of_domain(a.group(1)) if a else None
    if m.marketplace is None and m.amazon_sender:
        a = relay.AMAZON_SENDER.search(m.from_addr)
        m.marketplace = relay.marketplace_of_domain(a.group(1)) if a else None
    if m.marketplace is None:
        m.marketplace = next((code for rx, code in relay.SUBJECT_MARKETPLACE_HINTS if rx.search(m.subject_raw)), None)


def _name_words(name: str) -> list[str]:
    return [name] + [w for w in name.split() if len(w) > 1]


def _find_names_and_topic(m: _Mail) -> None:
    """Names to redact (the relay's buyer name, a person sending directly) and the subject's topic."""
    person = m.from_is_alias or (m.kind in ("unknown", "auto_reply") and not m.bounce and not m.amazon_sender)
    if person and m.from_name:
        n = _hval(m.from_name)[:MAX_NAME]
        n = re.split(r"\s+[-–]\s+Amazon|\s*[-–]\s*Amazon|\s+via\s+Amazon", n, maxsplit=1, flags=re.I)[0]
        n = n.strip(" \"'")
        if n and "amazon" not in n.lower():
            m.names.extend(_name_words(n))
    subj_plain = relay.SUBJECT_PREFIX.sub("", m.subject_raw)
    subj_core = relay.SUBJECT_ORDER.sub("", subj_plain).strip()
    subj_core = relay.SUBJECT_PREFIX.sub("", relay.AUTO_PREFIX.sub("", subj_core)).strip()
    for rx in relay.RELAY_SUBJECTS:
        s = rx.search(subj_core)
        if s and s.group("topic") is not None:
            nm = (s.group("name") or "").strip(" \"'")[:MAX_NAME]
            if nm:
                m.names.extend(_name_words(nm))
            m.topic = s.group("topic")
            break
    if m.topic is None:
        m.topic = ORDER_RE.sub("", subj_core)


def _redact_all(m: _Mail, deadline: float) -> str:
    """The sender's own text, capped; text, subject, topic and attachment names redacted."""
    text = extract_text(m.body, m.kind)
    if len(text) > MAX_TEXT:
        text, m.truncated = text[:MAX_TEXT], True
    _check_budget(deadline, "extracting the text")
    names = sorted(set(m.names), key=len, reverse=True)
    text = redact(text, names)
    m.subject_raw = redact(m.subject_raw, names)
    for a in m.attachments:
        if a["name"]:
            a["name"] = redact_filename(a["name"], names)
    if m.topic:  # redact first, then normalise
        topic = redact(m.topic, names)
        m.topic = re.sub(r"[\s:：\-–,.!?#(（]+$", "", " ".join(topic.split())).lower()[:200] or None
    return text


# --------------------------------------------------------------------------- main entry
def parse_bytes(raw: bytes, *, salt: bytes | str, source: str = "", folder_role: str | None = None,
                internal_date: datetime | None = None, flags: str | tuple = "") -> ParsedMail:
    """Parse one mail. ``folder_role`` ('inbox'/'sent') and ``internal_date`` come from the
    mailbox when known; ``flags`` are IMAP flags/keywords (``$NoResponseNeeded`` honoured)."""
    deadline = time.thread_time() + PARSE_BUDGET_S
    size = len(raw or b"")
    raw, msg = _load(raw)
    m = _Mail(raw=raw, msg=msg, hdr=_first_headers(msg))
    _read_headers(m, internal_date, salt)
    _check_budget(deadline, "reading the headers")
    _read_parts(m, deadline)
    _check_budget(deadline, "decoding the body")
    _decide_kind(m, folder_role)
    _find_alias_and_marketplace(m)
    _find_names_and_topic(m)
    om = ORDER_RE.search(m.subject_raw) or ORDER_RE.search(m.body)
    am = _ASIN_LABEL.search(m.body) or _ASIN_B0.search(m.body) or _ASIN_B0.search(m.subject_raw)
    text = _redact_all(m, deadline)
    mp_lang = mp.get(m.marketplace).language if m.marketplace else None
    language = guess_language(text, mp_lang) if (text or m.kind in ("buyer_message", "seller_reply")) else mp_lang
    if isinstance(flags, str):
        flags = tuple(flags.split())
    nrn = any(relay.NO_RESPONSE.fullmatch(f.strip("\\")) for f in flags) or "x-no-response-needed" in m.hdr
    _check_budget(deadline, "redacting")
    return _sanitised(ParsedMail(
        kind=m.kind, message_id=bound_msgid(m.message_id),
        in_reply_to=bound_msgid(m.in_reply_to) if m.in_reply_to else None,
        references=[bound_msgid(r) for r in m.refs],
        received_at=m.received_at, marketplace=m.marketplace, order_id=om.group(1) if om else None,
        asin=am.group(1) if am else None, buyer_alias=hash_alias(normalise_alias(m.alias_addr), salt) if m.alias_addr else None,
        topic=m.topic, subject=m.subject_raw, text=text, language=language,
        attachments=m.attachments, direction=m.direction, no_response_needed=nrn,
        auto_submitted=m.auto, size_bytes=size, truncated=m.truncated, source=source,
        alias_plain=m.alias_addr if m.kind in ("buyer_message", "seller_reply", "auto_reply") else None,
        opted_out=m.opted_out,
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


def thread_key(store_id: str, alias_hash: str | None, order_id: str | None) -> str:
    """Stable thread id for (store, buyer alias hash, order id)."""
    h = hashlib.sha256(f"{store_id}\x1f{alias_hash or ''}\x1f{order_id or ''}".encode()).hexdigest()
    return "t_" + h[:24]

