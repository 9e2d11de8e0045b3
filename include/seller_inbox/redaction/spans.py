"""Spans, the text normalisation every recogniser shares, and the resolver.

A recogniser returns ``Span(start, end, kind)`` over the original text. Offsets never shift:
``normalise`` maps full-width characters and odd dashes one-to-one onto ASCII, so a pattern
written for ``090-1234-5678`` also finds ``０９０－１２３４－５６７８`` (docs/redaction.md).
"""

from __future__ import annotations

import re
from typing import Iterable, NamedTuple

PLACEHOLDERS = {"EMAIL": "[EMAIL]", "PHONE": "[PHONE]", "ADDRESS": "[ADDRESS]", "NAME": "[NAME]",
                "CARD": "[CARD]", "IBAN": "[IBAN]"}
# when spans of two kinds overlap, the merged span takes the kind listed first
PRIORITY = ("EMAIL", "IBAN", "CARD", "PHONE", "ADDRESS", "NAME")
PLACEHOLDER_RE = re.compile(r"\[(EMAIL|PHONE|ADDRESS|NAME|CARD|IBAN)\]")
# protected kinds that only keep numbers from being read as phones
NUMERIC_ONLY = {"model"}
# checked spans (an address's syntax, a Luhn or mod-97 checksum) win over a protected look-alike
_UNBLOCKED = {"EMAIL", "CARD", "IBAN"}


class Span(NamedTuple):
    start: int
    end: int
    kind: str


_TRANS = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}  # full-width ASCII
_TRANS.update({0x3000: " ", 0x00A0: " ", 0x202F: " ", 0x2212: "-", 0x30FC: "-", 0xFE63: "-", 0x2043: "-",
               0xFF70: "-", 0x2015: "-"})
_TRANS.update({c: "-" for c in range(0x2010, 0x2015)})


def normalise(text: str) -> str:
    """Same length as ``text``: full-width letters/digits/punctuation and dashes become ASCII."""
    return text.translate(_TRANS)


def placeholders(text: str) -> list[Span]:
    """Placeholders already in the text count as what they stand for (redacting twice is a no-op)."""
    return [Span(m.start(), m.end(), m.group(1)) for m in PLACEHOLDER_RE.finditer(text)]


def _overlaps(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


def resolve(spans: Iterable[Span], protected: Iterable[Span], text: str) -> list[Span]:
    """Drop spans touching a protected span (e-mail addresses, cards and IBANs excepted), merge
    overlapping and adjacent spans of the same kind, and return them sorted. Linear in the text:
    protected characters are marked once, not compared span by span."""
    blocked, numeric = bytearray(len(text) + 1), bytearray(len(text) + 1)
    for p in protected:
        mask = numeric if p.kind in NUMERIC_ONLY else blocked
        mask[p.start:p.end] = b"\x01" * (p.end - p.start)
    kept = []
    for s in spans:
        if s.end <= s.start:
            continue
        if s.kind not in _UNBLOCKED and (b"\x01" in blocked[s.start:s.end]
                                        or (s.kind == "PHONE" and b"\x01" in numeric[s.start:s.end])):
            continue
        kept.append(s)
    kept.sort()
    out: list[Span] = []
    for s in kept:
        if out and (s.start < out[-1].end or (s.kind == out[-1].kind and _only_glue(text[out[-1].end:s.start]))):
            last = out[-1]
            kind = min(last.kind, s.kind, key=PRIORITY.index)
            out[-1] = Span(last.start, max(last.end, s.end), kind)
        else:
            out.append(s)
    return out


_GLUE = re.compile(r"[ \t,]*")


def _only_glue(between: str) -> bool:
    return _GLUE.fullmatch(between) is not None


def apply(text: str, spans: list[Span]) -> str:
    parts, pos = [], 0
    for s in spans:
        parts.append(text[pos:s.start])
        parts.append(PLACEHOLDERS[s.kind])
        pos = s.end
    parts.append(text[pos:])
    return "".join(parts)
