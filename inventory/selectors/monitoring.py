"""The figures /metrics reads from the database when it is scraped (inventory/metrics/collector.py).

Each is one aggregated query on an index, so a scrape every 15 seconds costs the database little;
docs/monitoring.md says what each costs and what it proves.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F, Min, OuterRef, Q, Subquery, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from inventory.models import InventoryLog, Reservation, StockRow, Warehouse
from inventory.selectors.stock import low_levels

# Units that leave the shop sold: paid holds and units shipped to backorders (as verify_ledger counts them).
SOLD_OPERATIONS = (InventoryLog.Operation.DEDUCT, InventoryLog.Operation.BACKORDER_FILL)
TURNOVER_DAYS = 30


@dataclass(frozen=True)
class Expiry:
    overdue_holds: int
    # Seconds since the oldest overdue hold expired; 0 when none is overdue.
    lag_seconds: float


@dataclass(frozen=True)
class WarehouseLevels:
    low: int
    empty: int


@dataclass(frozen=True)
class Turnover:
    sold_units: int
    average_on_hand: float

    @property
    def ratio(self) -> float | None:
        return self.sold_units / self.average_on_hand if self.average_on_hand > 0 else None


def oversold_rows() -> int:
    """Stock rows whose active holds add up to more than the row's reserved stock.

    Such a row has let units go back to available stock (or never set them aside) while orders
    still hold them: they can be sold twice. The services make it impossible (a hold and its
    row's counter change in one statement), so any count above 0 is a fault. Read in one
    statement, one snapshot, so a reserve in flight never shows; it groups the active holds
    (the partial index of active holds) and looks each group's row up by its unique key.
    """
    row_reserved = StockRow.objects.filter(
        product_id=OuterRef("product_id"), warehouse_id=OuterRef("warehouse_id"), bucket=OuterRef("bucket")
    ).values("reserved_stock")
    return (
        Reservation.objects.filter(status=Reservation.Status.ACTIVE)
        .values("product_id", "warehouse_id", "bucket")
        .annotate(held=Sum("quantity"))
        .filter(held__gt=Subquery(row_reserved))
        .count()
    )


def expiry(now: datetime) -> Expiry:
    """How many active holds are past their expiry at `now`, and how long ago the oldest expired
    (the partial index of active holds by expiry)."""
    overdue = Reservation.objects.filter(status=Reservation.Status.ACTIVE, expires_at__lte=now).aggregate(
        count=Count("id"), oldest=Min("expires_at")
    )
    lag = (now - overdue["oldest"]).total_seconds() if overdue["oldest"] is not None else 0.0
    return Expiry(overdue["count"], max(lag, 0.0))


def levels_by_warehouse() -> dict[str, WarehouseLevels]:
    """Per warehouse code (every warehouse, 0s included), its low levels and, of those, the empty ones.

    Low levels are found from the rows' partial index of low rows (`low_levels`); a second
    query of the few warehouses names them all, so a warehouse with none shows 0.
    """
    counts = {
        warehouse_id: WarehouseLevels(low, empty)
        for warehouse_id, low, empty in low_levels()
        .values("warehouse_id")
        .annotate(low=Count("id"), empty=Count("id", filter=Q(level_available=0)))
        .values_list("warehouse_id", "low", "empty")
    }
    return {code: counts.get(pk, WarehouseLevels(0, 0)) for pk, code in Warehouse.objects.values_list("id", "code")}


def turnover_by_warehouse(today: date) -> dict[str, Turnover]:
    """Per warehouse code, the units sold in the 30 whole days before `today` and the mean of those
    days' closing on-hand figures (available + reserved).

    A day's close is today's figure less every change since that day ended, so one query reads
    the changes per warehouse and day from the ledger (its index on `created_at`) since the
    window's first day, and one sums today's figures. Past days never change (the ledger is
    append-only and dated by the database), so the caller may keep the answer for the day.
    """
    first_day = today - timedelta(days=TURNOVER_DAYS)
    since = datetime.combine(first_day, time.min, tzinfo=timezone.get_current_timezone())
    on_hand_change = F("available_after") + F("reserved_after") - F("available_before") - F("reserved_before")
    changes = (
        InventoryLog.objects.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values("warehouse_id", "day")
        .annotate(change=Sum(on_hand_change), sold=Sum("quantity", filter=Q(operation__in=SOLD_OPERATIONS)))
        .values_list("warehouse_id", "day", "change", "sold")
    )
    change_by_day: dict[int, dict[date, int]] = defaultdict(dict)
    sold: dict[int, int] = defaultdict(int)
    for warehouse_id, day, change, sold_that_day in changes:
        change_by_day[warehouse_id][day] = change or 0
        if day < today:
            sold[warehouse_id] += sold_that_day or 0
    on_hand = dict(
        StockRow.objects.values("warehouse_id").annotate(units=Sum("total_stock")).values_list("warehouse_id", "units")
    )
    window = [first_day + timedelta(days=offset) for offset in range(TURNOVER_DAYS)]
    turnover = {}
    for pk, code in Warehouse.objects.values_list("id", "code"):
        close = on_hand.get(pk) or 0
        closes = []
        # Backwards from today: a day's close is the next day's close less the next day's changes.
        for day in reversed([*window, today]):
            if day < today:
                closes.append(close)
            close -= change_by_day[pk].get(day, 0)
        turnover[code] = Turnover(sold[pk], sum(closes) / TURNOVER_DAYS)
    return turnover
