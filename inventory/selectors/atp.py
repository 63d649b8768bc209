"""Available-to-promise (ATP) by day: what a product can still be promised, today and on each of the next days.

For a product and a pool (default `all`: every warehouse that accepts orders; a pool's
own warehouses that accept orders otherwise, `pool_warehouses`), day 0 being today in
the database's date, each day `d` shows:

    available  = the pool's levels' available_stock                   (on hand, today)
    incoming   = the pool's levels' in_transit                        (transfers on their way)
               + outstanding units of open purchase-order lines into the pool's warehouses
                 due on or before day d: max(quantity - received, 0) of each line of an
                 order that is `open` or `partially_received`
    promised   = allotted_stock of the pool's levels                  (units quotas set aside)
               + quantity - filled of the open backorders at the pool's levels (sold ahead of stock)
    atp        = available + incoming - promised

`available` includes the units quotas set aside (they are part of available stock), and
`promised` takes them out again, so a unit is counted once. A backorder's outstanding
units were sold before they came: the incoming units that will fill them are promised. `incoming` is cumulative: a
line counts from its expected day on, a line whose day has passed while units are still
outstanding counts from day 0 (and is `overdue` in the breakdown), units in transit count
from day 0. A negative `atp` says more is promised than is there and coming by that day.

Answered in three queries whatever the number of products (the pool and today's date;
the products with their levels' sums; the open lines, grouped by product and day for
the batch form): never a query per product.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypedDict

from django.db.models import BigIntegerField, DateField, Expression, F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Cast, Coalesce, Now

from inventory import limits
from inventory.exceptions import PoolNotFound, ProductNotFound
from inventory.models import OPEN_PURCHASE_ORDER_STATUSES, Backorder, Inventory, Pool, PurchaseOrderLine, StockRow
from inventory.selectors.warehouses import pool_warehouses, warehouse_code


class AtpDay(TypedDict):
    date: date
    available: int
    incoming: int
    promised: int
    atp: int


class IncomingLine(TypedDict):
    purchase_order_id: int
    warehouse: str
    expected_date: date
    outstanding: int
    overdue: bool


class ProductAtp(TypedDict):
    product_id: int
    pool: str
    today: date
    in_transit: int
    days: list[AtpDay]
    incoming_lines: list[IncomingLine]


class BatchAtpItem(TypedDict):
    product_id: int
    found: bool
    days: list[AtpDay]


class BatchAtp(TypedDict):
    pool: str
    today: date
    items: list[BatchAtpItem]


# A line's units still to come; only lines with some are read (received < quantity).
OUTSTANDING = F("quantity") - F("received")


@dataclass(frozen=True)
class _Figures:
    """A product's levels in the pool, summed."""

    available: int = 0
    allotted: int = 0
    in_transit: int = 0
    # What the open backorders at the levels still wait for.
    backordered: int = 0


def product_atp(
    *, product_id: int, days: int = limits.DEFAULT_ATP_DAYS, pool: str = limits.EVERY_WAREHOUSE_POOL
) -> ProductAtp:
    """ATP of one product for `days` days from today, with its open purchase-order lines.

    PoolNotFound for an unknown pool, ProductNotFound for a product without a record.
    """
    today = _today_if_pool_exists(pool)
    figures = _figures([product_id], pool)
    if product_id not in figures:
        raise ProductNotFound(product_id)
    lines = list(
        _open_lines([product_id], pool, today + timedelta(days=days - 1))
        .annotate(outstanding=OUTSTANDING)
        .values_list("order_id", "order__warehouse_id", "expected_date", "outstanding")
        .order_by("expected_date", "order_id")
    )
    due = [(expected_date, outstanding) for _, _, expected_date, outstanding in lines]
    return {
        "product_id": product_id,
        "pool": pool,
        "today": today,
        "in_transit": figures[product_id].in_transit,
        "days": _days(figures[product_id], due, today, days),
        "incoming_lines": [
            {
                "purchase_order_id": order_id,
                "warehouse": warehouse_code(warehouse_id),
                "expected_date": expected_date,
                "outstanding": outstanding,
                "overdue": expected_date < today,
            }
            for order_id, warehouse_id, expected_date, outstanding in lines
        ],
    }


def products_atp(
    *, product_ids: Sequence[int], days: int = limits.DEFAULT_ATP_DAYS, pool: str = limits.EVERY_WAREHOUSE_POOL
) -> BatchAtp:
    """ATP of each product (in the order asked, repeats included) as the JSON body, in three queries.

    A product without a record is `found: false` with zeros, not an error.
    """
    today = _today_if_pool_exists(pool)
    wanted = sorted(set(product_ids))
    figures = _figures(wanted, pool)
    due: dict[int, list[tuple[date, int]]] = defaultdict(list)
    grouped = (
        _open_lines(wanted, pool, today + timedelta(days=days - 1))
        .values("product_id", "expected_date")
        .annotate(units=Sum(OUTSTANDING))
        .values_list("product_id", "expected_date", "units")
        .order_by("product_id", "expected_date")
    )
    for product_id, expected_date, units in grouped:
        due[product_id].append((expected_date, units))
    answered = {
        product_id: _days(figures.get(product_id, _Figures()), due.get(product_id, []), today, days)
        for product_id in wanted
    }
    return {
        "pool": pool,
        "today": today,
        "items": [
            {"product_id": product_id, "found": product_id in figures, "days": answered[product_id]}
            for product_id in product_ids
        ],
    }


def _promised(figures: _Figures) -> int:
    """The units promised already, which ATP takes out: what quotas set aside, and what
    backorders sold ahead of stock still wait for."""
    return figures.allotted + figures.backordered


def _days(figures: _Figures, due: Iterable[tuple[date, int]], today: date, days: int) -> list[AtpDay]:
    """Day by day from today: `due` are (expected date, units) in date order, each counted from its day on
    (from day 0 when the day has passed)."""
    pending = iter(due)
    upcoming = next(pending, None)
    incoming = figures.in_transit
    promised = _promised(figures)
    answer: list[AtpDay] = []
    for offset in range(days):
        day = today + timedelta(days=offset)
        while upcoming is not None and upcoming[0] <= day:
            incoming += upcoming[1]
            upcoming = next(pending, None)
        answer.append(
            {
                "date": day,
                "available": figures.available,
                "incoming": incoming,
                "promised": promised,
                "atp": figures.available + incoming - promised,
            }
        )
    return answer


def _today_if_pool_exists(pool: str) -> date:
    """Today in the database's date (its clock judges every process alike), read with the pool; PoolNotFound."""
    today = Pool.objects.filter(code=pool).annotate(today=Cast(Now(), DateField())).values_list("today", flat=True)
    found = today.first()
    if found is None:
        raise PoolNotFound(pool)
    return found


def _figures(product_ids: Iterable[int], pool: str) -> dict[int, _Figures]:
    """The products that have a record, each with its levels in the pool summed (zeros without any)."""
    in_pool = {"product_id": OuterRef("product_id"), "warehouse_id__in": pool_warehouses(pool).values("id")}
    rows = StockRow.objects.filter(**in_pool).order_by()
    waiting = Backorder.objects.filter(**in_pool, status=Backorder.Status.OPEN).order_by()
    found = (
        Inventory.products.filter(product_id__in=product_ids)
        .annotate(
            available=_sum(rows, "available_stock"),
            allotted=_sum(rows, "allotted_stock"),
            travelling=_sum(rows, "in_transit"),
            backordered=_sum(waiting, F("quantity") - F("filled")),
        )
        .values_list("product_id", "available", "allotted", "travelling", "backordered")
    )
    return {product_id: _Figures(*figures) for product_id, *figures in found}


def _open_lines(product_ids: Iterable[int], pool: str, last_day: date) -> QuerySet[PurchaseOrderLine]:
    """The lines still outstanding of open purchase orders into the pool's warehouses, due by `last_day`
    (the partial index of outstanding lines by product and day)."""
    return PurchaseOrderLine.objects.filter(
        product_id__in=product_ids,
        received__lt=F("quantity"),
        expected_date__lte=last_day,
        order__status__in=OPEN_PURCHASE_ORDER_STATUSES,
        order__warehouse_id__in=pool_warehouses(pool).values("id"),
    ).order_by()


def _sum(rows: QuerySet, column: "str | Expression") -> Coalesce:
    total = Subquery(rows.values("product_id").annotate(total=Sum(column)).values("total"))
    return Coalesce(total, Value(0), output_field=BigIntegerField())
