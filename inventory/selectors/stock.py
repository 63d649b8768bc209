"""Read-only queries shared by the API, the admin, the digest and the ledger check."""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby

from django.db.models import Case, Count, F, OuterRef, Q, QuerySet, Subquery, Sum, When
from django.db.models.functions import Abs, Coalesce, Now

from inventory.models import (
    OPEN_TRANSFER_STATUSES,
    Backorder,
    Inventory,
    InventoryLog,
    InventoryRowCount,
    PreSale,
    Quota,
    Reservation,
    StockLevel,
    StockRow,
    TransferLine,
)


def matching_items(items: QuerySet[Inventory], *, product_id: int | None, term: str) -> QuerySet[Inventory]:
    """The items a search names: by product id (when the term is one), exact SKU, or name prefix.

    Each is an indexed lookup: the unique product id, the unique SKU, and on PostgreSQL
    the upper(name) text_pattern_ops index (migration 0008).
    """
    matches = Q(sku=term) | Q(name__istartswith=term) if term else Q(pk__in=[])
    if product_id is not None:
        matches |= Q(product_id=product_id)
    return items.filter(matches)


def levels_of(product_id: int) -> QuerySet[StockLevel]:
    """A product's levels, preferred warehouse first."""
    return StockLevel.objects.filter(product_id=product_id).order_by("warehouse__priority", "warehouse__code")


def low_levels(**of_levels) -> QuerySet[StockRow]:
    """The own rows (bucket 0) of the levels at or below their threshold, summed over their rows;
    `of_levels` narrows them (`warehouse_id=...`, `product_id=OuterRef(...)`).

    A level can only be low when its own row is (the row's share of the stock is at most
    the level's, and the threshold is its own), so the rows' partial index of low rows
    narrows first, and only those levels are summed: the view of levels would sum them all.
    """
    return _own_rows_of_low_levels(of_levels).filter(level_available__lte=F("low_stock_threshold"))


def empty_levels(**of_levels) -> QuerySet[StockRow]:
    """The own rows of the levels with no available stock (see `low_levels`)."""
    return _own_rows_of_low_levels(of_levels).filter(available_stock=0, level_available=0)


def _own_rows_of_low_levels(of_levels: dict) -> QuerySet[StockRow]:
    summed = (
        StockRow.objects.filter(product_id=OuterRef("product_id"), warehouse_id=OuterRef("warehouse_id"))
        .order_by()
        .values("product_id")
        .annotate(total=Sum("available_stock"))
        .values("total")
    )
    return StockRow.objects.filter(bucket=0, available_stock__lte=F("low_stock_threshold"), **of_levels).alias(
        level_available=Subquery(summed)
    )


def low_stock_items() -> QuerySet[Inventory]:
    """Items at or below their threshold (summed over their levels), fewest available first.

    A product's sums can only be low when one of its levels is, and a level only when
    its own row is (its other rows hold part of its stock and no threshold), so the
    products are first narrowed to those with a low row, read from the rows' partial
    index, and only those are summed.
    """
    with_a_low_level = StockRow.objects.filter(available_stock__lte=F("low_stock_threshold")).values("product_id")
    return (
        Inventory.objects.filter(product_id__in=with_a_low_level)
        .filter(available_stock__lte=F("low_stock_threshold"))
        .order_by("available_stock", "product_id")
    )


def count_overdue_reservations() -> int:
    """How many holds the next cleanup would expire (for a dry run)."""
    return Reservation.objects.filter(status=Reservation.Status.ACTIVE, expires_at__lte=Now()).count()


def whole_inventory_count(queryset: QuerySet) -> int | None:
    """The size of `queryset` read from InventoryRowCount, when it is every inventory row; else None.

    Every row: no filter, slice, DISTINCT or UNION, in any order. None also where the
    counter is empty: on a database other than PostgreSQL, which has no triggers for it,
    and for a list (a report computed in Python is paged as it is).
    """
    if not isinstance(queryset, QuerySet):
        return None
    query = queryset.query
    if queryset.model is not Inventory or query.where or query.is_sliced or query.distinct or query.combinator:
        return None
    return InventoryRowCount.objects.using(queryset.db).values_list("row_count", flat=True).first()


@dataclass
class LedgerDiscrepancy:
    product_id: int
    problems: list[str] = field(default_factory=list)


def ledger_discrepancies(product_id: int | None = None) -> Iterator[LedgerDiscrepancy]:
    """Replay each stock row's log and compare it with its counters, its holds and its transfers.

    Checks, per row (a level's own, and each bucket of a hot level): each entry's
    before-values equal the previous entry's after-values (starting from zero); the
    last entry's after-values equal the counters (zero for a bucket row that was
    dropped); `reserved_stock` equals the sum of the row's active holds. Per level:
    `in_transit` equals what open transfers to it have not delivered. Per product:
    the units in all its levels plus those in transit equal what was created,
    restocked and adjusted in, less what was deducted and shipped to backorders; each
    quota's set-aside units and each backorder's `filled` equal the sums of the entries
    that name them, and each pre-sale's `sold` what its backorders took (their units,
    less what was cancelled before it came). Streams the log in product order, so
    memory stays flat on a large table.
    """
    levels = StockRow.objects.order_by("product_id", "warehouse_id", "bucket")
    entries = InventoryLog.objects.order_by("product_id", "id")
    holds = Reservation.objects.filter(status=Reservation.Status.ACTIVE)
    quotas = Quota.objects.all()
    backorders = Backorder.objects.all()
    sellers = PreSale.objects.annotate(
        taken=Coalesce(
            Sum(
                Case(
                    When(backorders__status=Backorder.Status.CANCELLED, then=F("backorders__filled")),
                    default=F("backorders__quantity"),
                )
            ),
            0,
        )
    )
    shipments = TransferLine.objects.filter(transfer__status__in=OPEN_TRANSFER_STATUSES)
    if product_id is not None:
        levels = levels.filter(product_id=product_id)
        entries = entries.filter(product_id=product_id)
        holds = holds.filter(product_id=product_id)
        backorders = backorders.filter(product_id=product_id)
        sellers = sellers.filter(product_id=product_id)
        shipments = shipments.filter(product_id=product_id)
    held = {
        (p, w, b): total
        for p, w, b, total in holds.values("product_id", "warehouse_id", "bucket")
        .annotate(total=Sum("quantity"))
        .values_list("product_id", "warehouse_id", "bucket", "total")
    }
    travelling = {
        (p, w): total
        for p, w, total in shipments.values("product_id", "transfer__destination_id")
        .annotate(total=Sum(F("quantity") - F("received")))
        .values_list("product_id", "transfer__destination_id", "total")
    }
    log_by_product = groupby(
        entries.values_list(
            "product_id",
            "warehouse_id",
            "bucket",
            "id",
            "operation",
            "quantity",
            "available_before",
            "available_after",
            "reserved_before",
            "reserved_after",
            "allotted_change",
            "quota_id",
            "backorder_id",
        ).iterator(chunk_size=5000),
        key=lambda entry: entry[0],
    )
    level_rows = levels.values_list(
        "product_id", "warehouse_id", "bucket", "available_stock", "reserved_stock", "in_transit", "allotted_stock"
    ).iterator(chunk_size=5000)
    set_aside = dict((quotas.filter(product_id=product_id) if product_id else quotas).values_list("id", "allotted"))
    shipped: dict[int, dict[int, int]] = defaultdict(dict)
    for backorder_id, of_product, filled in backorders.values_list("id", "product_id", "filled"):
        shipped[of_product][backorder_id] = filled
    unsold: dict[int, list[str]] = defaultdict(list)
    for code, of_product, sold, taken in sellers.values_list("code", "product_id", "sold", "taken"):
        if sold != taken:
            unsold[of_product].append(f"pre-sale {code} sold {sold}, its backorders took {taken}")
    pending = next(log_by_product, None)
    for product, product_levels in groupby(level_rows, key=lambda level: level[0]):
        product_entries = []
        if pending is not None and pending[0] == product:
            product_entries = list(pending[1])
            pending = next(log_by_product, None)
        problems = _replay_product(list(product_levels), product_entries, held, travelling)
        problems += _replay_quotas(product_entries, set_aside)
        problems += _replay_backorders(product_entries, shipped.get(product, {}))
        problems += unsold.get(product, [])
        if problems:
            yield LedgerDiscrepancy(product, problems)


# Entries that bring units into the shop or take them out of it (signed by `_units_in`).
_INFLOWS = (InventoryLog.Operation.CREATE, InventoryLog.Operation.RESTOCK, InventoryLog.Operation.ADJUST)
# Sold: paid holds, and units shipped to backorders.
_OUTFLOWS = (InventoryLog.Operation.DEDUCT, InventoryLog.Operation.BACKORDER_FILL)


def _replay_product(rows: list[tuple], entries: list[tuple], held: dict, travelling: dict) -> list[str]:
    by_row: dict[tuple[int, int], list[tuple]] = defaultdict(list)
    for entry in entries:
        by_row[(entry[1], entry[2])].append(entry)
    problems = []
    on_hand = 0
    for product_id, warehouse_id, bucket, available, reserved, in_transit, allotted in rows:
        where = f"warehouse {warehouse_id}: " if bucket == 0 else f"warehouse {warehouse_id} bucket {bucket}: "
        row_entries = by_row.pop((warehouse_id, bucket), [])
        problems += [where + p for p in _replay_row(row_entries, available, reserved)]
        logged_aside = sum(entry[10] for entry in row_entries)
        if allotted != logged_aside:
            problems.append(f"{where}allotted_stock={allotted} but the log set aside {logged_aside}")
        holding = held.get((product_id, warehouse_id, bucket), 0)
        if reserved != holding:
            problems.append(f"{where}reserved_stock={reserved} but active reservations hold {holding}")
        carried = travelling.get((product_id, warehouse_id), 0) if bucket == 0 else 0
        if in_transit != carried:
            problems.append(f"{where}in_transit={in_transit} but open transfers carry {carried}")
        on_hand += available + reserved + in_transit
    for (warehouse_id, bucket), gone in by_row.items():
        if bucket == 0:
            problems.append(f"warehouse {warehouse_id}: log entries of a level that does not exist")
        else:
            # A dropped bucket row: its chain must end empty.
            problems += [f"warehouse {warehouse_id} bucket {bucket} (dropped): " + p for p in _replay_row(gone, 0, 0)]
    brought_in = sum(_units_in(entry) for entry in entries)
    if on_hand != brought_in:
        problems.append(
            f"the levels and transfers hold {on_hand} units, the log brought in {brought_in} (less deductions)"
        )
    return problems


def _replay_quotas(entries: list[tuple], set_aside: dict[int, int]) -> list[str]:
    """Each quota the entries name sets aside what its entries' changes of `allotted_stock` sum to."""
    logged: dict[int, int] = defaultdict(int)
    for entry in entries:
        if entry[11] is not None:
            logged[entry[11]] += entry[10]
    return [
        f"quota {quota_id} sets aside {set_aside.get(quota_id, 0)}, its log entries {units}"
        for quota_id, units in sorted(logged.items())
        if set_aside.get(quota_id, 0) != units
    ]


def _replay_backorders(entries: list[tuple], shipped: dict[int, int]) -> list[str]:
    """Each of the product's backorders was filled by what its `backorder_fill` entries sum to."""
    logged: dict[int, int] = dict.fromkeys(shipped, 0)
    for entry in entries:
        if entry[12] is not None:
            logged[entry[12]] = logged.get(entry[12], 0) + entry[5]
    return [
        f"backorder {backorder_id} was filled {shipped.get(backorder_id, 0)}, its fill entries {units}"
        for backorder_id, units in sorted(logged.items())
        if shipped.get(backorder_id, 0) != units
    ]


def _units_in(entry: tuple) -> int:
    operation, quantity = entry[4], entry[5]
    if operation in _INFLOWS:
        return quantity
    return -quantity if operation in _OUTFLOWS else 0


def _replay_row(entries: list[tuple], available_now: int, reserved_now: int) -> list[str]:
    problems = []
    available, reserved = 0, 0
    for _, _, _, entry_id, _, _, available_before, available_after, reserved_before, reserved_after, *_ in entries:
        if (available_before, reserved_before) != (available, reserved):
            problems.append(
                f"entry {entry_id} starts at available={available_before} reserved={reserved_before}, "
                f"the previous entry ended at available={available} reserved={reserved}"
            )
        available, reserved = available_after, reserved_after
    if (available, reserved) != (available_now, reserved_now):
        problems.append(
            f"the log ends at available={available} reserved={reserved}, the row holds "
            f"available={available_now} reserved={reserved_now}"
        )
    return problems


# --- Back office: the item page and the dashboard -------------------------------

# Operations that move units; `create` sets the opening figure and `threshold` moves none.
MOVING_OPERATIONS = (
    InventoryLog.Operation.RESERVE,
    InventoryLog.Operation.RELEASE,
    InventoryLog.Operation.DEDUCT,
    InventoryLog.Operation.EXPIRE,
    InventoryLog.Operation.RESTOCK,
    InventoryLog.Operation.ADJUST,
    InventoryLog.Operation.TRANSFER_OUT,
    InventoryLog.Operation.TRANSFER_IN,
    InventoryLog.Operation.TRANSFER_RETURN,
    InventoryLog.Operation.BACKORDER_FILL,
)
# The ways a hold ends: paid, cancelled, or left to time out.
HOLD_ENDINGS = (InventoryLog.Operation.DEDUCT, InventoryLog.Operation.RELEASE, InventoryLog.Operation.EXPIRE)


def item_log(product_id: int, *, warehouse_id: int | None = None) -> QuerySet[InventoryLog]:
    """One product's ledger, newest first (served by the product/newest index); one level's with `warehouse_id`."""
    entries = InventoryLog.objects.filter(product_id=product_id)
    if warehouse_id is not None:
        entries = entries.filter(warehouse_id=warehouse_id)
    return entries.order_by("-id")


def active_reservations_of(product_id: int) -> QuerySet[Reservation]:
    """One product's holds that still count in its reserved stock, soonest to expire first."""
    return Reservation.objects.filter(product_id=product_id, status=Reservation.Status.ACTIVE).order_by(
        "expires_at", "id"
    )


def stock_history(product_id: int, *, limit: int = 200, warehouse_id: int | None = None) -> list[InventoryLog]:
    """The product's (or one level's) last `limit` ledger entries, oldest first: the points of its stock chart."""
    return list(reversed(item_log(product_id, warehouse_id=warehouse_id)[:limit]))


@dataclass(frozen=True)
class DashboardFigures:
    low_stock: int
    out_of_stock: int
    active_reservations: int
    expiring_soon: int
    holds_ended: int
    holds_expired: int

    @property
    def timeout_rate(self) -> float | None:
        """The share of the holds that ended in the window which ended by timing out."""
        if not self.holds_ended:
            return None
        return self.holds_expired / self.holds_ended


def dashboard_figures(
    *, now: datetime, expiring_within: timedelta, rate_window: timedelta, warehouse_id: int | None = None
) -> DashboardFigures:
    """The counts a warehouse lead looks at first; each is one indexed query.

    With `warehouse_id`, those of one warehouse: its levels (not the products' sums), its
    holds and its log entries.
    """
    active = Reservation.objects.filter(status=Reservation.Status.ACTIVE)
    endings = InventoryLog.objects.filter(created_at__gte=now - rate_window, operation__in=HOLD_ENDINGS)
    if warehouse_id is None:
        low, out = low_stock_items(), Inventory.objects.filter(available_stock=0)
    else:
        low, out = low_levels(warehouse_id=warehouse_id), empty_levels(warehouse_id=warehouse_id)
        active, endings = active.filter(warehouse_id=warehouse_id), endings.filter(warehouse_id=warehouse_id)
    endings = dict(endings.values("operation").annotate(count=Count("id")).values_list("operation", "count"))
    return DashboardFigures(
        low_stock=low.count(),
        out_of_stock=out.count(),
        active_reservations=active.count(),
        expiring_soon=active.filter(expires_at__lte=now + expiring_within).count(),
        holds_ended=sum(endings.values()),
        holds_expired=endings.get(InventoryLog.Operation.EXPIRE, 0),
    )


def most_moved_items(*, since: datetime, limit: int = 10, warehouse_id: int | None = None) -> list[dict]:
    """Products with the most units moved since `since` (in one warehouse, with `warehouse_id`):
    product_id, units, movements."""
    entries = InventoryLog.objects.filter(created_at__gte=since, operation__in=MOVING_OPERATIONS)
    if warehouse_id is not None:
        entries = entries.filter(warehouse_id=warehouse_id)
    return list(
        entries.values("product_id")
        .annotate(units=Sum(Abs("quantity")), movements=Count("id"))
        .order_by("-units", "product_id")[:limit]
    )
