"""Amazon's marketplaces: code, id, region, ISO country and currency.

The code is what Amazon's own marketplace table and its shipping terms use (`UK`, not `GB`);
`country_code` is ISO 3166-1 alpha-2, as in addresses and the Sellers API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Region = Literal["na", "eu", "fe"]


@dataclass(frozen=True, slots=True)
class Marketplace:
    code: str
    name: str
    marketplace_id: str
    region: Region
    country_code: str
    currency: str
    seller_central: str  # the Seller Central host a seller authorises from


MARKETPLACES: tuple[Marketplace, ...] = (
    Marketplace("US", "United States", "ATVPDKIKX0DER", "na", "US", "USD", "sellercentral.amazon.com"),
    Marketplace("CA", "Canada", "A2EUQ1WTGCTBG2", "na", "CA", "CAD", "sellercentral.amazon.ca"),
    Marketplace("MX", "Mexico", "A1AM78C64UM0Y8", "na", "MX", "MXN", "sellercentral.amazon.com.mx"),
    Marketplace("BR", "Brazil", "A2Q3Y263D00KWC", "na", "BR", "BRL", "sellercentral.amazon.com.br"),
    Marketplace("UK", "United Kingdom", "A1F83G8C2ARO7P", "eu", "GB", "GBP", "sellercentral-europe.amazon.com"),
    Marketplace("DE", "Germany", "A1PA6795UKMFR9", "eu", "DE", "EUR", "sellercentral-europe.amazon.com"),
    Marketplace("FR", "France", "A13V1IB3VIYZZH", "eu", "FR", "EUR", "sellercentral-europe.amazon.com"),
    Marketplace("IT", "Italy", "APJ6JRA9NG5V4", "eu", "IT", "EUR", "sellercentral-europe.amazon.com"),
    Marketplace("ES", "Spain", "A1RKKUPIHCS9HS", "eu", "ES", "EUR", "sellercentral-europe.amazon.com"),
    Marketplace("NL", "Netherlands", "A1805IZSGTT6HS", "eu", "NL", "EUR", "sellercentral.amazon.nl"),
    Marketplace("SE", "Sweden", "A2NODRKZP88ZB9", "eu", "SE", "SEK", "sellercentral.amazon.se"),
    Marketplace("PL", "Poland", "A1C3SOZRARQ6R3", "eu", "PL", "PLN", "sellercentral.amazon.pl"),
    Marketplace("BE", "Belgium", "AMEN7PMS3EDWL", "eu", "BE", "EUR", "sellercentral.amazon.com.be"),
    Marketplace("IE", "Ireland", "A28R8C7NBKEWEA", "eu", "IE", "EUR", "sellercentral.amazon.ie"),
    Marketplace("TR", "Turkey", "A33AVAJ2PDY3EV", "eu", "TR", "TRY", "sellercentral.amazon.com.tr"),
    Marketplace("AE", "United Arab Emirates", "A2VIGQ35RCS4UG", "eu", "AE", "AED", "sellercentral.amazon.ae"),
    Marketplace("SA", "Saudi Arabia", "A17E79C6D8DWNP", "eu", "SA", "SAR", "sellercentral.amazon.sa"),
    Marketplace("EG", "Egypt", "ARBP9OOSHTCHU", "eu", "EG", "EGP", "sellercentral.amazon.eg"),
    Marketplace("ZA", "South Africa", "AE08WJ6YKNBMC", "eu", "ZA", "ZAR", "sellercentral.amazon.co.za"),
    Marketplace("IN", "India", "A21TJRUUN4KGV", "eu", "IN", "INR", "sellercentral.amazon.in"),
    Marketplace("JP", "Japan", "A1VC38T7YXB528", "fe", "JP", "JPY", "sellercentral.amazon.co.jp"),
    Marketplace("AU", "Australia", "A39IBJ37TRP1C6", "fe", "AU", "AUD", "sellercentral.amazon.com.au"),
    Marketplace("SG", "Singapore", "A19VAU5U5O7RUS", "fe", "SG", "SGD", "sellercentral.amazon.sg"),
)

_BY_CODE = {m.code: m for m in MARKETPLACES}
_BY_ID = {m.marketplace_id: m for m in MARKETPLACES}


def find_marketplace(value: str) -> Marketplace | None:
    """A marketplace by its code (any case, surrounding spaces ignored) or its exact marketplace id."""
    stripped = value.strip()
    return _BY_CODE.get(stripped.upper()) or _BY_ID.get(stripped)


def marketplace_by_code(code: str) -> Marketplace:
    """The marketplace of a stored (canonical) code; a KeyError means corrupt data, not user input."""
    return _BY_CODE[code]


def marketplace_by_id(marketplace_id: str) -> Marketplace | None:
    return _BY_ID.get(marketplace_id)


def marketplace_codes() -> list[str]:
    return [m.code for m in MARKETPLACES]
