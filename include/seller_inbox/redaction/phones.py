"""Phone numbers by country format: +CC / 00CC international, national numbers with a trunk
``0`` (UK, DE, FR, IT, NL, SE, JP...), US/CA ``(202) 456-1111`` and ``1-800-…``, ES/PL/IT
mobiles in groups of three, full-width digits and U+2212/U+30FC dashes (on the normalised text),
numbers split across a line break, and shorter numbers right after a phone word ("Tel.").

``UNREDACTED_PHONE_CHECK`` is the project's one definition of "this is a phone number" that a
pandas ``str.contains`` can run (the ingest gate's check on stored bodies, docs/data-quality.md):
everything it matches is redacted here unless it is a protected identifier that the pattern
itself already leaves out (dates, year ranges, order ids, 16+ digit tracking numbers, VAT ids).
"""

from __future__ import annotations

import re

from seller_inbox.redaction.spans import Span

_SEP = r"[ \t().\-/\u2010-\u2015\u2212\u30fc\u3000\uff08\uff09\uff0d\uff0e\uff0f]"
_S1 = rf"{_SEP}{{1,3}}"           # a separator (one to three characters)
_S0 = rf"{_SEP}{{0,3}}"
_NOT_MORE_DIGITS = rf"(?!{_SEP}{{0,3}}\d)"
_END = rf"{_NOT_MORE_DIGITS}(?![0-9A-Za-z\]])"
_ZERO = "[0\uff10]"
_PLUS = "[+\uff0b]"
_OPEN = "[(\uff08]"
_CLOSE = "[)\uff09]"
# shapes a number can have (full-width digits are \d too)
_INTL = rf"(?:{_PLUS}|{_ZERO}{_ZERO}){_S0}[1-9\uff11-\uff19](?:{_S0}\d){{6,13}}"
_TRUNK = rf"{_OPEN}?{_ZERO}[1-9\uff11-\uff19](?:{_S0}\d){{7,11}}"
_GROUPED = (rf"(?:1{_S1})?{_OPEN}?[2-9]\d\d{_CLOSE}?{_S1}\d{{3}}{_S1}\d{{4}}"   # US/CA, IT mobile 3-3-4
            rf"|[1-9]\d\d{_S1}\d{{3}}{_S1}\d{{3}}"                               # ES/PL/IT 3-3-3
            rf"|[1-9]\d\d{_S1}\d\d{_S1}\d\d{_S1}\d\d"                            # ES 3-2-2-2
            rf"|[1-9]\d\d{_S1}\d{{3}}{_S1}\d\d{_S1}\d\d"                         # 3-3-2-2
            rf"|1[3-9]\d{_S0}\d{{4}}{_S0}\d{{4}}"                                   # CN mobile 3-4-4
            rf"|[1-9]\d\d{_S1}\d{{6,7}}"                                             # IT mobile 333-1234567
            rf"|[1-9]\d{_S1}\d{{3}}{_S1}\d\d{_S1}\d\d"                               # ES/PL landline 91 123 45 67
            rf"|[1-9]\d{_S1}\d{{3}}{_S1}\d{{4}}"                                    # PT landline 21 123 4567
            rf"|{_OPEN}{_ZERO}[ \t]?[1-9]\d{{1,4}}{_CLOSE}[ \t]?\d{{1,4}}(?:[ \t]\d{{1,4}}){{1,3}}(?:-\d{{1,4}})?")  # DE (0 40) 38 61 92-77
_PLAIN = r"[1-9]\d{8,9}"
# not after a letter, digit, "[", a word joined by "-" or "/" (model numbers), or a VAT or UPU
# tracking prefix ("DE 123 456 789", "EJ 482 913 705 JP")
_BEFORE = (r"(?<![0-9A-Za-z\[])(?<![0-9A-Za-z][-/])"
           rf"(?<!\d{_SEP})(?<!\d{_SEP}{{2}})(?<!\d{_SEP}{{3}})"
           r"(?<!\b[A-Z]{2} )(?<!IVA )(?<!NIP )(?<!BTW )(?<!NIF )(?<!CIF )")

# a plain run of 9-10 digits is redacted but not checked: after "DHL tracking" it is a parcel
UNREDACTED_PHONE_CHECK = rf"{_BEFORE}(?:{_INTL}|{_TRUNK}|{_GROUPED}){_END}"
_PHONE_RE = re.compile(rf"{_BEFORE}(?:{_INTL}|{_TRUNK}|{_GROUPED}|{_PLAIN}){_END}")

# after a phone word any run of 6-15 digits is a phone ("Tel. 555-0199", "Handy 0171/234567")
_CUE = (r"(?i:\b(?:tel|tél|telf?|tlf|tfn|phone|ph|fon|telefon|telefono|teléfono|telefone|telephone|téléphone|"
        r"telefoon|mobile?|mob|cell(?:ulare)?|cellphone|handy|portable|port|móvil|movil|celular|telemóvel|"
        r"komórka|kom|mobil|mobilnummer|ring me on|reach me (?:on|at)|whatsapp|"
        r"rufnummer|my number|meine nummer|mon numéro|il mio numero|mi número|o meu número|mijn nummer|mitt nummer|"
        r"mój numer|numer telefonu)\b|電話(?:番号)?|携帯|手机|电话|连絡先|連絡先)")
_CONTEXT_RE = re.compile(
    rf"(?:{_CUE}[^\n\d]{{0,20}}?|(?i:\bcall(?: me| us)?(?: on| at| under)?)[ \t:]*)({_PLUS}?{_OPEN}?\d(?:{_S0}\d){{5,14}}){_END}")
# a number broken by a line wrap: the first line holds an incomplete international/trunk prefix
_WRAPPED_RE = re.compile(
    rf"{_BEFORE}((?:{_PLUS}|{_ZERO})[\d ()\-./]{{2,12}}\d)[ \t]*\n[ \t]*(\d[\d ()\-./]{{2,14}}\d){_END}")


def _digits(s: str) -> int:
    return sum(c.isdigit() for c in s)


def find(norm: str) -> list[Span]:
    """Phone spans in the normalised text."""
    spans = [Span(m.start(), m.end(), "PHONE") for m in _PHONE_RE.finditer(norm)]
    for m in _CONTEXT_RE.finditer(norm):
        spans.append(Span(m.start(1), m.end(1), "PHONE"))
    if "\n" in norm:
        for m in _WRAPPED_RE.finditer(norm):
            if 9 <= _digits(m.group(1)) + _digits(m.group(2)) <= 15 and not _PHONE_RE.fullmatch(m.group(1)):
                spans.append(Span(m.start(1), m.end(2), "PHONE"))
    return spans

