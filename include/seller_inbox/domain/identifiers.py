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
    "upu_s10": r"[A-Z]{2} ?\d{3} ?\d{3} ?\d{3} ?[A-Z]{2}",  # Royal Mail, Japan Post, La Poste... ("EJ 482 913 705 JP")
    "amazon_logistics": r"TBA\d{12}",
    "dhl_paket": r"JJD\d{18,20}|00340\d{15}",
    "yanwen": r"(?:YT|UE|LP)\d{14,18}",
    "japan_domestic": r"\d{4}-\d{4}-\d{4}",          # Yamato, Sagawa, Japan Post Yu-Pack
}
TRACKING_RE = re.compile(r"(?<![0-9A-Za-z])(?<!\d-)(?:" + "|".join(TRACKING_PATTERNS.values()) + r")(?![0-9A-Za-z])(?!-\d)")
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
# As written in letters and invoices: prefix and digits grouped by spaces or dots ("DE 123 456 789",
# "FR 12 345 678 901"), or the national number after its label ("USt-IdNr.", "P.IVA", "NIF", "NIP", ...).
VAT_LABEL = (r"(?i:VAT(?:[ -]?(?:id|no|number|reg(?:istration)?(?: no)?))?|USt[-.]?Id(?:[-.]?Nr)?|Umsatzsteuer-?Id\w*|"
             r"Steuernummer|St\.?-?Nr|TVA(?: intracommunautaire)?|n° de TVA|SIRET|SIREN|P\.? ?IVA|Partita IVA|"
             r"Codice fiscale|C\.?F|NIF|CIF|NIE|N\.?I\.?F|BTW(?:[- ]?(?:nummer|nr|id))?|KvK|NIP|REGON|"
             r"Momsreg(?:istrerings)?(?:nummer|nr)?|Org\.? ?nr|NIPC|Contribuinte)")
VAT_LOOSE_RE = re.compile(
    r"(?<![0-9A-Za-z])(?:AT|BE|BG|CY|CZ|DE|DK|EE|EL|ES|FI|FR|GB|HR|HU|IE|IT|LT|LU|LV|MT|NL|PL|PT|RO|SE|SI|SK|XI)"
    r"[ .]?(?:U[ .]?)?\d{2,4}(?:[ .]?[0-9A-Z]{2,4}){2,4}(?![0-9A-Za-z])"
    r"|" + VAT_LABEL + r"[ \t]*[.:#°º]*[ \t]*(?:n[°º.o]?[ \t]*)?[:]?[ \t]*((?:[A-Z]{2}[ .]?)?[0-9A-Z](?:[ ./-]?[0-9A-Z]){6,14})"
    r"(?![0-9A-Za-z])"
)

# Product, invoice and catalogue numbers a mail may quote after their label.
REFERENCE_CONTEXT = (
    r"(?i:\b(?:EAN|GTIN|UPC|ISBN(?:-1[03])?|ASIN|SKU|MPN|model(?:l| no\.?| number|nummer)?|art\.-?nr\.?|"
    r"artikel(?:nummer|nr\.?)|item (?:no\.?|number)|part (?:no\.?|number)|serial(?: no\.?| number)?|S/N|"
    r"seriennummer|réf\.?|référence|modèle|n° de série|codice articolo|modello|numero di serie|referencia|modelo|"
    r"número de serie|invoice(?: no\.?| number| #)?|rechnung(?:s(?:nummer|nr\.?))?|facture|numéro de facture|"
    r"fattura|numero (?:di )?fattura|factura|número de factura|faktura|fatura|case id|"
    r"RMA|return (?:id|number)|retoure(?:nnummer)?)\b|型番|品番|型号|請求書番号|发票号|序列号|シリアル番号)"
)
REFERENCE_RE = re.compile(REFERENCE_CONTEXT + r"[ \t]*[:#.：]*[ \t]*(?:n[°º.o]?[ \t]*)?([A-Z0-9][A-Z0-9./-]*(?:[ ][0-9A-Z][0-9A-Z./-]*){0,4})")

# Model and part numbers: letters and digits joined ("XR-1234-5678", "SM-G991B", "WH-1000XM4").
MODEL_NUMBER_RE = re.compile(
    r"(?<![\w-])(?=[A-Z0-9-]*[A-Z])(?=[A-Z0-9-]*\d)[A-Z0-9]{1,10}(?:-[A-Z0-9]{1,10}){1,4}(?![\w-])"
    r"|(?<![\w-])[A-Z]{2,6}\d{3,10}[A-Z]{0,3}(?![\w-])")


def order_ids(text: str) -> list[str]:
    """Every order id in ``text``, in order of appearance, without repeats."""
    seen: dict[str, None] = {}
    for m in ORDER_ID_RE.finditer(text or ""):
        seen.setdefault(m.group(1))
    return list(seen)
