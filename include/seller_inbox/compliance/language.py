"""Text in a language other than the buyer's: each line long enough to tell is identified with
the classifier's language identification (py3langid restricted to the served languages,
``seller_inbox.classify.lang``), so a German reply with an English paragraph pasted in is caught.

Kana means Japanese; a line of Han characters without kana is Chinese. Short lines (greetings,
the store's name, a product name) are not judged.
"""

from __future__ import annotations

import re

from seller_inbox.classify import lang as langid
from seller_inbox.compliance.message import Message, clip

SERVED = langid.SERVED
MIN_LETTERS = 30        # a Latin-script line needs this many letters ...
MIN_WORDS = 5           # ... and words to be judged
MIN_HAN = 12            # Han characters (no kana) for a line to count as Chinese
MIN_KANA = 2
MIN_CONFIDENCE = 0.9    # py3langid's normalised probability
MAX_LINES = 40          # judged per message (speed; a reply has far fewer)
_LATIN_WORD = re.compile(r"[^\W\d_]{2,}")


def language_of(line: str) -> str | None:
    """The language of one line, or None when the line is too short to tell."""
    text = langid.clean_for_language(line)
    kana = len(langid._KANA.findall(text))
    if kana >= MIN_KANA:
        return "ja"
    han = len(langid._HAN.findall(text))
    if han and not kana:
        return "zh" if han >= MIN_HAN else None
    letters = sum(c.isalpha() for c in text)
    if letters < MIN_LETTERS or len(_LATIN_WORD.findall(text)) < MIN_WORDS:
        return None
    # the classifier's identifier (restricted to the served languages), called directly: the
    # script and length rules above already did what detect_language's fallbacks do
    code, conf = langid._get_identifier().classify(text)
    return code if conf >= MIN_CONFIDENCE else None


def wrong_language(msg: Message) -> str | None:
    if not msg.lang:
        return None
    for line in msg.norm_body.splitlines()[:MAX_LINES]:
        got = language_of(line)
        if got and got != msg.lang:
            return f"{got}: {clip(line, 50)}"
    return None


RULES = [
    ("wrong_language", "write the whole message in the buyer's language", wrong_language),
]
