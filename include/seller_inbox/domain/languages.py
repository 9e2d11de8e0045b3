"""The languages the desk serves: those of our marketplaces plus Chinese (the sellers' own)."""

from __future__ import annotations

SERVED = ("en", "de", "fr", "it", "es", "nl", "pl", "sv", "pt", "ja", "zh")

# Languages with alert, template and UI texts of their own (others fall back to English).
TEMPLATE_LOCALES = ("en", "de", "fr", "it", "es", "ja")
