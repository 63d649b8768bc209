"""Reads for stock planning: each level's daily demand from the ledger, and the reorder report.

Demand is what left the shop: the units of `deduct` entries (a paid hold) and of
`backorder_fill` entries (a batch shipped to a pre-sale order), per level and per day in
the database's time zone (UTC), zero days included. A release or an expiry is no demand
(the units came back), and neither is a transfer (they stay in the shop).
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TypedDict

from django.db.models import F, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from inventory.exceptions import ProductNotFound
from inventory.models import (
    OPEN_PURCHASE_ORDER_STATUSES,
    Backorder,
    BackorderStatus,
    InventoryLog,
    ItemPlan,
    LogOperation,
    PurchaseOrderLine,
    StockLevel,
    StockRow,
)

DEMAND_OPERATIONS = (LogOperation.DEDUCT, LogOperation.BACKORDER_FILL)

Level = tuple[int, int]  # (product_id, warehouse_id)


class DemandDay(TypedDict):
    date: date
    units: int


class ForecastDay(TypedDict):
    date: date
    units: float


def today() -> date:
    return timezone.now().date()


def daily_demand(
    *, days: int, until: date | None = None, levels: Iterable[Level] | None = None
) -> dict[Level, list[int]]:
    """Units that left each level on each of the `days` days before `until` (default today), oldest first.

    Only levels with some demand in the window are keys; one grouped query.
    """
    end = until or today()
    start = end - timedelta(days=days)
    # Bounds as moments, so that the created_at index serves the range.
    entries = InventoryLog.objects.filter(
        operation__in=DEMAND_OPERATIONS, created_at__gte=_midnight(start), created_at__lt=_midnight(end)
    )
    if levels is not None:
        wanted = sorted(set(levels))
        entries = entries.filter(product_id__in={product for product, _ in wanted})
    rows = (
        entries.annotate(day=TruncDate("created_at"))
        .values_list("product_id", "warehouse_id", "day")
        .annotate(units=Sum("quantity"))
        .order_by()
    )
    series: dict[Level, list[int]] = {}
    for product_id, warehouse_id, day, units in rows:
        level = (product_id, warehouse_id)
        if levels is not None and level not in wanted:
            continue
        series.setdefault(level, [0] * days)[(day - start).days] = units
    return series


def abc_classes(warehouse_id: int) -> dict[int, str]:
    """The ABC class the planning run gave each classed level of the warehouse: product id -> class."""
    return dict(
        ItemPlan.objects.filter(warehouse_id=warehouse_id).exclude(abc_class="").values_list("product_id", "abc_class")
    )


def item_plans() -> QuerySet[ItemPlan]:
    """Every level's plan with the level's low-stock threshold, by product then warehouse."""
    own_row = StockRow.objects.filter(
        product_id=OuterRef("product_id"), warehouse_id=OuterRef("warehouse_id"), bucket=0
    )
    return ItemPlan.objects.annotate(low_stock_threshold=Subquery(own_row.values("low_stock_threshold")[:1])).order_by(
        "product_id", "warehouse_id"
    )


def item_plan(product_id: int, warehouse_id: int) -> ItemPlan:
    """The level's plan; one with the default terms, not stored, when the run has not reached it yet.

    ProductNotFound when the product has no stock level in that warehouse.
    """
    plan = item_plans().filter(product_id=product_id, warehouse_id=warehouse_id).first()
    if plan is not None:
        return plan
    threshold = (
        StockRow.objects.filter(product_id=product_id, warehouse_id=warehouse_id, bucket=0)
        .values_list("low_stock_threshold", flat=True)
        .first()
    )
    if threshold is None:
        raise ProductNotFound(product_id)
    plan = ItemPlan(product_id=product_id, warehouse_id=warehouse_id, updated_at=None)
    plan.low_stock_threshold = threshold
    return plan


def demand_history(plan: ItemPlan, days: int) -> list[DemandDay]:
    """The level's demand on each of the last `days` days (today excluded), oldest first."""
    end = today()
    series = daily_demand(days=days, until=end, levels=[(plan.product_id, plan.warehouse_id)])
    units = series.get((plan.product_id, plan.warehouse_id), [0] * days)
    return [{"date": end - timedelta(days=days - index), "units": figure} for index, figure in enumerate(units)]


def forecast_days(plan: ItemPlan) -> list[ForecastDay]:
    """The stored forecast by date, from the day of the run that computed it (its history ends the day before)."""
    if plan.computed_at is None:
        return []
    first = plan.computed_at.date()
    return [{"date": first + timedelta(days=index), "units": units} for index, units in enumerate(plan.forecast)]


@dataclass(frozen=True)
class ReorderLine:
    product_id: int
    warehouse_id: int
    warehouse: str
    abc_class: str
    available: int
    incoming: int  # in transit to the level, and open purchase-order lines due within the lead time
    backordered: int  # what the level's open backorders still wait for: the incoming units are theirs
    position: int  # available + incoming - backordered
    reorder_point: int
    reorder_quantity: int
    lead_time_days: int
    suggested_quantity: int  # up to reorder point + reorder quantity


def reorder_report(*, warehouse_id: int | None = None, on: date | None = None) -> list[ReorderLine]:
    """The levels whose stock position will be below their reorder point within their lead time.

    The position is what is on the shelf (`available`), plus what arrives within the lead
    time (units in transit and open purchase-order lines due by then, overdue ones
    included), less what open backorders still wait for. Since the reorder point is the
    forecast demand over the lead time plus the safety stock, a position below it is
    stock that runs below safety stock before a new order could arrive. The suggested
    quantity orders the position back up to reorder point + reorder quantity (an
    order-up-to level, so an item far below its point is not reordered twice). Four
    queries, sorted by ABC class then by how far below its point each level is.
    """
    day = on or today()
    plans = ItemPlan.objects.filter(reorder_point__isnull=False).select_related("warehouse")
    if warehouse_id is not None:
        plans = plans.filter(warehouse_id=warehouse_id)
    plans = list(plans)
    keys = [(plan.product_id, plan.warehouse_id) for plan in plans]
    levels = _levels(keys)
    due = _due_lines(keys)
    waiting = _backordered(keys)
    report = []
    for plan in plans:
        key = (plan.product_id, plan.warehouse_id)
        if key not in levels:
            continue
        available, in_transit = levels[key]
        horizon = day + timedelta(days=plan.lead_time_days)
        incoming = in_transit + sum(units for expected, units in due.get(key, ()) if expected <= horizon)
        position = available + incoming - waiting.get(key, 0)
        if position >= plan.reorder_point:
            continue
        report.append(
            ReorderLine(
                product_id=plan.product_id,
                warehouse_id=plan.warehouse_id,
                warehouse=plan.warehouse.code,
                abc_class=plan.abc_class,
                available=available,
                incoming=incoming,
                backordered=waiting.get(key, 0),
                position=position,
                reorder_point=plan.reorder_point,
                reorder_quantity=plan.reorder_quantity or 0,
                lead_time_days=plan.lead_time_days,
                suggested_quantity=plan.reorder_point + (plan.reorder_quantity or 0) - position,
            )
        )
    report.sort(key=lambda line: (line.abc_class or "Z", line.position - line.reorder_point, line.product_id))
    return report


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _products(keys: list[Level]) -> set[int]:
    return {product_id for product_id, _ in keys}


def _levels(keys: list[Level]) -> dict[Level, tuple[int, int]]:
    rows = StockLevel.objects.filter(product_id__in=_products(keys)).values_list(
        "product_id", "warehouse_id", "available_stock", "in_transit"
    )
    return {(product, warehouse): (available, in_transit) for product, warehouse, available, in_transit in rows}


def _due_lines(keys: list[Level]) -> dict[Level, list[tuple[date, int]]]:
    rows = (
        PurchaseOrderLine.objects.filter(
            product_id__in=_products(keys),
            order__status__in=OPEN_PURCHASE_ORDER_STATUSES,
            received__lt=F("quantity"),
        )
        .values_list("product_id", "order__warehouse_id", "expected_date")
        .annotate(units=Sum(F("quantity") - F("received")))
        .order_by()
    )
    due: dict[Level, list[tuple[date, int]]] = defaultdict(list)
    for product_id, warehouse_id, expected_date, units in rows:
        due[(product_id, warehouse_id)].append((expected_date, units))
    return due


def _backordered(keys: list[Level]) -> dict[Level, int]:
    rows = (
        Backorder.objects.filter(product_id__in=_products(keys), status=BackorderStatus.OPEN)
        .values_list("product_id", "warehouse_id")
        .annotate(units=Sum(F("quantity") - F("filled")))
        .order_by()
    )
    return {(product_id, warehouse_id): units for product_id, warehouse_id, units in rows}
