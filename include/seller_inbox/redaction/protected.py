"""Spans that are never redacted: order ids, ASINs, carrier tracking numbers, VAT ids, model,
invoice and catalogue numbers (all from ``seller_inbox.domain.identifiers``), and dates, year
ranges ("2017-2018"), times and prices. A phone, card, IBAN, address or name span that touches
one of them is dropped (docs/redaction.md); model numbers only stop numbers.
"""

from __future__ import annotations

import re

from seller_inbox.domain import identifiers as ids
from seller_inbox.redaction.spans import Span

_DATE_RE = re.compile(
    r"(?<![\d.\-/])(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.](?:\d{4}|\d{2})|\d{1,2}\.\d{1,2}\.)(?!\d|[-/. ]\d)"
    r"|\d{4}年\d{1,2}月(?:\d{1,2}日)?|\d{1,2}月\d{1,2}日"
    r"|(?<!\d)\d{1,2}:\d{2}(?::\d{2})?(?!\d)")
_YEAR_RANGE_RE = re.compile(r"(?<![\d.,-])(?:19|20)\d\d[ \t]?(?:-|/|–|to|bis|à|a|al|tot|till)[ \t]?(?:(?:19|20)\d\d|\d\d)(?![\d])")
_PRICE_RE = re.compile(
    r"(?:[$€£¥￥]|US\$|EUR|USD|GBP|JPY|CHF|PLN|SEK|zł|kr)[ \t]?\d{1,3}(?:[.,' ]\d{3})*(?:[.,]\d{1,2})?"
    r"|\d{1,3}(?:[.,' ]\d{3})*(?:[.,]\d{1,2})?[ \t]?(?:[$€£¥￥円元]|EUR|USD|GBP|JPY|CHF|PLN|SEK|zł|kr|euros?|dollars?|yen)(?![A-Za-z])")
_ANYWHERE = [
    ("order", ids.ORDER_ID_RE), ("asin", ids.ASIN_RE), ("tracking", ids.TRACKING_RE), ("vat", ids.VAT_RE),
    ("vat", ids.VAT_LOOSE_RE), ("date", _DATE_RE), ("year_range", _YEAR_RANGE_RE), ("price", _PRICE_RE),
]
_LABELLED = [("tracking", ids.TRACKING_AFTER_CONTEXT_RE), ("asin", ids.ASIN_LABELLED_RE), ("reference", ids.REFERENCE_RE)]


def _block_number(norm: str, kind: str, m: re.Match) -> bool:
    """"博多駅前3-25-21": dashed numbers right after a kanji are a Japanese block address, not a date."""
    return kind == "date" and "-" in m.group(0) and m.start() > 0 and "\u4e00" <= norm[m.start() - 1] <= "\u9fff"


def find(norm: str) -> list[Span]:
    spans = []
    for kind, rx in _ANYWHERE:
        spans.extend(Span(m.start(), m.end(), kind) for m in rx.finditer(norm) if not _block_number(norm, kind, m))
    for kind, rx in _LABELLED:
        spans.extend(Span(m.start(1), m.end(1), kind) for m in rx.finditer(norm))
    spans.extend(Span(m.start(), m.end(), "model") for m in ids.MODEL_NUMBER_RE.finditer(norm))
    return spans
