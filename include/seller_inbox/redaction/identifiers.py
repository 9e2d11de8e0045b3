"""Personal data in what is not running text: attachment file names and message identifiers."""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Iterable

_SEPARATORS = str.maketrans({"_": " ", "-": " ", ".": " ", "+": " "})
# ID documents and receipts whose file name carries the holder's name: "passport_John_Miller.pdf"
_DOC_WORDS = re.compile(
    r"(?i)(?:passport|pass|reisepass|ausweis|personalausweis|id|idcard|id card|license|licence|führerschein|"
    r"passeport|carte|identité|passaporto|carta|identità|patente|pasaporte|dni|nie|paspoort|rijbewijs|paszport|"
    r"dowód|pass|körkort|receipt|invoice|rechnung|quittung|facture|reçu|fattura|ricevuta|factura|recibo|"
    r"factuur|faktura|kvitto|fatura|recibo|letter|brief|lettre|lettera|carta|photo|foto|scan)")
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


_RANDOM = re.compile(r"[0-9a-f]{8,}|(?=[A-Za-z]*\d)(?=\d*[A-Za-z])[A-Za-z0-9]{6,}|[A-Za-z0-9+/=_-]{20,}", re.I)
_PERSONAL_DOMAINS = re.compile(
    r"(?i)^(?:gmail|googlemail|yahoo|ymail|hotmail|outlook|live|msn|aol|icloud|me|mac|gmx|web|t-online|freenet|"
    r"posteo|orange|free|laposte|sfr|wanadoo|libero|virgilio|tiscali|alice|ziggo|kpnmail|wp|onet|interia|o2|"
    r"telia|sapo|qq|163|126|sina|docomo|ezweb|softbank|proton|protonmail)\.")


def redact_identifier(value: str, salt: bytes | str) -> str:
    """A Message-ID (or other identifier) that carries an e-mail address or a personal name,
    replaced by a stable keyed hash (the same input gives the same output, so threading keeps
    working); an ordinary id with a random local part is returned unchanged."""
    if not value or not _personal(value):
        return value
    key = salt.encode("utf-8") if isinstance(salt, str) else salt
    digest = hmac.new(key, value.strip().encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:32]
    core = f"redacted.{digest}@id.invalid"
    return f"<{core}>" if value.strip().startswith("<") else core


def _personal(value: str) -> bool:
    from seller_inbox.redaction import find

    core = value.strip().strip("<>")
    local, at, domain = core.rpartition("@")
    if not at:
        local, domain = core, ""
    if "@" in local or re.search(r"[\w.+-]+=[\w-]+\.[a-z]{2,}", local):  # an address inside the local part
        return True
    if _PERSONAL_DOMAINS.match(domain) and not _RANDOM.search(local):
        return True
    from seller_inbox.redaction.lexicon import FIRST_NAMES

    parts = [p for p in re.split(r"[._+=-]+", local) if p]
    if 2 <= len(parts) <= 3 and all(p.isalpha() and 2 <= len(p) <= 15 for p in parts):
        return True  # john.miller@…
    if any(a.isalpha() and a.lower() in FIRST_NAMES and b.isalpha() for a, b in zip(parts, parts[1:])):
        return True  # reply-to-john-miller@…
    return any(s.kind != "NAME" for s in find(local.translate(_SEPARATORS)))
