"""`/attributes/fulfillment_availability`: what a patch asks for, and what it does to a listing.

The attribute holds one entry per fulfilment channel (`fulfillment_channel_code`), each with `quantity`,
`lead_time_to_ship_max_days` and `restock_date`. Amazon's ops on it (`PatchOperation.op` in the Listings Items
model and in listings-feed-schema-v2.json: `add`, `replace`, `merge`, `delete`):

- `replace` (and `add`, which "adds or replaces the target property") sets the entry of the channel it names to
  exactly what it names: a field it leaves out is wiped (SPEC §1.1).
- `merge` (changelog of 16 June 2025, "Listings Items v2021-08-01 API and JSON_LISTING_FEED now include a JSON
  patch merge operation"; tutorial "Merge a listing") changes only the fields it names: "There are no changes to
  other optional fields if not included, such as, restock_date, lead_time_to_ship_max_days". It "must provide
  non empty values for selector fields such as fulfillment_channel_code".
- `delete` takes the merchant quantity away: nothing is left to sell.

A channel a patch does not name keeps its entry: Amazon adds a channel beside the others instead of replacing
them (amzn/selling-partner-api-models#2061), and a `DEFAULT` quantity sent to an FBA listing is accepted and
recorded beside the Amazon channel (#2633). Only `DEFAULT` is the seller's to count; entries for Amazon's
networks are accepted and ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from .state import MERCHANT_CHANNEL, ChannelAvailability, Listing

AVAILABILITY_PATH = "/attributes/fulfillment_availability"
ATTRIBUTE = "fulfillment_availability"
# Codes and texts as Amazon's processing reports and Listings responses give them: 4000001 "The provided value for
# 'purchasable_offer' is invalid." (amzn/selling-partner-api-models#3001); 90220 "'[batteries_required]' is
# required but not supplied." and 99022 "The field ... does not have enough values. The required minimum is '1'
# value(s)." (listings-feed-processing-report-schema-v2.example.json).
CODE_INVALID_VALUE = "4000001"
CODE_MISSING_VALUE = "90220"
CODE_TOO_FEW_VALUES = "99022"


class PatchProblem(ValueError):
    """A fulfillment-availability patch Amazon would refuse, with the issue code it would give."""

    def __init__(self, code: str, text: str, attribute: str = ATTRIBUTE) -> None:
        super().__init__(text)
        self.code = code
        self.text = text
        self.attribute = attribute


class MissingChannelCode(PatchProblem):
    """An entry without its selector. patchListingsItem names the field (jlevers/selling-partner-api#493, the code
    of that text in the processing-report schema example); a JSON_LISTINGS_FEED message gets a bare
    `BAD_REQUEST` "Invalid parameters provided." instead (amzn/selling-partner-api-models#4554)."""

    def __init__(self) -> None:
        super().__init__(
            CODE_TOO_FEW_VALUES,
            "The field 'fulfillment_channel_code' for the attribute 'fulfillment_availability' does not have enough "
            "values. The required minimum is '1' value(s).",
        )


@dataclass(frozen=True)
class AvailabilityPatch:
    """What one patch does to `fulfillment_availability`: the op and the `DEFAULT` entry's named fields."""

    op: str  # "replace" (also for `add`) | "merge" | "delete"
    merchant: dict[str, Any] | None  # None: the patch names no DEFAULT entry

    def quantity(self) -> int | None:
        """The merchant quantity the patch sets, None when it leaves it alone."""
        if self.op == "delete":
            return 0
        return None if self.merchant is None else self.merchant.get("quantity")


def availability_patch(patch: dict[str, Any]) -> AvailabilityPatch | None:
    """The patch's effect on fulfillment availability; None if it patches another attribute."""
    if patch.get("path") != AVAILABILITY_PATH:
        return None
    op = patch["op"]
    if op == "delete":
        return AvailabilityPatch("delete", None)
    value = patch.get("value")
    if not isinstance(value, list) or not value:
        raise PatchProblem(CODE_MISSING_VALUE, f"'{ATTRIBUTE}' is required but not supplied.")
    merchant = None
    for entry in value:
        channel = entry.get("fulfillment_channel_code") if isinstance(entry, dict) else None
        if not isinstance(channel, str) or not channel:
            raise MissingChannelCode
        if channel == MERCHANT_CHANNEL:
            merchant = _merchant_fields(entry, quantity_required=op != "merge")
    return AvailabilityPatch("merge" if op == "merge" else "replace", merchant)


def quantity_from_patch(patch: dict[str, Any]) -> int | None:
    """The DEFAULT-channel quantity a patch sets, None if it does not touch it; `PatchProblem` if bad."""
    parsed = availability_patch(patch)
    return None if parsed is None else parsed.quantity()


def _merchant_fields(entry: dict[str, Any], *, quantity_required: bool) -> dict[str, Any]:
    """The fields a DEFAULT entry names, checked. `replace` must carry the quantity; `merge` may leave it out."""
    fields: dict[str, Any] = {}
    if quantity_required or "quantity" in entry:
        fields["quantity"] = _quantity(entry.get("quantity"))
    if "lead_time_to_ship_max_days" in entry:
        fields["lead_time_to_ship_max_days"] = _lead_time(entry["lead_time_to_ship_max_days"])
    if "restock_date" in entry:
        fields["restock_date"] = _restock_date(entry["restock_date"])
    return fields


def _whole_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _quantity(value: Any) -> int:
    if not _whole_number(value):
        raise PatchProblem(
            CODE_INVALID_VALUE,
            f"The provided value for 'Quantity' is invalid: {value!r} (a whole number of at least 0).",
        )
    return int(value)


def _lead_time(value: Any) -> int | None:
    if value is not None and not _whole_number(value):
        raise PatchProblem(CODE_INVALID_VALUE, f"The provided value for '{ATTRIBUTE}' is invalid.")
    return None if value is None else int(value)


def _restock_date(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except (TypeError, ValueError):
        raise PatchProblem(CODE_INVALID_VALUE, f"The provided value for '{ATTRIBUTE}' is invalid.") from None


def apply_availability(listing: Listing, patch: AvailabilityPatch) -> None:
    """Applies a checked patch to one listing's DEFAULT entry (other channels are left as they are)."""
    if patch.op == "delete":
        if listing.is_fba:
            listing.availability.pop(MERCHANT_CHANNEL, None)
        else:
            listing.availability[MERCHANT_CHANNEL] = ChannelAvailability(quantity=0)
        return
    if patch.merchant is None:
        return
    if patch.op == "merge":
        entry = listing.availability.setdefault(MERCHANT_CHANNEL, ChannelAvailability())
        for name, value in patch.merchant.items():
            setattr(entry, name, value)
    else:
        listing.availability[MERCHANT_CHANNEL] = ChannelAvailability(**patch.merchant)
