"""Payment data: card numbers (13-19 digits, Luhn check) and IBANs (mod-97 check)."""

from __future__ import annotations

import re

from seller_inbox.redaction.spans import Span

# 4-4-4-4(-3), Amex 4-6-5, or one run: never the 3-7-7 of an order id
_CARD_RE = re.compile(r"(?<![\w-])(?:\d{4}([ -]?)\d{4}\1\d{4}\1\d{1,7}|\d{4}([ -]?)\d{6}\2\d{5}|\d{13,19})(?![\w-])")
_IBAN_RE = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}(?![A-Za-z0-9])")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def brand_ok(digits: str) -> bool:
    """A card network's prefix and length (Visa, Mastercard, Amex, Discover, JCB, Diners)."""
    n, p2, p4 = len(digits), int(digits[:2]), int(digits[:4])
    return ((digits[0] == "4" and n in (13, 16, 19)) or ((51 <= p2 <= 55 or 2221 <= p4 <= 2720) and n == 16)
            or (p2 in (34, 37) and n == 15) or ((p4 == 6011 or p2 == 65 or 644 <= p4 // 10 <= 649) and 16 <= n <= 19)
            or (3528 <= p4 <= 3589 and 16 <= n <= 19) or (p2 in (30, 36, 38) and n == 14))


def iban_ok(value: str) -> bool:
    v = value.replace(" ", "")
    if not 15 <= len(v) <= 34:
        return False
    moved = v[4:] + v[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def find(norm: str) -> list[Span]:
    spans = []
    for m in _CARD_RE.finditer(norm):
        digits = re.sub(r"\D", "", m.group(0))
        if brand_ok(digits) and luhn_ok(digits):
            spans.append(Span(m.start(), m.end(), "CARD"))
    for m in _IBAN_RE.finditer(norm):
        value = m.group(0).rstrip()
        if iban_ok(value):
            spans.append(Span(m.start(), m.start() + len(value), "IBAN"))
    return spans
