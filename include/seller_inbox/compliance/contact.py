"""Ways to reach the seller outside Amazon: links other than https to Amazon (bare domains
too), e-mail addresses, phone numbers, and other channels (WeChat, WhatsApp, LINE, Telegram,
social media handles).

A phone number is what mail redaction calls one (``seller_inbox.redaction.phones``, the project's
one definition), minus redaction's protected spans: a carrier tracking number, order id, VAT id,
model number or ``2026-11-20`` is not a phone (docs/redaction.md).
"""

from __future__ import annotations

import re

from seller_inbox.domain import marketplaces
from seller_inbox.compliance.message import Message
from seller_inbox.redaction import phones, protected
from seller_inbox.redaction.spans import normalise, resolve

# starts only where a run of address characters starts: from every position of a long run the
# search was quadratic (a 200,000-digit body took minutes); whether it matches is unchanged
EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
OBFUSCATED_EMAIL = re.compile(r"\b[\w.+-]{2,40}\s?[\[({]\s?(?:at|@)\s?[\])}]\s?[\w-]{2,40}"
                              r"(?:\s?[\[({]\s?dot\s?[\])}]\s?|\.)[a-z]{2,6}\b", re.I)

_AMAZON = "|".join(re.escape(d) for d in sorted((m.domain for m in marketplaces.MARKETPLACES.values()), key=len, reverse=True))
URL = re.compile(r"(?<![A-Za-z0-9])(?:[a-z][a-z0-9+.-]{1,9}://|www\.)[^\s<>\"'()\u0080-\uffff]+", re.I)
ALLOWED_URL = re.compile(rf"https://(?:[a-z0-9-]+\.)*amazon\.(?:{_AMAZON})(?=[/?#]|$)", re.I)
# bare domains: a label, a dot, a known top-level domain written in lower case (so that
# "Amazon.DE"-style brand text and "done.It" typos are not domains), not followed by a letter
_TLDS = ("com|net|org|info|biz|shop|store|online|site|io|co|me|app|eu|us|uk|de|fr|it|es|nl|pl|se|jp|cn|ca|"
         "mx|br|au|sg|at|ch|be|tv|xyz|top|link|ly")
BARE_DOMAIN = re.compile(rf"(?<![\w@.-])(?:[A-Za-z0-9][A-Za-z0-9-]*\.)+(?:co\.)?(?:{_TLDS})(?![A-Za-z0-9-])(?:/[^\s]*)?")
_AMAZON_BARE = re.compile(rf"^(?:[a-z0-9-]+\.)*amazon\.(?:{_AMAZON})$", re.I)

CHANNEL = re.compile("|".join([
    r"(?i:(?<![A-Za-z])(?:we ?chat|weixin|whats ?app|telegram|viber|skype|kakao ?talk|facebook|instagram|insta|"
    r"tiktok|twitter|snapchat|pinterest|youtube|linkedin|discord|messenger|signal app|qq)(?![A-Za-z]))",
    r"(?<![A-Za-z])LINE(?![A-Za-z])|(?i:\bline[- ]?id\b)|ライン(?:ID|の友だち|友達|を追加)|公式ライン",
    r"微信|加我|私信|私聊|公众号|小红书|抖音|微博|电报|脸书|インスタ|フェイスブック|ツイッター|ワッツアップ",
    r"(?<![\w.@])@[A-Za-z_][A-Za-z0-9_.]{2,29}\b",
    r"(?i:\b(?:add me on|dm us|dm me|direct message us|message us on|follow us on)\b)",
]))


def external_link(msg: Message) -> str | None:
    """A link (with a scheme or ``www.``) other than https to an Amazon marketplace, or a
    bare domain such as outdoor-gear.com (bare amazon.de is a name, not a link)."""
    text = EMAIL.sub(" ", msg.text)
    for m in URL.finditer(text):
        if not ALLOWED_URL.match(m.group(0)):
            return m.group(0)
    text = URL.sub(" ", text)
    for m in BARE_DOMAIN.finditer(text):
        host = m.group(0).split("/", 1)[0]
        if not _AMAZON_BARE.match(host):
            return m.group(0)
    return None


def email_address(msg: Message) -> str | None:
    m = EMAIL.search(msg.text) or OBFUSCATED_EMAIL.search(msg.text)
    return m.group(0) if m else None


def phone_number(msg: Message) -> str | None:
    """The first phone number as redaction reads one (docs/redaction.md), never a tracking
    number, order id, VAT id, model number, date or price."""
    text = msg.text
    norm = normalise(text)
    found = resolve(phones.find(norm), protected.find(norm), text)
    return text[found[0].start:found[0].end].strip() if found else None


def other_channel(msg: Message) -> str | None:
    m = CHANNEL.search(msg.text)
    return m.group(0) if m else None


RULES = [
    ("external_link", "only https links to Amazon are allowed: no other sites, no bare domains", external_link),
    ("email_address", "remove the e-mail address: buyers are contacted only through Amazon", email_address),
    ("phone_number", "remove the phone number (allowed only for warranty or carrier contact)", phone_number),
    ("off_amazon_contact", "no contact channels outside Amazon (WeChat, WhatsApp, LINE, Telegram, social media, "
                           "@handles)", other_channel),
]
