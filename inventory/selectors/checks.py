"""Read queries of the public check endpoints."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypedDict

from django.db.models import BigIntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from inventory.exceptions import PoolNotFound, ProductNotFound
from inventory.models import Inventory, Pool, StockRow
from inventory.selectors.warehouses import pool_warehouses


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


def check_product(*, product_id: int, quantity: int = 1, pool: str | None = None) -> Check:
    """The product's figures summed over its levels, or over its levels in `pool`'s warehouses."""
    row = _products([product_id], pool).values_list("available_stock", "low_stock_threshold").first()
    if row is None:
        raise ProductNotFound(product_id)
    available, threshold = row
    return Check(product_id, available, available > 0, available <= threshold, available >= quantity)


def check_products(*, lines: Sequence[tuple[int, int]], pool: str | None = None) -> BatchCheck:
    """(product_id, quantity) lines, answered in their order with one query, as the JSON body."""
    available = dict(
        _products({product_id for product_id, _ in lines}, pool).values_list("product_id", "available_stock")
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


def _products(product_ids: Iterable[int], pool: str | None) -> QuerySet[Inventory]:
    """The products, with their figures over every level, or over a pool's (PoolNotFound if
    unknown; the pool is looked up only when named)."""
    products = Inventory.objects.filter(product_id__in=product_ids)
    if pool is None:
        return products
    if not Pool.objects.filter(code=pool).exists():
        raise PoolNotFound(pool)
    in_pool = StockRow.objects.filter(
        product_id=OuterRef("product_id"), warehouse_id__in=pool_warehouses(pool).values("id")
    ).order_by()
    return Inventory.products.filter(product_id__in=product_ids).annotate(
        available_stock=_sum(in_pool, "available_stock"), low_stock_threshold=_sum(in_pool, "low_stock_threshold")
    )


def _sum(rows: QuerySet[StockRow], column: str) -> Coalesce:
    total = Subquery(rows.values("product_id").annotate(total=Sum(column)).values("total"))
    return Coalesce(total, Value(0), output_field=BigIntegerField())
