"""Redaction of buyer personal data before anything is stored (docs/redaction.md).

``find(text, names=(), language=None)`` returns the spans ``(start, end, kind)`` of personal data;
``redact`` replaces them with stable placeholders (``[EMAIL] [PHONE] [ADDRESS] [NAME] [CARD]
[IBAN]``) so classifiers still see that something was there. One module per recogniser
(``emails``, ``phones``, ``addresses`` and ``address_blocks``, ``names``, ``signatures``, ``payment``; ``filenames`` and
``message_ids`` for attachment names and Message-IDs); ``protected``
holds what is never redacted (order ids, ASINs, tracking numbers, VAT ids, model numbers,
dates, year ranges, prices) and the resolver in ``spans`` drops anything touching it.
"""

from __future__ import annotations

import re
from typing import Iterable

from seller_inbox.redaction import addresses, emails, names as _names, payment, phones, protected, signatures
from seller_inbox.redaction.filenames import redact_filename
from seller_inbox.redaction.message_ids import redact_identifier
from seller_inbox.redaction.phones import UNREDACTED_PHONE_CHECK
from seller_inbox.redaction.salt import SALT_ENV, installation_salt
from seller_inbox.redaction.spans import PLACEHOLDERS, Span, apply, normalise, placeholders, resolve

EMAIL = PLACEHOLDERS["EMAIL"]
PHONE = PLACEHOLDERS["PHONE"]
ADDRESS = PLACEHOLDERS["ADDRESS"]
NAME = PLACEHOLDERS["NAME"]
CARD = PLACEHOLDERS["CARD"]
IBAN = PLACEHOLDERS["IBAN"]

__all__ = ["ADDRESS", "CARD", "EMAIL", "IBAN", "NAME", "PHONE", "SALT_ENV", "UNREDACTED_PHONE_CHECK", "Span", "find",
           "installation_salt", "redact", "redact_filename", "redact_identifier"]

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


def find(text: str, names: Iterable[str] = (), language: str | None = None) -> list[Span]:
    """Spans of personal data in ``text``, sorted, merged, none touching a protected identifier.

    ``names`` are names known to be the buyer's (the relay's display name and its words): found
    anywhere, in any case. ``language`` is a hint only; every language's patterns always run.
    """
    if not text:
        return []
    norm = normalise(text)
    has_cjk = _CJK.search(text) is not None
    contact = placeholders(text) + emails.find(norm) + phones.find(norm) + payment.find(norm)
    contact += addresses.find(norm, has_cjk)
    keep = protected.find(norm)
    contact = resolve(contact, keep, text)
    people = _names.find(text, tuple(names or ()), has_cjk) + signatures.find(text, contact)
    found = contact + ([_names.trim_cjk_tail(text, s) for s in people] if has_cjk else people)
    return resolve(found, keep, text)


def redact(text: str, names: Iterable[str] = (), language: str | None = None) -> str:
    """``text`` with buyer personal data replaced by placeholders; redacting twice changes nothing."""
    if not text:
        return text
    return apply(text, find(text, names, language))
