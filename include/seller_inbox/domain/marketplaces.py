"""Amazon marketplaces: the one table of ids, regions, domains, languages and time zones.

Everything that needs a marketplace fact (registry validation, the SP-API client and
simulator, the mail parser, KPI grouping) reads it from here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Marketplace:
    code: str            # short code used across the project: US, DE, JP...
    marketplace_id: str  # Amazon's MarketplaceId
    region: str          # SP-API region: na, eu, fe
    domain: str          # amazon.<tld>, also the relay alias domain marketplace.amazon.<tld>
    language: str        # ISO 639-1 of the marketplace's main language
    time_zone: str       # default IANA zone for SLA clocks and quiet hours
    currency: str


MARKETPLACES: dict[str, Marketplace] = {
    m.code: m
    for m in (
        Marketplace("US", "ATVPDKIKX0DER", "na", "com", "en", "America/Los_Angeles", "USD"),
        Marketplace("CA", "A2EUQ1WTGCTBG2", "na", "ca", "en", "America/Toronto", "CAD"),
        Marketplace("MX", "A1AM78C64UM0Y8", "na", "com.mx", "es", "America/Mexico_City", "MXN"),
        Marketplace("BR", "A2Q3Y263D00KWC", "na", "com.br", "pt", "America/Sao_Paulo", "BRL"),
        Marketplace("UK", "A1F83G8C2ARO7P", "eu", "co.uk", "en", "Europe/London", "GBP"),
        Marketplace("DE", "A1PA6795UKMFR9", "eu", "de", "de", "Europe/Berlin", "EUR"),
        Marketplace("FR", "A13V1IB3VIYZZH", "eu", "fr", "fr", "Europe/Paris", "EUR"),
        Marketplace("IT", "APJ6JRA9NG5V4", "eu", "it", "it", "Europe/Rome", "EUR"),
        Marketplace("ES", "A1RKKUPIHCS9HS", "eu", "es", "es", "Europe/Madrid", "EUR"),
        Marketplace("NL", "A1805IZSGTT6HS", "eu", "nl", "nl", "Europe/Amsterdam", "EUR"),
        Marketplace("PL", "A1C3SOZRARQ6R3", "eu", "pl", "pl", "Europe/Warsaw", "PLN"),
        Marketplace("SE", "A2NODRKZP88ZB9", "eu", "se", "sv", "Europe/Stockholm", "SEK"),
        Marketplace("JP", "A1VC38T7YXB528", "fe", "co.jp", "ja", "Asia/Tokyo", "JPY"),
        Marketplace("AU", "A39IBJ37TRP1C6", "fe", "com.au", "en", "Australia/Sydney", "AUD"),
        Marketplace("SG", "A19VAU5U5O7RUS", "fe", "sg", "en", "Asia/Singapore", "SGD"),
    )
}

BY_ID: dict[str, Marketplace] = {m.marketplace_id: m for m in MARKETPLACES.values()}
BY_DOMAIN: dict[str, Marketplace] = {m.domain: m for m in MARKETPLACES.values()}

# SP-API hosts per region (production); the simulator replaces them per connection.
SPAPI_HOSTS = {
    "na": "sellingpartnerapi-na.amazon.com",
    "eu": "sellingpartnerapi-eu.amazon.com",
    "fe": "sellingpartnerapi-fe.amazon.com",
}


def get(code: str) -> Marketplace:
    """Look a marketplace up by code, with an error that lists the valid ones."""
    try:
        return MARKETPLACES[code.upper()]
    except KeyError:
        raise KeyError(
            f"unknown marketplace {code!r}; known: {', '.join(sorted(MARKETPLACES))}"
        ) from None
