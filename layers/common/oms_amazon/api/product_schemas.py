"""Request and response bodies of the products API (SPEC §5.2, §7).

SKU rules come from `oms_amazon.sku` and bundle rules from `oms_amazon.stock`, called from here or
from the service, so each error keeps its specific code (`invalid_sku`, `component_not_found`, …).
That is why `components` is accepted here as a list of anything: `stock.validate_bundle` checks each
line and says precisely what is wrong with it. The documented item shape is `ComponentIn`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, field_validator
from pydantic.config import JsonDict

from oms_amazon.domain.errors import InvalidInput
from oms_amazon.domain.products import (
    MAX_BATCH_SIZE,
    MAX_QUANTITY_AVAILABLE,
    ProductDraft,
    RefusedItem,
    check_product_name,
)
from oms_amazon.sku import MAX_SKU_LENGTH, validate_sku
from oms_amazon.stock import MAX_BUNDLE_COMPONENTS, MAX_COMPONENT_QUANTITY

# Field names echoed from a caller's JSON keys are cut to this length.
_FIELD_NAME_LIMIT = 40


class ComponentIn(BaseModel):
    """One line of a bundle: a simple product of the same client and how many go in one bundle."""

    model_config = ConfigDict(extra="forbid")
    sku: str = Field(min_length=1, max_length=MAX_SKU_LENGTH, description="An existing simple product's SKU")
    quantity: int = Field(ge=1, le=MAX_COMPONENT_QUANTITY, description="Units of it per bundle")


_COMPONENTS_DOC: JsonDict = {
    "items": ComponentIn.model_json_schema(),
    "maxItems": MAX_BUNDLE_COMPONENTS,
}


class ProductIn(BaseModel):
    """A product to create or replace. With components it is a bundle, and its quantity_available
    (optional) is ignored: a bundle's availability is what its components make up (§5.2)."""

    model_config = ConfigDict(extra="forbid")
    sku: str | None = Field(
        None,
        description="Case-sensitive, 1-200 characters, no leading/trailing space, no control characters. "
        "Optional on PUT (then it must equal the SKU in the path); required in a batch.",
    )
    name: str | None = Field(None, description="Display name, 1-250 characters; null or absent for none")
    quantity_available: StrictInt | None = Field(
        None,
        ge=-MAX_QUANTITY_AVAILABLE,
        le=MAX_QUANTITY_AVAILABLE,
        description="Units available in the OMS; negative when oversold. Required without components; "
        "for a bundle it may be left out and is ignored (if sent, it must still be in range).",
    )
    components: list[Any] | None = Field(
        None,
        description=f"For a bundle: 1 to {MAX_BUNDLE_COMPONENTS} lines {{sku, quantity}} of simple products "
        "of the same client, never the bundle itself. Absent, null or [] for a simple product.",
        json_schema_extra=_COMPONENTS_DOC,
    )

    @field_validator("sku", mode="after")
    @classmethod
    def _sku(cls, value: str | None) -> str | None:
        return validate_sku(value) if value is not None else None

    @field_validator("name", mode="after")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return check_product_name(value) if value is not None else None

    def to_draft(self, sku: str) -> ProductDraft:
        return ProductDraft(
            sku=sku,
            name=self.name,
            quantity_available=self.quantity_available,
            components=tuple(self.components) if self.components else None,
        )


class ProductBatchIn(BaseModel):
    """Products to create or replace, all or none. Each item is a `ProductIn` with its `sku`; items
    are checked one by one so that every refused item is reported with its index."""

    model_config = ConfigDict(extra="forbid")
    products: list[Any] = Field(
        min_length=1,
        max_length=MAX_BATCH_SIZE,
        json_schema_extra={"items": {"$ref": "#/components/schemas/ProductIn"}},
    )


def parse_batch_item(raw: object) -> ProductDraft | RefusedItem:
    """One batch item as a draft, or refused with the reason (never echoing the input)."""
    given = raw.get("sku") if isinstance(raw, dict) else None
    sku = given if isinstance(given, str) else None
    try:
        body = ProductIn.model_validate(raw)
    except ValidationError as error:
        return RefusedItem(sku, _shape_error(error))
    except InvalidInput as error:
        return RefusedItem(sku, error)
    if body.sku is None:
        return RefusedItem(
            None,
            InvalidInput(
                "sku is required for each product of a batch.", details=[{"field": "sku", "reason": "required"}]
            ),
        )
    return body.to_draft(body.sku)


def _shape_error(error: ValidationError) -> InvalidInput:
    problems = [
        {
            "field": ".".join(str(part)[:_FIELD_NAME_LIMIT] for part in problem.get("loc", ())) or "product",
            "reason": str(problem.get("msg", "invalid")),
        }
        for problem in error.errors()
    ]
    first = problems[0]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return InvalidInput(f"{first['field']}: {first['reason']}{more}", details=problems)


class ComponentOut(BaseModel):
    sku: str
    quantity: int


class ProductOut(BaseModel):
    sku: str
    name: str | None
    quantity_available: int | None = Field(
        description="Units available; null for a bundle, whose availability is computed from its components"
    )
    components: list[ComponentOut] = Field(description="Empty for a simple product")
    is_bundle: bool
    used_in_bundles: list[str] = Field(description="SKUs of the bundles this product is a component of, sorted")
    created_at: str
    updated_at: str
    version: int = Field(description="+1 per change; a request that changes nothing keeps it")


class ProductList(BaseModel):
    items: list[ProductOut]
    next_token: str | None


class BatchItemOut(BaseModel):
    index: int
    sku: str
    status: Literal["created", "replaced", "unchanged"]
    version: int


class ProductBatchOut(BaseModel):
    created: int
    replaced: int
    unchanged: int
    items: list[BatchItemOut]
