"""The form of the text: emojis, HTML, placeholders left unrendered, attachments mentioned
when the send carries none.

HTML: replies go through Amazon's relay as text/plain and the Messaging API takes plain text,
so markup is refused on every channel we send through.
"""

from __future__ import annotations

import re

from seller_inbox.compliance.message import Message, words

EMOJI = re.compile(
    "[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\u2300-\u23FF\uFE0F\u200D\u3297\u3299\u303D]"
    r"|(?<![\w:/])[:;]-?[()DP](?![\w)(])|\(\s?\^[_.o-]?\^\s?\)|\^_\^|<3\b"
)
MARKUP = re.compile(r"</?(?![A-Z][A-Z0-9_]*>)[a-zA-Z][a-zA-Z0-9-]*(?:\s[^<>]{0,200})?/?>|&(?:nbsp|amp|lt|gt|quot|#\d{1,6});")
# {{ x }}, {% x %}, {x}, {0}, %s, %(x)s, %d, $x, ${x}, [NAME], [ANSWER], <<x>>, <NAME>, __X__,
# XXX, TODO, ○○ (the Japanese blank), 某某 (the Chinese one)
PLACEHOLDER = re.compile(
    r"\{\{.{0,80}?\}\}|\{%.{0,80}?%\}|\{[A-Za-z_][\w.]{0,40}\}|\{\d{1,2}\}|%\([A-Za-z_]\w*\)[sd]|(?<![\w%])%[sd](?!\w)"
    r"|\$\{[^}\n]{1,40}\}|(?<![\w$])\$[A-Za-z_]\w*|\[[A-Z][A-Z0-9_ ]{1,30}\]|<<[^<>\n]{1,40}>>|<[A-Z][A-Z0-9_]{1,30}>"
    r"|\b__[A-Z][A-Z0-9_]{1,30}__\b|\b(?:XXX+|xxx+|TODO|TBD|FIXME)\b|[〇○●◯]{2,}|某某|\[\s*\]"
)
ATTACHMENT = words(
    r"\battachments?\b|\b(?:i|we)(?:'ve| have)? attached\b|\b(?:see|find) attached\b|\battached (?:is|are|you will find|"
    r"please find|file|document|invoice|pdf|photo|picture|image|copy|the)\b|\benclosed (?:is|are|please|you will)\b|"
    r"\bplease find enclosed\b|\bthe enclosed (?:invoice|file|document|pdf|copy)\b",
    r"\bim anhang\b|\banbei\b|\bangehängt\w*|\bbeigefügt\w*|\bals anhang\b",
    r"\bci-joint\w*|\bpièces? jointes?\b|\bjoint à ce message\b|\ben annexe\b",
    r"\bin allegato\b|\ballegat[oaie]\b|\balleg(?:o|hiamo)\b",
    r"\badjunt[oa]s?\b|\badjuntamos\b|\badjuntado\b",
    r"\bbijlage\b|\bbijgevoegd\b",
    r"添付|附件|附上|随信附",
)


def emoji(msg: Message) -> str | None:
    m = EMOJI.search(msg.text)
    return m.group(0) if m else None


def markup(msg: Message) -> str | None:
    m = MARKUP.search(msg.text)
    return m.group(0) if m else None


def placeholder(msg: Message) -> str | None:
    m = PLACEHOLDER.search(msg.text)
    return m.group(0) if m else None


def attachment(msg: Message) -> str | None:
    if msg.attachments:
        return None
    m = ATTACHMENT.search(msg.text)
    return m.group(0) if m else None


RULES = [
    ("emoji", "remove emojis and emoticons", emoji),
    ("markup", "no HTML, logos or images: plain text only", markup),
    ("unfilled_placeholder", "a placeholder was not filled in: complete it before approving", placeholder),
    ("attachment", "the text mentions an attachment, but this message carries none", attachment),
]
