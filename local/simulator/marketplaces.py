"""Amazon's marketplaces as the simulator (Amazon's side) knows them.

Kept apart from the connector's own table on purpose: the simulator stands for Amazon, so it must not
share code with the client it checks. Ids from Amazon's marketplace list; language and domain as the
Sellers API returns them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Marketplace:
    code: str
    marketplace_id: str
    region: str
    country_code: str
    currency: str
    language: str
    domain: str

    @property
    def name(self) -> str:
        """The store name as Amazon writes it (`Amazon.co.uk`)."""
        return "Amazon." + self.domain.removeprefix("www.amazon.")

    @property
    def currency_exponent(self) -> int:
        return 0 if self.currency == "JPY" else 2


MARKETPLACES: tuple[Marketplace, ...] = (
    Marketplace("US", "ATVPDKIKX0DER", "na", "US", "USD", "en_US", "www.amazon.com"),
    Marketplace("CA", "A2EUQ1WTGCTBG2", "na", "CA", "CAD", "en_CA", "www.amazon.ca"),
    Marketplace("MX", "A1AM78C64UM0Y8", "na", "MX", "MXN", "es_MX", "www.amazon.com.mx"),
    Marketplace("BR", "A2Q3Y263D00KWC", "na", "BR", "BRL", "pt_BR", "www.amazon.com.br"),
    Marketplace("UK", "A1F83G8C2ARO7P", "eu", "GB", "GBP", "en_GB", "www.amazon.co.uk"),
    Marketplace("DE", "A1PA6795UKMFR9", "eu", "DE", "EUR", "de_DE", "www.amazon.de"),
    Marketplace("FR", "A13V1IB3VIYZZH", "eu", "FR", "EUR", "fr_FR", "www.amazon.fr"),
    Marketplace("IT", "APJ6JRA9NG5V4", "eu", "IT", "EUR", "it_IT", "www.amazon.it"),
    Marketplace("ES", "A1RKKUPIHCS9HS", "eu", "ES", "EUR", "es_ES", "www.amazon.es"),
    Marketplace("NL", "A1805IZSGTT6HS", "eu", "NL", "EUR", "nl_NL", "www.amazon.nl"),
    Marketplace("SE", "A2NODRKZP88ZB9", "eu", "SE", "SEK", "sv_SE", "www.amazon.se"),
    Marketplace("PL", "A1C3SOZRARQ6R3", "eu", "PL", "PLN", "pl_PL", "www.amazon.pl"),
    Marketplace("BE", "AMEN7PMS3EDWL", "eu", "BE", "EUR", "fr_BE", "www.amazon.com.be"),
    Marketplace("IE", "A28R8C7NBKEWEA", "eu", "IE", "EUR", "en_IE", "www.amazon.ie"),
    Marketplace("TR", "A33AVAJ2PDY3EV", "eu", "TR", "TRY", "tr_TR", "www.amazon.com.tr"),
    Marketplace("AE", "A2VIGQ35RCS4UG", "eu", "AE", "AED", "en_AE", "www.amazon.ae"),
    Marketplace("SA", "A17E79C6D8DWNP", "eu", "SA", "SAR", "ar_SA", "www.amazon.sa"),
    Marketplace("EG", "ARBP9OOSHTCHU", "eu", "EG", "EGP", "ar_EG", "www.amazon.eg"),
    Marketplace("ZA", "AE08WJ6YKNBMC", "eu", "ZA", "ZAR", "en_ZA", "www.amazon.co.za"),
    Marketplace("IN", "A21TJRUUN4KGV", "eu", "IN", "INR", "en_IN", "www.amazon.in"),
    Marketplace("JP", "A1VC38T7YXB528", "fe", "JP", "JPY", "ja_JP", "www.amazon.co.jp"),
    Marketplace("AU", "A39IBJ37TRP1C6", "fe", "AU", "AUD", "en_AU", "www.amazon.com.au"),
    Marketplace("SG", "A19VAU5U5O7RUS", "fe", "SG", "SGD", "en_SG", "www.amazon.sg"),
)

_BY_CODE = {m.code: m for m in MARKETPLACES}
_BY_ID = {m.marketplace_id: m for m in MARKETPLACES}


def by_id(marketplace_id: str) -> Marketplace | None:
    return _BY_ID.get(marketplace_id)


def by_code_or_id(value: str) -> Marketplace | None:
    """For the control API: a code (`UK`, any case) or an exact marketplace id."""
    return _BY_CODE.get(value.strip().upper()) or _BY_ID.get(value.strip())
