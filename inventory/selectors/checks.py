"""Read queries of the public check endpoints."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypedDict

from inventory.exceptions import ProductNotFound
from inventory.models import Inventory


@dataclass(frozen=True)
class Check:
    product_id: int
    available_stock: int
    in_stock: bool
    is_low_stock: bool
    sufficient: bool


# The batch answer is built as the JSON body itself: rendering it through 200 nested
# output serializers was most of a batch request's CPU (issue 7). BatchCheckSerializer
# still describes this shape in the OpenAPI schema.
class BatchCheckLine(TypedDict):
    product_id: int
    quantity: int
    found: bool
    available_stock: int
    sufficient: bool


class BatchCheck(TypedDict):
    all_available: bool
    items: list[BatchCheckLine]


def check_product(*, product_id: int, quantity: int = 1) -> Check:
    row = Inventory.objects.filter(product_id=product_id).values_list("available_stock", "low_stock_threshold").first()
    if row is None:
        raise ProductNotFound(product_id)
    available, threshold = row
    return Check(product_id, available, available > 0, available <= threshold, available >= quantity)


def check_products(*, lines: Sequence[tuple[int, int]]) -> BatchCheck:
    """(product_id, quantity) lines, answered in their order with one query, as the JSON body."""
    available = dict(
        Inventory.objects.filter(product_id__in={product_id for product_id, _ in lines}).values_list(
            "product_id", "available_stock"
        )
    )
    items = [
        {
            "product_id": product_id,
            "quantity": quantity,
            "found": product_id in available,
            "available_stock": available.get(product_id, 0),
            "sufficient": available.get(product_id, 0) >= quantity,
        }
        for product_id, quantity in lines
    ]
    return {"all_available": all(item["sufficient"] for item in items), "items": items}
