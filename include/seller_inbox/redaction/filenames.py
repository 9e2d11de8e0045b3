"""Personal data in attachment file names: "passport_John_Miller.pdf" (docs/redaction.md)."""

from __future__ import annotations

import re
from typing import Iterable

_SEPARATORS = str.maketrans({"_": " ", "-": " ", ".": " ", "+": " "})
# ID documents and receipts whose file name carries the holder's name: "passport_John_Miller.pdf"
_DOC_WORDS = re.compile(
    r"(?i)(?<![^\W\d_])(?:passport|pass|reisepass|ausweis|personalausweis|id|idcard|id card|license|licence|führerschein|"
    r"passeport|carte|identité|passaporto|carta|identità|patente|pasaporte|dni|nie|paspoort|rijbewijs|paszport|"
    r"dowód|pass|körkort|receipt|invoice|rechnung|quittung|facture|reçu|fattura|ricevuta|factura|recibo|"
    r"factuur|faktura|kvitto|fatura|recibo|letter|brief|lettre|lettera|carta|photo|foto|scan)(?![^\W\d_])")
_NAME_PAIR = re.compile(r"(?<![^\W\d_])(?=([^\W\d_]{2,}) ([^\W\d_]{2,})(?![^\W\d_]))")


def redact_filename(name: str, names: Iterable[str] = ()) -> str:
    """An attachment name with personal data replaced: ``passport_John_Miller.pdf`` becomes
    ``passport_[NAME]_[NAME].pdf``. Separators are read as spaces; the extension is kept."""
    from seller_inbox.redaction import find
    from seller_inbox.redaction.lexicon import FIRST_NAMES, NOT_NAMES
    from seller_inbox.redaction.spans import Span, apply, resolve

    if not name:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or not (1 <= len(ext) <= 5) or not ext.isalnum():
        stem, ext, dot = name, "", ""
    spaced = stem.translate(_SEPARATORS)
    spans = find(spaced, names)
    doc = _DOC_WORDS.search(spaced) is not None
    for m in _NAME_PAIR.finditer(spaced):  # "passport_John_Miller", "jane_doe_2026"
        first, second = m.group(1), m.group(2)
        if first.lower() in NOT_NAMES or second.lower() in NOT_NAMES:
            continue
        capitalised = first[0].isupper() and second[0].isupper()
        if first.lower() in FIRST_NAMES and (capitalised or doc) or (capitalised and doc):
            spans.append(Span(m.start(1), m.end(2), "NAME"))
    words = []
    for s in resolve(spans, [], spaced):  # one placeholder per word: John_Miller -> [NAME]_[NAME]
        if s.kind == "NAME":
            words.extend(Span(s.start + m.start(), s.start + m.end(), "NAME") for m in re.finditer(r"\S+", spaced[s.start:s.end]))
        else:
            words.append(s)
    return apply(stem, words) + dot + ext
