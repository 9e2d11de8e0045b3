"""Listen mode judged: did a person later answer the buyer, and differently from the shadow draft?

A shadow draft (``core.outbox`` status ``shadow``) is what the desk *would* have sent. A person
"answered" when a ``seller_reply`` arrived in the same thread (or replying to the message)
after the buyer message; "differently" when that reply's text is not close to the draft:
both texts normalised (quoted lines starting with ``>`` dropped, case folded, punctuation
dropped), cut into words (each Chinese/Japanese/Korean character is a word) and compared with
``difflib.SequenceMatcher``; a ratio below ``DIFFERENT_BELOW`` counts as different. Simple on purpose: it tells a seller
how often a person wrote something else, not why (docs/delivery.md).
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

DIFFERENT_BELOW = 0.6        # similarity ratio under which the person's answer counts as different
COMPARED_WORDS = 400         # long texts are compared on their beginning (bounded time per pair)
WINDOW_DAYS = 14             # the listen period guides recommend before switching a store to auto
_QUOTED = re.compile(r"^\s*>.*$", re.M)
_WORD = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]|[^\W_]+", re.UNICODE)


def words(text: str | None) -> list[str]:
    """The words compared: quoted lines dropped, case folded, punctuation gone, CJK per character."""
    return _WORD.findall(_QUOTED.sub("", text or "").casefold())[:COMPARED_WORDS]


def similarity(draft: str | None, reply: str | None) -> float:
    """0..1: how close the person's reply is to the shadow draft (1: the same words)."""
    a, b = words(draft), words(reply)
    if not a or not b:
        return 0.0
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def answered_differently(draft: str | None, reply: str | None) -> bool:
    return similarity(draft, reply) < DIFFERENT_BELOW
