"""Products rendered as API bodies."""

from __future__ import annotations

from oms_amazon.api.product_schemas import BatchItemOut, ComponentOut, ProductBatchOut, ProductOut
from oms_amazon.domain.moments import iso
from oms_amazon.domain.products import BatchOutcome, CatalogueProduct


def product_view(product: CatalogueProduct) -> ProductOut:
    return ProductOut(
        sku=product.sku,
        name=product.name,
        quantity_available=None if product.is_bundle else product.quantity_available,
        components=[ComponentOut(sku=c.sku, quantity=c.quantity) for c in product.components],
        is_bundle=product.is_bundle,
        used_in_bundles=sorted(product.used_in_bundles),
        created_at=iso(product.created_at),
        updated_at=iso(product.updated_at),
        version=product.version,
    )


def batch_view(outcome: BatchOutcome) -> ProductBatchOut:
    return ProductBatchOut(
        created=outcome.count("created"),
        replaced=outcome.count("replaced"),
        unchanged=outcome.count("unchanged"),
        items=[
            BatchItemOut(index=index, sku=item.product.sku, status=item.status, version=item.product.version)
            for index, item in enumerate(outcome.items)
        ],
    )
