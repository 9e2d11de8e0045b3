"""Identifiers that appear in buyer mail and must be recognised, never mistaken for personal data.

Patterns are given as strings (to compose into larger patterns, or to pass to SQL / pandas)
and as compiled, boundary-checked regexes. See docs/domain.md for the formats.
"""

from __future__ import annotations

import re

# Amazon order id: 3-7-7 digits, e.g. 114-1234567-1234567.
ORDER_ID = r"\d{3}-\d{7}-\d{7}"
ORDER_ID_RE = re.compile(rf"(?<![\d-])({ORDER_ID})(?![\d-]?\d)")
ORDER_ID_FULL = re.compile(rf"^{ORDER_ID}$")

# ASIN: ten characters; for non-book products "B0" and eight letters or digits (books use the ISBN-10).
ASIN = r"B0[0-9A-Z]{8}"
ASIN_RE = re.compile(rf"\b{ASIN}\b")
ASIN_LABELLED_RE = re.compile(r"ASIN\s*[:：#]?\s*([A-Z0-9]{10})\b")

# Carrier tracking numbers. Only formats that are distinctive on their own are listed without
# context; purely numeric ones (FedEx 12/15, Yamato/Sagawa 12, DHL 10-20 digits) also look like
# phone numbers and are recognised only next to a tracking keyword (TRACKING_CONTEXT).
TRACKING_PATTERNS = {
    "ups": r"1Z[0-9A-Z]{16}",
    "usps": r"9[2345]\d{2}[ ]?\d{4}[ ]?\d{4}[ ]?\d{4}[ ]?\d{4}[ ]?\d{2}",
    "upu_s10": r"[A-Z]{2}\d{9}[A-Z]{2}",           # Royal Mail, Japan Post, La Poste, China Post...
    "amazon_logistics": r"TBA\d{12}",
    "dhl_paket": r"JJD\d{18,20}|00340\d{15}",
    "yanwen": r"(?:YT|UE|LP)\d{14,18}",
    "japan_domestic": r"\d{4}-\d{4}-\d{4}",          # Yamato, Sagawa, Japan Post Yu-Pack
}
TRACKING_RE = re.compile(r"(?<![0-9A-Za-z])(?:" + "|".join(TRACKING_PATTERNS.values()) + r")(?![0-9A-Za-z])")
TRACKING_CONTEXT = (
    r"(?i:tracking|track(?:ing)?[ -]?(?:no|nr|number|#|id)|sendungs(?:nummer|nr)|paketnummer|"
    r"num[ée]ro de suivi|suivi|numero di tracciamento|tracking number|n[úu]mero de seguimiento|"
    r"seguimiento|track ?& ?trace|追跡番号|お問い合わせ番号|伝票番号|运单号|快递单号|物流单号|"
    r"ups|usps|fedex|dhl|hermes|dpd|gls|royal mail|yamato|ヤマト|sagawa|佐川|yu-?pack|ゆうパック)"
)
# A numeric run (10-22 digits, separators allowed) right after a tracking keyword.
TRACKING_AFTER_CONTEXT_RE = re.compile(
    TRACKING_CONTEXT + r"[^\n\d]{0,25}?((?<![0-9A-Za-z])\d(?:[ -]?\d){9,21})(?![0-9A-Za-z])"
)

# EU VAT identification numbers (country prefix + national format).
VAT_PATTERNS = {
    "DE": r"DE\d{9}", "FR": r"FR[0-9A-Z]{2}\d{9}", "IT": r"IT\d{11}", "ES": r"ES[0-9A-Z]\d{7}[0-9A-Z]",
    "NL": r"NL\d{9}B\d{2}", "PL": r"PL\d{10}", "SE": r"SE\d{12}", "GB": r"GB(?:\d{9}|\d{12})",
    "BE": r"BE0?\d{9}", "AT": r"ATU\d{8}",
}
VAT_RE = re.compile(r"(?<![0-9A-Za-z])(?:" + "|".join(VAT_PATTERNS.values()) + r")(?![0-9A-Za-z])")


def order_ids(text: str) -> list[str]:
    """Every order id in ``text``, in order of appearance, without repeats."""
    seen: dict[str, None] = {}
    for m in ORDER_ID_RE.finditer(text or ""):
        seen.setdefault(m.group(1))
    return list(seen)
