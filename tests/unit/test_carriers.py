"""Amazon's carrier codes (SPEC §6.7): exact spellings, the OMS's variants, and `Other` with a name."""

from __future__ import annotations

import re

import pytest
from oms_amazon.carriers import CARRIER_CODES, OTHER, Carrier, amazon_code, resolve_carrier
from oms_amazon.domain.errors import InvalidInput

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "code",
    ["Royal Mail", "Parcelforce", "DPD", "Yodel", "Evri", "DHL", "DHL Express", "UPS", "USPS", "FedEx", "GLS", "TNT"],
)
def test_the_well_known_carriers_are_in_amazons_list_with_amazons_spelling(code):
    assert code in CARRIER_CODES
    assert resolve_carrier(code, None, "UK") == Carrier(code)


def test_codes_are_kept_exactly_as_amazon_spells_them_even_the_odd_ones():
    for code in ("GO!", "AFL/Fedex", "R+L", "Kuehne+Nagel", "DHL-Paket", "Amazon Shipping", "FEDEX_JP"):
        assert resolve_carrier(code, None) == Carrier(code)


@pytest.mark.parametrize(
    ("given", "amazon"),
    [
        ("royal mail", "Royal Mail"),
        ("ROYAL_MAIL", "Royal Mail"),
        ("royal-mail", "Royal Mail"),
        ("  RoyalMail ", "Royal Mail"),
        ("dhl express", "DHL Express"),
        ("fedex", "FedEx"),
        ("Federal Express", "FedEx"),
        ("parcelforce worldwide", "Parcelforce"),
        ("DPD Local", "DPD"),
        ("amazon logistics", "Amazon Shipping"),
        ("usps", "USPS"),
        ("other", OTHER),
    ],
)
def test_the_oms_spellings_of_a_carrier_become_amazons(given, amazon):
    assert amazon_code(given, "UK") == amazon


def test_hermes_is_evri_in_the_uk_and_ireland_and_hermes_logistik_gruppe_elsewhere():
    assert amazon_code("Hermes", "UK") == "Evri"
    assert amazon_code("myHermes", "IE") == "Evri"
    assert amazon_code("hermes", "DE") == "Hermes Logistik Gruppe"


def test_an_unknown_carrier_with_a_name_is_confirmed_as_other_with_that_name():
    assert resolve_carrier("BOBS", "Bob's Couriers", "UK") == Carrier(OTHER, "Bob's Couriers")


def test_an_unknown_carrier_without_a_name_is_refused_with_carrier_name_required():
    with pytest.raises(InvalidInput) as refused:
        resolve_carrier("Bobs Couriers", None, "UK")

    assert refused.value.code == "carrier_name_required"
    assert "Bobs Couriers" in refused.value.message


def test_other_needs_a_carrier_name():
    with pytest.raises(InvalidInput) as refused:
        resolve_carrier("Other", None)

    assert refused.value.code == "carrier_name_required"
    assert resolve_carrier("Other", " Local Van ") == Carrier(OTHER, "Local Van")


def test_a_known_carrier_ignores_a_carrier_name_amazon_would_not_use():
    assert resolve_carrier("Royal Mail", "Royal Mail Tracked 48") == Carrier("Royal Mail")


@pytest.mark.parametrize("name", ["", "   ", "Bob\nCouriers", "Bob\tCouriers", "x" * 101])
def test_a_carrier_name_must_be_one_to_a_hundred_printable_characters(name):
    with pytest.raises(InvalidInput) as refused:
        resolve_carrier("BOBS", name)

    assert refused.value.code == "invalid_carrier_name"


def test_no_two_codes_differ_only_in_case_spacing_or_punctuation():
    keys = [re.sub(r"[^0-9a-z]", "", code.casefold()) for code in CARRIER_CODES]
    assert len(keys) == len(set(keys))


def test_every_code_is_trimmed_and_short_enough_for_amazon():
    for code in CARRIER_CODES:
        assert code == code.strip() and 1 <= len(code) <= 100 and code.isprintable()
