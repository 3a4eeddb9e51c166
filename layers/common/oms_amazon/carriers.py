"""Amazon's carrier codes for shipment confirmation (SPEC §6.7) — pure and table-driven.

`confirmShipment` needs `carrierCode` in every marketplace, spelled exactly as Amazon lists it
(`Royal Mail`, `DHL Express`, `GO!`, `AFL/Fedex`…); a carrier Amazon does not list is sent as
`Other` with a free-text `carrierName`. The table below is Amazon's well-known list (the values of
its `CarrierCode` enumeration and Seller Central's carrier drop-down); the spellings are Amazon's,
mixed case and all.

The OMS rarely has Amazon's spelling, so a code is matched exactly first, then by its letters and
digits only (`royal_mail`, `ROYALMAIL`, `dhl-express`), then through a few aliases the OMS world
uses (`Hermes` is Evri in the UK and Ireland and Hermes Logistik Gruppe elsewhere).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from oms_amazon.domain.errors import InvalidInput

OTHER = "Other"
MAX_CARRIER_NAME = 100

# Amazon's exact spellings, grouped by where they are mostly used. Where Amazon lists two spellings
# that differ only in case or spacing (`SENDLE`/`Sendle`), the first one here is kept.
CARRIER_CODES: tuple[str, ...] = (
    # Global and North America
    "USPS",
    "UPS",
    "UPSMI",
    "UPS Mail Innovations",
    "UPS Freight",
    "FedEx",
    "FedEx SmartPost",
    "Fedex Freight",
    "DHL",
    "DHL Express",
    "DHL eCommerce",
    "DHL Global Mail",
    "DHL Freight",
    "Amazon Shipping",
    "OnTrac",
    "Lasership",
    "Newgistics",
    "Streamlite",
    "Blue Package",
    "OSM",
    "First Mile",
    "AAA Cooper",
    "ABF",
    "Estes",
    "Saia",
    "R+L",
    "Old Dominion",
    "Conway",
    "Pilot Freight",
    "Roadrunner",
    "Watkins and Shepard",
    "XPO Freight",
    "Yellow Freight",
    "South Eastern Freight Lines",
    "Canada Post",
    "PUROLATOR",
    "iParcel",
    "Estafeta",
    "Correios",
    "Total Express",
    # United Kingdom and Ireland
    "Royal Mail",
    "Parcelforce",
    "DPD",
    "Yodel",
    "Evri",
    "Arrow XL",
    "DX Freight",
    "Panther",
    "Tuffnells",
    "City Link",
    "Fastway",
    "Parcelnet",
    "TNT",
    "GLS",
    "Asendia",
    "InPost",
    "Landmark",
    "Spring GDS",
    "Smartmail",
    # Continental Europe
    "Deutsche Post",
    "DHL-Paket",
    "DHL Home Delivery",
    "Hermes Logistik Gruppe",
    "Hermes Einrichtungsservice",
    "GO!",
    "IDS Netzwerk",
    "Rhenus",
    "DACHSER",
    "Heppner",
    "Rieck",
    "Kuehne+Nagel",
    "DB Schenker",
    "CEVA",
    "Raben Group",
    "AT POST",
    "Post NL",
    "PostNord",
    "DHLPL",
    "Chronopost",
    "Colissimo",
    "Coliposte",
    "La Poste",
    "Colis Prive",
    "Geodis Calberson",
    "Poste Italiane",
    "SDA",
    "BRT",
    "Nexive",
    "Milkman",
    "TNTIT",
    "Correos",
    "Correos Express",
    "Seur",
    "MRW",
    "Nacex",
    "Envialia",
    "TIPSA",
    "CTTExpress",
    "Tourline",
    "Aras Kargo",
    "MNG Kargo",
    "PTT Kargo",
    "DHL Kargo",
    # Middle East, India, Asia-Pacific
    "Aramex",
    "Emirates Post",
    "India Post",
    "BlueDart",
    "Delhivery",
    "DTDC",
    "Ecom Express",
    "Xpressbees",
    "Gati",
    "Professional",
    "First Flight",
    "Overnite Express",
    "AFL/Fedex",
    "Safexpress",
    "Trackon",
    "Japan Post",
    "YAMATO",
    "YamatoTransport",
    "SAGAWA",
    "SagawaExpress",
    "NITTSU",
    "NipponExpress",
    "Seino",
    "FEDEX_JP",
    "JP_EXPRESS",
    "Australia Post",
    "StarTrack-ArticleID",
    "StarTrack-Consignment",
    "Toll Global Express",
    "Couriers Please",
    "Sendle",
    "Hunter Logistics",
    "China Post",
    "SF Express",
    "Yun Express",
    "YANWEN",
    "4PX",
    "Hongkong Post",
    "Singapore Post",
    "Ninjavan",
    "Qxpress",
    OTHER,
)

# Names the OMS world uses for a carrier Amazon spells differently (letters and digits only, lower case).
ALIASES: dict[str, str] = {
    "royalmailgroup": "Royal Mail",
    "rm": "Royal Mail",
    "parcelforceworldwide": "Parcelforce",
    "pfw": "Parcelforce",
    "dpdlocal": "DPD",
    "dpduk": "DPD",
    "dpdgroup": "DPD",
    "federalexpress": "FedEx",
    "fedexground": "FedEx",
    "unitedparcelservice": "UPS",
    "unitedstatespostalservice": "USPS",
    "dhlparcel": "DHL",
    "dhlparceluk": "DHL",
    "dhlpaket": "DHL-Paket",
    "amazon": "Amazon Shipping",
    "amazonlogistics": "Amazon Shipping",
    "amzl": "Amazon Shipping",
    "tntexpress": "TNT",
    "glsuk": "GLS",
    "bluedartexpress": "BlueDart",
    "yamatotransportation": "YamatoTransport",
}

# Hermes became Evri in the UK and Ireland (2022); in Germany it is still Hermes Logistik Gruppe.
_HERMES = frozenset({"hermes", "hermesuk", "myhermes", "hermesparcelnet"})
_EVRI_MARKETPLACES = frozenset({"UK", "IE"})


def _key(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.casefold())


_EXACT = frozenset(CARRIER_CODES)
_BY_KEY: dict[str, str] = {}
for _code in CARRIER_CODES:
    _BY_KEY.setdefault(_key(_code), _code)


@dataclass(frozen=True, slots=True)
class Carrier:
    """What confirmShipment is sent: Amazon's code, and the carrier's name when the code is `Other`."""

    code: str
    name: str | None = None


def amazon_code(text: str, marketplace: str | None = None) -> str | None:
    """Amazon's spelling of a carrier code or well-known carrier name; None when Amazon does not list it."""
    stripped = text.strip()
    if stripped in _EXACT:
        return stripped
    key = _key(stripped)
    if not key:
        return None
    if key in _HERMES:
        return "Evri" if (marketplace or "").upper() in _EVRI_MARKETPLACES else "Hermes Logistik Gruppe"
    return _BY_KEY.get(key) or ALIASES.get(key)


def check_carrier_name(name: str) -> str:
    stripped = name.strip()
    if not stripped or len(stripped) > MAX_CARRIER_NAME or not stripped.isprintable():
        raise InvalidInput(
            f"carrier_name must be 1-{MAX_CARRIER_NAME} printable characters.",
            code="invalid_carrier_name",
            details=[{"field": "carrier_name", "reason": "1-100 printable characters"}],
        )
    return stripped


def resolve_carrier(code: str, name: str | None, marketplace: str | None = None) -> Carrier:
    """The carrier to confirm with: Amazon's code when it lists one, else `Other` with the caller's
    carrier name. `Other`, or a code Amazon does not list, without a name is refused
    (`carrier_name_required`): Amazon refuses `Other` without `carrierName`."""
    known = amazon_code(code, marketplace)
    cleaned = check_carrier_name(name) if name is not None else None
    if known is not None and known != OTHER:
        return Carrier(known)
    if cleaned is None:
        shown = code.strip()[:40]
        reason = (
            "carrier_code Other needs carrier_name"
            if known == OTHER
            else f"Amazon does not list the carrier code {shown!r}"
        )
        raise InvalidInput(
            f"{reason}: pass carrier_name (the shipment is then confirmed with carrier code Other), or use one of "
            "Amazon's carrier codes such as Royal Mail, DPD, Evri, Yodel, Parcelforce, DHL, UPS or FedEx.",
            code="carrier_name_required",
            details=[{"field": "carrier_name", "reason": "required for this carrier_code"}],
        )
    return Carrier(OTHER, cleaned)
