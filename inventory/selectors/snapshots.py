"""A past day's figures of a product's or a warehouse's levels: the snapshots plus the ledger since.

A row's figures at the end of day D are the after-figures of its newest entry created
before D's end. Its latest snapshot at or before D holds them as of that snapshot's
`last_entry_id`; only the row's entries after that id are read, through the ledger's
(product, id) index, never the whole ledger. A level is summed over its rows, a hot
level's dropped buckets included (their snapshots stay).
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from inventory.exceptions import ProductNotFound
from inventory.models import Inventory, InventoryLog, StockLevel, StockRow, StockSnapshot

# A stock row's key, as the ledger and the snapshots name it.
ROW = ("product_id", "warehouse_id", "bucket")


def day_start(day: date) -> datetime:
    """Midnight UTC that begins `day`."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def day_end(day: date) -> datetime:
    """Midnight UTC that ends `day`: its entries were created before it."""
    return day_start(day + timedelta(days=1))


def _end_of(day: date) -> datetime:
    """The end of `day`, UTC; of today for a later day (the ledger holds nothing later, and 9999-12-31 has no end)."""
    return day_end(min(day, timezone.now().astimezone(UTC).date()))


@dataclass
class LevelOnDay:
    """One level at the end of a day: its rows' available and reserved stock summed."""

    product_id: int
    warehouse: str
    available_stock: int = 0
    reserved_stock: int = 0

    @property
    def total_stock(self) -> int:
        return self.available_stock + self.reserved_stock


def levels_existing_on(day: date, *, product_id: int | None = None, warehouse_id: int | None = None) -> QuerySet:
    """The levels created before `day` ended, of a product (by warehouse priority) or a warehouse (by product)."""
    levels = StockLevel.objects.filter(created_at__lt=_end_of(day)).select_related("warehouse")
    if product_id is not None:
        levels = levels.filter(product_id=product_id).order_by("warehouse__priority", "warehouse__code")
    if warehouse_id is not None:
        levels = levels.filter(warehouse_id=warehouse_id).order_by("product_id")
    return levels


def level_figures_on(day: date, *, product_id: int | None = None, warehouse_id: int | None = None) -> list[LevelOnDay]:
    """Every level of a product, or of a warehouse, at the end of `day` (UTC)."""
    return figures_of(day, levels_existing_on(day, product_id=product_id, warehouse_id=warehouse_id))


def figures_of(day: date, levels) -> list[LevelOnDay]:
    """The given levels (a page of them, say) at the end of `day`, in their order: three queries."""
    answers = {
        (level.product_id, level.warehouse_id): LevelOnDay(level.product_id, level.warehouse.code) for level in levels
    }
    if not answers:
        return []
    rows = _row_figures(day, answers)
    for key, (available, reserved) in rows.items():
        answer = answers[key[:2]]
        answer.available_stock += available
        answer.reserved_stock += reserved
    return list(answers.values())


def _row_figures(day: date, levels: dict) -> dict[tuple, tuple[int, int]]:
    """Each row's (available, reserved) at the end of `day`: its latest snapshot, moved on by the ledger."""
    products = {product_id for product_id, _ in levels}
    warehouses = {warehouse_id for _, warehouse_id in levels}
    figures, since = {}, {}
    for product_id, warehouse_id, bucket, available, reserved, last_entry_id in _latest_snapshots(
        day, products, warehouses
    ):
        if (level := (product_id, warehouse_id)) in levels:
            figures[(product_id, warehouse_id, bucket)] = (available, reserved)
            since[level] = min(since.get(level, last_entry_id), last_entry_id)
    live_rows = StockRow.objects.filter(
        product_id__in=products, warehouse_id__in=warehouses, created_at__lt=_end_of(day)
    ).values_list(*ROW)
    for row in live_rows:
        if row[:2] in levels and row not in figures:
            since[row[:2]] = 0  # a row with no snapshot yet: its level's ledger is read from the start
    read = Q()
    for level in levels:
        read |= Q(product_id=level[0], warehouse_id=level[1], id__gt=since.get(level, 0))
    newest = (
        InventoryLog.objects.filter(read, created_at__lt=_end_of(day))
        .order_by()
        .values(*ROW)
        .annotate(last_id=Max("id"))
        .values("last_id")
    )
    entries = InventoryLog.objects.filter(id__in=newest).values_list(*ROW, "available_after", "reserved_after")
    figures.update({(p, w, b): (available, reserved) for p, w, b, available, reserved in entries})
    return figures


def _latest_snapshots(day: date, products: set[int], warehouses: set[int]):
    """Each row's latest snapshot at or before `day` (one index probe per row, the row leads the unique index)."""
    latest_day = (
        StockSnapshot.objects.filter(
            product_id=OuterRef("product_id"),
            warehouse_id=OuterRef("warehouse_id"),
            bucket=OuterRef("bucket"),
            day__lte=day,
        )
        .order_by("-day")
        .values("day")[:1]
    )
    return StockSnapshot.objects.filter(
        product_id__in=products, warehouse_id__in=warehouses, day=Subquery(latest_day)
    ).values_list(*ROW, "available", "reserved", "last_entry_id")


@dataclass
class ProductOnDay:
    """A product at the end of a day: its levels then, and their sums."""

    product_id: int
    date: date
    levels: list[LevelOnDay]

    @property
    def available_stock(self) -> int:
        return sum(level.available_stock for level in self.levels)

    @property
    def reserved_stock(self) -> int:
        return sum(level.reserved_stock for level in self.levels)

    @property
    def total_stock(self) -> int:
        return self.available_stock + self.reserved_stock


def product_on(day: date, product_id: int) -> ProductOnDay:
    """A product's levels at the end of `day`; ProductNotFound if it has no record."""
    if not Inventory.products.filter(product_id=product_id).exists():
        raise ProductNotFound(product_id)
    return ProductOnDay(product_id, day, level_figures_on(day, product_id=product_id))
