"""Message ids that carry an e-mail address or a personal name, replaced by a stable keyed hash
(docs/redaction.md)."""

from __future__ import annotations

import hashlib
import hmac
import re

_SEPARATORS = str.maketrans({"_": " ", "-": " ", ".": " ", "+": " "})
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


_ADDRESS_INSIDE = re.compile(r"(?<![\w.+-])[\w.+-]++=[\w-]++(?:\.[\w-]++)*\.[a-z]{2,}")
MAX_EXAMINED = 998  # characters of an id examined (a mail header line's limit); a longer one is hostile


def _personal(value: str) -> bool:
    from seller_inbox.redaction import find
    from seller_inbox.redaction.lexicon import FIRST_NAMES, NOTICE_WORDS

    core = value.strip().strip("<>")[:MAX_EXAMINED]
    local, at, domain = core.rpartition("@")
    if not at:
        local, domain = core, ""
    if "@" in local or _ADDRESS_INSIDE.search(local):  # an address inside the local part
        return True
    if _PERSONAL_DOMAINS.match(domain) and not _RANDOM.search(local):
        return True
    parts = [p for p in re.split(r"[._+=-]+", local) if p]
    if 2 <= len(parts) <= 3 and all(p.isalpha() and 2 <= len(p) <= 15 for p in parts) and (
            any(p.lower() in FIRST_NAMES for p in parts)
            or all(len(p) >= 4 and p.lower() not in NOTICE_WORDS for p in parts)):
        return True  # john.miller@…, xiomara.quintanilla@… (not nl-odd@…, noreply-notice@…)
    if any(a.isalpha() and a.lower() in FIRST_NAMES and b.isalpha() for a, b in zip(parts, parts[1:])):
        return True  # reply-to-john-miller@…
    return any(s.kind != "NAME" for s in find(local.translate(_SEPARATORS)))
